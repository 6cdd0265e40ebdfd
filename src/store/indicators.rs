//! The counts indicators are made of, for an area and a period: set-based
//! reads, each one statement over the cases (and their events, referrals
//! and alert messages) of the area, written once for both databases. What
//! the counts mean (definitions, shares, suppression) is the case work's
//! (`casework/indicators/`); the store only counts.
//!
//! Reads that would otherwise walk every case's timeline use the steps the
//! database keeps on each case (`responded_at`, `assessed_at`,
//! `planned_at`: migration 0009's trigger, in the same transaction as the
//! event). A centre's events, referrals and alert messages are found by the
//! centre each row keeps of its case (migration 0011's triggers, rewritten
//! when a transfer moves the case), one range of a centre-first index.

use sqlx::{any::AnyRow, Row as _};

use super::{case_timers::STEP_UNDONE, conditions::Conditions, Dialect, Result, Store};
use crate::domain::Area;

/// An area found: what its cases' `WHERE` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AreaRows {
    /// The cases a centre holds.
    Centre {
        id: i64,
        name: String,
    },
    /// The cases of children in a province (by location).
    Province {
        id: i64,
        name: String,
    },
    National,
}

impl AreaRows {
    /// The area's cases: `c` is the case, `l` its location.
    fn cases(&self, c: &mut Conditions) {
        match self {
            AreaRows::Centre { id, .. } => c.with(*id, |p| format!("c.centre_id = {p}")),
            AreaRows::Province { id, .. } => c.with(*id, |p| format!("l.province_id = {p}")),
            AreaRows::National => {}
        }
    }

    /// The area's volunteers by their village `l`: a centre's are those of
    /// its province.
    fn volunteers(&self, c: &mut Conditions) {
        match self {
            AreaRows::Centre { id, .. } => c.with(*id, |p| {
                format!("l.province_id = (SELECT province_id FROM centres WHERE id = {p})")
            }),
            AreaRows::Province { id, .. } => c.with(*id, |p| format!("l.province_id = {p}")),
            AreaRows::National => {}
        }
    }

    /// The area's rows of a case (events, referrals, alert messages) as
    /// `row`: a centre's by the centre each row keeps of its case
    /// (migration 0011), a province's by their case's place (see
    /// [`AreaRows::joins`]).
    fn rows(&self, c: &mut Conditions, row: &str) {
        match self {
            AreaRows::Centre { id, .. } => c.with(*id, |p| format!("{row}.centre_id = {p}")),
            AreaRows::Province { id, .. } => c.with(*id, |p| format!("l.province_id = {p}")),
            AreaRows::National => {}
        }
    }

    /// The joins that find a province's rows' cases (`c`) and their places
    /// (`l`) from rows whose case is `case_id`; none for a centre or the
    /// nation.
    fn joins(&self, case_id: &str) -> String {
        match self {
            AreaRows::Province { .. } => format!(
                " JOIN cases c ON c.id = {case_id} JOIN locations l ON l.id = c.location_id"
            ),
            _ => String::new(),
        }
    }

    /// `FROM` the area's cases (with their places, for a province).
    fn cases_from(&self) -> &'static str {
        match self {
            AreaRows::Province { .. } => "FROM cases c JOIN locations l ON l.id = c.location_id",
            _ => "FROM cases c",
        }
    }

    /// `FROM` the area's cases registered in a period (with their places
    /// `l` when `places`), read through the index that covers what the
    /// period's counts read: the centre's own, else the nation's.
    fn cases_registered(&self, dialect: Dialect, places: bool) -> String {
        let index = match self {
            AreaRows::Centre { .. } => "cases_centre_cohort",
            _ => "cases_cohort",
        };
        let places = if places || matches!(self, AreaRows::Province { .. }) {
            " JOIN locations l ON l.id = c.location_id"
        } else {
            ""
        };
        format!("FROM cases c{}{places}", dialect.indexed_by(index))
    }

    /// The row id of the centre, for a centre.
    pub fn centre_id(&self) -> Option<i64> {
        match self {
            AreaRows::Centre { id, .. } => Some(*id),
            _ => None,
        }
    }
}

/// A period as the counts take it: its bounds and its weeks, in ms.
#[derive(Clone, Debug)]
pub struct Span {
    pub from: i64,
    pub to: i64,
    /// Each week's (start, end), in order, covering `from..to`.
    pub weeks: Vec<(i64, i64)>,
    /// Now: a step not yet done counts as late only once its time is over.
    pub now: i64,
}

