//! The operators' metrics and logs, on SQLite and PostgreSQL: `/metrics`
//! read by a strict Prometheus text-format parser; its counters moved by a
//! whole USSD report (requests by route, the case created once, the hops'
//! histogram, the outbox's sends); its gauges read from the database (the
//! queue and its oldest message, due and overdue timers, alerts past their
//! deadline, the pool); its token; and no phone number, name, case
//! reference or session id in it, nor in the JSON log lines of the real
//! binary driven through a USSD report and an SMS.

mod common;

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    process::{Command, Stdio},
    sync::{mpsc, Arc},
    time::Duration,
};

use common::{
    demo_state, eventually, reference_in, spawn_app_with, tuesday_morning, Db, TestDb, CLAUDINE,
    GRACE,
};
use kanda::{
    app::metrics::HOP_BUCKETS,
    domain::{meter::*, Clock, NewSms, Phone, Secret, SmsKind},
    store::{NewEvent, NewTimer},
    AppState,
};
use openmetrics_parser::{
    prometheus::parse_prometheus, HistogramValue, MetricsExposition, PrometheusType,
    PrometheusValue,
};

/// Grace reports a girl named Amina, 7, neglect, in danger, in her own
/// village (as tests/ussd.rs).
const REPORT: [&str; 10] = ["1", "Amina", "7", "1", "2", "2", "1", "1", "1", "1"];

both!(
    a_ussd_report_moves_the_counters,
    the_gauges_read_the_database,
    the_token_gates_the_metrics,
    json_logs_carry_no_phone_number_nor_name,
);

/// One scrape, parsed.
struct Scrape {
    text: String,
    parsed: MetricsExposition<PrometheusType, PrometheusValue>,
}

impl Scrape {
    fn parse(text: String) -> Scrape {
        let parsed = parse_prometheus(&text)
            .unwrap_or_else(|e| panic!("not the Prometheus text format: {e:?}\n{text}"));
        Scrape { text, parsed }
    }

    /// The value of family `name`'s sample with exactly `labels`.
    fn sample(&self, name: &str, labels: &[(&str, &str)]) -> Option<&PrometheusValue> {
        let family = self.parsed.families.get(name)?;
        family
            .iter_samples()
            .find(|s| {
                let set = s.get_labelset().expect("labels");
                set.iter().count() == labels.len()
                    && labels
                        .iter()
                        .all(|(k, v)| set.get_label_value(k) == Some(*v))
            })
            .map(|s| &s.value)
    }

    /// A counter's or a gauge's value.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        match self.sample(name, labels)? {
            PrometheusValue::Counter(c) => Some(c.value.as_f64()),
            PrometheusValue::Gauge(g) => Some(g.as_f64()),
            other => panic!("{name} is not a counter or a gauge: {other:?}"),
        }
    }

    fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Option<&HistogramValue> {
        match self.sample(name, labels)? {
            PrometheusValue::Histogram(h) => Some(h),
            other => panic!("{name} is not a histogram: {other:?}"),
        }
    }

    fn family_type(&self, name: &str) -> Option<&PrometheusType> {
        self.parsed.families.get(name).map(|f| &f.family_type)
    }
}

