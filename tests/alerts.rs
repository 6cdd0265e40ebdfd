//! Alerts, acknowledgements, escalation, deadlines, reminders and digests,
//! with time moved by hand (a `ManualClock`), on SQLite and PostgreSQL.
//! The demo's centre CAPE-S: Claudine (caseworker, English) on duty
//! Monday to Friday 08:00-17:00 and its fallback; chain: Claudine, then
//! Jean (manager, French), then Esther (committee, English).

mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::TimeZone;
use common::{
    new_case, reference_in, sms_config, spawn_app_with, tuesday_morning, Db, TestApp, TestDb,
    ALINE, CLAUDINE, ESTHER, GRACE, JEAN, STRANGER,
};
use kanda::{
    app::Config,
    domain::{CaseRef, Channel, ManualClock, NewCase},
    store::OutboxRow,
};

fn config(db: &TestDb) -> Config {
    let mut c = sms_config(db);
    c.scheduler.poll = Duration::from_millis(10);
    c
}

async fn app(db: &TestDb, clock: &ManualClock, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let mut c = config(db);
    tweak(&mut c);
    spawn_app_with(c, Arc::new(clock.clone())).await
}

/// Waits (bounded) until the scheduler has run every timer due now.
async fn idle(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let clock = app.state.store.clock().clone();
    while app.state.store.timers_busy(clock.now_ms()).await.unwrap() {
        assert!(Instant::now() < deadline, "timers still due after 20 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn advance(app: &TestApp, clock: &ManualClock, by: chrono::Duration) {
    clock.advance(by);
    idle(app).await;
}

/// Grace reports by SMS; the case's reference, once its alert has run.
async fn report(app: &TestApp, message: &str) -> CaseRef {
    let r = reference_in(&app.sms(GRACE, message).await);
    idle(app).await;
    r
}

async fn sms_to(app: &TestApp, phone: &str) -> Vec<OutboxRow> {
    let all = app.state.store.list_outbox().await.unwrap();
    all.into_iter().filter(|m| m.to == phone).collect()
}

async fn view(app: &TestApp, r: &CaseRef) -> kanda::casework::CaseView {
    app.state.work.view(r).await.unwrap().expect("the case")
}

fn deadline<'v>(v: &'v kanda::casework::CaseView, kind: &str) -> Vec<&'v str> {
    v.deadlines
        .iter()
        .filter(|d| d.kind == kind)
        .map(|d| d.state.as_str())
        .collect()
}

fn events<'v>(v: &'v kanda::casework::CaseView, kind: &str) -> Vec<&'v kanda::store::CaseEvent> {
    v.timeline.iter().filter(|e| e.kind == kind).collect()
}

both!(
    a_new_case_alerts_the_staff_on_duty_without_naming_the_child,
    an_acknowledged_alert_does_not_escalate,
    an_unacknowledged_alert_climbs_the_whole_chain,
    deadlines_are_met_or_missed_and_missed_ones_remind_the_owner,
    the_plan_and_the_check_after_closure_can_be_missed_too,
    quiet_hours_hold_reminders_but_never_alerts,
    a_worse_visit_alerts_at_once_and_the_volunteer_is_told,
    volunteers_are_reminded_of_visits_and_managers_get_a_digest,
    due_timers_survive_a_restart_and_fire_once,
    two_instances_send_each_alert_once,
);

