//! Indicators on SQLite and PostgreSQL: every definition computed by hand
//! on a small timeline and compared; small-count suppression, primary and
//! complementary, for every role and in every format (page, CSV, JSON).

mod common;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use common::{
    api, spawn_state, token, Browser, Db, TestDb, ADMIN, ALINE, AUDITOR, CLAUDINE, ESTHER, GRACE,
    JEAN, PATRICK,
};
use kanda::{
    casework::{
        indicators::{by_key, Indicators, Value},
        staff_actor, Work,
    },
    domain::Clock as _,
    domain::{
        Actor, Area, CaseRef, Channel, ManualClock, NewSms, NewVisit, Period, Phone, Role, SmsKind,
        StageChange,
    },
    AppState,
};

use crate::common::{config, demo_state, new_case};

both!(
    definitions_by_hand,
    small_counts_are_suppressed_for_all_but_the_centre_s_staff,
    a_transferred_case_counts_at_its_new_centre
);

/// 10:00 in Kigali (08:00 UTC) on a day of 2026.
fn kigali(month: u32, day: u32, hour: u32, minute: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, day, hour, minute, 0)
        .single()
        .unwrap()
        - chrono::Duration::hours(2)
}

/// Moves the clock forward to `t`.
fn at(clock: &ManualClock, t: chrono::DateTime<Utc>) {
    let by = t - clock.now();
    assert!(by >= chrono::Duration::zero(), "time runs forward only");
    clock.advance(by);
}

async fn actor(state: &AppState, phone: &str) -> Actor {
    let staff = state
        .store
        .staff_by_phone(&Phone::from_trusted(phone.into()))
        .await
        .unwrap()
        .expect("a demo staff member");
    staff_actor(&staff)
}

async fn case(
    state: &AppState,
    key: &str,
    village: &str,
    change: impl FnOnce(&mut kanda::domain::NewCase),
) -> CaseRef {
    let place = state
        .store
        .place_by_code(village, 4)
        .await
        .unwrap()
        .expect("a demo village");
    let mut c = new_case(key, place.id);
    change(&mut c);
    state.work.register_case(&c).await.unwrap()
}

async fn work(state: &AppState, by: &Actor, reference: &CaseRef, w: Work, key: &str) {
    state
        .work
        .perform(by, reference, w, "web", None, key.to_string())
        .await
        .unwrap_or_else(|e| panic!("{key}: {e}"));
}

fn stage(change: StageChange, reason: Option<&str>) -> Work {
    Work::Stage {
        change,
        reason: reason.map(str::to_string),
        note: None,
    }
}

async fn read(state: &AppState, who: &Actor, area: &str, from: &str, to: &str) -> Indicators {
    let period = Period::new(
        kanda::domain::parse_date(from).unwrap(),
        kanda::domain::parse_date(to).unwrap(),
    )
    .unwrap();
    state
        .work
        .indicators(who, &Area::parse(area).unwrap(), &period, "test", None)
        .await
        .unwrap()
}

fn counts(ind: &Indicators, table: &str) -> std::collections::BTreeMap<String, Vec<Value>> {
    by_key(
        ind.table(table)
            .unwrap_or_else(|| panic!("no table {table}")),
    )
}

fn c(n: i64) -> Value {
    Value::Count(n)
}

