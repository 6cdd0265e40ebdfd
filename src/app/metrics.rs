//! The operators' metrics, `GET /metrics` in Prometheus's text format.
//! Each app has its own recorder (no process-wide one: two apps in one
//! process, as in the tests, count apart); the layers count into it
//! through the [`Meter`] the app hands them. Counted as things happen:
//! requests by matched route (this file's middleware), cases created
//! (the case work), USSD hops (the gateways), the outbox's sends (its
//! worker). Read from the database at scrape time, one statement per
//! family (`store/gauges.rs`): the outbox's queue, due and overdue timers,
//! alerts unacknowledged past their deadline; and the pool's connections.
//!
//! With `KANDA_METRICS_TOKEN` set, a scrape must send it as a bearer
//! token; unset, `/metrics` is open and belongs on a private interface.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, HeaderMap, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use metrics::{Key, Label};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use subtle::ConstantTimeEq;

use super::AppState;
use crate::{
    casework::timers::ACK,
    domain::{meter::*, Meter, Secret},
};

/// The USSD hop histogram's buckets, in seconds: 1 ms to 5 s (a gateway
/// gives up after a few seconds).
pub const HOP_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// How often the recorder folds recorded hops into its histograms when no
/// one scrapes (else they would pile up in memory).
const UPKEEP: Duration = Duration::from_secs(5);

/// This app's recorder, its handle and the scrape token; cheap to clone.
#[derive(Clone, Debug)]
pub struct Metrics {
    handle: PrometheusHandle,
    meter: Meter,
    token: Option<Secret>,
}

impl Metrics {
    /// A recorder of its own, every family described; `token`: what a
    /// scrape must present (`KANDA_METRICS_TOKEN`).
    pub fn new(token: Option<Secret>) -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(USSD_HOP_SECONDS.into()), &HOP_BUCKETS)
            .map(PrometheusBuilder::build_recorder)
            // The buckets are not empty: the builder has no other error.
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        let meter = Meter::new(Arc::new(recorder));
        describe(&meter);
        Metrics {
            handle,
            meter,
            token,
        }
    }

    /// Where the layers count.
    pub fn meter(&self) -> Meter {
        self.meter.clone()
    }

    /// Folds what was recorded into the histograms every few seconds, for
    /// the life of the server.
    pub async fn upkeep_loop(self) {
        let mut tick = tokio::time::interval(UPKEEP);
        loop {
            tick.tick().await;
            self.handle.run_upkeep();
        }
    }

    /// Whether a scrape's headers carry the token (always, when none is set).
    fn allowed(&self, headers: &HeaderMap) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or("");
        bool::from(given.as_bytes().ct_eq(token.expose().as_bytes()))
    }
}

fn describe(m: &Meter) {
    m.describe_counter(
        HTTP_REQUESTS,
        "Requests answered, by matched route template, method and status.",
    );
    m.describe_histogram(
        USSD_HOP_SECONDS,
        "Seconds from a USSD hop's request to its answer, by gateway.",
    );
    m.describe_counter(CASES_CREATED, "Cases created, by channel.");
    m.describe_counter(
        OUTBOX_SENDS,
        "SMS sends recorded, by result: sent, retry (tried again later), failed (no more tries).",
    );
    m.describe_gauge(
        OUTBOX_MESSAGES,
        "Outgoing SMS waiting to be sent (queued) or being sent (sending).",
    );
    m.describe_gauge(
        OUTBOX_OLDEST_QUEUED_AGE,
        "Seconds since the oldest queued SMS was queued; 0 when none is.",
    );
    m.describe_gauge(TIMERS_DUE, "Pending timers whose due time has come.");
    m.describe_gauge(
        TIMERS_OVERDUE,
        "Pending timers due for longer than the scheduler's poll and lease.",
    );
    m.describe_gauge(
        ALERTS_UNACKNOWLEDGED_OVERDUE,
        "Cases still new whose alert was not acknowledged by its deadline.",
    );
    m.describe_gauge(
        DB_POOL_CONNECTIONS,
        "The database pool's connections, by state: idle, in_use.",
    );
    m.describe_gauge(
        DB_POOL_MAX_CONNECTIONS,
        "The most connections the database pool opens.",
    );
}

