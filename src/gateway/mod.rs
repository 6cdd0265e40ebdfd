//! Gateway adapters: wire format in, a channel-neutral message to the
//! service, wire format out. Nothing below this module knows a wire format.

pub mod africastalking;
pub mod africastalking_sms;
pub mod twilio;
pub mod twilio_signature;

use axum::http::{header, HeaderMap};
use base64::Engine as _;
use subtle::ConstantTimeEq;

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

/// Records a delivery report for the outbox; an unknown message or status
/// is recorded as such and never an error. The status answers the gateway.
pub async fn record_delivery(
    state: &crate::AppState,
    provider: &str,
    id: &str,
    status: &str,
) -> axum::http::StatusCode {
    match state.store.delivery_report(provider, id, status).await {
        Ok(true) => axum::http::StatusCode::OK,
        Ok(false) => {
            tracing::info!(
                provider,
                status,
                "delivery report for a message this outbox did not send"
            );
            axum::http::StatusCode::OK
        }
        Err(e) => {
            tracing::error!(provider, error = %e, "could not record a delivery report");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR
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