async fn a_new_case_alerts_the_staff_on_duty_without_naming_the_child(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let app = app(&db, &clock, |_| {}).await;
    let r = report(&app, "REPORT 7 F 2 Y Amina").await;
    let alerts = sms_to(&app, CLAUDINE).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(
        a.body,
        format!("Kanda: new case {r}, URGENT, child in danger now, Neglect, Huye. Reply ACK {r} when you have seen it.")
    );
    assert!(a.urgent && a.kind == "notice");
    for secret in ["Amina", "Cyarwa", GRACE] {
        assert!(!a.body.contains(secret), "{secret} in {}", a.body);
    }
    // Nobody off duty, nobody at the other centre.
    for phone in [JEAN, ESTHER, ALINE] {
        assert!(sms_to(&app, phone).await.is_empty(), "{phone}");
    }
    let v = view(&app, &r).await;
    assert_eq!(events(&v, "alert").len(), 1);
    assert_eq!(deadline(&v, "response"), ["pending"]);
    assert_eq!(deadline(&v, "assessment"), ["pending"]);
    // Out of hours, the fallback (Claudine again) is alerted: someone always is.
    clock.advance(chrono::Duration::hours(12));
    let r2 = report(&app, "REPORT 9 M 1 N").await;
    let late = sms_to(&app, CLAUDINE).await;
    assert!(
        late.iter().any(|m| m
            .body
            .contains(&format!("new case {r2}, not urgent, Violence or abuse"))),
        "{late:?}"
    );
    app.stop().await;
}

async fn an_acknowledged_alert_does_not_escalate(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let app = app(&db, &clock, |_| {}).await;
    let r = report(&app, "REPORT 7 F 2 Y").await;
    advance(&app, &clock, chrono::Duration::minutes(20)).await;
    let ack = app.sms(CLAUDINE, &format!("ACK {r}")).await;
    assert!(ack.contains("acknowledged"), "{ack}");
    advance(&app, &clock, chrono::Duration::hours(3)).await;
    assert!(
        sms_to(&app, JEAN).await.is_empty(),
        "no escalation after ACK"
    );
    let v = view(&app, &r).await;
    assert_eq!(deadline(&v, "response"), ["met"]);
    assert!(events(&v, "escalated").is_empty());
    assert_eq!(v.case.stage, "acknowledged");
    app.stop().await;
}

async fn an_unacknowledged_alert_climbs_the_whole_chain(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let app = app(&db, &clock, |_| {}).await;
    // Urgent: one hour a level.
    let r = report(&app, "REPORT 7 F 2 Y").await;
    advance(&app, &clock, chrono::Duration::minutes(59)).await;
    assert!(sms_to(&app, JEAN).await.is_empty(), "not before the hour");
    advance(&app, &clock, chrono::Duration::minutes(2)).await;
    let jean = sms_to(&app, JEAN).await;
    assert_eq!(jean.len(), 1, "{jean:?}");
    assert_eq!(
        jean[0].body,
        format!("Kanda : le dossier {r} (URGENT, Négligence, Huye) n'est pas pris en compte après 1h. Agissez svp. Répondez RECU {r}.")
    );
    advance(&app, &clock, chrono::Duration::hours(1)).await;
    let esther = sms_to(&app, ESTHER).await;
    assert_eq!(esther.len(), 1);
    assert!(
        esther[0].body.contains("is not acknowledged after 2h"),
        "{}",
        esther[0].body
    );
    advance(&app, &clock, chrono::Duration::hours(1)).await;
    let v = view(&app, &r).await;
    let steps: Vec<_> = events(&v, "escalated")
        .iter()
        .map(|e| e.outcome.clone().unwrap())
        .collect();
    assert_eq!(steps, ["level 2", "level 3"]);
    assert_eq!(events(&v, "escalation-ended").len(), 1);
    assert_eq!(deadline(&v, "response"), ["missed"]);
    // Nothing more is sent once the chain is exhausted.
    advance(&app, &clock, chrono::Duration::hours(5)).await;
    assert_eq!(sms_to(&app, ESTHER).await.len(), 1);
    // A case that is not urgent waits 24 hours before climbing.
    let r2 = report(&app, "REPORT 9 M 1 N").await;
    advance(&app, &clock, chrono::Duration::hours(23)).await;
    let before = sms_to(&app, JEAN).await.len();
    advance(&app, &clock, chrono::Duration::hours(2)).await;
    let jean = sms_to(&app, JEAN).await;
    assert_eq!(jean.len(), before + 1);
    assert!(jean
        .last()
        .unwrap()
        .body
        .contains(&format!("dossier {r2} (non urgent")));
    app.stop().await;
}

async fn stage(app: &TestApp, r: &CaseRef, change: kanda::domain::StageChange, by: &str) {
    let by = app.state.channels.phones.read(by).unwrap();
    app.state
        .work
        .record_stage(r, change, &by, None, "cli", kanda::domain::random_token())
        .await
        .unwrap();
    idle(app).await;
}

