//! Cases in the database: the case made once per confirmed session, its
//! row as the case work reads it (no child-identifying detail), its summary
//! for listings, stage moves (compare-and-set, so two staff acting at once
//! agree), and who follows it. The same SQL on both databases.

use sqlx::{any::AnyRow, Row as _};

use super::{people::Contact, sealed, Durability, Result, Store, StoreError, Write};
use crate::domain::{from_ms, CaseRef, NewCase, Phone};

/// What the case logic needs of a case (no child-identifying detail).
#[derive(Clone, Debug)]
pub struct CaseRow {
    pub id: i64,
    pub reference: CaseRef,
    pub stage: String,
    pub centre_id: i64,
    pub centre_code: String,
    pub urgent: bool,
    pub concern: String,
    /// The district's name: the most an alert says of the place.
    pub district: Option<String>,
    pub volunteer_id: Option<i64>,
    pub created_at: i64,
}

/// A volunteer who follows a case: the one staff set, else its reporter.
#[derive(Clone, Debug)]
pub struct Follower {
    pub phone: crate::domain::Phone,
    pub locale: crate::domain::Locale,
    /// Days between visits staff set for this case, if any.
    pub interval_days: Option<i64>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct CaseSummary {
    pub reference: String,
    pub stage: String,
    pub centre: String,
    pub urgent: bool,
    pub concern: String,
    pub channel: String,
    pub self_report: bool,
    pub anonymous: bool,
    pub location: String,
    pub created_at: String,
}

fn bool_of(v: i64) -> bool {
    v != 0
}

const CASE_SUMMARY: &str =
    "SELECT c.reference, c.stage, ce.code AS centre, c.urgent, c.concern, c.channel, c.self_report, c.anonymous,
            l.code AS location, c.created_at
     FROM cases c JOIN centres ce ON ce.id = c.centre_id JOIN locations l ON l.id = c.location_id";

fn case_summary(r: &AnyRow) -> Result<CaseSummary> {
    Ok(CaseSummary {
        reference: r.try_get("reference")?,
        stage: r.try_get("stage")?,
        centre: r.try_get("centre")?,
        urgent: bool_of(r.try_get("urgent")?),
        concern: r.try_get("concern")?,
        channel: r.try_get("channel")?,
        self_report: bool_of(r.try_get("self_report")?),
        anonymous: bool_of(r.try_get("anonymous")?),
        location: r.try_get("location")?,
        created_at: from_ms(r.try_get("created_at")?).to_rfc3339(),
    })
}

const CASE_SELECT: &str =
    "SELECT c.id, c.reference, c.stage, c.centre_id, ce.code AS centre_code, c.urgent, c.concern,
        d.name AS district, c.volunteer_id, c.created_at
     FROM cases c JOIN centres ce ON ce.id = c.centre_id
     JOIN locations l ON l.id = c.location_id
     LEFT JOIN locations d ON d.id = l.district_id";

fn case_row(r: &sqlx::any::AnyRow) -> Result<CaseRow> {
    let reference: String = r.try_get("reference")?;
    Ok(CaseRow {
        id: r.try_get("id")?,
        reference: CaseRef::parse(&reference).map_err(|e| StoreError::Invalid(e.to_string()))?,
        stage: r.try_get("stage")?,
        centre_id: r.try_get("centre_id")?,
        centre_code: r.try_get("centre_code")?,
        urgent: r.try_get::<i64, _>("urgent")? != 0,
        concern: r.try_get("concern")?,
        district: r.try_get("district")?,
        volunteer_id: r.try_get("volunteer_id")?,
        created_at: r.try_get("created_at")?,
    })
}

impl Store {
    /// Creates the case for a confirmed session, once: a retried session
    /// (same `source_key`) gets the reference of the case it already made.
    pub async fn create_case(&self, c: &NewCase) -> Result<CaseRef> {
        Ok(self.create_case_once(c).await?.0)
    }

    /// [`Store::create_case`], and whether this call made the case (`true`)
    /// or found the one its source key made before (`false`): a case is
    /// counted once, whoever retries.
    pub async fn create_case_once(&self, c: &NewCase) -> Result<(CaseRef, bool)> {
        let mut last_error = None;
        for _ in 0..4 {
            match self.try_create_case(c).await {
                Ok(made) => return Ok(made),
                // A random reference can collide with an existing one: draw again.
                Err(e) if e.is_unique_violation() => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_error
            .unwrap_or_else(|| StoreError::Invalid("could not draw a free case reference".into())))
    }

    /// One statement: the centre is looked up in it, and the registration
    /// needs no event row of its own (the case row holds its time, channel
    /// and reporter; the timeline derives it). No `RETURNING`: SQLite
    /// buffers returned rows in two temporary tables, about 16,000
    /// instructions a case on the single writer (callgrind); the count of
    /// inserted rows says enough.
    async fn try_create_case(&self, c: &NewCase) -> Result<(CaseRef, bool)> {
        let reference = CaseRef::random();
        let inserted = self
            .write(
                Durability::Disk,
                Write {
                    sql: Some(
                        "INSERT INTO cases (reference, stage, centre_id, location_id, urgent, concern, care, child_name, child_age,
                                            child_sex, disability, channel, self_report, anonymous, reporter_phone, volunteer_id,
                                            source_key, created_at)
                         SELECT $1, 'new', c.id, l.id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16
                         FROM locations l JOIN centres c ON c.province_id = l.province_id WHERE l.id = $2
                         ON CONFLICT (source_key) DO NOTHING",
                    ),
                    args: vec![
                        reference.as_str().into(),
                        c.location_id.into(),
                        (c.danger as i64).into(),
                        c.concern.as_str().into(),
                        c.care.clone().into(),
                        self.seal_opt(sealed::CHILD_NAME, c.child_name.as_deref()).into(),
                        c.child_age.into(),
                        c.child_sex.as_str().into(),
                        c.disability.clone().into(),
                        c.channel.as_str().into(),
                        (c.self_report as i64).into(),
                        (c.anonymous as i64).into(),
                        c.reporter_phone.as_ref().map(|p| p.as_str().to_string()).into(),
                        c.volunteer_id.into(),
                        c.source_key.as_str().into(),
                        self.clock.now_ms().into(),
                    ],
                    decode: Box::new(|o| Ok(o.rows_affected == 1)),
                },
            )
            .await?;
        if inserted {
            return Ok((reference, true));
        }
        // Either this session already made its case (a retry, or another
        // server a moment ago), or no centre covers the place.
        match sqlx::query("SELECT reference FROM cases WHERE source_key = $1")
            .bind(&c.source_key)
            .fetch_optional(&self.pool)
            .await?
        {
            Some(r) => CaseRef::parse(&r.try_get::<String, _>("reference")?)
                .map(|found| (found, false))
                .map_err(|e| StoreError::Invalid(e.to_string())),
            None => Err(StoreError::NoCentre(c.location_id)),
        }
    }