/// A method as a label: the standard ones by name, any other `OTHER` (a
/// client's invented method is no label value).
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// The middleware counting every request by its matched route's template
/// (never the raw path, which holds case references and tokens),
/// `unmatched` for none, its method and its answer's status.
pub async fn count_requests(State(meter): State<Meter>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = method_label(req.method());
    let response = next.run(req).await;
    let key = Key::from_parts(
        HTTP_REQUESTS,
        vec![
            Label::new("route", route),
            Label::from_static_parts("method", method),
            Label::new("status", response.status().as_u16().to_string()),
        ],
    );
    meter.count_key(&key);
    response
}

/// `GET /metrics`: 401 without the token when one is set; 503 when the
/// database does not answer; else the exposition.
pub async fn serve(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let metrics = &state.metrics;
    if !metrics.allowed(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "a metrics token is needed\n",
        )
            .into_response();
    }
    if let Err(e) = read_gauges(&state).await {
        tracing::error!(error = %e, "metrics: the database did not answer");
        return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics.handle.render(),
    )
        .into_response()
}

/// A timer due for longer than this has missed its run: a live scheduler
/// looks at least every poll and runs what it claims within a lease.
pub fn overdue_grace(state: &AppState) -> Duration {
    state.config.scheduler.poll + state.config.scheduler.lease
}

/// Reads the scrape-time gauges from the database into the recorder.
async fn read_gauges(state: &AppState) -> Result<(), crate::store::StoreError> {
    let store = &state.store;
    let now = store.clock().now_ms();
    let grace = i64::try_from(overdue_grace(state).as_millis()).unwrap_or(i64::MAX);
    let (outbox, timers, alerts) = tokio::try_join!(
        store.outbox_gauges(),
        store.timer_gauges(now, now.saturating_sub(grace)),
        store.unacknowledged_overdue(now, ACK),
    )?;
    let m = &state.metrics.meter;
    m.set(
        OUTBOX_MESSAGES,
        &[("state", "queued")],
        outbox.queued as f64,
    );
    m.set(
        OUTBOX_MESSAGES,
        &[("state", "sending")],
        outbox.sending as f64,
    );
    let age = outbox
        .oldest_queued_at
        .map_or(0.0, |at| (now.saturating_sub(at)).max(0) as f64 / 1000.0);
    m.set(OUTBOX_OLDEST_QUEUED_AGE, &[], age);
    m.set(TIMERS_DUE, &[], timers.due as f64);
    m.set(TIMERS_OVERDUE, &[], timers.overdue as f64);
    m.set(ALERTS_UNACKNOWLEDGED_OVERDUE, &[], alerts as f64);
    let pool = store.pool_use();
    m.set(DB_POOL_CONNECTIONS, &[("state", "idle")], pool.idle as f64);
    m.set(
        DB_POOL_CONNECTIONS,
        &[("state", "in_use")],
        pool.in_use as f64,
    );
    m.set(DB_POOL_MAX_CONNECTIONS, &[], pool.max as f64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_a_bearer_token_compared_whole() {
        let open = Metrics::new(None);
        assert!(open.allowed(&HeaderMap::new()));
        let m = Metrics::new(Some(Secret::new("s3cret")));
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, v.parse().unwrap());
            h
        };
        assert!(!m.allowed(&HeaderMap::new()));
        assert!(m.allowed(&with("Bearer s3cret")));
        assert!(!m.allowed(&with("Bearer s3cre")));
        assert!(!m.allowed(&with("Bearer s3cret2")));
        assert!(!m.allowed(&with("Basic s3cret")));
        assert!(!m.allowed(&with("s3cret")));
    }

    #[test]
    fn only_standard_methods_are_label_values() {
        assert_eq!(method_label(&Method::POST), "POST");
        assert_eq!(
            method_label(&Method::from_bytes(b"+250788000001").unwrap()),
            "OTHER"
        );
    }
}
