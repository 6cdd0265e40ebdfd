//! What the layers count for the operators (`GET /metrics`), where it
//! happens: a case created, a USSD hop answered, an SMS handed to the
//! provider. Each layer counts through the app's one [`Meter`], handed to
//! it like the clock, never through a recorder installed for the whole
//! process: two apps in one process (the tests) count apart.
//!
//! Label values given here are `&'static str`: words the code chose (a
//! channel, a gateway, an outcome), never anything a request carried, so no
//! phone number, name, note, case reference or session id can become one.
//! The metrics' names are here, in one list, so the documentation and the
//! exporter's descriptions follow one source.

use std::{fmt, sync::Arc};

use metrics::{Key, Label, Level, Metadata, Recorder};

/// Requests answered, by matched route template, method and status.
pub const HTTP_REQUESTS: &str = "kanda_http_requests_total";
/// Seconds a USSD hop took to answer, by gateway.
pub const USSD_HOP_SECONDS: &str = "kanda_ussd_hop_seconds";
/// Cases created, by channel (once per case, not per retried hop).
pub const CASES_CREATED: &str = "kanda_cases_created_total";
/// Outcomes of the outbox's sends, by result (`sent`, `retry`, `failed`).
pub const OUTBOX_SENDS: &str = "kanda_outbox_sends_total";
/// Outgoing SMS waiting (`queued`) or being sent (`sending`), read at scrape time.
pub const OUTBOX_MESSAGES: &str = "kanda_outbox_messages";
/// Age of the oldest queued SMS, read at scrape time.
pub const OUTBOX_OLDEST_QUEUED_AGE: &str = "kanda_outbox_oldest_queued_age_seconds";
/// Pending timers whose due time has come.
pub const TIMERS_DUE: &str = "kanda_timers_due";
/// Pending timers due for longer than the scheduler's grace.
pub const TIMERS_OVERDUE: &str = "kanda_timers_overdue";
/// Cases whose alert is unacknowledged past its acknowledgement deadline.
pub const ALERTS_UNACKNOWLEDGED_OVERDUE: &str = "kanda_alerts_unacknowledged_overdue";
/// The database pool's connections, by state (`idle`, `in_use`).
pub const DB_POOL_CONNECTIONS: &str = "kanda_db_pool_connections";
/// The most connections the database pool opens.
pub const DB_POOL_MAX_CONNECTIONS: &str = "kanda_db_pool_max_connections";

static METADATA: Metadata<'static> = Metadata::new("kanda", Level::INFO, Some("kanda"));

/// Where the layers count; cheap to clone. [`Meter::none`] counts nothing.
#[derive(Clone, Default)]
pub struct Meter(Option<Arc<dyn Recorder + Send + Sync>>);

impl fmt::Debug for Meter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Meter"
        } else {
            "Meter(none)"
        })
    }
}

/// A metric's key from its name and labels chosen by the code.
pub fn key(name: &'static str, labels: &[(&'static str, &'static str)]) -> Key {
    let labels: Vec<Label> = labels
        .iter()
        .map(|&(k, v)| Label::from_static_parts(k, v))
        .collect();
    Key::from_parts(name, labels)
}

impl Meter {
    /// Counts into `recorder`.
    pub fn new(recorder: Arc<dyn Recorder + Send + Sync>) -> Self {
        Meter(Some(recorder))
    }

    /// Counts nothing.
    pub fn none() -> Self {
        Meter(None)
    }

    /// Adds one to counter `name` with `labels`.
    pub fn count(&self, name: &'static str, labels: &[(&'static str, &'static str)]) {
        self.count_key(&key(name, labels));
    }

    /// Adds one to the counter of `key` (the app's, whose label values it
    /// took from its own router: the matched route's template).
    pub fn count_key(&self, key: &Key) {
        if let Some(r) = &self.0 {
            r.register_counter(key, &METADATA).increment(1);
        }
    }

    /// Records `value` in histogram `name` with `labels`.
    pub fn record(&self, name: &'static str, labels: &[(&'static str, &'static str)], value: f64) {
        if let Some(r) = &self.0 {
            r.register_histogram(&key(name, labels), &METADATA)
                .record(value);
        }
    }

    /// Sets gauge `name` with `labels` to `value` (values read at scrape time).
    pub fn set(&self, name: &'static str, labels: &[(&'static str, &'static str)], value: f64) {
        if let Some(r) = &self.0 {
            r.register_gauge(&key(name, labels), &METADATA).set(value);
        }
    }

    /// Gives metric `name` its help text (the exposition's `# HELP`).
    pub fn describe_counter(&self, name: &'static str, help: &'static str) {
        if let Some(r) = &self.0 {
            r.describe_counter(name.into(), None, help.into());
        }
    }

    pub fn describe_gauge(&self, name: &'static str, help: &'static str) {
        if let Some(r) = &self.0 {
            r.describe_gauge(name.into(), None, help.into());
        }
    }

    pub fn describe_histogram(&self, name: &'static str, help: &'static str) {
        if let Some(r) = &self.0 {
            r.describe_histogram(name.into(), None, help.into());
        }
    }
}
