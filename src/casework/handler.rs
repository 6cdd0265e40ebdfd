//! What each case timer does when it fires: the scheduler's handler,
//! dispatching by kind. Reminders and digests first wait out quiet hours.

use super::{
    alerts, deadlines, digest, retention,
    scheduler::TimerHandler,
    timers::{
        now, ACK, ALERT, ASSESSMENT, CLOSURE_CHECK, DIGEST, PLAN, REMINDER, RESPONSE, RETENTION,
        REVIEW, VISIT_ALERT, VISIT_REMINDER,
    },
    CaseWork,
};
use crate::{
    domain::from_ms,
    store::{NewTimer, TimerRow},
};

/// Runs the case timers (the scheduler's handler).
#[derive(Clone, Debug)]
pub struct CaseTimers(pub CaseWork);

impl TimerHandler for CaseTimers {
    async fn fire(&self, timer: TimerRow) -> anyhow::Result<()> {
        fire(&self.0, timer).await
    }
}

async fn fire(work: &CaseWork, timer: TimerRow) -> anyhow::Result<()> {
    let at = from_ms(now(work));
    // Reminders and digests wait out quiet hours; alerts never do.
    if timer.quiet {
        if let Some(until) = work.quiet_until(at) {
            let key = format!("held:{}:{}", timer.id, until.timestamp_millis());
            let due = until.timestamp_millis();
            work.store
                .schedule(&NewTimer {
                    case_id: timer.case_id,
                    kind: timer.kind.clone(),
                    level: timer.level,
                    due_at: due,
                    source_key: key,
                    payload: timer.payload.clone(),
                    quiet: true,
                })
                .await?;
            return Ok(());
        }
    }
    if timer.kind == DIGEST {
        return digest::digest(work, &timer).await;
    }
    if timer.kind == RETENTION {
        return retention::fire(work, &timer).await;
    }
    let Some(case_id) = timer.case_id else {
        tracing::warn!(kind = %timer.kind, id = timer.id, "a case timer without a case: skipped");
        return Ok(());
    };
    let Some(case) = work.store.case_row_by_id(case_id).await? else {
        return Ok(());
    };
    match timer.kind.as_str() {
        ALERT => alerts::alert(work, &timer, &case).await,
        ACK => alerts::escalate(work, &timer, &case).await,
        VISIT_ALERT => alerts::visit_alert(work, &timer, &case).await,
        RESPONSE | ASSESSMENT | PLAN | REVIEW | CLOSURE_CHECK => {
            deadlines::missed(work, &timer, &case).await
        }
        REMINDER => deadlines::remind(work, &timer, &case).await,
        VISIT_REMINDER => deadlines::visit_reminder(work, &timer, &case).await,
        other => {
            tracing::warn!(kind = other, id = timer.id, "unknown timer kind: skipped");
            Ok(())
        }
    }
}
