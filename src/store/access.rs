//! Who may sign in and how: staff passwords (their argon2 hashes, made
//! above), the account lock after failed sign-ins, the web sessions
//! (hashed tokens, idle time) and the API's bearer tokens (hashed). The
//! rules (how long, how many) are the case work's; this is SQL only, the
//! same on both databases.

use sqlx::{any::AnyRow, Row as _};

use super::{
    people::{staff_member, STAFF_COLUMNS},
    Durability, Result, StaffMember, Store, StoreError, Write,
};
use crate::domain::{Phone, Role};

/// What a sign-in needs of an account.
#[derive(Clone, Debug)]
pub struct Account {
    pub staff: StaffMember,
    pub password_hash: Option<String>,
    pub locked_until: Option<i64>,
}

/// A live web session, with its staff member.
#[derive(Clone, Debug)]
pub struct SessionOf {
    pub id: i64,
    pub staff: StaffMember,
    pub csrf: String,
    pub seen_at: i64,
}

/// An API token, found by its hash.
#[derive(Clone, Debug)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub centre_id: Option<i64>,
}

fn role_of(r: &AnyRow) -> Result<Role> {
    let role: String = r.try_get("role")?;
    Role::parse(&role).map_err(|e| StoreError::Invalid(format!("stored {e}")))
}

impl Store {
    /// The active account a phone belongs to.
    pub async fn account(&self, phone: &Phone) -> Result<Option<Account>> {
        let sql = format!(
            "SELECT {STAFF_COLUMNS}, s.password_hash, s.locked_until
             FROM staff s LEFT JOIN centres c ON c.id = s.centre_id
             WHERE s.phone = $1 AND s.active = 1"
        );
        sqlx::query(&sql)
            .bind(phone.as_str())
            .fetch_optional(&self.pool)
            .await?
            .map(|r| {
                Ok(Account {
                    staff: staff_member(&r)?,
                    password_hash: r.try_get("password_hash")?,
                    locked_until: r.try_get("locked_until")?,
                })
            })
            .transpose()
    }

    /// Sets a staff member's password hash; `false` when no staff member
    /// has that phone.
    pub async fn set_password_hash(&self, phone: &Phone, hash: &str) -> Result<bool> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "UPDATE staff SET password_hash = $1, locked_until = NULL WHERE phone = $2",
                ),
                args: vec![hash.into(), phone.as_str().into()],
                decode: Box::new(|o| Ok(o.rows_affected == 1)),
            },
        )
        .await
    }

    /// Refuses the account's sign-ins until `until` (ms).
    pub async fn lock_account(&self, staff_id: i64, until: i64) -> Result<()> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some("UPDATE staff SET locked_until = $1 WHERE id = $2"),
                args: vec![until.into(), staff_id.into()],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await
    }

    /// Failed sign-ins recorded for `actor` since `since` (ms), from the
    /// audit log.
    pub async fn failed_sign_ins_since(&self, actor: &str, since: i64) -> Result<i64> {
        Ok(sqlx::query(
            "SELECT COUNT(*) AS n FROM audit_log WHERE actor = $1 AND action = 'sign_in_failed' AND at >= $2",
        )
        .bind(actor)
        .bind(since)
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?)
    }

    /// Opens a web session for a staff member.
    pub async fn open_web_session(
        &self,
        token_hash: &str,
        staff_id: i64,
        csrf: &str,
        address: Option<String>,
    ) -> Result<()> {
        let now = self.clock.now_ms();
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "INSERT INTO web_sessions (token_hash, staff_id, csrf, created_at, seen_at, address)
                     VALUES ($1, $2, $3, $4, $4, $5)",
                ),
                args: vec![
                    token_hash.into(),
                    staff_id.into(),
                    csrf.into(),
                    now.into(),
                    address.into(),
                ],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await
    }

    /// The session a cookie's token hash opens, when it was seen since
    /// `seen_since` (ms) and its staff member is still active.
    pub async fn web_session(
        &self,
        token_hash: &str,
        seen_since: i64,
    ) -> Result<Option<SessionOf>> {
        let sql = format!(
            "SELECT {STAFF_COLUMNS}, w.id AS session_id, w.csrf, w.seen_at
             FROM web_sessions w JOIN staff s ON s.id = w.staff_id
             LEFT JOIN centres c ON c.id = s.centre_id
             WHERE w.token_hash = $1 AND w.seen_at >= $2 AND s.active = 1"
        );
        sqlx::query(&sql)
            .bind(token_hash)
            .bind(seen_since)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| {
                Ok(SessionOf {
                    id: r.try_get("session_id")?,
                    staff: staff_member(&r)?,
                    csrf: r.try_get("csrf")?,
                    seen_at: r.try_get("seen_at")?,
                })
            })
            .transpose()
    }

    /// Marks a session seen now (its idle clock starts again).
    pub async fn touch_web_session(&self, id: i64) -> Result<()> {
        self.write(
            Durability::Process,
            Write {
                sql: Some("UPDATE web_sessions SET seen_at = $1 WHERE id = $2"),
                args: vec![self.clock.now_ms().into(), id.into()],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await
    }

    /// Ends a session (sign-out).
    pub async fn end_web_session(&self, id: i64) -> Result<()> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some("DELETE FROM web_sessions WHERE id = $1"),
                args: vec![id.into()],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await
    }

    /// Deletes sessions idle since before `seen_before` (ms); how many.
    pub async fn purge_web_sessions(&self, seen_before: i64) -> Result<u64> {
        self.write(
            Durability::Process,
            Write {
                sql: Some("DELETE FROM web_sessions WHERE seen_at < $1"),
                args: vec![seen_before.into()],
                decode: Box::new(|o| Ok(o.rows_affected)),
            },
        )
        .await
    }

    /// Stores a new API token's hash; a live token of the same name is
    /// refused (a unique violation).
    pub async fn issue_token(
        &self,
        name: &str,
        token_hash: &str,
        role: Role,
        centre_code: Option<&str>,
    ) -> Result<()> {
        let centre_id = match centre_code {
            None => None,
            Some(code) => Some(
                self.centre_id(code)
                    .await?
                    .ok_or_else(|| StoreError::Invalid(format!("centre `{code}` is unknown")))?,
            ),
        };
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "INSERT INTO api_tokens (name, token_hash, role, centre_id, created_at)
                     VALUES ($1, $2, $3, $4, $5)",
                ),
                args: vec![
                    name.into(),
                    token_hash.into(),
                    role.as_str().into(),
                    centre_id.into(),
                    self.clock.now_ms().into(),
                ],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await
    }

    /// Revokes the live token of that name; `false` when there is none.
    pub async fn revoke_token(&self, name: &str) -> Result<bool> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL",
                ),
                args: vec![self.clock.now_ms().into(), name.into()],
                decode: Box::new(|o| Ok(o.rows_affected > 0)),
            },
        )
        .await
    }

    /// The live token with this hash.
    pub async fn token(&self, token_hash: &str) -> Result<Option<TokenRow>> {
        sqlx::query(
            "SELECT id, name, role, centre_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| {
            Ok(TokenRow {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                role: role_of(&r)?,
                centre_id: r.try_get("centre_id")?,
            })
        })
        .transpose()
    }
}
