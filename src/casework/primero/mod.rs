//! Cases pushed to Primero (UNICEF's case-management system), so staff of
//! a deployment that runs it never type a case twice.
//!
//! The queue is the database's (migration 0012): a row per case, written
//! by triggers in the same transaction as the case and each later stage
//! change or transfer, whoever records them; so nothing is lost to a
//! crash, and changes made while Primero is down coalesce into one push
//! of the case as it stands. A worker claims due rows under a lease (on
//! PostgreSQL with `FOR UPDATE SKIP LOCKED`: several instances never push
//! the same case at once), and pushes each through a [`PrimeroClient`]
//! (the gateway layer's HTTP client):
//!
//! - first, `POST /api/v2/cases` with an id Kanda generated and stored
//!   before sending, so a retry sends the same id and Primero never holds
//!   the case twice (a 409 means it already has it: then an update);
//! - after, `PATCH /api/v2/cases/{id}` with the mapped fields;
//! - a connection error, a timeout, a 5xx or a 429: the case is tried
//!   again with backoff (doubling from `KANDA_PRIMERO_BACKOFF`, at most an
//!   hour), and the worker pauses as long before pushing anything else;
//!   it never gives up while Primero is away;
//! - another 4xx (a field Primero refuses, a case it no longer has): the
//!   case is marked refused, with Primero's words, and tried again at its
//!   next change.
//!
//! Only the fields of the deployment's mapping ([`FieldMap`]) travel.

mod fields;

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use serde_json::{Map, Value};
use tokio::sync::watch;

pub use fields::{FieldMap, FieldsError, KandaField};

use crate::{
    casework::{backoff::backoff, worker::Worker},
    store::{PrimeroCase, PushRecord, Store},
};

/// How one request to Primero ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushOutcome {
    /// Primero took it.
    Done,
    /// A creation Primero already had (409): an earlier POST landed.
    Exists,
    /// Worth another try later: no connection, a timeout, a 5xx, a 429,
    /// credentials refused (fixed by an operator, not by the case).
    Retry(String),
    /// Refused for good (another 4xx), in Primero's words.
    Refused(String),
}

/// A request in flight.
pub type PushFuture<'a> = Pin<Box<dyn Future<Output = PushOutcome> + Send + 'a>>;

/// Primero's case API, as the worker needs it.
pub trait PrimeroClient: Send + Sync + std::fmt::Debug + 'static {
    /// `POST /api/v2/cases` with `data` (which holds the client's `id`).
    fn create<'a>(&'a self, data: &'a Map<String, Value>) -> PushFuture<'a>;
    /// `PATCH /api/v2/cases/{id}` with `data`.
    fn update<'a>(&'a self, id: &'a str, data: &'a Map<String, Value>) -> PushFuture<'a>;
}

#[derive(Clone, Debug)]
pub struct PushConfig {
    /// The first retry's delay; each next one doubles, up to an hour.
    pub backoff: Duration,
    /// How often the worker looks for cases to push.
    pub poll: Duration,
    /// A claimed case is another worker's to take after this.
    pub lease: Duration,
    /// Cases one claim takes at most.
    pub batch: usize,
}

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig {
            backoff: Duration::from_secs(10),
            poll: Duration::from_secs(2),
            lease: Duration::from_secs(120),
            batch: 4,
        }
    }
}

impl PushConfig {
    /// Retries as given, and a lease that outlasts a whole batch at the
    /// slowest: each case at most three requests (sign-in, POST, PATCH)
    /// of `timeout` each. A lease that ended mid-batch would let another
    /// server push the same cases (harmless, the ids are the same, but
    /// wasted).
    pub fn for_timeout(timeout: Duration, backoff: Duration, poll: Duration) -> Self {
        let batch = PushConfig::default().batch;
        PushConfig {
            backoff,
            poll,
            lease: (timeout * 3 * batch as u32 + Duration::from_secs(10))
                .max(PushConfig::default().lease),
            batch,
        }
    }
}

/// The push: a client, the mapping, and how to retry. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Primero(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    client: Arc<dyn PrimeroClient>,
    fields: FieldMap,
    config: PushConfig,
    timezone: chrono_tz::Tz,
}

/// What became of one case's push.
enum Pushed {
    Recorded,
    /// Primero is away: pause.
    Retry,
}

impl Primero {
    pub fn new(
        client: Arc<dyn PrimeroClient>,
        fields: FieldMap,
        config: PushConfig,
        timezone: chrono_tz::Tz,
    ) -> Self {
        Primero(Arc::new(Shared {
            client,
            fields,
            config,
            timezone,
        }))
    }

    /// Runs the worker on `store` in a task of its own (see [`Worker`]).
    pub fn spawn(&self, store: Store) -> Worker {
        let primero = self.clone();
        Worker::spawn("Primero push", move |stopping| {
            primero.work(store, stopping)
        })
    }