impl Span {
    /// `column` (ms) falls in the period: from included, to excluded.
    fn bound(&self, c: &mut Conditions, column: &str) {
        c.with(self.from, |p| format!("{column} >= {p}"));
        c.with(self.to, |p| format!("{column} < {p}"));
    }
}

/// The windows the timeliness counts use, in ms.
pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 86_400_000;

/// Cases registered in the period, in one group: the week they were
/// registered in, their concern, district and channel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CohortGroup {
    /// Index into [`Span::weeks`].
    pub week: usize,
    pub concern: String,
    /// The district's location code (`None`: a place outside any district).
    pub district: Option<String>,
    /// `ussd`, `sms` or `self_report`.
    pub channel: String,
    pub cases: i64,
}

/// How soon each step was done for the cases registered in the period.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeliness {
    /// Urgent cases whose first hour is over or that were answered.
    pub urgent_known: i64,
    pub urgent_within_1h: i64,
    pub known_24h: i64,
    pub within_24h: i64,
    pub known_48h: i64,
    pub within_48h: i64,
    pub known_7d: i64,
    pub assessed_within_7d: i64,
    /// Cases with a first response.
    pub responded: i64,
}

/// Counts of events in the period, by kind and outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventCount {
    pub kind: String,
    pub outcome: Option<String>,
    pub events: i64,
}

/// Everything counted for one area and period.
#[derive(Clone, Debug, Default)]
pub struct Counts {
    pub cohort: Vec<CohortGroup>,
    pub timeliness: Timeliness,
    /// The times to first response (ms) of the period's answered cases,
    /// in no order.
    pub response_times: Vec<i64>,
    /// Cases assessed in the period whose plan's fortnight is over or that
    /// have a plan; of those, planned within 14 days of the assessment.
    pub plans_known: i64,
    pub plans_within_14d: i64,
    /// Closures, reopenings and visits in the period.
    pub events: Vec<EventCount>,
    /// Cases escalated in the period, by the highest level reached.
    pub escalated: Vec<(i64, i64)>,
    /// Active volunteers living in the area.
    pub volunteers: i64,
    /// Referrals made in the period: (service, outcome or `pending`, count).
    pub referrals: Vec<(String, String, i64)>,
    /// Alert messages to staff queued in the period, by status.
    pub alerts: Vec<(String, i64)>,
    /// Open cases whose review is overdue, now.
    pub review_overdue: i64,
}

fn int(r: &AnyRow, column: &str) -> Result<i64> {
    Ok(r.try_get::<Option<i64>, _>(column)?.unwrap_or(0))
}

