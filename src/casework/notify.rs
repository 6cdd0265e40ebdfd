//! Telling people about a case: one SMS per contact through the outbox
//! (keyed by the timer and the contact, so a timer run twice sends once),
//! in each one's language, with the case's words and nothing that names
//! the child; the case's timeline entry; who owns a case's reminders.

use super::{timers::now, CaseWork};
use crate::{
    casework::outbox::OutboxError,
    domain::{from_ms, Locale, NewSms, SmsKind},
    store::{CaseRow, Contact, NewEvent, TimerRow},
    text::args,
};

/// Sends one SMS per contact, keyed by the timer and the contact.
pub(super) async fn notify(
    work: &CaseWork,
    timer: &TimerRow,
    contacts: &[Contact],
    urgent: bool,
    text: impl Fn(&Locale) -> String,
) -> anyhow::Result<usize> {
    let mut sent = 0;
    for c in contacts {
        let msg = NewSms {
            to: c.phone.clone(),
            body: text(&c.locale),
            urgent,
            kind: SmsKind::Notice,
            source_key: format!("timer:{}:staff:{}", timer.id, c.staff_id),
            case_id: timer.case_id,
        };
        match work.outbox.enqueue(&work.store, msg).await {
            Ok(_) => sent += 1,
            Err(OutboxError::Store(e)) => return Err(e.into()),
            Err(e) => tracing::warn!(error = %e, "alert not queued"),
        }
    }
    Ok(sent)
}

pub(super) async fn event(
    work: &CaseWork,
    case: &CaseRow,
    timer: &TimerRow,
    kind: &'static str,
    outcome: Option<String>,
    note: Option<String>,
) -> anyhow::Result<()> {
    work.store
        .record_event(&NewEvent {
            case_id: case.id,
            kind,
            actor: Some("kanda".into()),
            channel: Some("sms".into()),
            outcome,
            note,
            source_key: format!("timer:{}", timer.id),
        })
        .await?;
    Ok(())
}

/// The words of an alert about `case` in `locale`.
pub(super) fn case_args(
    work: &CaseWork,
    case: &CaseRow,
    locale: &Locale,
) -> Vec<(&'static str, String)> {
    let concern = work.words.concern(locale, &case.concern);
    vec![
        ("reference", case.reference.to_string()),
        ("urgent", if case.urgent { "yes" } else { "no" }.to_string()),
        ("concern", concern),
        ("district", case.district.clone().unwrap_or_default()),
    ]
}

pub(super) fn render(
    work: &CaseWork,
    id: &str,
    locale: &Locale,
    mut a: Vec<(&'static str, String)>,
    extra: &[(&'static str, String)],
) -> String {
    a.extend(extra.iter().cloned());
    work.words.texts.format(locale, id, Some(&args(a)))
}

/// Who a reminder about a case goes to: whoever acknowledged it, else the
/// staff on duty.
pub(super) async fn owners(work: &CaseWork, case: &CaseRow) -> anyhow::Result<Vec<Contact>> {
    if let Some(c) = work.store.case_owner(case.id).await? {
        return Ok(vec![c]);
    }
    let at = from_ms(now(work));
    Ok(work.on_duty(case.centre_id, at).await?)
}
