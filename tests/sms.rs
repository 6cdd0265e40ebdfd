//! The SMS channel end to end, through Twilio's and Africa's Talking's wire
//! formats (Twilio requests signed as Twilio signs them), on SQLite and on
//! PostgreSQL.

mod common;

use std::sync::Arc;

use common::{
    message_sid, reference_in, sms_config, spawn_app_with, Db, TestApp, TestDb, ALINE, CLAUDINE,
    GRACE, JEAN, MARIE, STRANGER, TWILIO_TOKEN,
};
use kanda::{
    domain::CaseRef,
    domain::{Clock, ManualClock, SystemClock},
    store::Table,
};

async fn app(db: &TestDb) -> TestApp {
    spawn_app_with(sms_config(db), Arc::new(SystemClock)).await
}

async fn cases(app: &TestApp) -> Vec<kanda::store::CaseSummary> {
    app.state.store.list_cases().await.expect("cases")
}

both!(
    one_message_report_makes_one_case_in_own_village,
    one_message_report_names_village_and_child,
    a_wrong_field_is_named_with_the_form_in_the_senders_language,
    keywords_forgive_case_accents_separators_and_one_typo,
    a_keyword_alone_asks_the_ussd_questions_one_message_at_a_time,
    help_and_language_work_in_the_middle_of_a_conversation,
    a_timed_out_conversation_is_offered_then_forgotten,
    the_public_may_self_report_only_and_with_consent,
    unmatched_messages_get_help_in_the_senders_language,
    one_message_visit_and_status,
    a_message_delivered_twice_has_its_effects_once,
    twilio_signatures_are_required,
    malformed_twilio_requests_get_twiml,
    twilio_delivery_reports_are_recorded,
    africastalking_sms_replies_through_the_outbox_once,
    staff_acknowledge_their_own_centres_cases_only,
);

async fn one_message_report_makes_one_case_in_own_village(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    let reply = app.sms(GRACE, "REPORT 7 F 2 Y").await;
    assert!(reply.contains("Case number"), "{reply}");
    let reference = reference_in(&reply);
    let all = cases(&app).await;
    assert_eq!(all.len(), 1);
    let c = &all[0];
    assert_eq!(c.reference, reference.as_str());
    assert_eq!(
        (
            c.channel.as_str(),
            c.concern.as_str(),
            c.urgent,
            c.location.as_str(),
            c.centre.as_str(),
            c.self_report
        ),
        ("sms", "neglect", true, "S-HUY-TUM-01", "CAPE-S", false)
    );
    app.stop().await;
}

async fn one_message_report_names_village_and_child(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    let reply = app
        .sms(GRACE, "report 88 m 1 n  s-huy-ngo-01 Jean Bosco")
        .await;
    let reference = reference_in(&reply);
    let c = cases(&app).await.pop().expect("a case");
    assert_eq!(c.reference, reference.as_str());
    assert_eq!(
        (c.location.as_str(), c.concern.as_str(), c.urgent),
        ("S-HUY-NGO-01", "violence", false)
    );
    // The name is kept on the case (shown to staff), never echoed by SMS.
    assert!(!reply.contains("Jean"), "{reply}");
    app.stop().await;
}

async fn a_wrong_field_is_named_with_the_form_in_the_senders_language(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    let reply = app.sms(GRACE, "REPORT 40 F 2 Y").await;
    assert!(
        reply.starts_with("Age: Type a number from 1 to 17."),
        "{reply}"
    );
    assert!(
        reply.contains("Send: REPORT age F/M concern danger(Y/N)"),
        "{reply}"
    );
    let reply = app.sms(GRACE, "REPORT 7 F 9 Y").await;
    assert!(
        reply.starts_with("Concern: Please choose 1 to 7."),
        "{reply}"
    );
    let reply = app.sms(GRACE, "REPORT 7 F 2").await;
    assert!(reply.starts_with("Danger now: missing."), "{reply}");
    let reply = app.sms(GRACE, "REPORT 7 F 2 Y X-NOPE-01").await;
    assert!(
        reply.starts_with("Village: no village has the code X-NOPE-01."),
        "{reply}"
    );
    // Marie reads French, whichever language's keyword she uses.
    let reply = app.sms(MARIE, "SIGNALER 7 X 2 O").await;
    assert!(reply.starts_with("Fille ou garcon : "), "{reply}");
    assert!(reply.contains("Envoyez : SIGNALER age F/M"), "{reply}");
    let reply = app.sms(MARIE, "REPORT 7 F 2 maybe").await;
    assert!(reply.starts_with("Danger maintenant : "), "{reply}");
    assert!(
        cases(&app).await.is_empty(),
        "nothing is saved from a wrong form"
    );
    app.stop().await;
}

