//! `GET /cases/{reference}`: one case in full (the read is audited), and
//! the forms that work it, each a `POST` under the case's path carrying
//! the session's CSRF token and a key that makes a repeated submit one
//! change. A case outside the reader's scope is "not found", exactly as
//! one that does not exist.

use axum::{
    extract::{
        rejection::{FormRejection, PathRejection, QueryRejection},
        Path, Query, State,
    },
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    Form,
};

use super::render_status;
use crate::{
    casework::{CaseError, CaseFile, Work},
    domain::{
        random_token, CaseRef, Phone, Role, Scope, StageChange, CLOSE_REASONS, REFERRAL_OUTCOMES,
        REFERRAL_SERVICES,
    },
    web::{error::PageError, session::SignedIn, words::Words, Web},
};

#[derive(askama::Template)]
#[template(path = "case.html")]
struct CasePage<'a> {
    w: &'a Words,
    csrf: &'a str,
    staff_name: &'a str,
    nav: super::Nav,
    key: String,
    c: CaseFile,
    done: Option<String>,
    error: Option<String>,
    can_work: bool,
    can_decide: bool,
    next_stages: Vec<&'static str>,
    close_reasons: &'static [&'static str],
    services: &'static [&'static str],
    outcomes: &'static [&'static str],
    workers: Vec<(i64, String)>,
    centres: Vec<(i64, String, String)>,
    /// Cases are pushed to Primero here (or this one was).
    primero: bool,
}

#[derive(serde::Deserialize, Default)]
pub struct PageQuery {
    saved: Option<String>,
}

fn reference(w: &Words, raw: &str) -> Result<CaseRef, PageError> {
    CaseRef::parse(raw).map_err(|_| PageError::not_found(w))
}

/// The stage changes a case at `stage` may take, in order.
fn next_stages(stage: &str) -> Vec<&'static str> {
    let Some(from) = crate::domain::Stage::parse(stage) else {
        return Vec::new();
    };
    [
        StageChange::Acknowledge,
        StageChange::Assess,
        StageChange::Plan,
        StageChange::Review,
        StageChange::Close,
    ]
    .into_iter()
    .filter(|c| c.allowed_from(from))
    // A new case's acknowledgement has its own button.
    .filter(|c| !(from == crate::domain::Stage::New && *c == StageChange::Acknowledge))
    .map(|c| c.event())
    .collect()
}

async fn page(
    web: &Web,
    staff: &SignedIn,
    reference: &CaseRef,
    status: StatusCode,
    done: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let w = &staff.words;
    let internal = |e| PageError::internal(w, e);
    let file = web
        .work
        .open_case(&staff.actor, reference, "web", staff.address.clone())
        .await
        .map_err(|e| PageError::from_case(w, e))?
        .ok_or_else(|| PageError::not_found(w))?;
    let role = staff.actor.role;
    let owns = match staff.actor.scope {
        Scope::Centre(id) => id == file.case.centre_id,
        Scope::National => true,
    };
    let can_decide = role.manages()
        && file
            .transfer
            .as_ref()
            .is_some_and(|t| match staff.actor.scope {
                Scope::Centre(id) => id == t.to_centre_id,
                Scope::National => role == Role::Admin,
            });
    let can_work = role.works_cases() && owns;
    let workers = if can_work {
        web.work
            .assignable(file.case.centre_id)
            .await
            .map_err(internal)?
    } else {
        Vec::new()
    };
    let centres = if can_work {
        web.work.centres().await.map_err(internal)?
    } else {
        Vec::new()
    };
    let page = CasePage {
        w,
        csrf: staff.csrf(),
        staff_name: &staff.session.staff.name,
        nav: super::Nav::of(staff),
        key: random_token(),
        next_stages: next_stages(&file.case.stage),
        primero: web.settings.primero || file.case.primero.id.is_some(),
        c: file,
        done,
        error,
        can_work,
        can_decide,
        close_reasons: &CLOSE_REASONS,
        services: &REFERRAL_SERVICES,
        outcomes: &REFERRAL_OUTCOMES,
        workers,
        centres,
    };
    render_status(&page, w, status)
}

pub async fn show(
    State(web): State<Web>,
    staff: SignedIn,
    Path(raw): Path<String>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let reference = reference(&staff.words, &raw)?;
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let done = q.saved.map(|_| staff.words.t("web-saved"));
    page(&web, &staff, &reference, StatusCode::OK, done, None).await
}

/// Every case form's fields; each form sends the ones it has.
#[derive(serde::Deserialize, Default)]
pub struct WorkForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    key: String,
    stage: Option<String>,
    reason: Option<String>,
    note: Option<String>,
    staff: Option<String>,
    centre: Option<String>,
    decision: Option<String>,
    service: Option<String>,
    outcome: Option<String>,
    volunteer: Option<String>,
    days: Option<String>,
}

impl WorkForm {
    /// A NUL is in no one's words, and PostgreSQL refuses it in text.
    fn has_nul(&self) -> bool {
        [
            &self.stage,
            &self.reason,
            &self.note,
            &self.staff,
            &self.centre,
            &self.decision,
            &self.service,
            &self.outcome,
            &self.volunteer,
            &self.days,
        ]
        .into_iter()
        .flatten()
        .any(|v| v.contains('\0'))
            || self.key.contains('\0')
    }
}

