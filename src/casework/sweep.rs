//! The sweep: what a crash may have left unscheduled, scheduled now (the
//! alert of a case or a worse visit saved just before it, each centre's
//! next digest), over every case when a server starts, then every minute
//! over the last hour.

use std::time::Duration;

use super::{
    deadlines::WORSE,
    digest::schedule_digest,
    retention::schedule_retention,
    timers::{ms, now, ALERT, ALERT_KEY, VISIT_ALERT, VISIT_ALERT_KEY},
    CaseWork,
};

/// Schedules what a crash may have left unscheduled: the alert of a case
/// or a worse visit saved since `since_ms`, each centre's next daily
/// digest. Idempotent; run when the server starts (over every case) and
/// every minute (over the last hour).
pub(super) async fn sweep(work: &CaseWork, since_ms: i64) -> anyhow::Result<()> {
    let at = now(work);
    let n = work
        .store
        .schedule_missing_case_timers(ALERT, ALERT_KEY, at, since_ms)
        .await?
        + work
            .store
            .schedule_missing_visit_timers(VISIT_ALERT, VISIT_ALERT_KEY, WORSE, at, since_ms)
            .await?;
    if n > 0 {
        tracing::warn!(
            alerts = n,
            "alerts of cases saved before a crash scheduled now"
        );
    }
    for centre_id in work.store.centre_ids().await? {
        schedule_digest(work, centre_id, at).await?;
    }
    schedule_retention(work, at).await?;
    Ok(())
}

/// How far back the minutely sweep looks: far more than a crash between
/// saving a case and scheduling its alert takes, while every server runs it.
const SWEEP_WINDOW: Duration = Duration::from_secs(3600);

/// Runs [`sweep`] over every case now, then over the last hour every
/// minute, for the life of the server.
pub(super) async fn sweep_loop(work: CaseWork) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    let mut since = 0;
    loop {
        tick.tick().await;
        let started = now(&work);
        if let Err(e) = sweep(&work, since).await {
            tracing::warn!(error = %format!("{e:#}"), "could not sweep for unscheduled alerts");
            continue;
        }
        since = started - ms(SWEEP_WINDOW);
    }
}
