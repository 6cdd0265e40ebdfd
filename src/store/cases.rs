//! A case's lifecycle in the database: its row as the case logic reads it,
//! stage changes (compare-and-set, so two staff acting at once agree), and
//! timeline events (idempotent by their source key). One SQL for both
//! databases.

use sqlx::Row as _;

use super::{Durability, Result, Store, StoreError, Write};
use crate::domain::CaseRef;

/// What the case logic needs of a case (no child-identifying detail).
#[derive(Clone, Debug)]
pub struct CaseRow {
    pub id: i64,
    pub reference: CaseRef,
    pub stage: String,
    pub centre_id: i64,
    pub centre_code: String,
    pub urgent: bool,
    pub concern: String,
    /// The district's name: the most an alert says of the place.
    pub district: Option<String>,
    pub volunteer_id: Option<i64>,
    pub created_at: i64,
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

const CASE_SELECT: &str =
    "SELECT c.id, c.reference, c.stage, c.centre_id, ce.code AS centre_code, c.urgent, c.concern,
        d.name AS district, c.volunteer_id, c.created_at
     FROM cases c JOIN centres ce ON ce.id = c.centre_id
     JOIN locations l ON l.id = c.location_id
     LEFT JOIN locations d ON d.id = l.district_id";

fn case_row(r: &sqlx::any::AnyRow) -> Result<CaseRow> {
    let reference: String = r.try_get("reference")?;
    Ok(CaseRow {
        id: r.try_get("id")?,
        reference: CaseRef::parse(&reference).map_err(|e| StoreError::Invalid(e.to_string()))?,
        stage: r.try_get("stage")?,
        centre_id: r.try_get("centre_id")?,
        centre_code: r.try_get("centre_code")?,
        urgent: r.try_get::<i64, _>("urgent")? != 0,
        concern: r.try_get("concern")?,
        district: r.try_get("district")?,
        volunteer_id: r.try_get("volunteer_id")?,
        created_at: r.try_get("created_at")?,
    })
}

impl Store {
    pub async fn case_row(&self, reference: &CaseRef) -> Result<Option<CaseRow>> {
        let sql = format!("{CASE_SELECT} WHERE c.reference = $1");
        sqlx::query(&sql)
            .bind(reference.as_str())
            .fetch_optional(&self.pool)
            .await?
            .map(|r| case_row(&r))
            .transpose()
    }

    pub async fn case_row_by_id(&self, id: i64) -> Result<Option<CaseRow>> {
        let sql = format!("{CASE_SELECT} WHERE c.id = $1");
        sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| case_row(&r))
            .transpose()
    }

    /// Moves a case from `from` to `to`; `false` when it was no longer at
    /// `from` (someone else moved it first).
    pub async fn move_stage(&self, case_id: i64, from: &str, to: &str) -> Result<bool> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some("UPDATE cases SET stage = $1 WHERE id = $2 AND stage = $3"),
                args: vec![to.into(), case_id.into(), from.into()],
                decode: Box::new(|o| Ok(o.rows_affected == 1)),
            },
        )
        .await
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
                    e.note.clone().into(),
                    e.source_key.as_str().into(),
                ],
                decode: Box::new(|o| Ok(o.rows_affected == 1)),
            },
        )
        .await
    }
}
