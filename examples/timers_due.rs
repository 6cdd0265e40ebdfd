//! How fast the scheduler works through due timers: schedules N timers, all
//! already due, then times one scheduler until every one is `fired`.
//!
//!     cargo run --release --example timers_due -- [sqlite|postgres] [outbox|noop] [N] [BATCH] [CONCURRENCY]
//!
//! Handlers: `outbox` queues one SMS notice per timer to a demo caseworker
//! (`Outbox::enqueue`, `source_key = timer:<id>`, on disk before it
//! returns: the realistic effect); `noop` does nothing (the scheduler's own
//! cost). Defaults: N 100,000, the default batch and concurrency.
//!
//! SQLite runs on a file in a temporary folder (on disk); PostgreSQL on a
//! fresh database on `KANDA_TEST_POSTGRES_URL`'s server (default
//! postgres://postgres@127.0.0.1:5432/postgres), dropped afterwards; with
//! `KANDA_BENCH_ANALYZE=1` the timers table is analyzed before the timing.
//! Figures go in BENCHMARKS.md.

#[path = "support/mod.rs"]
mod support;

use std::{
    future::Future,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use kanda::{
    app::Config,
    casework::scheduler::{Scheduler, SchedulerConfig, TimerHandler},
    domain::Phone,
    domain::{Clock, SystemClock},
    domain::{NewSms, SmsKind},
    store::{NewTimer, Table, TimerRow},
    AppState,
};

enum Effect {
    Noop,
    Outbox(AppState),
}

/// The effect, and a count of runs (so the program waits for completion
/// without querying the database while it is timed).
struct Handler {
    effect: Effect,
    runs: Arc<AtomicUsize>,
}

impl TimerHandler for Handler {
    fn fire(&self, timer: TimerRow) -> impl Future<Output = anyhow::Result<()>> + Send {
        let state = match &self.effect {
            Effect::Noop => None,
            Effect::Outbox(state) => Some(state.clone()),
        };
        let runs = self.runs.clone();
        async move {
            if let Some(state) = state {
                state
                    .outbox
                    .enqueue(
                        &state.store,
                        NewSms {
                            to: Phone::from_trusted("+250788100001".into()),
                            body: format!("Kanda: case alert {} is due", timer.id),
                            urgent: false,
                            kind: SmsKind::Notice,
                            source_key: format!("timer:{}", timer.id),
                            case_id: None,
                        },
                    )
                    .await?;
            }
            runs.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let db = args.first().map(String::as_str).unwrap_or("sqlite");
    let which = args.get(1).map(String::as_str).unwrap_or("outbox");
    let n: usize = args
        .get(2)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(100_000);
    let defaults = SchedulerConfig::default();
    let batch: usize = args
        .get(3)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(defaults.batch);
    let concurrency: usize = args
        .get(4)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(defaults.concurrency);

    let dir = tempfile::tempdir()?;
    let bench = support::BenchDb::new(db, dir.path(), "timers").await?;
    let url = bench.url.clone();
    let clock = Arc::new(SystemClock);
    let state = AppState::build(Config::for_database(url), clock.clone()).await?;
    kanda::app::demo::seed(&state).await?;
    let effect = match which {
        "noop" => Effect::Noop,
        "outbox" => Effect::Outbox(state.clone()),
        other => anyhow::bail!("`{other}`: use outbox or noop"),
    };
    let runs = Arc::new(AtomicUsize::new(0));
    let handler = Handler {
        effect,
        runs: runs.clone(),
    };

    // Schedule N timers, all due (a millisecond apart, in the past), 64
    // callers at a time (on SQLite their inserts share group commits).
    let started = Instant::now();
    let now = clock.now_ms();
    let mut callers = Vec::new();
    for c in 0..64 {
        let store = state.store.clone();
        callers.push(tokio::spawn(async move {
            for i in (c..n).step_by(64) {
                let timer = NewTimer {
                    case_id: None,
                    kind: "ack".into(),
                    level: Some(1),
                    due_at: now - (n - i) as i64,
                    source_key: format!("bench:{i}"),
                    payload: None,
                    quiet: false,
                };
                store.schedule(&timer).await?;
            }
            anyhow::Ok(())
        }));
    }
    for c in callers {
        c.await??;
    }
    let scheduled = started.elapsed();

    // `KANDA_BENCH_ANALYZE=1` (PostgreSQL): statistics first, as autovacuum
    // would gather them a minute after such a burst (this machine's server
    // runs with autovacuum off, and without statistics the claim reads and
    // sorts every due timer; see BENCHMARKS.md).
    if db == "postgres" && std::env::var("KANDA_BENCH_ANALYZE").is_ok_and(|v| v == "1") {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&bench.url).await?;
        sqlx::query("ANALYZE timers").execute(&mut conn).await?;
    }

    // Fire them all.
    let config = SchedulerConfig {
        batch,
        concurrency,
        ..defaults
    };
    let started = Instant::now();
    let scheduler = Scheduler::new(state.store.clone(), clock, handler, config).spawn();
    // Every handler ran, then every `fired` is recorded (no timer pending).
    while runs.load(Ordering::Relaxed) < n || state.store.next_timer_due().await?.is_some() {
        if started.elapsed() > Duration::from_secs(900) {
            anyhow::bail!(
                "not done after 15 minutes: {:?}",
                state.store.timer_counts().await?
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let done = started.elapsed();
    scheduler.abort();
    let counts = state.store.timer_counts().await?;
    let outbox = state.store.count(Table::Outbox).await?;
    let per_s = |d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "{db}, {} handler, batch {batch}, concurrency {concurrency}: scheduled {n} in {:.2} s ({:.0}/s); fired {n} in {:.2} s ({:.0}/s); timers {counts:?}, outbox rows {outbox}",
        which,
        scheduled.as_secs_f64(),
        per_s(scheduled),
        done.as_secs_f64(),
        per_s(done),
    );
    state.store.close().await;
    bench.drop_now().await?;
    Ok(())
}
