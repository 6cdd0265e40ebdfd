//! Primero's v2 API, as the push needs it (the case work's
//! [`PrimeroClient`] port), following Primero's own controllers
//! (primeroIMS/primero `app/controllers/api/v2/tokens_controller.rb`,
//! `concerns/record.rb` and the API docs beside them):
//!
//! - `POST /api/v2/tokens` with `{"user": {"user_name", "password"}}`
//!   answers a JWT (`token` in the JSON, and devise-jwt's `Authorization:
//!   Bearer` header); it is sent as a bearer token, taken again a few
//!   minutes before its `exp` (`token.rs`), and at once after a 401;
//! - `POST /api/v2/cases` with `{"data": {..., "id"}}`: a client-generated
//!   `id` is answered 204 (200 without one); 409 when Primero has that id;
//! - `PATCH /api/v2/cases/{id}` with `{"data": {...}}`: 200; 404 when it
//!   has no such case; 422 for a value it refuses.

mod token;

use std::time::Duration;

use serde_json::{json, Map, Value};

pub use token::{expiry_of, Token};

use super::http::{chain, shorten};
use crate::{
    casework::primero::{PrimeroClient, PushFuture, PushOutcome},
    domain::Secret,
};

/// Where Primero is and who Kanda is there (`KANDA_PRIMERO_URL`,
/// `KANDA_PRIMERO_USER`, `KANDA_PRIMERO_PASSWORD`).
#[derive(Clone, Debug)]
pub struct PrimeroSettings {
    /// `https://primero.example.org`, without a trailing slash.
    pub url: String,
    pub user: String,
    pub password: Secret,
    /// Each request's time limit.
    pub timeout: Duration,
}

/// Primero's HTTP API, with the bearer token it last gave.
#[derive(Debug)]
pub struct PrimeroHttp {
    http: reqwest::Client,
    settings: PrimeroSettings,
    token: tokio::sync::Mutex<Option<Token>>,
}

/// A request's method.
#[derive(Clone, Copy)]
enum Method {
    Post,
    Patch,
}

impl PrimeroHttp {
    pub fn new(settings: PrimeroSettings) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .user_agent(concat!("kanda/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(PrimeroHttp {
            http,
            settings,
            token: tokio::sync::Mutex::new(None),
        })
    }

    /// A bearer token: the one held unless it is (nearly) expired or
    /// `stale` (Primero refused it), else a new one.
    async fn bearer(&self, stale: Option<&str>) -> Result<String, PushOutcome> {
        let mut held = self.token.lock().await;
        if let Some(t) = held.as_ref() {
            if !t.due(chrono::Utc::now()) && stale != Some(t.value()) {
                return Ok(t.value().to_string());
            }
        }
        let token = self.sign_in().await?;
        let value = token.value().to_string();
        *held = Some(token);
        Ok(value)
    }

    /// `POST /api/v2/tokens`.
    async fn sign_in(&self) -> Result<Token, PushOutcome> {
        let url = format!("{}/api/v2/tokens", self.settings.url);
        let body = json!({"user": {
            "user_name": self.settings.user,
            "password": self.settings.password.expose(),
        }});
        let response = self
            .http
            .post(&url)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&body)
            .send()
            .await
            .map_err(|e| PushOutcome::Retry(format!("Primero sign-in: {}", chain(&e))))?;
        let status = response.status();
        let header = response
            .headers()
            .get(reqwest::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_string);
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            // Wrong credentials are the operator's to fix, not the case's:
            // the push waits and tries again.
            return Err(PushOutcome::Retry(format!(
                "Primero sign-in refused ({status}) for {}: {}",
                self.settings.user,
                shorten(&text)
            )));
        }
        let from_body = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("token").and_then(Value::as_str).map(str::to_string));
        match from_body.or(header) {
            Some(t) if !t.is_empty() => Ok(Token::new(t, chrono::Utc::now())),
            _ => Err(PushOutcome::Retry(
                "Primero sign-in answered without a token".into(),
            )),
        }
    }

    /// Sends `data` with a bearer token; once more with a new token if
    /// Primero refuses the one held (401).
    async fn send(&self, method: Method, path: &str, data: &Map<String, Value>) -> PushOutcome {
        let url = format!("{}{path}", self.settings.url);
        let body = json!({ "data": data });
        let mut stale: Option<String> = None;
        for _ in 0..2 {
            let token = match self.bearer(stale.as_deref()).await {
                Ok(t) => t,
                Err(outcome) => return outcome,
            };
            let request = match method {
                Method::Post => self.http.post(&url),
                Method::Patch => self.http.patch(&url),
            };
            let response = match request
                .bearer_auth(&token)
                .header(reqwest::header::ACCEPT, "application/json")
                .json(&body)
                .send()
                .await
            {
                Ok(r) => r,
                Err(e) => return PushOutcome::Retry(format!("Primero: {}", chain(&e))),
            };
            let status = response.status();
            if status == reqwest::StatusCode::UNAUTHORIZED {
                stale = Some(token);
                continue;
            }
            let text = response.text().await.unwrap_or_default();
            return classify(status, path, &text);
        }
        PushOutcome::Retry("Primero refused a fresh token (401)".into())
    }
}