async fn keywords_forgive_case_accents_separators_and_one_typo(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    for text in [
        "REPROT 7 F 2 Y",
        "report,7,f,2,y",
        "Report*7#F+2.Y",
        "sígnaler 7 F 2 O",
        "  REPORT   7  F 2 yes ",
    ] {
        let reply = app.sms(GRACE, text).await;
        assert!(reply.contains("Case number"), "{text:?}: {reply}");
    }
    assert_eq!(cases(&app).await.len(), 5);
    // Two typos are no keyword: the HELP reply.
    let reply = app.sms(GRACE, "RIPIRT 7 F 2 Y").await;
    assert!(reply.starts_with("Kanda: send REPORT"), "{reply}");
    app.stop().await;
}

async fn a_keyword_alone_asks_the_ussd_questions_one_message_at_a_time(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    let steps = [
        ("REPORT", "Child's first name?"),
        ("Amina", "Child's age in years (1-17)?"),
        ("seven", "Type a number from 1 to 17."),
        ("7", "The child is:"),
        ("1", "Does the child have a disability?"),
        ("2", "Main concern?"),
        ("2.", "Who cares for the child now?"),
        ("1", "Is the child in danger right now?"),
        ("0", "Who cares for the child now?"),
        ("1", "Is the child in danger right now?"),
        ("2", "Where is the child?"),
        (
            "1",
            "Check: A girl, age 7, Neglect. Danger now: No. Cyarwa.",
        ),
    ];
    for (text, expect) in steps {
        let reply = app.sms(GRACE, text).await;
        assert!(reply.contains(expect), "{text:?}: {reply}");
    }
    assert!(
        cases(&app).await.is_empty(),
        "nothing before the confirmation"
    );
    let done = app.sms(GRACE, "1").await;
    assert!(done.contains("Case number"), "{done}");
    let c = cases(&app).await;
    assert_eq!(c.len(), 1);
    assert_eq!((c[0].channel.as_str(), c[0].urgent), ("sms", false));
    // The conversation is over: its answers are gone, a new "1" is no answer.
    assert_eq!(app.state.store.count(Table::SmsInputs).await.unwrap(), 0);
    let after = app.sms(GRACE, "1").await;
    assert!(after.starts_with("Kanda: send REPORT"), "{after}");
    app.stop().await;
}

async fn help_and_language_work_in_the_middle_of_a_conversation(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    app.sms(GRACE, "REPORT").await;
    app.sms(GRACE, "Amina").await;
    let help = app.sms(GRACE, "help").await;
    assert!(
        help.contains("send REPORT") && help.ends_with("Or answer the last question to go on."),
        "{help}"
    );
    let fr = app.sms(GRACE, "LANG FR").await;
    assert!(fr.starts_with("Langue : Francais."), "{fr}");
    assert!(
        fr.contains("Age de l'enfant"),
        "the question again, in French: {fr}"
    );
    let next = app.sms(GRACE, "7").await;
    assert!(next.contains("Sexe de l'enfant"), "{next}");
    // The language is saved in Grace's profile: USSD speaks French too.
    let menu = app.hop("after-lang", GRACE, "").await;
    assert!(menu.contains("Signaler un enfant"), "{menu}");
    let usage = app.sms(GRACE, "LANGUE klingon").await;
    assert!(usage.contains("LANG EN for English"), "{usage}");
    app.stop().await;
}

