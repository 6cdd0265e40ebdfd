//! The USSD aggregators that send one input at a time (Hubtel, Nalo,
//! Arkesel, Beem), each through its real request and reply bodies, and the
//! offer to continue a report a dropped line cut short, over Africa's
//! Talking and over a one-input gateway, on SQLite and on PostgreSQL.

mod common;

use std::sync::Arc;

use common::{reference_in, spawn_app_with, Db, TestApp, TestDb, GRACE, MARIE, STRANGER};
use kanda::{
    domain::{Clock, ManualClock},
    store::Table,
};
use serde_json::{json, Value};

/// Grace reports a girl of 7, neglect, in danger, in her own village.
const REPORT: [&str; 10] = ["1", "Amina", "7", "1", "2", "2", "1", "1", "1", "1"];

both!(
    every_gateway_dials_answers_and_files_one_case,
    every_gateway_answers_a_retried_hop_with_the_same_screen,
    every_gateway_pages_a_long_list,
    every_gateway_refuses_a_bad_body_and_a_wrong_token_in_its_own_shape,
    a_gateway_s_end_of_session_is_recorded,
    a_dropped_report_is_continued_on_the_next_dial,
    starting_again_discards_the_unfinished_answers,
    no_offer_after_the_window_or_to_another_phone,
    a_second_instance_serves_the_resumed_dial,
    a_wrong_key_at_the_offer_is_answered_kindly,
);

#[derive(Clone, Copy, Debug)]
enum Gw {
    Hubtel,
    Nalo,
    Arkesel,
    Beem,
}

const GATEWAYS: [Gw; 4] = [Gw::Hubtel, Gw::Nalo, Gw::Arkesel, Gw::Beem];

/// What a hop sends.
enum Hop<'a> {
    Dial,
    Input(&'a str, u32),
    End,
}

impl Gw {
    fn path(self) -> &'static str {
        match self {
            Gw::Hubtel => "/ussd/hubtel",
            Gw::Nalo => "/ussd/nalo",
            Gw::Arkesel => "/ussd/arkesel",
            Gw::Beem => "/ussd/beem",
        }
    }

    /// The aggregator's request body; phones as they send them (no `+`).
    fn body(self, session: &str, phone: &str, hop: Hop<'_>) -> Value {
        let msisdn = phone.trim_start_matches('+');
        match (self, hop) {
            (Gw::Hubtel, hop) => {
                let (kind, message, seq) = match hop {
                    Hop::Dial => ("Initiation", "*713*4#", 1),
                    Hop::Input(i, seq) => ("Response", i, seq + 1),
                    Hop::End => ("Release", "", 99),
                };
                json!({"SessionId": session, "Mobile": msisdn, "ServiceCode": "713*4",
                       "Type": kind, "Message": message, "Operator": "mtn",
                       "Sequence": seq, "ClientState": "", "Platform": "USSD"})
            }
            (Gw::Nalo, hop) => {
                let (flag, data) = match hop {
                    Hop::Dial => (true, "*920#"),
                    Hop::Input(i, _) => (false, i),
                    Hop::End => (false, ""),
                };
                json!({"USERID": "NALOTest", "MSISDN": msisdn, "USERDATA": data,
                       "MSGTYPE": flag, "NETWORK": "MTN", "SESSIONID": session})
            }
            (Gw::Arkesel, hop) => {
                let (new, data) = match hop {
                    Hop::Dial => (true, "*928*01#"),
                    Hop::Input(i, _) => (false, i),
                    Hop::End => (false, ""),
                };
                json!({"sessionID": session, "userID": "ARKESEL_UID", "newSession": new,
                       "msisdn": msisdn, "userData": data, "network": "MTN"})
            }
            (Gw::Beem, hop) => {
                let (command, id, response) = match hop {
                    Hop::Dial => ("initiate", 0, json!(0)),
                    Hop::Input(i, seq) => ("continue", seq, json!(i)),
                    Hop::End => ("terminate", 99, json!("")),
                };
                json!({"command": command, "msisdn": msisdn, "session_id": session,
                       "operator": "vodacom",
                       "payload": {"request_id": id, "response": response}})
            }
        }
    }

    /// The screen's text and whether it ends the session, read from the
    /// reply (checking the fields the aggregator echoes, when it came from
    /// a request of `session`).
    fn screen(self, reply: &Value, session: Option<&str>) -> (String, bool) {
        let text = |k: &str| {
            reply[k]
                .as_str()
                .unwrap_or_else(|| panic!("{k} in {reply}"))
                .to_string()
        };
        match self {
            Gw::Hubtel => {
                let end = match reply["Type"].as_str() {
                    Some("Response") => false,
                    Some("Release") => true,
                    _ => panic!("Type in {reply}"),
                };
                (text("Message"), end)
            }
            Gw::Nalo => {
                if session.is_some() {
                    assert_eq!(reply["USERID"], "NALOTest", "{reply}");
                    assert!(
                        reply["MSISDN"].as_str().unwrap().starts_with("250"),
                        "{reply}"
                    );
                }
                (text("MSG"), !reply["MSGTYPE"].as_bool().expect("MSGTYPE"))
            }
            Gw::Arkesel => {
                if let Some(session) = session {
                    assert_eq!(reply["sessionID"], session, "{reply}");
                    assert_eq!(reply["userID"], "ARKESEL_UID", "{reply}");
                }
                (
                    text("message"),
                    !reply["continueSession"].as_bool().expect("continueSession"),
                )
            }
            Gw::Beem => {
                if let Some(session) = session {
                    assert_eq!(reply["session_id"], session, "{reply}");
                }
                assert!(reply["payload"]["request_id"].is_number(), "{reply}");
                let end = match reply["command"].as_str() {
                    Some("continue") => false,
                    Some("terminate") => true,
                    _ => panic!("command in {reply}"),
                };
                (
                    reply["payload"]["request"]
                        .as_str()
                        .expect("request")
                        .to_string(),
                    end,
                )
            }
        }
    }
}

