//! Every route in one place, each span named by its matched route, each
//! request counted by it (`metrics.rs`).

use axum::{
    extract::{MatchedPath, State},
    http::{header, HeaderValue, Request, StatusCode},
    middleware,
    response::{IntoResponse, Redirect, Response},
    routing::{any, get, post},
    Router,
};
use tower_http::trace::TraceLayer;

use super::{metrics, AppState};
use crate::{
    gateway::{
        africastalking, twilio,
        ussd::{self, arkesel::Arkesel, beem::Beem, hubtel::Hubtel, nalo::Nalo},
    },
    web::{
        api,
        error::ApiError,
        pages::{audit, case, cases, indicators, login, rota, staff, volunteers},
    },
};

pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::serve))
        // The staff web view.
        .route("/", get(|| async { Redirect::to("/cases") }))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/cases", get(cases::list))
        .route("/cases/{reference}", get(case::show))
        .route("/cases/{reference}/stage", post(case::stage))
        .route("/cases/{reference}/notes", post(case::note))
        .route("/cases/{reference}/assign", post(case::assign))
        .route("/cases/{reference}/transfer", post(case::transfer))
        .route("/cases/{reference}/transfer/decision", post(case::decide))
        .route("/cases/{reference}/referrals", post(case::refer))
        .route(
            "/cases/{reference}/referrals/{referral}/outcome",
            post(case::outcome),
        )
        .route("/cases/{reference}/follow-up", post(case::follow_up))
        .route("/indicators", get(indicators::page))
        // A centre's people (managers, admins) and the audit log (admins, auditors).
        .route("/staff", get(staff::list).post(staff::add))
        .route("/staff/import", post(staff::import))
        .route("/staff/{id}/deactivate", post(staff::deactivate))
        .route("/volunteers", get(volunteers::list).post(volunteers::add))
        .route("/volunteers/import", post(volunteers::import))
        .route("/volunteers/{id}/deactivate", post(volunteers::deactivate))
        .route("/rota", get(rota::rota))
        .route("/rota/import", post(rota::import_rota))
        .route("/chain", get(rota::chain))
        .route("/chain/import", post(rota::import_chain))
        .route("/audit", get(audit::list))
        .route("/audit.csv", get(audit::csv))
        // The API (its document lists the same routes).
        .route("/api/v1/openapi.json", get(api::openapi::serve))
        .route("/api/v1/cases", get(api::cases::list))
        .route("/api/v1/cases/{reference}", get(api::cases::show))
        .route("/api/v1/cases/{reference}/stage", post(api::cases::stage))
        .route("/api/v1/cases/{reference}/notes", post(api::cases::note))
        .route("/api/v1/audit", get(api::audit::list))
        .route("/api/v1/indicators", get(api::indicators::get))
        .route("/api/v1/{*rest}", any(api_not_found))
        // The gateways.
        .route("/ussd/africastalking", post(africastalking::ussd::ussd))
        .route(
            "/ussd/africastalking/events",
            post(africastalking::ussd::events),
        )
        .route("/ussd/hubtel", post(ussd::serve::<Hubtel>))
        .route("/ussd/nalo", post(ussd::serve::<Nalo>))
        .route("/ussd/arkesel", post(ussd::serve::<Arkesel>))
        .route("/ussd/beem", post(ussd::serve::<Beem>))
        .route("/sms/twilio", post(twilio::sms::inbound))
        .route("/sms/twilio/status", post(twilio::sms::status))
        .route("/sms/africastalking", post(africastalking::sms::inbound))
        .route(
            "/sms/africastalking/delivery",
            post(africastalking::sms::delivery),
        )
        .layer(middleware::map_response(guard_headers))
        .layer(middleware::from_fn_with_state(
            state.metrics.meter(),
            metrics::count_requests,
        ))
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

/// An API path that is none of the API's: JSON, as every API answer.
async fn api_not_found() -> ApiError {
    ApiError::not_found("such API route")
}

/// Headers every answer carries: nothing is framed, sniffed, cached or
/// referred (a case page on a shared computer must not come back from the
/// browser's cache), and pages load nothing from elsewhere.
async fn guard_headers(mut response: Response) -> impl IntoResponse {
    let h = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::CACHE_CONTROL, "no-store");
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'",
    );
    response
}
