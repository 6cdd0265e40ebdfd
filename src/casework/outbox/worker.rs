//! The outbox's worker: claims due messages under a lease, sends them
//! within the rate and the concurrency, records each outcome, and on a
//! graceful stop lets the sends in flight finish.

use std::time::{Duration, Instant};

use tokio::{sync::watch, task::JoinSet};

use super::{Outbox, SendOutcome};
use crate::casework::worker::Worker;
use crate::{
    casework::backoff::{backoff, MAX_DELAY},
    domain::{meter::OUTBOX_SENDS, redact_numbers},
    store::{Attempt, ClaimedSms, Store},
};

impl Outbox {
    /// Runs the worker on `store` in a task of its own, until
    /// [`Worker::shutdown`], or aborted (when the [`Worker`] is dropped).
    pub fn spawn(&self, store: Store) -> Worker {
        let outbox = self.clone();
        Worker::spawn("SMS outbox", move |stopping| outbox.work(store, stopping))
    }

    /// The worker, in the caller's task: claims due messages, sends them,
    /// records each outcome; never returns. Stopping it (dropping the
    /// future) at any point loses nothing: a claimed row is claimable again
    /// after its lease.
    pub async fn run(self, store: Store) {
        let (_never, stopping) = watch::channel(false);
        self.work(store, stopping).await
    }

    /// The worker's loop, until `stopping` says so (or its sender is gone):
    /// then it claims no more and returns once its sends in flight are done.
    async fn work(self, store: Store, mut stopping: watch::Receiver<bool>) {
        let owner = format!("{:016x}", rand::random::<u64>());
        let config = &self.0.config;
        let mut bucket = self.0.rate.map(Bucket::new);
        let mut paused_until: Option<Instant> = None;
        let mut sends: JoinSet<Option<Duration>> = JoinSet::new();
        // Expired leases are handed back at start and then at least every
        // poll (or half a lease), busy or idle.
        // (A zero poll, or lease, would make the worker spin.)
        let poll = config.poll.max(Duration::from_millis(10));
        let release_every = poll.min(config.lease / 2).max(Duration::from_millis(10));
        let mut released_at: Option<Instant> = None;
        tracing::info!(provider = self.0.sender.name(), worker = %owner, "SMS outbox worker started");
        loop {
            if stopping.has_changed().is_err() || *stopping.borrow() {
                break;
            }
            while let Some(done) = sends.try_join_next() {
                paused_until = later(paused_until, pause_of(done));
            }
            // A 429: nothing goes to the provider until its Retry-After.
            if let Some(until) = paused_until {
                if Instant::now() < until {
                    tokio::select! {
                        _ = stopping.changed() => {}
                        _ = tokio::time::sleep_until(until.into()) => {}
                        Some(done) = sends.join_next(), if !sends.is_empty() => {
                            paused_until = later(paused_until, pause_of(done));
                        }
                    }
                    continue;
                }
                paused_until = None;
            }
            if released_at.is_none_or(|at| at.elapsed() >= release_every) {
                match store.release_expired_leases().await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(
                        messages = n,
                        "outbox: leases ended (a worker died?): those messages are sent again"
                    ),
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox: could not release expired leases")
                    }
                }
                released_at = Some(Instant::now());
            }
            // Claim in batches: while sends are in flight, wait until half
            // the slots are free rather than claim one row per finished send.
            let free = config.concurrency.saturating_sub(sends.len());
            if free == 0 || (!sends.is_empty() && free < config.concurrency.div_ceil(2)) {
                if let Some(done) = sends.join_next().await {
                    paused_until = later(paused_until, pause_of(done));
                }
                continue;
            }
            let mut limit = free.min(config.batch.max(1));
            if let Some(b) = &mut bucket {
                match b.available() {
                    0 => {
                        tokio::select! {
                            _ = stopping.changed() => {}
                            _ = tokio::time::sleep(b.until_next()) => {}
                            Some(done) = sends.join_next(), if !sends.is_empty() => {
                                paused_until = later(paused_until, pause_of(done));
                            }
                        }
                        continue;
                    }
                    tokens => limit = limit.min(tokens),
                }
            }
            let wait = match store.claim_sms(&owner, limit, config.lease).await {
                Ok(claimed) if !claimed.is_empty() => {
                    if let Some(b) = &mut bucket {
                        b.take(claimed.len());
                    }
                    for m in claimed {
                        sends.spawn(send_one(self.clone(), store.clone(), owner.clone(), m));
                    }
                    continue;
                }
                Ok(_) => match store.next_sms_due().await {
                    Ok(Some(due)) => {
                        let ms = due - store.clock().now_ms();
                        if ms <= 0 {
                            // Due, yet not claimed: a lease that just ended
                            // (released next time round), or a row another
                            // instance is claiming right now.
                            released_at = None;
                        }
                        Duration::from_millis(ms.max(0) as u64)
                            .clamp(Duration::from_millis(5), poll)
                    }
                    Ok(None) => poll,
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox: could not read the next due time");
                        poll
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "outbox: could not claim messages; trying again");
                    poll
                }
            };
            tokio::select! {
                _ = stopping.changed() => {}
                _ = self.0.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                Some(done) = sends.join_next(), if !sends.is_empty() => {
                    paused_until = later(paused_until, pause_of(done));
                }
            }
        }
        // Stopping: what is in flight finishes and is recorded.
        let in_flight = sends.len();
        while sends.join_next().await.is_some() {}
        tracing::info!(in_flight, worker = %owner, "SMS outbox worker stopped");
    }
}

