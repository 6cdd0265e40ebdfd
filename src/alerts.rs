//! Chasing a case until someone acts: alerts to the centre's on-duty staff,
//! escalation up the centre's chain when no one acknowledges in time, the
//! case-management deadlines (first response, assessment, plan, review,
//! the check visit after closure), reminders and daily digests.
//!
//! Every step is a durable timer (`src/scheduler.rs`): a restart loses
//! none, and a timer run twice (a lease that ran out) sends nothing twice,
//! since each SMS's outbox key is its timer's id and its recipient. No SMS
//! carries a child-identifying detail: the case number, urgency, concern
//! category and district only.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::{
    cases::{Changed, StageChange},
    clock::from_ms,
    outbox::{NewSms, SmsKind},
    scheduler::TimerHandler,
    store::{CaseRow, Contact, NewEvent, NewTimer, Settlement, TimerRow},
    texts::args,
    AppState,
};

/// Timer kinds.
pub const ALERT: &str = "alert";
pub const ACK: &str = "ack";
pub const VISIT_ALERT: &str = "visit_alert";
pub const RESPONSE: &str = "response";
pub const ASSESSMENT: &str = "assessment";
pub const PLAN: &str = "plan";
pub const REVIEW: &str = "review";
pub const CLOSURE_CHECK: &str = "closure_check";
pub const REMINDER: &str = "reminder";
pub const VISIT_REMINDER: &str = "visit_reminder";
pub const DIGEST: &str = "digest";

/// References a digest lists before it says how many more.
const DIGEST_REFERENCES: usize = 12;

/// The deadlines a case's timeline shows met or missed.
pub const DEADLINES: &[&str] = &[RESPONSE, ASSESSMENT, PLAN, REVIEW, CLOSURE_CHECK];

/// Runs the case timers.
#[derive(Clone, Debug)]
pub struct CaseTimers(pub AppState);

impl TimerHandler for CaseTimers {
    async fn fire(&self, timer: TimerRow) -> anyhow::Result<()> {
        fire(&self.0, timer).await
    }
}

fn ms(d: Duration) -> i64 {
    d.as_millis() as i64
}

fn now(state: &AppState) -> i64 {
    state.store.clock().now_ms()
}

async fn schedule(
    state: &AppState,
    case_id: Option<i64>,
    kind: &str,
    level: Option<i64>,
    due_at: i64,
    key: String,
    quiet: bool,
) -> anyhow::Result<()> {
    state
        .store
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

/// A new case: its alert goes out at once (through a timer, so a crash
/// right after the case was saved still alerts; [`sweep`] catches a case
/// whose timer was never written). One statement: the case is found by
/// its reference in it.
pub async fn case_registered(
    state: &AppState,
    reference: &crate::domain::CaseRef,
) -> anyhow::Result<()> {
    state
        .store
        .schedule_case_alert(reference, now(state))
        .await?;
    Ok(())
}

/// A visit was logged: "worse or new danger" alerts at once; a visit after
/// closure is the check visit; the volunteer's next visit is due later.
pub async fn visit_logged(
    state: &AppState,
    reference: &crate::domain::CaseRef,
    outcome: &str,
    source_key: &str,
) -> anyhow::Result<()> {
    let Some(case) = state.store.case_row(reference).await? else {
        return Ok(());
    };
    let at = now(state);
    if outcome == "worse" {
        let key = format!("visit_alert:{source_key}");
        schedule(state, Some(case.id), VISIT_ALERT, None, at, key, false).await?;
    }
    if case.stage == "closed" {
        state
            .store
            .settle_timers(case.id, &[CLOSURE_CHECK], Settlement::Met)
            .await?;
    } else if case.volunteer_id.is_some() {
        state
            .store
            .settle_timers(case.id, &[VISIT_REMINDER], Settlement::Met)
            .await?;
        let due = at + ms(state.config.deadlines.visit);
        let key = format!("visit_reminder:{}:{source_key}", case.id);
        schedule(state, Some(case.id), VISIT_REMINDER, None, due, key, true).await?;
    }
    Ok(())
}

/// A stage change stops the timers it satisfies and starts the next ones.
pub async fn stage_changed(
    state: &AppState,
    changed: &Changed,
    event_key: &str,
) -> anyhow::Result<()> {
    let d = &state.config.deadlines;
    let id = changed.case.id;
    let at = now(state);
    let met = |kinds: &'static [&'static str]| async move {
        state.store.settle_timers(id, kinds, Settlement::Met).await
    };
    match changed.change {
        StageChange::Acknowledge => {
            met(&[ACK, RESPONSE]).await?;
        }
        StageChange::Assess => {
            met(&[ACK, RESPONSE, ASSESSMENT]).await?;
            let key = format!("plan:{id}");
            schedule(state, Some(id), PLAN, None, at + ms(d.plan), key, false).await?;
        }
        StageChange::Plan => {
            met(&[ACK, RESPONSE, ASSESSMENT, PLAN]).await?;
            let key = format!("review:{id}:{event_key}");
            schedule(state, Some(id), REVIEW, None, at + ms(d.review), key, false).await?;
        }
        StageChange::Review => {
            met(&[REVIEW]).await?;
            let key = format!("review:{id}:{event_key}");
            schedule(state, Some(id), REVIEW, None, at + ms(d.review), key, false).await?;
        }
        StageChange::Close => {
            met(&[ACK, RESPONSE]).await?;
            state
                .store
                .settle_timers(id, &[], Settlement::Cancelled)
                .await?;
            let key = format!("closure_check:{id}");
            let due = at + ms(d.closure_check);
            schedule(state, Some(id), CLOSURE_CHECK, None, due, key, false).await?;
        }
    }
    Ok(())
}

