//! The USSD channel end to end, through the real Africa's Talking wire format,
//! on SQLite and on PostgreSQL.

mod common;

use std::sync::Arc;

use common::{
    reference_in, spawn_app, spawn_app_with, Db, TestDb, EMMANUEL, GRACE, MARIE, STRANGER,
};
use kanda::{
    domain::CaseRef,
    domain::{Clock, ManualClock, SystemClock},
    store::Table,
};

/// Grace reports a girl of 7, neglect, in danger, in her own village.
const REPORT_OWN_VILLAGE: [&str; 10] = ["1", "Amina", "7", "1", "2", "2", "1", "1", "1", "1"];

both!(
    volunteer_sees_main_menu_in_own_language,
    report_in_own_village_creates_one_routed_case,
    report_elsewhere_drills_down_pages_and_routes_to_other_centre,
    back_and_home_keys_work_while_typing,
    wrong_input_is_re_asked_and_three_failures_end_politely,
    gateway_retry_and_double_confirm_make_one_case,
    restart_and_two_servers_share_a_session,
    abandoned_sessions_are_purged_and_nothing_saved,
    phone_spellings_are_one_volunteer,
    language_change_is_saved,
    visit_is_logged_and_bad_references_refused,
    recent_reports_show_reference_and_stage,
    public_report_asks_consent_and_may_stay_anonymous,
    public_may_switch_language_and_refuse_consent,
    gateway_token_is_required_when_set,
    malformed_and_failing_requests_still_get_an_end_screen,
    screens_rendered_once_stay_each_sessions_own,
    a_session_answers_only_the_phone_that_dialled,
    a_hop_with_too_many_inputs_ends_politely,
);

async fn volunteer_sees_main_menu_in_own_language(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let en = app.hop("m1", GRACE, "").await;
    assert!(en.starts_with("CON Kanda child protection\n1. Report a child\n2. Log a follow-up visit\n3. My recent reports\n4. Language"), "{en}");
    assert!(
        !en.contains("0 Back"),
        "no back key on the first screen: {en}"
    );
    let fr = app.hop("m2", MARIE, "").await;
    assert!(fr.contains("1. Signaler un enfant"), "{fr}");
    let rw = app.hop("m3", EMMANUEL, "").await;
    assert!(rw.contains("1. Tanga amakuru ku mwana"), "{rw}");
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");

    app.stop().await;
}

async fn report_in_own_village_creates_one_routed_case(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let summary = app.session("r1", GRACE, &REPORT_OWN_VILLAGE[..9]).await;
    assert_eq!(summary, "CON Check: A girl, age 7, Neglect. Danger now: Yes. Cyarwa.\n1. Send\n2. Cancel\n0 Back 00 Menu");
    assert_eq!(
        app.state.store.count(Table::Cases).await.unwrap(),
        0,
        "nothing is saved before confirmation"
    );
    let done = app.hop("r1", GRACE, &REPORT_OWN_VILLAGE.join("*")).await;
    assert!(
        done.starts_with("END Thank you. The centre is alerted now. Case number: "),
        "{done}"
    );
    let reference = reference_in(&done);
    let cases = app.state.store.list_cases().await.unwrap();
    assert_eq!(cases.len(), 1);
    let c = &cases[0];
    assert_eq!(
        (c.reference.as_str(), c.stage.as_str(), c.centre.as_str()),
        (reference.as_str(), "new", "CAPE-S")
    );
    assert_eq!(
        (
            c.concern.as_str(),
            c.channel.as_str(),
            c.urgent,
            c.self_report
        ),
        ("neglect", "ussd", true, false)
    );
    assert_eq!(c.location, "S-HUY-TUM-01");
    let events = app.state.store.case_events(&reference).await.unwrap();
    assert_eq!(events[0].kind, "registered");
    // Then only the centre's alert (the scheduler may have run it already).
    assert!(
        events[1..].iter().all(|e| e.kind == "alert") && events.len() <= 2,
        "{events:?}"
    );
    assert_eq!(
        (events[0].actor.as_deref(), events[0].channel.as_deref()),
        (Some("volunteer:1"), Some("ussd"))
    );

    app.stop().await;
}

