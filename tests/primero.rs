//! The push of cases to Primero, on both databases, against a fake Primero
//! that checks every request as Primero's v2 API would (a bearer token it
//! issued and has not revoked, `{"data": {...}}`, a client-generated id
//! answered 204 once and 409 after, PATCH only of a case it holds): new
//! cases and their changes, only the mapped fields, retries, a conflict
//! after a lost answer, a refusal, Primero down across a restart, and the
//! token's refresh before its expiry and after a 401.

mod common;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{patch, post},
    Json, Router,
};
use base64::Engine as _;
use common::{
    api, case_at, eventually, spawn_state, token, Browser, Db, TestApp, TestDb, CLAUDINE,
};
use kanda::{
    app::{Config, PrimeroConfig},
    casework::{primero::PushConfig, staff_actor},
    domain::{CaseRef, Phone, Role, Scope, Secret, StageChange, SystemClock},
    gateway::primero::PrimeroSettings,
    AppState,
};
use serde_json::{json, Value};

const USER: &str = "kanda-push";
const PASSWORD: &str = "s3cret-push";
const SOUTH: &str = "S-HUY-TUM-01";

// ---- a fake Primero ----

#[derive(Clone, Debug)]
struct Call {
    method: &'static str,
    path: String,
    bearer: Option<String>,
    body: Value,
    status: u16,
}

/// What the next requests meet, before Primero's own rules.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Trouble {
    /// 503 to each of the next n case requests.
    Unavailable(usize),
    /// Keeps the next creation, then answers 500 (the answer is lost).
    LoseAnswer,
    /// 422 to the next creation.
    Invalid,
}

#[derive(Default)]
struct Primero {
    calls: Vec<Call>,
    /// Tokens issued and still good.
    tokens: Vec<String>,
    issued: usize,
    /// Seconds a token lives (its `exp`).
    lifetime: i64,
    records: HashMap<String, Value>,
    trouble: Vec<Trouble>,
}

#[derive(Clone)]
struct Fake(Arc<Mutex<Primero>>);

impl Fake {
    fn new() -> Fake {
        Fake(Arc::new(Mutex::new(Primero {
            lifetime: 3600,
            ..Default::default()
        })))
    }

    /// Serves on `listener` until the test ends.
    fn serve(&self, listener: tokio::net::TcpListener) {
        let app = Router::new()
            .route("/api/v2/tokens", post(sign_in))
            .route("/api/v2/cases", post(create))
            .route("/api/v2/cases/{id}", patch(update))
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    }

    fn with<T>(&self, f: impl FnOnce(&mut Primero) -> T) -> T {
        f(&mut self.0.lock().unwrap())
    }

    fn calls(&self) -> Vec<Call> {
        self.with(|p| p.calls.clone())
    }

    fn case_calls(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.path.starts_with("/api/v2/cases"))
            .collect()
    }

    fn record(&self, id: &str) -> Option<Value> {
        self.with(|p| p.records.get(id).cloned())
    }

    fn records(&self) -> usize {
        self.with(|p| p.records.len())
    }

    fn trouble(&self, t: Trouble) {
        self.with(|p| p.trouble.push(t));
    }
}

fn jwt(exp: i64) -> String {
    let part = |v: String| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.fake",
        part(r#"{"alg":"HS256","typ":"JWT"}"#.into()),
        part(format!(
            r#"{{"sub":"1","exp":{exp},"jti":"{}"}}"#,
            rand::random::<u64>()
        ))
    )
}

fn errors(code: u16, message: &str) -> Value {
    json!({"errors": [{"code": code, "resource": "/api/v2/cases", "message": message}]})
}

fn log(
    fake: &Fake,
    method: &'static str,
    path: String,
    headers: &HeaderMap,
    body: &Value,
    status: u16,
) {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    fake.with(|p| {
        p.calls.push(Call {
            method,
            path,
            bearer,
            body: body.clone(),
            status,
        })
    });
}

