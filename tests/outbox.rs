//! The SMS outbox on both databases: durable and idempotent queueing, the
//! refusal of unsolicited notices, the providers' wire formats against a
//! fake provider (and Twilio's OpenAPI description under Prism), retries,
//! 429 pauses, urgent first, several workers, a provider outage across a
//! killed server, and delivery reports.

mod common;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
    Router,
};
use common::{eventually, new_case, spawn_app_with, spawn_state, Db, TestDb, GRACE, STRANGER};
use kanda::{
    app::Config,
    casework::outbox::OutboxError,
    domain::NewCase,
    domain::Phone,
    domain::Secret,
    domain::SystemClock,
    domain::{NewSms, SmsKind},
    gateway::{AfricasTalkingConfig, SmsProvider, TwilioConfig},
    store::{Attempt, OutboxRow, Store, Table},
    AppState,
};

// ---- a fake provider ----

/// One request the fake provider received.
#[derive(Clone, Debug)]
struct Call {
    at: Instant,
    path: String,
    headers: HeaderMap,
    form: Vec<(String, String)>,
}

impl Call {
    fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn names(&self) -> Vec<&str> {
        self.form.iter().map(|(k, _)| k.as_str()).collect()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What the fake provider answers.
enum Reply {
    /// 201 with Twilio's JSON (`sid`).
    Twilio,
    /// 201 with Africa's Talking's JSON (one recipient, `messageId`).
    AfricasTalking,
    Status(u16, &'static str, Vec<(&'static str, String)>),
    /// Answers only long after any client timeout.
    Hang,
    /// Twilio's 201, after a while.
    SlowTwilio(Duration),
}

type Script = Box<dyn FnMut(&Call, usize) -> Reply + Send>;

#[derive(Clone)]
struct Fake {
    addr: SocketAddr,
    /// Every call, with the status it got.
    calls: Arc<Mutex<Vec<(Call, u16)>>>,
    script: Arc<Mutex<Script>>,
}

impl Fake {
    async fn start(script: impl FnMut(&Call, usize) -> Reply + Send + 'static) -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = Fake {
            addr: listener.local_addr().unwrap(),
            calls: Default::default(),
            script: Arc::new(Mutex::new(Box::new(script))),
        };
        let app = Router::new().fallback(answer).with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn calls(&self) -> Vec<(Call, u16)> {
        self.calls.lock().unwrap().clone()
    }

