//! The API's OpenAPI document against the router, so that neither drifts:
//! every operation it lists answers (a 401 without a token, never a 404 or
//! 405), and it lists exactly the `/api/v1/...` routes of
//! `src/app/router.rs` — a route added there without its
//! `#[utoipa::path]` (and its place in `openapi.rs`) fails here.

mod common;

use std::collections::BTreeSet;

use common::{spawn_app, Db, TestDb};

/// The methods axum's routing functions stand for.
const METHODS: [&str; 8] = [
    "get", "post", "put", "patch", "delete", "head", "options", "any",
];

/// `(path, method)` of every `.route("/api/v1/...", ...)` in the router's
/// source, with its methods read from the method router (`get(..)`,
/// `get(..).post(..)`), less the JSON 404 fallback and the document itself.
fn router_api_routes() -> BTreeSet<(String, String)> {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/app/router.rs"))
        .expect("src/app/router.rs");
    let mut routes = BTreeSet::new();
    let mut rest = src.as_str();
    while let Some(at) = rest.find(".route(") {
        let args_start = at + ".route(".len();
        // The call's arguments, to its closing parenthesis.
        let mut depth = 1;
        let mut end = args_start;
        for (i, ch) in rest[args_start..].char_indices() {
            match ch {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = args_start + i;
                break;
            }
        }
        let args = &rest[args_start..end];
        rest = &rest[end..];
        let args = args.trim_start();
        let Some(quoted) = args.strip_prefix('"') else {
            continue;
        };
        let (path, handlers) = quoted.split_once('"').expect("a closing quote");
        if !path.starts_with("/api/v1/") || path.contains("{*") || path == "/api/v1/openapi.json" {
            continue;
        }
        let methods: Vec<&str> = METHODS
            .iter()
            .copied()
            .filter(|m| {
                handlers.match_indices(&format!("{m}(")).any(|(i, _)| {
                    // `get(` itself, not `forget(` or `x::get(`.
                    handlers[..i]
                        .chars()
                        .next_back()
                        .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':'))
                })
            })
            .collect();
        assert!(!methods.is_empty(), "no method read for {path}: {handlers}");
        for m in methods {
            routes.insert((path.to_string(), m.to_string()));
        }
    }
    assert!(
        !routes.is_empty(),
        "no /api/v1 route read from src/app/router.rs: has its layout changed?"
    );
    routes
}

/// `(path, method)` of every operation in the document.
fn document_operations(doc: &serde_json::Value) -> BTreeSet<(String, String)> {
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("a path item")
                .keys()
                .filter(|k| METHODS.contains(&k.as_str()))
                .map(move |m| (path.clone(), m.clone()))
        })
        .collect()
}

both!(the_document_lists_exactly_the_api_routes_and_each_answers);

async fn the_document_lists_exactly_the_api_routes_and_each_answers(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;

    let res = app
        .http
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the document needs no token");
    assert!(res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json")));
    let doc: serde_json::Value = res.json().await.expect("the document is JSON");
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "an OpenAPI 3 document: {}",
        doc["openapi"]
    );

    // The document and the router list the same operations.
    let documented = document_operations(&doc);
    let routed = router_api_routes();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "src/app/router.rs and /api/v1/openapi.json disagree.\n\
         Routed but not in the document (add #[utoipa::path] and list it in src/web/api/openapi.rs): {undocumented:?}\n\
         In the document but not routed: {unrouted:?}"
    );

    // operationId is unique across the document (OpenAPI requires it;
    // generated clients name their methods by it).
    let mut ids = BTreeSet::new();
    for (path, method) in &documented {
        if let Some(id) = doc["paths"][path][method]["operationId"].as_str() {
            assert!(
                ids.insert(id.to_string()),
                "operationId {id:?} ({method} {path}) is used twice"
            );
        }
    }

    // Each operation answers, without a token: 401 JSON `unauthorized`.
    for (path, method) in &documented {
        let url = app.url(&path.replace("{reference}", "10000009"));
        assert!(!url.contains('{'), "a path parameter left unfilled: {path}");
        let req = match method.as_str() {
            "get" => app.http.get(&url),
            "post" => app.http.post(&url).json(&serde_json::json!({})),
            "put" => app.http.put(&url).json(&serde_json::json!({})),
            "patch" => app.http.patch(&url).json(&serde_json::json!({})),
            "delete" => app.http.delete(&url),
            other => panic!("no request made for {other} {path}"),
        };
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let ctype = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = res.text().await.unwrap();
        assert!(
            status != 404 && status != 405,
            "{method} {path} is in the document but answers {status}: {body}"
        );
        assert_eq!(status, 401, "{method} {path} without a token: {body}");
        assert!(
            ctype.starts_with("application/json"),
            "{method} {path}: {ctype}"
        );
        let err: serde_json::Value = serde_json::from_str(&body).expect("a JSON error");
        assert_eq!(err["code"], "unauthorized", "{method} {path}: {body}");
        assert!(
            doc["paths"][path][method]["responses"]["401"].is_object(),
            "{method} {path} answers 401 without a token, but its document does not say so"
        );
    }

    app.stop().await;
}

both!(text_with_a_nul_is_refused_not_a_server_error);

/// Found by schemathesis (.ci/schemathesis): PostgreSQL stores no NUL in
/// text, so a NUL in a filter or a body failed the query (500) there.
async fn text_with_a_nul_is_refused_not_a_server_error(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let token = app
        .state
        .work
        .issue_token("nul", kanda::domain::Role::Admin, None)
        .await
        .unwrap();
    let body = |v: serde_json::Value| Some(v);
    for (method, path, json) in [
        ("GET", "/api/v1/cases?district=a%00b", None),
        ("GET", "/api/v1/cases?centre=%00", None),
        ("GET", "/api/v1/audit?actor=a%00b", None),
        (
            "POST",
            "/api/v1/cases/10000009/notes",
            body(serde_json::json!({"note": "a\u{0}b"})),
        ),
        (
            "POST",
            "/api/v1/cases/10000009/stage",
            body(serde_json::json!({"stage": "acknowledged", "note": "\u{0}"})),
        ),
    ] {
        let url = app.url(path);
        let req = match json {
            Some(j) => app.http.post(&url).json(&j),
            None => app.http.get(&url),
        };
        let res = req.bearer_auth(&token).send().await.unwrap();
        let status = res.status().as_u16();
        let b: serde_json::Value = res.json().await.expect("a JSON answer");
        assert_eq!(
            (status, b["code"].as_str()),
            (422, Some("invalid")),
            "{method} {path}: {b}"
        );
    }
    app.stop().await;
}

/// The reader of the router's source finds what is there (guards the
/// guard: a parser that read nothing would let any drift through).
#[test]
fn the_router_source_is_read() {
    let routes = router_api_routes();
    for expected in [
        ("/api/v1/cases", "get"),
        ("/api/v1/cases/{reference}", "get"),
        ("/api/v1/cases/{reference}/stage", "post"),
    ] {
        assert!(
            routes.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} not read from router.rs: {routes:?}"
        );
    }
    assert!(!routes
        .iter()
        .any(|(p, _)| p.contains("{*") || p.ends_with("openapi.json")));
}