async fn a_timed_out_conversation_is_offered_then_forgotten(db: Db) {
    let db = TestDb::new(db).await;
    let clock = ManualClock::at(chrono::Utc::now());
    let app = spawn_app_with(sms_config(&db), Arc::new(clock.clone())).await;
    app.sms(GRACE, "REPORT").await;
    app.sms(GRACE, "Amina").await;
    clock.advance(chrono::Duration::minutes(29));
    let still = app.sms(GRACE, "7").await;
    assert!(still.contains("The child is:"), "{still}");
    // Timed out with answers: within the resume window, an offer (counts
    // only), then the choice; the answers kept lead to the next question.
    clock.advance(chrono::Duration::minutes(31));
    let offer = app.sms(GRACE, "1").await;
    assert!(
        offer.starts_with(
            "You did not finish your last report.\n1. Continue your unfinished report (2 of "
        ) && offer.ends_with("\n2. Start again")
            && !offer.contains("Amina"),
        "{offer}"
    );
    let wrong = app.sms(GRACE, "9").await;
    assert!(wrong.starts_with("Please choose 1 to 2."), "{wrong}");
    let next = app.sms(GRACE, "1").await;
    assert!(next.contains("The child is:"), "{next}");
    let next = app.sms(GRACE, "1").await;
    assert!(next.contains("Does the child have a disability?"), "{next}");
    // Start again: the same questions from the first, the answers gone.
    clock.advance(chrono::Duration::minutes(31));
    app.sms(GRACE, "2").await;
    let first = app.sms(GRACE, "2").await;
    assert!(first.contains("Child's first name?"), "{first}");
    assert_eq!(app.state.store.count(Table::SmsInputs).await.unwrap(), 0);
    // Past the resume window (30 + 15 minutes): nothing is offered.
    app.sms(GRACE, "Kalisa").await;
    clock.advance(chrono::Duration::minutes(46));
    let expired = app.sms(GRACE, "1").await;
    assert_eq!(
        expired,
        "Your last conversation timed out and nothing was saved. Send REPORT to start again, or HELP."
    );
    let again = app.sms(GRACE, "1").await;
    assert!(again.starts_with("Kanda: send REPORT"), "{again}");
    // The purge forgets a timed-out conversation's answers.
    app.sms(GRACE, "REPORT").await;
    app.sms(GRACE, "Amina").await;
    clock.advance(chrono::Duration::minutes(31));
    let now = clock.now_ms();
    app.state
        .store
        .purge_sms(
            now - 30 * 60_000,
            now - 25 * 3_600_000,
            now - 7 * 24 * 3_600_000,
        )
        .await
        .unwrap();
    assert_eq!(app.state.store.count(Table::SmsInputs).await.unwrap(), 0);
    assert!(app
        .sms(GRACE, "7")
        .await
        .starts_with("Your last conversation timed out"));
    app.stop().await;
}

async fn the_public_may_self_report_only_and_with_consent(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    // A form from an unregistered phone starts the questions, consent first.
    let consent = app.sms(STRANGER, "REPORT 7 F 2 Y").await;
    assert!(
        consent.contains("Only the child protection centre sees it"),
        "{consent}"
    );
    for (text, expect) in [
        ("1", "Can the centre call you on this number?"),
        ("2", "Child's age"),
        ("9", "The child is:"),
        ("2", "Main concern?"),
        ("1", "Is the child in danger right now?"),
        ("1", "Choose the province:"),
        ("1", "Choose the district:"),
        ("1", "Choose the sector:"),
        ("1", "Choose the village:"),
        (
            "1",
            "Check: A boy, age 9, Violence or abuse. Danger now: Yes.",
        ),
    ] {
        let reply = app.sms(STRANGER, text).await;
        assert!(reply.contains(expect), "{text:?}: {reply}");
    }
    let done = app.sms(STRANGER, "1").await;
    assert!(
        done.starts_with("Thank you. The centre is alerted now. Number: "),
        "{done}"
    );
    let c = cases(&app).await;
    assert_eq!(c.len(), 1);
    assert!(c[0].self_report && c[0].anonymous);
    // Volunteers' keywords are refused kindly.
    for text in ["STATUS", "VISIT 34222358 1", "visite"] {
        let reply = app.sms(STRANGER, text).await;
        assert_eq!(
            reply, "This is for registered volunteers. To report a child at risk, send REPORT.",
            "{text:?}"
        );
    }
    // Consent refused: nothing saved, the SMS wording.
    app.sms(STRANGER, "signaler").await;
    let no = app.sms(STRANGER, "2").await;
    assert_eq!(
        no,
        "Rien n'a été enregistré. Vous pouvez écrire à tout moment."
    );
    assert_eq!(cases(&app).await.len(), 1);
    app.stop().await;
}

async fn unmatched_messages_get_help_in_the_senders_language(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    let en = app.sms(GRACE, "hello?").await;
    assert!(
        en.starts_with("Kanda: send REPORT to report a child"),
        "{en}"
    );
    let fr = app.sms(MARIE, "bonjour").await;
    assert!(fr.starts_with("Kanda : SIGNALER pour signaler"), "{fr}");
    let public = app.sms(STRANGER, "").await;
    assert!(
        public.starts_with("Kanda child protection: to tell us"),
        "{public}"
    );
    let codes = app.sms(GRACE, "HELP REPORT").await;
    assert!(codes.contains("Concern: 1 violence 2 neglect"), "{codes}");
    let codes = app.sms(MARIE, "aide visite").await;
    assert!(codes.contains("Résultat : 1 en sécurité"), "{codes}");
    app.stop().await;
}

