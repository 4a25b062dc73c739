//! The administrators' second factor: TOTP codes (RFC 6238: HMAC-SHA-1, 6 digits, 30-second
//! steps, one step of clock skew either way), computed by `totp-rs`. A code is taken once: the
//! store keeps the last accepted step, so a code seen on the wire cannot be replayed.

use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Bytes of a new secret (160 bits, as RFC 4226 recommends).
const SECRET_BYTES: usize = 20;

/// What a sign-in's second factor came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    /// The account needs none.
    NotNeeded,
    /// The account needs one and the request gave no code.
    Missing,
    /// The role needs one and the account has none enrolled.
    NotEnrolled,
    /// A code that is wrong, or was taken already.
    Wrong,
    /// A right code, for this time step.
    Right(u64),
}

/// A new random secret.
pub fn new_secret() -> Vec<u8> {
    use rand::RngExt;
    let mut rng = rand::rng();
    (0..SECRET_BYTES).map(|_| rng.random::<u8>()).collect()
}

fn totp(secret: &[u8]) -> Option<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret.to_vec())
        .build()
        .ok()
}

/// The code for `unix_time` (authenticator apps show it; tests compute it).
pub fn code_at(secret: &[u8], unix_time: u64) -> Option<String> {
    totp(secret).map(|t| t.generate(unix_time).to_string())
}

/// The time step a code is right for at `unix_time`, if it is.
pub fn check(secret: &[u8], code: &str, unix_time: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret)?.check(code, unix_time)
}

/// The secret in base32 (RFC 4648), as authenticator apps take it.
pub fn base32(secret: &[u8]) -> String {
    Secret::from(secret.to_vec())
        .to_base32()
        .trim_end_matches('=')
        .to_string()
}

/// The `otpauth://` URI an authenticator app scans or takes as text.
pub fn otpauth_uri(username: &str, secret: &[u8]) -> String {
    let account: String = form_urlencoded::byte_serialize(username.as_bytes()).collect();
    format!(
        "otpauth://totp/gusu:{account}?secret={}&issuer=gusu&algorithm=SHA1&digits=6&period=30",
        base32(secret)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B: the SHA-1 secret "12345678901234567890", at T = 59 s the 8-digit
    // code is 94287082, so the 6-digit one is its last six digits, 287082; at 1111111109 s,
    // 07081804 → 081804.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        assert_eq!(code_at(RFC_SECRET, 59).as_deref(), Some("287082"));
        assert_eq!(
            code_at(RFC_SECRET, 1_111_111_109).as_deref(),
            Some("081804")
        );
    }

    #[test]
    fn a_code_is_right_one_step_either_side_and_not_beyond() {
        let code = code_at(RFC_SECRET, 1_111_111_109).unwrap();
        assert_eq!(
            check(RFC_SECRET, &code, 1_111_111_109),
            Some(1_111_111_109 / 30)
        );
        assert!(check(RFC_SECRET, &code, 1_111_111_109 + 30).is_some());
        assert!(check(RFC_SECRET, &code, 1_111_111_109 + 90).is_none());
        assert!(check(RFC_SECRET, "12345", 1_111_111_109).is_none());
        assert!(check(RFC_SECRET, "abcdef", 1_111_111_109).is_none());
    }

    #[test]
    fn secrets_are_base32_for_the_apps() {
        // RFC 4648 test vector: "foobar" → MZXW6YTBOI (no padding).
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(new_secret().len(), 20);
        assert!(
            otpauth_uri("sec admin", RFC_SECRET).starts_with(
                "otpauth://totp/gusu:sec+admin?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
            )
        );
    }
}