async fn report_elsewhere_drills_down_pages_and_routes_to_other_centre(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let base = ["1", "1", "99", "2", "3", "3", "1", "2"]; // skip name, age unknown, boy, disability unknown, separated, parents, not in danger
    let s = app.session("d1", GRACE, &base).await;
    assert!(
        s.contains("Where is the child?\n1. My village (Cyarwa)\n2. Another village"),
        "{s}"
    );
    let mut inputs = base.to_vec();
    for (input, expect) in [
        ("2", "Choose the province:\n1. Amajyepfo\n2. Iburasirazuba"),
        ("1", "Choose the district:\n1. Huye\n2. Nyanza"),
        ("1", "Choose the sector:\n1. Ngoma\n2. Tumba"),
        ("2", "Choose the village:\n1. Agasharu"),
    ] {
        inputs.push(input);
        let s = app.hop("d1", GRACE, &inputs.join("*")).await;
        assert!(s.contains(expect), "after {input}: {s}");
    }
    // Tumba has 14 villages: more than one screen holds.
    let page1 = app.hop("d1", GRACE, &inputs.join("*")).await;
    assert!(
        page1.contains("98. More") && !page1.contains("Sahera"),
        "{page1}"
    );
    inputs.push("98");
    let page2 = app.hop("d1", GRACE, &inputs.join("*")).await;
    assert!(
        page2.contains("14. Sahera")
            && !page2.contains("1. Agasharu")
            && !page2.contains("98. More"),
        "{page2}"
    );
    inputs.push("98");
    let no_more = app.hop("d1", GRACE, &inputs.join("*")).await;
    assert!(
        no_more.contains("Please choose 1 to 14.") && no_more.contains("14. Sahera"),
        "98 on the last page is refused kindly: {no_more}"
    );
    inputs.push("0");
    assert_eq!(
        app.hop("d1", GRACE, &inputs.join("*")).await,
        page1,
        "0 goes back to the first page"
    );
    // Back to the province list and into the other province instead.
    inputs.extend(["0", "0", "0"]);
    let s = app.hop("d1", GRACE, &inputs.join("*")).await;
    assert!(s.contains("Choose the province:"), "{s}");
    inputs.extend(["2", "2", "1", "1"]); // Iburasirazuba, Rwamagana, Kigabiro, Gatare
    let summary = app.hop("d1", GRACE, &inputs.join("*")).await;
    assert!(
        summary.contains(
            "Check: A boy, age Don't know, No caregiver or separated. Danger now: No. Gatare."
        ),
        "{summary}"
    );
    inputs.push("1");
    let done = app.hop("d1", GRACE, &inputs.join("*")).await;
    let reference = reference_in(&done);
    let cases = app.state.store.list_cases().await.unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(
        (
            cases[0].reference.as_str(),
            cases[0].centre.as_str(),
            cases[0].urgent
        ),
        (reference.as_str(), "CAPE-E", false)
    );
    assert_eq!(cases[0].location, "E-RWA-KIG-02");
    app.stop().await;
}

async fn back_and_home_keys_work_while_typing(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let name = app.hop("b1", GRACE, "1").await;
    assert!(
        name.contains("Child's first name?\n1. Skip\n0 Back 00 Menu"),
        "{name}"
    );
    let age = app.hop("b1", GRACE, "1*Amina").await;
    assert!(
        age.contains("Child's age in years (1-17)?\n88. Under 1 year\n99. Don't know"),
        "{age}"
    );
    assert_eq!(
        app.hop("b1", GRACE, "1*Amina*0").await,
        name,
        "0 on a typing screen goes back one screen"
    );
    let menu = app.hop("b1", GRACE, "1*Amina*0*Amina*7*00").await;
    assert!(
        menu.starts_with("CON Kanda child protection\n1. Report a child"),
        "00 goes to the main menu: {menu}"
    );
    let again = app.hop("b1", GRACE, "1*Amina*0*Amina*7*00*1").await;
    assert_eq!(again, name);
    // A baby under one: 88, never 0 (which is back).
    let s = app.hop("b2", GRACE, "1*1*88*1*1*1*2*1*1").await;
    assert!(s.contains("age Under 1 year"), "{s}");
    app.stop().await;
}