async fn deadlines_are_met_or_missed_and_missed_ones_remind_the_owner(db: Db) {
    use kanda::domain::StageChange::*;
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let app = app(&db, &clock, |_| {}).await;
    let r = report(&app, "REPORT 9 M 1 N").await;
    app.sms(CLAUDINE, &format!("ACK {r}")).await;
    idle(&app).await;
    // The assessment is due within 7 days: missed, Claudine (who acknowledged) is reminded.
    advance(
        &app,
        &clock,
        chrono::Duration::days(7) + chrono::Duration::minutes(1),
    )
    .await;
    let v = view(&app, &r).await;
    assert_eq!(deadline(&v, "response"), ["met"]);
    assert_eq!(deadline(&v, "assessment"), ["missed"]);
    assert_eq!(
        events(&v, "deadline-missed")[0].outcome.as_deref(),
        Some("assessment")
    );
    let reminders: Vec<_> = sms_to(&app, CLAUDINE)
        .await
        .into_iter()
        .filter(|m| m.body.starts_with("Kanda reminder"))
        .collect();
    assert_eq!(reminders.len(), 1);
    assert_eq!(
        reminders[0].body,
        format!("Kanda reminder: case {r}: the full assessment is overdue.")
    );
    // Assessed late, then planned in time: the plan is met, a review is due.
    stage(&app, &r, Assess, CLAUDINE).await;
    advance(&app, &clock, chrono::Duration::days(13)).await;
    stage(&app, &r, Plan, CLAUDINE).await;
    let v = view(&app, &r).await;
    assert_eq!(deadline(&v, "plan"), ["met"]);
    assert_eq!(deadline(&v, "review"), ["pending"]);
    // The review is missed after 90 days, then done: the next one is due.
    advance(&app, &clock, chrono::Duration::days(91)).await;
    stage(&app, &r, Review, CLAUDINE).await;
    let v = view(&app, &r).await;
    assert_eq!(deadline(&v, "review"), ["missed", "pending"]);
    advance(&app, &clock, chrono::Duration::days(80)).await;
    stage(&app, &r, Review, CLAUDINE).await;
    assert_eq!(
        deadline(&view(&app, &r).await, "review"),
        ["missed", "met", "pending"]
    );
    // Closure cancels the open review and asks for a check visit within 90 days.
    stage(&app, &r, Close, CLAUDINE).await;
    let v = view(&app, &r).await;
    assert_eq!(deadline(&v, "review"), ["missed", "met", "cancelled"]);
    assert_eq!(deadline(&v, "closure_check"), ["pending"]);
    advance(&app, &clock, chrono::Duration::days(30)).await;
    let visit = app.sms(GRACE, &format!("VISIT {r} 1 All well")).await;
    assert!(visit.starts_with("Visit saved"), "{visit}");
    idle(&app).await;
    assert_eq!(deadline(&view(&app, &r).await, "closure_check"), ["met"]);
    // Another centre cannot move it; a closed case takes no plan.
    let aline = app.state.channels.phones.read(ALINE).unwrap();
    let refused = app
        .state
        .work
        .record_stage(&r, Review, &aline, None, "cli", "k1".into())
        .await;
    assert!(matches!(
        refused,
        Err(kanda::casework::CaseError::OtherCentre { .. })
    ));
    let claudine = app.state.channels.phones.read(CLAUDINE).unwrap();
    let refused = app
        .state
        .work
        .record_stage(&r, Plan, &claudine, None, "cli", "k2".into())
        .await;
    assert!(matches!(
        refused,
        Err(kanda::casework::CaseError::NotAllowed { .. })
    ));
    let stages: Vec<_> = view(&app, &r)
        .await
        .timeline
        .iter()
        .filter(|e| e.actor.as_deref().is_some_and(|a| a.starts_with("staff:")))
        .map(|e| e.kind.clone())
        .collect();
    assert_eq!(
        stages,
        [
            "acknowledged",
            "assessed",
            "planned",
            "reviewed",
            "reviewed",
            "closed"
        ]
    );
    app.stop().await;
}

