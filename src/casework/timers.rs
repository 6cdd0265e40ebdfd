//! The case work's timers: their kinds and keys, and how one is
//! scheduled. Every step of chasing a case is one of these durable timers
//! (run by [`super::scheduler`], handled by `handler.rs`): a restart loses
//! none, and a timer run twice (a lease that ran out) sends nothing twice,
//! since each SMS's outbox key is its timer's id and its recipient.

use std::time::Duration;

use super::CaseWork;
use crate::store::NewTimer;

/// A new case's alert to the staff on duty.
pub const ALERT: &str = "alert";
/// An alert not yet acknowledged: when due, the next level of the chain.
pub const ACK: &str = "ack";
/// A visit found the child worse: the staff on duty and the managers.
pub const VISIT_ALERT: &str = "visit_alert";
pub const RESPONSE: &str = "response";
pub const ASSESSMENT: &str = "assessment";
pub const PLAN: &str = "plan";
pub const REVIEW: &str = "review";
pub const CLOSURE_CHECK: &str = "closure_check";
/// A missed deadline's reminder to the case's owner.
pub const REMINDER: &str = "reminder";
/// The reporting volunteer's next follow-up visit.
pub const VISIT_REMINDER: &str = "visit_reminder";
/// A centre manager's daily digest (about no one case).
pub const DIGEST: &str = "digest";
/// The daily purge of closed cases past the retention period (no case).
pub const RETENTION: &str = "retention";

/// The deadlines a case's timeline shows met or missed.
pub const DEADLINES: &[&str] = &[RESPONSE, ASSESSMENT, PLAN, REVIEW, CLOSURE_CHECK];

/// A case's alert timer is keyed this and the case's row id: the one
/// scheduled with the case and the one the sweep would make are the same.
pub const ALERT_KEY: &str = "alert:";
/// A worse visit's alert is keyed this and the visit's source key.
pub const VISIT_ALERT_KEY: &str = "visit_alert:";

pub(super) fn ms(d: Duration) -> i64 {
    d.as_millis() as i64
}

pub(super) fn now(work: &CaseWork) -> i64 {
    work.store.clock().now_ms()
}

/// Schedules a timer with no payload, once per `key`.
pub(super) async fn schedule(
    work: &CaseWork,
    case_id: Option<i64>,
    kind: &str,
    level: Option<i64>,
    due_at: i64,
    key: String,
    quiet: bool,
) -> anyhow::Result<()> {
    work.store
        .schedule(&NewTimer {
            case_id,
            kind: kind.to_string(),
            level,
            due_at,
            source_key: key,
            payload: None,
            quiet,
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_s_overdue_predicate_knows_every_deadline() {
        assert_eq!(DEADLINES, crate::store::UNDONE_KINDS);
    }
}