/// Schedules what a crash may have left unscheduled: the alert of a case
/// or a worse visit saved since `since_ms`, each centre's next daily
/// digest. Idempotent; run when the server starts (over every case) and
/// every minute (over the last hour).
pub async fn sweep(state: &AppState, since_ms: i64) -> anyhow::Result<()> {
    let at = now(state);
    let n = state.store.schedule_missing_alerts(at, since_ms).await?;
    if n > 0 {
        tracing::warn!(
            alerts = n,
            "alerts of cases saved before a crash scheduled now"
        );
    }
    for centre_id in state.store.centre_ids().await? {
        schedule_digest(state, centre_id, at).await?;
    }
    Ok(())
}

/// Schedules a centre's next digest after `after_ms`, once per local day.
async fn schedule_digest(state: &AppState, centre_id: i64, after_ms: i64) -> anyhow::Result<()> {
    let (due, day) = next_digest(state, from_ms(after_ms));
    // The centre rides in `level`: a digest is about no one case.
    let key = format!("digest:{centre_id}:{day}");
    schedule(
        state,
        None,
        DIGEST,
        Some(centre_id),
        due.timestamp_millis(),
        key,
        true,
    )
    .await
}

/// The next digest time after `at` (local `KANDA_DIGEST_AT`) and its local date.
fn next_digest(state: &AppState, at: DateTime<Utc>) -> (DateTime<Utc>, String) {
    use chrono::TimeZone;
    let tz = state.config.timezone;
    let minute = state.config.deadlines.digest_minute as u32;
    let local = at.with_timezone(&tz);
    let mut day = local.date_naive();
    loop {
        let time = chrono::NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).unwrap_or_default();
        let candidate = tz
            .from_local_datetime(&day.and_time(time))
            .earliest()
            .map(|t| t.with_timezone(&Utc));
        if let Some(c) = candidate.filter(|c| *c > at) {
            return (c, day.to_string());
        }
        day = day.succ_opt().unwrap_or(day);
    }
}

/// When a reminder may go: now, or when quiet hours end.
fn quiet_until(state: &AppState, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let q = state.config.quiet_hours?;
    let tz = state.config.timezone;
    q.quiet_at(tz, at).then(|| q.next_end_after(tz, at))
}

