//! USSD sessions' start snapshots: written on the first hop, read on the
//! others, purged when abandoned. The same SQL on both databases.

use super::{write::Row as Written, Durability, Result, Store, StoreError, Write};
use crate::domain::Phone;

/// A USSD session's start snapshot.
#[derive(Clone, Debug)]
pub struct SessionRow {
    pub session_id: String,
    pub phone: String,
    pub locale: String,
    pub volunteer_id: Option<i64>,
    pub village_id: Option<i64>,
    pub village_name: Option<String>,
    pub started_at: i64,
}

fn session_row(r: &Written) -> Result<SessionRow> {
    Ok(SessionRow {
        session_id: r.text_required("session_id")?,
        phone: r.text_required("phone")?,
        locale: r.text_required("locale")?,
        volunteer_id: r.int("volunteer_id")?,
        village_id: r.int("village_id")?,
        village_name: r.text("village_name")?,
        started_at: r.int_required("started_at")?,
    })
}

impl Store {
    pub async fn session(&self, session_id: &str) -> Result<Option<SessionRow>> {
        sqlx::query(
            "SELECT session_id, phone, locale, volunteer_id, village_id, village_name, started_at
             FROM ussd_sessions WHERE session_id = $1",
        )
        .bind(session_id)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| session_row(&Written::from_any(&r)?))
        .transpose()
    }

    /// Starts a session: its snapshot is what the phone's volunteer profile
    /// (or its absence: `default_locale`, no volunteer) says now, looked up
    /// and saved in one statement. The first writer wins, so two servers
    /// racing on the same first hop agree on one snapshot.
    pub async fn start_session(
        &self,
        session_id: &str,
        phone: &Phone,
        default_locale: &str,
    ) -> Result<SessionRow> {
        let inserted = self
            .write(
                Durability::Process,
                Write {
                    sql: Some(
                        "INSERT INTO ussd_sessions (session_id, phone, locale, volunteer_id, village_id, village_name, started_at)
                         SELECT $1, $2, COALESCE(v.locale, $3), v.id, v.village_id, l.name, $4
                         FROM (SELECT 1 AS one) AS start
                         LEFT JOIN volunteers v ON v.phone = $2 AND v.active = 1
                         LEFT JOIN locations l ON l.id = v.village_id
                         WHERE true
                         ON CONFLICT (session_id) DO NOTHING
                         RETURNING session_id, phone, locale, volunteer_id, village_id, village_name, started_at",
                    ),
                    args: vec![
                        session_id.into(),
                        phone.as_str().into(),
                        default_locale.into(),
                        self.clock.now_ms().into(),
                    ],
                    decode: Box::new(|o| o.rows.first().map(session_row).transpose()),
                },
            )
            .await?;
        match inserted {
            Some(row) => Ok(row),
            None => self.session(session_id).await?.ok_or_else(|| {
                StoreError::Invalid(format!("session {session_id} vanished while starting"))
            }),
        }
    }

    /// Deletes sessions started before `before_ms`; returns how many.
    pub async fn purge_sessions(&self, before_ms: i64) -> Result<u64> {
        self.write(
            Durability::Process,
            Write {
                sql: Some("DELETE FROM ussd_sessions WHERE started_at < $1"),
                args: vec![before_ms.into()],
                decode: Box::new(|o| Ok(o.rows_affected)),
            },
        )
        .await
    }
}