async fn post(app: &TestApp, path: &str, body: String) -> (u16, Value) {
    let r = app
        .http
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
    )
}

/// A server over the test's database, on a clock the test moves.
struct Line {
    app: TestApp,
    clock: ManualClock,
}

/// Its sessions end unfinished after five silent minutes (the tests'
/// sessions run on after one another on the same phones).
async fn line(db: &TestDb) -> Line {
    let clock = ManualClock::at(chrono::Utc::now());
    let app = spawn_app_with(timeout_config(db), Arc::new(clock.clone())).await;
    Line { app, clock }
}

fn timeout_config(db: &TestDb) -> kanda::app::Config {
    let mut config = common::config(db);
    config.session_timeout = std::time::Duration::from_secs(300);
    config
}

impl Line {
    /// One hop through gateway `gw`, three seconds after the last (a
    /// person reads the screen and presses a key): the screen and whether
    /// it ended.
    async fn hop(&self, gw: Gw, session: &str, phone: &str, h: Hop<'_>) -> (String, bool) {
        self.clock.advance(chrono::Duration::seconds(3));
        self.again(gw, session, phone, h).await
    }

    /// The same, at once: what a gateway's retry looks like.
    async fn again(&self, gw: Gw, session: &str, phone: &str, h: Hop<'_>) -> (String, bool) {
        let (status, reply) =
            post(&self.app, gw.path(), gw.body(session, phone, h).to_string()).await;
        assert_eq!(status, 200, "{gw:?}: {reply}");
        gw.screen(&reply, Some(session))
    }

    /// The dial and `inputs` in turn; the last screen.
    async fn run(&self, gw: Gw, session: &str, phone: &str, inputs: &[&str]) -> (String, bool) {
        let mut last = self.hop(gw, session, phone, Hop::Dial).await;
        for (i, input) in inputs.iter().enumerate() {
            last = self
                .hop(gw, session, phone, Hop::Input(input, i as u32 + 1))
                .await;
        }
        last
    }

