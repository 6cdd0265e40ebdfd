//! The case-management clock: how long each step may take, and what moves
//! it. A new case's alert is scheduled with the case; a stage change meets
//! the deadlines it satisfies and starts the next; a visit moves the
//! volunteer's reminders (and meets the check after closure); a missed
//! deadline is on the timeline and reminds the case's owner.

use std::time::Duration;

use super::{
    notify::{case_args, event, notify, owners, render},
    timers::{
        ms, now, schedule, ACK, ALERT, ALERT_KEY, ASSESSMENT, CLOSURE_CHECK, PLAN, REMINDER,
        RESPONSE, REVIEW, VISIT_ALERT, VISIT_ALERT_KEY, VISIT_REMINDER,
    },
    CaseWork,
};
use crate::{
    domain::{CaseRef, NewSms, SmsKind, StageChange},
    store::{CaseRow, NewTimer, Settlement, TimerRow},
    text::args,
};

/// The visit outcome that alerts at once: the child is worse or in new
/// danger (the visit flow's value).
pub const WORSE: &str = "worse";

/// How long each step of a case may take (defaults from child-protection
/// case-management guidance; each a `KANDA_*` variable).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deadlines {
    /// An alert not acknowledged after this goes to the next level (`KANDA_ACK_TIMEOUT`).
    pub ack: Duration,
    /// The same for a child in immediate danger (`KANDA_ACK_TIMEOUT_URGENT`); also
    /// the first-response deadline of such a case.
    pub ack_urgent: Duration,
    /// First response (acknowledged and screened) at the most (`KANDA_RESPONSE_DEADLINE`).
    pub response: Duration,
    /// Full assessment, from registration (`KANDA_ASSESSMENT_DEADLINE`).
    pub assessment: Duration,
    /// Case plan, from the assessment (`KANDA_PLAN_DEADLINE`).
    pub plan: Duration,
    /// Review of the plan, at least this often while open (`KANDA_REVIEW_INTERVAL`).
    pub review: Duration,
    /// A check visit after closure (`KANDA_CLOSURE_CHECK`).
    pub closure_check: Duration,
    /// A follow-up visit by the reporting volunteer, this often while open (`KANDA_VISIT_INTERVAL`).
    pub visit: Duration,
    /// When managers' daily digests go, local time, minutes after midnight (`KANDA_DIGEST_AT`).
    pub digest_minute: u16,
}

impl Default for Deadlines {
    fn default() -> Self {
        let h = |n: u64| Duration::from_secs(n * 3600);
        Deadlines {
            ack: h(24),
            ack_urgent: h(1),
            response: h(48),
            assessment: h(7 * 24),
            plan: h(14 * 24),
            review: h(90 * 24),
            closure_check: h(90 * 24),
            visit: h(30 * 24),
            digest_minute: 8 * 60,
        }
    }
}

impl Deadlines {
    /// The demo's clocks (`kanda serve --demo --fast`): minutes, not days,
    /// so the whole loop shows in one sitting.
    pub fn fast() -> Self {
        let m = |n: u64| Duration::from_secs(n * 60);
        Deadlines {
            ack: m(2),
            ack_urgent: m(1),
            response: m(4),
            assessment: m(10),
            plan: m(10),
            review: m(15),
            closure_check: m(15),
            visit: m(10),
            digest_minute: 8 * 60,
        }
    }
}

/// A new case: its alert goes out at once (through a timer, so a crash
/// right after the case was saved still alerts; [`super::sweep`] catches a case
/// whose timer was never written). One statement: the case is found by
/// its reference in it.
pub(super) async fn case_registered(work: &CaseWork, reference: &CaseRef) -> anyhow::Result<()> {
    work.store
        .schedule_case_timer(reference, ALERT, ALERT_KEY, now(work))
        .await?;
    Ok(())
}

/// A visit was logged: "worse or new danger" alerts at once; a visit after
/// closure is the check visit; the volunteer's next visit is due later.
pub(super) async fn visit_logged(
    work: &CaseWork,
    reference: &CaseRef,
    outcome: &str,
    source_key: &str,
) -> anyhow::Result<()> {
    let Some(case) = work.store.case_row(reference).await? else {
        return Ok(());
    };
    let at = now(work);
    if outcome == WORSE {
        let key = format!("{VISIT_ALERT_KEY}{source_key}");
        schedule(work, Some(case.id), VISIT_ALERT, None, at, key, false).await?;
    }
    if case.stage == "closed" {
        work.store
            .settle_timers(case.id, &[CLOSURE_CHECK], Settlement::Met)
            .await?;
    } else if let Some(follower) = work.store.case_volunteer(case.id).await? {
        work.store
            .settle_timers(case.id, &[VISIT_REMINDER], Settlement::Met)
            .await?;
        let due = at + ms(visit_interval(work, &follower));
        let key = format!("visit_reminder:{}:{source_key}", case.id);
        schedule(work, Some(case.id), VISIT_REMINDER, None, due, key, true).await?;
    }
    Ok(())
}

/// How often the case's follower visits: the interval staff set, else
/// `KANDA_VISIT_INTERVAL`.
fn visit_interval(work: &CaseWork, follower: &crate::store::Follower) -> Duration {
    match follower.interval_days {
        Some(days) if days > 0 => Duration::from_secs(days as u64 * 86_400),
        _ => work.settings.deadlines.visit,
    }
}

