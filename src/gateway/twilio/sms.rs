//! Twilio SMS webhooks: the inbound message (`MessageSid`, `From`, `Body`,
//! ...) answered with TwiML, and the delivery report (`MessageSid`,
//! `MessageStatus`). Both are signed by Twilio (`X-Twilio-Signature`, see
//! [`super::signature`]); a request whose signature does not verify
//! gets 403 and changes nothing.

use axum::{
    body::Bytes,
    extract::State,
    http::{header, HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
};

use super::{delivery_status, signature, PROVIDER};
use crate::{
    channels::sms::{self, InboundSms},
    gateway::{field, form_fields, record_delivery, Gateways},
};

/// The auth token inbound signatures are checked with; without one every
/// Twilio webhook is refused.
fn auth_token(g: &Gateways) -> Option<&str> {
    g.settings.twilio_auth_token.as_ref().map(|t| t.expose())
}

/// The URL Twilio called, as it signed it: the configured public base URL
/// (the server usually sits behind a proxy) with the path and query
/// received; with none configured, what the `Host` header says.
fn signed_url(g: &Gateways, headers: &HeaderMap, uri: &Uri) -> String {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    match &g.settings.public_url {
        Some(base) => [base.as_str(), path].concat(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            ["http://", host, path].concat()
        }
    }
}

/// TwiML: one `<Message>`, or none.
fn twiml(status: StatusCode, message: Option<&str>) -> Response {
    let body = match message {
        Some(m) => [
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Message>"#,
            &xml_escape(m),
            "</Message></Response>",
        ]
        .concat(),
        None => r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#.to_string(),
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The form's fields when Twilio's signature over them verifies.
fn verified(
    g: &Gateways,
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
) -> Result<Vec<(String, String)>, StatusCode> {
    let Some(token) = auth_token(g) else {
        tracing::warn!("Twilio webhook refused: KANDA_TWILIO_AUTH_TOKEN is not set");
        return Err(StatusCode::FORBIDDEN);
    };
    let fields = form_fields(body);
    let signature = headers.get(signature::HEADER).and_then(|v| v.to_str().ok());
    let url = signed_url(g, headers, uri);
    match signature {
        Some(sig) if signature::verify(token, &url, &fields, sig) => Ok(fields),
        Some(_) => {
            tracing::warn!(%url, "Twilio webhook with a wrong signature");
            Err(StatusCode::FORBIDDEN)
        }
        None => {
            tracing::warn!(%url, "Twilio webhook without a signature");
            Err(StatusCode::FORBIDDEN)
        }
    }
}

pub async fn inbound(
    State(g): State<Gateways>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = match verified(&g, &headers, &uri, &body) {
        Ok(f) => f,
        Err(refused) => return twiml(refused, None),
    };
    let id = field(&fields, "MessageSid").or_else(|| field(&fields, "SmsSid"));
    let (Some(id), Some(from)) = (
        id.filter(|i| !i.is_empty() && i.len() <= 64),
        field(&fields, "From"),
    ) else {
        tracing::warn!("Twilio SMS without MessageSid or From");
        return twiml(StatusCode::BAD_REQUEST, None);
    };
    let from = match g.channels.phones.read(from) {
        Ok(p) => p,
        Err(_) => {
            // A short code or an alphanumeric sender: no one to answer.
            // Not the error: it quotes what was sent, which may be a number.
            tracing::warn!("Twilio SMS from an unreadable number");
            return twiml(StatusCode::OK, None);
        }
    };
    let msg = InboundSms {
        provider: PROVIDER,
        message_id: id.to_string(),
        from,
        body: field(&fields, "Body").unwrap_or_default().to_string(),
    };
    let reply = sms::answer(&g.channels, &msg).await;
    twiml(StatusCode::OK, Some(&reply))
}

pub async fn status(
    State(g): State<Gateways>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = match verified(&g, &headers, &uri, &body) {
        Ok(f) => f,
        Err(refused) => return twiml(refused, None),
    };
    let (Some(id), Some(status)) = (
        field(&fields, "MessageSid"),
        field(&fields, "MessageStatus").or_else(|| field(&fields, "SmsStatus")),
    ) else {
        tracing::warn!("Twilio status callback without MessageSid or MessageStatus");
        return twiml(StatusCode::BAD_REQUEST, None);
    };
    let code = record_delivery(&g, PROVIDER, id, status, delivery_status(status)).await;
    twiml(code, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_escaped_xml() {
        assert_eq!(
            xml_escape("a<b & \"c\" 'd'>"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
    }
}
