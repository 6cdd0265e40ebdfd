//! Indicators: whether a centre answers in time, and what a province or the
//! nation sees, without singling out any child.
//!
//! Each indicator is a table ([`TABLES`]: its id, the message ids of its
//! title and definition, its columns and which of its lines add up), built
//! here from the store's counts (`store/indicators.rs`), then suppressed
//! (`suppress.rs`) for anyone who is not staff of the centre counted. Pages,
//! CSV and JSON all show these same tables. The definitions, in words, are
//! the `web-ind-*-def` messages; what they count is written once, here and
//! in the store's queries they name.

pub mod suppress;

use std::collections::BTreeMap;

use chrono::NaiveDate;

use self::suppress::{Grid, Hidden};
use super::CaseWork;
use crate::{
    domain::{Actor, Area, Period, Scope, CLOSE_REASONS, REFERRAL_OUTCOMES, REFERRAL_SERVICES},
    store::{AreaRows, Counts, Span, StoreError},
};

/// A cell as shown: a count, a count hidden, a share or a duration.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Count(i64),
    /// A count from 1 to 9, hidden: `<10`.
    Under10,
    /// A count hidden so that a small one cannot be worked out: `*`.
    Hidden,
    /// A share in percent (one decimal).
    Percent(f64),
    /// A duration in hours (one decimal).
    Hours(f64),
    /// A ratio (one decimal).
    Ratio(f64),
    /// Nothing to show (no case to compute it over).
    Empty,
}

impl Value {
    /// As text: pages and CSV.
    pub fn text(&self) -> String {
        match self {
            Value::Count(n) => n.to_string(),
            Value::Under10 => "<10".into(),
            Value::Hidden => "*".into(),
            Value::Percent(p) => format!("{p:.1}"),
            Value::Hours(h) | Value::Ratio(h) => format!("{h:.1}"),
            Value::Empty => String::new(),
        }
    }

    /// As JSON: a number, the string `"<10"` or `"*"`, or `null`.
    pub fn json(&self) -> serde_json::Value {
        match self {
            Value::Count(n) => (*n).into(),
            Value::Under10 | Value::Hidden => self.text().into(),
            Value::Percent(v) | Value::Hours(v) | Value::Ratio(v) => {
                serde_json::Number::from_f64((v * 10.0).round() / 10.0)
                    .map_or(serde_json::Value::Null, serde_json::Value::Number)
            }
            Value::Empty => serde_json::Value::Null,
        }
    }

    /// The count, when one is shown.
    pub fn count(&self) -> Option<i64> {
        match self {
            Value::Count(n) => Some(*n),
            _ => None,
        }
    }

    pub fn is_hidden(&self) -> bool {
        matches!(self, Value::Under10 | Value::Hidden)
    }
}

/// What a column holds: counts are suppressed; the others are worked out
/// from the counts of their row and hidden with any of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Count,
    Derived,
}

/// An indicator's table, as defined once.
#[derive(Clone, Copy, Debug)]
pub struct Definition {
    pub id: &'static str,
    /// Its columns: (id, kind); labels are `web-ind-col-<id>`.
    pub columns: &'static [(&'static str, Kind)],
    /// Has a total row, the sum of its rows (column by column).
    pub total_row: bool,
    /// The column (by index) that is the sum of the row's other counts.
    pub total_column: Option<usize>,
    /// Drawn as a bar chart of its first column.
    pub chart: bool,
}

impl Definition {
    /// The message id of its title.
    pub fn title_id(&self) -> String {
        format!("web-ind-{}", self.id.replace('_', "-"))
    }

    /// The message id of its definition (numerator, denominator, which
    /// events count).
    pub fn definition_id(&self) -> String {
        format!("web-ind-{}-def", self.id.replace('_', "-"))
    }
}

const CASES: &[(&str, Kind)] = &[("cases", Kind::Count)];

