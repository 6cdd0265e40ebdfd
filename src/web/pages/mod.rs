//! The staff pages, server-rendered (askama, checked at compile time),
//! usable without JavaScript: sign-in and sign-out (`login.rs`), the case
//! list (`cases.rs`), a case and the forms that work it (`case.rs`); for
//! managers and administrators a centre's staff (`staff.rs`), volunteers
//! (`volunteers.rs`), rota and escalation chain (`rota.rs`), with what they
//! share in `admin.rs`; for administrators and auditors the audit log
//! (`audit.rs`).

pub mod admin;
pub mod audit;
pub mod case;
pub mod cases;
pub mod indicators;
pub mod login;
pub mod rota;
pub mod staff;
pub mod volunteers;

use axum::{
    http::{header, StatusCode},
    response::{Html, IntoResponse, Response},
};

use super::error::PageError;
use super::session::SignedIn;
use super::words::Words;

/// What the navigation (`nav.html`) shows the signed-in staff member
/// beyond the cases: their centre's people for a manager or an
/// administrator, the audit log for an administrator or an auditor.
pub(crate) struct Nav {
    pub manages: bool,
    pub audit: bool,
}

impl Nav {
    pub(crate) fn of(staff: &SignedIn) -> Nav {
        Nav {
            manages: staff.actor.role.manages(),
            audit: staff.actor.role.reads_audit(),
        }
    }
}

/// Renders a template, or the error page when it fails.
pub(crate) fn render(t: &impl askama::Template, words: &Words) -> Result<Response, PageError> {
    t.render()
        .map(|html| Html(html).into_response())
        .map_err(|e| PageError::internal(words, e))
}

/// Renders a template with a status other than 200 (a form shown again
/// with its problem).
pub(crate) fn render_status(
    t: &impl askama::Template,
    words: &Words,
    status: axum::http::StatusCode,
) -> Result<Response, PageError> {
    let mut response = render(t, words)?;
    *response.status_mut() = status;
    Ok(response)
}

/// A CSV file to download as `filename`: what the audit log's and the
/// indicators' downloads answer.
pub(crate) fn csv_download(filename: &str, body: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}
