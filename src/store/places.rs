//! Places and the centres responsible for them, as flows and imports read
//! them. The same SQL on both databases.

use std::collections::HashMap;

use sqlx::Row as _;

use super::{Result, Store};
use crate::domain::Place;

impl Store {
    pub async fn children(&self, parent: Option<i64>) -> Result<Vec<Place>> {
        let rows = match parent {
            None => {
                sqlx::query(
                    "SELECT id, name FROM locations WHERE parent_id IS NULL ORDER BY name, id",
                )
                .fetch_all(&self.pool)
                .await?
            }
            Some(p) => {
                sqlx::query("SELECT id, name FROM locations WHERE parent_id = $1 ORDER BY name, id")
                    .bind(p)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter()
            .map(|r| {
                Ok(Place {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                })
            })
            .collect()
    }

    pub async fn place_by_code(&self, code: &str, level: i64) -> Result<Option<Place>> {
        let row = sqlx::query(
            "SELECT id, name FROM locations WHERE UPPER(code) = UPPER($1) AND level = $2",
        )
        .bind(code)
        .bind(level)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Place {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
            })
        })
        .transpose()
    }

    /// Codes of locations already stored, with their level.
    pub async fn location_levels(&self) -> Result<HashMap<String, i64>> {
        let rows = sqlx::query("SELECT code, level FROM locations")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("code")?, r.try_get("level")?)))
            .collect()
    }

    pub async fn centre_codes(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT code FROM centres")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get("code")?)).collect()
    }

    pub async fn centre_ids(&self) -> Result<Vec<i64>> {
        let rows = sqlx::query("SELECT id FROM centres ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    pub async fn centre_name(&self, centre_id: i64) -> Result<Option<String>> {
        Ok(sqlx::query("SELECT name FROM centres WHERE id = $1")
            .bind(centre_id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get("name"))
            .transpose()?)
    }

    /// The centre's id for its code.
    pub async fn centre_id(&self, code: &str) -> Result<Option<i64>> {
        Ok(sqlx::query("SELECT id FROM centres WHERE code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get("id"))
            .transpose()?)
    }
}