/// Every indicator, in the order pages show them.
pub const TABLES: &[Definition] = &[
    Definition {
        id: "new_by_week",
        columns: CASES,
        total_row: true,
        total_column: None,
        chart: true,
    },
    Definition {
        id: "new_by_concern",
        columns: CASES,
        total_row: true,
        total_column: None,
        chart: true,
    },
    Definition {
        id: "new_by_district",
        columns: CASES,
        total_row: true,
        total_column: None,
        chart: true,
    },
    Definition {
        id: "new_by_channel",
        columns: CASES,
        total_row: true,
        total_column: None,
        chart: true,
    },
    Definition {
        id: "timeliness",
        columns: &[
            ("within", Kind::Count),
            ("late", Kind::Count),
            ("counted", Kind::Count),
            ("share", Kind::Derived),
        ],
        total_row: false,
        total_column: Some(2),
        chart: false,
    },
    Definition {
        id: "response_time",
        columns: &[
            ("answered", Kind::Count),
            ("median_hours", Kind::Derived),
            ("p90_hours", Kind::Derived),
        ],
        total_row: false,
        total_column: None,
        chart: false,
    },
    Definition {
        id: "review_overdue",
        columns: CASES,
        total_row: false,
        total_column: None,
        chart: false,
    },
    Definition {
        id: "escalated_by_level",
        columns: CASES,
        total_row: true,
        total_column: None,
        chart: true,
    },
    Definition {
        id: "visits",
        columns: &[
            ("visits", Kind::Count),
            ("volunteers", Kind::Count),
            ("per_volunteer", Kind::Derived),
        ],
        total_row: false,
        total_column: None,
        chart: false,
    },
    Definition {
        id: "closed_by_reason",
        columns: &[("closures", Kind::Count)],
        total_row: true,
        total_column: None,
        chart: true,
    },
    Definition {
        id: "reopened",
        columns: CASES,
        total_row: false,
        total_column: None,
        chart: false,
    },
    Definition {
        id: "referrals",
        columns: &[
            ("pending", Kind::Count),
            ("accepted", Kind::Count),
            ("declined", Kind::Count),
            ("completed", Kind::Count),
            ("no_response", Kind::Count),
            ("total", Kind::Count),
        ],
        total_row: true,
        total_column: Some(5),
        chart: false,
    },
    Definition {
        id: "sms_alerts",
        columns: &[
            ("queued", Kind::Count),
            ("sent", Kind::Count),
            ("delivered", Kind::Count),
            ("failed", Kind::Count),
            ("total", Kind::Count),
        ],
        total_row: false,
        total_column: Some(4),
        chart: false,
    },
];

/// A row's label: a message id (`web-ind-row-<key>`, or a stage,
/// concern, reason...), or a text of its own (a district's name, a date).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Label {
    /// `web-ind-row-<key>` for the key.
    Row,
    Concern,
    Reason,
    Service,
    /// A level of the escalation chain.
    Level,
    Text(String),
}

#[derive(Clone, Debug)]
pub struct Row {
    /// Stable across languages (CSV, JSON).
    pub key: String,
    pub label: Label,
    pub values: Vec<Value>,
}

#[derive(Clone, Debug)]
pub struct Table {
    pub def: &'static Definition,
    pub rows: Vec<Row>,
    pub total: Option<Row>,
}

/// The indicators of an area over a period, as one reader may see them.
#[derive(Clone, Debug)]
pub struct Indicators {
    pub area: Area,
    pub area_name: String,
    pub period: Period,
    /// Counts are exact (the reader is staff of the centre counted);
    /// otherwise small counts are suppressed.
    pub exact: bool,
    pub tables: Vec<Table>,
}

impl Indicators {
    pub fn table(&self, id: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.def.id == id)
    }
}

/// Raw counts, before shares and suppression: rows of count columns
/// (`None` for a derived column, filled in later).
struct Draft {
    def: &'static Definition,
    rows: Vec<(String, Label, Vec<i64>)>,
}