async fn the_plan_and_the_check_after_closure_can_be_missed_too(db: Db) {
    use kanda::domain::StageChange::*;
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let app = app(&db, &clock, |_| {}).await;
    let r = report(&app, "REPORT 9 M 1 N").await;
    // Assessed the first day (which acknowledges too): both met.
    stage(&app, &r, Assess, CLAUDINE).await;
    let v = view(&app, &r).await;
    assert_eq!(deadline(&v, "response"), ["met"]);
    assert_eq!(deadline(&v, "assessment"), ["met"]);
    // No plan within 14 days of the assessment: missed, and Claudine is reminded.
    advance(
        &app,
        &clock,
        chrono::Duration::days(14) + chrono::Duration::minutes(1),
    )
    .await;
    assert_eq!(deadline(&view(&app, &r).await, "plan"), ["missed"]);
    let reminded = |m: &Vec<OutboxRow>, step: &str| {
        m.iter()
            .filter(|m| m.body.ends_with(&format!("{step} is overdue.")))
            .count()
    };
    assert_eq!(reminded(&sms_to(&app, CLAUDINE).await, "the case plan"), 1);
    // Planned late, then closed; no check visit within 90 days: missed.
    stage(&app, &r, Plan, CLAUDINE).await;
    stage(&app, &r, Close, CLAUDINE).await;
    advance(
        &app,
        &clock,
        chrono::Duration::days(90) + chrono::Duration::minutes(1),
    )
    .await;
    let v = view(&app, &r).await;
    assert_eq!(deadline(&v, "closure_check"), ["missed"]);
    assert_eq!(
        reminded(
            &sms_to(&app, CLAUDINE).await,
            "the check visit after closure"
        ),
        1
    );
    let missed: Vec<_> = events(&v, "deadline-missed")
        .iter()
        .map(|e| e.outcome.clone().unwrap())
        .collect();
    assert_eq!(missed, ["plan", "closure_check"]);
    // The manager's digest lists it until the check visit is logged.
    let digests = |m: Vec<OutboxRow>| {
        m.into_iter()
            .filter(|m| m.body.contains(r.as_str()) && m.body.starts_with("Kanda, "))
            .count()
    };
    advance(&app, &clock, chrono::Duration::days(1)).await;
    let before = digests(sms_to(&app, JEAN).await);
    assert!(before >= 1, "the overdue check is in a digest");
    app.sms(GRACE, &format!("VISIT {r} 1")).await;
    idle(&app).await;
    advance(&app, &clock, chrono::Duration::days(2)).await;
    assert_eq!(
        digests(sms_to(&app, JEAN).await),
        before,
        "not after the visit"
    );
    app.stop().await;
}

async fn quiet_hours_hold_reminders_but_never_alerts(db: Db) {
    let db = TestDb::new(db).await;
    // 20:50 in Kigali; quiet from 21:00 to 07:00.
    let clock = ManualClock::at(
        chrono::Utc
            .with_ymd_and_hms(2026, 12, 1, 18, 50, 0)
            .unwrap(),
    );
    let app = app(&db, &clock, |c| {
        c.quiet_hours = Some("21:00-07:00".parse().unwrap());
        c.deadlines.assessment = Duration::from_secs(3600);
    })
    .await;
    advance(&app, &clock, chrono::Duration::minutes(20)).await; // 21:10, quiet
    let r = report(&app, "REPORT 7 F 2 Y").await;
    assert_eq!(
        sms_to(&app, CLAUDINE).await.len(),
        1,
        "the alert goes at once, quiet or not"
    );
    app.sms(CLAUDINE, &format!("ACK {r}")).await;
    // The assessment (an hour here) is missed at 22:10: its reminder waits for 07:00.
    advance(&app, &clock, chrono::Duration::minutes(61)).await;
    assert_eq!(deadline(&view(&app, &r).await, "assessment"), ["missed"]);
    let reminders = |m: &Vec<OutboxRow>| {
        m.iter()
            .filter(|m| m.body.starts_with("Kanda reminder"))
            .count()
    };
    assert_eq!(
        reminders(&sms_to(&app, CLAUDINE).await),
        0,
        "held in quiet hours"
    );
    advance(&app, &clock, chrono::Duration::hours(8)).await; // 06:11
    assert_eq!(reminders(&sms_to(&app, CLAUDINE).await), 0);
    advance(&app, &clock, chrono::Duration::minutes(50)).await; // 07:01
    assert_eq!(
        reminders(&sms_to(&app, CLAUDINE).await),
        1,
        "sent when quiet hours end"
    );
    // Escalations, like alerts, go in quiet hours too.
    advance(&app, &clock, chrono::Duration::hours(14)).await; // 21:01
    let r2 = report(&app, "REPORT 3 F 5 Y").await;
    advance(&app, &clock, chrono::Duration::minutes(61)).await;
    assert!(
        sms_to(&app, JEAN)
            .await
            .iter()
            .any(|m| m.body.contains(r2.as_str())),
        "escalated at night"
    );
    app.stop().await;
}

