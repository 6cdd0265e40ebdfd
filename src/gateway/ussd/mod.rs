//! USSD aggregators that send one input at a time (Hubtel, Nalo, Arkesel,
//! Beem), behind one small trait: the aggregator's request in, a
//! channel-neutral hop (or the word that a session ended) out; the
//! engine's screen back in the aggregator's own reply. One generic handler
//! serves every route `POST /ussd/<name>` with the same gateway
//! authentication as Africa's Talking (`?token=` or the HTTP Basic
//! password). The session's earlier inputs come from the stored session
//! (`channels::ussd`), as a second instance would need anyway.
//!
//! Africa's Talking, which sends every input so far as a form, keeps its
//! own handler (`gateway/africastalking/ussd.rs`).

pub mod arkesel;
pub mod beem;
pub mod hubtel;
pub mod nalo;

use axum::{
    body::Bytes,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::Value;

use crate::{
    channels::ussd::{self, Typed, UssdHop},
    engine::Screen,
    gateway::{Gateways, TokenQuery},
};

/// What an aggregator's request says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A hop: the dial or the latest input.
    Hop {
        session_id: String,
        phone: String,
        typed: Typed,
    },
    /// The aggregator's word that the session is over (the person hung up,
    /// or the telco timed it out): unfinished, so it may be continued.
    Ended { session_id: String, phone: String },
}

/// One aggregator's wire format.
pub trait Protocol: Send + Sync + 'static {
    /// The aggregator's name, as its route and its metrics' label say it.
    const NAME: &'static str;

    /// The aggregator's request body, as sent.
    type Request: for<'de> Deserialize<'de> + Default + Send;

    /// The request's meaning, or why it is malformed.
    fn incoming(req: &Self::Request) -> Result<Incoming, String>;

    /// The reply to `req` showing `screen` (a malformed request gets its
    /// own shape with `Default` fields).
    fn reply(req: &Self::Request, screen: &Screen) -> Value;
}

/// `POST /ussd/<name>` for protocol `P`.
pub async fn serve<P: Protocol>(
    State(g): State<Gateways>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = std::time::Instant::now();
    let channels = &g.channels;
    let default_locale = &channels.settings.default_locale;
    let refuse = |status: StatusCode, req: &P::Request, id: &str| {
        let screen = Screen {
            text: channels.engine.texts().plain(default_locale, id),
            end: true,
        };
        (status, Json(P::reply(req, &screen))).into_response()
    };
    if !g.authorized(&q, &headers) {
        tracing::warn!("USSD request with a missing or wrong gateway token");
        return refuse(
            StatusCode::FORBIDDEN,
            &P::Request::default(),
            "error-forbidden",
        );
    }
    let req: P::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "malformed USSD request");
            return refuse(
                StatusCode::BAD_REQUEST,
                &P::Request::default(),
                "error-internal",
            );
        }
    };
    let incoming = match P::incoming(&req) {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "malformed USSD request");
            return refuse(StatusCode::BAD_REQUEST, &req, "error-internal");
        }
    };
    let (session_id, phone, typed) = match incoming {
        Incoming::Hop {
            session_id,
            phone,
            typed,
        } => (session_id, phone, typed),
        Incoming::Ended { session_id, .. } => {
            if let Err(e) = ussd::ended(channels, &session_id, false).await {
                tracing::error!(error = %e, "could not record a USSD session's end");
            }
            let bye = Screen {
                text: String::new(),
                end: true,
            };
            return (StatusCode::OK, Json(P::reply(&req, &bye))).into_response();
        }
    };
    let phone = match channels.phones.read(&international(&phone)) {
        Ok(p) => p,
        Err(_) => {
            // Not the error: it quotes what was sent, which may be a number.
            tracing::warn!("USSD request with an unreadable phone number");
            return refuse(StatusCode::OK, &req, "error-internal");
        }
    };
    let screen = ussd::answer(
        channels,
        UssdHop {
            session_id,
            phone,
            typed,
        },
    )
    .await;
    let reply = (StatusCode::OK, Json(P::reply(&req, &screen))).into_response();
    g.hop_answered(P::NAME, started);
    reply
}

/// Aggregators send numbers in international form without the `+`
/// (`233246912184`): given back its `+`. A national number (`0788...`)
/// stays as it is, for the deployment's country to read.
fn international(raw: &str) -> String {
    let raw = raw.trim();
    if raw.len() >= 11 && raw.bytes().all(|b| b.is_ascii_digit()) && !raw.starts_with('0') {
        ["+", raw].concat()
    } else {
        raw.to_string()
    }
}

/// A session id: present, at most 128 characters.
fn session_id(raw: &str) -> Result<String, String> {
    let id = raw.trim();
    if id.is_empty() || id.len() > 128 {
        return Err("no session id".into());
    }
    Ok(id.to_string())
}

/// A field sent as a JSON string or number (Hubtel's `Sequence`, Beem's
/// `payload.response`): its text.
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_get_their_plus_back() {
        assert_eq!(super::international("233246912184"), "+233246912184");
        assert_eq!(super::international("+250788000001"), "+250788000001");
        assert_eq!(super::international("0788000001"), "0788000001");
    }
}