    /// An Africa's Talking hop (every input so far), three seconds later.
    async fn at(&self, session: &str, phone: &str, text: &str) -> String {
        self.clock.advance(chrono::Duration::seconds(3));
        self.app.hop(session, phone, text).await
    }

    /// An Africa's Talking session: the dial and each input in turn.
    async fn at_session(&self, session: &str, phone: &str, inputs: &[&str]) -> String {
        let mut last = self.at(session, phone, "").await;
        for i in 1..=inputs.len() {
            last = self.at(session, phone, &inputs[..i].join("*")).await;
        }
        last
    }

    fn silence(&self, seconds: i64) {
        self.clock.advance(chrono::Duration::seconds(seconds));
    }
}

async fn every_gateway_dials_answers_and_files_one_case(db: Db) {
    let db = TestDb::new(db).await;
    let l = line(&db).await;
    for (n, gw) in GATEWAYS.into_iter().enumerate() {
        let session = format!("{gw:?}-1");
        let (menu, end) = l.hop(gw, &session, GRACE, Hop::Dial).await;
        assert!(
            menu.starts_with("Kanda child protection\n1. Report a child"),
            "{gw:?}: {menu}"
        );
        assert!(!end);
        let mut last = (String::new(), false);
        for (i, input) in REPORT[..9].iter().enumerate() {
            last = l
                .hop(gw, &session, GRACE, Hop::Input(input, i as u32 + 1))
                .await;
        }
        assert!(
            last.0.starts_with("Check: A girl, age 7, Neglect."),
            "{gw:?}: {last:?}"
        );
        assert!(!last.1);
        assert_eq!(
            l.app.state.store.count(Table::Cases).await.unwrap(),
            n as i64
        );
        let (done, end) = l.hop(gw, &session, GRACE, Hop::Input("1", 10)).await;
        assert!(
            done.starts_with("Thank you. The centre is alerted now."),
            "{gw:?}: {done}"
        );
        assert!(end, "{gw:?}: the last screen ends the session");
        let reference = reference_in(&done);
        assert_eq!(
            l.app.state.store.count(Table::Cases).await.unwrap(),
            n as i64 + 1
        );
        let cases = l.app.state.store.list_cases().await.unwrap();
        assert!(
            cases.iter().any(|c| c.reference == reference.as_str()),
            "{gw:?}"
        );
    }
    l.app.stop().await;
}

async fn every_gateway_answers_a_retried_hop_with_the_same_screen(db: Db) {
    let db = TestDb::new(db).await;
    let l = line(&db).await;
    for gw in GATEWAYS {
        let session = format!("{gw:?}-r");
        l.hop(gw, &session, GRACE, Hop::Dial).await;
        let first = l.hop(gw, &session, GRACE, Hop::Input("1", 1)).await;
        // The same hop again (same sequence, or the same input at once).
        let again = l.again(gw, &session, GRACE, Hop::Input("1", 1)).await;
        assert_eq!(first, again, "{gw:?}");
        // The next answer lands on the next question, not two further.
        let (age, _) = l.hop(gw, &session, GRACE, Hop::Input("Amina", 2)).await;
        assert!(age.starts_with("Child's age"), "{gw:?}: {age}");
        for (i, input) in REPORT.iter().enumerate().skip(2) {
            l.hop(gw, &session, GRACE, Hop::Input(input, i as u32 + 1))
                .await;
        }
        // The final confirmation sent again files no second case.
        let again = l.again(gw, &session, GRACE, Hop::Input("1", 10)).await;
        assert!(
            again.1 && again.0.starts_with("Thank you."),
            "{gw:?}: {again:?}"
        );
    }
    assert_eq!(l.app.state.store.count(Table::Cases).await.unwrap(), 4);
    l.app.stop().await;
}