async fn wrong_input_is_re_asked_and_three_failures_end_politely(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let s = app.hop("w1", GRACE, "9").await;
    assert!(
        s.starts_with("CON Please choose 1 to 4.\nKanda child protection\n1. Report a child"),
        "{s}"
    );
    let s = app.hop("w1", GRACE, "9*2").await;
    assert!(
        s.contains("Case number (8 digits)?"),
        "a right answer clears the count: {s}"
    );
    let s = app.hop("w2", GRACE, "1*1*abc").await;
    assert!(
        s.starts_with("CON Type a number from 1 to 17.\nChild's age in years (1-17)?"),
        "{s}"
    );
    let s = app.hop("w2", GRACE, "1*1*abc*").await;
    assert!(s.starts_with("CON Nothing was typed.\nChild's age"), "{s}");
    let s = app.hop("w2", GRACE, "1*1*abc**😀").await;
    assert_eq!(
        s,
        "END Too many tries. Please dial again when you are ready. Thank you."
    );
    let long = "x".repeat(500);
    let s = app.hop("w3", GRACE, &format!("1*{long}")).await;
    assert!(
        s.starts_with("CON Too long: at most 160 characters.\nChild's first name?"),
        "{s}"
    );
    let s = app.hop("w3", GRACE, &format!("1*{long}*12")).await;
    assert!(
        s.starts_with("CON Letters only, please.\nChild's first name?"),
        "{s}"
    );
    let s = app.hop("w4", MARIE, "1*1*200").await;
    assert!(
        s.starts_with("CON Tapez un nombre de 1 à 17."),
        "localized reason: {s}"
    );
    // An abandoned report leaves nothing behind.
    app.hop("w5", GRACE, "1*Amina*7*1*2*2*1*1*1").await;
    assert_eq!(app.state.store.count(Table::Cases).await.unwrap(), 0);
    app.stop().await;
}

async fn gateway_retry_and_double_confirm_make_one_case(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let text = REPORT_OWN_VILLAGE[..5].join("*");
    let first = app.hop("g1", GRACE, &text).await;
    assert_eq!(
        app.hop("g1", GRACE, &text).await,
        first,
        "a retried hop gets the same screen"
    );
    let all = REPORT_OWN_VILLAGE.join("*");
    let (a, b) = tokio::join!(app.hop("g1", GRACE, &all), app.hop("g1", GRACE, &all));
    let again = app.hop("g1", GRACE, &all).await;
    assert_eq!(reference_in(&a), reference_in(&b));
    assert_eq!(reference_in(&a), reference_in(&again));
    assert_eq!(
        app.state.store.count(Table::Cases).await.unwrap(),
        1,
        "one case per confirmed session"
    );
    app.session("g2", GRACE, &REPORT_OWN_VILLAGE).await;
    assert_eq!(
        app.state.store.count(Table::Cases).await.unwrap(),
        2,
        "another session is another case"
    );
    app.stop().await;
}

async fn restart_and_two_servers_share_a_session(db: Db) {
    let db = TestDb::new(db).await;
    let one = spawn_app(&db).await;
    let two = spawn_app(&db).await;
    // Alternate hops between two servers on one database.
    let mut last = one.hop("t1", GRACE, "").await;
    for i in 1..=REPORT_OWN_VILLAGE.len() {
        let server = if i % 2 == 0 { &one } else { &two };
        last = server
            .hop("t1", GRACE, &REPORT_OWN_VILLAGE[..i].join("*"))
            .await;
    }
    assert!(last.starts_with("END Thank you."), "{last}");
    // A restart in the middle of a session loses nothing.
    let mid = one.hop("t2", MARIE, "1*Claire*5").await;
    one.stop().await;
    two.stop().await;
    let three = spawn_app(&db).await;
    assert_eq!(three.hop("t2", MARIE, "1*Claire*5").await, mid);
    let s = three.hop("t2", MARIE, "1*Claire*5*1").await;
    assert!(s.contains("L'enfant a-t-il un handicap ?"), "{s}");
    assert_eq!(three.state.store.count(Table::Cases).await.unwrap(), 1);
    three.stop().await;
}