/// `GET /metrics` on `addr` with an optional bearer token: status, body.
async fn get_metrics(addr: SocketAddr, token: Option<&str>) -> (u16, String) {
    let mut req = reqwest::Client::new().get(format!("http://{addr}/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let (status, ctype, body) = common::answer(req).await;
    if status == 200 {
        assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    }
    (status, body)
}

async fn scrape(addr: SocketAddr) -> Scrape {
    let (status, text) = get_metrics(addr, None).await;
    assert_eq!(status, 200, "{text}");
    Scrape::parse(text)
}

/// What no scrape and no log line may hold: the reporter's number in any
/// spelling, the child's name, and (when known) the case's reference and
/// the session's id.
fn assert_no_personal_data(text: &str, also: &[&str]) {
    for word in ["+2507", "250788000001", "0788000001", "Amina", "Jean Bosco"]
        .iter()
        .chain(also)
    {
        assert!(!text.contains(word), "{word:?} in:\n{text}");
    }
}

async fn a_ussd_report_moves_the_counters(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let app = spawn_app_with(common::config(&db), Arc::new(clock.clone())).await;
    let requests = |route: &'static str, method: &'static str, status: &'static str| {
        [("route", route), ("method", method), ("status", status)]
    };

    // The app's own recorder: nothing counted before anything happened.
    let first = scrape(app.addr).await;
    assert_eq!(first.value(CASES_CREATED, &[("channel", "ussd")]), None);
    assert_eq!(
        first.value(HTTP_REQUESTS, &requests("/metrics", "GET", "200")),
        None,
        "a scrape is counted once answered"
    );

    let session = "metrics-session-4417";
    let done = app.session(session, GRACE, &REPORT).await;
    let reference = reference_in(&done);
    // The gateway's retry of the last hop finds the case made: no second case.
    let again = app.hop(session, GRACE, &REPORT.join("*")).await;
    assert_eq!(reference_in(&again), reference);
    let hops = REPORT.len() + 2;

    // A staff page by its template (never the reference), and a path no
    // route matches (never the raw path).
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = no_redirect
        .get(app.url(&format!("/cases/{reference}")))
        .send()
        .await
        .unwrap();
    let page_status = page.status().as_u16().to_string();
    let lost = no_redirect
        .get(app.url("/nowhere/+250788000001"))
        .send()
        .await
        .unwrap();
    assert_eq!(lost.status(), 404);

    let after = scrape(app.addr).await;
    assert_eq!(
        after.value(
            HTTP_REQUESTS,
            &requests("/ussd/africastalking", "POST", "200")
        ),
        Some(hops as f64)
    );
    assert_eq!(
        after.value(HTTP_REQUESTS, &requests("/metrics", "GET", "200")),
        Some(1.0)
    );
    assert_eq!(
        after.value(
            HTTP_REQUESTS,
            &[
                ("route", "/cases/{reference}"),
                ("method", "GET"),
                ("status", page_status.as_str())
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        after.value(HTTP_REQUESTS, &requests("unmatched", "GET", "404")),
        Some(1.0)
    );
    assert_eq!(
        after.value(CASES_CREATED, &[("channel", "ussd")]),
        Some(1.0)
    );
    assert_eq!(after.value(CASES_CREATED, &[("channel", "sms")]), None);

    // Every hop in the histogram, in the buckets from 1 ms to 5 s.
    let h = after
        .histogram(USSD_HOP_SECONDS, &[("gateway", "africastalking")])
        .expect("the hop histogram");
    assert_eq!(h.count, Some(hops as u64));
    let bounds: Vec<f64> = h.buckets.iter().map(|b| b.upper_bound).collect();
    let mut expected = HOP_BUCKETS.to_vec();
    expected.push(f64::INFINITY);
    assert_eq!(bounds, expected);
    let counts: Vec<f64> = h.buckets.iter().map(|b| b.count.as_f64()).collect();
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    assert_eq!(counts.last(), Some(&(hops as f64)));
    assert!(h.sum.as_ref().is_some_and(|s| s.as_f64() > 0.0));
    assert_eq!(
        after.histogram(USSD_HOP_SECONDS, &[("gateway", "hubtel")]),
        None
    );

    for (name, kind) in [
        (HTTP_REQUESTS, PrometheusType::Counter),
        (CASES_CREATED, PrometheusType::Counter),
        (USSD_HOP_SECONDS, PrometheusType::Histogram),
        (OUTBOX_MESSAGES, PrometheusType::Gauge),
        (OUTBOX_OLDEST_QUEUED_AGE, PrometheusType::Gauge),
        (TIMERS_DUE, PrometheusType::Gauge),
        (TIMERS_OVERDUE, PrometheusType::Gauge),
        (ALERTS_UNACKNOWLEDGED_OVERDUE, PrometheusType::Gauge),
        (DB_POOL_CONNECTIONS, PrometheusType::Gauge),
        (DB_POOL_MAX_CONNECTIONS, PrometheusType::Gauge),
    ] {
        assert_eq!(after.family_type(name), Some(&kind), "{name}");
    }

    // The case's alert reaches the staff on duty: each send the outbox
    // recorded is counted, and the queue empties.
    let store = app.state.store.clone();
    let addr = app.addr;
    eventually("the alert sent and counted", || {
        let store = store.clone();
        async move {
            let rows = store.list_outbox().await.unwrap();
            let sent = rows.iter().filter(|r| r.status == "sent").count() as f64;
            let s = scrape(addr).await;
            sent > 0.0
                && rows.iter().all(|r| r.status == "sent")
                && s.value(OUTBOX_SENDS, &[("result", "sent")]) == Some(sent)
                && s.value(OUTBOX_MESSAGES, &[("state", "queued")]) == Some(0.0)
        }
    })
    .await;

    let last = scrape(app.addr).await;
    assert_no_personal_data(&last.text, &[reference.as_str(), session]);
    app.stop().await;
}

/// The router alone over `state`: no scheduler, no outbox worker, so
/// what the database holds stays as the test left it.
async fn serve_only(state: AppState) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = kanda::app(state).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move {
        axum::serve(listener, service).await.unwrap();
    });
    (addr, server)
}

fn timer(key: &str, kind: &str, case_id: Option<i64>, due_at: i64) -> NewTimer {
    NewTimer {
        case_id,
        kind: kind.into(),
        level: Some(1),
        due_at,
        source_key: key.into(),
        payload: None,
        quiet: false,
    }
}

async fn the_gauges_read_the_database(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let state = demo_state(common::config(&db), Arc::new(clock.clone())).await;
    let store = state.store.clone();
    let (addr, server) = serve_only(state.clone()).await;

    // The outbox: three queued, the oldest 90 s ago.
    let base = scrape(addr).await;
    assert_eq!(
        base.value(OUTBOX_MESSAGES, &[("state", "queued")]),
        Some(0.0)
    );
    assert_eq!(base.value(OUTBOX_OLDEST_QUEUED_AGE, &[]), Some(0.0));
    for i in 0..3 {
        state
            .send_sms(NewSms {
                to: Phone::from_trusted(CLAUDINE.into()),
                body: format!("notice {i}"),
                urgent: false,
                kind: SmsKind::Notice,
                source_key: format!("metrics-notice-{i}"),
                case_id: None,
            })
            .await
            .unwrap();
        clock.advance(chrono::Duration::seconds(30));
    }
    let s = scrape(addr).await;
    assert_eq!(s.value(OUTBOX_MESSAGES, &[("state", "queued")]), Some(3.0));
    assert_eq!(s.value(OUTBOX_MESSAGES, &[("state", "sending")]), Some(0.0));
    assert_eq!(s.value(OUTBOX_OLDEST_QUEUED_AGE, &[]), Some(90.0));

    // Timers: due once their time has come, overdue past the scheduler's
    // poll and lease (61 s by default) without a run.
    let base = scrape(addr).await;
    let (due, overdue) = (
        base.value(TIMERS_DUE, &[]).unwrap(),
        base.value(TIMERS_OVERDUE, &[]).unwrap(),
    );
    let now = clock.now_ms();
    for (key, at) in [
        ("t-just-due", now),
        ("t-60s", now - 60_000),
        ("t-61s", now - 61_000),
        ("t-5m", now - 300_000),
        ("t-later", now + 3_600_000),
    ] {
        store
            .schedule(&timer(key, "review", None, at))
            .await
            .unwrap();
    }
    let s = scrape(addr).await;
    assert_eq!(s.value(TIMERS_DUE, &[]), Some(due + 4.0));
    assert_eq!(s.value(TIMERS_OVERDUE, &[]), Some(overdue + 2.0));

    // Alerts: a case still new past its acknowledgement deadline, whether
    // its `ack` timer waits to run or has run (an escalation).
    let place = store.children(None).await.unwrap()[0].id;
    let mut ids = vec![];
    for key in ["metrics-a", "metrics-b"] {
        let reference = state
            .work
            .register_case(&common::new_case(key, place))
            .await
            .unwrap();
        ids.push(store.case_id(&reference).await.unwrap().expect("id"));
    }
    let (a, b) = (ids[0], ids[1]);
    // A report saved again (a retry, another server) finds its case: one count.
    let again = state
        .work
        .register_case(&common::new_case("metrics-a", place))
        .await
        .unwrap();
    assert_eq!(store.case_id(&again).await.unwrap(), Some(a));
    assert_eq!(
        scrape(addr)
            .await
            .value(CASES_CREATED, &[("channel", "ussd")]),
        Some(2.0)
    );
    let base = scrape(addr)
        .await
        .value(ALERTS_UNACKNOWLEDGED_OVERDUE, &[])
        .unwrap();
    let deadline = clock.now_ms() + 3_600_000;
    store
        .schedule(&timer("metrics-ack-a", "ack", Some(a), deadline))
        .await
        .unwrap();
    let alerts = |s: Scrape| s.value(ALERTS_UNACKNOWLEDGED_OVERDUE, &[]).unwrap() - base;
    assert_eq!(alerts(scrape(addr).await), 0.0, "before the deadline");
    clock.advance(chrono::Duration::hours(2));
    assert_eq!(alerts(scrape(addr).await), 1.0, "past it, not yet run");
    store
        .record_event(&NewEvent {
            case_id: b,
            kind: "escalated",
            actor: Some("kanda".into()),
            channel: Some("sms".into()),
            outcome: Some("level 2".into()),
            note: None,
            source_key: "metrics-escalated-b".into(),
        })
        .await
        .unwrap();
    assert_eq!(alerts(scrape(addr).await), 2.0, "and one escalated");
    assert!(store.move_stage(a, "new", "acknowledged").await.unwrap());
    assert!(store.move_stage(b, "new", "acknowledged").await.unwrap());
    assert_eq!(alerts(scrape(addr).await), 0.0, "acknowledged at last");

    // The pool: its bound, and no more connections than that.
    let s = scrape(addr).await;
    let max = s.value(DB_POOL_MAX_CONNECTIONS, &[]).unwrap();
    assert_eq!(
        max,
        if store.dialect() == kanda::store::Dialect::Sqlite {
            4.0
        } else {
            10.0
        }
    );
    let idle = s.value(DB_POOL_CONNECTIONS, &[("state", "idle")]).unwrap();
    let in_use = s
        .value(DB_POOL_CONNECTIONS, &[("state", "in_use")])
        .unwrap();
    assert!(
        idle >= 0.0 && in_use >= 0.0 && idle + in_use <= max,
        "{idle} {in_use}"
    );
    assert!(
        idle + in_use >= 1.0,
        "the scrape's own reads opened a connection"
    );
    assert_no_personal_data(&s.text, &[CLAUDINE, "0788100001"]);

    server.abort();
}

async fn the_token_gates_the_metrics(db: Db) {
    let db = TestDb::new(db).await;
    let mut config = common::config(&db);
    config.metrics_token = Some(Secret::new("scrape-me-7f3a"));
    let app = spawn_app_with(config, Arc::new(tuesday_morning())).await;
    let (status, body) = get_metrics(app.addr, None).await;
    assert_eq!(status, 401, "{body}");
    assert!(!body.contains("kanda_"), "{body}");
    let (status, _) = get_metrics(app.addr, Some("scrape-me-7f3")).await;
    assert_eq!(status, 401);
    let (status, _) = get_metrics(app.addr, Some("scrape-me-7f3a-")).await;
    assert_eq!(status, 401);
    let basic = reqwest::Client::new()
        .get(app.url("/metrics"))
        .basic_auth("prometheus", Some("scrape-me-7f3a"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401, "a bearer token, not a password");
    let (status, text) = get_metrics(app.addr, Some("scrape-me-7f3a")).await;
    assert_eq!(status, 200);
    let s = Scrape::parse(text);
    // The refused scrapes were counted too, by their status.
    assert_eq!(
        s.value(
            HTTP_REQUESTS,
            &[("route", "/metrics"), ("method", "GET"), ("status", "401")]
        ),
        Some(4.0)
    );
    assert!(!s.text.contains("scrape-me"), "the token is no label");
    app.stop().await;
}

/// Reads a child's output lines on a thread of its own (a full pipe would
/// stall the server), handing each over.
fn lines_of(out: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

async fn json_logs_carry_no_phone_number_nor_name(db: Db) {
    let db = TestDb::new(db).await;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kanda"))
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("DATABASE_URL", &db.url)
        .env("KANDA_LOG_FORMAT", "json")
        .env("KANDA_LOG", "kanda=debug,info")
        .env_remove("KANDA_FLOWS_DIR")
        .env_remove("KANDA_LOCALES_DIR")
        .env_remove("KANDA_GATEWAY_TOKEN")
        .env_remove("KANDA_TWILIO_AUTH_TOKEN")
        .env_remove("KANDA_SMS_PROVIDER")
        .env_remove("KANDA_METRICS_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kanda serve");
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = lines_of(child.stderr.take().unwrap());

    // The address it bound, from its own line on standard output.
    let mut printed = vec![];
    let addr: SocketAddr = loop {
        let line = stdout
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no listening line; stdout: {printed:?}"));
        if let Some(rest) = line.strip_prefix("Kanda listening on http://") {
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
        printed.push(line);
    };
    let http = reqwest::Client::new();
    let base = format!("http://{addr}");

    // A whole USSD report naming the child, and a hop from a number that
    // cannot be read (its error would quote it).
    let ussd = |session: &'static str, phone: &'static str, text: String| {
        let body = serde_urlencoded::to_string([
            ("sessionId", session),
            ("serviceCode", "*384*123#"),
            ("phoneNumber", phone),
            ("networkCode", "63510"),
            ("text", text.as_str()),
        ])
        .unwrap();
        http.post(format!("{base}/ussd/africastalking"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let mut last = String::new();
    for i in 0..=REPORT.len() {
        let res = ussd("log-session-1", GRACE, REPORT[..i].join("*"))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        last = res.text().await.unwrap();
    }
    let reference = reference_in(&last);
    let res = ussd("log-session-2", "+2507880000999999", String::new())
        .await
        .unwrap();
    assert!(res.text().await.unwrap().starts_with("END "));

    // An SMS report naming the child, signed as Twilio signs it.
    let url = format!("{base}/sms/twilio");
    let sid = format!("SM{}", kanda::domain::random_token());
    let fields = [
        ("MessageSid", sid.as_str()),
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("From", GRACE),
        ("To", "+250788999999"),
        ("Body", "report 88 m 1 n  s-huy-ngo-01 Jean Bosco"),
    ];
    let signature =
        kanda::gateway::twilio::signature::compute(kanda::cli::DEMO_TWILIO_TOKEN, &url, &fields);
    let res = http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("X-Twilio-Signature", signature)
        .body(serde_urlencoded::to_string(fields).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let twiml = res.text().await.unwrap();
    let sms_reference = reference_in(&twiml);

    // Stopped as systemd stops it; every line it wrote is then read.
    let stopped = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    if !stopped {
        child.kill().unwrap();
    }
    let status = child.wait().unwrap();
    assert!(!stopped || status.success(), "{status:?}");
    let log: Vec<String> = stderr.iter().collect();
    printed.extend(stdout.iter());

    assert!(!log.is_empty());
    let mut messages = vec![];
    for line in &log {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(
            v["timestamp"].is_string() && v["level"].is_string(),
            "{line}"
        );
        messages.push(v["message"].as_str().unwrap_or_default().to_string());
    }
    for expected in [
        "serving",
        "USSD request with an unreadable phone number",
        "SMS outbox worker stopped",
    ] {
        assert!(
            messages.iter().any(|m| m == expected),
            "no {expected:?} among {messages:?}"
        );
    }
    assert_no_personal_data(
        &log.join("\n"),
        &[reference.as_str(), sms_reference.as_str(), "log-session"],
    );
    // Standard output is the demo's printout, not the log: no JSON there.
    assert!(printed.iter().all(|l| !l.starts_with('{')), "{printed:?}");
}
