//! The staff pages, server-rendered (askama, checked at compile time),
//! usable without JavaScript: sign-in and sign-out (`login.rs`), the case
//! list (`cases.rs`), a case and the forms that work it (`case.rs`).

pub mod case;
pub mod cases;
pub mod login;

use axum::response::{Html, IntoResponse, Response};

use super::error::PageError;
use super::words::Words;

/// Renders a template, or the error page when it fails.
pub(crate) fn render(t: &impl askama::Template, words: &Words) -> Result<Response, PageError> {
    t.render()
        .map(|html| Html(html).into_response())
        .map_err(|e| PageError::internal(words, e))
}