async fn abandoned_sessions_are_purged_and_nothing_saved(db: Db) {
    let db = TestDb::new(db).await;
    let clock = ManualClock::at(chrono::Utc::now());
    let app = spawn_app_with(common::config(&db), Arc::new(clock.clone())).await;
    app.hop("p1", GRACE, "1*Amina").await;
    app.hop("p2", STRANGER, "1").await;
    assert_eq!(app.state.store.count(Table::UssdSessions).await.unwrap(), 2);
    clock.advance(chrono::Duration::minutes(11));
    app.hop("p3", GRACE, "").await;
    let ttl = app.state.config.session_ttl;
    let purged = app
        .state
        .store
        .purge_sessions(clock.now_ms() - ttl.as_millis() as i64)
        .await
        .unwrap();
    assert_eq!(
        purged, 2,
        "the two sessions older than the 10-minute default"
    );
    assert_eq!(app.state.store.count(Table::UssdSessions).await.unwrap(), 1);
    assert_eq!(app.state.store.count(Table::Cases).await.unwrap(), 0);
    app.stop().await;
}

async fn phone_spellings_are_one_volunteer(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    for (i, phone) in [
        "0788000001",
        "250788000001",
        "+250788000001",
        "+250 788 000 001",
    ]
    .iter()
    .enumerate()
    {
        let s = app.hop(&format!("n{i}"), phone, "").await;
        assert!(s.contains("Kanda child protection"), "{phone}: {s}");
    }
    let s = app.hop("n9", "0788999001", "").await;
    assert!(s.contains("Kanda: help for a child at risk."), "{s}");
    app.stop().await;
}

async fn language_change_is_saved(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let s = app.hop("l1", GRACE, "4").await;
    assert!(
        s.contains("Language?\n1. English\n2. Francais\n3. Ikinyarwanda"),
        "{s}"
    );
    let s = app.hop("l1", GRACE, "4*2").await;
    assert!(
        s.starts_with("CON Kanda protection de l'enfant\n1. Signaler un enfant"),
        "{s}"
    );
    let s = app.hop("l1", GRACE, "4*2*1").await;
    assert!(
        s.contains("Prénom de l'enfant ?"),
        "the rest of the session speaks French: {s}"
    );
    assert!(
        app.hop("l2", GRACE, "")
            .await
            .contains("Signaler un enfant"),
        "the choice is saved"
    );
    let s = app.hop("l3", "0788000001", "4*3").await;
    assert!(s.contains("Tanga amakuru ku mwana"), "{s}");
    app.stop().await;
}

async fn visit_is_logged_and_bad_references_refused(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let reference = reference_in(&app.session("v0", GRACE, &REPORT_OWN_VILLAGE).await);
    let r = reference.as_str();
    let mut typo = r.as_bytes().to_vec();
    typo[3] = if typo[3] == b'9' { b'0' } else { typo[3] + 1 };
    let typo = String::from_utf8(typo).unwrap();
    let s = app.hop("v1", EMMANUEL, &format!("2*{typo}")).await;
    assert!(
        s.starts_with(&format!("CON {typo} si nimero ya dosiye.")),
        "{s}"
    );
    let s = app.hop("v1", EMMANUEL, &format!("2*{typo}*12")).await;
    assert!(
        s.starts_with("CON Nimero ya dosiye igira imibare 8."),
        "{s}"
    );
    let unknown = CaseRef::from_body(if &r[..7] == "1000000" {
        1000001
    } else {
        1000000
    });
    let s = app.hop("v2", GRACE, &format!("2*{unknown}")).await;
    assert!(
        s.starts_with(&format!("CON No case {unknown}. Check the number.")),
        "{s}"
    );
    let s = app.hop("v3", GRACE, &format!("2*{r}")).await;
    assert!(s.contains("How is the child?\n1. Safe or improving\n2. No change\n3. Worse or new danger\n4. Family not found"), "{s}");
    let s = app.hop("v3", GRACE, &format!("2*{r}*3")).await;
    assert!(s.contains("Short note?"), "{s}");
    let done = app
        .hop("v3", GRACE, &format!("2*{r}*3*Father drinks, child hungry"))
        .await;
    assert_eq!(
        done,
        format!("END Visit saved on case {r}. The centre is alerted now. Thank you.")
    );
    app.hop("v3", GRACE, &format!("2*{r}*3*Father drinks, child hungry"))
        .await;
    app.session("v4", MARIE, &["2", r, "1", "1"]).await;
    let events = app.state.store.case_events(&reference).await.unwrap();
    let visits: Vec<_> = events.iter().filter(|e| e.kind == "visit").collect();
    assert_eq!(
        visits.len(),
        2,
        "a retried hop logs its visit once: {events:?}"
    );
    assert_eq!(
        (visits[0].outcome.as_deref(), visits[0].note.as_deref()),
        (Some("worse"), Some("Father drinks, child hungry"))
    );
    assert_eq!(
        (visits[1].outcome.as_deref(), visits[1].note.as_deref()),
        (Some("safe"), None)
    );
    app.stop().await;
}

