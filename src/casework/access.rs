//! Who may come in: staff sign in by phone and password (argon2), get a
//! server-side session that ends after `KANDA_WEB_SESSION_TTL` idle or at
//! sign-out; an account is locked for 15 minutes after 5 failed sign-ins
//! within 15 minutes; API clients present a bearer token. Every sign-in,
//! failure and lock is in the audit log (never the password). The
//! tokens a browser or a client holds are random; only their SHA-256 is
//! stored.

use std::time::Duration;

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::CaseWork;
use crate::{
    domain::{random_token, Actor, Phone, Role, Scope},
    store::{AuditEntry, AuditFilter, NewAudit, SessionOf, StaffMember, StoreError},
};

/// Failed sign-ins within [`LOCKOUT_WINDOW`] that lock an account.
pub const LOCKOUT_FAILURES: i64 = 5;
/// The window failures are counted in, and how long the lock lasts.
pub const LOCKOUT_WINDOW: Duration = Duration::from_secs(15 * 60);
/// A session's idle clock is written at most this often.
const TOUCH_EVERY_MS: i64 = 60_000;

/// What a sign-in came to.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in: the cookie's token (shown once; only its hash is kept).
    Opened { token: String, staff: StaffMember },
    /// Wrong phone or password (the two are one answer).
    Refused,
    /// Too many failures: refused until then (ms), even with the right password.
    Locked { until: i64 },
}

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("{0}")]
    Invalid(String),
    #[error("no staff member has the phone {0}")]
    NoStaff(String),
    #[error("a token named `{0}` is already live: revoke it first")]
    TokenExists(String),
    #[error("password hash: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The SHA-256 of a token, in hex: what the database keeps.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// 32 random bytes, URL-safe base64: a session or API token.
fn new_token(prefix: &str) -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// An argon2id hash (PHC string) of a password, with a fresh salt, at
/// the crate's default cost (19 MiB, 2 passes: OWASP's minimum).
pub fn hash_password(password: &str) -> Result<String, AccessError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccessError::Hash(e.to_string()))
}

/// Whether `password` matches the stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of no one's password, checked when the account is unknown or has
/// no password, so a refusal takes as long either way.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

/// The shortest a password may be.
pub const MIN_PASSWORD: usize = 8;

impl CaseWork {
    /// Appends to the audit log.
    pub async fn audit(
        &self,
        actor: &str,
        action: &'static str,
        case_id: Option<i64>,
        address: Option<String>,
        detail: Option<String>,
    ) -> Result<(), StoreError> {
        self.store
            .audit(NewAudit {
                actor: actor.to_string(),
                action,
                case_id,
                address,
                detail,
            })
            .await
    }

    /// The audit log, for an actor whose role reads it (`None` otherwise);
    /// the read is itself in the log.
    pub async fn read_audit(
        &self,
        actor: &Actor,
        filter: &AuditFilter,
        address: Option<String>,
    ) -> Result<Option<Vec<AuditEntry>>, StoreError> {
        if !actor.role.reads_audit() {
            return Ok(None);
        }
        let rows = self.store.audit_entries(filter).await?;
        self.audit(&actor.label, "audit_read", None, address, None)
            .await?;
        Ok(Some(rows))
    }

