//! Africa's Talking USSD: form fields `sessionId`, `serviceCode`,
//! `phoneNumber`, `networkCode`, `text` (every input so far, joined by `*`);
//! the reply is `text/plain` starting `CON ` or `END `.

use axum::{
    body::Bytes,
    extract::{Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::{engine::Screen, ussd, AppState};

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

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
        for (name, value) in form_urlencoded::parse(body) {
            let field = match &*name {
                "sessionId" => &mut form.session_id,
                "phoneNumber" => &mut form.phone_number,
                "text" => &mut form.text,
                _ => continue,
            };
            if field.replace(value.into_owned()).is_some() {
                return Err(format!("field `{name}` is repeated"));
            }
        }
        Ok(form)
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
    State(state): State<AppState>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let default_locale = &state.config.default_locale;
    let refuse = |status: StatusCode, id: &str| {
        reply(
            status,
            &Screen {
                text: state.engine.texts().plain(default_locale, id),
                end: true,
            },
        )
    };
    if !super::authorized(
        state.config.gateway_token.as_deref(),
        q.token.as_deref(),
        &headers,
    ) {
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
    let phone = match state.phones.read(&phone) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "USSD request with an unreadable phone number");
            return refuse(StatusCode::OK, "error-internal");
        }
    };
    let text = form.text.unwrap_or_default();
    let inputs = if text.is_empty() {
        vec![]
    } else {
        text.split('*').map(str::to_string).collect()
    };
    let screen = ussd::answer(
        &state,
        ussd::UssdHop {
            session_id,
            phone,
            inputs,
        },
    )
    .await;
    reply(StatusCode::OK, &screen)
}
