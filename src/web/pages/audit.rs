//! `GET /audit`: the audit log for administrators and auditors (anyone
//! else: 403), oldest first, filtered by case, actor and days, 100 rows a
//! page; `GET /audit.csv`: the same rows, every page, as CSV with the
//! header `at,actor,action,case,address,detail`. Each read goes through
//! `CaseWork::read_audit`, so it is itself in the log.

use axum::{
    extract::{Query, State},
    response::Response,
};
use chrono::{NaiveDate, TimeZone as _};

use super::{admin::filled, render, Nav};
use crate::{
    domain::{CaseRef, Phone},
    store::{AuditEntry, AuditFilter},
    web::{api::audit::parse_time, error::PageError, session::SignedIn, words::Words, Web},
};

/// Rows on a page.
pub const PER_PAGE: u32 = 100;

/// The CSV's header.
pub const CSV_HEADER: [&str; 6] = ["at", "actor", "action", "case", "address", "detail"];

/// The filter form's query string (empty fields mean "any").
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub case: Option<String>,
    #[serde(default)]
    pub actor: Option<String>,
    /// A day (`YYYY-MM-DD`, local) or an RFC 3339 time, included.
    #[serde(default)]
    pub from: Option<String>,
    /// A day, included, or an RFC 3339 time, excluded.
    #[serde(default)]
    pub to: Option<String>,
    /// Rows after this id (the next page).
    #[serde(default)]
    pub after: Option<String>,
}

impl AuditQuery {
    /// The store's filter; `None` when a field is not what it should be.
    fn filter(&self, web: &Web, limit: Option<u32>) -> Option<AuditFilter> {
        let tz = web.settings.timezone;
        // A day is the deployment's local day; a time is read as written.
        let at = |raw: &str, next_day: bool| -> Option<i64> {
            if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
                let day = if next_day { day.succ_opt()? } else { day };
                let midnight = day.and_hms_opt(0, 0, 0)?;
                return tz
                    .from_local_datetime(&midnight)
                    .earliest()
                    .map(|t| t.timestamp_millis());
            }
            parse_time(raw)
        };
        let case = match filled(self.case.as_deref()) {
            Some(c) => Some(CaseRef::parse(c).ok()?),
            None => None,
        };
        // A phone in any spelling, or a name as the log writes it (`token:NAME`).
        let actor = filled(self.actor.as_deref()).map(|a| {
            Phone::parse(a, web.settings.country)
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|_| a.to_string())
        });
        let from = match filled(self.from.as_deref()) {
            Some(f) => Some(at(f, false)?),
            None => None,
        };
        let to = match filled(self.to.as_deref()) {
            Some(t) => Some(at(t, true)?),
            None => None,
        };
        let after = match filled(self.after.as_deref()) {
            Some(a) => Some(a.parse().ok()?),
            None => None,
        };
        Some(AuditFilter {
            case,
            actor,
            from,
            to,
            after,
            limit,
        })
    }

    /// The query string of the same filters, from row `after` on.
    fn with_after(&self, after: Option<i64>) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("case", &self.case),
            ("actor", &self.actor),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(v) = filled(v.as_deref()) {
                q.append_pair(k, v);
            }
        }
        if let Some(a) = after {
            q.append_pair("after", &a.to_string());
        }
        q.finish()
    }
}

#[derive(askama::Template)]
#[template(path = "audit.html")]
struct AuditPage<'a> {
    w: &'a Words,
    csrf: &'a str,
    staff_name: &'a str,
    nav: Nav,
    q: &'a AuditQuery,
    rows: Vec<AuditEntry>,
    first: Option<String>,
    next: Option<String>,
    csv: String,
}

/// Only those whose role reads the audit log get further.
fn readers_only(staff: &SignedIn) -> Result<(), PageError> {
    if staff.actor.role.reads_audit() {
        Ok(())
    } else {
        Err(PageError::forbidden(&staff.words))
    }
}

async fn read(
    web: &Web,
    staff: &SignedIn,
    filter: &AuditFilter,
) -> Result<Vec<AuditEntry>, PageError> {
    let w = &staff.words;
    web.work
        .read_audit(&staff.actor, filter, staff.address.clone())
        .await
        .map_err(|e| PageError::internal(w, e))?
        .ok_or_else(|| PageError::forbidden(w))
}

pub async fn list(
    State(web): State<Web>,
    staff: SignedIn,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    readers_only(&staff)?;
    let w = &staff.words;
    let filter = q
        .filter(&web, Some(PER_PAGE))
        .ok_or_else(|| PageError::bad_request(w))?;
    let rows = read(&web, &staff, &filter).await?;
    let next = (rows.len() == PER_PAGE as usize)
        .then(|| rows.last().map(|r| q.with_after(Some(r.id))))
        .flatten();
    let page = AuditPage {
        w,
        csrf: staff.csrf(),
        staff_name: &staff.session.staff.name,
        nav: Nav::of(&staff),
        first: filter.after.map(|_| q.with_after(None)),
        next,
        csv: q.with_after(None),
        q: &q,
        rows,
    };
    render(&page, w)
}

pub async fn csv(
    State(web): State<Web>,
    staff: SignedIn,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    readers_only(&staff)?;
    let w = &staff.words;
    let filter = q
        .filter(&web, None)
        .ok_or_else(|| PageError::bad_request(w))?;
    let rows = read(&web, &staff, &filter).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let internal = |e: csv::Error| PageError::internal(w, e);
    out.write_record(CSV_HEADER).map_err(internal)?;
    for r in &rows {
        out.write_record([
            r.at.as_str(),
            r.actor.as_str(),
            r.action.as_str(),
            r.case.as_deref().unwrap_or_default(),
            r.address.as_deref().unwrap_or_default(),
            r.detail.as_deref().unwrap_or_default(),
        ])
        .map_err(internal)?;
    }
    let body = out
        .into_inner()
        .map_err(|e| PageError::internal(w, e.error().to_string()))?;
    Ok(super::csv_download("kanda-audit.csv", body))
}
