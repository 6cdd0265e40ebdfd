//! What goes back when a request fails. A person gets a short page in
//! their language (or is sent to sign in); an API client gets JSON
//! `{"code", "message"}` with a stable code. A server error is logged
//! with its cause and shows none of it.

use axum::{
    http::{header, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Json,
};

use super::words::Words;
use crate::casework::CaseError;

/// A page that could not be served.
#[derive(Debug)]
pub enum PageError {
    /// No session (or it expired): sign in first.
    SignIn,
    /// A page with a status, a title and a message, already in the reader's language.
    Page {
        status: StatusCode,
        title: String,
        message: String,
    },
}

impl PageError {
    fn page(status: StatusCode, words: &Words, id: &str) -> Self {
        PageError::Page {
            status,
            title: words.t(&format!("{id}-title")),
            message: words.t(id),
        }
    }

    pub fn not_found(words: &Words) -> Self {
        Self::page(StatusCode::NOT_FOUND, words, "web-error-not-found")
    }

    pub fn forbidden(words: &Words) -> Self {
        Self::page(StatusCode::FORBIDDEN, words, "web-error-forbidden")
    }

    /// A form without its valid CSRF token: nothing was changed.
    pub fn csrf(words: &Words) -> Self {
        Self::page(StatusCode::FORBIDDEN, words, "web-error-csrf")
    }

    pub fn bad_request(words: &Words) -> Self {
        Self::page(StatusCode::UNPROCESSABLE_ENTITY, words, "web-error-invalid")
    }

    /// A server error: logged with its cause; the reader is told only that
    /// it failed and nothing was lost.
    pub fn internal(words: &Words, cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "staff page failed");
        Self::page(
            StatusCode::INTERNAL_SERVER_ERROR,
            words,
            "web-error-internal",
        )
    }

    /// A case work error as the reader is told it.
    pub fn from_case(words: &Words, e: CaseError) -> Self {
        match e {
            CaseError::NoCase(_) | CaseError::OtherCentre { .. } => Self::not_found(words),
            CaseError::Forbidden(_) | CaseError::NotStaff(_) => Self::forbidden(words),
            CaseError::NotAllowed { .. } | CaseError::Invalid(_) => Self::bad_request(words),
            CaseError::Store(e) => Self::internal(words, e),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn => Redirect::to("/login").into_response(),
            PageError::Page {
                status,
                title,
                message,
            } => {
                let page = format!(
                    "<!doctype html><meta charset=utf-8><meta name=viewport content=\"width=device-width\">\
                     <title>{t}</title><h1>{t}</h1><p>{m}</p><p><a href=\"/cases\">Kanda</a></p>",
                    t = askama::filters::escape(&title, askama::filters::Html)
                        .map(|e| e.to_string())
                        .unwrap_or_default(),
                    m = askama::filters::escape(&message, askama::filters::Html)
                        .map(|e| e.to_string())
                        .unwrap_or_default(),
                );
                (
                    status,
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    page,
                )
                    .into_response()
            }
        }
    }
}

/// An API error: `{"code": ..., "message": ...}`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    /// `unauthorized`, `forbidden`, `not_found`, `invalid`, `conflict` or `internal`.
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn unauthorized() -> Self {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: "a valid bearer token is required".into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            message: message.into(),
        }
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: format!("no {what}"),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid",
            message: message.into(),
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::CONFLICT,
            code: "conflict",
            message: message.into(),
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "API request failed");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: "the server failed; nothing was changed".into(),
        }
    }
}

impl From<CaseError> for ApiError {
    fn from(e: CaseError) -> Self {
        match e {
            CaseError::NoCase(r) | CaseError::OtherCentre { reference: r, .. } => {
                ApiError::not_found(format_args!("case {r}"))
            }
            CaseError::Forbidden(role) => {
                ApiError::forbidden(format!("a {role} token may not change cases"))
            }
            CaseError::NotStaff(_) => ApiError::forbidden("staff only"),
            e @ CaseError::NotAllowed { .. } => ApiError::conflict(e.to_string()),
            CaseError::Invalid(m) => ApiError::invalid(m),
            CaseError::Store(e) => ApiError::internal(e),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(&self)).into_response()
    }
}