async fn one_message_visit_and_status(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    let reference = reference_in(&app.sms(GRACE, "REPORT 7 F 2 Y").await);
    let saved = app
        .sms(
            GRACE,
            &format!("VISIT {reference} 1 Back at school, mother home."),
        )
        .await;
    assert_eq!(
        saved,
        format!("Visit saved on case {reference}. Thank you.")
    );
    let events = app.state.store.case_events(&reference).await.unwrap();
    let visit = events.iter().find(|e| e.kind == "visit").expect("a visit");
    assert_eq!(visit.outcome.as_deref(), Some("safe"));
    assert_eq!(visit.note.as_deref(), Some("Back at school, mother home."));
    assert_eq!(visit.channel.as_deref(), Some("sms"));
    // One digit wrong: the check digit refuses it.
    let mut wrong = reference.as_str().to_string().into_bytes();
    wrong[2] = if wrong[2] == b'9' { b'0' } else { wrong[2] + 1 };
    let wrong = String::from_utf8(wrong).unwrap();
    let refused = app.sms(GRACE, &format!("VISIT {wrong} 1")).await;
    assert!(
        refused.starts_with(&format!("Case number: {wrong} is not a case number.")),
        "{refused}"
    );
    let refused = app.sms(GRACE, &format!("VISIT {reference} 7")).await;
    assert!(
        refused.starts_with("Outcome: Please choose 1 to 4."),
        "{refused}"
    );
    let status = app.sms(GRACE, "status").await;
    assert_eq!(status, format!("Your recent reports:\n{reference} new"));
    let none = app.sms(MARIE, "STATUT").await;
    assert_eq!(none, "Vous n'avez pas encore de signalement.");
    app.stop().await;
}

async fn a_message_delivered_twice_has_its_effects_once(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    let sid = message_sid();
    let (_, first) = app.sms_with_sid(&sid, GRACE, "REPORT 7 F 2 Y").await;
    let (_, second) = app.sms_with_sid(&sid, GRACE, "REPORT 7 F 2 Y").await;
    assert_eq!(first, second);
    assert_eq!(cases(&app).await.len(), 1);
    // In a conversation too: the repeated answer is one answer.
    app.sms(GRACE, "REPORT").await;
    let sid = message_sid();
    let (_, a) = app.sms_with_sid(&sid, GRACE, "Amina").await;
    let (_, b) = app.sms_with_sid(&sid, GRACE, "Amina").await;
    assert_eq!(a, b);
    let next = app.sms(GRACE, "7").await;
    assert!(next.contains("The child is:"), "{next}");
    // Two deliveries at once agree as well.
    let sid = message_sid();
    let (x, y) = tokio::join!(
        app.sms_with_sid(&sid, MARIE, "SIGNALER 3 M 5 N"),
        app.sms_with_sid(&sid, MARIE, "SIGNALER 3 M 5 N")
    );
    assert_eq!(x, y);
    assert_eq!(cases(&app).await.len(), 2);
    app.stop().await;
}

async fn twilio_signatures_are_required(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    let fields = [
        ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("From", GRACE),
        ("To", "+250788999999"),
        ("Body", "REPORT 7 F 2 Y"),
    ];
    let url = app.url("/sms/twilio");
    let wrong_token = kanda::gateway::twilio::signature::compute("not-the-token", &url, &fields);
    let wrong_url = kanda::gateway::twilio::signature::compute(
        TWILIO_TOKEN,
        "https://elsewhere.example/sms/twilio",
        &fields,
    );
    let good = kanda::gateway::twilio::signature::compute(TWILIO_TOKEN, &url, &fields);
    let mut tampered = fields;
    tampered[3].1 = "REPORT 7 F 2 N";
    for (what, f, sig) in [
        ("no signature", &fields, None),
        ("wrong token", &fields, Some(wrong_token.as_str())),
        ("wrong URL", &fields, Some(wrong_url.as_str())),
        ("tampered body", &tampered, Some(good.as_str())),
        ("garbage", &fields, Some("!!!")),
    ] {
        let (status, message) = app.post_twilio("/sms/twilio", f, sig).await;
        assert_eq!((status, message), (403, None), "{what}");
    }
    assert!(
        cases(&app).await.is_empty(),
        "a refused request changes nothing"
    );
    let (status, message) = app.post_twilio("/sms/twilio", &fields, Some(&good)).await;
    assert_eq!(status, 200);
    assert!(message.unwrap().contains("Case number"));
    app.stop().await;

    // With no auth token configured, every Twilio webhook is refused.
    let db2 = TestDb::new(common_db(&db)).await;
    let bare = spawn_app_with(common::config(&db2), Arc::new(SystemClock)).await;
    let (status, _) = bare.sms_with_sid(&message_sid(), GRACE, "HELP").await;
    assert_eq!(status, 403);
    bare.stop().await;
}

