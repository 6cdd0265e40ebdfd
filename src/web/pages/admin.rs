//! What the pages for a centre's people share (`staff.rs`,
//! `volunteers.rs`, `rota.rs`): who may open them (managers and
//! administrators; anyone else is refused before anything is read), the
//! centre a page is about (a manager's own; an administrator's choice or
//! every centre), the CSV import box with the importer's line-numbered
//! errors, and the message a change leaves on the page it returns to.

use axum::http::StatusCode;

use crate::{
    casework::admin::{AdminError, CentreRef, CsvImport, Imported, RowProblem, Sheet},
    web::{error::PageError, session::SignedIn, words::Words},
};

/// A page's query string: the centre (administrators), and what the form
/// that sent the reader here did.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct PeopleQuery {
    #[serde(default)]
    pub centre: Option<String>,
    #[serde(default)]
    pub done: Option<String>,
    #[serde(default)]
    pub n: Option<usize>,
}

impl PeopleQuery {
    pub fn centre(&self) -> Option<&str> {
        filled(self.centre.as_deref())
    }
}

/// A form that only carries the CSRF token (and the centre the page showed).
#[derive(Debug, Default, serde::Deserialize)]
pub struct ButtonForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub centre: Option<String>,
}

/// The CSV import box's form.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub csv: String,
    #[serde(default)]
    pub centre: Option<String>,
}

/// A value that is there and not blank, trimmed.
pub fn filled(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

/// Refuses anyone who does not manage a centre's people (caseworkers,
/// committee members, auditors): 403, nothing read or changed.
pub fn managers_only(staff: &SignedIn) -> Result<(), PageError> {
    if staff.actor.role.manages() {
        Ok(())
    } else {
        Err(PageError::forbidden(&staff.words))
    }
}

/// A case work refusal as the reader is told it.
pub fn admin_error(w: &Words, e: AdminError) -> PageError {
    match e {
        AdminError::Forbidden(_) => PageError::forbidden(w),
        AdminError::NotFound => PageError::not_found(w),
        AdminError::Yourself => PageError::bad_request(w),
        AdminError::Store(e) => PageError::internal(w, e),
        AdminError::Import(e) => PageError::internal(w, e),
    }
}

/// One problem shown on a page: a CSV row's (with its line) or a form's.
#[derive(Clone, Debug)]
pub struct Problem {
    pub line: Option<u64>,
    pub message: String,
}

/// What a page says about the form that was just sent.
#[derive(Clone, Debug, Default)]
pub struct Feedback {
    pub done: Option<String>,
    pub error: Option<String>,
    pub problems: Vec<Problem>,
}

impl Feedback {
    /// The message a redirect's `done` asks for (only known ones).
    pub fn done(w: &Words, q: &PeopleQuery) -> Feedback {
        let n = q.n.unwrap_or(0).to_string();
        let done = match q.done.as_deref() {
            Some("added") => Some(w.t("web-people-added")),
            Some("deactivated") => Some(w.t("web-people-deactivated")),
            Some("imported") => Some(w.t1("web-import-done", "count", &n)),
            _ => None,
        };
        Feedback {
            done,
            ..Feedback::default()
        }
    }

    /// A form refused with one message.
    pub fn error(message: String) -> Feedback {
        Feedback {
            error: Some(message),
            ..Feedback::default()
        }
    }

    /// An import (or a one-person form) the importer refused: its rows'
    /// problems, with their lines when `lines`.
    pub fn refused(w: &Words, problems: Vec<RowProblem>, lines: bool) -> Feedback {
        Feedback {
            error: Some(w.t(if lines {
                "web-import-refused"
            } else {
                "web-people-refused"
            })),
            problems: problems
                .into_iter()
                .map(|p| Problem {
                    line: lines.then_some(p.line),
                    message: p.message,
                })
                .collect(),
            ..Feedback::default()
        }
    }
}

/// The CSV import box of a page.
#[derive(Clone, Debug)]
pub struct ImportBox {
    /// Where the form posts.
    pub action: &'static str,
    /// The header the CSV starts with.
    pub header: String,
    /// The text sent, shown again when it was refused.
    pub csv: String,
    /// The message id that says what the import does to existing rows.
    pub note: &'static str,
}

impl ImportBox {
    pub fn new(
        importer: &dyn CsvImport,
        sheet: Sheet,
        action: &'static str,
        note: &'static str,
    ) -> Self {
        ImportBox {
            action,
            header: importer.columns(sheet).join(","),
            csv: String::new(),
            note,
        }
    }

    pub fn with_csv(mut self, csv: String) -> Self {
        self.csv = csv;
        self
    }
}

/// Where a change sends the reader back to: the page, with the centre it
/// showed and what was done.
pub fn back_to(path: &str, centre: Option<&str>, done: &str, n: Option<usize>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    if let Some(c) = filled(centre) {
        q.append_pair("centre", c);
    }
    q.append_pair("done", done);
    if let Some(n) = n {
        q.append_pair("n", &n.to_string());
    }
    format!("{path}?{}", q.finish())
}

/// The status a page answers with after its form: 422 when it was refused.
pub fn status_of(fb: &Feedback) -> StatusCode {
    if fb.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
}

/// The centre a page is about, for the reader (see
/// `CaseWork::managed_centre`).
pub async fn centre_of(
    web: &crate::web::Web,
    staff: &SignedIn,
    asked: Option<&str>,
) -> Result<Option<CentreRef>, PageError> {
    web.work
        .managed_centre(&staff.actor, filled(asked))
        .await
        .map_err(|e| admin_error(&staff.words, e))
}

/// The outcome of an import as the page it returns to shows it: a
/// redirect path on success, or the feedback of a refusal.
pub fn imported(
    w: &Words,
    outcome: Imported,
    path: &str,
    centre: Option<&str>,
) -> Result<String, Feedback> {
    match outcome {
        Imported::Rows(n) => Ok(back_to(path, centre, "imported", Some(n))),
        Imported::Refused(problems) => Err(Feedback::refused(w, problems, true)),
    }
}