impl Draft {
    fn new(id: &str) -> Draft {
        let def = TABLES.iter().find(|d| d.id == id).expect("a defined table");
        Draft {
            def,
            rows: Vec::new(),
        }
    }

    fn row(mut self, key: impl Into<String>, label: Label, counts: Vec<i64>) -> Draft {
        self.rows.push((key.into(), label, counts));
        self
    }
}

fn share(part: i64, whole: i64) -> Value {
    if whole == 0 {
        Value::Empty
    } else {
        Value::Percent(part as f64 * 100.0 / whole as f64)
    }
}

/// Nearest-rank percentile's rank (from 1) among `n` values: ⌈p·n⌉.
fn rank(p: f64, n: i64) -> i64 {
    ((p * n as f64).ceil() as i64).clamp(1, n.max(1))
}

/// The nearest-rank `p` percentile of `values` (the value of rank ⌈p·n⌉,
/// smallest first); none of none. Reorders `values`.
fn percentile(values: &mut [i64], p: f64) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let at = rank(p, values.len() as i64) as usize - 1;
    Some(*values.select_nth_unstable(at).1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn percentiles_are_the_nearest_ranks_of_the_sorted_values() {
        assert_eq!(super::percentile(&mut [], 0.5), None);
        for n in 1..200i64 {
            // Values in a scrambled order, some repeated.
            let mut values: Vec<i64> = (0..n).map(|i| (i * 7919) % 101).collect();
            let mut sorted = values.clone();
            sorted.sort();
            let median = sorted[((n + 1) / 2 - 1) as usize];
            let p90 = sorted[((9 * n + 9) / 10 - 1) as usize];
            assert_eq!(super::percentile(&mut values, 0.5), Some(median), "n={n}");
            assert_eq!(super::percentile(&mut values, 0.9), Some(p90), "n={n}");
        }
    }
}

fn hours(ms: Option<i64>) -> Value {
    ms.map_or(Value::Empty, |ms| Value::Hours(ms as f64 / 3_600_000.0))
}

