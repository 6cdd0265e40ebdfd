//! Retention (`KANDA_RETENTION`): once a day, on a durable timer, every
//! case closed for longer than the period loses what identifies the child
//! (the name, the notes); the case, its counts and its indicators stay.
//! Each purge is in the audit log. Unset: everything is kept.

use std::time::Duration;

use super::{
    digest::next_digest,
    timers::{ms, now, schedule, RETENTION},
    CaseWork,
};
use crate::{
    domain::from_ms,
    store::{NewAudit, TimerRow},
};

/// Cases read per pass of the purge.
const BATCH: i64 = 200;

/// The audit log's name for the purge.
pub const RETENTION_ACTOR: &str = "system:retention";

/// Schedules the next purge after `after_ms` (daily, with the digests),
/// when a period is set. Idempotent: one timer per local day.
pub(super) async fn schedule_retention(work: &CaseWork, after_ms: i64) -> anyhow::Result<()> {
    if work.settings.retention.is_none() {
        return Ok(());
    }
    let (due, day) = next_digest(work, from_ms(after_ms));
    schedule(
        work,
        None,
        RETENTION,
        None,
        due.timestamp_millis(),
        format!("retention:{day}"),
        false,
    )
    .await
}

/// The purge's timer fired: purge, then schedule the next.
pub(super) async fn fire(work: &CaseWork, timer: &TimerRow) -> anyhow::Result<()> {
    if let Some(period) = work.settings.retention {
        let n = purge(work, period).await?;
        if n > 0 {
            tracing::info!(
                cases = n,
                "retention: identifying fields of closed cases purged"
            );
        }
    }
    schedule_retention(work, timer.due_at.max(now(work))).await
}

/// Purges every case closed for longer than `period`; how many.
pub async fn purge(work: &CaseWork, period: Duration) -> anyhow::Result<usize> {
    let cutoff = now(work) - ms(period);
    let detail = format!(
        "closed for more than {}",
        humantime::format_duration(period)
    );
    let mut purged = 0;
    loop {
        let ids = work.store.closed_before(cutoff, BATCH).await?;
        if ids.is_empty() {
            return Ok(purged);
        }
        let mut progressed = false;
        for id in ids {
            if work.store.purge_identifying(id).await? {
                work.store
                    .audit(NewAudit {
                        actor: RETENTION_ACTOR.into(),
                        action: "retention_purge",
                        case_id: Some(id),
                        address: None,
                        detail: Some(detail.clone()),
                    })
                    .await?;
                purged += 1;
                progressed = true;
            }
        }
        if !progressed {
            // Every case read was reopened or purged meanwhile.
            return Ok(purged);
        }
    }
}
