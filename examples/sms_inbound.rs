//! How many inbound SMS the server handles per second: a real server on
//! port 0, Twilio-signed webhooks over HTTP, C callers at a time. Two
//! mixes, timed apart: `HELP` (a reply, no case) and one-message reports
//! (`REPORT 7 F 2 Y`: a case on disk before the TwiML reply).
//!
//!     cargo run --release --example sms_inbound -- [sqlite|postgres] [N] [CONCURRENCY]
//!
//! SQLite runs on a file in a temporary folder (on disk); PostgreSQL on a
//! fresh database on `KANDA_TEST_POSTGRES_URL`'s server (default
//! postgres://postgres@127.0.0.1:5432/postgres), dropped afterwards.
//! Figures go in BENCHMARKS.md.

#[path = "support/mod.rs"]
mod support;

use std::{sync::Arc, time::Instant};

use kanda::{
    app::Config, domain::Secret, domain::SystemClock,
    gateway::twilio::signature as twilio_signature, gateway::TwilioConfig, AppState,
};

const TOKEN: &str = "bench-token";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let db = args.first().map(String::as_str).unwrap_or("sqlite");
    let n: usize = args
        .get(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(20_000);
    let concurrency: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(16);

    let dir = tempfile::tempdir()?;
    let bench = support::BenchDb::new(db, dir.path(), "inbound").await?;
    let url = bench.url.clone();
    let mut config = Config::for_database(url);
    config.sms.twilio = Some(TwilioConfig {
        account_sid: "AC0123456789abcdef0123456789abcdef".into(),
        auth_token: Secret::new(TOKEN),
        from: None,
        api_url: "http://127.0.0.1:9".into(),
    });
    let state = AppState::build(config, Arc::new(SystemClock)).await?;
    kanda::app::demo::seed(&state).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}/sms/twilio", listener.local_addr()?);
    let server = tokio::spawn(kanda::launch(
        listener,
        state.clone(),
        std::future::pending::<()>(),
    ));

    for (mix, body) in [("HELP", "HELP"), ("report", "REPORT 7 F 2 Y")] {
        // The demo's three volunteers take turns.
        let phones = ["+250788000001", "+250788000002", "+250788000003"];
        let started = Instant::now();
        let mut callers = Vec::new();
        for c in 0..concurrency {
            let endpoint = endpoint.clone();
            let http = reqwest::Client::new();
            callers.push(tokio::spawn(async move {
                for i in (c..n).step_by(concurrency) {
                    let sid = format!("SM{mix}{i:030}");
                    let from = phones[i % phones.len()];
                    let fields = [
                        ("MessageSid", sid.as_str()),
                        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
                        ("From", from),
                        ("To", "+250788999999"),
                        ("Body", body),
                        ("NumMedia", "0"),
                    ];
                    let sig = twilio_signature::compute(TOKEN, &endpoint, &fields);
                    let res = http
                        .post(&endpoint)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .header(twilio_signature::HEADER, sig)
                        .body(serde_urlencoded::to_string(fields)?)
                        .send()
                        .await?;
                    let status = res.status();
                    let text = res.text().await?;
                    anyhow::ensure!(
                        status.is_success() && text.contains("<Message>"),
                        "{status}: {text}"
                    );
                }
                anyhow::Ok(())
            }));
        }
        for c in callers {
            c.await??;
        }
        let took = started.elapsed();
        println!(
            "{db} {mix}: {n} inbound SMS in {:.2} s: {:.0}/s, concurrency {concurrency}",
            took.as_secs_f64(),
            n as f64 / took.as_secs_f64()
        );
    }
    let cases = state.store.count(kanda::store::Table::Cases).await?;
    anyhow::ensure!(cases as usize == n, "{cases} cases for {n} reports");
    server.abort();
    state.store.close().await;
    bench.drop_now().await?;
    Ok(())
}