async fn every_gateway_pages_a_long_list(db: Db) {
    let db = TestDb::new(db).await;
    let l = line(&db).await;
    // Skip name, age unknown, boy, disability unknown, separated, parents,
    // not in danger; another village: province, district, sector, Tumba.
    let inputs = ["1", "1", "99", "2", "3", "3", "1", "2", "2", "1", "1", "2"];
    for gw in GATEWAYS {
        let session = format!("{gw:?}-p");
        let (page1, _) = l.run(gw, &session, GRACE, &inputs).await;
        assert!(
            page1.contains("98. More") && !page1.contains("Sahera"),
            "{gw:?}: {page1}"
        );
        let (page2, _) = l.hop(gw, &session, GRACE, Hop::Input("98", 13)).await;
        assert!(page2.contains("14. Sahera"), "{gw:?}: {page2}");
    }
    l.app.stop().await;
}

async fn every_gateway_refuses_a_bad_body_and_a_wrong_token_in_its_own_shape(db: Db) {
    let db = TestDb::new(db).await;
    let mut config = common::config(&db);
    config.gateway_token = Some(kanda::domain::Secret::new("s3cret".to_string()));
    let app = spawn_app_with(config, Arc::new(kanda::domain::SystemClock)).await;
    for gw in GATEWAYS {
        let body = gw.body("b1", GRACE, Hop::Dial).to_string();
        let (status, reply) = post(&app, &format!("{}?token=nope", gw.path()), body.clone()).await;
        assert_eq!(status, 403, "{gw:?}");
        let (_, end) = gw.screen(&reply, None);
        assert!(end, "{gw:?}: {reply}");
        let (status, reply) = post(
            &app,
            &format!("{}?token=s3cret", gw.path()),
            "{not json".into(),
        )
        .await;
        assert_eq!(status, 400, "{gw:?}");
        let (text, end) = gw.screen(&reply, None);
        assert!(end && text.starts_with("Sorry"), "{gw:?}: {reply}");
        // Well-formed JSON without a session id.
        let (status, reply) = post(&app, &format!("{}?token=s3cret", gw.path()), "{}".into()).await;
        assert_eq!(status, 400, "{gw:?}");
        assert!(gw.screen(&reply, None).1, "{gw:?}");
        let (status, reply) = post(&app, &format!("{}?token=s3cret", gw.path()), body).await;
        assert_eq!(status, 200, "{gw:?}");
        assert!(
            gw.screen(&reply, Some("b1")).0.starts_with("Kanda"),
            "{gw:?}: {reply}"
        );
    }
    assert_eq!(app.state.store.count(Table::Cases).await.unwrap(), 0);
    app.stop().await;
}