/// A small timeline, every indicator worked out by hand beside it. The
/// period is 2 to 15 November 2026 (two weeks: 2-8 and 9-15), read on 20
/// November; all cases in the south (CAPE-S) but E, in the east.
async fn definitions_by_hand(db: Db) {
    let db = TestDb::new(db).await;
    let clock = ManualClock::at(kigali(7, 1, 9, 0));
    let state = demo_state(config(&db), Arc::new(clock.clone())).await;
    let jean = actor(&state, JEAN).await;
    let aline = actor(&state, ALINE).await;
    let south = "S-HUY-TUM-01";

    // G: planned in July; its 90-day review is overdue by November.
    at(&clock, kigali(7, 1, 10, 0));
    let g = case(&state, "g", south, |_| {}).await;
    work(
        &state,
        &jean,
        &g,
        stage(StageChange::Assess, None),
        "g-assess",
    )
    .await;
    at(&clock, kigali(7, 10, 10, 0));
    work(&state, &jean, &g, stage(StageChange::Plan, None), "g-plan").await;

    // F: registered before the period, assessed and planned in it.
    at(&clock, kigali(10, 30, 10, 0));
    let f = case(&state, "f", south, |_| {}).await;
    at(&clock, kigali(10, 30, 11, 0));
    work(
        &state,
        &jean,
        &f,
        stage(StageChange::Acknowledge, None),
        "f-ack",
    )
    .await;

    // Week 1.
    at(&clock, kigali(11, 2, 10, 0));
    let a = case(&state, "a", south, |c| c.danger = true).await;
    // Three alert messages about A: one delivered, one failed, one sent.
    for i in 0..3 {
        state
            .work
            .send_sms(NewSms {
                to: Phone::from_trusted(CLAUDINE.into()),
                body: format!("alert {i}"),
                urgent: true,
                kind: SmsKind::Notice,
                source_key: format!("test-alert-{i}"),
                case_id: Some(state.store.case_id(&a).await.unwrap().unwrap()),
            })
            .await
            .unwrap();
    }
    at(&clock, kigali(11, 2, 10, 30));
    work(
        &state,
        &jean,
        &a,
        stage(StageChange::Acknowledge, None),
        "a-ack",
    )
    .await;
    at(&clock, kigali(11, 3, 10, 0));
    let b = case(&state, "b", south, |c| c.concern = "violence".into()).await;
    at(&clock, kigali(11, 4, 10, 0));
    work(
        &state,
        &jean,
        &f,
        stage(StageChange::Assess, None),
        "f-assess",
    )
    .await;
    at(&clock, kigali(11, 4, 16, 0));
    work(
        &state,
        &jean,
        &b,
        stage(StageChange::Acknowledge, None),
        "b-ack",
    )
    .await; // 30 h
    at(&clock, kigali(11, 5, 10, 0));
    work(
        &state,
        &jean,
        &a,
        stage(StageChange::Assess, None),
        "a-assess",
    )
    .await; // 3 days
    at(&clock, kigali(11, 6, 10, 0));
    log_visit(&state, &a, "a-visit").await;
    work(
        &state,
        &jean,
        &a,
        Work::Refer {
            service: "health".into(),
            note: None,
        },
        "a-refer",
    )
    .await;

    // Week 2.
    at(&clock, kigali(11, 10, 10, 0));
    let cc = case(&state, "c", south, |c| {
        c.channel = Channel::Sms;
        c.self_report = true;
        c.concern = "violence".into();
    })
    .await;
    work(&state, &jean, &f, stage(StageChange::Plan, None), "f-plan").await; // 6 days after its assessment
    at(&clock, kigali(11, 11, 10, 0));
    let d = case(&state, "d", south, |_| {}).await;
    work(
        &state,
        &jean,
        &b,
        stage(StageChange::Assess, None),
        "b-assess",
    )
    .await; // 8 days
    at(&clock, kigali(11, 11, 11, 0));
    escalation(&state, &cc, 2, "c-esc-2").await;
    escalation(&state, &d, 2, "d-esc-2").await;
    at(&clock, kigali(11, 11, 12, 0));
    escalation(&state, &d, 3, "d-esc-3").await;
    at(&clock, kigali(11, 12, 10, 0));
    let e = case(&state, "e", "E-RWA-KIG-01", |_| {}).await;
    log_visit(&state, &b, "b-visit").await;
    work(
        &state,
        &jean,
        &b,
        Work::Refer {
            service: "education".into(),
            note: None,
        },
        "b-refer",
    )
    .await;
    at(&clock, kigali(11, 12, 22, 0));
    work(
        &state,
        &jean,
        &cc,
        stage(StageChange::Acknowledge, None),
        "c-ack",
    )
    .await; // 60 h
    at(&clock, kigali(11, 13, 10, 0));
    work(
        &state,
        &jean,
        &f,
        stage(StageChange::Close, Some("plan_completed")),
        "f-close",
    )
    .await;
    at(&clock, kigali(11, 14, 10, 0));
    work(
        &state,
        &jean,
        &d,
        stage(StageChange::Close, Some("duplicate")),
        "d-close",
    )
    .await; // first response: 72 h
    work(
        &state,
        &jean,
        &f,
        stage(StageChange::Reopen, Some("new danger")),
        "f-reopen",
    )
    .await;
    at(&clock, kigali(11, 15, 10, 0));
    work(&state, &jean, &a, stage(StageChange::Plan, None), "a-plan").await; // 10 days after its assessment
    work(
        &state,
        &aline,
        &e,
        stage(StageChange::Acknowledge, None),
        "e-ack",
    )
    .await;
    // After the period: counted nowhere.
    at(&clock, kigali(11, 16, 10, 0));
    let _late = case(&state, "late", south, |_| {}).await;
    work(
        &state,
        &jean,
        &b,
        Work::Refer {
            service: "health".into(),
            note: None,
        },
        "b-refer-late",
    )
    .await;

    // The referral's outcome and the messages' fates, then read on 20 November.
    at(&clock, kigali(11, 20, 10, 0));
    let referral = referral_of(&state, &a).await;
    work(
        &state,
        &jean,
        &a,
        Work::Outcome {
            referral,
            outcome: "accepted".into(),
            note: None,
        },
        "a-outcome",
    )
    .await;
    set_statuses(
        &db,
        &[
            ("test-alert-0", "delivered"),
            ("test-alert-1", "failed"),
            ("test-alert-2", "sent"),
        ],
    )
    .await;

    // The server (and its scheduler) starts now: G's missed review is
    // found, A to F's timers fire (on 20 November: outside the period).
    let app = spawn_state(state.clone()).await;
    let claudine = actor(&state, CLAUDINE).await;
    common::eventually("G's review found overdue", || async {
        let ind = read(
            &state,
            &claudine,
            "centre:CAPE-S",
            "2026-11-02",
            "2026-11-15",
        )
        .await;
        counts(&ind, "review_overdue")["review_overdue"] == [c(1)]
    })
    .await;
    let ind = read(
        &state,
        &claudine,
        "centre:CAPE-S",
        "2026-11-02",
        "2026-11-15",
    )
    .await;
    assert!(ind.exact, "Claudine is staff of CAPE-S");

    // Registered in the period in CAPE-S: A, B (week 1), C, D (week 2).
    let weeks = counts(&ind, "new_by_week");
    assert_eq!(weeks["2026-11-02"], [c(2)]);
    assert_eq!(weeks["2026-11-09"], [c(2)]);
    assert_eq!(weeks["total"], [c(4)]);
    let concerns = counts(&ind, "new_by_concern");
    assert_eq!(concerns["neglect"], [c(2)]);
    assert_eq!(concerns["violence"], [c(2)]);
    assert_eq!(concerns["separated"], [c(0)]);
    let districts = counts(&ind, "new_by_district");
    assert_eq!(districts["S-HUY"], [c(4)]);
    assert!(
        !districts.contains_key("E-RWA"),
        "the east's districts are not CAPE-S's"
    );
    let channels = counts(&ind, "new_by_channel");
    assert_eq!(channels["ussd"], [c(3)]);
    assert_eq!(channels["sms"], [c(0)]);
    assert_eq!(channels["self_report"], [c(1)]);

    // Timeliness: within, late, counted, share.
    let t = counts(&ind, "timeliness");
    // Urgent: A only, answered in 30 min.
    assert_eq!(
        t["ack_1h_urgent"],
        [c(1), c(0), c(1), Value::Percent(100.0)]
    );
    // 24 h: A in time; B (30 h), C (60 h), D (72 h) late.
    assert_eq!(t["ack_24h"], [c(1), c(3), c(4), Value::Percent(25.0)]);
    // 48 h: A, B in time.
    assert_eq!(t["ack_48h"], [c(2), c(2), c(4), Value::Percent(50.0)]);
    // Assessed within 7 days: A (3 days); B (8) late; C, D never, their week over.
    assert_eq!(t["assessed_7d"], [c(1), c(3), c(4), Value::Percent(25.0)]);
    // Assessed in the period: F (4 Nov), A (5 Nov), B (11 Nov). F planned after
    // 6 days and A after 10; B's fortnight is not over on the 20th: not counted.
    assert_eq!(t["planned_14d"], [c(2), c(0), c(2), Value::Percent(100.0)]);

    // First response: A 0.5 h, B 30 h, C 60 h, D 72 h. Median: rank 2 of 4
    // (30 h); 90th percentile: rank 4 (72 h).
    let r = counts(&ind, "response_time");
    assert_eq!(
        r["answered"],
        [c(4), Value::Hours(30.0), Value::Hours(72.0)]
    );

    // Escalated in the period: C to level 2, D to level 3 (highest).
    let esc = counts(&ind, "escalated_by_level");
    assert_eq!(esc["2"], [c(1)]);
    assert_eq!(esc["3"], [c(1)]);
    assert_eq!(esc["total"], [c(2)]);

    // Visits: A's and B's; the south's active volunteers: Grace and Emmanuel.
    let v = counts(&ind, "visits");
    assert_eq!(v["visits"], [c(2), c(2), Value::Ratio(1.0)]);

    // Closures: F (plan completed), D (duplicate); F reopened.
    let closed = counts(&ind, "closed_by_reason");
    assert_eq!(closed["plan_completed"], [c(1)]);
    assert_eq!(closed["duplicate"], [c(1)]);
    assert_eq!(closed["total"], [c(2)]);
    assert_eq!(counts(&ind, "reopened")["reopened"], [c(1)]);

    // Referrals made in the period: A to health (accepted since), B to
    // education (pending); B's second, on the 16th, is outside.
    let refs = counts(&ind, "referrals");
    assert_eq!(refs["health"], [c(0), c(1), c(0), c(0), c(0), c(1)]);
    assert_eq!(refs["education"], [c(1), c(0), c(0), c(0), c(0), c(1)]);
    assert_eq!(refs["total"], [c(1), c(1), c(0), c(0), c(0), c(2)]);

    // SMS about A queued on 2 November: one sent, one delivered, one
    // failed (the alerts' own SMS, queued on the 20th, are outside).
    let sms = counts(&ind, "sms_alerts");
    assert_eq!(sms["sms_alerts"], [c(0), c(1), c(1), c(1), c(3)]);

    // The nation: E too (registered 12 Nov, week 2, answered in 3 days).
    let admin = actor(&state, ADMIN).await;
    let national = read(&state, &admin, "national", "2026-11-02", "2026-11-15").await;
    assert!(!national.exact);
    assert_eq!(
        counts(&national, "new_by_week")["2026-11-09"],
        [Value::Under10]
    );
    let aline_view = read(&state, &aline, "centre:CAPE-E", "2026-11-02", "2026-11-15").await;
    assert_eq!(counts(&aline_view, "new_by_week")["total"], [c(1)]);
    let east = read(&state, &aline, "province:E", "2026-11-02", "2026-11-15").await;
    assert!(!east.exact, "a province is not the reader's centre");
    assert_eq!(counts(&east, "new_by_week")["total"], [Value::Under10]);

    // Each read is in the audit log.
    let audit = state
        .store
        .audit_entries(&kanda::store::AuditFilter::default())
        .await
        .unwrap();
    assert!(audit
        .iter()
        .any(|r| r.action == "indicators_read" && r.actor == CLAUDINE));
    app.stop().await;
}

