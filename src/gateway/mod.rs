//! Gateway adapters: wire format in, a channel-neutral message to the
//! channels, wire format out; and the SMS providers' APIs the outbox sends
//! through. Nothing below this module knows a wire format: a gateway
//! always answers in its own (a USSD `END` apology, TwiML, `ok`), whatever
//! happened inside.
//!
//! - `africastalking/`: USSD (and its session notifications) and SMS
//!   callbacks, the SMS API;
//! - `ussd/`: the USSD aggregators that send one input at a time (Hubtel,
//!   Nalo, Arkesel, Beem), one file each behind one trait;
//! - `twilio/`: SMS webhooks and their signature, the REST API;
//! - `providers.rs`: the provider the outbox sends through (`log` too),
//!   `http.rs` what their HTTP clients share;
//! - `primero/`: Primero's case API, which the case work pushes cases
//!   through (its bearer token, `POST` and `PATCH` of a case);
//! - `settings.rs`: the providers' settings.
//!
//! Imports `channels`, `casework`, `store` (delivery reports), `text` and
//! `domain`.

pub mod africastalking;
pub mod http;
pub mod primero;
pub mod providers;
pub mod settings;
pub mod twilio;
pub mod ussd;

use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};
use base64::Engine as _;
use subtle::ConstantTimeEq;

pub use settings::{AfricasTalkingConfig, SmsConfig, SmsProvider, TwilioConfig};

use crate::{
    channels::Channels,
    domain::{meter, DeliveryStatus, Meter, Secret},
};

/// What the gateway handlers need; cheap to clone (axum's state for every
/// gateway route, built by the app).
#[derive(Clone, Debug)]
pub struct Gateways {
    pub channels: Channels,
    pub settings: Arc<Settings>,
    /// Where USSD hops are timed (the app's metrics).
    pub meter: Meter,
}

/// The gateways' own settings (from `app::Config`).
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// When set, Africa's Talking's callbacks must present it (`?token=`
    /// or the HTTP Basic password).
    pub token: Option<Secret>,
    /// Twilio's webhooks are signed with it; without one they are refused.
    pub twilio_auth_token: Option<Secret>,
    /// The public base URL Twilio signed its calls over (the server sits
    /// behind a proxy); unset: the `Host` header's.
    pub public_url: Option<String>,
}

impl Gateways {
    /// A USSD hop of `gateway` (its route's name) answered, `started` when
    /// its request came in: its time in the hop histogram.
    pub fn hop_answered(&self, gateway: &'static str, started: std::time::Instant) {
        self.meter.record(
            meter::USSD_HOP_SECONDS,
            &[("gateway", gateway)],
            started.elapsed().as_secs_f64(),
        );
    }

    /// Whether a callback presents the gateway token (see [`authorized`]).
    pub fn authorized(&self, q: &TokenQuery, headers: &HeaderMap) -> bool {
        authorized(
            self.settings.token.as_ref().map(Secret::expose),
            q.token.as_deref(),
            headers,
        )
    }
}

/// The gateway token of a callback's query string (`?token=`).
#[derive(Debug, serde::Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// A form-encoded body's fields, decoded, in order.
pub fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// The first value of a form field.
pub fn field<'f>(fields: &'f [(String, String)], name: &str) -> Option<&'f str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Records a delivery report for the outbox: the provider's own word
/// `raw`, and what it means (`status`, when the gateway knows the word).
/// An unknown message or status is recorded as such and never an error.
/// The status answers the gateway.
pub async fn record_delivery(
    g: &Gateways,
    provider: &str,
    id: &str,
    raw: &str,
    status: Option<DeliveryStatus>,
) -> StatusCode {
    match g
        .channels
        .store
        .delivery_report(provider, id, raw, status)
        .await
    {
        Ok(true) => StatusCode::OK,
        Ok(false) => {
            tracing::info!(
                provider,
                status = raw,
                "delivery report for a message this outbox did not send"
            );
            StatusCode::OK
        }
        Err(e) => {
            tracing::error!(provider, error = %e, "could not record a delivery report");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// Checks the gateway token: `?token=` or the HTTP Basic password. With no
/// token configured every request passes.
pub fn authorized(expected: Option<&str>, query_token: Option<&str>, headers: &HeaderMap) -> bool {
    let Some(expected) = expected else {
        return true;
    };
    let same = |given: &str| bool::from(given.as_bytes().ct_eq(expected.as_bytes()));
    if query_token.is_some_and(same) {
        return true;
    }
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| pair.split_once(':').map(|(_, pass)| same(pass)))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_by_query_or_basic_password() {
        let none = HeaderMap::new();
        assert!(authorized(None, None, &none));
        assert!(authorized(Some("s3cret"), Some("s3cret"), &none));
        assert!(!authorized(Some("s3cret"), Some("s3cre"), &none));
        assert!(!authorized(Some("s3cret"), None, &none));
        let mut basic = HeaderMap::new();
        let b = base64::engine::general_purpose::STANDARD.encode("africastalking:s3cret");
        basic.insert(header::AUTHORIZATION, format!("Basic {b}").parse().unwrap());
        assert!(authorized(Some("s3cret"), None, &basic));
        let mut wrong = HeaderMap::new();
        let b = base64::engine::general_purpose::STANDARD.encode("s3cret:nope");
        wrong.insert(header::AUTHORIZATION, format!("Basic {b}").parse().unwrap());
        assert!(!authorized(Some("s3cret"), None, &wrong));
    }
}
