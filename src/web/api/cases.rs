//! `GET /api/v1/cases`, `GET /api/v1/cases/{reference}`,
//! `POST /api/v1/cases/{reference}/stage`, `POST /api/v1/cases/{reference}/notes`.

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    Json,
};
use utoipa::{IntoParams, ToSchema};

use super::{ApiJson, ApiQuery, Client};
use crate::{
    casework::{CaseFile, Work},
    domain::{random_token, CaseRef, Stage, StageChange},
    store::{CaseFilter, CaseItem, ReporterKind},
    web::{error::ApiError, Web},
};

/// The most cases a page may hold.
pub const MAX_PER_PAGE: u32 = 100;

#[derive(Debug, serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CasesQuery {
    /// `new`, `acknowledged`, `assessed`, `planned` or `closed`.
    pub stage: Option<String>,
    pub urgent: Option<bool>,
    /// Only cases with a missed deadline still undone (or none).
    pub overdue: Option<bool>,
    /// A centre's code (national tokens; a centre's token sees its own only).
    pub centre: Option<String>,
    /// A district's location code.
    pub district: Option<String>,
    /// `ussd` or `sms`.
    pub channel: Option<String>,
    /// `volunteer`, `self` or `anonymous`.
    pub reporter: Option<String>,
    /// From 1.
    pub page: Option<u32>,
    /// 1 to 100; 50 when not given.
    pub per_page: Option<u32>,
}

/// A case in a list.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct CaseOut {
    /// Eight digits, the last a check digit.
    pub reference: String,
    pub stage: String,
    /// The centre's code.
    pub centre: String,
    pub urgent: bool,
    pub overdue: bool,
    pub concern: String,
    pub channel: String,
    pub district: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

impl From<CaseItem> for CaseOut {
    fn from(c: CaseItem) -> Self {
        CaseOut {
            reference: c.reference,
            stage: c.stage,
            centre: c.centre,
            urgent: c.urgent,
            overdue: c.overdue,
            concern: c.concern,
            channel: c.channel,
            district: c.district,
            created_at: c.created_at,
        }
    }
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct CaseList {
    pub data: Vec<CaseOut>,
    pub page: u32,
    pub per_page: u32,
    /// The next page's number, when there is one.
    pub next_page: Option<u32>,
}

/// An event of a case's timeline.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct EventOut {
    pub kind: String,
    pub at: String,
    pub actor: Option<String>,
    pub channel: Option<String>,
    pub outcome: Option<String>,
    pub note: Option<String>,
}

/// A deadline: `pending`, `met`, `missed` or `cancelled`.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct DeadlineOut {
    pub kind: String,
    pub due_at: String,
    pub state: String,
    pub settled_at: Option<String>,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct ReferralOut {
    pub id: i64,
    pub service: String,
    pub note: Option<String>,
    pub referred_at: String,
    pub outcome: Option<String>,
    pub outcome_note: Option<String>,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct TransferOut {
    pub from_centre: String,
    pub to_centre: String,
    pub reason: String,
    pub state: String,
    pub requested_at: String,
}

/// A case in full.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct CaseDetailOut {
    pub reference: String,
    pub stage: String,
    pub centre: String,
    pub urgent: bool,
    pub overdue: bool,
    pub concern: String,
    pub care: Option<String>,
    pub channel: String,
    pub created_at: String,
    /// First name only, when given.
    pub child_name: Option<String>,
    pub child_age: Option<i64>,
    pub child_sex: String,
    pub disability: Option<String>,
    pub province: Option<String>,
    pub district: Option<String>,
    pub sector: Option<String>,
    pub village: String,
    pub self_report: bool,
    pub anonymous: bool,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    pub assigned_to: Option<String>,
    pub follow_volunteer: Option<String>,
    pub visit_interval_days: Option<i64>,
    /// The id Primero holds the case under, once pushed there.
    pub primero_id: Option<String>,
    pub timeline: Vec<EventOut>,
    pub deadlines: Vec<DeadlineOut>,
    pub referrals: Vec<ReferralOut>,
    /// A transfer waiting for the receiving centre's decision.
    pub transfer: Option<TransferOut>,
}

