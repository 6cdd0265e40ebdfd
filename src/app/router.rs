//! Every route in one place, each span named by its matched route.

use axum::{
    extract::{MatchedPath, State},
    http::{Request, StatusCode},
    routing::{get, post},
    Router,
};
use tower_http::trace::TraceLayer;

use super::AppState;
use crate::gateway::{africastalking, twilio};

pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/ussd/africastalking", post(africastalking::ussd::ussd))
        .route("/sms/twilio", post(twilio::sms::inbound))
        .route("/sms/twilio/status", post(twilio::sms::status))
        .route("/sms/africastalking", post(africastalking::sms::inbound))
        .route(
            "/sms/africastalking/delivery",
            post(africastalking::sms::delivery),
        )
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                // Spans are named by the matched route, never by the raw path or query (tokens).
                let route = req
                    .extensions()
                    .get::<MatchedPath>()
                    .map(MatchedPath::as_str)
                    .unwrap_or("unmatched");
                tracing::info_span!("http", method = %req.method(), route)
            }),
        )
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}