/// A centre counts the visits, referrals and alert SMS of the cases it
/// holds now: a case's rows follow it when a transfer is accepted (the
/// centre each row keeps of its case, migration 0011), and rows written
/// after follow the new centre.
async fn a_transferred_case_counts_at_its_new_centre(db: Db) {
    let db = TestDb::new(db).await;
    let clock = ManualClock::at(kigali(11, 3, 9, 0));
    let state = demo_state(config(&db), Arc::new(clock.clone())).await;
    let jean = actor(&state, JEAN).await;
    let patrick = actor(&state, PATRICK).await;
    at(&clock, kigali(11, 3, 10, 0));
    let r = case(&state, "t", "S-HUY-TUM-01", |_| {}).await;
    log_visit(&state, &r, "t-visit").await;
    let refer = Work::Refer {
        service: "health".into(),
        note: None,
    };
    work(&state, &jean, &r, refer, "t-refer").await;
    state
        .send_sms(NewSms {
            to: Phone::from_trusted(CLAUDINE.into()),
            body: "alert".into(),
            urgent: true,
            kind: SmsKind::Notice,
            source_key: "t-alert".into(),
            case_id: Some(state.store.case_id(&r).await.unwrap().unwrap()),
        })
        .await
        .unwrap();
    let rows = async |who: &Actor, centre: &str| {
        let ind = read(&state, who, centre, "2026-11-02", "2026-11-08").await;
        (
            counts(&ind, "visits")["visits"][0].clone(),
            counts(&ind, "referrals")["total"].last().cloned().unwrap(),
            counts(&ind, "sms_alerts")["sms_alerts"]
                .last()
                .cloned()
                .unwrap(),
        )
    };
    assert_eq!(rows(&jean, "centre:CAPE-S").await, (c(1), c(1), c(1)));
    assert_eq!(rows(&patrick, "centre:CAPE-E").await, (c(0), c(0), c(0)));

    at(&clock, kigali(11, 4, 10, 0));
    let transfer = Work::Transfer {
        to_centre: "CAPE-E".into(),
        reason: "the family moved east".into(),
    };
    work(&state, &jean, &r, transfer, "t-transfer").await;
    let accept = Work::Decide {
        accept: true,
        note: None,
    };
    work(&state, &patrick, &r, accept, "t-accept").await;
    log_visit(&state, &r, "t-visit-2").await;
    assert_eq!(rows(&jean, "centre:CAPE-S").await, (c(0), c(0), c(0)));
    assert_eq!(rows(&patrick, "centre:CAPE-E").await, (c(2), c(1), c(1)));
}

