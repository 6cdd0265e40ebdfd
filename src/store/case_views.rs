//! Cases as staff read them on the web and over the API: a filtered,
//! sorted, paged list, and one case in full. Every read takes the reader's
//! [`Scope`] and puts it in its `WHERE`: a case outside it is never read.
//! The same SQL on both databases.

use sqlx::{any::AnyRow, Row as _};

use super::{conditions::Conditions, primero::PrimeroState, sealed, Result, Store, StoreError};
use crate::domain::{from_ms, CaseRef, Phone, Scope};

/// Who reported a case, as the list filters it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReporterKind {
    Volunteer,
    /// A member of the public who gave their number.
    SelfReport,
    Anonymous,
}

impl ReporterKind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "volunteer" => ReporterKind::Volunteer,
            "self" => ReporterKind::SelfReport,
            "anonymous" => ReporterKind::Anonymous,
            _ => return None,
        })
    }
}

/// The list's filters; every one optional.
#[derive(Clone, Debug, Default)]
pub struct CaseFilter {
    pub stage: Option<String>,
    pub urgent: Option<bool>,
    pub overdue: Option<bool>,
    /// A centre's code (national readers; a centre's reader sees its own only).
    pub centre: Option<String>,
    /// A district's location code.
    pub district: Option<String>,
    pub channel: Option<String>,
    pub reporter: Option<ReporterKind>,
}

/// A case in a list.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CaseItem {
    pub reference: String,
    pub stage: String,
    pub centre: String,
    pub urgent: bool,
    pub overdue: bool,
    pub concern: String,
    pub channel: String,
    pub district: Option<String>,
    pub created_at: String,
}

/// One page of a list.
#[derive(Clone, Debug)]
pub struct CasePage {
    pub items: Vec<CaseItem>,
    /// Another page follows.
    pub more: bool,
}

/// A case in full, as its page shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CaseDetail {
    #[serde(skip)]
    pub id: i64,
    pub reference: String,
    pub stage: String,
    pub centre: String,
    #[serde(skip)]
    pub centre_id: i64,
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
    /// The volunteer who reported, or a self-reporter who gave their number.
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    pub assigned_to: Option<String>,
    #[serde(skip)]
    pub assigned_id: Option<i64>,
    pub follow_volunteer: Option<String>,
    pub visit_interval_days: Option<i64>,
    /// Where its push to Primero stands (nothing for a case registered
    /// before the push existed).
    pub primero: PrimeroState,
}

/// The cases a scope owns (lists; changes).
fn owned(c: &mut Conditions, scope: Scope) {
    if let Scope::Centre(id) = scope {
        c.with(id, |p| format!("c.centre_id = {p}"));
    }
}

/// The cases a scope may read: its own, and those another centre asks it
/// to take (a pending transfer), so its manager can decide.
fn readable(c: &mut Conditions, scope: Scope) {
    if let Scope::Centre(id) = scope {
        c.with(id, |p| {
            format!(
                "(c.centre_id = {p} OR EXISTS (SELECT 1 FROM case_transfers tr
                   WHERE tr.case_id = c.id AND tr.state = 'pending' AND tr.to_centre_id = {p}))"
            )
        });
    }
}

fn flag(r: &AnyRow, column: &str) -> Result<bool> {
    let v: i64 = r.try_get(column)?;
    Ok(v != 0)
}