fn common_db(db: &TestDb) -> Db {
    if db.url.starts_with("sqlite:") {
        Db::Sqlite
    } else {
        Db::Postgres
    }
}

async fn malformed_twilio_requests_get_twiml(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    let url = app.url("/sms/twilio");
    let sign =
        |f: &[(&str, &str)]| kanda::gateway::twilio::signature::compute(TWILIO_TOKEN, &url, f);
    let no_from = [("MessageSid", "SM1"), ("Body", "HELP")];
    let (status, m) = app
        .post_twilio("/sms/twilio", &no_from, Some(&sign(&no_from)))
        .await;
    assert_eq!((status, m), (400, None));
    let no_sid = [("From", GRACE), ("Body", "HELP")];
    let (status, m) = app
        .post_twilio("/sms/twilio", &no_sid, Some(&sign(&no_sid)))
        .await;
    assert_eq!((status, m), (400, None));
    // An alphanumeric sender has no number to answer.
    let alpha = [("MessageSid", "SM2"), ("From", "MTN"), ("Body", "HELP")];
    let (status, m) = app
        .post_twilio("/sms/twilio", &alpha, Some(&sign(&alpha)))
        .await;
    assert_eq!((status, m), (200, None));
    // Emoji, 1,600 characters, XML-looking text: answered, never an error.
    for body in [
        "🙂🙂",
        &"x".repeat(1600),
        "<Response>&amp;</Response>",
        "\u{0}",
    ] {
        let reply = app.sms(STRANGER, body).await;
        assert!(
            reply.starts_with("Kanda child protection"),
            "{body:?}: {reply}"
        );
    }
    app.sms(GRACE, "REPORT").await;
    let long = app.sms(GRACE, &"y".repeat(500)).await;
    assert!(long.contains("Too long"), "{long}");
    // Back and forth without end is ended politely, not replayed forever.
    app.sms(GRACE, "REPORT").await;
    let mut last = String::new();
    for i in 0..=kanda::channels::ussd::MAX_INPUTS {
        last = app.sms(GRACE, if i % 2 == 0 { "1" } else { "0" }).await;
    }
    assert_eq!(
        last,
        "Too many tries. Send HELP when you are ready. Thank you."
    );
    assert_eq!(app.state.store.count(Table::SmsInputs).await.unwrap(), 0);
    app.stop().await;
}

async fn twilio_delivery_reports_are_recorded(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    let url = app.url("/sms/twilio/status");
    for status in ["delivered", "some-new-status"] {
        let f = [("MessageSid", "SMunknown"), ("MessageStatus", status)];
        let sig = kanda::gateway::twilio::signature::compute(TWILIO_TOKEN, &url, &f);
        let (code, m) = app.post_twilio("/sms/twilio/status", &f, Some(&sig)).await;
        assert_eq!((code, m), (200, None), "{status}");
    }
    let f = [("MessageSid", "SMx"), ("MessageStatus", "delivered")];
    let (code, _) = app.post_twilio("/sms/twilio/status", &f, Some("bad")).await;
    assert_eq!(code, 403);
    let (code, _) = app
        .post_twilio(
            "/sms/twilio/status",
            &[("MessageSid", "SMx")],
            Some(&kanda::gateway::twilio::signature::compute(
                TWILIO_TOKEN,
                &url,
                &[("MessageSid", "SMx")],
            )),
        )
        .await;
    assert_eq!(code, 400);
    app.stop().await;
}

