//! The case work's questions of cases and their timers, one statement each:
//! a new case's first timer, the timers a crash left unscheduled (the
//! sweep), and whether a missed deadline's step is still undone. Timer
//! kinds, key prefixes and outcomes come from the case work; the store only
//! runs the statements. The same SQL on both databases.

use sqlx::Row as _;

use super::{Durability, Result, Store, StoreError, Write};
use crate::domain::CaseRef;

/// The deadline kinds [`STEP_UNDONE`] knows, for the case work's test that
/// the two agree.
pub const UNDONE_KINDS: [&str; 5] = ["response", "assessment", "plan", "review", "closure_check"];

/// The step of deadline timer `t` of case `c` is still not done: its stage
/// not reached, no newer review, no visit since closure. It reads the
/// stages the case work's stage changes set (`domain::Stage`); written here
/// as one predicate so the digest finds a centre's overdue cases in one
/// statement instead of a read per timer.
pub(super) const STEP_UNDONE: &str = "(
       (t.kind = 'response' AND c.stage = 'new')
    OR (t.kind = 'assessment' AND c.stage IN ('new', 'acknowledged'))
    OR (t.kind = 'plan' AND c.stage IN ('new', 'acknowledged', 'assessed'))
    OR (t.kind = 'review' AND c.stage = 'planned' AND NOT EXISTS (
           SELECT 1 FROM timers r WHERE r.case_id = c.id AND r.kind = 'review' AND r.id > t.id))
    OR (t.kind = 'closure_check' AND c.stage = 'closed' AND NOT EXISTS (
           SELECT 1 FROM case_events v WHERE v.case_id = c.id AND v.kind = 'visit' AND v.at > t.created_at)))";

/// Sets a case's `overdue` flag from its timers: 1 while a deadline it
/// missed (fired, or past due and being handled) is still undone (the
/// digest's predicate).
static REFRESH_OVERDUE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "UPDATE cases AS c SET overdue = CASE WHEN EXISTS (
           SELECT 1 FROM timers t WHERE t.case_id = c.id
           AND (t.state = 'fired' OR (t.state = 'pending' AND t.due_at <= $2)) AND {STEP_UNDONE})
         THEN 1 ELSE 0 END
         WHERE c.id = $1"
    )
});

impl Store {
    /// Brings the case's `overdue` flag (what lists sort and filter by) in
    /// line with its deadlines; whether it is overdue now.
    pub async fn refresh_overdue(&self, case_id: i64) -> Result<()> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some(REFRESH_OVERDUE.as_str()),
                args: vec![case_id.into(), self.clock.now_ms().into()],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await
    }

    /// Schedules a timer of `kind` for the case `reference`, due at
    /// `now_ms`, keyed `key_prefix` and the case's row id (so the sweep,
    /// keying the same way, makes the same timer: one per case); wakes a
    /// scheduler on this store. The case is found by its reference in the
    /// same statement.
    pub async fn schedule_case_timer(
        &self,
        reference: &CaseRef,
        kind: &str,
        key_prefix: &str,
        now_ms: i64,
    ) -> Result<()> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "INSERT INTO timers (case_id, kind, level, due_at, state, attempts, source_key, payload, quiet, created_at)
                     SELECT c.id, $3, NULL, $1, 'pending', 0, $4 || c.id, NULL, 0, $1 FROM cases c
                     WHERE c.reference = $2
                     ON CONFLICT (source_key) DO NOTHING",
                ),
                args: vec![
                    now_ms.into(),
                    reference.as_str().into(),
                    kind.into(),
                    key_prefix.into(),
                ],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await?;
        self.timers_wake().notify_one();
        Ok(())
    }

    /// Schedules, due at `now_ms`, the timer [`Store::schedule_case_timer`]
    /// would have made for every case saved since `since_ms` that has none
    /// (a crash between saving it and scheduling); returns how many.
    pub async fn schedule_missing_case_timers(
        &self,
        kind: &str,
        key_prefix: &str,
        now_ms: i64,
        since_ms: i64,
    ) -> Result<u64> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "INSERT INTO timers (case_id, kind, level, due_at, state, attempts, source_key, payload, quiet, created_at)
                     SELECT c.id, $3, NULL, $1, 'pending', 0, $4 || c.id, NULL, 0, $1 FROM cases c
                     WHERE c.created_at >= $2 AND NOT EXISTS (SELECT 1 FROM timers t WHERE t.source_key = $4 || c.id)
                     ON CONFLICT (source_key) DO NOTHING",
                ),
                args: vec![
                    now_ms.into(),
                    since_ms.into(),
                    kind.into(),
                    key_prefix.into(),
                ],
                decode: Box::new(|o| Ok(o.rows_affected)),
            },
        )
        .await
    }

    /// Schedules, due at `now_ms`, a timer of `kind` keyed `key_prefix` and
    /// the visit's source key for every visit logged since `since_ms` with
    /// `outcome` that has none; returns how many.
    pub async fn schedule_missing_visit_timers(
        &self,
        kind: &str,
        key_prefix: &str,
        outcome: &str,
        now_ms: i64,
        since_ms: i64,
    ) -> Result<u64> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "INSERT INTO timers (case_id, kind, level, due_at, state, attempts, source_key, payload, quiet, created_at)
                     SELECT e.case_id, $3, NULL, $1, 'pending', 0, $4 || e.source_key, NULL, 0, $1
                     FROM case_events e
                     WHERE e.at >= $2 AND e.kind = 'visit' AND e.outcome = $5 AND e.source_key IS NOT NULL
                       AND NOT EXISTS (SELECT 1 FROM timers t WHERE t.source_key = $4 || e.source_key)
                     ON CONFLICT (source_key) DO NOTHING",
                ),
                args: vec![
                    now_ms.into(),
                    since_ms.into(),
                    kind.into(),
                    key_prefix.into(),
                    outcome.into(),
                ],
                decode: Box::new(|o| Ok(o.rows_affected)),
            },
        )
        .await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_the_predicate_knows_is_named() {
        for kind in UNDONE_KINDS {
            assert!(
                STEP_UNDONE.contains(&format!("t.kind = '{kind}'")),
                "{kind}"
            );
        }
        assert_eq!(
            STEP_UNDONE.matches("t.kind = '").count(),
            UNDONE_KINDS.len()
        );
    }
}
