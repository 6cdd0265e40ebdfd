//! What a backup and a restore need of the database itself: SQLite's
//! consistent copy (`VACUUM INTO`, a read transaction: writers go on), and
//! whether a database holds anything yet. PostgreSQL's copy is `pg_dump`'s
//! (the command line runs it).

use std::path::Path;

use sqlx::Row as _;

use super::{Dialect, Result, Store, StoreError};

/// Tables whose rows make a database "not empty" for a restore.
const HOLDERS: [&str; 5] = ["locations", "cases", "staff", "volunteers", "outbox"];

/// What a restore finds at `url`, without migrating it: `None` when it has
/// no schema yet, else the rows its filled tables hold (SQLite: a missing
/// file is created empty).
pub async fn held_rows_at(url: &str) -> Result<Option<i64>> {
    use sqlx::Connection;
    let (dialect, url) = super::dialect::connect_url(url)?;
    let mut conn = sqlx::AnyConnection::connect(&url).await?;
    let exists: i64 = sqlx::query(dialect.table_exists())
        .bind("_sqlx_migrations")
        .fetch_one(&mut conn)
        .await?
        .try_get("n")?;
    if exists == 0 {
        conn.close().await?;
        return Ok(None);
    }
    let mut n = 0;
    for table in HOLDERS {
        let sql = format!("SELECT COUNT(*) AS n FROM (SELECT 1 FROM {table} LIMIT 1) t");
        n += sqlx::query(&sql)
            .fetch_one(&mut conn)
            .await?
            .try_get::<i64, _>("n")?;
    }
    conn.close().await?;
    Ok(Some(n))
}

impl Store {
    /// Writes a consistent copy of a SQLite database to `to` (which must
    /// not exist): every commit before the copy's read began, none after.
    pub async fn vacuum_into(&self, to: &Path) -> Result<()> {
        if self.dialect != Dialect::Sqlite {
            return Err(StoreError::Invalid("VACUUM INTO is SQLite's".into()));
        }
        let to = to
            .to_str()
            .ok_or_else(|| StoreError::Invalid(format!("{} is not UTF-8", to.display())))?;
        sqlx::query("VACUUM INTO $1")
            .bind(to)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