/// What Primero's answer means for the push.
fn classify(status: reqwest::StatusCode, path: &str, text: &str) -> PushOutcome {
    use reqwest::StatusCode as S;
    let error = || format!("Primero {path}: {status}: {}", shorten(&errors_of(text)));
    match status {
        s if s.is_success() => PushOutcome::Done,
        S::CONFLICT => PushOutcome::Exists,
        S::TOO_MANY_REQUESTS | S::REQUEST_TIMEOUT => PushOutcome::Retry(error()),
        s if s.is_server_error() => PushOutcome::Retry(error()),
        _ => PushOutcome::Refused(error()),
    }
}

/// Primero's `{"errors": [{"message", "detail"}]}`, as one line; else the
/// answer itself.
fn errors_of(text: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return text.to_string();
    };
    let Some(errors) = v.get("errors").and_then(Value::as_array) else {
        return text.to_string();
    };
    errors
        .iter()
        .map(|e| {
            let message = e.get("message").and_then(Value::as_str).unwrap_or("");
            match e.get("detail").and_then(Value::as_str) {
                Some(detail) => format!("{message} ({detail})"),
                None => message.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl PrimeroClient for PrimeroHttp {
    fn create<'a>(&'a self, data: &'a Map<String, Value>) -> PushFuture<'a> {
        Box::pin(self.send(Method::Post, "/api/v2/cases", data))
    }

    fn update<'a>(&'a self, id: &'a str, data: &'a Map<String, Value>) -> PushFuture<'a> {
        Box::pin(async move {
            let path = format!("/api/v2/cases/{id}");
            self.send(Method::Patch, &path, data).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_as_primero_means_them() {
        let s = |code| reqwest::StatusCode::from_u16(code).unwrap();
        assert_eq!(classify(s(204), "/api/v2/cases", ""), PushOutcome::Done);
        assert_eq!(classify(s(200), "/api/v2/cases/x", "{}"), PushOutcome::Done);
        assert_eq!(classify(s(409), "/api/v2/cases", ""), PushOutcome::Exists);
        assert!(matches!(
            classify(s(503), "/api/v2/cases", ""),
            PushOutcome::Retry(_)
        ));
        assert!(matches!(
            classify(s(429), "/api/v2/cases", ""),
            PushOutcome::Retry(_)
        ));
        let body = r#"{"errors":[{"code":422,"resource":"/api/v2/cases","message":"Please enter the date in a valid format (dd-mmm-yyyy)","detail":"registration_date"}]}"#;
        assert_eq!(
            classify(s(422), "/api/v2/cases", body),
            PushOutcome::Refused(
                "Primero /api/v2/cases: 422 Unprocessable Entity: Please enter the date in a valid format (dd-mmm-yyyy) (registration_date)".into()
            )
        );
    }
}