impl From<CaseFile> for CaseDetailOut {
    fn from(f: CaseFile) -> Self {
        let c = f.case;
        CaseDetailOut {
            reference: c.reference,
            stage: c.stage,
            centre: c.centre,
            urgent: c.urgent,
            overdue: c.overdue,
            concern: c.concern,
            care: c.care,
            channel: c.channel,
            created_at: c.created_at,
            child_name: c.child_name,
            child_age: c.child_age,
            child_sex: c.child_sex,
            disability: c.disability,
            province: c.province,
            district: c.district,
            sector: c.sector,
            village: c.village,
            self_report: c.self_report,
            anonymous: c.anonymous,
            reporter_name: c.reporter_name,
            reporter_phone: c.reporter_phone,
            assigned_to: c.assigned_to,
            follow_volunteer: c.follow_volunteer,
            visit_interval_days: c.visit_interval_days,
            primero_id: c.primero.id,
            timeline: f
                .timeline
                .into_iter()
                .map(|e| EventOut {
                    kind: e.kind,
                    at: e.at,
                    actor: e.actor,
                    channel: e.channel,
                    outcome: e.outcome,
                    note: e.note,
                })
                .collect(),
            deadlines: f
                .deadlines
                .into_iter()
                .map(|d| DeadlineOut {
                    kind: d.kind,
                    due_at: d.due_at,
                    state: d.state,
                    settled_at: d.settled_at,
                })
                .collect(),
            referrals: f
                .referrals
                .into_iter()
                .map(|r| ReferralOut {
                    id: r.id,
                    service: r.service,
                    note: r.note,
                    referred_at: r.referred_at,
                    outcome: r.outcome,
                    outcome_note: r.outcome_note,
                })
                .collect(),
            transfer: f.transfer.map(|t| TransferOut {
                from_centre: t.from_centre,
                to_centre: t.to_centre,
                reason: t.reason,
                state: t.state,
                requested_at: t.requested_at,
            }),
        }
    }
}

#[derive(Debug, serde::Deserialize, ToSchema)]
pub struct StageIn {
    /// `acknowledged`, `assessed`, `planned`, `reviewed`, `closed` or `reopened`.
    pub stage: String,
    pub note: Option<String>,
    /// Closing: one of `plan_completed`, `no_protection_concern`,
    /// `reached_majority`, `moved_away`, `family_declined`, `death`,
    /// `duplicate`, `other`. Reopening: why, in words.
    pub reason: Option<String>,
}

#[derive(Debug, serde::Deserialize, ToSchema)]
pub struct NoteIn {
    pub note: String,
}

/// What a change did.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Changed {
    pub reference: String,
    pub stage: String,
}

fn parse_reference(raw: &str) -> Result<CaseRef, ApiError> {
    CaseRef::parse(raw).map_err(|_| ApiError::not_found(format_args!("case {raw}")))
}

/// `Idempotency-Key`: the same key twice records one change.
fn source_key(headers: &HeaderMap, what: &str) -> String {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|k| k.chars().take(64).collect::<String>())
        .filter(|k| !k.is_empty())
        .unwrap_or_else(random_token);
    format!("api:{key}:{what}")
}

/// The cases the token's scope owns, urgent and overdue first, newest next.
#[utoipa::path(
    get,
    path = "/api/v1/cases",
    operation_id = "list_cases",
    params(CasesQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of cases", body = CaseList),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 422, description = "A filter is not one of its choices", body = ApiError),
    )
)]
pub async fn list(
    State(web): State<Web>,
    client: Client,
    ApiQuery(q): ApiQuery<CasesQuery>,
) -> Result<Json<CaseList>, ApiError> {
    if let Some(s) = &q.stage {
        Stage::parse(s).ok_or_else(|| {
            ApiError::invalid(format!(
                "stage `{s}`: use new, acknowledged, assessed, planned or closed"
            ))
        })?;
    }
    let reporter = match &q.reporter {
        None => None,
        Some(r) => Some(ReporterKind::parse(r).ok_or_else(|| {
            ApiError::invalid(format!("reporter `{r}`: use volunteer, self or anonymous"))
        })?),
    };
    let per_page = q.per_page.unwrap_or(50);
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(ApiError::invalid(format!(
            "per_page is 1 to {MAX_PER_PAGE}"
        )));
    }
    let page = q.page.unwrap_or(1);
    if page == 0 || page > 1_000_000 {
        return Err(ApiError::invalid("page is from 1"));
    }
    let filter = CaseFilter {
        stage: q.stage,
        urgent: q.urgent,
        overdue: q.overdue,
        centre: q.centre,
        district: q.district,
        channel: q.channel,
        reporter,
    };
    let cases = web
        .work
        .list_cases(
            &client.actor,
            &filter,
            page - 1,
            per_page,
            "api",
            client.address,
        )
        .await?;
    Ok(Json(CaseList {
        data: cases.items.into_iter().map(CaseOut::from).collect(),
        page,
        per_page,
        next_page: cases.more.then_some(page + 1),
    }))
}

