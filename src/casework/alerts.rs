//! Alerts: a new case to the centre's staff on duty, escalation up the
//! centre's chain while no one acknowledges, and a visit that found the
//! child worse to the staff on duty and the managers. No SMS carries a
//! child-identifying detail: the case number, urgency, concern category
//! and district only.

use std::time::Duration;

use super::{
    notify::{case_args, event, notify, render},
    timers::{ms, now, schedule, ACK, ASSESSMENT, RESPONSE, VISIT_REMINDER},
    CaseWork,
};
use crate::{
    domain::from_ms,
    store::{CaseRow, TimerRow},
};

/// How long, as an alert says it: `90s`, `15m`, `24h`, `7d`.
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s % 86_400 == 0 && s >= 2 * 86_400 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

pub(super) fn ack_timeout(work: &CaseWork, case: &CaseRow) -> Duration {
    match case.urgent {
        true => work.settings.deadlines.ack_urgent,
        false => work.settings.deadlines.ack,
    }
}

pub(super) async fn alert(work: &CaseWork, timer: &TimerRow, case: &CaseRow) -> anyhow::Result<()> {
    let d = &work.settings.deadlines;
    let at = from_ms(now(work));
    let contacts = work.on_duty(case.centre_id, at).await?;
    let sent = notify(work, timer, &contacts, case.urgent, |l| {
        render(work, "sms-alert-new", l, case_args(work, case, l), &[])
    })
    .await?;
    let note = format!("to {sent} on duty");
    event(
        work,
        case,
        timer,
        "alert",
        Some("level 1".into()),
        Some(note),
    )
    .await?;
    let id = case.id;
    let timeout = ack_timeout(work, case);
    if case.stage == "new" {
        let due = at.timestamp_millis() + ms(timeout);
        schedule(
            work,
            Some(id),
            ACK,
            Some(1),
            due,
            format!("ack:{id}:1"),
            false,
        )
        .await?;
    }
    let response = if case.urgent {
        d.ack_urgent
    } else {
        d.response
    };
    let created = case.created_at;
    // A case already moved on (acknowledged before its alert ran) has met
    // those deadlines: they are not started.
    if case.stage == "new" {
        let due = created + ms(response);
        schedule(
            work,
            Some(id),
            RESPONSE,
            None,
            due,
            format!("response:{id}"),
            false,
        )
        .await?;
    }
    if matches!(case.stage.as_str(), "new" | "acknowledged") {
        let due = created + ms(d.assessment);
        let key = format!("assessment:{id}");
        schedule(work, Some(id), ASSESSMENT, None, due, key, false).await?;
    }
    if case.volunteer_id.is_some() {
        let due = created + ms(d.visit);
        schedule(
            work,
            Some(id),
            VISIT_REMINDER,
            None,
            due,
            format!("visit_reminder:{id}:first"),
            true,
        )
        .await?;
    }
    Ok(())
}

/// Not acknowledged in time: the next level of the chain.
pub(super) async fn escalate(
    work: &CaseWork,
    timer: &TimerRow,
    case: &CaseRow,
) -> anyhow::Result<()> {
    if case.stage != "new" {
        return Ok(());
    }
    let level = timer.level.unwrap_or(1) + 1;
    let contacts = work.store.escalation_level(case.centre_id, level).await?;
    if contacts.is_empty() {
        let note = format!("no level {level} in the centre's chain");
        return event(work, case, timer, "escalation-ended", None, Some(note)).await;
    }
    let timeout = ack_timeout(work, case);
    let after = short_duration(timeout * (level as u32 - 1));
    let sent = notify(work, timer, &contacts, case.urgent, |l| {
        render(
            work,
            "sms-alert-escalated",
            l,
            case_args(work, case, l),
            &[("after", after.clone())],
        )
    })
    .await?;
    let note = format!("to {sent} at level {level}");
    event(
        work,
        case,
        timer,
        "escalated",
        Some(format!("level {level}")),
        Some(note),
    )
    .await?;
    let due = now(work) + ms(timeout);
    let id = case.id;
    schedule(
        work,
        Some(id),
        ACK,
        Some(level),
        due,
        format!("ack:{id}:{level}"),
        false,
    )
    .await
}

pub(super) async fn visit_alert(
    work: &CaseWork,
    timer: &TimerRow,
    case: &CaseRow,
) -> anyhow::Result<()> {
    let at = from_ms(now(work));
    let mut contacts = work.on_duty(case.centre_id, at).await?;
    for m in work.store.centre_managers(case.centre_id).await? {
        if !contacts.iter().any(|c| c.staff_id == m.staff_id) {
            contacts.push(m);
        }
    }
    let sent = notify(work, timer, &contacts, true, |l| {
        render(work, "sms-alert-visit", l, case_args(work, case, l), &[])
    })
    .await?;
    let note = format!("visit found the child worse or in new danger; to {sent}");
    event(work, case, timer, "alert", Some("visit".into()), Some(note)).await
}
