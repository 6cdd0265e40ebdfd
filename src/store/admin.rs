//! A centre's people as its managers and the administrators see them on
//! the staff pages: staff and volunteers listed (active or not), one
//! deactivated, a deactivated staff member's sessions ended; and what the
//! importer needs to keep a manager's import to their own centre. A
//! volunteer belongs to the centre of their village's province. The scope
//! is in every `WHERE`. The same SQL on both databases.

use std::collections::HashMap;

use sqlx::{any::AnyRow, Row as _};

use super::{people::stored_locale, Durability, Result, Store, StoreError, Write};
use crate::domain::{Locale, Phone, Role, Scope};

/// A staff member as the staff page lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffListing {
    pub id: i64,
    pub phone: Phone,
    pub name: String,
    pub role: Role,
    /// `None` for national staff (admin, auditor).
    pub centre_id: Option<i64>,
    pub centre_code: Option<String>,
    pub locale: Locale,
    pub active: bool,
}

/// A volunteer as the volunteers page lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolunteerListing {
    pub id: i64,
    pub phone: Phone,
    pub name: String,
    pub locale: Locale,
    pub village_code: Option<String>,
    pub village_name: Option<String>,
    /// The centre of the village's province; `None` without a village.
    pub centre_code: Option<String>,
    pub active: bool,
}

const STAFF_LISTING: &str =
    "SELECT s.id, s.phone, s.name, s.role, s.centre_id, c.code AS centre_code, s.locale, s.active
     FROM staff s LEFT JOIN centres c ON c.id = s.centre_id";

const VOLUNTEER_LISTING: &str = "SELECT v.id, v.phone, v.name, v.locale, v.active,
            l.code AS village_code, l.name AS village_name, c.code AS centre_code
     FROM volunteers v LEFT JOIN locations l ON l.id = v.village_id
     LEFT JOIN centres c ON c.province_id = l.province_id";

fn staff_listing(r: &AnyRow) -> Result<StaffListing> {
    let role: String = r.try_get("role")?;
    let locale: String = r.try_get("locale")?;
    Ok(StaffListing {
        id: r.try_get("id")?,
        phone: Phone::from_trusted(r.try_get("phone")?),
        name: r.try_get("name")?,
        role: Role::parse(&role).map_err(|e| StoreError::Invalid(format!("stored {e}")))?,
        centre_id: r.try_get("centre_id")?,
        centre_code: r.try_get("centre_code")?,
        locale: stored_locale(&locale)?,
        active: r.try_get::<i64, _>("active")? != 0,
    })
}

fn volunteer_listing(r: &AnyRow) -> Result<VolunteerListing> {
    let locale: String = r.try_get("locale")?;
    Ok(VolunteerListing {
        id: r.try_get("id")?,
        phone: Phone::from_trusted(r.try_get("phone")?),
        name: r.try_get("name")?,
        locale: stored_locale(&locale)?,
        village_code: r.try_get("village_code")?,
        village_name: r.try_get("village_name")?,
        centre_code: r.try_get("centre_code")?,
        active: r.try_get::<i64, _>("active")? != 0,
    })
}