async fn recent_reports_show_reference_and_stage(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    assert_eq!(
        app.hop("e0", GRACE, "3").await,
        "CON You have no reports yet.\n0 Back 00 Menu"
    );
    let mut refs = vec![];
    for i in 0..6 {
        refs.push(reference_in(
            &app.session(&format!("e{}", i + 1), GRACE, &REPORT_OWN_VILLAGE)
                .await,
        ));
    }
    let s = app.hop("e9", GRACE, "3").await;
    assert!(s.starts_with("CON Your recent reports:\n"), "{s}");
    for r in &refs[1..] {
        assert!(s.contains(&format!("{r} new")), "{r} in {s}");
    }
    assert!(!s.contains(refs[0].as_str()), "only the last five: {s}");
    assert!(
        !s.contains("Amina") && !s.contains("Cyarwa"),
        "no detail beyond reference and stage: {s}"
    );
    let s = app.hop("e9", GRACE, "3*5").await;
    assert!(
        s.starts_with("CON Type 0 to go back or 00 for the menu."),
        "{s}"
    );
    let s = app.hop("e10", MARIE, "3").await;
    assert!(
        s.contains("Vous n'avez pas encore de signalement."),
        "another volunteer's reports are not shown: {s}"
    );
    app.stop().await;
}

async fn public_report_asks_consent_and_may_stay_anonymous(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let s = app.hop("f1", STRANGER, "").await;
    assert_eq!(
        s,
        "CON Kanda: help for a child at risk.\n1. Report a child\n2. Language"
    );
    let s = app.hop("f1", STRANGER, "1").await;
    assert!(s.contains("Only the child protection centre sees it. You may stay anonymous.\n1. I agree\n2. No, stop"), "{s}");
    let s = app.hop("f1", STRANGER, "1*1").await;
    assert!(s.contains("Can the centre call you on this number?"), "{s}");
    // Anonymous, age 12, girl, violence, in danger, Iburasirazuba / Kayonza / Mukarange / first village.
    let inputs = ["1", "1", "2", "12", "1", "1", "1", "2", "1", "1", "1"];
    let s = app.session("f1", STRANGER, &inputs).await;
    assert!(
        s.contains("Check: A girl, age 12, Violence or abuse. Danger now: Yes."),
        "{s}"
    );
    let done = app
        .hop("f1", STRANGER, &[&inputs[..], &["1"]].concat().join("*"))
        .await;
    assert!(
        done.starts_with("END Thank you. The centre is alerted now. Number: "),
        "{done}"
    );
    let cases = app.state.store.list_cases().await.unwrap();
    assert_eq!(cases.len(), 1);
    assert!(cases[0].self_report && cases[0].anonymous, "{:?}", cases[0]);
    let timeline = app
        .state
        .store
        .case_events(&reference_in(&done))
        .await
        .unwrap();
    assert_eq!(
        (timeline[0].kind.as_str(), timeline[0].actor.as_deref()),
        ("registered", Some("self-report:anonymous"))
    );

    assert_eq!(cases[0].centre, "CAPE-E");
    // Sharing the number keeps it on the case, for the centre only.
    let shared = ["1", "1", "1", "5", "2", "2", "2", "1", "1", "1", "1", "1"];
    app.session("f2", STRANGER, &shared).await;
    let cases = app.state.store.list_cases().await.unwrap();
    assert!(cases[1].self_report && !cases[1].anonymous);
    app.stop().await;
}