    /// The case's row id (what timers and events refer to).
    pub async fn case_id(&self, reference: &CaseRef) -> Result<Option<i64>> {
        Ok(sqlx::query("SELECT id FROM cases WHERE reference = $1")
            .bind(reference.as_str())
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get::<i64, _>("id"))
            .transpose()?)
    }

    pub async fn case_exists(&self, reference: &CaseRef) -> Result<bool> {
        Ok(
            sqlx::query("SELECT 1 AS one FROM cases WHERE reference = $1")
                .bind(reference.as_str())
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
    }

    pub async fn recent_reports(
        &self,
        volunteer_id: i64,
        limit: u32,
    ) -> Result<Vec<(CaseRef, String)>> {
        let rows = sqlx::query("SELECT reference, stage FROM cases WHERE volunteer_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2")
            .bind(volunteer_id)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let reference = CaseRef::parse(&r.try_get::<String, _>("reference")?)
                    .map_err(|e| StoreError::Invalid(e.to_string()))?;
                Ok((reference, r.try_get("stage")?))
            })
            .collect()
    }

    pub async fn list_cases(&self) -> Result<Vec<CaseSummary>> {
        let sql = format!("{CASE_SUMMARY} ORDER BY c.created_at, c.id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(case_summary).collect()
    }

    pub async fn case_summary(&self, reference: &CaseRef) -> Result<Option<CaseSummary>> {
        let sql = format!("{CASE_SUMMARY} WHERE c.reference = $1");
        sqlx::query(&sql)
            .bind(reference.as_str())
            .fetch_optional(&self.pool)
            .await?
            .map(|r| case_summary(&r))
            .transpose()
    }

    pub async fn case_row(&self, reference: &CaseRef) -> Result<Option<CaseRow>> {
        let sql = format!("{CASE_SELECT} WHERE c.reference = $1");
        sqlx::query(&sql)
            .bind(reference.as_str())
            .fetch_optional(&self.pool)
            .await?
            .map(|r| case_row(&r))
            .transpose()
    }

    pub async fn case_row_by_id(&self, id: i64) -> Result<Option<CaseRow>> {
        let sql = format!("{CASE_SELECT} WHERE c.id = $1");
        sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| case_row(&r))
            .transpose()
    }

    /// Moves a case from `from` to `to`; `false` when it was no longer at
    /// `from` (someone else moved it first).
    pub async fn move_stage(&self, case_id: i64, from: &str, to: &str) -> Result<bool> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some("UPDATE cases SET stage = $1 WHERE id = $2 AND stage = $3"),
                args: vec![to.into(), case_id.into(), from.into()],
                decode: Box::new(|o| Ok(o.rows_affected == 1)),
            },
        )
        .await
    }

    /// The staff member who last moved the case (acknowledged it, or
    /// later): the one its reminders go to.
    pub async fn case_owner(&self, case_id: i64) -> Result<Option<Contact>> {
        let sql = format!(
            "SELECT {} FROM case_events e JOIN staff s ON e.actor = 'staff:' || s.id
             WHERE e.case_id = $1 AND e.kind IN ('acknowledged', 'assessed', 'planned', 'reviewed')
             ORDER BY e.at DESC, e.id DESC LIMIT 1",
            super::people::CONTACT_COLUMNS
        );
        sqlx::query(&sql)
            .bind(case_id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| super::people::contact(&r))
            .transpose()
    }

    /// The volunteer who follows the case: the one staff set, else the
    /// reporting volunteer.
    pub async fn case_volunteer(&self, case_id: i64) -> Result<Option<Follower>> {
        let row = sqlx::query(
            "SELECT v.phone, v.locale, c.visit_interval_days FROM cases c
             JOIN volunteers v ON v.id = COALESCE(c.follow_volunteer_id, c.volunteer_id) WHERE c.id = $1",
        )
        .bind(case_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Follower {
                phone: Phone::from_trusted(r.try_get("phone")?),
                locale: super::people::stored_locale(&r.try_get::<String, _>("locale")?)?,
                interval_days: r.try_get("visit_interval_days")?,
            })
        })
        .transpose()
    }
}