impl Store {
    /// The staff of one centre (`Some`) or of every centre and none
    /// (`None`), active or not, by centre then name.
    pub async fn staff_listing(&self, centre_id: Option<i64>) -> Result<Vec<StaffListing>> {
        let order = "ORDER BY COALESCE(c.code, ''), s.name, s.id";
        let rows = match centre_id {
            Some(id) => {
                sqlx::query(&format!("{STAFF_LISTING} WHERE s.centre_id = $1 {order}"))
                    .bind(id)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query(&format!("{STAFF_LISTING} {order}"))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(staff_listing).collect()
    }

    /// One staff member, active or not, when `scope` holds them (a
    /// centre's scope holds its own staff only).
    pub async fn staff_entry(&self, scope: Scope, id: i64) -> Result<Option<StaffListing>> {
        let row = match scope {
            Scope::Centre(centre) => {
                sqlx::query(&format!(
                    "{STAFF_LISTING} WHERE s.id = $1 AND s.centre_id = $2"
                ))
                .bind(id)
                .bind(centre)
                .fetch_optional(&self.pool)
                .await?
            }
            Scope::National => {
                sqlx::query(&format!("{STAFF_LISTING} WHERE s.id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
            }
        };
        row.as_ref().map(staff_listing).transpose()
    }

    /// Deactivates an active staff member `scope` holds and ends their
    /// web sessions; `false` when there is none such.
    pub async fn deactivate_staff(&self, scope: Scope, id: i64) -> Result<bool> {
        let (sql, args) = match scope {
            Scope::Centre(centre) => (
                "UPDATE staff SET active = 0 WHERE id = $1 AND centre_id = $2 AND active = 1",
                vec![id.into(), centre.into()],
            ),
            Scope::National => (
                "UPDATE staff SET active = 0 WHERE id = $1 AND active = 1",
                vec![id.into()],
            ),
        };
        let done = self
            .write(
                Durability::Disk,
                Write {
                    sql: Some(sql),
                    args,
                    decode: Box::new(|o| Ok(o.rows_affected == 1)),
                },
            )
            .await?;
        if done {
            self.end_staff_sessions(id).await?;
        }
        Ok(done)
    }

    /// Ends every web session of a staff member.
    pub async fn end_staff_sessions(&self, staff_id: i64) -> Result<u64> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some("DELETE FROM web_sessions WHERE staff_id = $1"),
                args: vec![staff_id.into()],
                decode: Box::new(|o| Ok(o.rows_affected)),
            },
        )
        .await
    }

    /// The volunteers of one centre (those whose village is in its
    /// province) or, with `None`, every volunteer; active or not, by name.
    pub async fn volunteer_listing(&self, centre_id: Option<i64>) -> Result<Vec<VolunteerListing>> {
        let order = "ORDER BY v.name, v.id";
        let rows = match centre_id {
            Some(id) => {
                sqlx::query(&format!("{VOLUNTEER_LISTING} WHERE c.id = $1 {order}"))
                    .bind(id)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query(&format!("{VOLUNTEER_LISTING} {order}"))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(volunteer_listing).collect()
    }

    /// One volunteer, active or not, when `scope` holds them.
    pub async fn volunteer_entry(&self, scope: Scope, id: i64) -> Result<Option<VolunteerListing>> {
        let row = match scope {
            Scope::Centre(centre) => {
                sqlx::query(&format!(
                    "{VOLUNTEER_LISTING} WHERE v.id = $1 AND c.id = $2"
                ))
                .bind(id)
                .bind(centre)
                .fetch_optional(&self.pool)
                .await?
            }
            Scope::National => {
                sqlx::query(&format!("{VOLUNTEER_LISTING} WHERE v.id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
            }
        };
        row.as_ref().map(volunteer_listing).transpose()
    }

    /// Deactivates an active volunteer `scope` holds; `false` when there
    /// is none such.
    pub async fn deactivate_volunteer(&self, scope: Scope, id: i64) -> Result<bool> {
        let (sql, args) = match scope {
            Scope::Centre(centre) => (
                "UPDATE volunteers SET active = 0 WHERE id = $1 AND active = 1 AND village_id IN
                     (SELECT l.id FROM locations l JOIN centres c ON c.province_id = l.province_id WHERE c.id = $2)",
                vec![id.into(), centre.into()],
            ),
            Scope::National => (
                "UPDATE volunteers SET active = 0 WHERE id = $1 AND active = 1",
                vec![id.into()],
            ),
        };
        self.write(
            Durability::Disk,
            Write {
                sql: Some(sql),
                args,
                decode: Box::new(|o| Ok(o.rows_affected == 1)),
            },
        )
        .await
    }

    /// Each village's centre (that of its province), by village code
    /// (for a manager's volunteer import).
    pub async fn village_centres(&self) -> Result<HashMap<String, String>> {
        let rows = sqlx::query(
            "SELECT l.code, c.code AS centre FROM locations l
             JOIN centres c ON c.province_id = l.province_id WHERE l.level = 4",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("code")?, r.try_get("centre")?)))
            .collect()
    }

    /// Every volunteer's centre (none without a village), by phone (for a
    /// manager's volunteer import).
    pub async fn volunteer_centres(&self) -> Result<HashMap<Phone, Option<String>>> {
        let rows = sqlx::query(
            "SELECT v.phone, c.code FROM volunteers v
             LEFT JOIN locations l ON l.id = v.village_id
             LEFT JOIN centres c ON c.province_id = l.province_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((Phone::from_trusted(r.try_get("phone")?), r.try_get("code")?)))
            .collect()
    }
}