async fn log_visit(state: &AppState, reference: &CaseRef, key: &str) {
    state
        .work
        .log_visit(&NewVisit {
            source_key: key.into(),
            reference: reference.clone(),
            outcome: "same".into(),
            note: None,
            volunteer_id: None,
            phone: Phone::from_trusted(GRACE.into()),
            channel: Channel::Ussd,
        })
        .await
        .unwrap();
}

async fn escalation(state: &AppState, reference: &CaseRef, level: i64, key: &str) {
    let id = state.store.case_id(reference).await.unwrap().unwrap();
    state
        .store
        .record_event(&kanda::store::NewEvent {
            case_id: id,
            kind: "escalated",
            actor: Some("kanda".into()),
            channel: Some("sms".into()),
            outcome: Some(format!("level {level}")),
            note: None,
            source_key: key.into(),
        })
        .await
        .unwrap();
}

async fn referral_of(state: &AppState, reference: &CaseRef) -> i64 {
    let id = state.store.case_id(reference).await.unwrap().unwrap();
    state.store.referrals(id).await.unwrap()[0].id
}

/// Sets outbox messages' status as a provider's reports would.
async fn set_statuses(db: &TestDb, statuses: &[(&str, &str)]) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    for (key, status) in statuses {
        sqlx::query("UPDATE outbox SET status = $1 WHERE source_key = $2")
            .bind(*status)
            .bind(*key)
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
}

