//! `GET /indicators`: a centre's, a province's or the nation's indicators
//! over a week, a month, a quarter or chosen days (`scope`, `period`,
//! `from`, `to`), every table with its definition, the counted ones drawn
//! as SVG bar charts with their numbers as text; `?format=csv` the same
//! tables as CSV (`&table=ID` one table). By default the reader's own
//! centre (the nation for national staff); anyone signed in may choose
//! another area, and sees small counts suppressed there
//! (`casework::indicators`).

use axum::{
    extract::{rejection::QueryRejection, Query, State},
    response::Response,
};
use chrono::{NaiveDate, Utc};

use super::{render, Nav};
use crate::{
    casework::indicators::{default_area, IndicatorError, Indicators, Label, Row, Table},
    domain::{parse_date, Actor, Area, Period, PeriodError, PeriodKind},
    web::{
        charts::{bars, Bar},
        error::PageError,
        session::SignedIn,
        words::Words,
        Web,
    },
};

/// The query string pages and the API read (empty fields mean "not
/// given").
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct IndicatorQuery {
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub period: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub table: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Why a query cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Area(#[from] crate::domain::AreaError),
    #[error(transparent)]
    Period(#[from] PeriodError),
    #[error("a custom period needs both `from` and `to`")]
    Custom,
    #[error("format `{0}`: use html or csv")]
    Format(String),
}

impl IndicatorQuery {
    /// The area asked for, or the reader's own.
    pub async fn area(
        &self,
        web: &Web,
        actor: &Actor,
    ) -> Result<Result<Area, QueryError>, crate::store::StoreError> {
        Ok(match given(&self.scope) {
            Some(s) => Area::parse(s).map_err(QueryError::from),
            None => Ok(default_area(&web.work, actor).await?),
        })
    }

    /// The period asked for: `period` (default: month) ending on `to`
    /// (default: today, local), or `custom` from `from` to `to`; a `from`
    /// and a `to` without a `period` are a custom one.
    pub fn period(&self, today: NaiveDate) -> Result<(PeriodKind, Period), QueryError> {
        let from = given(&self.from).map(parse_date).transpose()?;
        let to = given(&self.to).map(parse_date).transpose()?;
        let kind = match given(&self.period) {
            Some(p) => PeriodKind::parse(p)?,
            None if from.is_some() => PeriodKind::Custom,
            None => PeriodKind::Month,
        };
        let period = match kind.days() {
            Some(days) => Period::ending(to.unwrap_or(today), days),
            None => match (from, to) {
                (Some(f), Some(t)) => Period::new(f, t)?,
                (Some(f), None) => Period::new(f, today.max(f))?,
                _ => return Err(QueryError::Custom),
            },
        };
        Ok((kind, period))
    }

    fn csv(&self) -> Result<bool, QueryError> {
        match given(&self.format) {
            None | Some("html") => Ok(false),
            Some("csv") => Ok(true),
            Some(other) => Err(QueryError::Format(other.chars().take(20).collect())),
        }
    }

    /// This query as a link's, with `format` and `table` set as given.
    fn link(
        &self,
        area: &Area,
        kind: PeriodKind,
        period: &Period,
        format: Option<&str>,
        table: Option<&str>,
    ) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        out.append_pair("scope", &area.to_string());
        out.append_pair("period", kind.as_str());
        if kind == PeriodKind::Custom {
            out.append_pair("from", &period.from.to_string());
        }
        out.append_pair("to", &period.to.to_string());
        if let Some(f) = format {
            out.append_pair("format", f);
        }
        if let Some(t) = table {
            out.append_pair("table", t);
        }
        out.finish()
    }
}

/// Today in the deployment's zone, by the case work's clock.
pub fn today(web: &Web) -> NaiveDate {
    let now = web.store.clock().now_ms();
    chrono::DateTime::<Utc>::from_timestamp_millis(now)
        .unwrap_or_default()
        .with_timezone(&web.settings.timezone)
        .date_naive()
}

/// A row's label in the reader's language.
pub fn label(w: &Words, row: &Row) -> String {
    match &row.label {
        Label::Row => w.t(&format!("web-ind-row-{}", row.key.replace('_', "-"))),
        Label::Concern => w.concern(&row.key),
        Label::Reason => w.named("reason", &row.key),
        Label::Service => w.named("service", &row.key),
        Label::Level => w.t1("web-ind-level", "level", &row.key),
        Label::Text(t) => t.clone(),
    }
}

/// A column's label in the reader's language.
pub fn column(w: &Words, id: &str) -> String {
    w.t(&format!("web-ind-col-{}", id.replace('_', "-")))
}

/// A table as a page shows it: words in the reader's language.
pub struct TableView {
    pub id: &'static str,
    pub title: String,
    pub definition: String,
    pub columns: Vec<String>,
    /// (label, cells as text).
    pub rows: Vec<(String, Vec<String>)>,
    pub total: Option<Vec<String>>,
    /// The chart, SVG markup (escaped where it holds text).
    pub chart: Option<String>,
    pub csv: String,
}

fn view(w: &Words, t: &Table, csv: String) -> TableView {
    let title = w.t(&t.def.title_id());
    let chart = t.def.chart.then(|| {
        let items: Vec<Bar> = t
            .rows
            .iter()
            .map(|r| Bar {
                label: label(w, r),
                value: r.values[0].count(),
                text: r.values[0].text(),
            })
            .collect();
        bars(t.def.id, &title, &items)
    });
    TableView {
        id: t.def.id,
        definition: w.t(&t.def.definition_id()),
        columns: t.def.columns.iter().map(|(c, _)| column(w, c)).collect(),
        rows: t
            .rows
            .iter()
            .map(|r| (label(w, r), r.values.iter().map(|v| v.text()).collect()))
            .collect(),
        total: t
            .total
            .as_ref()
            .map(|r| r.values.iter().map(|v| v.text()).collect()),
        chart,
        csv,
        title,
    }
}

#[derive(askama::Template)]
#[template(path = "indicators.html")]
struct IndicatorsPage<'a> {
    w: &'a Words,
    csrf: &'a str,
    staff_name: &'a str,
    nav: Nav,
    areas: Vec<(String, String)>,
    scope: String,
    area_title: String,
    kind: &'static str,
    periods: Vec<(&'static str, String)>,
    from: String,
    to: String,
    exact: bool,
    tables: Vec<TableView>,
    csv: String,
}

/// A query error as the reader is told it.
fn refused(w: &Words) -> PageError {
    PageError::bad_request(w)
}

pub async fn page(
    State(web): State<Web>,
    staff: SignedIn,
    q: Result<Query<IndicatorQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let w = &staff.words;
    let Ok(Query(q)) = q else {
        return Err(refused(w));
    };
    let internal = |e: &dyn std::fmt::Display| PageError::internal(w, e.to_string());
    let area = q
        .area(&web, &staff.actor)
        .await
        .map_err(|e| internal(&e))?
        .map_err(|_| refused(w))?;
    let (kind, period) = q.period(today(&web)).map_err(|_| refused(w))?;
    let csv = q.csv().map_err(|_| refused(w))?;
    if let Some(t) = given(&q.table) {
        if !crate::casework::indicators::TABLES
            .iter()
            .any(|d| d.id == t)
        {
            return Err(refused(w));
        }
    }
    let ind = match web
        .work
        .indicators(&staff.actor, &area, &period, "web", staff.address.clone())
        .await
    {
        Ok(i) => i,
        Err(IndicatorError::NoArea(_)) => return Err(PageError::not_found(w)),
        Err(IndicatorError::Store(e)) => return Err(internal(&e)),
    };
    if csv {
        return csv_answer(w, &ind, given(&q.table));
    }
    let areas = web
        .work
        .indicator_areas()
        .await
        .map_err(|e| internal(&e))?
        .into_iter()
        .map(|(a, name)| {
            let text = area_title(w, &a, &name);
            (a.to_string(), text)
        })
        .collect();
    let tables = ind
        .tables
        .iter()
        .map(|t| {
            view(
                w,
                t,
                q.link(&area, kind, &period, Some("csv"), Some(t.def.id)),
            )
        })
        .collect();
    let page = IndicatorsPage {
        w,
        csrf: staff.csrf(),
        staff_name: &staff.session.staff.name,
        nav: Nav::of(&staff),
        areas,
        scope: area.to_string(),
        area_title: area_title(w, &area, &ind.area_name),
        kind: kind.as_str(),
        periods: ["week", "month", "quarter", "custom"]
            .into_iter()
            .map(|p| (p, w.t(&format!("web-ind-period-{p}"))))
            .collect(),
        from: period.from.to_string(),
        to: period.to.to_string(),
        exact: ind.exact,
        tables,
        csv: q.link(&area, kind, &period, Some("csv"), None),
    };
    render(&page, w)
}

/// An area as a reader reads it: `Centre: CAPE Sud (CAPE-S)`.
pub fn area_title(w: &Words, area: &Area, name: &str) -> String {
    match area {
        Area::National => w.t("web-ind-national"),
        Area::Centre(code) => w.t1("web-ind-centre", "name", &format!("{name} ({code})")),
        Area::Province(code) => w.t1("web-ind-province", "name", &format!("{name} ({code})")),
    }
}

/// A CSV cell that a spreadsheet would read as a formula is written as text.
fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// The tables as CSV: one table wide (`key,label,<columns>`, its total
/// last), or every table long (`table,key,label,column,value`).
fn csv_answer(w: &Words, ind: &Indicators, table: Option<&str>) -> Result<Response, PageError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let internal = |e: csv::Error| PageError::internal(w, e);
    let rows_of = |t: &Table| -> Vec<(String, String, Vec<String>)> {
        let texts = |r: &Row| r.values.iter().map(|v| v.text()).collect();
        let mut rows: Vec<_> = t
            .rows
            .iter()
            .map(|r| (r.key.clone(), label(w, r), texts(r)))
            .collect();
        if let Some(r) = &t.total {
            rows.push((r.key.clone(), w.t("web-ind-total"), texts(r)));
        }
        rows
    };
    let name = match table {
        Some(id) => {
            let t = ind.table(id).ok_or_else(|| PageError::bad_request(w))?;
            let mut head = vec!["key".to_string(), "label".to_string()];
            head.extend(t.def.columns.iter().map(|(c, _)| c.to_string()));
            out.write_record(&head).map_err(internal)?;
            for (key, name, values) in rows_of(t) {
                let mut rec = vec![cell(&key), cell(&name)];
                rec.extend(values.iter().map(|v| cell(v)));
                out.write_record(&rec).map_err(internal)?;
            }
            format!("kanda-{id}.csv")
        }
        None => {
            out.write_record(["table", "key", "label", "column", "value"])
                .map_err(internal)?;
            for t in &ind.tables {
                for (key, name, values) in rows_of(t) {
                    for ((col, _), v) in t.def.columns.iter().zip(values) {
                        out.write_record([t.def.id, &cell(&key), &cell(&name), col, &cell(&v)])
                            .map_err(internal)?;
                    }
                }
            }
            "kanda-indicators.csv".to_string()
        }
    };
    let body = out
        .into_inner()
        .map_err(|e| PageError::internal(w, e.error().to_string()))?;
    Ok(super::csv_download(&name, body))
}
