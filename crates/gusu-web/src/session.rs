//! Server-side sessions: the browser holds a random token in an HttpOnly, SameSite=Strict cookie;
//! the server keeps only the token's SHA-256, the viewer, a CSRF token and when it was last used.
//! A session ends at sign-out, after the idle timeout, or when its account's password changes.
//!
//! Failed sign-ins are throttled per account and per client address ([`Throttle`]): after a
//! number of free failures each further one locks the key for a delay that doubles every time.
//! An attempt is counted when it starts, under one lock with the check, so parallel tries
//! cannot pass the limit. A name with no account is throttled by its address only, so a made-up
//! name costs no memory.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use gusu_core::Viewer;
use rand::RngExt;
use sha2::{Digest, Sha256};

/// The session cookie's name.
pub const COOKIE: &str = "gusu_session";

#[derive(Debug, Clone)]
pub struct Session {
    pub viewer: Viewer,
    pub csrf: String,
    last_seen: Instant,
}

#[derive(Debug)]
pub struct Sessions {
    by_hash: Mutex<HashMap<[u8; 32], Session>>,
    idle_timeout: Duration,
}

/// 32 random bytes as hex.
pub(crate) fn random_token() -> String {
    let mut rng = rand::rng();
    (0..32)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The SHA-256 of an API token as hex: what the store keeps.
pub fn token_sha256(token: &str) -> String {
    hash(token).iter().map(|b| format!("{b:02x}")).collect()
}

/// A new API token (shown to its owner once) and the hash to store.
pub fn new_api_token() -> (String, String) {
    let token = format!("gusu_{}", random_token());
    let hashed = token_sha256(&token);
    (token, hashed)
}

impl Sessions {
    pub fn new(idle_timeout: Duration) -> Sessions {
        Sessions {
            by_hash: Mutex::new(HashMap::new()),
            idle_timeout,
        }
    }

    /// Starts a session; returns the token for the cookie and the session's CSRF token.
    pub fn start(&self, viewer: Viewer) -> (String, String) {
        let token = random_token();
        let csrf = random_token();
        let session = Session {
            viewer,
            csrf: csrf.clone(),
            last_seen: Instant::now(),
        };
        self.lock().insert(hash(&token), session);
        (token, csrf)
    }

    /// The live session of a token, touched; an idle one is ended and not returned.
    pub fn get(&self, token: &str) -> Option<Session> {
        let mut map = self.lock();
        let key = hash(token);
        let now = Instant::now();
        match map.get_mut(&key) {
            Some(s) if now.duration_since(s.last_seen) <= self.idle_timeout => {
                s.last_seen = now;
                Some(s.clone())
            }
            Some(_) => {
                map.remove(&key);
                None
            }
            None => None,
        }
    }

    pub fn end(&self, token: &str) {
        self.lock().remove(&hash(token));
    }

    /// Ends every session of a user (its account was disabled, or its password changed).
    pub fn end_user(&self, user: &str) {
        self.lock().retain(|_, s| s.viewer.user != user);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session>> {
        // A panic while holding the map leaves it consistent (single inserts and removes).
        self.by_hash.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// How failures of one kind of key are throttled: `free` failures, then each further failure locks
/// the key for a delay that starts at `delay` and doubles up to `max_delay`; while locked nothing
/// is tried, and after a lock one attempt at a time. A key with no failure for `forget` (after its
/// lock ended) starts over. Settings, not published figures.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub free: u32,
    pub delay: Duration,
    pub max_delay: Duration,
    pub forget: Duration,
}

#[derive(Debug)]
struct Attempts {
    /// Failures since the key was last forgotten or succeeded.
    failures: u32,
    in_flight: u32,
    locks: u32,
    locked_until: Option<Instant>,
    last: Instant,
}

impl Attempts {
    fn new(now: Instant) -> Attempts {
        Attempts {
            failures: 0,
            in_flight: 0,
            locks: 0,
            locked_until: None,
            last: now,
        }
    }

    fn blocked(&self, limits: &Limits, now: Instant) -> bool {
        if self.locked_until.is_some_and(|t| now < t) {
            return true;
        }
        if self.failures < limits.free {
            self.failures + self.in_flight >= limits.free
        } else {
            self.in_flight > 0
        }
    }

    /// Counts a failure; true when it starts a lock.
    fn fail(&mut self, limits: &Limits, now: Instant) -> bool {
        self.failures += 1;
        self.last = now;
        if self.failures < limits.free {
            return false;
        }
        let factor = 2u32.saturating_pow(self.locks.min(20));
        let delay = limits.delay.saturating_mul(factor).min(limits.max_delay);
        self.locked_until = Some(now + delay);
        self.locks += 1;
        true
    }

    fn forgotten(&self, limits: &Limits, now: Instant) -> bool {
        self.in_flight == 0
            && self.locked_until.is_none_or(|t| now >= t)
            && now.duration_since(self.last) >= limits.forget
    }
}

/// More addresses than this and the forgotten ones are dropped before a new one is kept.
const ADDRESSES_KEPT: usize = 10_000;

#[derive(Debug, Default)]
struct Counts {
    accounts: HashMap<String, Attempts>,
    addresses: HashMap<IpAddr, Attempts>,
}

/// Failed sign-ins and password changes, per account and per client address.
#[derive(Debug)]
pub struct Throttle {
    counts: Mutex<Counts>,
    account: Limits,
    address: Limits,
}

/// An attempt in flight, counted against its account and address until it is finished.
#[derive(Debug)]
pub struct Attempt {
    account: Option<String>,
    address: IpAddr,
}

/// What finishing an attempt did.
#[derive(Debug, PartialEq, Eq)]
pub struct Finished {
    /// This failure locked the account (audit it).
    pub account_locked: bool,
}

impl Throttle {
    pub fn new(account: Limits, address: Limits) -> Throttle {
        Throttle {
            counts: Mutex::new(Counts::default()),
            account,
            address,
        }
    }

    /// Starts an attempt for an existing account (`Some`) or a name with none, from `address`;
    /// `None` while either is locked or has as many attempts counted or in flight as it may.
    pub fn begin(&self, account: Option<&str>, address: IpAddr) -> Option<Attempt> {
        let now = Instant::now();
        let mut counts = self.lock();
        let Counts {
            accounts,
            addresses,
        } = &mut *counts;
        if let Some(a) = account.and_then(|a| accounts.get_mut(a))
            && a.forgotten(&self.account, now)
        {
            *a = Attempts::new(now);
        }
        if let Some(a) = addresses.get_mut(&address)
            && a.forgotten(&self.address, now)
        {
            *a = Attempts::new(now);
        }
        let blocked_account = account
            .and_then(|a| accounts.get(a))
            .is_some_and(|a| a.blocked(&self.account, now));
        let blocked_address = addresses
            .get(&address)
            .is_some_and(|a| a.blocked(&self.address, now));
        if blocked_account || blocked_address {
            return None;
        }
        if addresses.len() >= ADDRESSES_KEPT && !addresses.contains_key(&address) {
            addresses.retain(|_, a| !a.forgotten(&self.address, now));
        }
        let at = addresses
            .entry(address)
            .or_insert_with(|| Attempts::new(now));
        at.in_flight += 1;
        if let Some(name) = account {
            let entry = accounts
                .entry(name.to_string())
                .or_insert_with(|| Attempts::new(now));
            entry.in_flight += 1;
        }
        Some(Attempt {
            account: account.map(str::to_string),
            address,
        })
    }

    /// Finishes an attempt: a success clears the account's failures (not the address's, so one
    /// working account does not open the door for guessing others); a failure counts on both.
    pub fn finish(&self, attempt: Attempt, ok: bool) -> Finished {
        let now = Instant::now();
        let mut counts = self.lock();
        let mut account_locked = false;
        if let Some(at) = counts.addresses.get_mut(&attempt.address) {
            at.in_flight = at.in_flight.saturating_sub(1);
            if !ok {
                at.fail(&self.address, now);
            }
        }
        if let Some(name) = &attempt.account {
            if ok {
                counts.accounts.remove(name);
            } else if let Some(at) = counts.accounts.get_mut(name) {
                at.in_flight = at.in_flight.saturating_sub(1);
                account_locked = at.fail(&self.account, now);
            }
        }
        Finished { account_locked }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        // Every change under the lock is a counter update: a panic leaves it usable.
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// True when a sent CSRF token is the expected one, compared in constant time (the time does not
/// tell how much of a guess was right).
pub fn csrf_matches(expected: &str, sent: Option<&str>) -> bool {
    use subtle::ConstantTimeEq;
    sent.is_some_and(|sent| bool::from(expected.as_bytes().ct_eq(sent.as_bytes())))
}

/// The value of the cookie `name` in a `Cookie` header, if any.
pub fn cookie_in<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|part| part.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

/// The session token in a `Cookie` header, if any.
pub fn token_from_cookies(header: &str) -> Option<&str> {
    cookie_in(header, COOKIE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gusu_core::Role;

    fn viewer() -> Viewer {
        Viewer::new("a", Role::CityAnalyst, None, None).unwrap()
    }

    #[test]
    fn sessions_live_until_idle_or_ended() {
        let s = Sessions::new(Duration::from_millis(50));
        let (token, csrf) = s.start(viewer());
        assert_eq!(s.get(&token).unwrap().csrf, csrf);
        assert!(s.get("not a token").is_none());
        std::thread::sleep(Duration::from_millis(80));
        assert!(s.get(&token).is_none(), "idle timeout");
        let (token, _) = s.start(viewer());
        s.end(&token);
        assert!(s.get(&token).is_none(), "signed out");
        let (mine, _) = s.start(viewer());
        let other = Viewer::new("b", Role::CityAnalyst, None, None).unwrap();
        let (theirs, _) = s.start(other);
        s.end_user("a");
        assert!(
            s.get(&mine).is_none() && s.get(&theirs).is_some(),
            "one user's sessions"
        );
    }

    fn limits(free: u32, delay_ms: u64) -> Limits {
        Limits {
            free,
            delay: Duration::from_millis(delay_ms),
            max_delay: Duration::from_millis(delay_ms * 3),
            forget: Duration::from_secs(3600),
        }
    }

    const HERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    const THERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn failures_lock_an_account_for_a_growing_delay() {
        let t = Throttle::new(limits(3, 300), limits(100, 1));
        for _ in 0..2 {
            let a = t.begin(Some("x"), HERE).unwrap();
            assert!(!t.finish(a, false).account_locked);
        }
        let a = t.begin(Some("x"), HERE).unwrap();
        assert!(t.finish(a, false).account_locked, "the third failure locks");
        assert!(t.begin(Some("x"), THERE).is_none(), "from any address");
        let y = t.begin(Some("y"), HERE).expect("another account is free");
        t.finish(y, true);
        std::thread::sleep(Duration::from_millis(350));
        // Free again, one attempt at a time; its failure locks twice as long.
        let a = t.begin(Some("x"), HERE).unwrap();
        assert!(
            t.begin(Some("x"), HERE).is_none(),
            "one at a time after a lock"
        );
        assert!(t.finish(a, false).account_locked);
        std::thread::sleep(Duration::from_millis(350));
        assert!(t.begin(Some("x"), HERE).is_none(), "600 ms this time");
        std::thread::sleep(Duration::from_millis(300));
        let a = t.begin(Some("x"), HERE).unwrap();
        t.finish(a, true);
        let a = t.begin(Some("x"), HERE).unwrap();
        assert!(!t.finish(a, false).account_locked, "a success starts over");
    }

    #[test]
    fn attempts_in_flight_count_so_parallel_tries_cannot_pass_the_limit() {
        let t = Throttle::new(limits(5, 60_000), limits(100, 1));
        let started: Vec<_> = (0..40).filter_map(|_| t.begin(Some("x"), HERE)).collect();
        assert_eq!(started.len(), 5);
        for a in started {
            t.finish(a, false);
        }
        assert!(t.begin(Some("x"), HERE).is_none());
    }

    #[test]
    fn unknown_names_are_throttled_by_address_without_being_kept() {
        let t = Throttle::new(limits(5, 60_000), limits(3, 60_000));
        for i in 0..3 {
            let a = t.begin(None, HERE).unwrap_or_else(|| panic!("try {i}"));
            assert!(!t.finish(a, false).account_locked);
        }
        assert!(t.begin(None, HERE).is_none(), "this address waits");
        assert!(t.begin(Some("real"), HERE).is_none(), "for every name");
        assert!(t.begin(None, THERE).is_some(), "another address does not");
        assert!(t.lock().accounts.is_empty(), "no memory per made-up name");
    }

    #[test]
    fn csrf_tokens_match_only_exactly() {
        assert!(csrf_matches("ab12", Some("ab12")));
        for sent in [None, Some(""), Some("ab1"), Some("ab123"), Some("AB12")] {
            assert!(!csrf_matches("ab12", sent), "{sent:?}");
        }
    }

    #[test]
    fn cookie_header_parsing() {
        assert_eq!(
            token_from_cookies("a=1; gusu_session=abc; b=2"),
            Some("abc")
        );
        assert_eq!(token_from_cookies("a=1"), None);
    }
}