async fn africastalking_sms_replies_through_the_outbox_once(db: Db) {
    let db = TestDb::new(db).await;
    let mut config = sms_config(&db);
    config.gateway_token = Some(kanda::domain::Secret::new("at-token"));
    let app = spawn_app_with(config, Arc::new(SystemClock)).await;
    let post = |path: &'static str, fields: Vec<(&'static str, String)>, query: &'static str| {
        let http = app.http.clone();
        let url = app.url(&format!("{path}{query}"));
        async move {
            let res = http
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(serde_urlencoded::to_string(&fields).unwrap())
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let inbound = |id: &str, text: &str| {
        vec![
            ("from", GRACE.to_string()),
            ("to", "384".to_string()),
            ("text", text.to_string()),
            ("date", "2026-12-01 10:00:00".to_string()),
            ("id", id.to_string()),
            ("linkId", "link-1".to_string()),
        ]
    };
    let (status, _) = post("/sms/africastalking", inbound("at-1", "REPORT 7 F 2 Y"), "").await;
    assert_eq!(status, 403, "the gateway token is required");
    assert!(cases(&app).await.is_empty());
    for _ in 0..2 {
        let (status, body) = post(
            "/sms/africastalking",
            inbound("at-1", "REPORT 7 F 2 Y"),
            "?token=at-token",
        )
        .await;
        assert_eq!((status, body.as_str()), (200, "ok"));
    }
    assert_eq!(cases(&app).await.len(), 1);
    let queued = app.state.store.list_outbox().await.unwrap();
    let replies: Vec<_> = queued.iter().filter(|m| m.to == GRACE).collect();
    assert_eq!(replies.len(), 1, "one reply for two deliveries: {queued:?}");
    assert!(replies[0].body.contains("Case number"), "{:?}", replies[0]);
    assert_eq!(replies[0].kind, "reply");
    let (status, _) = post(
        "/sms/africastalking",
        vec![("text", "x".into())],
        "?token=at-token",
    )
    .await;
    assert_eq!(status, 400);
    let (status, body) = post(
        "/sms/africastalking/delivery",
        vec![("id", "ATXid_1".into()), ("status", "Success".into())],
        "?token=at-token",
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    let (status, _) = post(
        "/sms/africastalking/delivery",
        vec![("id", "ATXid_1".into())],
        "?token=at-token",
    )
    .await;
    assert_eq!(status, 400);
    app.stop().await;
}

async fn staff_acknowledge_their_own_centres_cases_only(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    let reference = reference_in(&app.sms(GRACE, "REPORT 7 F 2 Y").await);
    // Another centre's staff is refused, and nothing changes.
    let other = app.sms(ALINE, &format!("NABONYE {reference}")).await;
    assert_eq!(
        other,
        format!("Dosiye {reference} si iy'ikigo cyanyu. Nta cyahindutse.")
    );
    assert_eq!(cases(&app).await[0].stage, "new");
    // Volunteers and the public may not acknowledge.
    for phone in [GRACE, STRANGER] {
        let no = app.sms(phone, &format!("ACK {reference}")).await;
        assert_eq!(no, "This is for the centre's staff.", "{phone}");
    }
    // A wrong reference, a check digit off, a case that does not exist.
    let usage = app.sms(CLAUDINE, "ACK").await;
    assert_eq!(usage, "Send ACK and the case number, e.g. ACK 34222358.");
    let mut wrong = reference.as_str().as_bytes().to_vec();
    wrong.swap(3, 4);
    let wrong = String::from_utf8(wrong).unwrap();
    if wrong != reference.as_str() {
        let bad = app.sms(CLAUDINE, &format!("ACK {wrong}")).await;
        assert!(
            bad.ends_with("is not a case number. Check each digit."),
            "{bad}"
        );
    }
    let missing = CaseRef::from_body(1_234_567);
    let none = app.sms(CLAUDINE, &format!("ack {missing}")).await;
    assert_eq!(none, format!("No case {missing}. Check the number."));
    // The right centre: acknowledged once, on the timeline.
    let done = app.sms(CLAUDINE, &format!("ACK {reference}")).await;
    assert_eq!(
        done,
        format!("Case {reference} acknowledged. Thank you. The details are in the staff web view.")
    );
    assert_eq!(cases(&app).await[0].stage, "acknowledged");
    let again = app.sms(JEAN, &format!("RECU {reference}")).await;
    assert_eq!(
        again,
        format!("Le dossier {reference} était déjà pris en compte.")
    );
    let events = app.state.store.case_events(&reference).await.unwrap();
    let acks: Vec<_> = events.iter().filter(|e| e.kind == "acknowledged").collect();
    assert_eq!(acks.len(), 1, "{events:?}");
    assert_eq!(acks[0].channel.as_deref(), Some("sms"));
    assert!(acks[0].actor.as_deref().unwrap().starts_with("staff:"));
    let help = app.sms(CLAUDINE, "help").await;
    assert!(help.starts_with("Kanda staff: reply ACK"), "{help}");
    app.stop().await;
}