async fn fire(state: &AppState, timer: TimerRow) -> anyhow::Result<()> {
    let at = from_ms(now(state));
    // Reminders and digests wait out quiet hours; alerts never do.
    if timer.quiet {
        if let Some(until) = quiet_until(state, at) {
            let key = format!("held:{}:{}", timer.id, until.timestamp_millis());
            let due = until.timestamp_millis();
            state
                .store
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
        return digest(state, &timer).await;
    }
    let Some(case_id) = timer.case_id else {
        tracing::warn!(kind = %timer.kind, id = timer.id, "a case timer without a case: skipped");
        return Ok(());
    };
    let Some(case) = state.store.case_row_by_id(case_id).await? else {
        return Ok(());
    };
    match timer.kind.as_str() {
        ALERT => alert(state, &timer, &case).await,
        ACK => escalate(state, &timer, &case).await,
        VISIT_ALERT => visit_alert(state, &timer, &case).await,
        RESPONSE | ASSESSMENT | PLAN | REVIEW | CLOSURE_CHECK => missed(state, &timer, &case).await,
        REMINDER => remind(state, &timer, &case).await,
        VISIT_REMINDER => visit_reminder(state, &timer, &case).await,
        other => {
            tracing::warn!(kind = other, id = timer.id, "unknown timer kind: skipped");
            Ok(())
        }
    }
}

/// Sends one SMS per contact, keyed by the timer and the contact.
async fn notify(
    state: &AppState,
    timer: &TimerRow,
    contacts: &[Contact],
    urgent: bool,
    text: impl Fn(&crate::domain::Locale) -> String,
) -> anyhow::Result<usize> {
    let mut sent = 0;
    for c in contacts {
        let msg = NewSms {
            to: c.phone.clone(),
            body: text(&c.locale),
            urgent,
            kind: SmsKind::Notice,
            source_key: format!("timer:{}:staff:{}", timer.id, c.staff_id),
        };
        match state.outbox.enqueue(&state.store, msg).await {
            Ok(_) => sent += 1,
            Err(crate::outbox::OutboxError::Store(e)) => return Err(e.into()),
            Err(e) => tracing::warn!(error = %e, "alert not queued"),
        }
    }
    Ok(sent)
}

async fn event(
    state: &AppState,
    case: &CaseRow,
    timer: &TimerRow,
    kind: &'static str,
    outcome: Option<String>,
    note: Option<String>,
) -> anyhow::Result<()> {
    state
        .store
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
fn case_args(
    state: &AppState,
    case: &CaseRow,
    locale: &crate::domain::Locale,
) -> Vec<(&'static str, String)> {
    let texts = state.engine.texts();
    let concern = state
        .engine
        .flows()
        .option_label("concern", &case.concern)
        .map(|id| texts.plain(locale, id))
        .unwrap_or_else(|| case.concern.clone());
    vec![
        ("reference", case.reference.to_string()),
        ("urgent", if case.urgent { "yes" } else { "no" }.to_string()),
        ("concern", concern),
        ("district", case.district.clone().unwrap_or_default()),
    ]
}

fn render(
    state: &AppState,
    id: &str,
    locale: &crate::domain::Locale,
    mut a: Vec<(&'static str, String)>,
    extra: &[(&'static str, String)],
) -> String {
    a.extend(extra.iter().cloned());
    state.engine.texts().format(locale, id, Some(&args(a)))
}

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

fn ack_timeout(state: &AppState, case: &CaseRow) -> Duration {
    match case.urgent {
        true => state.config.deadlines.ack_urgent,
        false => state.config.deadlines.ack,
    }
}

async fn alert(state: &AppState, timer: &TimerRow, case: &CaseRow) -> anyhow::Result<()> {
    let d = &state.config.deadlines;
    let at = from_ms(now(state));
    let contacts = state
        .store
        .on_duty_at(case.centre_id, state.config.timezone, at)
        .await?;
    let sent = notify(state, timer, &contacts, case.urgent, |l| {
        render(state, "sms-alert-new", l, case_args(state, case, l), &[])
    })
    .await?;
    let note = format!("to {sent} on duty");
    event(
        state,
        case,
        timer,
        "alert",
        Some("level 1".into()),
        Some(note),
    )
    .await?;
    let id = case.id;
    let timeout = ack_timeout(state, case);
    if case.stage == "new" {
        let due = at.timestamp_millis() + ms(timeout);
        schedule(
            state,
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
            state,
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
        schedule(state, Some(id), ASSESSMENT, None, due, key, false).await?;
    }
    if case.volunteer_id.is_some() {
        let due = created + ms(d.visit);
        schedule(
            state,
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
async fn escalate(state: &AppState, timer: &TimerRow, case: &CaseRow) -> anyhow::Result<()> {
    if case.stage != "new" {
        return Ok(());
    }
    let level = timer.level.unwrap_or(1) + 1;
    let contacts = state.store.escalation_level(case.centre_id, level).await?;
    if contacts.is_empty() {
        let note = format!("no level {level} in the centre's chain");
        return event(state, case, timer, "escalation-ended", None, Some(note)).await;
    }
    let timeout = ack_timeout(state, case);
    let after = short_duration(timeout * (level as u32 - 1));
    let sent = notify(state, timer, &contacts, case.urgent, |l| {
        render(
            state,
            "sms-alert-escalated",
            l,
            case_args(state, case, l),
            &[("after", after.clone())],
        )
    })
    .await?;
    let note = format!("to {sent} at level {level}");
    event(
        state,
        case,
        timer,
        "escalated",
        Some(format!("level {level}")),
        Some(note),
    )
    .await?;
    let due = now(state) + ms(timeout);
    let id = case.id;
    schedule(
        state,
        Some(id),
        ACK,
        Some(level),
        due,
        format!("ack:{id}:{level}"),
        false,
    )
    .await
}

async fn visit_alert(state: &AppState, timer: &TimerRow, case: &CaseRow) -> anyhow::Result<()> {
    let at = from_ms(now(state));
    let mut contacts = state
        .store
        .on_duty_at(case.centre_id, state.config.timezone, at)
        .await?;
    for m in state.store.centre_managers(case.centre_id).await? {
        if !contacts.iter().any(|c| c.staff_id == m.staff_id) {
            contacts.push(m);
        }
    }
    let sent = notify(state, timer, &contacts, true, |l| {
        render(state, "sms-alert-visit", l, case_args(state, case, l), &[])
    })
    .await?;
    let note = format!("visit found the child worse or in new danger; to {sent}");
    event(
        state,
        case,
        timer,
        "alert",
        Some("visit".into()),
        Some(note),
    )
    .await
}

/// Who a reminder about a case goes to: whoever acknowledged it, else the
/// staff on duty.
async fn owners(state: &AppState, case: &CaseRow) -> anyhow::Result<Vec<Contact>> {
    if let Some(c) = state.store.case_owner(case.id).await? {
        return Ok(vec![c]);
    }
    let at = from_ms(now(state));
    Ok(state
        .store
        .on_duty_at(case.centre_id, state.config.timezone, at)
        .await?)
}

/// A deadline passed unmet: on the timeline, and a reminder to the owner.
async fn missed(state: &AppState, timer: &TimerRow, case: &CaseRow) -> anyhow::Result<()> {
    event(
        state,
        case,
        timer,
        "deadline-missed",
        Some(timer.kind.clone()),
        None,
    )
    .await?;
    let key = format!("reminder:{}", timer.id);
    let at = now(state);
    state
        .store
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

async fn remind(state: &AppState, timer: &TimerRow, case: &CaseRow) -> anyhow::Result<()> {
    let step = timer.payload.clone().unwrap_or_default();
    if state.store.deadline_still_overdue(case.id, &step).await? {
        let contacts = owners(state, case).await?;
        notify(state, timer, &contacts, false, |l| {
            let step_text = state.engine.texts().plain(l, &format!("sms-step-{step}"));
            render(
                state,
                "sms-reminder-overdue",
                l,
                case_args(state, case, l),
                &[("step", step_text)],
            )
        })
        .await?;
    }
    Ok(())
}

async fn visit_reminder(state: &AppState, timer: &TimerRow, case: &CaseRow) -> anyhow::Result<()> {
    if case.stage == "closed" {
        return Ok(());
    }
    let Some(volunteer) = state.store.case_volunteer(case.id).await? else {
        return Ok(());
    };
    let texts = state.engine.texts();
    let a = args([("reference", case.reference.to_string())]);
    let msg = NewSms {
        to: volunteer.phone.clone(),
        body: texts.format(&volunteer.locale, "sms-visit-reminder", Some(&a)),
        urgent: false,
        kind: SmsKind::Notice,
        source_key: format!("timer:{}:volunteer", timer.id),
    };
    state.outbox.enqueue(&state.store, msg).await?;
    // The next one, unless a visit is logged first (which reschedules it).
    let due = now(state) + ms(state.config.deadlines.visit);
    let key = format!("visit_reminder:{}:after:{}", case.id, timer.id);
    schedule(state, Some(case.id), VISIT_REMINDER, None, due, key, true).await
}

/// Each centre manager's daily digest: counts and references only.
async fn digest(state: &AppState, timer: &TimerRow) -> anyhow::Result<()> {
    let Some(centre_id) = timer.level else {
        return Ok(());
    };
    let overdue = state.store.overdue_cases(centre_id).await?;
    if !overdue.is_empty() {
        let managers = state.store.centre_managers(centre_id).await?;
        let centre = state
            .store
            .centre_name(centre_id)
            .await?
            .unwrap_or_default();
        // A digest stays short: the first references, then how many more.
        let mut refs = overdue
            .iter()
            .take(DIGEST_REFERENCES)
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        if overdue.len() > DIGEST_REFERENCES {
            refs.push_str(&format!(" +{}", overdue.len() - DIGEST_REFERENCES));
        }
        notify(state, timer, &managers, false, |l| {
            let a = vec![
                ("centre", centre.clone()),
                ("count", overdue.len().to_string()),
                ("references", refs.clone()),
            ];
            render(state, "sms-digest", l, a, &[])
        })
        .await?;
    }
    schedule_digest(state, centre_id, timer.due_at.max(now(state))).await
}

/// Records a stage change (see [`crate::cases::change_stage`]) and moves
/// the case's timers with it.
pub async fn record_stage(
    state: &AppState,
    reference: &crate::domain::CaseRef,
    change: StageChange,
    by: &crate::domain::Phone,
    note: Option<String>,
    channel: &str,
    source_key: String,
) -> Result<Changed, crate::cases::CaseError> {
    let changed = crate::cases::change_stage(
        &state.store,
        reference,
        change,
        by,
        note,
        channel,
        source_key.clone(),
    )
    .await?;
    if let Err(e) = stage_changed(state, &changed, &source_key).await {
        // The stage moved: an escalation or a reminder checks the stage
        // before it sends, so a timer left pending sends nothing wrong.
        tracing::error!(reference = %reference, error = %format!("{e:#}"), "timers not moved with the stage");
    }
    Ok(changed)
}

/// The engine's data and effects, with the case logic's hooks: a new case
/// is alerted, a visit moves the case's timers.
impl crate::engine::Backend for AppState {
    async fn places(
        &self,
        parent: Option<i64>,
    ) -> crate::engine::BackendResult<Vec<crate::engine::Place>> {
        crate::engine::Backend::places(&self.store, parent).await
    }
    async fn place_by_code(
        &self,
        code: &str,
        level: usize,
    ) -> crate::engine::BackendResult<Option<crate::engine::Place>> {
        crate::engine::Backend::place_by_code(&self.store, code, level).await
    }
    async fn recent_reports(
        &self,
        volunteer_id: i64,
        limit: u32,
    ) -> crate::engine::BackendResult<Vec<(crate::domain::CaseRef, String)>> {
        Ok(self.store.recent_reports(volunteer_id, limit).await?)
    }
    async fn case_exists(
        &self,
        reference: &crate::domain::CaseRef,
    ) -> crate::engine::BackendResult<bool> {
        Ok(self.store.case_exists(reference).await?)
    }
    async fn create_case(
        &self,
        case: crate::engine::NewCase,
    ) -> crate::engine::BackendResult<crate::domain::CaseRef> {
        let reference = self.store.create_case(&case).await?;
        if let Err(e) = case_registered(self, &reference).await {
            // The sweep schedules it within a minute.
            tracing::error!(error = %format!("{e:#}"), "alert not scheduled at once");
        }
        Ok(reference)
    }
    async fn log_visit(&self, visit: crate::engine::NewVisit) -> crate::engine::BackendResult<()> {
        self.store.log_visit(&visit).await?;
        if let Err(e) =
            visit_logged(self, &visit.reference, &visit.outcome, &visit.source_key).await
        {
            tracing::error!(error = %format!("{e:#}"), "visit's timers not moved");
        }
        Ok(())
    }
    async fn save_locale(
        &self,
        volunteer_id: i64,
        locale: &crate::domain::Locale,
    ) -> crate::engine::BackendResult<()> {
        Ok(self
            .store
            .set_volunteer_locale(volunteer_id, locale)
            .await?)
    }
}

/// How far back the minutely sweep looks: far more than a crash between
/// saving a case and scheduling its alert takes, while every server runs it.
const SWEEP_WINDOW: Duration = Duration::from_secs(3600);

/// Runs [`sweep`] over every case now, then over the last hour every
/// minute, for the life of the server.
pub async fn sweep_loop(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    let mut since = 0;
    loop {
        tick.tick().await;
        let started = now(&state);
        if let Err(e) = sweep(&state, since).await {
            tracing::warn!(error = %format!("{e:#}"), "could not sweep for unscheduled alerts");
            continue;
        }
        since = started - ms(SWEEP_WINDOW);
    }
}
