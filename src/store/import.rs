//! Reference data (places, centres, volunteers, staff), written all or
//! nothing per call, in one transaction that holds the write lock from the
//! start. Rows arrive validated by the importer. The same SQL on both
//! databases.

use std::collections::HashMap;

use sqlx::Row as _;

use super::{Result, Store, StoreError};
use crate::domain::{Locale, Phone, Role};

/// Reference data rows, already validated by the importer.
#[derive(Clone, Debug)]
pub struct LocationRow {
    pub code: String,
    pub name: String,
    pub level: i64,
    pub parent_code: Option<String>,
}

#[derive(Clone, Debug)]
pub struct CentreRow {
    pub code: String,
    pub name: String,
    pub province_code: String,
}

#[derive(Clone, Debug)]
pub struct VolunteerRow {
    pub phone: Phone,
    pub name: String,
    pub locale: Locale,
    pub village_code: Option<String>,
}

#[derive(Clone, Debug)]
pub struct StaffRow {
    pub phone: Phone,
    pub name: String,
    pub role: Role,
    /// `None` for national staff (admin, auditor).
    pub centre_code: Option<String>,
    pub locale: Locale,
}

impl Store {
    /// An import's transaction, holding the write lock from the start.
    pub(super) async fn begin_import(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        super::dialect::begin_import(self.dialect, &self.writer).await
    }

    pub async fn import_locations(&self, rows: &[LocationRow]) -> Result<usize> {
        let mut tx = self.begin_import().await?;
        let mut known: HashMap<String, (i64, i64, Option<i64>, Option<i64>)> = HashMap::new(); // code -> (id, level, province, district)
        for r in sqlx::query("SELECT id, code, level, province_id, district_id FROM locations")
            .fetch_all(&mut *tx)
            .await?
        {
            known.insert(
                r.try_get("code")?,
                (
                    r.try_get("id")?,
                    r.try_get("level")?,
                    r.try_get("province_id")?,
                    r.try_get("district_id")?,
                ),
            );
        }
        let mut sorted: Vec<&LocationRow> = rows.iter().collect();
        sorted.sort_by_key(|r| r.level);
        for r in sorted {
            let parent = match &r.parent_code {
                None => None,
                Some(p) => Some(*known.get(p).ok_or_else(|| {
                    StoreError::Invalid(format!("parent `{p}` of `{}` is unknown", r.code))
                })?),
            };
            let id: i64 = sqlx::query(
                "INSERT INTO locations (code, name, level, parent_id) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, parent_id = excluded.parent_id
                 RETURNING id",
            )
            .bind(&r.code)
            .bind(&r.name)
            .bind(r.level)
            .bind(parent.map(|p| p.0))
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?;
            let province = if r.level == 1 {
                Some(id)
            } else {
                parent.and_then(|p| p.2)
            };
            let district = if r.level == 2 {
                Some(id)
            } else {
                parent.and_then(|p| p.3)
            };
            sqlx::query("UPDATE locations SET province_id = $1, district_id = $2 WHERE id = $3")
                .bind(province)
                .bind(district)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            known.insert(r.code.clone(), (id, r.level, province, district));
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    pub async fn import_centres(&self, rows: &[CentreRow]) -> Result<usize> {
        let mut tx = self.begin_import().await?;
        for r in rows {
            sqlx::query(
                "INSERT INTO centres (code, name, province_id)
                 SELECT $1, $2, id FROM locations WHERE code = $3 AND level = 1
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, province_id = excluded.province_id",
            )
            .bind(&r.code)
            .bind(&r.name)
            .bind(&r.province_code)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    pub async fn import_volunteers(&self, rows: &[VolunteerRow]) -> Result<usize> {
        let mut tx = self.begin_import().await?;
        let now = self.clock.now_ms();
        for r in rows {
            let village: Option<i64> = match &r.village_code {
                None => None,
                Some(code) => Some(
                    sqlx::query("SELECT id FROM locations WHERE code = $1")
                        .bind(code)
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or_else(|| StoreError::Invalid(format!("village `{code}` is unknown")))?
                        .try_get("id")?,
                ),
            };
            sqlx::query(
                "INSERT INTO volunteers (phone, name, locale, village_id, created_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (phone) DO UPDATE SET name = excluded.name, locale = excluded.locale, village_id = excluded.village_id, active = 1",
            )
            .bind(r.phone.as_str())
            .bind(&r.name)
            .bind(r.locale.as_str())
            .bind(village)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    pub async fn import_staff(&self, rows: &[StaffRow]) -> Result<usize> {
        let mut tx = self.begin_import().await?;
        for r in rows {
            let centre_id: Option<i64> = match &r.centre_code {
                None => None,
                Some(code) => Some(
                    sqlx::query("SELECT id FROM centres WHERE code = $1")
                        .bind(code)
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or_else(|| StoreError::Invalid(format!("centre `{code}` is unknown")))?
                        .try_get("id")?,
                ),
            };
            sqlx::query(
                "INSERT INTO staff (phone, name, role, centre_id, locale) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (phone) DO UPDATE SET name = excluded.name, role = excluded.role,
                     centre_id = excluded.centre_id, locale = excluded.locale, active = 1",
            )
            .bind(r.phone.as_str())
            .bind(&r.name)
            .bind(r.role.as_str())
            .bind(centre_id)
            .bind(r.locale.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }
}