    /// Sets a staff member's password (`kanda staff password`).
    pub async fn set_password(&self, phone: &Phone, password: &str) -> Result<(), AccessError> {
        if password.chars().count() < MIN_PASSWORD {
            return Err(AccessError::Invalid(format!(
                "a password needs at least {MIN_PASSWORD} characters"
            )));
        }
        let password = password.to_string();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| AccessError::Hash(e.to_string()))??;
        if !self.store.set_password_hash(phone, &hash).await? {
            return Err(AccessError::NoStaff(phone.to_string()));
        }
        self.audit(phone.as_str(), "password_set", None, None, None)
            .await?;
        Ok(())
    }

    /// Signs a staff member in. `phone` is `None` when the username was
    /// not a phone number.
    pub async fn sign_in(
        &self,
        phone: Option<&Phone>,
        password: &str,
        address: Option<String>,
    ) -> Result<SignIn, StoreError> {
        let now = self.store.clock().now_ms();
        let Some(phone) = phone else {
            self.audit(
                "unknown",
                "sign_in_failed",
                None,
                address,
                Some("not a phone number".into()),
            )
            .await?;
            return Ok(SignIn::Refused);
        };
        let account = self.store.account(phone).await?;
        if let Some(until) = account.as_ref().and_then(|a| a.locked_until) {
            if until > now {
                self.audit(phone.as_str(), "sign_in_locked", None, address, None)
                    .await?;
                return Ok(SignIn::Locked { until });
            }
        }
        let hash = account
            .as_ref()
            .and_then(|a| a.password_hash.clone())
            .unwrap_or_else(|| decoy_hash().to_string());
        let given = password.to_string();
        let matches = tokio::task::spawn_blocking(move || verify_password(&given, &hash))
            .await
            .unwrap_or(false);
        let account = match account {
            Some(a) if matches && a.password_hash.is_some() => a,
            other => {
                let why = match &other {
                    None => "no such account",
                    Some(a) if a.password_hash.is_none() => "no password set",
                    Some(_) => "wrong password",
                };
                self.audit(
                    phone.as_str(),
                    "sign_in_failed",
                    None,
                    address.clone(),
                    Some(why.into()),
                )
                .await?;
                tracing::warn!(phone = %phone.redacted(), why, "sign-in failed");
                let Some(a) = other else {
                    return Ok(SignIn::Refused);
                };
                let window = LOCKOUT_WINDOW.as_millis() as i64;
                let since = now - window;
                let failures = self
                    .store
                    .failed_sign_ins_since(phone.as_str(), since)
                    .await?;
                if failures >= LOCKOUT_FAILURES {
                    let until = now + window;
                    self.store.lock_account(a.staff.id, until).await?;
                    self.audit(phone.as_str(), "account_locked", None, address, None)
                        .await?;
                    tracing::warn!(phone = %phone.redacted(), "account locked after failed sign-ins");
                    return Ok(SignIn::Locked { until });
                }
                return Ok(SignIn::Refused);
            }
        };
        let token = new_token("");
        let csrf = random_token();
        self.store
            .open_web_session(
                &token_hash(&token),
                account.staff.id,
                &csrf,
                address.clone(),
            )
            .await?;
        self.audit(phone.as_str(), "sign_in", None, address, None)
            .await?;
        Ok(SignIn::Opened {
            token,
            staff: account.staff,
        })
    }

    /// The live session a cookie's token opens (idle less than the
    /// session TTL); its idle clock starts again.
    pub async fn web_session(&self, token: &str) -> Result<Option<SessionOf>, StoreError> {
        let now = self.store.clock().now_ms();
        let ttl = self.settings.session_ttl.as_millis() as i64;
        let Some(session) = self
            .store
            .web_session(&token_hash(token), now - ttl)
            .await?
        else {
            return Ok(None);
        };
        if now - session.seen_at >= TOUCH_EVERY_MS {
            self.store.touch_web_session(session.id).await?;
        }
        Ok(Some(session))
    }

    /// Deletes the sessions idle past the TTL, every ten minutes, for as
    /// long as the server runs (an expired session is refused anyway; this
    /// keeps the table small).
    pub async fn purge_sessions_loop(self) {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            let ttl = self.settings.session_ttl.as_millis() as i64;
            let before = self.store.clock().now_ms() - ttl;
            match self.store.purge_web_sessions(before).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "expired staff sessions purged"),
                Err(e) => tracing::warn!(error = %e, "staff sessions not purged"),
            }
        }
    }

    /// Ends a session (sign-out), in the audit log.
    pub async fn sign_out(
        &self,
        session: &SessionOf,
        address: Option<String>,
    ) -> Result<(), StoreError> {
        self.store.end_web_session(session.id).await?;
        self.audit(
            session.staff.phone.as_str(),
            "sign_out",
            None,
            address,
            None,
        )
        .await
    }

    /// Issues an API token (`kanda token issue`): the token, shown once.
    pub async fn issue_token(
        &self,
        name: &str,
        role: Role,
        centre: Option<&str>,
    ) -> Result<String, AccessError> {
        let name = name.trim();
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(AccessError::Invalid(
                "a token's name is 1 to 64 letters, digits, `-`, `_` or `.`".into(),
            ));
        }
        match (role.is_national(), centre) {
            (true, Some(_)) => {
                return Err(AccessError::Invalid(format!(
                    "a {role} token is national: leave --centre out"
                )))
            }
            (false, None) => {
                return Err(AccessError::Invalid(format!(
                    "a {role} token works for a centre: give --centre CODE"
                )))
            }
            _ => {}
        }
        let token = new_token("kanda_");
        match self
            .store
            .issue_token(name, &token_hash(&token), role, centre)
            .await
        {
            Err(e) if e.is_unique_violation() => Err(AccessError::TokenExists(name.into())),
            Err(StoreError::Invalid(e)) => Err(AccessError::Invalid(e)),
            Err(e) => Err(e.into()),
            Ok(()) => {
                self.audit(
                    &format!("token:{name}"),
                    "token_issued",
                    None,
                    None,
                    Some(role.to_string()),
                )
                .await?;
                Ok(token)
            }
        }
    }

    /// Revokes a live token; `false` when none has that name.
    pub async fn revoke_token(&self, name: &str) -> Result<bool, StoreError> {
        let revoked = self.store.revoke_token(name).await?;
        if revoked {
            self.audit(&format!("token:{name}"), "token_revoked", None, None, None)
                .await?;
        }
        Ok(revoked)
    }

    /// The actor a bearer token is, when it is live.
    pub async fn token_actor(&self, token: &str) -> Result<Option<Actor>, StoreError> {
        let Some(t) = self.store.token(&token_hash(token)).await? else {
            return Ok(None);
        };
        let scope = match (t.role.is_national(), t.centre_id) {
            (true, _) => Scope::National,
            (false, Some(id)) => Scope::Centre(id),
            // A centre's role with no centre sees nothing: refuse it.
            (false, None) => return Ok(None),
        };
        Ok(Some(Actor {
            label: format!("token:{}", t.name),
            role: t.role,
            scope,
            staff_id: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct hors", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
        assert_ne!(hash, hash_password("correct horse").unwrap(), "salted");
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (new_token("kanda_"), new_token("kanda_"));
        assert_ne!(a, b);
        assert!(a.starts_with("kanda_") && a.len() > 40);
        assert_eq!(token_hash(&a).len(), 64);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
