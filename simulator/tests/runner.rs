//! The scenario runner and load generator against a tiny fake USSD server:
//! a mismatch must fail the run (CI relies on it), a match must pass.

use std::process::Command;

use axum::{body::Bytes, routing::post, Router};

/// "Menu" on the dial, "Bye" (END) on any answer, a 500 for text "boom".
async fn fake() -> String {
    let app = Router::new().route(
        "/ussd",
        post(|body: Bytes| async move {
            let form: Vec<(String, String)> =
                serde_urlencoded::from_bytes(&body).unwrap_or_default();
            let text = form
                .iter()
                .find(|(k, _)| k == "text")
                .map(|(_, v)| v.as_str())
                .unwrap_or("");
            match text {
                "" => (axum::http::StatusCode::OK, "CON Menu\n1. Go".to_string()),
                "boom" => (
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "oops".to_string(),
                ),
                t => (axum::http::StatusCode::OK, format!("END Bye {t} 12345678")),
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/ussd")
}

fn scenario(name: &str, text: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("kanda-sim-{}-{name}.toml", std::process::id()));
    std::fs::write(&p, text).unwrap();
    p
}

async fn sim(args: Vec<String>) -> (i32, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_kanda-sim"))
            .args(&args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_passes_on_a_match_and_fails_on_each_kind_of_mismatch() {
    let url = fake().await;
    let good = scenario(
        "good",
        r#"[[session]]
name = "match"
phone = "+250788000001"
steps = [
  { expect = ["Menu"] },
  { send = "1", end = true, expect = ["Bye 1"], capture = { name = "n", regex = "(\\d{8})" } },
  { repeat = true },
]
[[session]]
name = "capture used"
phone = "+250788000001"
steps = [{ }, { send = "{n}", end = true, expect = ["Bye 12345678"] }]
"#,
    );
    let (code, out) = sim(vec![
        "run".into(),
        "--url".into(),
        url.clone(),
        good.display().to_string(),
    ])
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("2 passed, 0 failed"), "{out}");

    let bad = scenario(
        "bad",
        r#"[[session]]
name = "wrong text"
phone = "+1"
steps = [{ expect = ["Nope"] }]
[[session]]
name = "END expected"
phone = "+1"
steps = [{ end = true }]
[[session]]
name = "absent present"
phone = "+1"
steps = [{ absent = ["Menu"] }]
[[session]]
name = "server error"
phone = "+1"
steps = [{ }, { send = "boom" }]
"#,
    );
    let (code, out) = sim(vec![
        "run".into(),
        "--url".into(),
        url.clone(),
        bad.display().to_string(),
    ])
    .await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("0 passed, 4 failed"), "{out}");
    assert!(
        out.contains("expected to contain \"Nope\"")
            && out.contains("(expected END)")
            && out.contains("HTTP 500"),
        "{out}"
    );

    let (code, out) = sim(vec![
        "load".into(),
        "--url".into(),
        url.clone(),
        "--sessions".into(),
        "20".into(),
        "--concurrency".into(),
        "4".into(),
        "--inputs".into(),
        "1".into(),
    ])
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("RESULT tool=kanda-sim hops=40 ") && out.contains("failed_sessions=0"),
        "{out}"
    );
    let (code, out) = sim(vec![
        "load".into(),
        "--url".into(),
        url,
        "--sessions".into(),
        "5".into(),
        "--concurrency".into(),
        "2".into(),
        "--inputs".into(),
        "boom".into(),
    ])
    .await;
    assert_eq!(code, 1, "a failing hop fails the load run: {out}");
}
