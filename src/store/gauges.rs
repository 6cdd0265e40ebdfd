//! What the operators' metrics read at scrape time (`GET /metrics`): the
//! outbox's queue, the timers that are due, the alerts no one acknowledged
//! in time, the pool's connections. One statement per family, each walking
//! a partial index of the few live rows (`outbox_due`, `outbox_leases`,
//! `timers_due`) or of the kind asked (`case_events_kind_at`), never a
//! table's history: a count of every message ever sent would read the
//! whole outbox (a second at two million rows on SQLite), so the sends'
//! outcomes are counted where they happen instead. The same SQL on both
//! databases.

use sqlx::Row as _;

use super::{Result, Store};

/// The outbox's live queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxGauges {
    /// Waiting to be sent (due now or at a retry's time).
    pub queued: i64,
    /// Claimed by a worker, its send under way.
    pub sending: i64,
    /// When the oldest queued message was queued (ms); `None`: none is.
    pub oldest_queued_at: Option<i64>,
}

/// Pending timers whose time has come.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimerGauges {
    /// Due: pending, due at or before now (being run, waiting to be, or
    /// waiting for a retry after a failure).
    pub due: i64,
    /// Of those, due at or before the cut-off the caller gave.
    pub overdue: i64,
}

/// The read pool's connections.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolUse {
    pub idle: u64,
    pub in_use: u64,
    pub max: u64,
}

impl Store {
    /// The outbox's queued and sending messages and the oldest queued
    /// one's time: three lookups in the partial indexes of live rows.
    pub async fn outbox_gauges(&self) -> Result<OutboxGauges> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM outbox WHERE status = 'queued') AS queued,
                    (SELECT COUNT(*) FROM outbox WHERE status = 'sending') AS sending,
                    (SELECT MIN(created_at) FROM outbox WHERE status = 'queued') AS oldest",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(OutboxGauges {
            queued: row.try_get("queued")?,
            sending: row.try_get("sending")?,
            oldest_queued_at: row.try_get("oldest")?,
        })
    }

    /// Pending timers due at `now_ms`, and how many of them were due at
    /// `overdue_at_ms` already: one range of the `timers_due` index.
    pub async fn timer_gauges(&self, now_ms: i64, overdue_at_ms: i64) -> Result<TimerGauges> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS due, COUNT(CASE WHEN due_at <= $2 THEN 1 END) AS overdue
             FROM timers WHERE state = 'pending' AND due_at <= $1",
        )
        .bind(now_ms)
        .bind(overdue_at_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok(TimerGauges {
            due: row.try_get("due")?,
            overdue: row.try_get("overdue")?,
        })
    }

    /// Cases still `new` (no one acknowledged their alert) whose
    /// acknowledgement deadline has passed at `now_ms`: an `ack_kind` timer
    /// due and not yet run, or already run (the case was escalated, or its
    /// chain had no one left). Read from the escalations' events and the
    /// due timers, each through its index, then each case by its key.
    pub async fn unacknowledged_overdue(&self, now_ms: i64, ack_kind: &str) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM cases c
             WHERE c.stage = 'new' AND c.id IN (
                 SELECT e.case_id FROM case_events e WHERE e.kind IN ('escalated', 'escalation-ended')
                 UNION
                 SELECT t.case_id FROM timers t
                 WHERE t.state = 'pending' AND t.due_at <= $1 AND t.kind = $2 AND t.case_id IS NOT NULL)",
        )
        .bind(now_ms)
        .bind(ack_kind)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// The read pool's connections now (on PostgreSQL the one pool reads
    /// and writes share; SQLite's writes have a connection of their own).
    pub fn pool_use(&self) -> PoolUse {
        let size = u64::from(self.pool.size());
        let idle = self.pool.num_idle() as u64;
        PoolUse {
            idle,
            in_use: size.saturating_sub(idle),
            max: u64::from(self.pool.options().get_max_connections()),
        }
    }
}