impl Store {
    /// The area a scope names; `None` when no centre or province has the
    /// code.
    pub async fn find_area(&self, area: &Area) -> Result<Option<AreaRows>> {
        let row = |sql: &'static str, code: String| async move {
            sqlx::query(sql).bind(code).fetch_optional(&self.pool).await
        };
        Ok(match area {
            Area::National => Some(AreaRows::National),
            Area::Centre(code) => row("SELECT id, name FROM centres WHERE code = $1", code.clone())
                .await?
                .map(|r| -> Result<_> {
                    Ok(AreaRows::Centre {
                        id: r.try_get("id")?,
                        name: r.try_get("name")?,
                    })
                })
                .transpose()?,
            Area::Province(code) => row(
                "SELECT id, name FROM locations WHERE code = $1 AND level = 1",
                code.clone(),
            )
            .await?
            .map(|r| -> Result<_> {
                Ok(AreaRows::Province {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                })
            })
            .transpose()?,
        })
    }

    /// Every province: (code, name), by name.
    pub async fn provinces(&self) -> Result<Vec<(String, String)>> {
        let rows =
            sqlx::query("SELECT code, name FROM locations WHERE level = 1 ORDER BY name, code")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("code")?, r.try_get("name")?)))
            .collect()
    }

    /// The districts of an area: (code, name), by name.
    pub async fn area_districts(&self, area: &AreaRows) -> Result<Vec<(String, String)>> {
        let mut c = Conditions::default();
        c.plain("l.level = 2");
        area.volunteers(&mut c);
        let sql = format!(
            "SELECT l.code, l.name FROM locations l{} ORDER BY l.name, l.code",
            c.clause()
        );
        let rows = c.bind(&sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("code")?, r.try_get("name")?)))
            .collect()
    }

    /// Every count of the indicators for `area` over `span`.
    pub async fn indicator_counts(&self, area: &AreaRows, span: &Span) -> Result<Counts> {
        // Independent reads, each on a connection of its own, at once.
        let (
            cohort,
            timeliness,
            response_times,
            (plans_known, plans_within_14d),
            events,
            escalated,
            volunteers,
            referrals,
            alerts,
            review_overdue,
        ) = tokio::try_join!(
            self.cohort(area, span),
            self.timeliness(area, span),
            self.response_times(area, span),
            self.plans(area, span),
            self.period_events(area, span),
            self.escalated(area, span),
            self.active_volunteers(area),
            self.referrals_made(area, span),
            self.alert_messages(area, span),
            self.review_overdue(area, span.now),
        )?;
        Ok(Counts {
            cohort,
            timeliness,
            response_times,
            plans_known,
            plans_within_14d,
            events,
            escalated,
            volunteers,
            referrals,
            alerts,
            review_overdue,
        })
    }

    /// The cases registered in the period, counted by week, concern,
    /// district and channel (grouped by the district's id, named after).
    async fn cohort(&self, area: &AreaRows, span: &Span) -> Result<Vec<CohortGroup>> {
        if span.weeks.is_empty() {
            return Ok(Vec::new());
        }
        // The week a case falls in, by comparisons in order (the period
        // bounds every case): cheaper than a join to a list of weeks.
        let mut c = Conditions::default();
        let last = span.weeks.len() - 1;
        let week_of = if last == 0 {
            "0".to_string()
        } else {
            let mut w = String::from("(CASE");
            for (i, (_, end)) in span.weeks[..last].iter().enumerate() {
                let end = c.arg(*end);
                w.push_str(&format!(" WHEN c.created_at < {end} THEN {i}"));
            }
            w + &format!(" ELSE {last} END)")
        };
        area.cases(&mut c);
        span.bound(&mut c, "c.created_at");
        let sql = format!(
            "SELECT g.week, g.concern, d.code AS district, g.chan, g.cases FROM (
               SELECT {week_of} AS week, c.concern, l.district_id AS did,
                      (CASE WHEN c.self_report = 1 THEN 'self_report' ELSE c.channel END) AS chan,
                      COUNT(*) AS cases
               {cases}{clause}
               GROUP BY 1, 2, 3, 4) g
             LEFT JOIN locations d ON d.id = g.did",
            cases = area.cases_registered(self.dialect, true),
            clause = c.clause(),
        );
        let rows = c.bind(&sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(CohortGroup {
                    week: int(r, "week")? as usize,
                    concern: r.try_get("concern")?,
                    district: r.try_get("district")?,
                    channel: r.try_get("chan")?,
                    cases: int(r, "cases")?,
                })
            })
            .collect()
    }

    /// How soon the period's cases were answered and assessed, in one pass
    /// beside the counts (a step not yet done counts as late only once its
    /// time is over).
    async fn timeliness(&self, area: &AreaRows, span: &Span) -> Result<Timeliness> {
        let mut c = Conditions::default();
        let now = c.arg(span.now);
        area.cases(&mut c);
        span.bound(&mut c, "c.created_at");
        let late = |window: i64| {
            format!("(c.responded_at IS NOT NULL OR c.created_at <= {now} - {window})")
        };
        let within = |window: i64| format!("c.responded_at - c.created_at <= {window}");
        let sql = format!(
            "SELECT SUM(CASE WHEN c.urgent = 1 AND {urgent_known} THEN 1 ELSE 0 END) AS urgent_known,
                    SUM(CASE WHEN c.urgent = 1 AND {within_1h} THEN 1 ELSE 0 END) AS urgent_within_1h,
                    SUM(CASE WHEN {known_24h} THEN 1 ELSE 0 END) AS known_24h,
                    SUM(CASE WHEN {within_24h} THEN 1 ELSE 0 END) AS within_24h,
                    SUM(CASE WHEN {known_48h} THEN 1 ELSE 0 END) AS known_48h,
                    SUM(CASE WHEN {within_48h} THEN 1 ELSE 0 END) AS within_48h,
                    SUM(CASE WHEN c.assessed_at IS NOT NULL OR c.created_at <= {now} - {week} THEN 1 ELSE 0 END) AS known_7d,
                    SUM(CASE WHEN c.assessed_at - c.created_at <= {week} THEN 1 ELSE 0 END) AS assessed_within_7d,
                    SUM(CASE WHEN c.responded_at IS NOT NULL THEN 1 ELSE 0 END) AS responded
             {cases}{clause}",
            urgent_known = late(HOUR_MS),
            within_1h = within(HOUR_MS),
            known_24h = late(DAY_MS),
            within_24h = within(DAY_MS),
            known_48h = late(2 * DAY_MS),
            within_48h = within(2 * DAY_MS),
            week = 7 * DAY_MS,
            cases = area.cases_registered(self.dialect, false),
            clause = c.clause(),
        );
        let r = c.bind(&sql).fetch_one(&self.pool).await?;
        Ok(Timeliness {
            urgent_known: int(&r, "urgent_known")?,
            urgent_within_1h: int(&r, "urgent_within_1h")?,
            known_24h: int(&r, "known_24h")?,
            within_24h: int(&r, "within_24h")?,
            known_48h: int(&r, "known_48h")?,
            within_48h: int(&r, "within_48h")?,
            known_7d: int(&r, "known_7d")?,
            assessed_within_7d: int(&r, "assessed_within_7d")?,
            responded: int(&r, "responded")?,
        })
    }

    /// The times to first response (ms) of the period's answered cases, in
    /// no order (the case work takes its percentiles). Read as one list in
    /// one text value: a pass over the rows with no sort, and one row to
    /// carry instead of one per case (two sorts stopped at the median's and
    /// the 90th percentile's ranks cost SQLite 25 ms for a centre's month).
    async fn response_times(&self, area: &AreaRows, span: &Span) -> Result<Vec<i64>> {
        let mut c = Conditions::default();
        area.cases(&mut c);
        span.bound(&mut c, "c.created_at");
        c.plain("c.responded_at IS NOT NULL");
        let sql = format!(
            "SELECT string_agg(CAST(c.responded_at - c.created_at AS TEXT), ',') AS d {}{}",
            area.cases_registered(self.dialect, false),
            c.clause(),
        );
        let r = c.bind(&sql).fetch_one(&self.pool).await?;
        let list: Option<String> = r.try_get("d")?;
        list.as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|d| !d.is_empty())
            .map(|d| {
                d.parse::<i64>().map_err(|e| {
                    sqlx::Error::Decode(format!("a time to first response {d:?}: {e}").into())
                        .into()
                })
            })
            .collect()
    }

    /// Cases assessed in the period: how many have a known plan outcome
    /// (a plan, or their fortnight over), and how many were planned within
    /// 14 days of the assessment.
    async fn plans(&self, area: &AreaRows, span: &Span) -> Result<(i64, i64)> {
        let mut c = Conditions::default();
        let now = c.arg(span.now);
        area.cases(&mut c);
        span.bound(&mut c, "c.assessed_at");
        let fortnight = 14 * DAY_MS;
        let sql = format!(
            "SELECT SUM(CASE WHEN c.planned_at IS NOT NULL OR c.assessed_at <= {now} - {fortnight} THEN 1 ELSE 0 END) AS known,
                    SUM(CASE WHEN c.planned_at - c.assessed_at <= {fortnight} THEN 1 ELSE 0 END) AS within
             {}{}",
            area.cases_from(),
            c.clause()
        );
        let r = c.bind(&sql).fetch_one(&self.pool).await?;
        Ok((int(&r, "known")?, int(&r, "within")?))
    }

    /// Closures (by reason), reopenings and visits recorded in the period,
    /// on the area's cases: one read per kind, so visits and reopenings
    /// are counted off their index range with no grouping and only the
    /// closures are grouped (grouping every kind's rows at once cost
    /// SQLite a sort of a centre's 56,000 events of a month, 20 ms).
    async fn period_events(&self, area: &AreaRows, span: &Span) -> Result<Vec<EventCount>> {
        let mut c = Conditions::default();
        span.bound(&mut c, "e.at");
        area.rows(&mut c, "e");
        let from = format!("FROM case_events e{}", area.joins("e.case_id"));
        let and = c.and();
        let sql = format!(
            "SELECT 'visit' AS kind, NULL AS outcome, COUNT(*) AS n
             {from} WHERE e.kind = 'visit'{and}
             UNION ALL
             SELECT 'reopened' AS kind, NULL AS outcome, COUNT(*) AS n
             {from} WHERE e.kind = 'reopened'{and}
             UNION ALL
             SELECT 'closed' AS kind, e.outcome, COUNT(*) AS n
             {from} WHERE e.kind = 'closed'{and}
             GROUP BY e.outcome"
        );
        let rows = c.bind(&sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(EventCount {
                    kind: r.try_get("kind")?,
                    outcome: r.try_get("outcome")?,
                    events: int(r, "n")?,
                })
            })
            .collect()
    }

    /// Cases escalated in the period, by the highest level they reached
    /// in it (an escalation event's outcome is `level N`).
    async fn escalated(&self, area: &AreaRows, span: &Span) -> Result<Vec<(i64, i64)>> {
        let mut c = Conditions::default();
        c.plain("e.kind = 'escalated'");
        span.bound(&mut c, "e.at");
        area.rows(&mut c, "e");
        let sql = format!(
            "SELECT x.lvl, COUNT(*) AS n FROM (
               SELECT e.case_id, MAX(CAST(SUBSTR(e.outcome, 7) AS BIGINT)) AS lvl
               FROM case_events e{}
               {}
               GROUP BY e.case_id) x
             GROUP BY x.lvl ORDER BY x.lvl",
            area.joins("e.case_id"),
            c.clause()
        );
        let rows = c.bind(&sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((int(r, "lvl")?, int(r, "n")?)))
            .collect()
    }

    /// Volunteers not deactivated whose village is in the area.
    async fn active_volunteers(&self, area: &AreaRows) -> Result<i64> {
        let mut c = Conditions::default();
        c.plain("v.active = 1");
        area.volunteers(&mut c);
        let sql = format!(
            "SELECT COUNT(*) AS n FROM volunteers v LEFT JOIN locations l ON l.id = v.village_id{}",
            c.clause()
        );
        let r = c.bind(&sql).fetch_one(&self.pool).await?;
        int(&r, "n")
    }

    /// Referrals made in the period, by service and outcome so far.
    async fn referrals_made(
        &self,
        area: &AreaRows,
        span: &Span,
    ) -> Result<Vec<(String, String, i64)>> {
        let mut c = Conditions::default();
        span.bound(&mut c, "r.referred_at");
        area.rows(&mut c, "r");
        let sql = format!(
            "SELECT r.service, COALESCE(r.outcome, 'pending') AS outcome, COUNT(*) AS n
             FROM referrals r{}
             {}
             GROUP BY r.service, COALESCE(r.outcome, 'pending')",
            area.joins("r.case_id"),
            c.clause()
        );
        let rows = c.bind(&sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("service")?, r.try_get("outcome")?, int(r, "n")?)))
            .collect()
    }

    /// SMS about the area's cases to staff (alerts, escalations,
    /// reminders) queued in the period, by their status now.
    async fn alert_messages(&self, area: &AreaRows, span: &Span) -> Result<Vec<(String, i64)>> {
        let mut c = Conditions::default();
        c.plain("o.case_id IS NOT NULL");
        span.bound(&mut c, "o.created_at");
        area.rows(&mut c, "o");
        let sql = format!(
            "SELECT o.status, COUNT(*) AS n
             FROM outbox o{}
             {}
             GROUP BY o.status",
            area.joins("o.case_id"),
            c.clause()
        );
        let rows = c.bind(&sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("status")?, int(r, "n")?)))
            .collect()
    }

    /// Open cases of the area with a plan whose review is overdue now: a
    /// review deadline missed (or past due) and no review since. Read
    /// through the `overdue` flag the case work keeps (an index of the
    /// few overdue cases), then each one's timers.
    async fn review_overdue(&self, area: &AreaRows, now: i64) -> Result<i64> {
        let mut c = Conditions::default();
        let now = c.arg(now);
        c.plain("c.overdue = 1");
        c.plain("c.stage = 'planned'");
        area.cases(&mut c);
        c.plain(format!(
            "EXISTS (SELECT 1 FROM timers t WHERE t.case_id = c.id AND t.kind = 'review'
               AND (t.state = 'fired' OR (t.state = 'pending' AND t.due_at <= {now})) AND {STEP_UNDONE})"
        ));
        let sql = format!("SELECT COUNT(*) AS n {}{}", area.cases_from(), c.clause());
        let r = c.bind(&sql).fetch_one(&self.pool).await?;
        int(&r, "n")
    }
}