async fn a_worse_visit_alerts_at_once_and_the_volunteer_is_told(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let app = app(&db, &clock, |_| {}).await;
    let r = report(&app, "REPORT 9 M 1 N").await;
    app.sms(CLAUDINE, &format!("ACK {r}")).await;
    let told = app
        .sms(GRACE, &format!("VISIT {r} 3 Father drinks, child hungry"))
        .await;
    assert_eq!(
        told,
        format!("Visit saved on case {r}. The centre is alerted now. Thank you.")
    );
    idle(&app).await;
    let alert = sms_to(&app, CLAUDINE).await;
    let visit: Vec<_> = alert
        .iter()
        .filter(|m| m.body.starts_with("Kanda URGENT"))
        .collect();
    assert_eq!(visit.len(), 1, "{alert:?}");
    assert!(visit[0].urgent);
    assert!(
        !visit[0].body.contains("Father"),
        "the note stays in the case"
    );
    assert_eq!(sms_to(&app, JEAN).await.len(), 1, "the manager too");
    // By USSD as well.
    let s = app.session("u1", GRACE, &["2", r.as_str(), "3", "1"]).await;
    assert!(s.contains("The centre is alerted now."), "{s}");
    idle(&app).await;
    assert_eq!(sms_to(&app, JEAN).await.len(), 2);
    // A visit that finds the child safe alerts no one.
    let ok = app.sms(GRACE, &format!("VISIT {r} 1")).await;
    assert_eq!(ok, format!("Visit saved on case {r}. Thank you."));
    idle(&app).await;
    assert_eq!(sms_to(&app, JEAN).await.len(), 2);
    // The public is never sent what it did not ask for.
    assert!(sms_to(&app, STRANGER).await.is_empty());
    app.stop().await;
}

async fn volunteers_are_reminded_of_visits_and_managers_get_a_digest(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let app = app(&db, &clock, |_| {}).await;
    let r = report(&app, "REPORT 9 M 1 N").await;
    // Not acknowledged in 48 hours: overdue; the managers' 08:00 digest lists it.
    advance(&app, &clock, chrono::Duration::hours(49)).await; // Thursday 11:00
    assert_eq!(deadline(&view(&app, &r).await, "response"), ["missed"]);
    advance(
        &app,
        &clock,
        chrono::Duration::hours(21) + chrono::Duration::minutes(1),
    )
    .await; // Friday 08:01
    let digests: Vec<_> = sms_to(&app, JEAN)
        .await
        .into_iter()
        .filter(|m| m.body.starts_with("Kanda, "))
        .collect();
    assert!(!digests.is_empty(), "a digest by Friday 08:01");
    assert_eq!(
        digests.last().unwrap().body,
        format!("Kanda, Centre Amajyepfo : 1 dossiers en retard : {r}.")
    );
    // Acknowledged and assessed: nothing overdue, no digest the next day.
    app.sms(CLAUDINE, &format!("ACK {r}")).await;
    stage(&app, &r, kanda::domain::StageChange::Assess, CLAUDINE).await;
    let n = sms_to(&app, JEAN).await.len();
    advance(&app, &clock, chrono::Duration::days(1)).await;
    assert_eq!(
        sms_to(&app, JEAN).await.len(),
        n,
        "no digest without overdue cases"
    );
    // Grace follows her report: a visit is due 30 days after it.
    advance(&app, &clock, chrono::Duration::days(27)).await;
    let due: Vec<_> = sms_to(&app, GRACE)
        .await
        .into_iter()
        .filter(|m| m.body.contains("follow-up visit is due"))
        .collect();
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(
        due[0].body,
        format!("Kanda: a follow-up visit is due for case {r}. After it, send VISIT {r} and the outcome (1-4).")
    );
    app.stop().await;
}

