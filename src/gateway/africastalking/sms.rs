//! Africa's Talking SMS callbacks: the inbound message (`from`, `to`,
//! `text`, `date`, `id`, `linkId`), whose reply goes out through the outbox
//! (Africa's Talking does not read one from the callback's answer), and the
//! delivery report (`id`, `status`). Authenticated like the USSD endpoint
//! (the gateway token).

use axum::{
    body::Bytes,
    extract::{Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};

use super::{delivery_status, PROVIDER};
use crate::gateway::TokenQuery;
use crate::{
    channels::sms::{self, InboundSms},
    domain::{NewSms, SmsKind},
    gateway::{field, form_fields, record_delivery, Gateways},
};

fn plain(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

/// The form's fields when the gateway token is right.
fn authorized(
    g: &Gateways,
    q: &TokenQuery,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<(String, String)>, StatusCode> {
    if !g.authorized(q, headers) {
        tracing::warn!("Africa's Talking SMS callback with a missing or wrong gateway token");
        return Err(StatusCode::FORBIDDEN);
    }
    Ok(form_fields(body))
}

pub async fn inbound(
    State(g): State<Gateways>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = match authorized(&g, &q, &headers, &body) {
        Ok(f) => f,
        Err(refused) => return plain(refused, "forbidden"),
    };
    let (Some(id), Some(from)) = (
        field(&fields, "id").filter(|i| !i.is_empty() && i.len() <= 128),
        field(&fields, "from"),
    ) else {
        tracing::warn!("Africa's Talking SMS without id or from");
        return plain(StatusCode::BAD_REQUEST, "id and from are required");
    };
    let from = match g.channels.phones.read(from) {
        Ok(p) => p,
        Err(_) => {
            // Not the error: it quotes what was sent, which may be a number.
            tracing::warn!("Africa's Talking SMS from an unreadable number");
            return plain(StatusCode::OK, "ok");
        }
    };
    let msg = InboundSms {
        provider: PROVIDER,
        message_id: id.to_string(),
        from: from.clone(),
        body: field(&fields, "text").unwrap_or_default().to_string(),
    };
    let reply = sms::answer(&g.channels, &msg).await;
    let queued = g
        .channels
        .work
        .send_sms(NewSms {
            to: from,
            body: reply,
            urgent: false,
            kind: SmsKind::Reply,
            // A second delivery of the message queues no second reply.
            source_key: format!("reply:{PROVIDER}:{id}"),
            case_id: None,
        })
        .await;
    match queued {
        Ok(_) => plain(StatusCode::OK, "ok"),
        Err(e) => {
            // Africa's Talking retries a callback that failed: the message's
            // effects are idempotent, and so is its reply.
            tracing::error!(error = %e, "could not queue the reply to an SMS");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "try again")
        }
    }
}

pub async fn delivery(
    State(g): State<Gateways>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = match authorized(&g, &q, &headers, &body) {
        Ok(f) => f,
        Err(refused) => return plain(refused, "forbidden"),
    };
    let (Some(id), Some(status)) = (field(&fields, "id"), field(&fields, "status")) else {
        tracing::warn!("Africa's Talking delivery report without id or status");
        return plain(StatusCode::BAD_REQUEST, "id and status are required");
    };
    match record_delivery(&g, PROVIDER, id, status, delivery_status(status)).await {
        StatusCode::OK => plain(StatusCode::OK, "ok"),
        code => plain(code, "try again"),
    }
}