    /// How many times each body was accepted (2xx).
    fn accepted(&self) -> HashMap<String, usize> {
        let mut n = HashMap::new();
        for (c, status) in self.calls() {
            if (200..300).contains(&status) {
                let body = c.field("Body").or(c.field("message")).unwrap_or("");
                *n.entry(body.to_string()).or_default() += 1;
            }
        }
        n
    }
}

async fn answer(State(fake): State<Fake>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let call = Call {
        at: Instant::now(),
        path: uri.path().to_string(),
        headers,
        form: form_urlencoded::parse(&body).into_owned().collect(),
    };
    let n = fake.calls.lock().unwrap().len();
    let reply = (fake.script.lock().unwrap())(&call, n);
    let (status, response) = match reply {
        Reply::Twilio => (
            201,
            (
                StatusCode::CREATED,
                [("content-type", "application/json")],
                format!(r#"{{"sid":"SM{n:032}","status":"queued","to":"{}"}}"#, call.field("To").unwrap_or("")),
            )
                .into_response(),
        ),
        Reply::AfricasTalking => (
            201,
            (
                StatusCode::CREATED,
                [("content-type", "application/json")],
                format!(r#"{{"SMSMessageData":{{"Message":"Sent to 1/1 Total Cost: KES 0.8000","Recipients":[{{"statusCode":101,"number":"{}","status":"Success","cost":"KES 0.8000","messageId":"ATXid_{n}"}}]}}}}"#, call.field("to").unwrap_or("")),
            )
                .into_response(),
        ),
        Reply::Status(code, body, headers) => {
            let mut r = (StatusCode::from_u16(code).unwrap(), body).into_response();
            for (k, v) in headers {
                r.headers_mut().insert(k, v.parse().unwrap());
            }
            (code, r)
        }
        Reply::SlowTwilio(wait) => {
            fake.calls.lock().unwrap().push((call.clone(), 0));
            tokio::time::sleep(wait).await;
            let mut calls = fake.calls.lock().unwrap();
            if let Some(c) = calls.iter_mut().find(|(c, s)| *s == 0 && c.at == call.at) {
                c.1 = 201;
            }
            return (
                StatusCode::CREATED,
                [("content-type", "application/json")],
                format!(r#"{{"sid":"SM{n:032}","status":"queued"}}"#),
            )
                .into_response();
        }
        Reply::Hang => {
            fake.calls.lock().unwrap().push((call, 0));
            tokio::time::sleep(Duration::from_secs(30)).await;
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
    };
    fake.calls.lock().unwrap().push((call, status));
    response
}

// ---- set-up ----

/// Test timings: retries after 20 ms, polls every 50 ms, half-second
/// timeouts. The lease is long: no test but the fault test (which sets its
/// own) lets one end, and on a loaded machine a live send must not outlive it.
fn quick(db: &TestDb) -> Config {
    let mut c = common::config(db);
    c.outbox.backoff = Duration::from_millis(20);
    c.outbox.poll = Duration::from_millis(50);
    c.outbox.lease = Duration::from_secs(10);
    c.sms.timeout = Duration::from_millis(500);
    c.sms.rate = None;
    c
}

const SID: &str = "AC0123456789abcdef0123456789abcdef";

fn twilio(mut c: Config, url: &str) -> Config {
    c.sms.provider = SmsProvider::Twilio;
    c.sms.twilio = Some(TwilioConfig {
        account_sid: SID.into(),
        auth_token: Secret::new("twilio-token"),
        from: Some("+15005550006".into()),
        api_url: url.into(),
    });
    c
}

fn africastalking(mut c: Config, url: &str) -> Config {
    c.sms.provider = SmsProvider::AfricasTalking;
    c.sms.africastalking = Some(AfricasTalkingConfig {
        username: "kanda".into(),
        api_key: Secret::new("at-key"),
        sender: Some("KANDA".into()),
        api_url: url.into(),
    });
    c
}

/// State over `config`'s database with the demo seeded, and no worker yet.
async fn state(config: Config) -> AppState {
    common::demo_state(config, Arc::new(SystemClock)).await
}

fn phone(p: &str) -> Phone {
    Phone::from_trusted(p.into())
}

fn reply(to: &str, body: &str, key: &str) -> NewSms {
    NewSms {
        to: phone(to),
        body: body.into(),
        urgent: false,
        kind: SmsKind::Reply,
        source_key: key.into(),
        case_id: None,
    }
}

fn notice(to: &str, body: &str, key: &str) -> NewSms {
    NewSms {
        kind: SmsKind::Notice,
        ..reply(to, body, key)
    }
}

async fn message(store: &Store, id: i64) -> OutboxRow {
    store
        .outbox_message(id)
        .await
        .unwrap()
        .expect("the message")
}

async fn status_is(store: &Store, id: i64, status: &str) -> bool {
    message(store, id).await.status == status
}

async fn all_sent(store: &Store) -> bool {
    store
        .list_outbox()
        .await
        .unwrap()
        .iter()
        .all(|m| m.status == "sent")
}

// ---- queueing ----

both!(
    enqueue_is_durable_and_idempotent,
    a_notice_only_goes_to_people_who_opted_in
);

async fn enqueue_is_durable_and_idempotent(db: Db) {
    let db = TestDb::new(db).await;
    let s = state(quick(&db)).await;
    let msg = reply(
        STRANGER,
        "Thank you, we have your message.",
        "sms-in:1:reply",
    );
    let id = s.send_sms(msg.clone()).await.unwrap();
    assert_eq!(
        s.send_sms(msg.clone()).await.unwrap(),
        id,
        "a webhook delivered twice queues one message"
    );
    let other = s
        .send_sms(reply(STRANGER, "Another", "sms-in:2:reply"))
        .await
        .unwrap();
    assert_ne!(other, id);
    drop(s);
    // A fresh process on the same database finds both, queued, as written.
    let again = state(quick(&db)).await;
    assert_eq!(again.store.count(Table::Outbox).await.unwrap(), 2);
    let m = message(&again.store, id).await;
    assert_eq!(
        (
            m.status.as_str(),
            m.to.as_str(),
            m.body.as_str(),
            m.kind.as_str(),
            m.attempts
        ),
        (
            "queued",
            STRANGER,
            "Thank you, we have your message.",
            "reply",
            0
        )
    );
    assert!(matches!(
        again.send_sms(reply(STRANGER, " ", "k")).await,
        Err(OutboxError::Empty)
    ));
}

async fn a_notice_only_goes_to_people_who_opted_in(db: Db) {
    let db = TestDb::new(db).await;
    let s = state(quick(&db)).await;
    let refused = s.send_sms(notice(STRANGER, "Reminder", "n:1")).await;
    match refused {
        Err(OutboxError::Unsolicited(who)) => {
            assert!(
                !who.contains("999001"),
                "the error shows no full number: {who}"
            );
            assert!(OutboxError::Unsolicited(who)
                .to_string()
                .contains("nothing was queued"));
        }
        other => panic!("a notice to a stranger must be refused: {other:?}"),
    }
    assert_eq!(s.store.count(Table::Outbox).await.unwrap(), 0);

    // A volunteer, a caseworker: yes. A reply to anyone: yes.
    s.send_sms(notice(GRACE, "Visit due", "n:2")).await.unwrap();
    s.send_sms(notice("+250788100001", "New case", "n:3"))
        .await
        .unwrap();
    s.send_sms(reply(STRANGER, "Thank you", "n:4"))
        .await
        .unwrap();

    // A member of the public who reported a case: only when not anonymous.
    let place = s.store.children(None).await.unwrap()[0].id;
    let case = |key: &str, who: &str, anonymous: bool| NewCase {
        self_report: true,
        anonymous,
        reporter_phone: Some(phone(who)),
        ..new_case(key, place)
    };
    s.store
        .create_case(&case("c1", "+250788999002", false))
        .await
        .unwrap();
    s.store
        .create_case(&case("c2", "+250788999003", true))
        .await
        .unwrap();
    s.send_sms(notice("+250788999002", "Your case moved", "n:5"))
        .await
        .unwrap();
    assert!(matches!(
        s.send_sms(notice("+250788999003", "Your case moved", "n:6"))
            .await,
        Err(OutboxError::Unsolicited(_))
    ));
    assert_eq!(s.store.count(Table::Outbox).await.unwrap(), 4);
}

// ---- providers ----

both!(
    the_log_provider_marks_sent_and_the_worker_wakes_on_enqueue,
    twilio_gets_its_form_fields_and_basic_auth,
    africastalking_gets_its_form_fields_and_api_key
);

async fn the_log_provider_marks_sent_and_the_worker_wakes_on_enqueue(db: Db) {
    let db = TestDb::new(db).await;
    let mut config = quick(&db);
    // Only the wake-up can send it in time: the worker polls once an hour.
    config.outbox.poll = Duration::from_secs(3600);
    let app = spawn_app_with(config, Arc::new(SystemClock)).await;
    let store = app.state.store.clone();
    let id = app
        .state
        .send_sms(reply(STRANGER, "Hello from the log", "log:1"))
        .await
        .unwrap();
    eventually("sent", || status_is(&store, id, "sent")).await;
    let m = message(&store, id).await;
    assert_eq!(m.provider.as_deref(), Some("log"));
    assert_eq!(m.provider_message_id, Some(format!("log-{id}")));
    assert_eq!(m.attempts, 1);
    assert!(m.sent_at.is_some());
    app.stop().await;
}

async fn twilio_gets_its_form_fields_and_basic_auth(db: Db) {
    let db = TestDb::new(db).await;
    let fake = Fake::start(|_, _| Reply::Twilio).await;
    let mut config = twilio(quick(&db), &fake.url());
    config.public_url = Some("https://kanda.example.org".into());
    let app = spawn_app_with(config, Arc::new(SystemClock)).await;
    let store = app.state.store.clone();
    let id = app
        .state
        .send_sms(reply(GRACE, "Case 34222358: visit today", "tw:1"))
        .await
        .unwrap();
    eventually("sent", || status_is(&store, id, "sent")).await;
    let calls = fake.calls();
    assert_eq!(calls.len(), 1);
    let c = &calls[0].0;
    assert_eq!(c.path, format!("/2010-04-01/Accounts/{SID}/Messages.json"));
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{SID}:twilio-token"));
    assert_eq!(
        c.header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    assert_eq!(
        c.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(c.names(), ["To", "From", "Body", "StatusCallback"]);
    assert_eq!(c.field("To"), Some(GRACE));
    assert_eq!(c.field("From"), Some("+15005550006"));
    assert_eq!(c.field("Body"), Some("Case 34222358: visit today"));
    assert_eq!(
        c.field("StatusCallback"),
        Some("https://kanda.example.org/sms/twilio/status")
    );
    let m = message(&store, id).await;
    assert_eq!(m.provider.as_deref(), Some("twilio"));
    assert_eq!(m.provider_message_id, Some(format!("SM{:032}", 0)));
    assert_eq!(m.provider_status.as_deref(), Some("queued"));
    app.stop().await;
}

async fn africastalking_gets_its_form_fields_and_api_key(db: Db) {
    let db = TestDb::new(db).await;
    let fake = Fake::start(|_, _| Reply::AfricasTalking).await;
    let app = spawn_app_with(
        africastalking(quick(&db), &fake.url()),
        Arc::new(SystemClock),
    )
    .await;
    let store = app.state.store.clone();
    let id = app
        .state
        .send_sms(reply(GRACE, "Habari", "at:1"))
        .await
        .unwrap();
    eventually("sent", || status_is(&store, id, "sent")).await;
    let calls = fake.calls();
    assert_eq!(calls.len(), 1);
    let c = &calls[0].0;
    assert_eq!(c.path, "/version1/messaging");
    assert_eq!(c.header("apikey"), Some("at-key"));
    assert_eq!(c.header("accept"), Some("application/json"));
    assert_eq!(c.header("authorization"), None);
    assert_eq!(c.names(), ["username", "to", "message", "from"]);
    assert_eq!(c.field("username"), Some("kanda"));
    assert_eq!(c.field("to"), Some(GRACE));
    assert_eq!(c.field("message"), Some("Habari"));
    assert_eq!(c.field("from"), Some("KANDA"));
    let m = message(&store, id).await;
    assert_eq!(m.provider.as_deref(), Some("africastalking"));
    assert_eq!(m.provider_message_id.as_deref(), Some("ATXid_0"));
    assert_eq!(m.provider_status.as_deref(), Some("Success"));
    app.stop().await;
}

both!(a_graceful_stop_lets_the_send_in_flight_finish);

async fn a_graceful_stop_lets_the_send_in_flight_finish(db: Db) {
    let db = TestDb::new(db).await;
    let fake = Fake::start(|_, _| Reply::SlowTwilio(Duration::from_millis(300))).await;
    let app = spawn_app_with(twilio(quick(&db), &fake.url()), Arc::new(SystemClock)).await;
    let store = app.state.store.clone();
    let id = app
        .state
        .send_sms(reply(GRACE, "in flight", "g:1"))
        .await
        .unwrap();
    eventually("the provider has the request", || async {
        !fake.calls().is_empty()
    })
    .await;
    assert_eq!(message(&store, id).await.status, "sending");
    // A deploy's SIGTERM: the send finishes and is recorded before the
    // server is gone, so the next start has nothing to send again.
    app.stop().await;
    let m = message(&store, id).await;
    assert_eq!((m.status.as_str(), m.attempts), ("sent", 1), "{m:?}");
    assert_eq!(fake.accepted()["in flight"], 1);
}

both!(africastalking_recipient_codes_decide_between_failed_and_retry);

/// Africa's Talking answers 201 even when it refuses the recipient: the
/// recipient's `statusCode` decides.
async fn africastalking_recipient_codes_decide_between_failed_and_retry(db: Db) {
    let db = TestDb::new(db).await;
    const INVALID: &str = r#"{"SMSMessageData":{"Message":"Sent to 0/1 Total Cost: 0","Recipients":[{"statusCode":403,"number":"+250788000001","status":"InvalidPhoneNumber","cost":"0","messageId":"None"}]}}"#;
    const GATEWAY: &str = r#"{"SMSMessageData":{"Message":"Sent to 0/1 Total Cost: 0","Recipients":[{"statusCode":502,"number":"+250788000001","status":"RejectedByGateway","cost":"0","messageId":"None"}]}}"#;
    let mut flaky_seen = 0;
    let fake = Fake::start(move |c, _| match c.field("message") {
        Some("bad") => Reply::Status(
            201,
            INVALID,
            vec![("content-type", "application/json".into())],
        ),
        _ if flaky_seen == 0 => {
            flaky_seen += 1;
            Reply::Status(
                201,
                GATEWAY,
                vec![("content-type", "application/json".into())],
            )
        }
        _ => Reply::AfricasTalking,
    })
    .await;
    let mut config = africastalking(quick(&db), &fake.url());
    config.outbox.concurrency = 1;
    let s = state(config).await;
    let bad = s.send_sms(reply(GRACE, "bad", "a:1")).await.unwrap();
    let flaky = s.send_sms(reply(GRACE, "flaky", "a:2")).await.unwrap();
    let _worker = s.outbox.spawn(s.store.clone());
    eventually("both settled", || async {
        status_is(&s.store, bad, "failed").await && status_is(&s.store, flaky, "sent").await
    })
    .await;
    let (b, f) = (message(&s.store, bad).await, message(&s.store, flaky).await);
    assert_eq!(b.attempts, 1, "no retry for an invalid number");
    assert!(b
        .last_error
        .unwrap_or_default()
        .contains("InvalidPhoneNumber (statusCode 403)"));
    assert_eq!(f.attempts, 2, "a gateway refusal is retried");
    assert!(f
        .provider_message_id
        .unwrap_or_default()
        .starts_with("ATXid_"));
}

// ---- retries ----

both!(
    a_503_and_a_timeout_are_retried_until_sent,
    a_refused_connection_fails_after_the_attempt_limit_and_retry_requeues,
    failed_after_the_attempt_limit_then_kanda_outbox_retry_sends_it,
    a_4xx_fails_at_once_without_retry,
    a_429_pauses_the_provider_and_is_not_an_attempt
);

async fn a_503_and_a_timeout_are_retried_until_sent(db: Db) {
    let db = TestDb::new(db).await;
    let fake = Fake::start(|_, n| match n {
        0 => Reply::Status(503, "busy", vec![]),
        1 => Reply::Hang,
        _ => Reply::Twilio,
    })
    .await;
    let app = spawn_app_with(twilio(quick(&db), &fake.url()), Arc::new(SystemClock)).await;
    let store = app.state.store.clone();
    let id = app
        .state
        .send_sms(reply(GRACE, "retry me", "r:1"))
        .await
        .unwrap();
    eventually("sent", || status_is(&store, id, "sent")).await;
    let m = message(&store, id).await;
    assert_eq!(m.attempts, 3, "503, timeout, then accepted");
    assert_eq!(fake.accepted()["retry me"], 1);
    let calls = fake.calls();
    assert_eq!(calls.len(), 3, "{calls:?}");
    // Each retry waited its backoff (20 ms, then 40 ms, ±20 %).
    assert!(calls[1].0.at - calls[0].0.at >= Duration::from_millis(15));
    app.stop().await;
}

async fn a_refused_connection_fails_after_the_attempt_limit_and_retry_requeues(db: Db) {
    let db = TestDb::new(db).await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut config = twilio(quick(&db), &format!("http://{closed}"));
    config.outbox.max_attempts = 3;
    let app = spawn_app_with(config, Arc::new(SystemClock)).await;
    let store = app.state.store.clone();
    let id = app
        .state
        .send_sms(reply(GRACE, "nobody home", "c:1"))
        .await
        .unwrap();
    eventually("failed", || status_is(&store, id, "failed")).await;
    let m = message(&store, id).await;
    assert_eq!(m.attempts, 3);
    let error = m.last_error.unwrap_or_default();
    assert!(error.starts_with("twilio: "), "{error}");
    assert!(!error.contains("twilio-token"), "{error}");

    // Back in the queue with its attempts reset; the provider is still
    // down, so it fails again after three more.
    store.retry_sms(id).await.unwrap();
    eventually("failed again", || async {
        let m = message(&store, id).await;
        m.status == "failed" && m.attempts == 3
    })
    .await;
    app.stop().await;
}

async fn failed_after_the_attempt_limit_then_kanda_outbox_retry_sends_it(db: Db) {
    let db = TestDb::new(db).await;
    let fake = Fake::start(|_, n| match n {
        0..=2 => Reply::Status(503, "down", vec![]),
        _ => Reply::Twilio,
    })
    .await;
    let mut config = twilio(quick(&db), &fake.url());
    config.outbox.max_attempts = 3;
    let app = spawn_app_with(config, Arc::new(SystemClock)).await;
    let store = app.state.store.clone();
    let id = app
        .state
        .send_sms(reply(GRACE, "try later", "k:1"))
        .await
        .unwrap();
    eventually("failed", || status_is(&store, id, "failed")).await;
    let m = message(&store, id).await;
    assert_eq!(m.attempts, 3);
    assert!(m.last_error.unwrap_or_default().contains("503"));

    // An operator requeues it from another process; this server's worker
    // finds it by polling and the provider, back, takes it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kanda"))
        .args(["outbox", "retry", &id.to_string()])
        .env("DATABASE_URL", &db.url)
        .env("KANDA_DATA_KEY", common::TEST_DATA_KEY)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eventually("sent", || status_is(&store, id, "sent")).await;
    let m = message(&store, id).await;
    assert_eq!(m.attempts, 1, "counted afresh after the retry");
    assert_eq!(fake.accepted()["try later"], 1);
    app.stop().await;
}

async fn a_4xx_fails_at_once_without_retry(db: Db) {
    let db = TestDb::new(db).await;
    let fake = Fake::start(|c, _| match c.field("Body") {
        Some("bad number") => Reply::Status(
            400,
            r#"{"code":21211,"message":"The 'To' number is not a valid phone number.","status":400}"#,
            vec![("content-type", "application/json".into())],
        ),
        _ => Reply::Status(
            401,
            r#"{"code":20003,"message":"Authenticate","status":401}"#,
            vec![("content-type", "application/json".into())],
        ),
    })
    .await;
    let app = spawn_app_with(twilio(quick(&db), &fake.url()), Arc::new(SystemClock)).await;
    let store = app.state.store.clone();
    let a = app
        .state
        .send_sms(reply(GRACE, "bad number", "x:1"))
        .await
        .unwrap();
    let b = app
        .state
        .send_sms(reply(GRACE, "bad token", "x:2"))
        .await
        .unwrap();
    eventually("both failed", || async {
        status_is(&store, a, "failed").await && status_is(&store, b, "failed").await
    })
    .await;
    let (ma, mb) = (message(&store, a).await, message(&store, b).await);
    assert_eq!((ma.attempts, mb.attempts), (1, 1));
    assert!(
        ma.last_error.as_deref().unwrap_or("").contains("21211"),
        "{ma:?}"
    );
    assert!(
        mb.last_error.as_deref().unwrap_or("").contains("401"),
        "{mb:?}"
    );
    assert_eq!(fake.calls().len(), 2, "no retry after a 4xx");
    app.stop().await;
}

async fn a_429_pauses_the_provider_and_is_not_an_attempt(db: Db) {
    let db = TestDb::new(db).await;
    let fake = Fake::start(|_, n| match n {
        0 => Reply::Status(429, "slow down", vec![("retry-after", "1".into())]),
        _ => Reply::Twilio,
    })
    .await;
    let mut config = twilio(quick(&db), &fake.url());
    config.outbox.concurrency = 1;
    let s = state(config).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let msg = reply(GRACE, &format!("m{i}"), &format!("p:{i}"));
        ids.push(s.send_sms(msg).await.unwrap());
    }
    let worker = s.outbox.spawn(s.store.clone());
    eventually("all sent", || all_sent(&s.store)).await;
    let calls = fake.calls();
    assert_eq!(calls.len(), 4, "one 429, then each message once");
    assert_eq!(calls[0].1, 429);
    for (c, _) in &calls[1..] {
        assert!(
            c.at - calls[0].0.at >= Duration::from_millis(950),
            "nothing reached the provider before its Retry-After"
        );
    }
    let first = message(&s.store, ids[0]).await;
    assert_eq!(first.attempts, 1, "the 429 did not count");
    worker.abort();
}

// ---- order, rate, several workers ----

both!(
    urgent_messages_jump_the_queue,
    the_worker_keeps_to_its_rate,
    two_workers_never_send_a_message_twice
);

async fn urgent_messages_jump_the_queue(db: Db) {
    let db = TestDb::new(db).await;
    let fake = Fake::start(|_, _| Reply::Twilio).await;
    let mut config = twilio(quick(&db), &fake.url());
    config.outbox.concurrency = 1;
    let s = state(config).await;
    for i in 0..4 {
        s.send_sms(reply(GRACE, &format!("routine {i}"), &format!("u:{i}")))
            .await
            .unwrap();
    }
    let mut urgent = notice(GRACE, "DANGER NOW", "u:urgent");
    urgent.urgent = true;
    s.send_sms(urgent).await.unwrap();
    let worker = s.outbox.spawn(s.store.clone());
    eventually("all sent", || all_sent(&s.store)).await;
    let bodies: Vec<String> = fake
        .calls()
        .iter()
        .map(|(c, _)| c.field("Body").unwrap_or("").to_string())
        .collect();
    assert_eq!(
        bodies,
        [
            "DANGER NOW",
            "routine 0",
            "routine 1",
            "routine 2",
            "routine 3"
        ]
    );
    worker.abort();
}

async fn the_worker_keeps_to_its_rate(db: Db) {
    let db = TestDb::new(db).await;
    let fake = Fake::start(|_, _| Reply::Twilio).await;
    let mut config = twilio(quick(&db), &fake.url());
    config.sms.rate = Some(20.0); // a burst of 2, then one every 50 ms
    let s = state(config).await;
    for i in 0..10 {
        s.send_sms(reply(GRACE, &format!("paced {i}"), &format!("r:{i}")))
            .await
            .unwrap();
    }
    let worker = s.outbox.spawn(s.store.clone());
    eventually("all sent", || all_sent(&s.store)).await;
    let calls = fake.calls();
    assert_eq!(calls.len(), 10);
    let span = calls[9].0.at - calls[0].0.at;
    assert!(
        span >= Duration::from_millis(350),
        "10 messages at 20/s (burst 2) take 400 ms or more: {span:?}"
    );
    worker.abort();
}

async fn two_workers_never_send_a_message_twice(db: Db) {
    let db = TestDb::new(db).await;
    let fake = Fake::start(|_, _| Reply::Twilio).await;
    let config = twilio(quick(&db), &fake.url());
    // Two instances on one database (on SQLite: two stores on one file,
    // each with its own group-commit writer).
    let a = state(config.clone()).await;
    let b = state(config).await;
    let n = 300;
    let mut queue = Vec::new();
    for i in 0..n {
        let s = if i % 2 == 0 { &a } else { &b };
        queue.push(s.send_sms(reply(GRACE, &format!("once {i}"), &format!("w:{i}"))));
    }
    for q in queue {
        q.await.unwrap();
    }
    let workers = [
        a.outbox.spawn(a.store.clone()),
        b.outbox.spawn(b.store.clone()),
    ];
    eventually("all sent", || all_sent(&a.store)).await;
    let accepted = fake.accepted();
    assert_eq!(accepted.len(), n, "every message arrived");
    assert!(
        accepted.values().all(|&k| k == 1),
        "a message went out twice: {:?}",
        accepted.iter().filter(|(_, &k)| k > 1).collect::<Vec<_>>()
    );
    assert_eq!(fake.calls().len(), n);
    for w in workers {
        w.abort();
    }
}

// ---- the fault test (issue 3) ----

both!(an_outage_then_a_killed_server_lose_and_duplicate_nothing);

/// The provider answers 503 for a while, then recovers: every queued
/// message is delivered exactly once after recovery; and a server killed
/// during the outage, and started again on the same database, resumes the
/// outbox without loss or duplicates.
async fn an_outage_then_a_killed_server_lose_and_duplicate_nothing(db: Db) {
    let db = TestDb::new(db).await;
    let healthy = Arc::new(AtomicBool::new(false));
    let fake = Fake::start({
        let healthy = healthy.clone();
        // The outage: 503s, and every third call hangs past the timeout
        // (so some messages are `sending` when the server dies).
        move |_, n| match (healthy.load(Ordering::SeqCst), n % 3) {
            (true, _) => Reply::Twilio,
            (false, 0) => Reply::Hang,
            (false, _) => Reply::Status(503, "Service Unavailable", vec![]),
        }
    })
    .await;
    let mut config = twilio(quick(&db), &fake.url());
    // The outage outlasts no message's attempts.
    config.outbox.max_attempts = 1000;
    // Long enough that no send of a live worker (300 ms at most, plus
    // scheduling on a loaded machine) outlives its lease and is taken over.
    config.outbox.lease = Duration::from_millis(2500);
    config.sms.timeout = Duration::from_millis(300);
    // The first server runs on a runtime of its own, so that killing it is
    // what a crash does to a process: when the runtime is dropped, every
    // one of its tasks (server, worker, sends in flight) is gone, none half
    // alive. (Aborting a task on a shared runtime lets a send it had just
    // spawned reach the provider a moment later.)
    let n = 40;
    let first_config = config.clone();
    let first = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let first = spawn_state(state(first_config).await).await;
            for i in 0..n {
                let mut msg = reply(GRACE, &format!("alert {i}"), &format!("f:{i}"));
                msg.urgent = i % 5 == 0;
                first.state.send_sms(msg).await.unwrap();
            }
            let store = first.state.store.clone();
            eventually(
                "every message tried twice during the outage, some in flight",
                || async {
                    let all = store.list_outbox().await.unwrap();
                    all.iter().all(|m| m.attempts >= 2) && all.iter().any(|m| m.status == "sending")
                },
            )
            .await;
            drop(first);
        });
        // Killed mid-outage: some messages are claimed (`sending`), the
        // rest wait for their retry; no send is let finish. Dropping the
        // runtime returns once every one of its tasks is gone.
        drop(runtime);
    });
    tokio::task::spawn_blocking(move || first.join().unwrap())
        .await
        .unwrap();
    assert!(fake.accepted().is_empty());

    // The provider recovers; a new server starts on the same database.
    healthy.store(true, Ordering::SeqCst);
    let second = spawn_app_with(config, Arc::new(SystemClock)).await;
    let store = second.state.store.clone();
    eventually("every message sent after recovery", || all_sent(&store)).await;
    let accepted = fake.accepted();
    assert_eq!(accepted.len(), n, "no message lost: {accepted:?}");
    assert!(
        accepted.values().all(|&k| k == 1),
        "each message exactly once: {accepted:?}"
    );
    assert_eq!(store.count(Table::Outbox).await.unwrap(), n as i64);
    second.stop().await;
}

// ---- delivery reports ----

both!(delivery_reports_map_known_statuses_and_record_every_one);

/// Claims every queued message for a test "worker" and records it sent
/// with the given provider id.
async fn mark_sent(store: &Store, id: i64, provider: &str, provider_id: &str) {
    store
        .claim_sms("t", 100, Duration::from_secs(60))
        .await
        .unwrap();
    let sent = Attempt::Sent {
        provider_message_id: Some(provider_id.into()),
        provider_status: None,
        note: None,
    };
    assert!(store
        .sms_attempted(id, "t", provider, 8, sent)
        .await
        .unwrap());
}

async fn delivery_reports_map_known_statuses_and_record_every_one(db: Db) {
    let db = TestDb::new(db).await;
    let s = state(quick(&db)).await;
    let store = &s.store;
    let ids: Vec<i64> = {
        let mut ids = Vec::new();
        for i in 0..5 {
            ids.push(
                s.send_sms(reply(GRACE, &format!("d{i}"), &format!("d:{i}")))
                    .await
                    .unwrap(),
            );
        }
        ids
    };
    mark_sent(store, ids[0], "twilio", "SM1").await;
    mark_sent(store, ids[1], "twilio", "SM2").await;
    mark_sent(store, ids[2], "twilio", "SM3").await;
    mark_sent(store, ids[3], "africastalking", "ATXid_1").await;
    mark_sent(store, ids[4], "africastalking", "ATXid_2").await;
    let report = |p: &'static str, id: &'static str, st: &'static str| async move {
        // The gateway reads the provider's word, the store records both.
        let status = match p {
            "twilio" => kanda::gateway::twilio::delivery_status(st),
            _ => kanda::gateway::africastalking::delivery_status(st),
        };
        store.delivery_report(p, id, st, status).await.unwrap()
    };
    let seen = |id: i64| async move {
        let m = message(store, id).await;
        (m.status, m.provider_status.unwrap_or_default())
    };

    // Twilio: queued/sending keep `sent`; delivered; a late `sent` never
    // downgrades; an unknown status is recorded, never an error.
    assert!(report("twilio", "SM1", "sending").await);
    assert_eq!(seen(ids[0]).await, ("sent".into(), "sending".into()));
    assert!(report("twilio", "SM1", "delivered").await);
    assert_eq!(seen(ids[0]).await, ("delivered".into(), "delivered".into()));
    assert!(report("twilio", "SM1", "sent").await);
    assert_eq!(seen(ids[0]).await, ("delivered".into(), "sent".into()));
    assert!(report("twilio", "SM1", "read-by-the-moon").await);
    assert_eq!(
        seen(ids[0]).await,
        ("delivered".into(), "read-by-the-moon".into())
    );
    assert!(report("twilio", "SM2", "undelivered").await);
    assert_eq!(seen(ids[1]).await.0, "undelivered");
    assert!(report("twilio", "SM3", "failed").await);
    assert_eq!(seen(ids[2]).await.0, "failed");

    // Africa's Talking.
    assert!(report("africastalking", "ATXid_1", "Buffered").await);
    assert_eq!(seen(ids[3]).await, ("sent".into(), "Buffered".into()));
    assert!(report("africastalking", "ATXid_1", "Success").await);
    assert_eq!(seen(ids[3]).await.0, "delivered");
    assert!(report("africastalking", "ATXid_2", "Rejected").await);
    assert_eq!(seen(ids[4]).await, ("failed".into(), "Rejected".into()));

    // No such message, or another provider's id: nothing matched.
    assert!(!report("twilio", "SM404", "delivered").await);
    assert!(!report("africastalking", "SM2", "Success").await);

    // An undelivered message can be queued again by an operator.
    store.retry_sms(ids[1]).await.unwrap();
    let m = message(store, ids[1]).await;
    assert_eq!((m.status.as_str(), m.attempts), ("queued", 0));
    let e = store.retry_sms(ids[0]).await.unwrap_err().to_string();
    assert!(e.contains("is delivered"), "{e}");
}

// ---- Twilio's own description of its API, served by Prism ----

both!(twilio_requests_satisfy_twilio_s_openapi_description);

/// Prism, started on a free port, killed when dropped.
struct Prism {
    child: std::process::Child,
    url: String,
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn prism() -> Option<Prism> {
    let Ok(bin) = std::env::var("KANDA_TEST_PRISM") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but KANDA_TEST_PRISM is not: the Twilio provider must be checked against Twilio's OpenAPI description (see .ci/run)"
        );
        eprintln!("KANDA_TEST_PRISM is unset: the Prism check of the Twilio provider is skipped (bash .ci/run sets it)");
        return None;
    };
    let spec = std::env::var("KANDA_TEST_TWILIO_OAI").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/reference/twilio-oai/twilio_api_v2010.json"
        )
        .into()
    });
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(&bin)
        .args(["mock", "-h", "127.0.0.1", "-p", &port.to_string(), &spec])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start Prism ({bin}): {e}"));
    let prism = Prism {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while http.get(&prism.url).send().await.is_err() {
        assert!(Instant::now() < deadline, "Prism did not start listening");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Some(prism)
}

async fn twilio_requests_satisfy_twilio_s_openapi_description(db: Db) {
    let Some(prism) = prism().await else { return };
    let db = TestDb::new(db).await;
    let mut config = twilio(quick(&db), &prism.url);
    config.public_url = Some("https://kanda.example.org".into());
    config.sms.timeout = Duration::from_secs(5);
    config.outbox.lease = Duration::from_secs(30);
    config.outbox.max_attempts = 1; // a refusal shows at once
    let app = spawn_app_with(config.clone(), Arc::new(SystemClock)).await;
    let store = app.state.store.clone();
    let id = app
        .state
        .send_sms(reply(GRACE, "Case 34222358: visit today", "prism:1"))
        .await
        .unwrap();
    eventually("Prism answered", || async {
        message(&store, id).await.status != "queued"
            && message(&store, id).await.status != "sending"
    })
    .await;
    let m = message(&store, id).await;
    assert_eq!(
        m.status, "sent",
        "Prism refused the request: {:?}",
        m.last_error
    );
    let sid = m.provider_message_id.unwrap_or_default();
    assert!(
        sid.starts_with("SM"),
        "a sid parsed from Prism's answer: {sid}"
    );

    // The validation is live: the same request without `To`, or without
    // credentials, is refused.
    let twilio = config.sms.twilio.as_ref().unwrap();
    let (url, form) = kanda::gateway::twilio::api::twilio_request(twilio, None, &phone(GRACE), "x");
    let without_to: Vec<_> = form.iter().filter(|(k, _)| *k != "To").collect();
    let http = reqwest::Client::new();
    let refused = http
        .post(&url)
        .basic_auth(&twilio.account_sid, Some(twilio.auth_token.expose()))
        .form(&without_to)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 422);
    let why = refused.text().await.unwrap();
    assert!(why.contains("'To'"), "{why}");
    let anonymous = http.post(&url).form(&form).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    app.stop().await;
}
