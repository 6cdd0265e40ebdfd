//! `GET /api/v1/audit`: the audit log, for admins and auditors only.

use axum::{extract::State, Json};
use chrono::{DateTime, NaiveDate};
use utoipa::{IntoParams, ToSchema};

use super::{ApiQuery, Client};
use crate::{
    domain::CaseRef,
    store::AuditFilter,
    web::{error::ApiError, Web},
};

pub const MAX_LIMIT: u32 = 1000;

#[derive(Debug, serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// A case's reference.
    pub case: Option<String>,
    /// A staff phone (E.164) or `token:NAME`.
    pub actor: Option<String>,
    /// From this time (RFC 3339) or day (`YYYY-MM-DD`), included.
    pub from: Option<String>,
    /// Until this time or day, excluded.
    pub to: Option<String>,
    /// Rows after this id (the previous page's `next_after`).
    pub after: Option<i64>,
    /// 1 to 1000; 100 when not given.
    pub limit: Option<u32>,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct AuditOut {
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub case: Option<String>,
    pub address: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct AuditList {
    pub data: Vec<AuditOut>,
    /// Pass as `after` for the next page, when there may be one.
    pub next_after: Option<i64>,
}

/// A time as ms: RFC 3339, or a day (its midnight, UTC).
pub fn parse_time(s: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s.trim()) {
        return Some(t.timestamp_millis());
    }
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
}

/// The audit log, oldest first, filtered.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    operation_id = "list_audit",
    params(AuditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Audit rows", body = AuditList),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 403, description = "Only admin and auditor tokens read the audit log", body = ApiError),
        (status = 422, description = "A filter is malformed", body = ApiError),
    )
)]
pub async fn list(
    State(web): State<Web>,
    client: Client,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditList>, ApiError> {
    let time = |v: &Option<String>, name: &str| -> Result<Option<i64>, ApiError> {
        v.as_deref()
            .map(|s| {
                parse_time(s).ok_or_else(|| {
                    ApiError::invalid(format!(
                        "`{name}` is not a time: use RFC 3339 or YYYY-MM-DD"
                    ))
                })
            })
            .transpose()
    };
    let case = q
        .case
        .as_deref()
        .map(|c| CaseRef::parse(c).map_err(|e| ApiError::invalid(format!("case: {e}"))))
        .transpose()?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(format!("limit is 1 to {MAX_LIMIT}")));
    }
    let filter = AuditFilter {
        case,
        actor: q.actor.clone(),
        from: time(&q.from, "from")?,
        to: time(&q.to, "to")?,
        after: q.after,
        limit: Some(limit),
    };
    let rows = web
        .work
        .read_audit(&client.actor, &filter, client.address)
        .await?
        .ok_or_else(|| ApiError::forbidden("only admin and auditor tokens read the audit log"))?;
    let next_after = (rows.len() == limit as usize)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    Ok(Json(AuditList {
        data: rows
            .into_iter()
            .map(|r| AuditOut {
                id: r.id,
                at: r.at,
                actor: r.actor,
                action: r.action,
                case: r.case,
                address: r.address,
                detail: r.detail,
            })
            .collect(),
        next_after,
    }))
}