/// Crafted counts for CAPE-S in November 2026: by concern neglect 12,
/// violence 3, separated 25 (40 in all); one case in CAPE-E. Staff of
/// CAPE-S see them exact; everyone else sees the 3 as `<10`, and the 12
/// (the next smallest of the column) hidden as `*`, so that 40 - 25 does
/// not give the 3 away; in pages, CSV and JSON alike.
async fn small_counts_are_suppressed_for_all_but_the_centre_s_staff(db: Db) {
    let db = TestDb::new(db).await;
    let clock = ManualClock::at(kigali(11, 2, 10, 0));
    let state = demo_state(config(&db), Arc::new(clock.clone())).await;
    let mut n = 0;
    for (concern, count) in [("neglect", 12), ("violence", 3), ("separated", 25)] {
        for _ in 0..count {
            n += 1;
            case(&state, &format!("s{n}"), "S-HUY-TUM-01", |c| {
                c.concern = concern.into()
            })
            .await;
        }
    }
    case(&state, "east", "E-RWA-KIG-01", |_| {}).await;
    at(&clock, kigali(11, 20, 10, 0));
    let app = spawn_state(state.clone()).await;
    let scope = "scope=centre:CAPE-S&period=custom&from=2026-11-01&to=2026-11-30";

    // Pages: the concern table's cells, as each reader sees them.
    for (who, exact) in [
        (CLAUDINE, true),
        (JEAN, true),
        (ESTHER, true),
        (PATRICK, false),
        (ALINE, false),
        (ADMIN, false),
        (AUDITOR, false),
    ] {
        let mut b = Browser::sign_in(&app, who).await;
        let page = b.get(&format!("/indicators?{scope}")).await;
        assert_eq!(page.status, 200, "{who}: {}", page.body);
        let section = section(&page.body, "new_by_concern");
        if exact {
            for n in ["<td>12</td>", "<td>3</td>", "<td>25</td>", "<th>40</th>"] {
                assert!(section.contains(n), "{who} sees {n}: {section}");
            }
            assert!(
                !section.contains("&lt;10") && !section.contains("&#60;10"),
                "{who}"
            );
        } else {
            let table = &section[section.find("<table>").unwrap()..];
            assert!(
                table.contains("<td>&lt;10</td>") || table.contains("<td>&#60;10</td>"),
                "{who}: {table}"
            );
            assert!(
                section.contains("<td>*</td>"),
                "{who}: the 12 hidden too: {section}"
            );
            assert!(
                !section.contains("<td>12</td>") && !section.contains("<td>3</td>"),
                "{who}: {section}"
            );
            assert!(
                section.contains("<td>25</td>") && section.contains("<th>40</th>"),
                "{who}"
            );
            // The chart draws no bar for a hidden count, and its text says <10.
            assert_eq!(
                section.matches("<rect").count(),
                1,
                "{who}: only the 25 has a bar"
            );
        }
        // CSV: the same cells.
        let csv = b
            .get(&format!(
                "/indicators?{scope}&format=csv&table=new_by_concern"
            ))
            .await;
        assert_eq!(csv.status, 200);
        assert!(csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let line = |key: &str| {
            csv.body
                .lines()
                .find(|l| l.starts_with(&format!("{key},")))
                .unwrap_or_else(|| panic!("{key} in {}", csv.body))
                .rsplit(',')
                .next()
                .unwrap()
                .to_string()
        };
        if exact {
            assert_eq!(
                (line("violence"), line("neglect"), line("total")),
                ("3".into(), "12".into(), "40".into())
            );
        } else {
            assert_eq!(
                (
                    line("violence"),
                    line("neglect"),
                    line("separated"),
                    line("total")
                ),
                ("<10".into(), "*".into(), "25".into(), "40".into()),
                "{who}"
            );
        }
        // The whole CSV (long form) says the same.
        let all = b.get(&format!("/indicators?{scope}&format=csv")).await;
        let violence = all
            .body
            .lines()
            .find(|l| l.starts_with("new_by_concern,violence,"))
            .expect("the violence row");
        assert!(
            violence.ends_with(if exact { ",3" } else { ",<10" }),
            "{who}: {violence}"
        );
    }

    // JSON: a CAPE-S token exact; any other, the string "<10".
    for (name, role, centre, exact) in [
        ("south", Role::Caseworker, Some("CAPE-S"), true),
        ("south-committee", Role::Committee, Some("CAPE-S"), true),
        ("east", Role::Manager, Some("CAPE-E"), false),
        ("admin", Role::Admin, None, false),
        ("auditor", Role::Auditor, None, false),
    ] {
        let t = token(&app, name, role, centre).await;
        let (status, body) = api(
            &app,
            reqwest::Method::GET,
            "/api/v1/indicators?scope=centre:CAPE-S&from=2026-11-01&to=2026-11-30",
            Some(&t),
            None,
        )
        .await;
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(body["exact"], exact, "{name}");
        let table = body["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == "new_by_concern")
            .unwrap();
        let value = |key: &str| {
            table["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["key"] == key)
                .unwrap()["values"][0]
                .clone()
        };
        if exact {
            assert_eq!(value("violence"), serde_json::json!(3), "{name}");
            assert_eq!(value("neglect"), serde_json::json!(12), "{name}");
        } else {
            assert_eq!(value("violence"), serde_json::json!("<10"), "{name}");
            assert_eq!(value("neglect"), serde_json::json!("*"), "{name}");
            assert_eq!(value("separated"), serde_json::json!(25), "{name}");
        }
        assert_eq!(table["total"]["values"][0], serde_json::json!(40), "{name}");
        // Not even the CAPE-S token sees the province or nation exactly.
        let (_, national) = api(
            &app,
            reqwest::Method::GET,
            "/api/v1/indicators?scope=national&from=2026-11-01&to=2026-11-30",
            Some(&t),
            None,
        )
        .await;
        assert_eq!(national["exact"], false, "{name}");
    }

    // A token's default is its own centre; bad scopes and days are 422, an
    // unknown centre 404, all as {"code","message"}.
    let t = token(&app, "south-2", Role::Manager, Some("CAPE-S")).await;
    let (status, body) = api(
        &app,
        reqwest::Method::GET,
        "/api/v1/indicators",
        Some(&t),
        None,
    )
    .await;
    assert_eq!(
        (status, body["scope"].as_str()),
        (200, Some("centre:CAPE-S"))
    );
    for (query, code) in [
        ("scope=district:X", 422),
        ("scope=centre:NOPE", 404),
        ("from=2026-13-01", 422),
        ("from=2026-11-30&to=2026-11-01", 422),
        ("from=2020-01-01&to=2026-11-01", 422),
    ] {
        let (status, body) = api(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/indicators?{query}"),
            Some(&t),
            None,
        )
        .await;
        assert_eq!(status, code, "{query}: {body}");
        assert!(
            body["code"].is_string() && body["message"].is_string(),
            "{query}: {body}"
        );
    }
    let (status, _) = api(&app, reqwest::Method::GET, "/api/v1/indicators", None, None).await;
    assert_eq!(status, 401);

    // Pages answer a bad query in the reader's language, not a 500.
    let mut b = Browser::sign_in(&app, JEAN).await;
    for query in [
        "scope=nowhere",
        "period=year",
        "period=custom",
        "format=pdf",
        "table=nope",
        "from=x",
    ] {
        let page = b.get(&format!("/indicators?{query}")).await;
        assert_eq!(page.status, 422, "{query}");
        assert!(
            page.body.contains("Non enregistr"),
            "Jean reads French: {query}: {}",
            page.body
        );
    }
    assert_eq!(b.get("/indicators?scope=centre:NOPE").await.status, 404);
    // The default page is the reader's centre, last 30 days.
    let page = b.get("/indicators").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("CAPE-S"));
    app.stop().await;
}

/// The `<section id=ID>` of a page.
fn section<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!("<section id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no section {id}"));
    let end = body[start..].find("</section>").unwrap() + start;
    &body[start..end]
}
