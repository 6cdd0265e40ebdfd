//! The durable timer scheduler: runs a [`TimerHandler`] for every timer
//! (`src/store/timers.rs`) once it is due, whatever happened to the server
//! meanwhile. Timers are rows, on disk when [`Store::schedule`] returns; a
//! scheduler claims due ones in batches under a lease, runs the handler for
//! each (a bounded number at once) and marks it `fired`.
//!
//! - **Nothing is lost.** A timer due while no scheduler ran is claimed by
//!   the next one to start. A scheduler that dies (killed, aborted, its
//!   database gone) leaves its claimed timers pending; any scheduler claims
//!   them again once their lease (`KANDA_SCHEDULER_LEASE`) ends.
//! - **Failures retry, forever.** A handler error (or panic) keeps the timer
//!   pending, counts an attempt, and retries it after a backoff
//!   (`casework/backoff.rs`, doubling up to an hour, ±20 %). After `max_attempts` every
//!   further failure is logged as an error, loudly, but the timer is never
//!   dropped: a missed child-protection deadline must stay visible.
//! - **At least once, so handlers are idempotent.** A timer is run again
//!   when its lease ends before its `fired` is recorded (a scheduler killed
//!   between the two, or a handler slower than the lease: a run that lasts
//!   longer than the lease, in real time, is stopped and counts as a
//!   failure). A handler makes
//!   its effect idempotent by the timer's id: an SMS queued with
//!   `source_key = format!("timer:{}", timer.id)` (see
//!   [`crate::casework::outbox::Outbox::enqueue`]) is queued once however many times
//!   the timer runs, so every such SMS is sent once.
//! - **Several servers.** On PostgreSQL the claim locks its rows
//!   (`FOR UPDATE SKIP LOCKED`), so two schedulers never claim one timer at
//!   the same time; on SQLite two stores on one file claim through SQLite's
//!   single writer, one claim at a time.
//! - **Wake-ups.** The loop sleeps until the next timer is due (read from
//!   the store), at most `poll` (`KANDA_SCHEDULER_POLL`), and wakes at once
//!   when [`Store::schedule`] is called on its store: timers scheduled by
//!   other servers are seen within a poll. Due times are compared with the
//!   scheduler's [`Clock`](crate::domain::Clock), sleeps are real time: under
//!   a [`ManualClock`](crate::domain::ManualClock) a test advances the clock
//!   and the next poll sees what became due.
//!
//! Settling (`met`, `cancelled`) is [`Store::settle_timers`]: the
//! scheduler only ever sees pending timers.
//!
//! ```no_run
//! # async fn wire(store: kanda::store::Store, outbox: kanda::casework::outbox::Outbox) -> anyhow::Result<()> {
//! use kanda::{
//!     casework::scheduler::{Scheduler, SchedulerConfig},
//!     domain::{NewSms, Phone, SmsKind},
//!     store::{NewTimer, TimerRow},
//! };
//!
//! // What a timer does: here, one SMS to a caseworker, idempotent by the timer's id.
//! let handler = {
//!     let (store, outbox) = (store.clone(), outbox.clone());
//!     move |timer: TimerRow| {
//!         let (store, outbox) = (store.clone(), outbox.clone());
//!         async move {
//!             let sms = NewSms {
//!                 to: Phone::from_trusted("+250788100001".into()),
//!                 body: format!("Case alert: {} is overdue", timer.kind),
//!                 urgent: true,
//!                 kind: SmsKind::Notice,
//!                 source_key: format!("timer:{}", timer.id),
//!                 case_id: None,
//!             };
//!             outbox.enqueue(&store, sms).await?;
//!             Ok(())
//!         }
//!     }
//! };
//! let clock = store.clock().clone();
//! let _scheduler = Scheduler::new(store.clone(), clock, handler, SchedulerConfig::default()).spawn();
//!
//! // Elsewhere: a deadline, once per source key.
//! let due_at = store.clock().now_ms() + 3_600_000;
//! store.schedule(&NewTimer {
//!     case_id: None,
//!     kind: "ack".into(),
//!     level: Some(1),
//!     due_at,
//!     source_key: "case:42:ack:1".into(),
//!     payload: None,
//!     quiet: false,
//! }).await?;
//! # Ok(())
//! # }
//! ```

use std::{
    collections::{HashMap, VecDeque},
    future::Future,
    sync::Arc,
    time::Duration,
};

use tokio::task::{JoinError, JoinSet};

