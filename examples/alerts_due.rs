//! How long the scheduler takes to work through 100,000 due alerts with
//! Kanda's own handler (`alerts::CaseTimers`): the backlog a server finds
//! when it starts after an outage during which cases kept being saved.
//!
//!     cargo run --release --example alerts_due -- [sqlite|postgres] [N]
//!
//! Setup (timed apart): the demo, then N cases in the demo volunteer's
//! village (every other one urgent), then one sweep that schedules the
//! alert of every case without one (`Store::schedule_missing_alerts`, as a
//! starting server does). Timed: one scheduler with the default settings
//! until every alert has run; each alert reads the case and who is on
//! duty, queues one SMS to the on-duty caseworker (on disk), records the
//! alert on the timeline and schedules the case's acknowledgement,
//! first-response and assessment deadlines and the volunteer's visit
//! reminder. No SMS is sent (no outbox worker runs). Figures go in
//! BENCHMARKS.md.

#[path = "support/mod.rs"]
mod support;

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use kanda::{
    app::Config,
    casework::{
        scheduler::{Scheduler, SchedulerConfig, TimerHandler},
        timers::{ALERT, ALERT_KEY},
        CaseTimers,
    },
    domain::{Channel, Clock, NewCase, SystemClock},
    store::{Table, TimerRow},
    AppState,
};

/// Kanda's handler, counting the alerts it has run.
struct Counting {
    inner: CaseTimers,
    alerts: Arc<AtomicUsize>,
}

impl TimerHandler for Counting {
    async fn fire(&self, timer: TimerRow) -> anyhow::Result<()> {
        let alert = timer.kind == ALERT;
        self.inner.fire(timer).await?;
        if alert {
            self.alerts.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let db = args.first().map(String::as_str).unwrap_or("sqlite");
    let n: usize = args
        .get(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let bench = support::BenchDb::new(db, dir.path(), "alerts").await?;
    let clock = Arc::new(SystemClock);
    let state = AppState::build(Config::for_database(bench.url.clone()), clock.clone()).await?;
    kanda::app::demo::seed(&state).await?;
    let village = state
        .store
        .place_by_code("S-HUY-TUM-01", 4)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo has no village S-HUY-TUM-01"))?
        .id;

    // N cases, 64 callers at a time, straight into the store: no alert yet.
    let started = Instant::now();
    let mut callers = Vec::new();
    for c in 0..64 {
        let store = state.store.clone();
        callers.push(tokio::spawn(async move {
            for i in (c..n).step_by(64) {
                store
                    .create_case(&NewCase {
                        source_key: format!("bench:{i}"),
                        channel: Channel::Sms,
                        self_report: false,
                        anonymous: false,
                        reporter_phone: None,
                        volunteer_id: Some(1),
                        child_name: None,
                        child_age: Some((i % 17 + 1) as i64),
                        child_sex: "female".into(),
                        disability: None,
                        concern: "neglect".into(),
                        care: None,
                        danger: i % 2 == 0,
                        location_id: village,
                    })
                    .await?;
            }
            anyhow::Ok(())
        }));
    }
    for c in callers {
        c.await??;
    }
    let saved = started.elapsed();
    let started = Instant::now();
    // What the sweep runs (`casework/sweep.rs`): the alert of every case without one.
    let scheduled = state
        .store
        .schedule_missing_case_timers(ALERT, ALERT_KEY, clock.now_ms(), 0)
        .await?;
    let swept = started.elapsed();
    anyhow::ensure!(
        scheduled as usize == n,
        "{scheduled} alerts scheduled for {n} cases"
    );

    let alerts = Arc::new(AtomicUsize::new(0));
    let handler = Counting {
        inner: state.work.timers(),
        alerts: alerts.clone(),
    };
    let started = Instant::now();
    let scheduler = Scheduler::new(
        state.store.clone(),
        clock,
        handler,
        SchedulerConfig::default(),
    )
    .spawn();
    while alerts.load(Ordering::Relaxed) < n {
        if started.elapsed() > Duration::from_secs(1800) {
            anyhow::bail!(
                "not done after 30 minutes: {:?}",
                state.store.timer_counts().await?
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let done = started.elapsed();
    scheduler.abort();
    let outbox = state.store.count(Table::Outbox).await?;
    let events = state.store.count(Table::CaseEvents).await?;
    let per_s = |d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "{db}: saved {n} cases in {:.1} s ({:.0}/s); swept {scheduled} alerts in {:.2} s; ran {n} alerts in {:.1} s ({:.0}/s); outbox rows {outbox}, timeline events {events}, timers {:?}",
        saved.as_secs_f64(),
        per_s(saved),
        swept.as_secs_f64(),
        done.as_secs_f64(),
        per_s(done),
        state.store.timer_counts().await?,
    );
    state.store.close().await;
    bench.drop_now().await?;
    Ok(())
}
