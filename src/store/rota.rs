//! Each centre's on-duty rota and escalation chain, and its staff as alerts
//! need them: who is on duty at a local moment, who each escalation level
//! reaches, who a staff phone belongs to. The same SQL on both databases.

use std::collections::HashMap;

use sqlx::{any::AnyRow, Row as _};

use super::{Result, Store, StoreError};
use crate::{
    domain::{Locale, Phone},
    rota::{Days, Hours, Level},
};

/// A staff member to alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    pub staff_id: i64,
    pub phone: Phone,
    pub name: String,
    /// `caseworker`, `manager` or `committee`.
    pub role: String,
    pub locale: Locale,
}

/// A staff member with their centre, found by phone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffMember {
    pub id: i64,
    pub centre_id: i64,
    pub centre_code: String,
    pub role: String,
    pub locale: Locale,
    pub name: String,
    pub phone: Phone,
}

/// One imported rota row, already validated by the importer.
#[derive(Clone, Debug)]
pub struct RotaRow {
    pub centre_code: String,
    pub phone: Phone,
    pub days: Days,
    pub hours: Hours,
    pub fallback: bool,
}

/// One imported escalation chain row, already validated by the importer.
#[derive(Clone, Debug)]
pub struct ChainRow {
    pub centre_code: String,
    pub level: Level,
    pub phone: Phone,
}

/// A stored rota row with its staff member (for the staff web view).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotaEntry {
    pub id: i64,
    pub contact: Contact,
    pub days: Days,
    pub hours: Hours,
    pub fallback: bool,
}

pub(super) const CONTACT_COLUMNS: &str = "s.id AS staff_id, s.phone, s.name, s.role, s.locale";

pub(super) fn contact(r: &AnyRow) -> Result<Contact> {
    let locale: String = r.try_get("locale")?;
    Ok(Contact {
        staff_id: r.try_get("staff_id")?,
        phone: Phone::from_trusted(r.try_get("phone")?),
        name: r.try_get("name")?,
        role: r.try_get("role")?,
        locale: stored_locale(&locale)?,
    })
}

/// A language read back from the database (staff's or volunteers').
pub(super) fn stored_locale(s: &str) -> Result<Locale> {
    Locale::parse(s).map_err(|e| StoreError::Invalid(format!("stored language: {e}")))
}

fn rota_entry(r: &AnyRow) -> Result<RotaEntry> {
    let id: i64 = r.try_get("id")?;
    let bad =
        |what: &str| StoreError::Invalid(format!("rota row {id}: stored {what} out of range"));
    let days = Days::from_bits(r.try_get("days")?).ok_or_else(|| bad("days"))?;
    let hours = Hours::from_minutes(r.try_get("start_minute")?, r.try_get("end_minute")?)
        .ok_or_else(|| bad("hours"))?;
    Ok(RotaEntry {
        id,
        contact: contact(r)?,
        days,
        hours,
        fallback: r.try_get::<i64, _>("fallback")? != 0,
    })
}

/// Keeps the first of each staff member, in order.
fn distinct(contacts: impl IntoIterator<Item = Contact>) -> Vec<Contact> {
    let mut seen = std::collections::HashSet::new();
    contacts
        .into_iter()
        .filter(|c| seen.insert(c.staff_id))
        .collect()
}

/// The centre codes of `rows`, each once, in order.
fn centres_of<'a>(codes: impl Iterator<Item = &'a String>) -> Vec<&'a String> {
    let mut seen = std::collections::HashSet::new();
    codes.filter(|c| seen.insert(*c)).collect()
}

