//! Each centre's on-duty rota and escalation chain: imported (a centre's
//! whole rota or chain replaced at once), and read back with each row's
//! staff member, by level for the chain. Who is on duty at a moment is the
//! case work's to decide (`casework/rota.rs`). The same SQL on both
//! databases.

use sqlx::{any::AnyRow, Row as _};

use super::{
    people::{contact, Contact, CONTACT_COLUMNS},
    Result, Store, StoreError,
};
use crate::domain::{
    rota::{Days, Hours, Level},
    Phone,
};

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

/// The centre codes of `rows`, each once, in order.
fn centres_of<'a>(codes: impl Iterator<Item = &'a String>) -> Vec<&'a String> {
    let mut seen = std::collections::HashSet::new();
    codes.filter(|c| seen.insert(*c)).collect()
}

impl Store {
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

    /// A centre's rota rows of active staff, in the order they were imported.
    pub async fn rota(&self, centre_id: i64) -> Result<Vec<RotaEntry>> {
        let rows = sqlx::query(&format!(
            "SELECT r.id, r.days, r.start_minute, r.end_minute, r.fallback, {CONTACT_COLUMNS}
             FROM rota r JOIN staff s ON s.id = r.staff_id AND s.centre_id = r.centre_id AND s.active = 1
             WHERE r.centre_id = $1 ORDER BY r.id"
        ))
        .bind(centre_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rota_entry).collect()
    }

    /// The active staff of one level of a centre's escalation chain (1:
    /// the caseworkers, then the manager, the provincial committee...);
    /// empty past the chain's depth.
    pub async fn escalation_level(&self, centre_id: i64, level: i64) -> Result<Vec<Contact>> {
        let rows = sqlx::query(&format!(
            "SELECT {CONTACT_COLUMNS}
             FROM escalation_chain e JOIN staff s ON s.id = e.staff_id AND s.centre_id = e.centre_id AND s.active = 1
             WHERE e.centre_id = $1 AND e.level = $2 ORDER BY s.id"
        ))
        .bind(centre_id)
        .bind(level)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(contact).collect()
    }

    /// A centre's whole escalation chain of active staff, as (level,
    /// contact), by level.
    pub async fn escalation_chain(&self, centre_id: i64) -> Result<Vec<(i64, Contact)>> {
        let rows = sqlx::query(&format!(
            "SELECT e.level, {CONTACT_COLUMNS}
             FROM escalation_chain e JOIN staff s ON s.id = e.staff_id AND s.centre_id = e.centre_id AND s.active = 1
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
}
