//! Africa's Talking USSD: form fields `sessionId`, `serviceCode`,
//! `phoneNumber`, `networkCode`, `text` (every input so far, joined by `*`);
//! the reply is `text/plain` starting `CON ` or `END `.
//!
//! The session notification (`POST /ussd/africastalking/events`, the
//! "events callback URL" of the service code): form fields `sessionId`,
//! `phoneNumber`, `status` (`Success`, `Incomplete`, `Failed`), `input`,
//! `hopsCount`, `durationInMillis`, `lastAppResponse`, `errorMessage`,
//! `date`, `cost`; answered `200 OK`. As read by
//! `SamuelMwangiW/africastalking-laravel`
//! (`src/Http/Requests/UssdEventRequest.php`).

use std::borrow::Cow;

use axum::{
    body::Bytes,
    extract::{Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};

use crate::{
    channels::ussd::{self, UssdHop},
    engine::Screen,
    gateway::{field, form_fields},
    gateway::{Gateways, TokenQuery},
};

/// The fields Kanda reads (`serviceCode` and `networkCode` are not needed).
#[derive(Default)]
struct UssdForm {
    session_id: Option<String>,
    phone_number: Option<String>,
    text: Option<String>,
}

impl UssdForm {
    /// Reads the form-encoded body; a field sent twice makes it malformed.
    fn parse(body: &[u8]) -> Result<Self, String> {
        let mut form = UssdForm::default();
        for pair in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &[][..]),
            };
            let name = form_decode(name);
            let field = match &*name {
                "sessionId" => &mut form.session_id,
                "phoneNumber" => &mut form.phone_number,
                "text" => &mut form.text,
                _ => continue,
            };
            if field.replace(form_decode(value).into_owned()).is_some() {
                return Err(format!("field `{name}` is repeated"));
            }
        }
        Ok(form)
    }
}

/// One `application/x-www-form-urlencoded` name or value, as the URL
/// standard decodes it: `+` is a space, `%XX` a byte, a `%` without two hex
/// digits stays, bytes that are not UTF-8 become U+FFFD. The crate
/// `form_urlencoded` does the same at six times the cost (6% of a hop); a
/// test holds the two to the same answers.
fn form_decode(raw: &[u8]) -> Cow<'_, str> {
    if !raw.iter().any(|&b| b == b'%' || b == b'+') {
        // Borrowed when it is UTF-8 already, as it nearly always is
        // (`from_utf8` first: `from_utf8_lossy`'s check costs more).
        return match std::str::from_utf8(raw) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(raw),
        };
    }
    let hex = |b: Option<&u8>| b.and_then(|&b| (b as char).to_digit(16));
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => match (hex(raw.get(i + 1)), hex(raw.get(i + 2))) {
                (Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

fn reply(status: StatusCode, screen: &Screen) -> Response {
    let prefix = if screen.end { "END " } else { "CON " };
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        [prefix, &screen.text].concat(),
    )
        .into_response()
}

pub async fn ussd(
    State(g): State<Gateways>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = std::time::Instant::now();
    let channels = &g.channels;
    let default_locale = &channels.settings.default_locale;
    let refuse = |status: StatusCode, id: &str| {
        reply(
            status,
            &Screen {
                text: channels.engine.texts().plain(default_locale, id),
                end: true,
            },
        )
    };
    if !g.authorized(&q, &headers) {
        tracing::warn!("USSD request with a missing or wrong gateway token");
        return refuse(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let form = match UssdForm::parse(&body) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(error = %e, "malformed USSD request");
            return refuse(StatusCode::BAD_REQUEST, "error-internal");
        }
    };
    let (Some(session_id), Some(phone)) = (
        form.session_id.filter(|s| !s.is_empty() && s.len() <= 128),
        form.phone_number,
    ) else {
        tracing::warn!("USSD request without sessionId or phoneNumber");
        return refuse(StatusCode::BAD_REQUEST, "error-internal");
    };
    let phone = match channels.phones.read(&phone) {
        Ok(p) => p,
        Err(_) => {
            // Not the error: it quotes what was sent, which may be a number.
            tracing::warn!("USSD request with an unreadable phone number");
            return refuse(StatusCode::OK, "error-internal");
        }
    };
    let screen = ussd::answer(
        channels,
        UssdHop::all(session_id, phone, form.text.unwrap_or_default()),
    )
    .await;
    let answer = reply(StatusCode::OK, &screen);
    g.hop_answered(super::PROVIDER, started);
    answer
}

/// `POST /ussd/africastalking/events`: the session is over. `Success` is
/// recorded as done; `Incomplete` and `Failed` as dropped, so the phone's
/// next dial offers to continue.
pub async fn events(
    State(g): State<Gateways>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let plain = |status: StatusCode, text: &'static str| {
        (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            text,
        )
            .into_response()
    };
    if !g.authorized(&q, &headers) {
        tracing::warn!("USSD notification with a missing or wrong gateway token");
        return plain(StatusCode::FORBIDDEN, "forbidden");
    }
    let fields = form_fields(&body);
    let session = field(&fields, "sessionId").filter(|s| !s.is_empty() && s.len() <= 128);
    let completed = match field(&fields, "status") {
        Some("Success") => Some(true),
        Some("Incomplete" | "Failed") => Some(false),
        _ => None,
    };
    let (Some(session), Some(completed)) = (session, completed) else {
        tracing::warn!("USSD notification without sessionId or a known status");
        return plain(StatusCode::BAD_REQUEST, "bad request");
    };
    match ussd::ended(&g.channels, session, completed).await {
        Ok(_) => {
            tracing::info!(
                status = field(&fields, "status").unwrap_or_default(),
                hops = field(&fields, "hopsCount").unwrap_or_default(),
                error = field(&fields, "errorMessage").unwrap_or_default(),
                "USSD session ended"
            );
            plain(StatusCode::OK, "OK")
        }
        Err(e) => {
            tracing::error!(error = %e, "could not record a USSD session's end");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "error")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_decode_as_form_urlencoded_decodes_them() {
        let samples: &[&[u8]] = &[
            b"",
            b"abc",
            b"1*2*3",
            b"%2A",
            b"%2a%2B",
            b"+250788000001",
            b"%2B250+788",
            b"a+b+c",
            b"%",
            b"%4",
            b"%zz",
            b"%4%41",
            b"100%",
            b"%C3%A9t%C3%A9",
            b"%C3",
            b"%FF%FE",
            b"\xc3\xa9",
            "\u{1F642}".as_bytes(),
            b"%F0%9F%99%82",
            b"=",
            b"%3D%26",
        ];
        for raw in samples {
            let expected: String = form_urlencoded::parse(&[b"x=", *raw].concat())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            assert_eq!(
                form_decode(raw),
                expected,
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn a_repeated_field_is_malformed_and_unknown_fields_are_ignored() {
        let form = UssdForm::parse(
            b"sessionId=s1&serviceCode=%2A384%23&phoneNumber=%2B250788000001&networkCode=63510&text=1%2A2&x",
        )
        .unwrap();
        assert_eq!(form.session_id.as_deref(), Some("s1"));
        assert_eq!(form.phone_number.as_deref(), Some("+250788000001"));
        assert_eq!(form.text.as_deref(), Some("1*2"));
        assert!(UssdForm::parse(b"text=1&text=2").is_err());
        assert!(UssdForm::parse(b"te%78t=1&text=2").is_err());
    }
}
