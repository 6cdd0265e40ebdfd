//! The JSON API on SQLite and PostgreSQL: bearer tokens, each role's
//! scope (a case outside it is `404 not_found`, exactly as one that does
//! not exist), filters and paging, stage changes and notes, the audit log
//! for admins and auditors only, and errors as `{"code", "message"}`.

mod common;

use common::{api, case_at, spawn_app, token, Db, TestDb};
use kanda::domain::{CaseRef, Role};
use reqwest::Method;
use serde_json::json;

const SOUTH: &str = "S-HUY-TUM-01";
const EAST: &str = "E-RWA-KIG-01";

fn unknown_reference(not: &[&CaseRef]) -> CaseRef {
    (0..100_000_000u32)
        .map(|n| format!("{n:08}"))
        .filter_map(|s| CaseRef::parse(&s).ok())
        .find(|r| !not.contains(&r))
        .unwrap()
}

fn references(list: &serde_json::Value) -> Vec<String> {
    list["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|c| c["reference"].as_str().unwrap().to_string())
        .collect()
}

async fn tokens_are_required_and_checked(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    for t in [None, Some("kanda_not-a-token")] {
        let (status, body) = api(&app, Method::GET, "/api/v1/cases", t, None).await;
        assert_eq!(status, 401);
        assert_eq!(body["code"], "unauthorized");
        assert!(body["message"].is_string());
    }
    let t = token(&app, "revoked", Role::Admin, None).await;
    assert_eq!(
        api(&app, Method::GET, "/api/v1/cases", Some(&t), None)
            .await
            .0,
        200
    );
    assert!(app.state.work.revoke_token("revoked").await.unwrap());
    assert_eq!(
        api(&app, Method::GET, "/api/v1/cases", Some(&t), None)
            .await
            .0,
        401
    );
    // An unknown API path is JSON too.
    let (status, body) = api(&app, Method::GET, "/api/v1/nothing", Some(&t), None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    app.stop().await;
}

async fn a_centres_token_sees_its_centre_only(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let south = case_at(&app, "api-south", SOUTH).await;
    let east = case_at(&app, "api-east", EAST).await;
    let t = token(&app, "south-app", Role::Caseworker, Some("CAPE-S")).await;

    let (status, list) = api(&app, Method::GET, "/api/v1/cases", Some(&t), None).await;
    assert_eq!(status, 200);
    assert_eq!(references(&list), [south.to_string()]);
    let c = &list["data"][0];
    for field in [
        "reference",
        "stage",
        "centre",
        "urgent",
        "concern",
        "channel",
        "created_at",
    ] {
        assert!(!c[field].is_null(), "{field} in {c}");
    }
    assert_eq!(
        (c["stage"].as_str(), c["centre"].as_str()),
        (Some("new"), Some("CAPE-S"))
    );
    // Asking for the other centre by filter finds nothing.
    let (_, other) = api(
        &app,
        Method::GET,
        "/api/v1/cases?centre=CAPE-E",
        Some(&t),
        None,
    )
    .await;
    assert!(references(&other).is_empty());

    // Another centre's case and a case that does not exist: the same answer.
    let unknown = unknown_reference(&[&south, &east]);
    let (s1, b1) = api(
        &app,
        Method::GET,
        &format!("/api/v1/cases/{east}"),
        Some(&t),
        None,
    )
    .await;
    let (s2, b2) = api(
        &app,
        Method::GET,
        &format!("/api/v1/cases/{unknown}"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!((s1, s2), (404, 404));
    assert_eq!(b1["code"], "not_found");
    assert_eq!(
        b1["message"].as_str().unwrap().replace(east.as_str(), "X"),
        b2["message"]
            .as_str()
            .unwrap()
            .replace(unknown.as_str(), "X")
    );
    let (s, _) = api(
        &app,
        Method::POST,
        &format!("/api/v1/cases/{east}/stage"),
        Some(&t),
        Some(json!({"stage": "acknowledged"})),
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = api(
        &app,
        Method::POST,
        &format!("/api/v1/cases/{east}/notes"),
        Some(&t),
        Some(json!({"note": "x"})),
    )
    .await;
    assert_eq!(s, 404);
    assert_eq!(
        app.state
            .store
            .case_row(&east)
            .await
            .unwrap()
            .unwrap()
            .stage,
        "new"
    );

    // Its own case, in full, with its timeline and deadlines.
    let (s, c) = api(
        &app,
        Method::GET,
        &format!("/api/v1/cases/{south}"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(c["reference"], south.as_str());
    assert_eq!(c["timeline"][0]["kind"], "registered");
    assert!(c["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["kind"] == "response"));
    // Each read is in the audit log under the token's name.
    let rows = app
        .state
        .store
        .audit_entries(&Default::default())
        .await
        .unwrap();
    let reads: Vec<_> = rows
        .iter()
        .filter(|r| r.actor == "token:south-app" && r.action == "case_viewed")
        .collect();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].case.as_deref(), Some(south.as_str()));
    app.stop().await;
}

async fn stage_changes_and_notes(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let r = case_at(&app, "api-stage", EAST).await;
    let t = token(&app, "east-app", Role::Manager, Some("CAPE-E")).await;
    let stage = format!("/api/v1/cases/{r}/stage");
    let post = |body| api(&app, Method::POST, &stage, Some(&t), Some(body));

    let (s, b) = post(json!({"stage": "acknowledged", "note": "called the family"})).await;
    assert_eq!((s, b["stage"].as_str()), (200, Some("acknowledged")));
    // Backwards or twice: refused, with a stable code.
    let (s, b) = post(json!({"stage": "acknowledged"})).await;
    assert_eq!((s, b["code"].as_str()), (409, Some("conflict")));
    for bad in [
        json!({"stage": "done"}),
        json!({"stage": "closed"}),
        json!({"stage": "closed", "reason": "bored"}),
        json!({"nope": 1}),
    ] {
        let (s, b) = post(bad.clone()).await;
        assert_eq!((s, b["code"].as_str()), (422, Some("invalid")), "{bad}");
    }
    let (s, _) = post(json!({"stage": "closed", "reason": "duplicate"})).await;
    assert_eq!(s, 200);
    assert_eq!(
        app.state.store.case_row(&r).await.unwrap().unwrap().stage,
        "closed"
    );

    // The same Idempotency-Key twice records one note.
    let notes = app.url(&format!("/api/v1/cases/{r}/notes"));
    for _ in 0..2 {
        let res = app
            .http
            .post(&notes)
            .bearer_auth(&t)
            .header("idempotency-key", "note-1")
            .json(&json!({"note": "Follow-up call done"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
    }
    let (s, b) = api(
        &app,
        Method::POST,
        &format!("/api/v1/cases/{r}/notes"),
        Some(&t),
        Some(json!({"note": " "})),
    )
    .await;
    assert_eq!((s, b["code"].as_str()), (422, Some("invalid")));
    let timeline = app.state.work.view(&r).await.unwrap().unwrap().timeline;
    assert_eq!(timeline.iter().filter(|e| e.kind == "note").count(), 1);
    assert!(timeline
        .iter()
        .any(|e| e.kind == "closed" && e.outcome.as_deref() == Some("duplicate")));

    // Read-only roles may not change cases.
    for (name, role, centre) in [
        ("committee", Role::Committee, Some("CAPE-E")),
        ("audit", Role::Auditor, None),
    ] {
        let t = token(&app, name, role, centre).await;
        let (s, b) = api(
            &app,
            Method::POST,
            &format!("/api/v1/cases/{r}/notes"),
            Some(&t),
            Some(json!({"note": "x"})),
        )
        .await;
        assert_eq!((s, b["code"].as_str()), (403, Some("forbidden")), "{name}");
    }
    app.stop().await;
}

async fn lists_filter_and_page(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let mut made = Vec::new();
    for i in 0..5 {
        made.push(case_at(&app, &format!("api-page-{i}"), SOUTH).await);
    }
    let urgent = {
        let place = app
            .state
            .store
            .place_by_code(EAST, 4)
            .await
            .unwrap()
            .unwrap();
        app.state
            .work
            .register_case(&kanda::domain::NewCase {
                danger: true,
                ..common::new_case("api-urgent", place.id)
            })
            .await
            .unwrap()
    };
    let t = token(&app, "national", Role::Admin, None).await;
    let get = async |q: &str| {
        api(
            &app,
            Method::GET,
            &format!("/api/v1/cases{q}"),
            Some(&t),
            None,
        )
        .await
    };

    let (_, all) = get("").await;
    assert_eq!(references(&all).len(), 6);
    assert_eq!(references(&all)[0], urgent.to_string(), "urgent first");
    let (_, p1) = get("?per_page=4").await;
    let (_, p2) = get("?per_page=4&page=2").await;
    assert_eq!((references(&p1).len(), references(&p2).len()), (4, 2));
    assert_eq!(p1["next_page"], 2);
    assert!(p2["next_page"].is_null());
    let (_, u) = get("?urgent=true").await;
    assert_eq!(references(&u), [urgent.to_string()]);
    let (_, e) = get("?centre=CAPE-E").await;
    assert_eq!(references(&e), [urgent.to_string()]);
    let (_, o) = get("?overdue=true").await;
    assert!(references(&o).is_empty());
    let (_, s) = get("?stage=new&channel=ussd&reporter=volunteer").await;
    assert_eq!(references(&s).len(), 0, "these cases have no volunteer");
    for bad in [
        "?urgent=maybe",
        "?stage=done",
        "?per_page=1000",
        "?page=0",
        "?reporter=alien",
    ] {
        let (status, b) = get(bad).await;
        assert_eq!(
            (status, b["code"].as_str()),
            (422, Some("invalid")),
            "{bad}"
        );
    }
    app.stop().await;
}

async fn the_audit_log_is_for_admins_and_auditors(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let r = case_at(&app, "api-audit", SOUTH).await;
    let reader = token(&app, "reader", Role::Caseworker, Some("CAPE-S")).await;
    api(
        &app,
        Method::GET,
        &format!("/api/v1/cases/{r}"),
        Some(&reader),
        None,
    )
    .await;
    for (name, role, centre) in [
        ("m", Role::Manager, Some("CAPE-S")),
        ("c", Role::Caseworker, Some("CAPE-S")),
    ] {
        let t = token(&app, name, role, centre).await;
        let (s, b) = api(&app, Method::GET, "/api/v1/audit", Some(&t), None).await;
        assert_eq!((s, b["code"].as_str()), (403, Some("forbidden")));
    }
    let auditor = token(&app, "auditor", Role::Auditor, None).await;
    let (s, b) = api(
        &app,
        Method::GET,
        &format!("/api/v1/audit?case={r}"),
        Some(&auditor),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let rows = b["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{b}");
    assert_eq!(rows[0]["actor"], "token:reader");
    assert_eq!(rows[0]["action"], "case_viewed");
    assert_eq!(rows[0]["case"], r.as_str());
    assert_eq!(rows[0]["address"], "127.0.0.1");
    let (_, b) = api(
        &app,
        Method::GET,
        "/api/v1/audit?actor=token:reader",
        Some(&auditor),
        None,
    )
    .await;
    let actions: Vec<_> = b["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["token_issued", "case_viewed"]);
    let (_, b) = api(
        &app,
        Method::GET,
        "/api/v1/audit?from=2000-01-01&to=2000-01-02",
        Some(&auditor),
        None,
    )
    .await;
    assert!(b["data"].as_array().unwrap().is_empty());
    let (s, b) = api(
        &app,
        Method::GET,
        "/api/v1/audit?from=yesterday",
        Some(&auditor),
        None,
    )
    .await;
    assert_eq!((s, b["code"].as_str()), (422, Some("invalid")));
    let (_, b) = api(
        &app,
        Method::GET,
        "/api/v1/audit?limit=1",
        Some(&auditor),
        None,
    )
    .await;
    assert!(b["next_after"].is_i64());
    app.stop().await;
}

async fn token_rules(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let w = &app.state.work;
    assert!(
        w.issue_token("x", Role::Caseworker, None).await.is_err(),
        "a centre's role needs its centre"
    );
    assert!(
        w.issue_token("x", Role::Auditor, Some("CAPE-S"))
            .await
            .is_err(),
        "national roles have none"
    );
    assert!(
        w.issue_token("x", Role::Manager, Some("NOPE"))
            .await
            .is_err(),
        "an unknown centre"
    );
    assert!(w.issue_token("bad name!", Role::Admin, None).await.is_err());
    let first = w.issue_token("x", Role::Admin, None).await.unwrap();
    assert!(
        w.issue_token("x", Role::Admin, None).await.is_err(),
        "one live token per name"
    );
    assert!(w.revoke_token("x").await.unwrap());
    let second = w.issue_token("x", Role::Admin, None).await.unwrap();
    assert_ne!(first, second);
    assert!(!w.revoke_token("nobody").await.unwrap());
    app.stop().await;
}

both!(
    tokens_are_required_and_checked,
    a_centres_token_sees_its_centre_only,
    stage_changes_and_notes,
    lists_filter_and_page,
    the_audit_log_is_for_admins_and_auditors,
    token_rules,
);