async fn sign_in(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let good = body["user"]["user_name"] == USER && body["user"]["password"] == PASSWORD;
    let (status, answer) = if good {
        let token = fake.with(|p| {
            p.issued += 1;
            let t = jwt(chrono::Utc::now().timestamp() + p.lifetime);
            p.tokens.push(t.clone());
            t
        });
        (200, json!({"user_name": USER, "token": token}))
    } else {
        (401, json!({"error": "Invalid User name or password."}))
    };
    log(
        &fake,
        "POST",
        "/api/v2/tokens".into(),
        &headers,
        &body,
        status,
    );
    (StatusCode::from_u16(status).unwrap(), Json(answer)).into_response()
}

/// The bearer is one Primero issued and has not revoked.
fn authorised(fake: &Fake, headers: &HeaderMap) -> bool {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    bearer.is_some_and(|b| fake.with(|p| p.tokens.iter().any(|t| t == b)))
}

async fn create(State(fake): State<Fake>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let (status, answer) = if !authorised(&fake, &headers) {
        (401, errors(401, "Unauthorized"))
    } else if !body["data"].is_object() {
        (422, errors(422, "no data"))
    } else {
        let id = body["data"]["id"].as_str().unwrap_or("").to_string();
        assert_eq!(id.len(), 36, "a client-generated UUID: {body}");
        let trouble = fake.with(|p| {
            let t = p.trouble.first().copied();
            match t {
                Some(Trouble::Unavailable(n)) if n > 1 => {
                    p.trouble[0] = Trouble::Unavailable(n - 1)
                }
                Some(_) => {
                    p.trouble.remove(0);
                }
                None => {}
            }
            t
        });
        match trouble {
            Some(Trouble::Unavailable(_)) => (503, errors(503, "Service Unavailable")),
            Some(Trouble::Invalid) => (
                422,
                json!({"errors": [{"code": 422, "resource": "/api/v2/cases", "message": "Please enter the date in a valid format (dd-mmm-yyyy)", "detail": "registration_date"}]}),
            ),
            other => {
                let fresh = fake.with(|p| {
                    if p.records.contains_key(&id) {
                        false
                    } else {
                        p.records.insert(id.clone(), body["data"].clone());
                        true
                    }
                });
                match (fresh, other) {
                    (false, _) => (409, errors(409, "Conflict")),
                    (true, Some(Trouble::LoseAnswer)) => {
                        (500, errors(500, "Internal Server Error"))
                    }
                    (true, _) => (204, Value::Null),
                }
            }
        }
    };
    log(
        &fake,
        "POST",
        "/api/v2/cases".into(),
        &headers,
        &body,
        status,
    );
    if status == 204 {
        return StatusCode::NO_CONTENT.into_response();
    }
    (StatusCode::from_u16(status).unwrap(), Json(answer)).into_response()
}

async fn update(
    State(fake): State<Fake>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let (status, answer) = if !authorised(&fake, &headers) {
        (401, errors(401, "Unauthorized"))
    } else {
        let merged = fake.with(|p| {
            let record = p.records.get_mut(&id)?;
            for (k, v) in body["data"].as_object()? {
                record[k] = v.clone();
            }
            Some(record.clone())
        });
        match merged {
            Some(record) => (200, json!({"data": record})),
            None => (404, errors(404, "Not Found")),
        }
    };
    log(
        &fake,
        "PATCH",
        format!("/api/v2/cases/{id}"),
        &headers,
        &body,
        status,
    );
    (StatusCode::from_u16(status).unwrap(), Json(answer)).into_response()
}

// ---- the app ----

fn with_primero(database_url: &str, addr: SocketAddr) -> Config {
    let mut c = common::with_keys(Config::for_database(database_url));
    c.primero = Some(PrimeroConfig {
        server: PrimeroSettings {
            url: format!("http://{addr}"),
            user: USER.into(),
            password: Secret::new(PASSWORD),
            timeout: Duration::from_secs(5),
        },
        fields: concat!(env!("CARGO_MANIFEST_DIR"), "/docs/primero-fields.toml").into(),
        push: PushConfig {
            backoff: Duration::from_millis(20),
            poll: Duration::from_millis(20),
            lease: Duration::from_secs(2),
            batch: 20,
        },
    });
    c
}

async fn start(db: &TestDb, addr: SocketAddr, seed: bool) -> TestApp {
    start_on(&db.url, addr, seed).await
}

async fn start_on(database_url: &str, addr: SocketAddr, seed: bool) -> TestApp {
    let state = AppState::build(with_primero(database_url, addr), Arc::new(SystemClock))
        .await
        .expect("app state");
    if seed {
        kanda::app::demo::seed(&state).await.expect("demo seed");
    }
    spawn_state(state).await
}

