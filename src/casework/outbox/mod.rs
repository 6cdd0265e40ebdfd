//! The durable SMS outbox. Every outgoing SMS is a row first (on disk
//! before [`Outbox::enqueue`] returns), then a worker sends it: it claims
//! due rows under a lease (`sending`, `lease_until`), sends them through
//! the configured provider (an [`SmsSender`], which the gateway layer
//! implements) within its rate, and records the outcome.
//!
//! - Connection errors, timeouts, 5xx: retried with exponential backoff
//!   (`KANDA_OUTBOX_BACKOFF`, doubling, capped at an hour, ±20 % jitter),
//!   until `KANDA_OUTBOX_MAX_ATTEMPTS` sends have failed: then `failed`.
//! - Other 4xx (credentials, sender, number): `failed` at once.
//! - 429: the whole provider pauses until its `Retry-After`; the message
//!   goes back in the queue and the attempt does not count.
//!
//! Several instances on one PostgreSQL never claim the same row (the claim
//! locks with `FOR UPDATE SKIP LOCKED`); on SQLite the one writer claims.
//! A worker that dies leaves its claimed rows `sending`; another takes them
//! once their lease ends. So a message in flight when a server dies (the
//! provider took it, its `sent` not yet written; at most
//! `KANDA_OUTBOX_CONCURRENCY` of them) may be sent again: at least once for
//! those, better a duplicate alert than a lost one. Every other message is
//! sent exactly once. A graceful stop ([`Worker::shutdown`], what `launch`
//! does on SIGTERM) lets the sends in flight finish first, so a deploy
//! duplicates nothing.
//!
//! A worker paces itself per provider and sender (one of each per
//! instance): a token bucket at `KANDA_SMS_RATE` messages per second.

mod sender;
mod worker;

use std::{sync::Arc, time::Duration};

use tokio::sync::Notify;

pub use crate::casework::worker::Worker;
pub use sender::{SendFuture, SendOutcome, SmsSender};

use crate::{
    domain::{Meter, NewSms},
    store::{Store, StoreError},
};

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("refused: a notice to {0} would be an unsolicited SMS (not staff, not a volunteer, no case reported from it without anonymity); nothing was queued")]
    Unsolicited(String),
    #[error("an SMS needs a body and a source key; nothing was queued")]
    Empty,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone, Debug)]
pub struct OutboxConfig {
    /// Sends tried before a message is `failed` (a 429 does not count).
    pub max_attempts: u32,
    /// The first retry's delay; each next one doubles, up to an hour.
    pub backoff: Duration,
    /// How often a worker looks for rows other instances queued.
    pub poll: Duration,
    /// A claimed row is another worker's to take after this (its worker died).
    pub lease: Duration,
    /// Sends in flight at once, per worker.
    pub concurrency: usize,
    /// Rows one claim takes at most.
    pub batch: usize,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            max_attempts: 8,
            backoff: Duration::from_secs(10),
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(60),
            concurrency: 16,
            batch: 100,
        }
    }
}

/// The outbox: queues messages and runs the worker that sends them. Cheap
/// to clone.
#[derive(Clone, Debug)]
pub struct Outbox(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    sender: Arc<dyn SmsSender>,
    config: OutboxConfig,
    /// Messages per second; `None`: no limit.
    rate: Option<f64>,
    /// Wakes this instance's worker when a message is queued here.
    wake: Notify,
    /// Where the sends' outcomes are counted (the app's metrics).
    meter: Meter,
}

impl Outbox {
    /// The outbox that sends through `sender`, at most `rate` messages a
    /// second (`None`: no limit), retrying as `config` says.
    /// Each send's outcome is counted in `meter`.
    pub fn new(
        sender: Arc<dyn SmsSender>,
        config: OutboxConfig,
        rate: Option<f64>,
        meter: Meter,
    ) -> Self {
        Outbox(Arc::new(Shared {
            sender,
            config,
            rate,
            wake: Notify::new(),
            meter,
        }))
    }

    /// The name of the provider it sends through.
    pub fn provider(&self) -> &'static str {
        self.0.sender.name()
    }

    /// Queues `msg` durably (on disk when this returns) and wakes the local
    /// worker; returns the message's id, the same for the same
    /// `source_key`. A [`SmsKind::Notice`] to a phone that never opted in
    /// is refused and nothing is queued.
    pub async fn enqueue(&self, store: &Store, msg: NewSms) -> Result<i64, OutboxError> {
        if msg.body.trim().is_empty() || msg.source_key.is_empty() {
            return Err(OutboxError::Empty);
        }
        match store.enqueue_sms(&msg).await? {
            Some(id) => {
                self.0.wake.notify_one();
                Ok(id)
            }
            None => Err(OutboxError::Unsolicited(msg.to.redacted())),
        }
    }
}