/// Builds every table from the counts (exact), in [`TABLES`]' order.
fn drafts(
    counts: &Counts,
    week_days: &[NaiveDate],
    concerns: &[String],
    districts: &[(String, String)],
) -> Vec<(Draft, Vec<Option<Value>>)> {
    let cohort = &counts.cohort;
    let sum = |f: &dyn Fn(&crate::store::CohortGroup) -> bool| -> i64 {
        cohort.iter().filter(|g| f(g)).map(|g| g.cases).sum()
    };
    let mut out: Vec<(Draft, Vec<Option<Value>>)> = Vec::new();

    // New cases by week, concern, district, channel.
    let mut d = Draft::new("new_by_week");
    for (i, day) in week_days.iter().enumerate() {
        d = d.row(
            day.to_string(),
            Label::Text(day.to_string()),
            vec![sum(&|g| g.week == i)],
        );
    }
    out.push((d, Vec::new()));

    let mut d = Draft::new("new_by_concern");
    let mut seen: Vec<String> = concerns.to_vec();
    for g in cohort {
        if !seen.contains(&g.concern) {
            seen.push(g.concern.clone());
        }
    }
    for c in &seen {
        d = d.row(c.clone(), Label::Concern, vec![sum(&|g| &g.concern == c)]);
    }
    out.push((d, Vec::new()));

    let mut d = Draft::new("new_by_district");
    for (code, name) in districts {
        d = d.row(
            code.clone(),
            Label::Text(name.clone()),
            vec![sum(&|g| g.district.as_deref() == Some(code))],
        );
    }
    let elsewhere = sum(&|g| {
        g.district
            .as_ref()
            .is_none_or(|c| !districts.iter().any(|(d, _)| d == c))
    });
    if elsewhere > 0 {
        d = d.row("other", Label::Row, vec![elsewhere]);
    }
    out.push((d, Vec::new()));

    let mut d = Draft::new("new_by_channel");
    for ch in ["ussd", "sms", "self_report"] {
        d = d.row(ch, Label::Row, vec![sum(&|g| g.channel == ch)]);
    }
    out.push((d, Vec::new()));

    // Timeliness: within, late, counted (within + late).
    let t = &counts.timeliness;
    let line = |within: i64, known: i64| vec![within, known - within, known];
    let d = Draft::new("timeliness")
        .row(
            "ack_1h_urgent",
            Label::Row,
            line(t.urgent_within_1h, t.urgent_known),
        )
        .row("ack_24h", Label::Row, line(t.within_24h, t.known_24h))
        .row("ack_48h", Label::Row, line(t.within_48h, t.known_48h))
        .row(
            "assessed_7d",
            Label::Row,
            line(t.assessed_within_7d, t.known_7d),
        )
        .row(
            "planned_14d",
            Label::Row,
            line(counts.plans_within_14d, counts.plans_known),
        );
    let shares = d
        .rows
        .iter()
        .map(|(_, _, c)| Some(share(c[0], c[2])))
        .collect();
    out.push((d, shares));

    // Time to first response.
    let answered = t.responded;
    let mut times = counts.response_times.clone();
    let (median, p90) = (
        hours(percentile(&mut times, 0.5)),
        hours(percentile(&mut times, 0.9)),
    );
    let d = Draft::new("response_time").row("answered", Label::Row, vec![answered]);
    out.push((d, vec![Some(median), Some(p90)]));

    out.push((
        Draft::new("review_overdue").row("review_overdue", Label::Row, vec![counts.review_overdue]),
        Vec::new(),
    ));

    let mut d = Draft::new("escalated_by_level");
    for (level, n) in &counts.escalated {
        d = d.row(level.to_string(), Label::Level, vec![*n]);
    }
    out.push((d, Vec::new()));

    let visits: i64 = counts
        .events
        .iter()
        .filter(|e| e.kind == "visit")
        .map(|e| e.events)
        .sum();
    let per = if counts.volunteers > 0 {
        Value::Ratio(visits as f64 / counts.volunteers as f64)
    } else {
        Value::Empty
    };
    out.push((
        Draft::new("visits").row("visits", Label::Row, vec![visits, counts.volunteers]),
        vec![Some(per)],
    ));

    let mut d = Draft::new("closed_by_reason");
    let closures = |reason: Option<&str>| -> i64 {
        counts
            .events
            .iter()
            .filter(|e| e.kind == "closed" && e.outcome.as_deref() == reason)
            .map(|e| e.events)
            .sum()
    };
    for reason in CLOSE_REASONS {
        d = d.row(reason, Label::Reason, vec![closures(Some(reason))]);
    }
    let unknown: i64 = counts
        .events
        .iter()
        .filter(|e| {
            e.kind == "closed"
                && !e
                    .outcome
                    .as_deref()
                    .is_some_and(|o| CLOSE_REASONS.contains(&o))
        })
        .map(|e| e.events)
        .sum();
    if unknown > 0 {
        d = d.row("unknown", Label::Row, vec![unknown]);
    }
    out.push((d, Vec::new()));

    let reopened: i64 = counts
        .events
        .iter()
        .filter(|e| e.kind == "reopened")
        .map(|e| e.events)
        .sum();
    out.push((
        Draft::new("reopened").row("reopened", Label::Row, vec![reopened]),
        Vec::new(),
    ));

    let mut d = Draft::new("referrals");
    let outcomes: Vec<&str> = std::iter::once("pending")
        .chain(REFERRAL_OUTCOMES)
        .collect();
    let mut services: Vec<String> = REFERRAL_SERVICES.iter().map(|s| s.to_string()).collect();
    for (s, _, _) in &counts.referrals {
        if !services.contains(s) {
            services.push(s.clone());
        }
    }
    for s in &services {
        let mut cells: Vec<i64> = outcomes
            .iter()
            .map(|o| {
                counts
                    .referrals
                    .iter()
                    .filter(|(rs, ro, _)| rs == s && ro == o)
                    .map(|r| r.2)
                    .sum()
            })
            .collect();
        // An outcome Kanda does not know still counts in the total.
        let all: i64 = counts
            .referrals
            .iter()
            .filter(|(rs, _, _)| rs == s)
            .map(|r| r.2)
            .sum();
        cells.push(all);
        d = d.row(s.clone(), Label::Service, cells);
    }
    out.push((d, Vec::new()));

    let status = |names: &[&str]| -> i64 {
        counts
            .alerts
            .iter()
            .filter(|(s, _)| names.contains(&s.as_str()))
            .map(|(_, n)| n)
            .sum()
    };
    let all: i64 = counts.alerts.iter().map(|(_, n)| n).sum();
    let d = Draft::new("sms_alerts").row(
        "sms_alerts",
        Label::Row,
        vec![
            status(&["queued", "sending"]),
            status(&["sent"]),
            status(&["delivered"]),
            status(&["failed", "undelivered"]),
            all,
        ],
    );
    out.push((d, Vec::new()));
    out
}