async fn bound() -> (tokio::net::TcpListener, SocketAddr) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    (l, addr)
}

async fn report(app: &TestApp, key: &str) -> CaseRef {
    case_at(app, key, SOUTH).await
}

/// Claudine (CAPE-S's caseworker) records `change` (a closure with a reason).
async fn change(app: &TestApp, r: &CaseRef, change: StageChange, key: &str) {
    let claudine = app
        .state
        .store
        .staff_by_phone(&Phone::from_trusted(CLAUDINE.to_string()))
        .await
        .unwrap()
        .expect("Claudine");
    let reason = (change == StageChange::Close).then(|| "plan_completed".to_string());
    app.state
        .work
        .record_stage_as(
            &staff_actor(&claudine),
            r,
            change,
            reason,
            None,
            "web",
            key.into(),
        )
        .await
        .unwrap();
}

async fn primero_id(app: &TestApp, r: &CaseRef) -> Option<String> {
    let case = app
        .state
        .store
        .case_detail(Scope::National, r)
        .await
        .unwrap()
        .expect("the case");
    case.primero.id
}

/// Waits until Primero has the case as it stands; its id there.
async fn pushed(app: &TestApp, r: &CaseRef) -> String {
    eventually("the case is in Primero", || async {
        let s = state(app, r).await;
        s.id.is_some() && !s.waiting
    })
    .await;
    primero_id(app, r).await.unwrap()
}

async fn state(app: &TestApp, r: &CaseRef) -> kanda::store::PrimeroState {
    app.state
        .store
        .case_detail(Scope::National, r)
        .await
        .unwrap()
        .unwrap()
        .primero
}

// ---- the tests ----

/// A new case is created in Primero with the mapped fields only, under
/// the id Kanda generated, with a token from `POST /api/v2/tokens`; its
/// stage changes follow as PATCHes; the id shows on its page and in the
/// API.
async fn new_cases_and_their_changes_reach_primero(db: Db) {
    let db = TestDb::new(db).await;
    let fake = Fake::new();
    let (listener, addr) = bound().await;
    fake.serve(listener);
    let app = start(&db, addr, true).await;

    let r = report(&app, "p-new").await;
    let id = pushed(&app, &r).await;
    let calls = fake.calls();
    assert_eq!(calls[0].path, "/api/v2/tokens", "signs in first: {calls:?}");
    assert_eq!(
        calls[0].body,
        json!({"user": {"user_name": USER, "password": PASSWORD}})
    );
    let post = &calls[1];
    assert_eq!(
        (post.method, post.path.as_str(), post.status),
        ("POST", "/api/v2/cases", 204)
    );
    let bearer = fake.with(|p| p.tokens[0].clone());
    assert_eq!(post.bearer.as_deref(), Some(bearer.as_str()));
    let data = post.body["data"].as_object().expect("{\"data\": {...}}");
    assert_eq!(
        post.body.as_object().unwrap().len(),
        1,
        "only `data`: {}",
        post.body
    );
    let mut keys: Vec<&str> = data.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "age",
            "id",
            "kanda_reference",
            "module_id",
            "protection_concerns",
            "registration_date",
            "sex",
            "status",
            "urgent_protection_concern"
        ],
        "the mapped fields, the constants and the id; nothing else (no phone, no name)"
    );
    assert_eq!(data["id"], id.as_str());
    assert_eq!(data["kanda_reference"], r.as_str());
    assert_eq!(data["age"], 9);
    assert_eq!(data["sex"], "female");
    assert_eq!(data["protection_concerns"], json!(["neglect"]));
    assert_eq!(data["status"], "open");
    assert_eq!(data["urgent_protection_concern"], false);
    assert_eq!(data["module_id"], "primeroimsmodule-cp");

    // A stage change: a PATCH of the mapped fields, without the id and
    // the constants, with the same token.
    change(&app, &r, StageChange::Acknowledge, "p-ack").await;
    change(&app, &r, StageChange::Assess, "p-assess").await;
    change(&app, &r, StageChange::Close, "p-close").await;
    eventually("the closure reaches Primero", || async {
        fake.record(&id)
            .is_some_and(|rec| rec["status"] == "closed")
            && !state(&app, &r).await.waiting
    })
    .await;
    let patches: Vec<Call> = fake
        .case_calls()
        .into_iter()
        .filter(|c| c.method == "PATCH")
        .collect();
    assert!(!patches.is_empty());
    for p in &patches {
        assert_eq!(p.path, format!("/api/v2/cases/{id}"));
        assert_eq!(p.status, 200);
        assert!(p.body["data"].get("id").is_none() && p.body["data"].get("module_id").is_none());
        assert_eq!(p.bearer.as_deref(), Some(bearer.as_str()));
    }
    assert_eq!(fake.records(), 1, "one case in Primero");
    assert_eq!(fake.with(|p| p.issued), 1, "one token for every request");

    // The case's page and the API show the id.
    let mut browser = Browser::sign_in(&app, CLAUDINE).await;
    let page = browser.get(&format!("/cases/{}", r.as_str())).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&id), "the case page shows Primero's id");
    let t = token(&app, "p-api", Role::Manager, Some("CAPE-S")).await;
    let (status, detail) = api(
        &app,
        reqwest::Method::GET,
        &format!("/api/v1/cases/{}", r.as_str()),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(
        (status, detail["primero_id"].as_str()),
        (200, Some(id.as_str()))
    );
    app.stop().await;
}

