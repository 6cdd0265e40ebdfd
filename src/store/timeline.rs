//! A case's timeline: visits, alerts, escalations and stage changes, each
//! recorded once per source key, and read back oldest first with the
//! registration (derived from the case row). The same SQL on both
//! databases.

use sqlx::Row as _;

use super::{sealed, Durability, Result, Store, StoreError, Write};
use crate::domain::{from_ms, CaseRef, NewVisit};

#[derive(Clone, Debug, serde::Serialize)]
pub struct CaseEvent {
    pub kind: String,
    pub at: String,
    pub actor: Option<String>,
    pub channel: Option<String>,
    pub outcome: Option<String>,
    pub note: Option<String>,
}

/// An event for a case's timeline.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub case_id: i64,
    pub kind: &'static str,
    pub actor: Option<String>,
    pub channel: Option<String>,
    pub outcome: Option<String>,
    pub note: Option<String>,
    /// The same key twice records one event.
    pub source_key: String,
}

impl Store {
    /// Records a visit on a case's timeline, once per `source_key`.
    pub async fn log_visit(&self, v: &NewVisit) -> Result<()> {
        let actor = match v.volunteer_id {
            Some(id) => format!("volunteer:{id}"),
            None => format!("phone:{}", v.phone.redacted()),
        };
        let inserted = self
            .write(
                Durability::Disk,
                Write {
                    sql: Some(
                        "INSERT INTO case_events (case_id, kind, at, actor, channel, outcome, note, source_key)
                         SELECT id, 'visit', $1, $2, $3, $4, $5, $6 FROM cases WHERE reference = $7
                         ON CONFLICT (source_key) DO NOTHING",
                    ),
                    args: vec![
                        self.clock.now_ms().into(),
                        actor.into(),
                        v.channel.as_str().into(),
                        v.outcome.as_str().into(),
                        self.seal_opt(sealed::EVENT_NOTE, v.note.as_deref()).into(),
                        v.source_key.as_str().into(),
                        v.reference.as_str().into(),
                    ],
                    decode: Box::new(|o| Ok(o.rows_affected > 0)),
                },
            )
            .await?;
        // Not inserted: already logged (a retry), or no such case.
        if inserted || self.case_exists(&v.reference).await? {
            Ok(())
        } else {
            Err(StoreError::NoCase(v.reference.to_string()))
        }
    }

    /// The case's timeline, oldest first: its registration (from the case
    /// row), then every recorded event.
    pub async fn case_events(&self, reference: &CaseRef) -> Result<Vec<CaseEvent>> {
        let rows = sqlx::query(
            "SELECT 'registered' AS kind, c.created_at AS at, c.volunteer_id, c.self_report, c.anonymous,
                    c.channel, NULL AS outcome, NULL AS note, NULL AS actor, 0 AS seq, 0 AS id
             FROM cases c WHERE c.reference = $1
             UNION ALL
             SELECT e.kind, e.at, NULL, NULL, NULL, e.channel, e.outcome, e.note, e.actor, 1, e.id
             FROM case_events e JOIN cases c ON c.id = e.case_id WHERE c.reference = $1
             ORDER BY at, seq, id",
        )
        .bind(reference.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                let actor = if kind == "registered" {
                    let volunteer: Option<i64> = r.try_get("volunteer_id")?;
                    let anonymous: Option<i64> = r.try_get("anonymous")?;
                    Some(match volunteer {
                        Some(v) => format!("volunteer:{v}"),
                        None if anonymous == Some(1) => "self-report:anonymous".to_string(),
                        None => "self-report".to_string(),
                    })
                } else {
                    r.try_get("actor")?
                };
                Ok(CaseEvent {
                    kind,
                    at: from_ms(r.try_get("at")?).to_rfc3339(),
                    actor,
                    channel: r.try_get("channel")?,
                    outcome: r.try_get("outcome")?,
                    note: self.open_opt(sealed::EVENT_NOTE, r.try_get("note")?)?,
                })
            })
            .collect()
    }

    /// Records a timeline event once per source key; `true` when new.
    pub async fn record_event(&self, e: &NewEvent) -> Result<bool> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "INSERT INTO case_events (case_id, kind, at, actor, channel, outcome, note, source_key)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (source_key) DO NOTHING",
                ),
                args: vec![
                    e.case_id.into(),
                    e.kind.into(),
                    self.clock.now_ms().into(),
                    e.actor.clone().into(),
                    e.channel.clone().into(),
                    e.outcome.clone().into(),
                    self.seal_opt(sealed::EVENT_NOTE, e.note.as_deref()).into(),
                    e.source_key.as_str().into(),
                ],
                decode: Box::new(|o| Ok(o.rows_affected == 1)),
            },
        )
        .await
    }
}