/// Staff set who follows the case and how often: the next reminder moves
/// to one interval from now (`key`: the change's own key).
pub(super) async fn follow_up_set(work: &CaseWork, case_id: i64, key: &str) -> anyhow::Result<()> {
    let Some(follower) = work.store.case_volunteer(case_id).await? else {
        return Ok(());
    };
    work.store
        .settle_timers(case_id, &[VISIT_REMINDER], Settlement::Cancelled)
        .await?;
    let due = now(work) + ms(visit_interval(work, &follower));
    let key = format!("visit_reminder:{case_id}:{key}");
    schedule(work, Some(case_id), VISIT_REMINDER, None, due, key, true).await
}

/// A stage change stops the timers it satisfies and starts the next ones.
pub(super) async fn stage_changed(
    work: &CaseWork,
    id: i64,
    change: StageChange,
    event_key: &str,
) -> anyhow::Result<()> {
    let d = &work.settings.deadlines;
    let at = now(work);
    let met = |kinds: &'static [&'static str]| async move {
        work.store.settle_timers(id, kinds, Settlement::Met).await
    };
    match change {
        StageChange::Acknowledge => {
            met(&[ACK, RESPONSE]).await?;
        }
        StageChange::Assess => {
            met(&[ACK, RESPONSE, ASSESSMENT]).await?;
            let key = format!("plan:{id}");
            schedule(work, Some(id), PLAN, None, at + ms(d.plan), key, false).await?;
        }
        StageChange::Plan => {
            met(&[ACK, RESPONSE, ASSESSMENT, PLAN]).await?;
            let key = format!("review:{id}:{event_key}");
            schedule(work, Some(id), REVIEW, None, at + ms(d.review), key, false).await?;
        }
        StageChange::Review => {
            met(&[REVIEW]).await?;
            let key = format!("review:{id}:{event_key}");
            schedule(work, Some(id), REVIEW, None, at + ms(d.review), key, false).await?;
        }
        StageChange::Close => {
            met(&[ACK, RESPONSE]).await?;
            work.store
                .settle_timers(id, &[], Settlement::Cancelled)
                .await?;
            let key = format!("closure_check:{id}");
            let due = at + ms(d.closure_check);
            schedule(work, Some(id), CLOSURE_CHECK, None, due, key, false).await?;
        }
        StageChange::Reopen => {
            // Reopened: the check after closure is moot, and the case
            // needs a new assessment in the usual time.
            work.store
                .settle_timers(id, &[CLOSURE_CHECK], Settlement::Cancelled)
                .await?;
            let key = format!("assessment:{id}:{event_key}");
            let due = at + ms(d.assessment);
            schedule(work, Some(id), ASSESSMENT, None, due, key, false).await?;
        }
    }
    Ok(())
}

/// A deadline passed unmet: on the timeline, and a reminder to the owner.
pub(super) async fn missed(
    work: &CaseWork,
    timer: &TimerRow,
    case: &CaseRow,
) -> anyhow::Result<()> {
    event(
        work,
        case,
        timer,
        "deadline-missed",
        Some(timer.kind.clone()),
        None,
    )
    .await?;
    work.store.refresh_overdue(case.id).await?;
    let key = format!("reminder:{}", timer.id);
    let at = now(work);
    work.store
        .schedule(&NewTimer {
            case_id: Some(case.id),
            kind: REMINDER.into(),
            level: None,
            due_at: at,
            source_key: key,
            payload: Some(timer.kind.clone()),
            quiet: true,
        })
        .await?;
    Ok(())
}

pub(super) async fn remind(
    work: &CaseWork,
    timer: &TimerRow,
    case: &CaseRow,
) -> anyhow::Result<()> {
    let step = timer.payload.clone().unwrap_or_default();
    if work.store.deadline_still_overdue(case.id, &step).await? {
        let contacts = owners(work, case).await?;
        notify(work, timer, &contacts, false, |l| {
            let step_text = work.words.texts.plain(l, &format!("sms-step-{step}"));
            render(
                work,
                "sms-reminder-overdue",
                l,
                case_args(work, case, l),
                &[("step", step_text)],
            )
        })
        .await?;
    }
    Ok(())
}

pub(super) async fn visit_reminder(
    work: &CaseWork,
    timer: &TimerRow,
    case: &CaseRow,
) -> anyhow::Result<()> {
    if case.stage == "closed" {
        return Ok(());
    }
    let Some(volunteer) = work.store.case_volunteer(case.id).await? else {
        return Ok(());
    };
    let texts = &work.words.texts;
    let a = args([("reference", case.reference.to_string())]);
    let msg = NewSms {
        to: volunteer.phone.clone(),
        body: texts.format(&volunteer.locale, "sms-visit-reminder", Some(&a)),
        urgent: false,
        kind: SmsKind::Notice,
        source_key: format!("timer:{}:volunteer", timer.id),
        case_id: None,
    };
    work.outbox.enqueue(&work.store, msg).await?;
    // The next one, unless a visit is logged first (which reschedules it).
    let due = now(work) + ms(visit_interval(work, &volunteer));
    let key = format!("visit_reminder:{}:after:{}", case.id, timer.id);
    schedule(work, Some(case.id), VISIT_REMINDER, None, due, key, true).await
}