/// One case with its timeline and deadlines; the read is in the audit log.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{reference}",
    params(("reference" = String, Path, description = "The case's reference")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The case", body = CaseDetailOut),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 404, description = "No such case within the token's scope", body = ApiError),
    )
)]
pub async fn show(
    State(web): State<Web>,
    client: Client,
    Path(raw): Path<String>,
) -> Result<Json<CaseDetailOut>, ApiError> {
    let reference = parse_reference(&raw)?;
    let file = web
        .work
        .open_case(&client.actor, &reference, "api", client.address)
        .await?
        .ok_or_else(|| ApiError::not_found(format_args!("case {raw}")))?;
    Ok(Json(file.into()))
}

/// Moves a case's stage forward, closes it with a reason or reopens it.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{reference}/stage",
    params(
        ("reference" = String, Path, description = "The case's reference"),
        ("Idempotency-Key" = Option<String>, Header, description = "The same key twice records one change"),
    ),
    request_body = StageIn,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Recorded", body = Changed),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 403, description = "The token's role changes no case", body = ApiError),
        (status = 404, description = "No such case within the token's scope", body = ApiError),
        (status = 409, description = "The case's stage does not allow this change", body = ApiError),
        (status = 422, description = "Not a stage, or a reason missing", body = ApiError),
    )
)]
pub async fn stage(
    State(web): State<Web>,
    client: Client,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<StageIn>,
) -> Result<Json<Changed>, ApiError> {
    let reference = parse_reference(&raw)?;
    let change = if body.stage == "reopened" {
        StageChange::Reopen
    } else {
        StageChange::parse(&body.stage).map_err(ApiError::invalid)?
    };
    let reason = body.reason.filter(|r| !r.trim().is_empty());
    if change == StageChange::Close && reason.is_none() {
        return Err(ApiError::invalid("closing a case needs a `reason`"));
    }
    if change == StageChange::Reopen && reason.is_none() {
        return Err(ApiError::invalid("reopening a case needs a `reason`"));
    }
    let key = source_key(&headers, "stage");
    web.work
        .perform(
            &client.actor,
            &reference,
            Work::Stage {
                change,
                reason,
                note: body.note,
            },
            "api",
            client.address,
            key,
        )
        .await?;
    Ok(Json(Changed {
        reference: reference.to_string(),
        stage: change.target().as_str().to_string(),
    }))
}

/// Adds a note to a case's timeline.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{reference}/notes",
    params(
        ("reference" = String, Path, description = "The case's reference"),
        ("Idempotency-Key" = Option<String>, Header, description = "The same key twice records one note"),
    ),
    request_body = NoteIn,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded"),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 403, description = "The token's role changes no case", body = ApiError),
        (status = 404, description = "No such case within the token's scope", body = ApiError),
        (status = 422, description = "An empty note", body = ApiError),
    )
)]
pub async fn note(
    State(web): State<Web>,
    client: Client,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NoteIn>,
) -> Result<StatusCode, ApiError> {
    let reference = parse_reference(&raw)?;
    if body.note.trim().is_empty() {
        return Err(ApiError::invalid("the note is empty"));
    }
    let key = source_key(&headers, "note");
    web.work
        .perform(
            &client.actor,
            &reference,
            Work::Note(body.note),
            "api",
            client.address,
            key,
        )
        .await?;
    Ok(StatusCode::CREATED)
}
