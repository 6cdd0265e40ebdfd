//! Volunteers and staff as the services read them: a staff member by phone,
//! a centre's staff by role, a volunteer's saved language. The same SQL on
//! both databases.

use std::collections::HashMap;

use sqlx::{any::AnyRow, Row as _};

use super::{Durability, Result, Store, StoreError, Write};
use crate::domain::{Locale, Phone, Role};

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
    /// `None` for national staff (admin, auditor).
    pub centre_id: Option<i64>,
    pub centre_code: Option<String>,
    pub role: Role,
    pub locale: Locale,
    pub name: String,
    pub phone: Phone,
}

/// A [`StaffMember`]'s columns, of `staff s LEFT JOIN centres c`.
pub(super) const STAFF_COLUMNS: &str =
    "s.id, s.centre_id, c.code AS centre_code, s.role, s.locale, s.name, s.phone";

pub(super) fn staff_member(r: &AnyRow) -> Result<StaffMember> {
    let locale: String = r.try_get("locale")?;
    let role: String = r.try_get("role")?;
    Ok(StaffMember {
        id: r.try_get("id")?,
        centre_id: r.try_get("centre_id")?,
        centre_code: r.try_get("centre_code")?,
        role: Role::parse(&role).map_err(|e| StoreError::Invalid(format!("stored {e}")))?,
        locale: stored_locale(&locale)?,
        name: r.try_get("name")?,
        phone: Phone::from_trusted(r.try_get("phone")?),
    })
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

    /// The active staff member a phone (in E.164, as [`Phone`] reads any
    /// spelling) belongs to, with their centre.
    pub async fn staff_by_phone(&self, phone: &Phone) -> Result<Option<StaffMember>> {
        let sql = format!(
            "SELECT {STAFF_COLUMNS} FROM staff s LEFT JOIN centres c ON c.id = s.centre_id
             WHERE s.phone = $1 AND s.active = 1"
        );
        sqlx::query(&sql)
            .bind(phone.as_str())
            .fetch_optional(&self.pool)
            .await?
            .map(|r| staff_member(&r))
            .transpose()
    }

    /// An active staff member by row id.
    pub async fn staff_by_id(&self, id: i64) -> Result<Option<StaffMember>> {
        let sql = format!(
            "SELECT {STAFF_COLUMNS} FROM staff s LEFT JOIN centres c ON c.id = s.centre_id
             WHERE s.id = $1 AND s.active = 1"
        );
        sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| staff_member(&r))
            .transpose()
    }

    /// Every staff member's centre code (none for national staff), by
    /// phone (for the importers).
    pub async fn staff_centres(&self) -> Result<HashMap<Phone, Option<String>>> {
        let rows = sqlx::query(
            "SELECT s.phone, c.code FROM staff s LEFT JOIN centres c ON c.id = s.centre_id",
        )
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
            "SELECT {CONTACT_COLUMNS} FROM staff s WHERE s.centre_id = $1 AND s.role = $2 AND s.active = 1 ORDER BY s.id"
        ))
        .bind(centre_id)
        .bind(role)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(contact).collect()
    }
}