fn pause_of(done: Result<Option<Duration>, tokio::task::JoinError>) -> Option<Instant> {
    match done {
        Ok(pause) => pause.map(|p| Instant::now() + p),
        Err(e) => {
            tracing::error!(error = %e, "outbox: a send task failed; its message is sent again after its lease");
            None
        }
    }
}

fn later(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Sends one claimed message and records how it went; returns how long the
/// provider asked everyone to wait (a 429).
async fn send_one(outbox: Outbox, store: Store, owner: String, m: ClaimedSms) -> Option<Duration> {
    let config = &outbox.0.config;
    let sender = &outbox.0.sender;
    let outcome = sender.send(m.id, &m.to, &m.body).await;
    let now = store.clock().now_ms();
    let ms = |d: Duration| d.as_millis() as i64;
    let to = m.to.redacted();
    let (attempt, pause) = match outcome {
        SendOutcome::Sent { id, status, note } => {
            tracing::debug!(id = m.id, %to, provider_id = ?id, "SMS sent");
            if let Some(note) = &note {
                tracing::warn!(id = m.id, %to, "SMS sent, but {}", redact_numbers(note));
            }
            (
                Attempt::Sent {
                    provider_message_id: id,
                    provider_status: status,
                    note,
                },
                None,
            )
        }
        SendOutcome::Retry(error) => {
            let attempts = m.attempts + 1;
            if attempts >= i64::from(config.max_attempts) {
                tracing::error!(id = m.id, %to, attempts, error = %redact_numbers(&error), "SMS failed: no attempts left");
            } else {
                tracing::warn!(id = m.id, %to, attempts, error = %redact_numbers(&error), "SMS not sent; will retry");
            }
            let at = now + ms(backoff(config.backoff, attempts));
            let attempt = Attempt::Later {
                at,
                counts: true,
                error,
            };
            (attempt, None)
        }
        SendOutcome::RateLimited { retry_after, error } => {
            let pause = retry_after.unwrap_or(config.backoff).min(MAX_DELAY);
            tracing::warn!(id = m.id, pause = ?pause, error = %redact_numbers(&error), "SMS provider asks to slow down: pausing it");
            let attempt = Attempt::Later {
                at: now + ms(pause),
                counts: false,
                error,
            };
            (attempt, Some(pause))
        }
        SendOutcome::Rejected(error) => {
            tracing::error!(id = m.id, %to, error = %redact_numbers(&error), "SMS refused by the provider: failed");
            (Attempt::Failed { error }, None)
        }
    };
    // What the outcome makes of the message, for the metrics: the store
    // marks it failed past its last counted attempt (`Store::sms_attempted`).
    let result = match &attempt {
        Attempt::Sent { .. } => "sent",
        Attempt::Later { counts, .. }
            if *counts && m.attempts + 1 >= i64::from(config.max_attempts) =>
        {
            "failed"
        }
        Attempt::Later { .. } => "retry",
        Attempt::Failed { .. } => "failed",
    };
    // A database that fails for a moment must not turn a sent message into
    // a duplicate: the outcome is written again, within half the lease.
    let mut delay = Duration::from_millis(50);
    let give_up = Instant::now() + config.lease / 2;
    loop {
        match store
            .sms_attempted(
                m.id,
                &owner,
                sender.name(),
                config.max_attempts,
                attempt.clone(),
            )
            .await
        {
            Ok(true) => {
                outbox.0.meter.count(OUTBOX_SENDS, &[("result", result)]);
                break;
            }
            Ok(false) => {
                tracing::warn!(
                    id = m.id,
                    "outbox: the message's lease ended and another worker took it over"
                );
                break;
            }
            Err(e) if Instant::now() + delay < give_up => {
                tracing::warn!(id = m.id, error = %e, "outbox: could not record a send; trying again");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => {
                tracing::error!(
                    id = m.id,
                    error = %e,
                    "outbox: could not record a send; the message is sent again after its lease"
                );
                break;
            }
        }
    }
    pause
}

/// A token bucket: `rate` tokens a second, holding at most a tenth of a
/// second's worth (at least one), so sends are spread, not bursts.
#[derive(Debug)]
struct Bucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new(rate: f64) -> Self {
        let capacity = (rate / 10.0).max(1.0);
        Bucket {
            rate,
            capacity,
            tokens: capacity,
            at: Instant::now(),
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let earned = now.duration_since(self.at).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + earned).min(self.capacity);
        self.at = now;
    }

    fn available(&mut self) -> usize {
        self.refill();
        self.tokens.max(0.0).floor() as usize
    }

    fn take(&mut self, n: usize) {
        self.tokens -= n as f64;
    }

    fn until_next(&self) -> Duration {
        Duration::from_secs_f64(((1.0 - self.tokens) / self.rate).max(0.001))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_holds_a_tenth_of_a_second_and_says_when_the_next_token_comes() {
        let mut b = Bucket::new(100.0);
        assert_eq!(b.available(), 10);
        b.take(10);
        assert_eq!(b.available(), 0);
        assert!(b.until_next() <= Duration::from_millis(10));
        let mut slow = Bucket::new(1.0);
        assert_eq!(slow.available(), 1);
        slow.take(1);
        assert_eq!(slow.available(), 0);
        assert!(slow.until_next() > Duration::from_millis(900));
    }
}