/// Creations Primero accepted (2xx), by id.
fn created(fake: &Fake) -> HashMap<String, usize> {
    let mut n = HashMap::new();
    for c in fake.case_calls() {
        if c.method == "POST" && (200..300).contains(&c.status) {
            *n.entry(c.body["data"]["id"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    n
}

/// 503s are retried, with the same id, until Primero takes the case; a
/// creation whose answer was lost (Primero kept it, then a 500) is sent
/// again, met with 409, and is done: one case in Primero each time.
async fn retries_and_conflicts_never_create_twice(db: Db) {
    let db = TestDb::new(db).await;
    let fake = Fake::new();
    let (listener, addr) = bound().await;
    fake.serve(listener);
    let app = start(&db, addr, true).await;

    fake.trouble(Trouble::Unavailable(2));
    let r = report(&app, "p-retry").await;
    let id = pushed(&app, &r).await;
    let posts: Vec<Call> = fake.case_calls();
    assert_eq!(
        posts.iter().map(|c| c.status).collect::<Vec<_>>(),
        [503, 503, 204],
        "{posts:?}"
    );
    assert!(
        posts.iter().all(|c| c.body["data"]["id"] == id.as_str()),
        "the same id each time"
    );
    let s = state(&app, &r).await;
    assert!(!s.waiting && !s.refused && s.last_error.is_none(), "{s:?}");

    fake.trouble(Trouble::LoseAnswer);
    let lost = report(&app, "p-lost").await;
    let lost_id = pushed(&app, &lost).await;
    let tries: Vec<u16> = fake
        .case_calls()
        .iter()
        .filter(|c| c.body["data"]["id"] == lost_id.as_str())
        .map(|c| c.status)
        .collect();
    assert_eq!(
        tries,
        [500, 409],
        "kept, answer lost; then a conflict: done"
    );
    assert_eq!(fake.records(), 2);
    assert!(created(&fake).values().all(|&n| n == 1));
    app.stop().await;
}

/// A case Primero refuses (422) is marked refused, with Primero's words,
/// on its page too, and is not sent again until it changes.
async fn a_refused_case_waits_for_its_next_change(db: Db) {
    let db = TestDb::new(db).await;
    let fake = Fake::new();
    let (listener, addr) = bound().await;
    fake.serve(listener);
    let app = start(&db, addr, true).await;

    fake.trouble(Trouble::Invalid);
    let r = report(&app, "p-refused").await;
    eventually("Primero's refusal is recorded", || async {
        state(&app, &r).await.refused
    })
    .await;
    let s = state(&app, &r).await;
    assert!(s.id.is_none());
    let error = s.last_error.expect("Primero's words");
    assert!(
        error.contains("422") && error.contains("registration_date"),
        "{error}"
    );
    let mut browser = Browser::sign_in(&app, CLAUDINE).await;
    let page = browser.get(&format!("/cases/{}", r.as_str())).await;
    assert!(page.body.contains("Refused by Primero") && page.body.contains("registration_date"));
    // Another case goes through meanwhile; the refused one is not retried.
    let other = report(&app, "p-other").await;
    pushed(&app, &other).await;
    assert_eq!(
        fake.case_calls().len(),
        2,
        "the refused case is not sent again by itself"
    );

    change(&app, &r, StageChange::Acknowledge, "p-refused-ack").await;
    pushed(&app, &r).await;
    assert_eq!(fake.records(), 2);
    app.stop().await;
}

/// Primero unreachable while cases are registered and the server is
/// killed; another server on the same database pushes each of them once
/// when Primero comes back.
async fn primero_down_across_a_restart_loses_nothing(db: Db) {
    let db = TestDb::new(db).await;
    let fake = Fake::new();
    // A port nothing listens on yet: connections are refused.
    let (listener, addr) = bound().await;
    drop(listener);
    // The first server runs on a runtime of its own: dropping the runtime
    // kills it as a crash would, every task at once, none half alive.
    let url = db.url.clone();
    let first = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let refs = runtime.block_on(async move {
            let first = start_on(&url, addr, true).await;
            let mut refs = Vec::new();
            for i in 0..3 {
                refs.push(report(&first, &format!("p-down-{i}")).await);
            }
            for r in &refs {
                eventually("each push failed against the closed port", || async {
                    state(&first, r).await.last_error.is_some()
                })
                .await;
            }
            drop(first);
            refs
        });
        drop(runtime);
        refs
    });
    let mut refs = tokio::task::spawn_blocking(move || first.join().unwrap())
        .await
        .unwrap();
    let second = start(&db, addr, false).await;
    refs.push(report(&second, "p-down-3").await);
    // Primero is back, on its address.
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .expect("the same port");
    fake.serve(listener);
    for r in &refs {
        pushed(&second, r).await;
    }
    assert_eq!(fake.records(), 4);
    let created = created(&fake);
    assert_eq!(created.len(), 4);
    assert!(created.values().all(|&n| n == 1), "{created:?}");
    for r in &refs {
        let id = primero_id(&second, r).await.unwrap();
        assert_eq!(fake.record(&id).unwrap()["kanda_reference"], r.as_str());
    }
    second.stop().await;
}

/// The token is taken again before it expires (Primero's tokens that
/// expire within minutes are not reused) and at once when Primero refuses
/// it (401), and the request goes through.
async fn the_token_is_refreshed_before_expiry_and_after_a_401(db: Db) {
    let db = TestDb::new(db).await;
    let fake = Fake::new();
    let (listener, addr) = bound().await;
    fake.serve(listener);
    let app = start(&db, addr, true).await;

    let a = report(&app, "p-tok-a").await;
    pushed(&app, &a).await;
    assert_eq!(fake.with(|p| p.issued), 1);
    // Primero revokes every token, and its next ones expire in a minute.
    fake.with(|p| {
        p.tokens.clear();
        p.lifetime = 60;
    });
    let b = report(&app, "p-tok-b").await;
    pushed(&app, &b).await;
    let statuses: Vec<(String, u16)> = fake
        .calls()
        .iter()
        .map(|c| (c.path.clone(), c.status))
        .collect();
    assert_eq!(
        statuses[2..],
        [
            ("/api/v2/cases".to_string(), 401),
            ("/api/v2/tokens".to_string(), 200),
            ("/api/v2/cases".to_string(), 204)
        ],
        "{statuses:?}"
    );
    assert_eq!(fake.with(|p| p.issued), 2);
    // That token expires within the margin: the next push signs in first.
    let c = report(&app, "p-tok-c").await;
    pushed(&app, &c).await;
    assert_eq!(fake.with(|p| p.issued), 3);
    let last = fake.calls();
    assert_eq!(last[last.len() - 2].path, "/api/v2/tokens");
    assert_eq!(last.last().unwrap().status, 204);
    app.stop().await;
}

both!(
    new_cases_and_their_changes_reach_primero,
    retries_and_conflicts_never_create_twice,
    a_refused_case_waits_for_its_next_change,
    primero_down_across_a_restart_loses_nothing,
    the_token_is_refreshed_before_expiry_and_after_a_401,
);
