//! The outbox's port: the one call through which a message leaves, and
//! what the provider's answer means for retrying it. A provider's wire
//! format is the gateway layer's (`gateway/providers.rs`).

use std::{future::Future, pin::Pin, time::Duration};

use crate::domain::Phone;

/// How one send ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    /// The provider took the message (`id`: its message id, when it said).
    Sent {
        id: Option<String>,
        status: Option<String>,
        note: Option<String>,
    },
    /// Worth another try later: no connection, a timeout, a 5xx.
    Retry(String),
    /// 429: the whole provider waits `retry_after` (when it said); not an
    /// attempt of the message's.
    RateLimited {
        retry_after: Option<Duration>,
        error: String,
    },
    /// Refused for good (a 4xx: credentials, sender, number); no retry.
    Rejected(String),
}

/// A send in flight.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = SendOutcome> + Send + 'a>>;

/// Sends one message through a provider.
pub trait SmsSender: Send + Sync + std::fmt::Debug + 'static {
    /// The name stored with each message (delivery reports match on it).
    fn name(&self) -> &'static str;

    /// Sends outbox message `id` to `to`.
    fn send<'a>(&'a self, id: i64, to: &'a Phone, body: &'a str) -> SendFuture<'a>;
}