impl Store {
    /// The centre's id for its code.
    pub async fn centre_id(&self, code: &str) -> Result<Option<i64>> {
        Ok(sqlx::query("SELECT id FROM centres WHERE code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get("id"))
            .transpose()?)
    }

    /// The staff member a phone (in E.164, as [`Phone`] reads any spelling)
    /// belongs to, with their centre.
    pub async fn staff_by_phone(&self, phone: &Phone) -> Result<Option<StaffMember>> {
        let Some(r) = sqlx::query(
            "SELECT s.id, s.centre_id, c.code AS centre_code, s.role, s.locale, s.name, s.phone
             FROM staff s JOIN centres c ON c.id = s.centre_id WHERE s.phone = $1",
        )
        .bind(phone.as_str())
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let locale: String = r.try_get("locale")?;
        Ok(Some(StaffMember {
            id: r.try_get("id")?,
            centre_id: r.try_get("centre_id")?,
            centre_code: r.try_get("centre_code")?,
            role: r.try_get("role")?,
            locale: stored_locale(&locale)?,
            name: r.try_get("name")?,
            phone: Phone::from_trusted(r.try_get("phone")?),
        }))
    }

    /// Every staff member's centre code, by phone (for the importers).
    pub async fn staff_centres(&self) -> Result<HashMap<Phone, String>> {
        let rows =
            sqlx::query("SELECT s.phone, c.code FROM staff s JOIN centres c ON c.id = s.centre_id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| Ok((Phone::from_trusted(r.try_get("phone")?), r.try_get("code")?)))
            .collect()
    }

    /// Replaces the rota of every centre named in `rows` with `rows`, in one
    /// transaction; other centres' rotas stay as they are.
    pub async fn import_rota(&self, rows: &[RotaRow]) -> Result<usize> {
        let mut tx = self.begin_import().await?;
        for code in centres_of(rows.iter().map(|r| &r.centre_code)) {
            sqlx::query(
                "DELETE FROM rota WHERE centre_id IN (SELECT id FROM centres WHERE code = $1)",
            )
            .bind(code)
            .execute(&mut *tx)
            .await?;
        }
        for r in rows {
            let done = sqlx::query(
                "INSERT INTO rota (centre_id, staff_id, days, start_minute, end_minute, fallback)
                 SELECT s.centre_id, s.id, $1, $2, $3, $4
                 FROM staff s JOIN centres c ON c.id = s.centre_id
                 WHERE s.phone = $5 AND c.code = $6",
            )
            .bind(r.days.bits())
            .bind(i64::from(r.hours.start_minute()))
            .bind(i64::from(r.hours.end_minute()))
            .bind(i64::from(r.fallback))
            .bind(r.phone.as_str())
            .bind(&r.centre_code)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Invalid(format!(
                    "{} is not a staff member of centre `{}`",
                    r.phone, r.centre_code
                )));
            }
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    /// Replaces the escalation chain of every centre named in `rows` with
    /// `rows`, in one transaction.
    pub async fn import_chain(&self, rows: &[ChainRow]) -> Result<usize> {
        let mut tx = self.begin_import().await?;
        for code in centres_of(rows.iter().map(|r| &r.centre_code)) {
            sqlx::query(
                "DELETE FROM escalation_chain WHERE centre_id IN (SELECT id FROM centres WHERE code = $1)",
            )
            .bind(code)
            .execute(&mut *tx)
            .await?;
        }
        for r in rows {
            let done = sqlx::query(
                "INSERT INTO escalation_chain (centre_id, level, staff_id)
                 SELECT s.centre_id, $1, s.id
                 FROM staff s JOIN centres c ON c.id = s.centre_id
                 WHERE s.phone = $2 AND c.code = $3",
            )
            .bind(r.level.get())
            .bind(r.phone.as_str())
            .bind(&r.centre_code)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Invalid(format!(
                    "{} is not a staff member of centre `{}`",
                    r.phone, r.centre_code
                )));
            }
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    /// A centre's rota rows, in the order they were imported.
    pub async fn rota(&self, centre_id: i64) -> Result<Vec<RotaEntry>> {
        let rows = sqlx::query(&format!(
            "SELECT r.id, r.days, r.start_minute, r.end_minute, r.fallback, {CONTACT_COLUMNS}
             FROM rota r JOIN staff s ON s.id = r.staff_id AND s.centre_id = r.centre_id
             WHERE r.centre_id = $1 ORDER BY r.id"
        ))
        .bind(centre_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rota_entry).collect()
    }

    /// Who receives the centre's alerts at a local moment (in the
    /// deployment's `KANDA_TIMEZONE`): everyone whose rota row covers it;
    /// when no row does, the centre's fallback contacts. Never empty for a
    /// centre with a rota (the import insists on a fallback contact).
    ///
    /// A centre with no rota at all falls back to its caseworkers, and
    /// when it has none, its managers; empty only for a centre with neither.
    /// Each person comes once, in rota order (staff order for the fallbacks
    /// by role).
    pub async fn on_duty(
        &self,
        centre_id: i64,
        at_local: chrono::NaiveDateTime,
    ) -> Result<Vec<Contact>> {
        let rota = self.rota(centre_id).await?;
        if rota.is_empty() {
            let caseworkers = self.centre_role(centre_id, "caseworker").await?;
            if !caseworkers.is_empty() {
                return Ok(caseworkers);
            }
            return self.centre_managers(centre_id).await;
        }
        let covering = distinct(
            rota.iter()
                .filter(|e| e.hours.covers(e.days, at_local))
                .map(|e| e.contact.clone()),
        );
        if !covering.is_empty() {
            return Ok(covering);
        }
        Ok(distinct(
            rota.into_iter().filter(|e| e.fallback).map(|e| e.contact),
        ))
    }

    /// [`Store::on_duty`] at an instant, read in the time zone `tz`.
    pub async fn on_duty_at(
        &self,
        centre_id: i64,
        tz: chrono_tz::Tz,
        utc: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Contact>> {
        self.on_duty(centre_id, utc.with_timezone(&tz).naive_local())
            .await
    }

    /// The staff of one level of a centre's escalation chain (1: the
    /// caseworkers, then the manager, the provincial committee...); empty
    /// past the chain's depth.
    pub async fn escalation_level(&self, centre_id: i64, level: i64) -> Result<Vec<Contact>> {
        let rows = sqlx::query(&format!(
            "SELECT {CONTACT_COLUMNS}
             FROM escalation_chain e JOIN staff s ON s.id = e.staff_id AND s.centre_id = e.centre_id
             WHERE e.centre_id = $1 AND e.level = $2 ORDER BY s.id"
        ))
        .bind(centre_id)
        .bind(level)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(contact).collect()
    }

    /// A centre's whole escalation chain, as (level, contact), by level.
    pub async fn escalation_chain(&self, centre_id: i64) -> Result<Vec<(i64, Contact)>> {
        let rows = sqlx::query(&format!(
            "SELECT e.level, {CONTACT_COLUMNS}
             FROM escalation_chain e JOIN staff s ON s.id = e.staff_id AND s.centre_id = e.centre_id
             WHERE e.centre_id = $1 ORDER BY e.level, s.id"
        ))
        .bind(centre_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("level")?, contact(r)?)))
            .collect()
    }

    /// The deepest level of a centre's escalation chain; 0 when it has none.
    pub async fn escalation_depth(&self, centre_id: i64) -> Result<i64> {
        Ok(sqlx::query(
            "SELECT COALESCE(MAX(e.level), 0) AS depth
             FROM escalation_chain e JOIN staff s ON s.id = e.staff_id AND s.centre_id = e.centre_id
             WHERE e.centre_id = $1",
        )
        .bind(centre_id)
        .fetch_one(&self.pool)
        .await?
        .try_get("depth")?)
    }

    /// The centre's staff with the role `manager`.
    pub async fn centre_managers(&self, centre_id: i64) -> Result<Vec<Contact>> {
        self.centre_role(centre_id, "manager").await
    }

    async fn centre_role(&self, centre_id: i64, role: &str) -> Result<Vec<Contact>> {
        let rows = sqlx::query(&format!(
            "SELECT {CONTACT_COLUMNS} FROM staff s WHERE s.centre_id = $1 AND s.role = $2 ORDER BY s.id"
        ))
        .bind(centre_id)
        .bind(role)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(contact).collect()
    }
}
