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

/// A volunteer who follows a case (its reporter).
#[derive(Clone, Debug)]
pub struct Follower {
    pub phone: crate::domain::Phone,
    pub locale: crate::domain::Locale,
}

/// The step of deadline timer `t` of case `c` is still not done (its
/// stage not reached, no newer review, no visit since closure).
const STEP_UNDONE: &str = "(
       (t.kind = 'response' AND c.stage = 'new')
    OR (t.kind = 'assessment' AND c.stage IN ('new', 'acknowledged'))
    OR (t.kind = 'plan' AND c.stage IN ('new', 'acknowledged', 'assessed'))
    OR (t.kind = 'review' AND c.stage = 'planned' AND NOT EXISTS (
           SELECT 1 FROM timers r WHERE r.case_id = c.id AND r.kind = 'review' AND r.id > t.id))
    OR (t.kind = 'closure_check' AND c.stage = 'closed' AND NOT EXISTS (
           SELECT 1 FROM case_events v WHERE v.case_id = c.id AND v.kind = 'visit' AND v.at > t.created_at)))";

impl Store {
    /// Schedules a new case's alert, due at `now_ms` (the same timer the
    /// sweep would make: one per case), and wakes a scheduler on this store.
    pub async fn schedule_case_alert(&self, reference: &CaseRef, now_ms: i64) -> Result<()> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "INSERT INTO timers (case_id, kind, level, due_at, state, attempts, source_key, payload, quiet, created_at)
                     SELECT c.id, 'alert', NULL, $1, 'pending', 0, 'alert:' || c.id, NULL, 0, $1 FROM cases c
                     WHERE c.reference = $2
                     ON CONFLICT (source_key) DO NOTHING",
                ),
                args: vec![now_ms.into(), reference.as_str().into()],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await?;
        self.timers_wake().notify_one();
        Ok(())
    }

    /// Schedules the alert of every case saved since `since_ms` that has
    /// none, and of every such visit that found the child worse (a crash
    /// between saving one and scheduling its alert); returns how many.
    pub async fn schedule_missing_alerts(&self, now_ms: i64, since_ms: i64) -> Result<u64> {
        let mut n = 0;
        for sql in [
            "INSERT INTO timers (case_id, kind, level, due_at, state, attempts, source_key, payload, quiet, created_at)
             SELECT c.id, 'alert', NULL, $1, 'pending', 0, 'alert:' || c.id, NULL, 0, $1 FROM cases c
             WHERE c.created_at >= $2 AND NOT EXISTS (SELECT 1 FROM timers t WHERE t.source_key = 'alert:' || c.id)
             ON CONFLICT (source_key) DO NOTHING",
            "INSERT INTO timers (case_id, kind, level, due_at, state, attempts, source_key, payload, quiet, created_at)
             SELECT e.case_id, 'visit_alert', NULL, $1, 'pending', 0, 'visit_alert:' || e.source_key, NULL, 0, $1
             FROM case_events e
             WHERE e.at >= $2 AND e.kind = 'visit' AND e.outcome = 'worse' AND e.source_key IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM timers t WHERE t.source_key = 'visit_alert:' || e.source_key)
             ON CONFLICT (source_key) DO NOTHING",
        ] {
            n += self
                .write(
                    Durability::Disk,
                    Write {
                        sql: Some(sql),
                        args: vec![now_ms.into(), since_ms.into()],
                        decode: Box::new(|o| Ok(o.rows_affected)),
                    },
                )
                .await?;
        }
        Ok(n)
    }

    /// Whether any timer is due at `now_ms` or being run (claimed): a
    /// scheduler that has caught up leaves none (for tests and operators).
    pub async fn timers_busy(&self, now_ms: i64) -> Result<bool> {
        Ok(sqlx::query(
            "SELECT 1 AS one FROM timers WHERE state = 'pending' AND (lease_until IS NOT NULL OR due_at <= $1) LIMIT 1",
        )
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?
        .is_some())
    }

    pub async fn centre_ids(&self) -> Result<Vec<i64>> {
        let rows = sqlx::query("SELECT id FROM centres ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    pub async fn centre_name(&self, centre_id: i64) -> Result<Option<String>> {
        Ok(sqlx::query("SELECT name FROM centres WHERE id = $1")
            .bind(centre_id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get("name"))
            .transpose()?)
    }

    /// The staff member who last moved the case (acknowledged it, or
    /// later): the one its reminders go to.
    pub async fn case_owner(&self, case_id: i64) -> Result<Option<super::Contact>> {
        let sql = format!(
            "SELECT {} FROM case_events e JOIN staff s ON e.actor = 'staff:' || s.id
             WHERE e.case_id = $1 AND e.kind IN ('acknowledged', 'assessed', 'planned', 'reviewed')
             ORDER BY e.at DESC, e.id DESC LIMIT 1",
            super::rota::CONTACT_COLUMNS
        );
        sqlx::query(&sql)
            .bind(case_id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| super::rota::contact(&r))
            .transpose()
    }

    /// The volunteer who reported the case, who follows it.
    pub async fn case_volunteer(&self, case_id: i64) -> Result<Option<Follower>> {
        let row = sqlx::query(
            "SELECT v.phone, v.locale FROM cases c JOIN volunteers v ON v.id = c.volunteer_id WHERE c.id = $1",
        )
        .bind(case_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Follower {
                phone: crate::domain::Phone::from_trusted(r.try_get("phone")?),
                locale: super::rota::stored_locale(&r.try_get::<String, _>("locale")?)?,
            })
        })
        .transpose()
    }

    /// Whether the step of a deadline of `kind` (missed, or being found
    /// missed right now) is still not done.
    pub async fn deadline_still_overdue(&self, case_id: i64, kind: &str) -> Result<bool> {
        let sql = format!(
            "SELECT 1 AS one FROM timers t JOIN cases c ON c.id = t.case_id
             WHERE c.id = $1 AND t.kind = $2 AND t.state IN ('pending', 'fired') AND {STEP_UNDONE}"
        );
        Ok(sqlx::query(&sql)
            .bind(case_id)
            .bind(kind)
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    /// The centre's cases with a missed step still not done, oldest first.
    pub async fn overdue_cases(&self, centre_id: i64) -> Result<Vec<CaseRef>> {
        let sql = format!(
            "SELECT c.reference, MIN(c.created_at) AS created FROM timers t JOIN cases c ON c.id = t.case_id
             WHERE c.centre_id = $1 AND t.state = 'fired' AND {STEP_UNDONE}
             GROUP BY c.reference ORDER BY created, c.reference"
        );
        let rows = sqlx::query(&sql)
            .bind(centre_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                CaseRef::parse(&r.try_get::<String, _>("reference")?)
                    .map_err(|e| StoreError::Invalid(e.to_string()))
            })
            .collect()
    }
}
