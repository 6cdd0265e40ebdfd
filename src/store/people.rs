//! Volunteers and staff as the services read them: a staff member by phone,
//! a centre's staff by role, a volunteer's saved language. The same SQL on
//! both databases.

use std::collections::HashMap;

use sqlx::{any::AnyRow, Row as _};

use super::{Durability, Result, Store, StoreError, Write};
use crate::domain::{Locale, Phone};

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

impl Store {
    pub async fn set_volunteer_locale(&self, volunteer_id: i64, locale: &Locale) -> Result<()> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some("UPDATE volunteers SET locale = $1 WHERE id = $2"),
                args: vec![locale.as_str().into(), volunteer_id.into()],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await
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

    /// The centre's staff with the role `manager`.
    pub async fn centre_managers(&self, centre_id: i64) -> Result<Vec<Contact>> {
        self.staff_with_role(centre_id, "manager").await
    }

    /// The centre's staff with `role`, in the order they were imported.
    pub async fn staff_with_role(&self, centre_id: i64, role: &str) -> Result<Vec<Contact>> {
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
