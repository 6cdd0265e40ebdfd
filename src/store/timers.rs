//! Durable timers: a deadline or reminder is a row, `pending` until its
//! handler has run (`fired`) or a stage change made it moot (`met`,
//! `cancelled`). The scheduler (`src/casework/scheduler.rs`) claims due rows under a
//! lease, like the outbox: a claimed timer stays `pending` with
//! `lease_until` in the future, so a scheduler that dies holding it loses
//! nothing; the next claim after the lease takes it again. A failed run
//! also waits in `lease_until` (its retry time), so `due_at` stays the
//! deadline the caller set. One SQL text per query for both databases;
//! the one difference, PostgreSQL's row lock on the claim, is the
//! dialect's.

use std::{sync::LazyLock, time::Duration};

use super::{
    dialect::{claim, Claim},
    write::Row as Written,
    Durability, Result, Store, StoreError, Write,
};

/// A timer to schedule (see [`Store::schedule`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTimer {
    /// The case it is about; `None` for one that is not (a daily digest).
    pub case_id: Option<i64>,
    /// What it is, free text to the scheduler: `ack`, `assessment`, `plan`,
    /// `review`, `closure_check`, `visit_reminder`, `digest`...
    pub kind: String,
    /// The caller's escalation step, if any.
    pub level: Option<i64>,
    /// When it fires (ms since the epoch).
    pub due_at: i64,
    /// The caller's idempotency key: the same key twice makes one timer.
    pub source_key: String,
    /// JSON the handler reads, if any.
    pub payload: Option<String>,
    /// May be held back by quiet hours: stored for the handler to decide.
    pub quiet: bool,
}

/// Where a timer is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerState {
    /// Waiting for its due time (or claimed, or waiting for a retry).
    Pending,
    /// Its handler ran: the deadline passed unmet.
    Fired,
    /// Satisfied by a stage change before it fired.
    Met,
    /// No longer wanted (the case closed, a plan changed).
    Cancelled,
}

impl TimerState {
    pub fn as_str(self) -> &'static str {
        match self {
            TimerState::Pending => "pending",
            TimerState::Fired => "fired",
            TimerState::Met => "met",
            TimerState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => TimerState::Pending,
            "fired" => TimerState::Fired,
            "met" => TimerState::Met,
            "cancelled" => TimerState::Cancelled,
            _ => return None,
        })
    }
}

/// How pending timers are settled by [`Store::settle_timers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settlement {
    Met,
    Cancelled,
}

impl Settlement {
    pub fn state(self) -> TimerState {
        match self {
            Settlement::Met => TimerState::Met,
            Settlement::Cancelled => TimerState::Cancelled,
        }
    }
}

/// A timer as stored: every column, times in ms since the epoch.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TimerRow {
    pub id: i64,
    pub case_id: Option<i64>,
    pub kind: String,
    pub level: Option<i64>,
    pub due_at: i64,
    pub state: TimerState,
    /// While pending: not claimable before this (claimed, or a retry's wait).
    pub lease_until: Option<i64>,
    /// Handler runs that failed.
    pub attempts: i64,
    pub last_error: Option<String>,
    pub fired_at: Option<i64>,
    /// When it was met or cancelled.
    pub settled_at: Option<i64>,
    pub source_key: String,
    pub payload: Option<String>,
    pub quiet: bool,
    pub created_at: i64,
}

const TIMER_COLUMNS: &str = "id, case_id, kind, level, due_at, state, lease_until, attempts, last_error, fired_at, settled_at, source_key, payload, quiet, created_at";