/// Africa's Talking's session notification, as its form.
async fn notify(app: &TestApp, id: &str, status: &str) -> (u16, String) {
    let body = serde_urlencoded::to_string([
        ("date", "2026-12-04 08:00:00"),
        ("sessionId", id),
        ("serviceCode", "*384*123#"),
        ("networkCode", "63510"),
        ("phoneNumber", GRACE),
        ("status", status),
        ("cost", "RWF 0.00"),
        ("durationInMillis", "30512"),
        ("hopsCount", "2"),
        ("input", "1"),
        ("lastAppResponse", "CON Child's first name?"),
        ("errorMessage", ""),
    ])
    .unwrap();
    let r = app
        .http
        .post(app.url("/ussd/africastalking/events"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn a_gateway_s_end_of_session_is_recorded(db: Db) {
    let db = TestDb::new(db).await;
    let l = line(&db).await;
    for gw in [Gw::Hubtel, Gw::Beem] {
        let session = format!("{gw:?}-e");
        l.run(gw, &session, GRACE, &["1", "Amina"]).await;
        let (_, end) = l.hop(gw, &session, GRACE, Hop::End).await;
        assert!(end, "{gw:?}");
        let row = l.app.state.store.session(&session).await.unwrap().unwrap();
        assert_eq!(row.ended.as_deref(), Some("dropped"), "{gw:?}");
    }
    // Africa's Talking's notification: Incomplete is dropped, Success done.
    l.at_session("at-e1", GRACE, &["1"]).await;
    assert_eq!(
        notify(&l.app, "at-e1", "Incomplete").await,
        (200, "OK".into())
    );
    let row = l.app.state.store.session("at-e1").await.unwrap().unwrap();
    assert_eq!(row.ended.as_deref(), Some("dropped"));
    let done = l.at_session("at-e2", GRACE, &REPORT).await;
    assert!(done.starts_with("END Thank you."), "{done}");
    assert_eq!(notify(&l.app, "at-e2", "Success").await.0, 200);
    let row = l.app.state.store.session("at-e2").await.unwrap().unwrap();
    assert_eq!(row.ended.as_deref(), Some("done"));
    assert_eq!(notify(&l.app, "at-e2", "Nonsense").await.0, 400);
    l.app.stop().await;
}

const OFFER: &str = "You did not finish your last report.\n1. Continue your unfinished report (2 of 10 answered)\n2. Start again";

async fn a_dropped_report_is_continued_on_the_next_dial(db: Db) {
    let db = TestDb::new(db).await;
    let l = line(&db).await;
    // Over Africa's Talking: report, name, age, then the line drops.
    l.at_session("d1", GRACE, &REPORT[..3]).await;
    l.silence(301);
    let offer = l.at("d2", GRACE, "").await;
    assert_eq!(offer, format!("CON {OFFER}"));
    assert!(!offer.contains("Amina"), "the offer shows no answer");
    // Continue: the next unanswered question (girl or boy), answers kept.
    let next = l.at("d2", GRACE, "1").await;
    assert!(next.contains("1. A girl"), "{next}");
    let mut typed = vec!["1"];
    typed.extend(&REPORT[3..9]);
    let summary = l.at("d2", GRACE, &typed.join("*")).await;
    assert!(summary.contains("A girl, age 7, Neglect"), "{summary}");
    typed.push("1");
    let done = l.at("d2", GRACE, &typed.join("*")).await;
    assert!(done.starts_with("END Thank you."), "{done}");
    assert_eq!(l.app.state.store.count(Table::Cases).await.unwrap(), 1);
    // Over a one-input gateway: the line goes silent past the time-out.
    l.run(Gw::Nalo, "n1", MARIE, &REPORT[..3]).await;
    l.silence(301);
    let (offer, _) = l.hop(Gw::Nalo, "n2", MARIE, Hop::Dial).await;
    assert!(offer.contains("(2 sur 10"), "{offer}");
    let (next, _) = l.hop(Gw::Nalo, "n2", MARIE, Hop::Input("1", 1)).await;
    assert!(next.contains("1. Féminin"), "{next}");
    let mut last = (String::new(), false);
    for (i, input) in REPORT[3..].iter().enumerate() {
        last = l
            .hop(Gw::Nalo, "n2", MARIE, Hop::Input(input, i as u32 + 2))
            .await;
    }
    assert!(last.1 && last.0.starts_with("Merci."), "{last:?}");
    assert_eq!(l.app.state.store.count(Table::Cases).await.unwrap(), 2);
    // Once continued, the old answers are never offered again.
    l.silence(301);
    let menu = l.at("d3", GRACE, "").await;
    assert!(menu.starts_with("CON Kanda child protection"), "{menu}");
    l.app.stop().await;
}

async fn starting_again_discards_the_unfinished_answers(db: Db) {
    let db = TestDb::new(db).await;
    let l = line(&db).await;
    l.at_session("s1", GRACE, &REPORT[..3]).await;
    l.silence(301);
    assert_eq!(l.at("s2", GRACE, "").await, format!("CON {OFFER}"));
    let menu = l.at("s2", GRACE, "2").await;
    assert!(
        menu.starts_with("CON Kanda child protection\n1. Report a child"),
        "{menu}"
    );
    let old = l.app.state.store.session("s1").await.unwrap().unwrap();
    assert!(
        old.inputs.is_empty(),
        "the old answers are gone: {:?}",
        old.inputs
    );
    // The new session goes on from the menu: a report from its start.
    let name = l.at("s2", GRACE, "2*1").await;
    assert!(name.contains("first name"), "{name}");
    l.at("s2", GRACE, "2*1*Kalisa").await;
    l.silence(301);
    // s2 is now unfinished with one answer of its own.
    let offer = l.at("s3", GRACE, "").await;
    assert!(offer.contains("(1 of 10"), "{offer}");
    l.app.stop().await;
}

async fn no_offer_after_the_window_or_to_another_phone(db: Db) {
    let db = TestDb::new(db).await;
    let l = line(&db).await;
    l.at_session("w1", GRACE, &REPORT[..3]).await;
    // Within the telco's time-out a dial is not yet a return: no offer.
    let menu = l.at("w3", GRACE, "").await;
    assert!(
        menu.starts_with("CON Kanda child protection"),
        "too soon: {menu}"
    );
    l.silence(301);
    let menu = l.at("w0", STRANGER, "").await;
    assert!(!menu.contains("unfinished"), "another phone: {menu}");
    l.silence(16 * 60);
    let menu = l.at("w2", GRACE, "").await;
    assert!(
        menu.starts_with("CON Kanda child protection"),
        "after the window: {menu}"
    );
    // The purge deletes the unfinished answers at the end of the window.
    let window = l.app.state.config.resume_window;
    let purged = l
        .app
        .state
        .store
        .purge_sessions(l.clock.now_ms() - window.as_millis() as i64)
        .await
        .unwrap();
    assert!(purged >= 1);
    assert!(l.app.state.store.session("w1").await.unwrap().is_none());
    l.app.stop().await;
}

async fn a_second_instance_serves_the_resumed_dial(db: Db) {
    let db = TestDb::new(db).await;
    let one = line(&db).await;
    let two = Line {
        app: spawn_app_with(timeout_config(&db), Arc::new(one.clock.clone())).await,
        clock: one.clock.clone(),
    };
    one.run(Gw::Arkesel, "x1", GRACE, &REPORT[..3]).await;
    one.silence(301);
    let (offer, _) = two.hop(Gw::Arkesel, "x2", GRACE, Hop::Dial).await;
    assert_eq!(offer, OFFER);
    let (next, _) = one.hop(Gw::Arkesel, "x2", GRACE, Hop::Input("1", 1)).await;
    assert!(next.contains("1. A girl"), "{next}");
    let mut last = (String::new(), false);
    for (i, input) in REPORT[3..].iter().enumerate() {
        let server = if i % 2 == 0 { &two } else { &one };
        last = server
            .hop(Gw::Arkesel, "x2", GRACE, Hop::Input(input, i as u32 + 2))
            .await;
    }
    assert!(last.1 && last.0.starts_with("Thank you."), "{last:?}");
    assert_eq!(one.app.state.store.count(Table::Cases).await.unwrap(), 1);
    one.app.stop().await;
    two.app.stop().await;
}

async fn a_wrong_key_at_the_offer_is_answered_kindly(db: Db) {
    let db = TestDb::new(db).await;
    let l = line(&db).await;
    l.at_session("k1", GRACE, &REPORT[..3]).await;
    l.silence(301);
    l.at("k2", GRACE, "").await;
    let again = l.at("k2", GRACE, "7").await;
    assert_eq!(again, format!("CON Please choose 1 to 2.\n{OFFER}"));
    let next = l.at("k2", GRACE, "7*1").await;
    assert!(next.contains("1. A girl"), "{next}");
    // The same through a gateway that sends the latest input only.
    l.run(Gw::Beem, "k3", MARIE, &REPORT[..3]).await;
    l.silence(301);
    let (offer, _) = l.hop(Gw::Beem, "k4", MARIE, Hop::Dial).await;
    assert!(offer.contains("(2 sur 10"), "{offer}");
    let (again, _) = l.hop(Gw::Beem, "k4", MARIE, Hop::Input("7", 1)).await;
    assert!(
        again.starts_with("Veuillez choisir") || again.contains("1 à 2"),
        "{again}"
    );
    let (again, _) = l.hop(Gw::Beem, "k4", MARIE, Hop::Input("8", 2)).await;
    assert!(again.contains("(2 sur 10"), "still the offer: {again}");
    let (next, _) = l.hop(Gw::Beem, "k4", MARIE, Hop::Input("1", 3)).await;
    assert!(next.contains("1. Féminin"), "{next}");
    l.app.stop().await;
}
