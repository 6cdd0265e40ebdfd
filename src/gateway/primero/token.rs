//! Primero's bearer token: a JWT (devise-jwt) whose `exp` says when it
//! ends. Kanda takes a new one a few minutes before then, so no push is
//! refused for an expired token; a token without a readable `exp` is kept
//! half an hour.

use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};

/// How long before its `exp` a token is replaced.
const MARGIN: TimeDelta = TimeDelta::minutes(5);
/// How long a token without a readable `exp` is kept.
const UNKNOWN_LIFETIME: TimeDelta = TimeDelta::minutes(30);

/// A bearer token and when to replace it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    value: String,
    refresh_at: DateTime<Utc>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token(***, refresh at {})", self.refresh_at)
    }
}

impl Token {
    /// The token Primero gave at `now`.
    pub fn new(value: String, now: DateTime<Utc>) -> Token {
        let refresh_at = match expiry_of(&value) {
            Some(exp) => exp - MARGIN,
            None => now + UNKNOWN_LIFETIME,
        };
        Token { value, refresh_at }
    }

    pub fn value(&self) -> &str {
        &self.value
    }

    /// Time to take a new one.
    pub fn due(&self, now: DateTime<Utc>) -> bool {
        now >= self.refresh_at
    }
}

/// A JWT's `exp` (its payload is read, not verified: Primero checks it).
pub fn expiry_of(jwt: &str) -> Option<DateTime<Utc>> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    DateTime::from_timestamp(claims.get("exp")?.as_i64()?, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(exp: i64) -> String {
        let part = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!(
            "{}.{}.sig",
            part(r#"{"alg":"HS256"}"#),
            part(&format!(r#"{{"sub":"1","exp":{exp}}}"#))
        )
    }

    #[test]
    fn a_token_is_replaced_five_minutes_before_its_exp() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let t = Token::new(jwt(1_800_003_600), now);
        assert!(!t.due(now));
        assert!(!t.due(now + TimeDelta::minutes(54)));
        assert!(t.due(now + TimeDelta::minutes(55)));
        // Nearly expired when given: replaced at its next use.
        assert!(Token::new(jwt(1_800_000_060), now).due(now));
        // No exp: half an hour.
        let opaque = Token::new("opaque".into(), now);
        assert!(!opaque.due(now + TimeDelta::minutes(29)));
        assert!(opaque.due(now + TimeDelta::minutes(30)));
        assert_eq!(expiry_of("a.b"), None);
        assert!(!format!("{opaque:?}").contains("opaque"));
    }
}