async fn public_may_switch_language_and_refuse_consent(db: Db) {
    let db = TestDb::new(db).await;
    let mut config = common::config(&db);
    config.default_locale = kanda::domain::Locale::parse("fr").unwrap();
    let app = spawn_app_with(config, Arc::new(SystemClock)).await;
    let s = app.hop("q1", STRANGER, "").await;
    assert!(
        s.starts_with("CON Kanda : aide pour un enfant en danger."),
        "the deployment's default language: {s}"
    );
    let s = app.hop("q1", STRANGER, "2*1").await;
    assert!(s.starts_with("CON Kanda: help for a child at risk."), "{s}");
    let s = app.hop("q1", STRANGER, "2*1*1*2").await;
    assert_eq!(s, "END Nothing was saved. You can call again at any time.");
    assert_eq!(app.state.store.count(Table::Cases).await.unwrap(), 0);
    assert!(
        app.hop("q2", STRANGER, "").await.contains("Kanda : aide"),
        "a stranger's choice lasts one session"
    );
    app.stop().await;
}

async fn gateway_token_is_required_when_set(db: Db) {
    let db = TestDb::new(db).await;
    let mut config = common::config(&db);
    config.gateway_token = Some(kanda::domain::Secret::new("s3cret-token"));
    let app = spawn_app_with(config, Arc::new(SystemClock)).await;
    let fields = [
        ("sessionId", "k1"),
        ("serviceCode", "*384#"),
        ("phoneNumber", GRACE),
        ("text", ""),
    ];
    let (status, body) = app.post_ussd(&fields, "").await;
    assert_eq!((status, body.as_str()), (403, "END Access denied."));
    let (status, _) = app.post_ussd(&fields, "?token=wrong").await;
    assert_eq!(status, 403);
    assert_eq!(
        app.state.store.count(Table::UssdSessions).await.unwrap(),
        0,
        "a refused request changes nothing"
    );
    let (status, body) = app.post_ussd(&fields, "?token=s3cret-token").await;
    assert_eq!(status, 200);
    assert!(body.contains("Kanda child protection"));
    let form = serde_urlencoded::to_string(fields).unwrap();
    let (status, _) = app
        .post_raw(
            "/ussd/africastalking",
            form.clone(),
            Some(("africastalking", "s3cret-token")),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .post_raw(
            "/ussd/africastalking",
            form,
            Some(("africastalking", "nope")),
        )
        .await;
    assert_eq!(status, 403);
    app.stop().await;
}

async fn malformed_and_failing_requests_still_get_an_end_screen(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let (status, body) = app
        .post_ussd(&[("phoneNumber", GRACE), ("text", "")], "")
        .await;
    assert_eq!(status, 400);
    assert!(body.starts_with("END Sorry"), "{body}");
    let (status, _) = app
        .post_raw("/ussd/africastalking", "%%%&&&=".into(), None)
        .await;
    assert_eq!(status, 400);
    // Two answers in one hop: which one the person meant is unknowable.
    let (status, body) = app
        .post_raw(
            "/ussd/africastalking",
            "sessionId=x0&phoneNumber=%2B250788000001&text=1&text=2".into(),
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert!(body.starts_with("END "), "{body}");
    let (status, body) = app
        .post_ussd(
            &[
                ("sessionId", "x1"),
                ("phoneNumber", "not a phone"),
                ("text", ""),
            ],
            "",
        )
        .await;
    assert_eq!(
        (status, body.as_str()),
        (
            200,
            "END Sorry, the service has a problem. Please try again in a few minutes."
        )
    );
    // A province without a centre: the case cannot be routed. The person gets
    // an apology (never a 500), the cause is logged, and nothing half-made stays.
    let importer = kanda::channels::import::Importer {
        store: &app.state.store,
        country: app.state.config.country,
        texts: app.state.engine.texts(),
    };
    let csv = "code,name,level,parent_code\nN,Amajyaruguru,province,\nN-MUS,Musanze,district,N\nN-MUS-KIN,Kinigi,sector,N-MUS\nN-MUS-KIN-01,Bisoke,village,N-MUS-KIN\n";
    importer
        .import(
            kanda::channels::import::Kind::Locations,
            "north.csv",
            csv.as_bytes(),
        )
        .await
        .unwrap();
    let inputs = [
        "1", "1", "5", "1", "2", "2", "1", "2", "2", "1", "1", "1", "1", "1",
    ]; // provinces are sorted: Amajyaruguru first
    let s = app.session("x2", GRACE, &inputs[..13]).await;
    assert!(s.contains("Bisoke"), "{s}");
    let s = app.hop("x2", GRACE, &inputs.join("*")).await;
    assert_eq!(
        s,
        "END Sorry, the service has a problem. Please try again in a few minutes."
    );
    assert_eq!(app.state.store.count(Table::Cases).await.unwrap(), 0);
    app.stop().await;
}

/// The engine renders a screen that reads no session variable once per
/// language and shares it; what differs between sessions (the language, a
/// refusal on top, a variable) must still show.
async fn screens_rendered_once_stay_each_sessions_own(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let menu = "CON Kanda child protection\n1. Report a child\n2. Log a follow-up visit\n3. My recent reports\n4. Language";
    let refused = app.hop("c1", GRACE, "9").await;
    assert!(
        refused.starts_with("CON Please choose 1 to 4.\nKanda child protection"),
        "{refused}"
    );
    assert_eq!(
        app.hop("c2", GRACE, "").await,
        menu,
        "no refusal carried over"
    );
    assert_eq!(app.hop("c3", GRACE, "").await, menu);
    let refused_again = app.hop("c4", GRACE, "9").await;
    assert_eq!(
        refused_again, refused,
        "the refusal shows over the shared screen"
    );
    assert!(app
        .hop("c5", MARIE, "")
        .await
        .contains("1. Signaler un enfant"));
    assert_eq!(
        app.hop("c6", GRACE, "").await,
        menu,
        "French did not replace English"
    );

    // Emmanuel now reads English too; his village differs from Grace's.
    app.hop("c7", EMMANUEL, "4*1").await;
    let to_where = "1*Amina*7*1*2*2*1*1";
    let grace = app.hop("c8", GRACE, to_where).await;
    let emmanuel = app.hop("c9", EMMANUEL, to_where).await;
    assert!(grace.contains("1. My village (Cyarwa)"), "{grace}");
    assert!(
        emmanuel.contains("1. My village (Nyamirambo)"),
        "{emmanuel}"
    );
    assert!(app.hop("c10", GRACE, to_where).await.contains("Cyarwa"));
    app.stop().await;
}

/// A session id sent from another phone (a gateway bug, or a guess) is not
/// served: the other phone gets the apology, and the session goes on.
async fn a_session_answers_only_the_phone_that_dialled(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    app.hop("p1", GRACE, "").await;
    let stolen = app.hop("p1", MARIE, "1").await;
    assert_eq!(
        stolen,
        "END Sorry, the service has a problem. Please try again in a few minutes."
    );
    // Also on a server that has to read the session from the database.
    let other = spawn_app(&db).await;
    assert!(other.hop("p1", MARIE, "1").await.starts_with("END Sorry"));
    assert!(other
        .hop("p1", GRACE, "1")
        .await
        .contains("Child's first name?"));
    assert!(app
        .hop("p1", GRACE, "1")
        .await
        .contains("Child's first name?"));
    other.stop().await;
    app.stop().await;
}

/// More inputs than any flow needs (a stuck key, a looping gateway, or an
/// attack) end the session politely without being replayed.
async fn a_hop_with_too_many_inputs_ends_politely(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let too_many = "END Too many tries. Please dial again when you are ready. Thank you.";
    app.hop("i1", GRACE, "").await;
    let eighty = vec!["0"; 80].join("*");
    assert!(app.hop("i1", GRACE, &eighty).await.starts_with("CON "));
    assert_eq!(
        app.hop("i1", GRACE, &[&eighty, "0"].join("*")).await,
        too_many
    );
    let huge = "*".repeat(200_000);
    assert_eq!(app.hop("i1", GRACE, &huge).await, too_many);
    assert_eq!(app.state.store.count(Table::Cases).await.unwrap(), 0);
    app.stop().await;
}
