//! What differs between SQLite and PostgreSQL, in one place: how to open
//! and migrate each (pools, pragmas, the group commit's writer on SQLite),
//! how an import takes the write lock, and the row lock a claim takes on
//! PostgreSQL. Every query text is otherwise the same on both.

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions},
    AnyPool, Executor, Row as _,
};

use super::{
    group_commit::{Flush, GroupCommit, WalFile},
    Result, StoreError, Writes,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn of(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Dialect::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Dialect::Postgres)
        } else {
            Err(StoreError::Url(
                url.split(':').next().unwrap_or("").to_string(),
            ))
        }
    }

    /// ` INDEXED BY index` on SQLite, nothing on PostgreSQL: where SQLite's
    /// planner (3.46) would rather skip-scan a narrower index and read the
    /// table than range-scan a covering one (the indicators' reads of a
    /// period, nationally: seconds instead of a fraction), it is told.
    pub(super) fn indexed_by(self, index: &str) -> String {
        match self {
            Dialect::Sqlite => format!(" INDEXED BY {index}"),
            Dialect::Postgres => String::new(),
        }
    }

    /// What a transaction runs first when its write need not wait for the
    /// disk ([`Durability::Process`](super::Durability)): PostgreSQL
    /// commits without waiting for its WAL flush (a crash of the server
    /// loses nothing; a power cut may lose the last few hundred
    /// milliseconds). SQLite's group commit handles durability itself.
    pub(super) fn relaxed_commit(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some("SET LOCAL synchronous_commit = off"),
        }
    }

    /// How many of the tables named `$1` exist (0 or 1): the catalogue
    /// differs, the question does not.
    pub(super) fn table_exists(self) -> &'static str {
        match self {
            Dialect::Sqlite => {
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = $1"
            }
            Dialect::Postgres => {
                "SELECT COUNT(*) AS n FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1"
            }
        }
    }

    /// The claim statement for this dialect (see [`claim!`]).
    pub(super) fn claim(self, claim: &Claim) -> &'static str {
        match self {
            Dialect::Sqlite => claim.sqlite,
            Dialect::Postgres => claim.postgres,
        }
    }
}

