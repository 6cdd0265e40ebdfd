//! How fast the outbox drains: queues N messages, then times the worker
//! sending them all through the real Twilio provider code to a local stub
//! that answers as Twilio does (201, JSON with a `sid`).
//!
//!     cargo run --release --example outbox_drain -- [sqlite|postgres] [N] [CONCURRENCY]
//!
//! SQLite runs on a file in a temporary folder (on disk); PostgreSQL on a
//! fresh database on `KANDA_TEST_POSTGRES_URL`'s server (default
//! postgres://postgres@127.0.0.1:5432/postgres), dropped afterwards.
//! Figures go in BENCHMARKS.md.

#[path = "support/mod.rs"]
mod support;

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use axum::{http::StatusCode, response::IntoResponse, Router};
use kanda::{
    app::Config,
    domain::Phone,
    domain::Secret,
    domain::SystemClock,
    domain::{NewSms, SmsKind},
    gateway::{SmsProvider, TwilioConfig},
    AppState,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let db = args.first().map(String::as_str).unwrap_or("sqlite");
    let n: usize = args
        .get(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(20_000);
    let concurrency: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(32);

    // The stub: Twilio's answer to a created message.
    let requests = Arc::new(AtomicU64::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let stub = format!("http://{}", listener.local_addr()?);
    let app = Router::new().fallback({
        let requests = requests.clone();
        move || {
            let k = requests.fetch_add(1, Ordering::Relaxed);
            async move {
                (
                    StatusCode::CREATED,
                    [("content-type", "application/json")],
                    format!(r#"{{"sid":"SM{k:032}","status":"queued"}}"#),
                )
                    .into_response()
            }
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir()?;
    let bench = support::BenchDb::new(db, dir.path(), "drain").await?;
    let url = bench.url.clone();

    let mut config = Config::for_database(url);
    config.sms.provider = SmsProvider::Twilio;
    config.sms.twilio = Some(TwilioConfig {
        account_sid: "AC0123456789abcdef0123456789abcdef".into(),
        auth_token: Secret::new("bench"),
        from: Some("+15005550006".into()),
        api_url: stub,
    });
    config.public_url = Some("https://kanda.example.org".into());
    config.sms.rate = None;
    config.outbox.concurrency = concurrency;
    let state = AppState::build(config, Arc::new(SystemClock)).await?;

    // Queue N messages, 64 callers at a time, as webhooks would.
    let started = Instant::now();
    let mut callers = Vec::new();
    for c in 0..64 {
        let state = state.clone();
        callers.push(tokio::spawn(async move {
            for i in (c..n).step_by(64) {
                let msg = NewSms {
                    to: Phone::from_trusted(format!("+2507880{:05}", i % 100_000)),
                    body: format!("Kanda: case {i} needs a visit today."),
                    urgent: i % 10 == 0,
                    kind: SmsKind::Reply,
                    source_key: format!("bench:{i}"),
                    case_id: None,
                };
                state.send_sms(msg).await?;
            }
            anyhow::Ok(())
        }));
    }
    for c in callers {
        c.await??;
    }
    let queued = started.elapsed();

    // Drain.
    let started = Instant::now();
    let worker = state.outbox.spawn(state.store.clone());
    loop {
        let counts = state.store.outbox_counts().await?;
        let sent = counts
            .iter()
            .find(|(s, _)| s == "sent")
            .map_or(0, |(_, k)| *k);
        if sent as usize >= n {
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            anyhow::bail!("not drained after 10 minutes: {counts:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drained = started.elapsed();
    worker.abort();
    let per_s = |d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "{db}: queued {n} in {:.2} s ({:.0}/s); drained {n} in {:.2} s ({:.0}/s), concurrency {concurrency}; the stub saw {} requests",
        queued.as_secs_f64(),
        per_s(queued),
        drained.as_secs_f64(),
        per_s(drained),
        requests.load(Ordering::Relaxed)
    );
    state.store.close().await;
    bench.drop_now().await?;
    Ok(())
}