impl Store {
    /// A page of the cases the scope owns that the filter selects: urgent
    /// first, then overdue, then newest.
    pub async fn case_page(
        &self,
        scope: Scope,
        f: &CaseFilter,
        page: u32,
        per_page: u32,
    ) -> Result<CasePage> {
        let mut c = Conditions::default();
        owned(&mut c, scope);
        if let Some(stage) = &f.stage {
            c.with(stage.as_str(), |p| format!("c.stage = {p}"));
        }
        if let Some(urgent) = f.urgent {
            c.with(urgent as i64, |p| format!("c.urgent = {p}"));
        }
        if let Some(overdue) = f.overdue {
            c.with(overdue as i64, |p| format!("c.overdue = {p}"));
        }
        if let Some(centre) = &f.centre {
            c.with(centre.as_str(), |p| format!("ce.code = {p}"));
        }
        if let Some(district) = &f.district {
            c.with(district.as_str(), |p| format!("d.code = {p}"));
        }
        if let Some(channel) = &f.channel {
            c.with(channel.as_str(), |p| format!("c.channel = {p}"));
        }
        match f.reporter {
            Some(ReporterKind::Volunteer) => c.plain("c.volunteer_id IS NOT NULL"),
            Some(ReporterKind::SelfReport) => c.plain("c.self_report = 1 AND c.anonymous = 0"),
            Some(ReporterKind::Anonymous) => c.plain("c.anonymous = 1"),
            None => {}
        }
        let limit = c.arg(per_page as i64 + 1);
        let offset = c.arg(page as i64 * per_page as i64);
        let sql = format!(
            "SELECT c.reference, c.stage, ce.code AS centre, c.urgent, c.overdue, c.concern,
                    c.channel, d.name AS district, c.created_at
             FROM cases c JOIN centres ce ON ce.id = c.centre_id
             JOIN locations l ON l.id = c.location_id
             LEFT JOIN locations d ON d.id = l.district_id{}
             ORDER BY c.urgent DESC, c.overdue DESC, c.created_at DESC, c.id DESC
             LIMIT {limit} OFFSET {offset}",
            c.clause()
        );
        let rows = c.bind(&sql).fetch_all(&self.pool).await?;
        let mut items = rows
            .iter()
            .map(|r| {
                Ok(CaseItem {
                    reference: r.try_get("reference")?,
                    stage: r.try_get("stage")?,
                    centre: r.try_get("centre")?,
                    urgent: flag(r, "urgent")?,
                    overdue: flag(r, "overdue")?,
                    concern: r.try_get("concern")?,
                    channel: r.try_get("channel")?,
                    district: r.try_get("district")?,
                    created_at: from_ms(r.try_get("created_at")?).to_rfc3339(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let more = items.len() > per_page as usize;
        items.truncate(per_page as usize);
        Ok(CasePage { items, more })
    }

    /// One case in full, when the scope may read it.
    pub async fn case_detail(
        &self,
        scope: Scope,
        reference: &CaseRef,
    ) -> Result<Option<CaseDetail>> {
        let mut c = Conditions::default();
        c.with(reference.as_str(), |p| format!("c.reference = {p}"));
        readable(&mut c, scope);
        let sql = format!(
            "SELECT c.id, c.reference, c.stage, ce.code AS centre, c.centre_id, c.urgent, c.overdue,
                    c.concern, c.care, c.channel, c.created_at, c.child_name, c.child_age, c.child_sex,
                    c.disability, pr.name AS province, d.name AS district, se.name AS sector,
                    l.name AS village, c.self_report, c.anonymous, c.reporter_phone,
                    v.name AS volunteer_name, v.phone AS volunteer_phone,
                    a.name AS assigned_name, c.assigned_to, fv.name AS follow_name, c.visit_interval_days,
                    c.primero_id, p.pushed AS primero_pushed, p.changes AS primero_changes,
                    p.refused AS primero_refused, p.last_error AS primero_error
             FROM cases c JOIN centres ce ON ce.id = c.centre_id
             LEFT JOIN primero_push p ON p.case_id = c.id
             JOIN locations l ON l.id = c.location_id
             LEFT JOIN locations se ON se.id = l.parent_id AND se.level = 3
             LEFT JOIN locations d ON d.id = l.district_id
             LEFT JOIN locations pr ON pr.id = l.province_id
             LEFT JOIN volunteers v ON v.id = c.volunteer_id
             LEFT JOIN volunteers fv ON fv.id = c.follow_volunteer_id
             LEFT JOIN staff a ON a.id = c.assigned_to{}",
            c.clause()
        );
        let Some(r) = c.bind(&sql).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let anonymous = flag(&r, "anonymous")?;
        let volunteer_phone: Option<String> = r.try_get("volunteer_phone")?;
        let (reporter_name, reporter_phone) = match volunteer_phone {
            Some(phone) => (r.try_get("volunteer_name")?, Some(phone)),
            None if anonymous => (None, None),
            None => (None, r.try_get("reporter_phone")?),
        };
        Ok(Some(CaseDetail {
            id: r.try_get("id")?,
            reference: r.try_get("reference")?,
            stage: r.try_get("stage")?,
            centre: r.try_get("centre")?,
            centre_id: r.try_get("centre_id")?,
            urgent: flag(&r, "urgent")?,
            overdue: flag(&r, "overdue")?,
            concern: r.try_get("concern")?,
            care: r.try_get("care")?,
            channel: r.try_get("channel")?,
            created_at: from_ms(r.try_get("created_at")?).to_rfc3339(),
            child_name: self.open_opt(sealed::CHILD_NAME, r.try_get("child_name")?)?,
            child_age: r.try_get("child_age")?,
            child_sex: r.try_get("child_sex")?,
            disability: r.try_get("disability")?,
            province: r.try_get("province")?,
            district: r.try_get("district")?,
            sector: r.try_get("sector")?,
            village: r.try_get("village")?,
            self_report: flag(&r, "self_report")?,
            anonymous,
            reporter_name,
            reporter_phone: reporter_phone.map(|p| Phone::from_trusted(p).to_string()),
            assigned_to: r.try_get("assigned_name")?,
            assigned_id: r.try_get("assigned_to")?,
            follow_volunteer: r.try_get("follow_name")?,
            visit_interval_days: r.try_get("visit_interval_days")?,
            primero: PrimeroState {
                id: r.try_get("primero_id")?,
                waiting: r.try_get::<Option<i64>, _>("primero_pushed")?
                    < r.try_get::<Option<i64>, _>("primero_changes")?,
                refused: r.try_get::<Option<i64>, _>("primero_refused")? == Some(1),
                last_error: r.try_get("primero_error")?,
            },
        }))
    }

    /// The case's row and centre, when the scope owns it (before a change).
    pub async fn owned_case(
        &self,
        scope: Scope,
        reference: &CaseRef,
    ) -> Result<Option<(i64, i64)>> {
        let mut c = Conditions::default();
        c.with(reference.as_str(), |p| format!("c.reference = {p}"));
        owned(&mut c, scope);
        let sql = format!("SELECT c.id, c.centre_id FROM cases c{}", c.clause());
        c.bind(&sql)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| Ok((r.try_get("id")?, r.try_get("centre_id")?)))
            .transpose()
            .map_err(|e: StoreError| e)
    }
}