async fn due_timers_survive_a_restart_and_fire_once(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let first = app(&db, &clock, |_| {}).await;
    let r = reference_in(&first.sms(GRACE, "REPORT 7 F 2 Y").await);
    idle(&first).await;
    let store = first.state.store.clone();
    first.stop().await;
    store.close().await;
    // While no server runs, the hour passes: the escalation is due.
    clock.advance(chrono::Duration::hours(2));
    let second = app(&db, &clock, |_| {}).await;
    idle(&second).await;
    let jean = sms_to(&second, JEAN).await;
    assert_eq!(jean.len(), 1, "escalated once after the restart: {jean:?}");
    assert!(jean[0].body.contains(r.as_str()));
    // A case saved whose alert timer was never written (a crash between the
    // two) is alerted by the sweep.
    let third_case = second
        .state
        .store
        .create_case(&NewCase {
            channel: Channel::Sms,
            child_age: Some(4),
            ..new_case(
                "crash-test",
                second
                    .state
                    .store
                    .place_by_code("S-HUY-TUM-01", 4)
                    .await
                    .unwrap()
                    .unwrap()
                    .id,
            )
        })
        .await
        .unwrap();
    // The minutely sweep looks at recent cases only (this one is older than
    // its window here); the sweep a starting server runs looks at them all.
    let later = second.state.store.clock().now_ms() + 1;
    second.state.work.sweep(later).await.unwrap();
    idle(&second).await;
    let none = sms_to(&second, CLAUDINE).await;
    assert!(
        !none.iter().any(|m| m.body.contains(third_case.as_str())),
        "{none:?}"
    );
    second.state.work.sweep(0).await.unwrap();
    idle(&second).await;
    let claudine = sms_to(&second, CLAUDINE).await;
    assert_eq!(
        claudine
            .iter()
            .filter(|m| m.body.contains(third_case.as_str()))
            .count(),
        1
    );
    second.stop().await;
}

async fn two_instances_send_each_alert_once(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let one = app(&db, &clock, |_| {}).await;
    let two = spawn_app_with(config(&db), Arc::new(clock.clone())).await;
    let mut refs = vec![];
    for (i, phone) in [GRACE, "+250788000002", "+250788000003"].iter().enumerate() {
        let server = if i % 2 == 0 { &one } else { &two };
        refs.push(reference_in(
            &server.sms(phone, &format!("REPORT {} F 2 Y", i + 3)).await,
        ));
    }
    idle(&one).await;
    idle(&two).await;
    advance(&one, &clock, chrono::Duration::minutes(61)).await;
    idle(&two).await;
    let all = one.state.store.list_outbox().await.unwrap();
    for r in &refs {
        let about: Vec<_> = all
            .iter()
            .filter(|m| m.body.contains(r.as_str()) && m.kind == "notice")
            .collect();
        let mut sent: Vec<_> = about
            .iter()
            .map(|m| (m.to.as_str(), m.body.as_str()))
            .collect();
        sent.sort();
        let mut unique = sent.clone();
        unique.dedup();
        assert_eq!(sent, unique, "case {r}: a message sent twice: {about:?}");
        let recipients: std::collections::BTreeSet<_> =
            about.iter().map(|m| m.to.as_str()).collect();
        assert!(
            recipients.len() >= 2,
            "alert and escalation for {r}: {about:?}"
        );
    }
    one.stop().await;
    two.stop().await;
}
