//! `GET /cases`: the cases the staff member's scope owns, filtered (stage,
//! urgency, overdue, district, channel, reporter; a centre for national
//! staff), urgent and overdue first, 50 a page; and the transfers waiting
//! for their centre's decision.

use axum::{
    extract::{rejection::QueryRejection, Query, State},
    response::Response,
};

use super::render;
use crate::{
    domain::{Scope, Stage},
    store::{CaseFilter, CaseItem, ReporterKind, Transfer},
    web::{error::PageError, session::SignedIn, words::Words, Web},
};

/// Cases on a page.
pub const PER_PAGE: u32 = 50;

/// The list's query string, as the filter form sends it (empty fields
/// mean "any").
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
pub struct ListQuery {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_none"
    )]
    pub stage: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_none_bool"
    )]
    pub urgent: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_none_bool"
    )]
    pub overdue: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_none"
    )]
    pub district: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_none"
    )]
    pub channel: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_none"
    )]
    pub reporter: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_none"
    )]
    pub centre: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
}

fn empty_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s: Option<String> = serde::Deserialize::deserialize(d)?;
    Ok(s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()))
}

fn empty_none_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match empty_none(d)?.as_deref() {
        None => Ok(None),
        Some("true" | "1" | "yes") => Ok(Some(true)),
        Some("false" | "0" | "no") => Ok(Some(false)),
        Some(other) => Err(serde::de::Error::custom(format!(
            "`{other}` is not true or false"
        ))),
    }
}

impl ListQuery {
    /// The store's filter; `None` for a value that is none of the choices.
    pub fn filter(&self) -> Option<CaseFilter> {
        // A NUL is in no code, and PostgreSQL refuses it in text.
        let texts = [
            &self.stage,
            &self.district,
            &self.channel,
            &self.reporter,
            &self.centre,
        ];
        if texts.into_iter().flatten().any(|v| v.contains('\0')) {
            return None;
        }
        if let Some(s) = &self.stage {
            Stage::parse(s)?;
        }
        let reporter = match &self.reporter {
            None => None,
            Some(r) => Some(ReporterKind::parse(r)?),
        };
        Some(CaseFilter {
            stage: self.stage.clone(),
            urgent: self.urgent,
            overdue: self.overdue,
            centre: self.centre.clone(),
            district: self.district.clone(),
            channel: self.channel.clone(),
            reporter,
        })
    }

    fn with_page(&self, page: u32) -> String {
        let mut q = self.clone();
        q.page = Some(page);
        serde_urlencoded_string(&q)
    }
}

fn serde_urlencoded_string(q: &ListQuery) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            out.append_pair(k, &v);
        }
    };
    put("stage", q.stage.clone());
    put("urgent", q.urgent.map(|b| b.to_string()));
    put("overdue", q.overdue.map(|b| b.to_string()));
    put("district", q.district.clone());
    put("channel", q.channel.clone());
    put("reporter", q.reporter.clone());
    put("centre", q.centre.clone());
    put("page", q.page.map(|p| p.to_string()));
    out.finish()
}

#[derive(askama::Template)]
#[template(path = "cases.html")]
struct CasesPage<'a> {
    w: &'a Words,
    csrf: &'a str,
    staff_name: &'a str,
    nav: super::Nav,
    q: &'a ListQuery,
    national: bool,
    items: Vec<CaseItem>,
    transfers: Vec<Transfer>,
    stages: Vec<&'static str>,
    channels: [&'static str; 2],
    reporters: [&'static str; 3],
    districts: Vec<(String, String)>,
    prev: Option<String>,
    next: Option<String>,
}

pub async fn list(
    State(web): State<Web>,
    staff: SignedIn,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let w = &staff.words;
    // A malformed query is answered in the reader's language, not axum's text.
    let Ok(Query(q)) = q else {
        return Err(PageError::bad_request(w));
    };
    let filter = q.filter().ok_or_else(|| PageError::bad_request(w))?;
    let page = q.page.unwrap_or(1).max(1);
    let scope = staff.actor.scope;
    let internal = |e| PageError::internal(w, e);
    let cases = web
        .work
        .list_cases(
            &staff.actor,
            &filter,
            page - 1,
            PER_PAGE,
            "web",
            staff.address.clone(),
        )
        .await
        .map_err(internal)?;
    let transfers = web
        .work
        .transfers_waiting(&staff.actor)
        .await
        .map_err(internal)?;
    let districts = web.work.districts(&staff.actor).await.map_err(internal)?;
    let page_view = CasesPage {
        w,
        csrf: staff.csrf(),
        staff_name: &staff.session.staff.name,
        nav: super::Nav::of(&staff),
        q: &q,
        national: scope == Scope::National,
        items: cases.items,
        transfers,
        stages: Stage::ALL.iter().map(|s| s.as_str()).collect(),
        channels: ["ussd", "sms"],
        reporters: ["volunteer", "self", "anonymous"],
        districts,
        prev: (page > 1).then(|| q.with_page(page - 1)),
        next: cases.more.then(|| q.with_page(page + 1)),
    };
    render(&page_view, w)
}