fn timer_row(r: &Written) -> Result<TimerRow> {
    let state = r.text_required("state")?;
    Ok(TimerRow {
        id: r.int_required("id")?,
        case_id: r.int("case_id")?,
        kind: r.text_required("kind")?,
        level: r.int("level")?,
        due_at: r.int_required("due_at")?,
        state: TimerState::parse(&state)
            .ok_or_else(|| StoreError::Invalid(format!("timer state `{state}`")))?,
        lease_until: r.int("lease_until")?,
        attempts: r.int_required("attempts")?,
        last_error: r.text("last_error")?,
        fired_at: r.int("fired_at")?,
        settled_at: r.int("settled_at")?,
        source_key: r.text_required("source_key")?,
        payload: r.text("payload")?,
        quiet: r.int_required("quiet")? != 0,
        created_at: r.int_required("created_at")?,
    })
}

/// The claim: pending timers that are due and not leased (or whose lease
/// or retry wait is over), earliest deadline first, walking the
/// `timers_due` index in its order and stopping after a batch; PostgreSQL's
/// row lock is the dialect's.
const CLAIM: Claim = claim!(
    "UPDATE timers SET lease_until = $1
             WHERE id IN (
                 SELECT id FROM timers
                 WHERE state = 'pending' AND due_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
                 ORDER BY due_at, id
                 LIMIT $3 ",
    ")
             RETURNING id, case_id, kind, level, due_at, state, lease_until, attempts, last_error, fired_at, settled_at, source_key, payload, quiet, created_at"
);

/// Timers one [`Store::timers_fired`] statement marks; a longer list takes
/// several statements, a shorter one pads its placeholders with `-1` (no
/// timer's id).
pub const FIRED_BATCH: usize = 64;

/// `UPDATE … WHERE id IN ($2, …, $65)`: one text for both databases, with a
/// fixed number of placeholders (a [`Write`] takes a `&'static str`).
///
/// "Still pending" is written as "not ended" on purpose: a `state =
/// 'pending'` here lets PostgreSQL read the partial index `timers_due`
/// too, and on a table it has no statistics for (autovacuum off, or not
/// yet run after a burst) it did: a BitmapAnd of the primary key with
/// every pending entry, 16 ms a mark under 100,000 pending timers instead
/// of a few primary-key lookups (BENCHMARKS.md).
static FIRED_SQL: LazyLock<String> = LazyLock::new(|| {
    let slots: Vec<String> = (0..FIRED_BATCH).map(|i| format!("${}", i + 2)).collect();
    format!(
        "UPDATE timers SET state = 'fired', fired_at = $1, lease_until = NULL
         WHERE id IN ({}) AND state NOT IN ('fired', 'met', 'cancelled')",
        slots.join(", ")
    )
});

impl Store {
    /// Notified by [`Store::schedule`] on this store or a clone of it.
    pub(crate) fn timers_wake(&self) -> &tokio::sync::Notify {
        &self.timers_wake
    }

    /// Schedules `timer`, on disk before it returns, once per `source_key`:
    /// the same key again returns the first timer's id (whatever its state)
    /// and changes nothing. Wakes a scheduler running on this store.
    pub async fn schedule(&self, timer: &NewTimer) -> Result<i64> {
        if timer.source_key.is_empty() || timer.kind.is_empty() {
            return Err(StoreError::Invalid(
                "a timer needs a kind and a source key".into(),
            ));
        }
        let inserted = self
            .write(
                Durability::Disk,
                Write {
                    sql: Some(
                        "INSERT INTO timers (case_id, kind, level, due_at, state, attempts, source_key, payload, quiet, created_at)
                         VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6, $7, $8)
                         ON CONFLICT (source_key) DO NOTHING
                         RETURNING id",
                    ),
                    args: vec![
                        timer.case_id.into(),
                        timer.kind.as_str().into(),
                        timer.level.into(),
                        timer.due_at.into(),
                        timer.source_key.as_str().into(),
                        timer.payload.clone().into(),
                        i64::from(timer.quiet).into(),
                        self.clock.now_ms().into(),
                    ],
                    decode: Box::new(|o| o.rows.first().map(|r| r.int_required("id")).transpose()),
                },
            )
            .await?;
        let id = match inserted {
            Some(id) => id,
            // Scheduled before under this key.
            None => sqlx::query("SELECT id FROM timers WHERE source_key = $1")
                .bind(&timer.source_key)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| sqlx::Row::try_get::<i64, _>(&r, "id"))
                .transpose()?
                .ok_or_else(|| {
                    StoreError::Invalid(format!(
                        "timer `{}` neither inserted nor found",
                        timer.source_key
                    ))
                })?,
        };
        self.timers_wake.notify_one();
        Ok(id)
    }

    /// Claims up to `limit` pending timers due at `now_ms` (not leased, or
    /// their lease or retry wait over), leased for `lease`: no other
    /// scheduler takes them until then. Earliest deadline first.
    pub async fn claim_due_timers(
        &self,
        now_ms: i64,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<TimerRow>> {
        let sql = self.dialect.claim(&CLAIM);
        let lease_until =
            now_ms.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
        let mut rows = self
            .write(
                Durability::Process,
                Write {
                    sql: Some(sql),
                    args: vec![lease_until.into(), now_ms.into(), (limit as i64).into()],
                    decode: Box::new(|o| o.rows.iter().map(timer_row).collect::<Result<Vec<_>>>()),
                },
            )
            .await?;
        // RETURNING keeps no order.
        rows.sort_by_key(|t| (t.due_at, t.id));
        Ok(rows)
    }

    /// Records that timer `id`'s handler ran. `false` when it was no longer
    /// pending (settled meanwhile, or fired by another scheduler that took
    /// it over after its lease). Kept in the log, not flushed
    /// ([`Durability::Process`]): lost only to a power cut, and then the
    /// timer fires again, which an idempotent handler absorbs.
    pub async fn timer_fired(&self, id: i64) -> Result<bool> {
        Ok(self.timers_fired(&[id]).await? == 1)
    }

    /// [`Store::timer_fired`] for many timers, [`FIRED_BATCH`] a statement;
    /// returns how many were still pending.
    pub async fn timers_fired(&self, ids: &[i64]) -> Result<u64> {
        let now = self.clock.now_ms();
        let mut marked = 0;
        for chunk in ids.chunks(FIRED_BATCH) {
            let mut args = Vec::with_capacity(FIRED_BATCH + 1);
            args.push(now.into());
            args.extend(chunk.iter().map(|&id| id.into()));
            args.resize(FIRED_BATCH + 1, (-1i64).into());
            marked += self
                .write(
                    Durability::Process,
                    Write {
                        sql: Some(FIRED_SQL.as_str()),
                        args,
                        decode: Box::new(|o| Ok(o.rows_affected)),
                    },
                )
                .await?;
        }
        Ok(marked)
    }

    /// Records that timer `id`'s handler failed with `error`: it stays
    /// pending, one more attempt counted, and is claimable again at
    /// `retry_at` (ms). `false` when it was no longer pending.
    pub async fn timer_failed(&self, id: i64, error: &str, retry_at: i64) -> Result<bool> {
        self.write(
            Durability::Process,
            Write {
                sql: Some(
                    "UPDATE timers SET attempts = attempts + 1, last_error = $2, lease_until = $3
                     WHERE id = $1 AND state = 'pending'",
                ),
                args: vec![id.into(), error.into(), retry_at.into()],
                decode: Box::new(|o| Ok(o.rows_affected == 1)),
            },
        )
        .await
    }

    /// Settles the pending timers of `case_id` whose kind is one of `kinds`
    /// (every kind when `kinds` is empty: a closed case's timers) as met or
    /// cancelled, on disk before it returns; returns how many. Timers
    /// already fired stay fired: their deadline passed. A timer a
    /// scheduler is running at that moment is settled too, and its
    /// handler's `fired` is then ignored (see [`Store::timer_fired`]);
    /// whether its effect should still happen is the handler's to check.
    pub async fn settle_timers(
        &self,
        case_id: i64,
        kinds: &[&str],
        settlement: Settlement,
    ) -> Result<u64> {
        let now = self.clock.now_ms();
        let state = settlement.state().as_str();
        if kinds.is_empty() {
            return self
                .write(
                    Durability::Disk,
                    Write {
                        sql: Some(
                            "UPDATE timers SET state = $2, settled_at = $3, lease_until = NULL
                             WHERE case_id = $1 AND state = 'pending'",
                        ),
                        args: vec![case_id.into(), state.into(), now.into()],
                        decode: Box::new(|o| Ok(o.rows_affected)),
                    },
                )
                .await;
        }
        let mut settled = 0;
        for kind in kinds {
            settled += self
                .write(
                    Durability::Disk,
                    Write {
                        sql: Some(
                            "UPDATE timers SET state = $3, settled_at = $4, lease_until = NULL
                             WHERE case_id = $1 AND kind = $2 AND state = 'pending'",
                        ),
                        args: vec![case_id.into(), (*kind).into(), state.into(), now.into()],
                        decode: Box::new(|o| Ok(o.rows_affected)),
                    },
                )
                .await?;
        }
        Ok(settled)
    }

    /// Every timer of a case, in due order (for its timeline: `fired` means
    /// the deadline passed unmet, `met` that it was kept).
    pub async fn timers_of_case(&self, case_id: i64) -> Result<Vec<TimerRow>> {
        let sql =
            format!("SELECT {TIMER_COLUMNS} FROM timers WHERE case_id = $1 ORDER BY due_at, id");
        let rows = sqlx::query(&sql)
            .bind(case_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| timer_row(&Written::from_any(r)?))
            .collect()
    }

    pub async fn timer(&self, id: i64) -> Result<Option<TimerRow>> {
        let sql = format!("SELECT {TIMER_COLUMNS} FROM timers WHERE id = $1");
        sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| timer_row(&Written::from_any(&r)?))
            .transpose()
    }

    /// When the next pending timer becomes claimable (ms): the earliest
    /// deadline of those not leased, or the earliest end of a lease or
    /// retry wait. `None`: no timer is pending. Two index lookups.
    pub async fn next_timer_due(&self) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT (SELECT MIN(due_at) FROM timers WHERE state = 'pending' AND lease_until IS NULL) AS due,
                    (SELECT MIN(lease_until) FROM timers WHERE state = 'pending' AND lease_until IS NOT NULL) AS leased",
        )
        .fetch_one(&self.pool)
        .await?;
        let due: Option<i64> = sqlx::Row::try_get(&row, "due")?;
        let leased: Option<i64> = sqlx::Row::try_get(&row, "leased")?;
        Ok(match (due, leased) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
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

    /// How many timers are in each state.
    pub async fn timer_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows =
            sqlx::query("SELECT state, COUNT(*) AS n FROM timers GROUP BY state ORDER BY state")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| Ok((sqlx::Row::try_get(r, "state")?, sqlx::Row::try_get(r, "n")?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claim_differs_only_by_postgresql_s_lock() {
        assert_eq!(
            CLAIM.postgres.replace("FOR UPDATE SKIP LOCKED", ""),
            CLAIM.sqlite
        );
        assert!(CLAIM.sqlite.ends_with(TIMER_COLUMNS));
    }

    #[test]
    fn the_fired_mark_has_one_placeholder_per_slot() {
        assert!(FIRED_SQL.contains(&format!("${}", FIRED_BATCH + 1)));
        assert!(!FIRED_SQL.contains(&format!("${}", FIRED_BATCH + 2)));
    }

    #[test]
    fn states_read_back() {
        for s in [
            TimerState::Pending,
            TimerState::Fired,
            TimerState::Met,
            TimerState::Cancelled,
        ] {
            assert_eq!(TimerState::parse(s.as_str()), Some(s));
        }
        assert_eq!(TimerState::parse("missed"), None);
    }
}