use super::backoff::backoff;
use crate::{
    domain::{from_ms, SharedClock},
    store::{Store, TimerRow},
};

/// What a timer does when it fires. Called at least once per timer (see
/// the module's documentation): make its effect idempotent by `timer.id`.
/// An `Err` retries the timer later; it never drops it.
///
/// Closures `Fn(TimerRow) -> impl Future<Output = anyhow::Result<()>>`
/// are handlers too.
pub trait TimerHandler: Send + Sync + 'static {
    fn fire(&self, timer: TimerRow) -> impl Future<Output = anyhow::Result<()>> + Send;
}

impl<F, Fut> TimerHandler for F
where
    F: Fn(TimerRow) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    fn fire(&self, timer: TimerRow) -> impl Future<Output = anyhow::Result<()>> + Send {
        self(timer)
    }
}

/// How a scheduler claims, runs and retries (`Config::scheduler`).
#[derive(Clone, Debug)]
pub struct SchedulerConfig {
    /// Longest sleep between two looks for due timers (`KANDA_SCHEDULER_POLL`).
    pub poll: Duration,
    /// A claimed timer is claimable again after this (`KANDA_SCHEDULER_LEASE`):
    /// longer than a whole batch takes to run. A handler still running
    /// after this long is stopped (a failure, retried).
    pub lease: Duration,
    /// Timers one claim takes at most.
    pub batch: usize,
    /// Handlers running at once.
    pub concurrency: usize,
    /// The first retry's delay after a failure; doubles, up to an hour.
    pub backoff: Duration,
    /// Failures after which each further one is logged as an error.
    pub max_attempts: u32,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(60),
            batch: 200,
            concurrency: 32,
            backoff: Duration::from_secs(10),
            max_attempts: 8,
        }
    }
}

/// The shortest sleep when timers are due but none could be claimed
/// (another scheduler holds them).
const MIN_WAIT: Duration = Duration::from_millis(5);

/// Runs `handler` for due timers of `store` (see the module's documentation).
pub struct Scheduler<H> {
    store: Store,
    clock: SharedClock,
    handler: Arc<H>,
    config: SchedulerConfig,
}

/// A handler run's outcome.
type Ran = anyhow::Result<()>;

impl<H: TimerHandler> Scheduler<H> {
    /// A scheduler over `store`'s timers. `clock` decides what is due (and
    /// when a retry is): normally the store's own (`store.clock().clone()`);
    /// `config` is usually `Config::scheduler`.
    pub fn new(store: Store, clock: SharedClock, handler: H, config: SchedulerConfig) -> Self {
        Scheduler {
            store,
            clock,
            handler: Arc::new(handler),
            config,
        }
    }

