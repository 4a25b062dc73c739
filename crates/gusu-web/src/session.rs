//! Server-side sessions: the browser holds a random token in an HttpOnly, SameSite=Strict cookie;
//! the server keeps only the token's SHA-256, the viewer, a CSRF token and when it was last used.
//! A session ends at sign-out or after the idle timeout. Failed sign-ins are throttled per name.

use std::collections::HashMap;
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

/// Sign-in attempts that failed, per user name.
#[derive(Debug, Default)]
struct Failures {
    count: u32,
    since: Option<Instant>,
}

#[derive(Debug)]
pub struct Sessions {
    by_hash: Mutex<HashMap<[u8; 32], Session>>,
    failures: Mutex<HashMap<String, Failures>>,
    idle_timeout: Duration,
    max_failures: u32,
    lockout: Duration,
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
    pub fn new(idle_timeout: Duration, max_failures: u32, lockout: Duration) -> Sessions {
        Sessions {
            by_hash: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            idle_timeout,
            max_failures,
            lockout,
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

    /// Ends every session of a user (its account was disabled).
    pub fn end_user(&self, user: &str) {
        self.lock().retain(|_, s| s.viewer.user != user);
    }

    /// True while a name is locked out after too many failed sign-ins.
    pub fn locked_out(&self, user: &str) -> bool {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.get(user).is_some_and(|f| {
            f.count >= self.max_failures && f.since.is_some_and(|t| t.elapsed() < self.lockout)
        })
    }

    pub fn record_failure(&self, user: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let f = failures.entry(user.to_string()).or_default();
        if f.since.is_some_and(|t| t.elapsed() >= self.lockout) {
            *f = Failures::default();
        }
        f.count += 1;
        f.since.get_or_insert_with(Instant::now);
    }

    pub fn record_success(&self, user: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(user);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session>> {
        // A panic while holding the map leaves it consistent (single inserts and removes).
        self.by_hash.lock().unwrap_or_else(|p| p.into_inner())
    }
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
        let s = Sessions::new(Duration::from_millis(50), 3, Duration::from_secs(60));
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

    #[test]
    fn failed_sign_ins_lock_a_name_out() {
        let s = Sessions::new(Duration::from_secs(60), 3, Duration::from_secs(60));
        for _ in 0..2 {
            s.record_failure("x");
        }
        assert!(!s.locked_out("x"));
        s.record_failure("x");
        assert!(s.locked_out("x") && !s.locked_out("y"));
        s.record_success("x");
        assert!(!s.locked_out("x"));
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
