//! `kanda backup --to PATH` and `kanda restore --from PATH [--force]`.
//!
//! A backup is a consistent copy taken while servers run and take reports:
//! on SQLite the database's own `VACUUM INTO` (one read transaction: every
//! commit before it, none after; never a copy of the file, which a writer
//! may be changing), on PostgreSQL `pg_dump` in its custom format. Either
//! is written beside its name and renamed once complete, so a backup that
//! is there is whole. Sealed fields stay sealed: a backup holds their
//! ciphertext, and reading a restored copy takes the same data keys.
//!
//! A restore goes into an empty database (one with no schema, or only an
//! empty one), and refuses a database that holds rows unless `--force`.
//! Stop the servers of the target first: a restore replaces it.

use std::{
    fs::File,
    io::Read,
    path::{Path, PathBuf},
    process::Command,
    sync::Arc,
    time::Instant,
};

use anyhow::{bail, Context};

use crate::{
    app::{config::sqlite_file, Config},
    domain::SystemClock,
    store::{held_rows_at, Dialect, Keyring, Store, Table},
};

/// A backup's kind, known from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Sqlite,
    PgDump,
}

impl Format {
    pub fn of(file: &Path) -> anyhow::Result<Self> {
        let mut head = [0u8; 16];
        let n = File::open(file)
            .with_context(|| format!("could not open {}", file.display()))?
            .read(&mut head)?;
        match &head[..n] {
            h if h.starts_with(b"SQLite format 3\0") => Ok(Format::Sqlite),
            h if h.starts_with(b"PGDMP") => Ok(Format::PgDump),
            _ => bail!(
                "{} is neither a SQLite database nor a pg_dump archive (custom format)",
                file.display()
            ),
        }
    }
}

/// What a backup or a restore did.
#[derive(Clone, Debug)]
pub struct Done {
    pub bytes: u64,
    pub seconds: f64,
    /// Cases in the restored database (a restore only).
    pub cases: Option<i64>,
}

/// Writes a consistent copy of the configured database to `to`.
pub async fn backup(config: &Config, to: &Path) -> anyhow::Result<Done> {
    if to.exists() {
        bail!("{} exists: a backup never overwrites one", to.display());
    }
    let started = Instant::now();
    let partial = partial_of(to);
    let _ = std::fs::remove_file(&partial);
    match Dialect::of(&config.database_url)? {
        Dialect::Sqlite => {
            let store = open(config).await?;
            let copied = store.vacuum_into(&partial).await;
            store.close().await;
            copied.with_context(|| format!("could not write {}", partial.display()))?;
        }
        Dialect::Postgres => {
            let partial_arg = partial.to_str().context("the backup's path is not UTF-8")?;
            run(
                "pg_dump",
                &[
                    "--format=custom",
                    "--file",
                    partial_arg,
                    &config.database_url,
                ],
            )?;
        }
    }
    File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, to)?;
    sync_dir(to);
    Ok(Done {
        bytes: std::fs::metadata(to)?.len(),
        seconds: started.elapsed().as_secs_f64(),
        cases: None,
    })
}

/// Restores the backup `from` into the configured database: an empty one,
/// or any with `force`.
pub async fn restore(config: &Config, from: &Path, force: bool) -> anyhow::Result<Done> {
    let started = Instant::now();
    let format = Format::of(from)?;
    let url = &config.database_url;
    let dialect = Dialect::of(url)?;
    match (format, dialect) {
        (Format::Sqlite, Dialect::Postgres) | (Format::PgDump, Dialect::Sqlite) => bail!(
            "{} is a {} backup and DATABASE_URL is a {} database: restore into the kind it was taken from",
            from.display(),
            if format == Format::Sqlite { "SQLite" } else { "PostgreSQL" },
            if dialect == Dialect::Sqlite { "SQLite" } else { "PostgreSQL" },
        ),
        _ => {}
    }
    let held = held_rows_at(url)
        .await
        .with_context(|| "could not read the target database")?;
    if held.unwrap_or(0) > 0 && !force {
        bail!(
            "the target database is not empty: restore refuses to replace it (stop its servers and add --force to replace it)"
        );
    }
    match dialect {
        Dialect::Sqlite => {
            let target = sqlite_file(url).context("DATABASE_URL names no SQLite file")?;
            check_sqlite(from)?;
            let partial = partial_of(&target);
            std::fs::copy(from, &partial).with_context(|| {
                format!("could not copy {} to {}", from.display(), partial.display())
            })?;
            File::open(&partial)?.sync_all()?;
            // The old database's log and index of it must not be read with
            // the new file.
            for side in ["-wal", "-shm"] {
                let mut p = target.clone().into_os_string();
                p.push(side);
                let _ = std::fs::remove_file(PathBuf::from(p));
            }
            std::fs::rename(&partial, &target)?;
            sync_dir(&target);
        }
        Dialect::Postgres => {
            let from_arg = from.to_str().context("the backup's path is not UTF-8")?;
            let mut args = vec![
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                "--dbname",
                url.as_str(),
            ];
            if held.is_some() {
                // A schema (empty, or replaced by --force): the archive's
                // objects replace it.
                args.extend(["--clean", "--if-exists"]);
            }
            args.push(from_arg);
            run("pg_restore", &args)?;
        }
    }
    // Newer migrations than the backup's apply now; then count.
    let store = open(config).await?;
    let cases = store.count(Table::Cases).await?;
    store.close().await;
    Ok(Done {
        bytes: std::fs::metadata(from)?.len(),
        seconds: started.elapsed().as_secs_f64(),
        cases: Some(cases),
    })
}

/// The store, to copy or count: no sealed value is opened, so without a
/// configured key a throwaway one does.
async fn open(config: &Config) -> anyhow::Result<Store> {
    let keys = match &config.data_keys {
        Some(k) => k.clone(),
        None => Arc::new(Keyring::parse(&Keyring::new_key())?),
    };
    Ok(Store::connect(&config.database_url, Arc::new(SystemClock), keys).await?)
}

/// A SQLite backup must be a whole, readable Kanda database.
fn check_sqlite(file: &Path) -> anyhow::Result<()> {
    let conn = rusqlite::Connection::open_with_flags(
        file,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if check != "ok" {
        bail!("{} fails SQLite's integrity check: {check}", file.display());
    }
    let migrations: i64 = conn
        .query_row("SELECT COUNT(*) FROM _sqlx_migrations", [], |r| r.get(0))
        .with_context(|| format!("{} is not a Kanda database", file.display()))?;
    if migrations == 0 {
        bail!("{} is not a Kanda database", file.display());
    }
    Ok(())
}

/// Runs a PostgreSQL tool, saying clearly when it is missing or fails.
fn run(tool: &str, args: &[&str]) -> anyhow::Result<()> {
    let out = match Command::new(tool).args(args).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "{tool} was not found: install the PostgreSQL client tools (Debian: postgresql-client, the server's major version or newer) and put {tool} on PATH"
        ),
        Err(e) => bail!("could not run {tool}: {e}"),
    };
    if !out.status.success() {
        bail!(
            "{tool} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

fn partial_of(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".partial");
    PathBuf::from(p)
}

/// Makes a rename in `path`'s folder durable (best effort).
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}