/// Turns a draft into a table: totals added, small counts suppressed
/// unless `exact`, derived columns hidden with any count of their row.
fn finish(draft: Draft, derived: Vec<Option<Value>>, exact: bool) -> Table {
    let def = draft.def;
    let count_cols: Vec<usize> = def
        .columns
        .iter()
        .enumerate()
        .filter(|(_, (_, k))| *k == Kind::Count)
        .map(|(i, _)| i)
        .collect();
    let mut cells: Vec<Vec<i64>> = draft.rows.iter().map(|(_, _, c)| c.clone()).collect();
    if def.total_row {
        let width = count_cols.len();
        let total: Vec<i64> = (0..width)
            .map(|j| cells.iter().map(|r| r[j]).sum())
            .collect();
        cells.push(total);
    }
    let rows_n = cells.len();
    let width = count_cols.len();
    let mut lines: Vec<Vec<(usize, usize)>> = Vec::new();
    if def.total_row {
        for j in 0..width {
            lines.push((0..rows_n).map(|r| (r, j)).collect());
        }
    }
    if def.total_column.is_some() {
        for r in 0..rows_n {
            lines.push((0..width).map(|j| (r, j)).collect());
        }
    }
    let hidden = if exact {
        vec![vec![None; width]; rows_n]
    } else {
        Grid {
            cells: cells.clone(),
            lines,
        }
        .suppress()
    };
    let mut out_rows: Vec<Row> = Vec::new();
    for (r, counts) in cells.iter().enumerate() {
        let mut values: Vec<Value> = Vec::new();
        let mut next_count = 0;
        let mut next_derived = 0;
        let row_hidden = hidden[r].iter().any(Option::is_some);
        for (_, kind) in def.columns {
            match kind {
                Kind::Count => {
                    let j = next_count;
                    next_count += 1;
                    values.push(match hidden[r][j] {
                        Some(Hidden::Small) => Value::Under10,
                        Some(Hidden::Complementary) => Value::Hidden,
                        None => Value::Count(counts[j]),
                    });
                }
                Kind::Derived => {
                    let k = next_derived;
                    next_derived += 1;
                    let v = if r < draft.rows.len() {
                        derived.get(r * derived_per_row(def) + k).cloned().flatten()
                    } else {
                        None
                    };
                    values.push(match v {
                        Some(Value::Empty) | None => Value::Empty,
                        Some(_) if row_hidden => Value::Hidden,
                        Some(v) => v,
                    });
                }
            }
        }
        out_rows.push(Row {
            key: draft
                .rows
                .get(r)
                .map_or("total".to_string(), |(k, _, _)| k.clone()),
            label: draft.rows.get(r).map_or(Label::Row, |(_, l, _)| l.clone()),
            values,
        });
    }
    let total = if def.total_row { out_rows.pop() } else { None };
    Table {
        def,
        rows: out_rows,
        total,
    }
}