    /// Runs the scheduler in a task of its own, until aborted. Aborting it
    /// at any point loses nothing: its claimed timers are claimed again
    /// after their lease.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.run())
    }

    /// The loop; never returns.
    pub async fn run(self) {
        let config = &self.config;
        let concurrency = config.concurrency.max(1);
        let batch = config.batch.max(1);
        let mut running: JoinSet<Ran> = JoinSet::new();
        // Which timer each running task runs.
        let mut holding: HashMap<tokio::task::Id, TimerRow> = HashMap::new();
        // Claimed, waiting for a free slot.
        let mut waiting: VecDeque<TimerRow> = VecDeque::new();
        // Run successfully, `fired` not yet recorded.
        let mut fired: Vec<i64> = Vec::new();
        tracing::info!(
            batch,
            concurrency,
            lease = ?config.lease,
            "timer scheduler started"
        );
        loop {
            while let Some(done) = running.try_join_next_with_id() {
                self.finished(done, &mut holding, &mut fired).await;
            }
            if !fired.is_empty() {
                self.record_fired(&mut fired).await;
            }
            let now = self.clock.now_ms();
            while running.len() < concurrency {
                let Some(timer) = waiting.pop_front() else {
                    break;
                };
                // Its lease ended while it waited: another scheduler may
                // hold it now. Left for the next claim.
                if timer.lease_until.is_some_and(|l| l <= now) {
                    continue;
                }
                // Still running here from an earlier claim (a handler
                // slower than the lease): the new claim only renewed its
                // lease; one run at a time in this scheduler.
                if holding.values().any(|t| t.id == timer.id) {
                    continue;
                }
                let handler = self.handler.clone();
                let held = timer.clone();
                let lease = config.lease;
                let task = running.spawn(async move {
                    match tokio::time::timeout(lease, handler.fire(timer)).await {
                        Ok(outcome) => outcome,
                        // Past its lease another scheduler may run it too:
                        // stopped, and retried like any failure, so a hung
                        // handler cannot hold a slot for ever.
                        Err(_) => Err(anyhow::anyhow!(
                            "the handler ran longer than the lease ({}); stopped",
                            humantime::format_duration(lease)
                        )),
                    }
                });
                holding.insert(task.id(), held);
            }
            let wait = if !waiting.is_empty() || running.len() >= concurrency {
                // Busy: wait for a slot.
                None
            } else {
                match self.store.claim_due_timers(now, config.lease, batch).await {
                    Ok(claimed) if !claimed.is_empty() => {
                        waiting.extend(claimed);
                        continue;
                    }
                    Ok(_) => Some(self.until_next_due().await),
                    Err(e) => {
                        tracing::warn!(error = %e, "scheduler: could not claim timers; trying again");
                        Some(config.poll)
                    }
                }
            };
            match wait {
                None => {
                    if let Some(done) = running.join_next_with_id().await {
                        self.finished(done, &mut holding, &mut fired).await;
                    }
                }
                Some(wait) => {
                    tokio::select! {
                        Some(done) = running.join_next_with_id(), if !running.is_empty() => {
                            self.finished(done, &mut holding, &mut fired).await;
                        }
                        _ = self.store.timers_wake().notified() => {}
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
    }

    /// How long to sleep when nothing could be claimed: until the next
    /// timer is due, at most a poll.
    async fn until_next_due(&self) -> Duration {
        match self.store.next_timer_due().await {
            Ok(Some(due)) => {
                let ms = due.saturating_sub(self.clock.now_ms()).max(0) as u64;
                // Due now but not claimed: another scheduler holds it.
                Duration::from_millis(ms)
                    .max(MIN_WAIT)
                    .min(self.config.poll)
            }
            Ok(None) => self.config.poll,
            Err(e) => {
                tracing::warn!(error = %e, "scheduler: could not read the next due time");
                self.config.poll
            }
        }
    }

    /// A handler's run ended: a success waits in `fired` to be recorded, a
    /// failure (or panic) is recorded with its retry time.
    async fn finished(
        &self,
        done: Result<(tokio::task::Id, Ran), JoinError>,
        holding: &mut HashMap<tokio::task::Id, TimerRow>,
        fired: &mut Vec<i64>,
    ) {
        let (task, outcome) = match done {
            Ok((task, outcome)) => (task, outcome),
            Err(e) => {
                let why = if e.is_panic() {
                    "the handler panicked"
                } else {
                    "the handler's task was cancelled"
                };
                (e.id(), Err(anyhow::anyhow!(why)))
            }
        };
        let Some(timer) = holding.remove(&task) else {
            tracing::error!(
                "scheduler: a handler task ended without its timer; it runs again after its lease"
            );
            return;
        };
        match outcome {
            Ok(()) => fired.push(timer.id),
            Err(error) => self.failed(&timer, &error).await,
        }
    }

    async fn failed(&self, timer: &TimerRow, error: &anyhow::Error) {
        let attempts = timer.attempts + 1;
        let delay = backoff(self.config.backoff, attempts);
        let retry_at = self
            .clock
            .now_ms()
            .saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
        let error = format!("{error:#}");
        if attempts >= i64::from(self.config.max_attempts) {
            tracing::error!(
                timer = timer.id,
                case = ?timer.case_id,
                kind = %timer.kind,
                due_at = %from_ms(timer.due_at).to_rfc3339(),
                attempts,
                %error,
                retry_in = ?delay,
                "TIMER KEEPS FAILING: its handler failed again; it stays pending and is retried, fix the cause"
            );
        } else {
            tracing::warn!(
                timer = timer.id,
                kind = %timer.kind,
                attempts,
                %error,
                retry_in = ?delay,
                "timer handler failed; will retry"
            );
        }
        if let Err(e) = self.store.timer_failed(timer.id, &error, retry_at).await {
            tracing::error!(timer = timer.id, error = %e, "scheduler: could not record a failure; the timer runs again after its lease");
        }
    }

    /// Records every successful run so far, [`crate::store::FIRED_BATCH`]
    /// timers a statement.
    async fn record_fired(&self, fired: &mut Vec<i64>) {
        if let Err(e) = self.store.timers_fired(fired).await {
            tracing::error!(timers = fired.len(), error = %e, "scheduler: could not record fired timers; they run again after their lease (their handler is idempotent)");
        }
        fired.clear();
    }
}