/// A claim: an `UPDATE … WHERE id IN (SELECT … LIMIT n)` that leases rows
/// to one worker. PostgreSQL locks the chosen rows and skips those another
/// instance is claiming (`FOR UPDATE SKIP LOCKED`); SQLite has one writer
/// and needs no lock. Both texts are written once, by [`claim!`].
pub(super) struct Claim {
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// `claim!(before, after)`: the claim whose inner `SELECT` ends `before`
/// (its `LIMIT`) and whose statement goes on with `after`; PostgreSQL's
/// lock goes between them.
macro_rules! claim {
    ($before:literal, $after:literal) => {
        $crate::store::dialect::Claim {
            sqlite: concat!($before, $after),
            postgres: concat!($before, "FOR UPDATE SKIP LOCKED", $after),
        }
    };
}
pub(super) use claim;

/// The pools and the writes of an open database.
pub(super) struct Opened {
    pub dialect: Dialect,
    /// Reads.
    pub pool: AnyPool,
    /// Migrations and imports (on SQLite, a single connection).
    pub writer: AnyPool,
    pub writes: Writes,
}

/// The database's dialect and the URL to connect with: a SQLite file is
/// created when missing. Installs sqlx's drivers.
pub(super) fn connect_url(url: &str) -> Result<(Dialect, String)> {
    sqlx::any::install_default_drivers();
    let dialect = Dialect::of(url)?;
    let url = match dialect {
        Dialect::Sqlite if !url.contains("mode=") => {
            format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
        }
        _ => url.to_string(),
    };
    Ok((dialect, url))
}

/// Connects, creating a SQLite file if needed, and migrates.
pub(super) async fn open(url: &str) -> Result<Opened> {
    let (dialect, url) = connect_url(url)?;
    let options = AnyConnectOptions::from_str(&url)?;
    // `synchronous`, for SQLite's sqlx writer (migrations and imports),
    // is FULL: each commit is on disk when it returns. The group commit's
    // own connection commits with NORMAL and flushes the log itself (see
    // `store/group_commit.rs`). Readers never write.
    let pool_with = |connections: u32, synchronous: Option<&'static str>| {
        AnyPoolOptions::new()
            .max_connections(connections)
            .acquire_timeout(Duration::from_secs(10))
            // A ping before every query would double the round trips; a
            // broken connection fails its query and is replaced.
            .test_before_acquire(false)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        // WAL lets readers run beside the writer.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        if let Some(synchronous) = synchronous {
                            conn.execute(synchronous).await?;
                        }
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        // Reads map the file rather than copy each page
                        // through a syscall into a 2 MiB cache: the
                        // indicators' set-based reads touch tens of
                        // thousands of pages.
                        conn.execute("PRAGMA mmap_size = 1073741824").await?;
                        conn.execute("PRAGMA cache_size = -32768").await?;
                    }
                    if dialect == Dialect::Postgres {
                        // The service runs many small statements at once,
                        // and the indicators their nine reads at once, one
                        // connection each: parallel workers on top would
                        // ask for more cores than there are. Measured on
                        // two cores at 1M cases: a centre's p95 104-118 ms
                        // with them, 85-92 ms without.
                        conn.execute("SET max_parallel_workers_per_gather = 0")
                            .await?;
                    }
                    Ok(())
                })
            })
    };
    // SQLite has one writer at a time, and contending connections sleep in
    // its busy handler (1, 2, 5, 10 ms...). So on SQLite the service's
    // writes queue in-process for the group commit's one connection,
    // imports take a one-connection pool, and reads keep their own pool.
    // PostgreSQL takes concurrent writers as they come.
    let (pool, writer) = match dialect {
        Dialect::Sqlite => {
            let writer = pool_with(1, Some("PRAGMA synchronous = FULL"))
                .connect_with(options.clone())
                .await?;
            sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
            let readers = pool_with(4, None).connect_with(options).await?;
            (readers, writer)
        }
        Dialect::Postgres => {
            let pool = pool_with(10, None).connect_with(options).await?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            (pool.clone(), pool)
        }
    };
    let writes = match dialect {
        Dialect::Sqlite => {
            // The database's file: the group commit's connection opens it
            // and its flush syncs it. A database in memory has none, and
            // each connection would see a database of its own.
            let file: String =
                sqlx::query("SELECT file FROM pragma_database_list WHERE name = 'main'")
                    .fetch_one(&writer)
                    .await?
                    .try_get("file")?;
            if file.is_empty() {
                return Err(StoreError::Invalid(
                    "a SQLite database in memory cannot be shared by the service's connections: give a file, sqlite://FILE".into(),
                ));
            }
            let db = std::path::PathBuf::from(file);
            let flush = Arc::new(WalFile { db: db.clone() }) as Arc<dyn Flush>;
            Writes::Grouped(GroupCommit::start(&db, Some(flush))?)
        }
        Dialect::Postgres => Writes::Direct(writer.clone()),
    };
    Ok(Opened {
        dialect,
        pool,
        writer,
        writes,
    })
}

/// Begins an import's transaction on `writer`. On SQLite it takes the
/// write lock at once: a transaction that read first could not write after
/// another writer's commit (`SQLITE_BUSY_SNAPSHOT`, with no waiting).
pub(super) async fn begin_import(
    dialect: Dialect,
    writer: &AnyPool,
) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
    Ok(match dialect {
        Dialect::Sqlite => writer.begin_with("BEGIN IMMEDIATE").await?,
        Dialect::Postgres => writer.begin().await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_differs_only_by_postgresql_s_lock() {
        let c = claim!("SELECT id FROM t LIMIT $1 ", ") RETURNING id");
        assert_eq!(c.sqlite, "SELECT id FROM t LIMIT $1 ) RETURNING id");
        assert_eq!(c.postgres.replace("FOR UPDATE SKIP LOCKED", ""), c.sqlite);
        assert_eq!(Dialect::Sqlite.claim(&c), c.sqlite);
        assert_eq!(Dialect::Postgres.claim(&c), c.postgres);
        assert!(Dialect::of("mysql://x").is_err());
        assert_eq!(Dialect::of("postgresql://x").unwrap(), Dialect::Postgres);
    }
}
