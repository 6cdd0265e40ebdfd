//! `GET /api/v1/indicators?scope=centre:CODE|province:CODE|national&from=&to=`:
//! the indicators pages show, as JSON, with the same suppression: a count
//! from 1 to 9 is the string `"<10"` (not the number) for any token that is
//! not of the centre counted, and `"*"` a count hidden so that a `"<10"`
//! cannot be worked out from the totals.

use axum::{extract::State, Json};
use utoipa::{IntoParams, ToSchema};

use super::{ApiQuery, Client};
use crate::{
    casework::indicators::{IndicatorError, Table},
    domain::{Area, Locale},
    web::{
        error::ApiError,
        pages::indicators::{area_title, column, label, today, IndicatorQuery},
        words::Words,
        Web,
    },
};

#[derive(Debug, serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndicatorsQuery {
    /// `centre:CODE`, `province:CODE` or `national`; the token's own
    /// centre (the nation, for a national token) when not given.
    pub scope: Option<String>,
    /// The first day (`YYYY-MM-DD`, local), included; 30 days before `to`
    /// when not given.
    pub from: Option<String>,
    /// The last day, included; today when not given.
    pub to: Option<String>,
}

/// A row of an indicator's table.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct IndicatorRow {
    /// Stable: a week's first day, a concern, a district's code, a reason...
    pub key: String,
    /// In English.
    pub label: String,
    /// One per column: a number, `"<10"` (a count from 1 to 9, suppressed),
    /// `"*"` (a count hidden so a suppressed one cannot be worked out) or
    /// null (nothing to compute it over).
    pub values: Vec<serde_json::Value>,
}

/// One indicator's table.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct IndicatorTable {
    pub id: String,
    pub title: String,
    /// What is counted: numerator, denominator, which events.
    pub definition: String,
    /// Column ids, in the order of each row's values.
    pub columns: Vec<String>,
    /// Column labels, in English.
    pub column_labels: Vec<String>,
    pub rows: Vec<IndicatorRow>,
    /// The sum of the rows, for tables that add up.
    pub total: Option<IndicatorRow>,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct IndicatorsOut {
    pub scope: String,
    pub name: String,
    /// The first and last day counted (local), both included.
    pub from: String,
    pub to: String,
    /// Exact counts (a token of the centre counted) or suppressed ones.
    pub exact: bool,
    pub indicators: Vec<IndicatorTable>,
}

fn table_out(w: &Words, t: &Table) -> IndicatorTable {
    let row = |r: &crate::casework::indicators::Row, label: String| IndicatorRow {
        key: r.key.clone(),
        label,
        values: r.values.iter().map(|v| v.json()).collect(),
    };
    IndicatorTable {
        id: t.def.id.to_string(),
        title: w.t(&t.def.title_id()),
        definition: w.t(&t.def.definition_id()),
        columns: t.def.columns.iter().map(|(c, _)| c.to_string()).collect(),
        column_labels: t.def.columns.iter().map(|(c, _)| column(w, c)).collect(),
        rows: t.rows.iter().map(|r| row(r, label(w, r))).collect(),
        total: t.total.as_ref().map(|r| row(r, w.t("web-ind-total"))),
    }
}

/// The indicators of an area over a period.
#[utoipa::path(
    get,
    path = "/api/v1/indicators",
    operation_id = "get_indicators",
    params(IndicatorsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The indicators, suppressed unless the token is of the centre counted", body = IndicatorsOut),
        (status = 401, description = "No valid token", body = ApiError),
        (status = 404, description = "No centre or province has the code", body = ApiError),
        (status = 422, description = "The scope or a day is malformed, or the period runs backwards or over two years", body = ApiError),
    )
)]
pub async fn get(
    State(web): State<Web>,
    client: Client,
    ApiQuery(q): ApiQuery<IndicatorsQuery>,
) -> Result<Json<IndicatorsOut>, ApiError> {
    let query = IndicatorQuery {
        scope: q.scope,
        period: None,
        from: q.from.clone(),
        to: q.to,
        format: None,
        table: None,
    };
    let area = query
        .area(&web, &client.actor)
        .await?
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    // Without `from`, the 30 days that end on `to`.
    let (_, period) = query
        .period(today(&web))
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    let ind = web
        .work
        .indicators(&client.actor, &area, &period, "api", client.address)
        .await
        .map_err(|e| match e {
            IndicatorError::NoArea(a) => ApiError::not_found(area_kind(&a)),
            IndicatorError::Store(e) => ApiError::from(e),
        })?;
    let english: Locale = web.work.words.texts.reference().clone();
    let w = Words::new(&web.work, english, web.settings.timezone);
    Ok(Json(IndicatorsOut {
        scope: ind.area.to_string(),
        name: area_title(&w, &ind.area, &ind.area_name),
        from: ind.period.from.to_string(),
        to: ind.period.to.to_string(),
        exact: ind.exact,
        indicators: ind.tables.iter().map(|t| table_out(&w, t)).collect(),
    }))
}

fn area_kind(a: &Area) -> String {
    match a {
        Area::Centre(c) => format!("centre {c}"),
        Area::Province(p) => format!("province {p}"),
        Area::National => "area".into(),
    }
}