fn derived_per_row(def: &Definition) -> usize {
    def.columns
        .iter()
        .filter(|(_, k)| *k == Kind::Derived)
        .count()
}

/// What went wrong reading indicators.
#[derive(Debug, thiserror::Error)]
pub enum IndicatorError {
    /// No centre or province has the code.
    #[error("no such {0}")]
    NoArea(Area),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CaseWork {
    /// The indicators of `area` over `period` as `actor` may see them
    /// (exact for staff of the centre counted, suppressed for everyone
    /// else), the read in the audit log (`via`: `web` or `api`).
    pub async fn indicators(
        &self,
        actor: &Actor,
        area: &Area,
        period: &Period,
        via: &str,
        address: Option<String>,
    ) -> Result<Indicators, IndicatorError> {
        let rows = self
            .store
            .find_area(area)
            .await?
            .ok_or_else(|| IndicatorError::NoArea(area.clone()))?;
        let tz = self.settings.timezone;
        let (from, to) = period.range_ms(&tz);
        let weeks = period.weeks(&tz);
        let span = Span {
            from,
            to,
            weeks: weeks.iter().map(|w| (w.1, w.2)).collect(),
            now: self.store.clock().now_ms(),
        };
        let started = std::time::Instant::now();
        let counts = self.store.indicator_counts(&rows, &span).await?;
        let counted = started.elapsed();
        let districts = self.store.area_districts(&rows).await?;
        let concerns: Vec<String> = self.words.concern_labels.keys().cloned().collect();
        let week_days: Vec<NaiveDate> = weeks.iter().map(|w| w.0).collect();
        let exact = exact_for(actor, &rows);
        let tables = drafts(&counts, &week_days, &concerns, &districts)
            .into_iter()
            .map(|(d, derived)| finish(d, derived, exact))
            .collect();
        self.audit(
            &actor.label,
            "indicators_read",
            None,
            address,
            Some(format!("{via} {area} {}..{}", period.from, period.to)),
        )
        .await?;
        tracing::debug!(
            %area,
            counts_ms = counted.as_millis() as u64,
            total_ms = started.elapsed().as_millis() as u64,
            "indicators read"
        );
        let area_name = match &rows {
            AreaRows::Centre { name, .. } | AreaRows::Province { name, .. } => name.clone(),
            AreaRows::National => String::new(),
        };
        Ok(Indicators {
            area: area.clone(),
            area_name,
            period: *period,
            exact,
            tables,
        })
    }

    /// The areas a reader may pick: every centre and province, and the
    /// nation: (scope, name).
    pub async fn indicator_areas(&self) -> Result<Vec<(Area, String)>, StoreError> {
        let mut out = vec![(Area::National, String::new())];
        for (_, code, name) in self.store.centres().await? {
            out.push((Area::Centre(code), name));
        }
        for (code, name) in self.store.provinces().await? {
            out.push((Area::Province(code), name));
        }
        Ok(out)
    }
}

/// Exact counts only for staff of the centre counted (a centre's roles,
/// reading their own centre).
pub fn exact_for(actor: &Actor, rows: &AreaRows) -> bool {
    matches!((actor.scope, rows.centre_id()), (Scope::Centre(own), Some(id)) if own == id)
        && !actor.role.is_national()
}

/// The default area of a reader: their centre, or the nation.
pub async fn default_area(work: &CaseWork, actor: &Actor) -> Result<Area, StoreError> {
    if let Scope::Centre(id) = actor.scope {
        if let Some((_, code, _)) = work
            .store
            .centres()
            .await?
            .into_iter()
            .find(|(i, _, _)| *i == id)
        {
            return Ok(Area::Centre(code));
        }
    }
    Ok(Area::National)
}

/// The tables' rows by key, for tests and callers that look one up.
pub fn by_key(table: &Table) -> BTreeMap<String, Vec<Value>> {
    table
        .rows
        .iter()
        .chain(table.total.iter())
        .map(|r| (r.key.clone(), r.values.clone()))
        .collect()
}