fn filled(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// What a form asks for; `Err` with the message id of what is wrong.
fn work_of(
    web: &Web,
    form: &str,
    f: &WorkForm,
    referral: Option<i64>,
) -> Result<Work, &'static str> {
    Ok(match form {
        "stage" => {
            let stage = filled(&f.stage).ok_or("web-error-invalid")?;
            let change = if stage == "reopened" {
                StageChange::Reopen
            } else {
                StageChange::parse(&stage).map_err(|_| "web-error-invalid")?
            };
            let reason = filled(&f.reason);
            if change == StageChange::Close && reason.is_none() {
                return Err("web-error-close-reason");
            }
            if change == StageChange::Reopen && reason.is_none() {
                return Err("web-error-reason");
            }
            Work::Stage {
                change,
                reason,
                note: filled(&f.note),
            }
        }
        "notes" => Work::Note(filled(&f.note).ok_or("web-error-note")?),
        "assign" => Work::Assign(
            filled(&f.staff)
                .and_then(|s| s.parse().ok())
                .ok_or("web-error-invalid")?,
        ),
        "transfer" => Work::Transfer {
            to_centre: filled(&f.centre).ok_or("web-error-invalid")?,
            reason: filled(&f.reason).ok_or("web-error-reason")?,
        },
        "decision" => Work::Decide {
            accept: match filled(&f.decision).as_deref() {
                Some("accept") => true,
                Some("reject") => false,
                _ => return Err("web-error-invalid"),
            },
            note: filled(&f.note),
        },
        "referrals" => Work::Refer {
            service: filled(&f.service).ok_or("web-error-invalid")?,
            note: filled(&f.note),
        },
        "outcome" => Work::Outcome {
            referral: referral.ok_or("web-error-invalid")?,
            outcome: filled(&f.outcome).ok_or("web-error-invalid")?,
            note: filled(&f.note),
        },
        "follow-up" => Work::FollowUp {
            volunteer: filled(&f.volunteer)
                .and_then(|p| Phone::parse(&p, web.settings.country).ok())
                .ok_or("web-error-phone")?,
            interval_days: filled(&f.days)
                .and_then(|d| d.parse().ok())
                .ok_or("web-error-interval")?,
        },
        _ => return Err("web-error-invalid"),
    })
}

async fn submit(
    web: Web,
    staff: SignedIn,
    raw: String,
    form: &'static str,
    referral: Option<i64>,
    f: WorkForm,
) -> Result<Response, PageError> {
    staff.check_csrf(&f.csrf)?;
    let w = &staff.words;
    let reference = reference(w, &raw)?;
    if !staff.actor.role.works_cases() {
        return Err(PageError::forbidden(w));
    }
    if f.has_nul() {
        let m = w.t("web-error-invalid");
        return page(
            &web,
            &staff,
            &reference,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(m),
        )
        .await;
    }
    let work = match work_of(&web, form, &f, referral) {
        Ok(work) => work,
        Err(id) => {
            let m = w.t(id);
            return page(
                &web,
                &staff,
                &reference,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(m),
            )
            .await;
        }
    };
    let key = if f.key.is_empty() {
        random_token()
    } else {
        f.key.chars().take(64).collect()
    };
    let source_key = format!("web:{key}:{}", work.action());
    match web
        .work
        .perform(
            &staff.actor,
            &reference,
            work,
            "web",
            staff.address.clone(),
            source_key,
        )
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{reference}?saved=1")).into_response()),
        Err(e @ (CaseError::NotAllowed { .. } | CaseError::Invalid(_))) => {
            tracing::info!(reference = %reference, error = %e, "case work refused");
            let m = match e {
                CaseError::NotAllowed { .. } => w.t("web-error-stage"),
                _ => w.t("web-error-invalid"),
            };
            page(
                &web,
                &staff,
                &reference,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(m),
            )
            .await
        }
        Err(e) => Err(PageError::from_case(w, e)),
    }
}

macro_rules! form_route {
    ($name:ident, $form:literal) => {
        pub async fn $name(
            State(web): State<Web>,
            staff: SignedIn,
            Path(raw): Path<String>,
            f: Result<Form<WorkForm>, FormRejection>,
        ) -> Result<Response, PageError> {
            let Ok(Form(f)) = f else {
                return Err(PageError::bad_request(&staff.words));
            };
            submit(web, staff, raw, $form, None, f).await
        }
    };
}

form_route!(stage, "stage");
form_route!(note, "notes");
form_route!(assign, "assign");
form_route!(transfer, "transfer");
form_route!(decide, "decision");
form_route!(refer, "referrals");
form_route!(follow_up, "follow-up");

pub async fn outcome(
    State(web): State<Web>,
    staff: SignedIn,
    path: Result<Path<(String, i64)>, PathRejection>,
    f: Result<Form<WorkForm>, FormRejection>,
) -> Result<Response, PageError> {
    let (Ok(Path((raw, referral))), Ok(Form(f))) = (path, f) else {
        return Err(PageError::not_found(&staff.words));
    };
    submit(web, staff, raw, "outcome", Some(referral), f).await
}