    async fn work(self, store: Store, mut stopping: watch::Receiver<bool>) {
        let owner = format!("{:016x}", rand::random::<u64>());
        let config = &self.0.config;
        let poll = config.poll.max(Duration::from_millis(10));
        // Requests Primero failed in a row: the worker's own pause grows
        // with them, as each case's backoff does.
        let mut failures = 0i64;
        tracing::info!(worker = %owner, "Primero push worker started");
        loop {
            if stopping.has_changed().is_err() || *stopping.borrow() {
                break;
            }
            let wait = match store
                .claim_primero(&owner, config.batch.max(1), config.lease)
                .await
            {
                Ok(cases) if !cases.is_empty() => {
                    let mut pause = None;
                    let mut cases = cases.into_iter();
                    for case in cases.by_ref() {
                        match self.push(&store, &owner, case).await {
                            Pushed::Recorded => failures = 0,
                            Pushed::Retry => {
                                failures += 1;
                                pause = Some(backoff(config.backoff, failures));
                                break;
                            }
                        }
                        if *stopping.borrow() {
                            break;
                        }
                    }
                    // Cases claimed but not tried: free for the next claim.
                    for case in cases {
                        if let Err(e) = store.primero_release(case.case_id, &owner).await {
                            tracing::warn!(case = case.case_id, error = %e, "Primero: could not release a case; it is taken up after its lease");
                        }
                    }
                    match pause {
                        Some(pause) => pause,
                        None => continue,
                    }
                }
                Ok(_) => match store.next_primero_due().await {
                    Ok(Some(due)) => {
                        Duration::from_millis((due - store.clock().now_ms()).max(0) as u64)
                            .clamp(Duration::from_millis(5), poll)
                    }
                    Ok(None) => poll,
                    Err(e) => {
                        tracing::warn!(error = %e, "Primero: could not read the next due time");
                        poll
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "Primero: could not claim cases; trying again");
                    poll
                }
            };
            tokio::select! {
                _ = stopping.changed() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
        tracing::info!(worker = %owner, "Primero push worker stopped");
    }

    /// Pushes one claimed case and records how it went.
    async fn push(&self, store: &Store, owner: &str, case: PrimeroCase) -> Pushed {
        let client = &self.0.client;
        // A case pushed (or tried) before keeps its id; only a first push
        // stores a new one, on disk before any request names it.
        let kept = match case.client_id.clone() {
            Some(id) => Ok(Some(id)),
            None => {
                store
                    .primero_client_id(case.case_id, owner, &new_id())
                    .await
            }
        };
        let id = match kept {
            Ok(Some(id)) => id,
            Ok(None) => return Pushed::Recorded, // another worker took it over
            Err(e) => {
                tracing::warn!(case = case.case_id, error = %e, "Primero: could not keep the case's id; it is taken up after its lease");
                return Pushed::Recorded;
            }
        };
        let mut outcome = if case.created {
            PushOutcome::Exists
        } else {
            let data = self.0.fields.data(&case, &id, true, self.0.timezone);
            client.create(&data).await
        };
        // Primero has the case (now, or from an earlier push whose answer
        // was lost): later changes, or what changed since that push, go
        // as an update.
        if outcome == PushOutcome::Exists && (case.created || case.changes > 1) {
            let data = self.0.fields.data(&case, &id, false, self.0.timezone);
            outcome = match client.update(&id, &data).await {
                PushOutcome::Exists => PushOutcome::Done,
                other => other,
            };
        }
        let now = store.clock().now_ms();
        let (record, pushed) = match outcome {
            PushOutcome::Done | PushOutcome::Exists => {
                tracing::info!(case = %case.reference, primero_id = %id, "case pushed to Primero");
                (
                    PushRecord::Pushed {
                        client_id: id,
                        changes: case.changes,
                    },
                    Pushed::Recorded,
                )
            }
            PushOutcome::Retry(error) => {
                let at = now + backoff(self.0.config.backoff, case.attempts + 1).as_millis() as i64;
                tracing::warn!(case = %case.reference, attempts = case.attempts + 1, %error, "Primero push failed; will retry");
                (PushRecord::Later { at, error }, Pushed::Retry)
            }
            PushOutcome::Refused(error) => {
                tracing::error!(case = %case.reference, %error, "Primero refused the case; tried again at its next change");
                (PushRecord::Refused { error }, Pushed::Recorded)
            }
        };
        match store.primero_pushed(case.case_id, owner, record).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                case = %case.reference,
                "Primero: the case's lease ended and another worker took it over"
            ),
            Err(e) => tracing::error!(
                case = %case.reference,
                error = %e,
                "Primero: could not record a push; the case is pushed again after its lease (same id: never twice)"
            ),
        }
        pushed
    }
}

/// A new random (version 4) UUID: the id Kanda gives a case in Primero.
fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_outlasts_a_whole_batch_at_the_slowest() {
        let c = PushConfig::for_timeout(
            Duration::from_secs(30),
            Duration::from_secs(10),
            Duration::from_secs(2),
        );
        assert!(
            c.lease >= Duration::from_secs(30) * 3 * c.batch as u32,
            "{c:?}"
        );
        let quick = PushConfig::for_timeout(
            Duration::from_secs(1),
            Duration::from_secs(10),
            Duration::from_secs(2),
        );
        assert_eq!(quick.lease, PushConfig::default().lease);
        assert_eq!(
            (quick.backoff, quick.poll),
            (Duration::from_secs(10), Duration::from_secs(2))
        );
    }
}
