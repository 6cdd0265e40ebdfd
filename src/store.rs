//! Storage: one set of SQL for SQLite and PostgreSQL. Both accept `$1`
//! placeholders, `ON CONFLICT` and `RETURNING`, so every query is written
//! once; what must differ (schema key types, and connection set-up) lives in
//! [`Dialect`] and `migrations/<dialect>/`. Reads, migrations and imports go
//! through sqlx's `Any` driver; the service's writes (`store/write.rs`) run
//! on SQLite on the group commit's writer thread (rusqlite, over the same
//! SQLite library) and on PostgreSQL through sqlx.

use std::{collections::HashMap, str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions, AnyRow},
    AnyPool, Executor, Row,
};

mod cases;
mod group_commit;
mod outbox;
mod rota;
mod sms;
mod timers;
mod write;

pub use cases::{CaseRow, Follower, NewEvent};
pub use rota::{ChainRow, Contact, RotaEntry, RotaRow, StaffMember};
pub use sms::{ConversationRow, Sender};

pub use group_commit::Durability;
use group_commit::{Flush, GroupCommit, WalFile};
pub use outbox::{report_status, Attempt, ClaimedSms, OutboxRow};
pub use timers::{NewTimer, Settlement, TimerRow, TimerState, FIRED_BATCH};
use write::{run_alone, Row as Written, Write};

/// How writes reach the database (see [`Store::write`]).
#[derive(Clone, Debug)]
enum Writes {
    Grouped(GroupCommit),
    Direct(AnyPool),
}

use crate::{
    clock::SharedClock,
    domain::{CaseRef, Locale, Phone},
    engine::{Backend, BackendResult, NewCase, NewVisit, Place},
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
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL scheme `{0}`: use sqlite:// or postgres://")]
    Url(String),
    #[error("no centre is responsible for location {0}: import a centre for its province")]
    NoCentre(i64),
    #[error("no case {0}")]
    NoCase(String),
    #[error("{0}")]
    Invalid(String),
    #[error("write not committed: {0}")]
    Commit(String),
    #[error("no outbox message {0}")]
    NoMessage(i64),
    #[error(
        "outbox message {id} is {status}: only a failed or undelivered message can be retried"
    )]
    NotRetryable { id: i64, status: String },
}

impl StoreError {
    /// A unique constraint refused the write, on either database.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Sqlx(sqlx::Error::Database(e)) => e.is_unique_violation(),
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ),
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Debug)]
pub struct Store {
    /// Reads.
    pool: AnyPool,
    /// Writes (on SQLite, a single connection; see `connect`).
    writer: AnyPool,
    writes: Writes,
    dialect: Dialect,
    clock: SharedClock,
    /// Woken by [`Store::schedule`]: a scheduler on this store (or a clone)
    /// looks at once rather than at its next poll.
    timers_wake: Arc<tokio::sync::Notify>,
}

fn session_row(r: &Written) -> Result<SessionRow> {
    Ok(SessionRow {
        session_id: r.text_required("session_id")?,
        phone: r.text_required("phone")?,
        locale: r.text_required("locale")?,
        volunteer_id: r.int("volunteer_id")?,
        village_id: r.int("village_id")?,
        village_name: r.text("village_name")?,
        started_at: r.int_required("started_at")?,
    })
}

/// A USSD session's start snapshot.
#[derive(Clone, Debug)]
pub struct SessionRow {
    pub session_id: String,
    pub phone: String,
    pub locale: String,
    pub volunteer_id: Option<i64>,
    pub village_id: Option<i64>,
    pub village_name: Option<String>,
    pub started_at: i64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct CaseSummary {
    pub reference: String,
    pub stage: String,
    pub centre: String,
    pub urgent: bool,
    pub concern: String,
    pub channel: String,
    pub self_report: bool,
    pub anonymous: bool,
    pub location: String,
    pub created_at: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct CaseEvent {
    pub kind: String,
    pub at: String,
    pub actor: Option<String>,
    pub channel: Option<String>,
    pub outcome: Option<String>,
    pub note: Option<String>,
}

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
    pub role: String,
    pub centre_code: String,
    pub locale: Locale,
}

fn bool_of(v: i64) -> bool {
    v != 0
}

impl Store {
    /// Connects, creating a SQLite file if needed, and migrates.
    pub async fn connect(url: &str, clock: SharedClock) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::of(url)?;
        let url = match dialect {
            Dialect::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_string(),
        };
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
                        }
                        Ok(())
                    })
                })
        };
        // What differs between the dialects, in one place: SQLite has one
        // writer at a time, and contending connections sleep in its busy
        // handler (1, 2, 5, 10 ms...). So on SQLite the service's writes
        // queue in-process for the group commit's one connection, imports
        // take a one-connection pool, and reads keep their own pool.
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
        Ok(Store {
            pool,
            writer,
            writes,
            dialect,
            clock,
            timers_wake: Arc::default(),
        })
    }

    /// Runs one write (one statement, the same SQL on both databases): on
    /// SQLite through the group commit, as durable as `durability` asks; on
    /// PostgreSQL in autocommit on a pooled connection, always flushed to
    /// disk (PostgreSQL shares WAL flushes between concurrent commits
    /// itself). What a write reads back after it (a case's reference when a
    /// retry found it made) is read after the commit, on the read pool.
    async fn write<T: Send + 'static>(&self, durability: Durability, write: Write<T>) -> Result<T> {
        match &self.writes {
            Writes::Grouped(g) => g.write(durability, write).await,
            Writes::Direct(pool) => {
                let mut conn = pool.acquire().await?;
                run_alone(&mut conn, write).await
            }
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    // ---- USSD sessions ----

    pub async fn session(&self, session_id: &str) -> Result<Option<SessionRow>> {
        sqlx::query(
            "SELECT session_id, phone, locale, volunteer_id, village_id, village_name, started_at
             FROM ussd_sessions WHERE session_id = $1",
        )
        .bind(session_id)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| session_row(&Written::from_any(&r)?))
        .transpose()
    }

    /// Starts a session: its snapshot is what the phone's volunteer profile
    /// (or its absence: `default_locale`, no volunteer) says now, looked up
    /// and saved in one statement. The first writer wins, so two servers
    /// racing on the same first hop agree on one snapshot.
    pub async fn start_session(
        &self,
        session_id: &str,
        phone: &Phone,
        default_locale: &str,
    ) -> Result<SessionRow> {
        let inserted = self
            .write(
                Durability::Process,
                Write {
                    sql: Some(
                        "INSERT INTO ussd_sessions (session_id, phone, locale, volunteer_id, village_id, village_name, started_at)
                         SELECT $1, $2, COALESCE(v.locale, $3), v.id, v.village_id, l.name, $4
                         FROM (SELECT 1 AS one) AS start
                         LEFT JOIN volunteers v ON v.phone = $2
                         LEFT JOIN locations l ON l.id = v.village_id
                         WHERE true
                         ON CONFLICT (session_id) DO NOTHING
                         RETURNING session_id, phone, locale, volunteer_id, village_id, village_name, started_at",
                    ),
                    args: vec![
                        session_id.into(),
                        phone.as_str().into(),
                        default_locale.into(),
                        self.clock.now_ms().into(),
                    ],
                    decode: Box::new(|o| o.rows.first().map(session_row).transpose()),
                },
            )
            .await?;
        match inserted {
            Some(row) => Ok(row),
            None => self.session(session_id).await?.ok_or_else(|| {
                StoreError::Invalid(format!("session {session_id} vanished while starting"))
            }),
        }
    }

    /// Deletes sessions started before `before_ms`; returns how many.
    pub async fn purge_sessions(&self, before_ms: i64) -> Result<u64> {
        self.write(
            Durability::Process,
            Write {
                sql: Some("DELETE FROM ussd_sessions WHERE started_at < $1"),
                args: vec![before_ms.into()],
                decode: Box::new(|o| Ok(o.rows_affected)),
            },
        )
        .await
    }

    // ---- people ----

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

    // ---- places ----

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

    pub async fn count(&self, table: Table) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) AS n FROM {}", table.name());
        Ok(sqlx::query(&sql)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?)
    }

    // ---- cases ----

    /// Creates the case for a confirmed session, once: a retried session
    /// (same `source_key`) gets the reference of the case it already made.
    pub async fn create_case(&self, c: &NewCase) -> Result<CaseRef> {
        let mut last_error = None;
        for _ in 0..4 {
            match self.try_create_case(c).await {
                Ok(r) => return Ok(r),
                // A random reference can collide with an existing one: draw again.
                Err(e) if e.is_unique_violation() => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_error
            .unwrap_or_else(|| StoreError::Invalid("could not draw a free case reference".into())))
    }

    /// One statement: the centre is looked up in it, and the registration
    /// needs no event row of its own (the case row holds its time, channel
    /// and reporter; the timeline derives it). No `RETURNING`: SQLite
    /// buffers returned rows in two temporary tables, about 16,000
    /// instructions a case on the single writer (callgrind); the count of
    /// inserted rows says enough.
    async fn try_create_case(&self, c: &NewCase) -> Result<CaseRef> {
        let reference = CaseRef::random();
        let inserted = self
            .write(
                Durability::Disk,
                Write {
                    sql: Some(
                        "INSERT INTO cases (reference, stage, centre_id, location_id, urgent, concern, care, child_name, child_age,
                                            child_sex, disability, channel, self_report, anonymous, reporter_phone, volunteer_id,
                                            source_key, created_at)
                         SELECT $1, 'new', c.id, l.id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16
                         FROM locations l JOIN centres c ON c.province_id = l.province_id WHERE l.id = $2
                         ON CONFLICT (source_key) DO NOTHING",
                    ),
                    args: vec![
                        reference.as_str().into(),
                        c.location_id.into(),
                        (c.danger as i64).into(),
                        c.concern.as_str().into(),
                        c.care.clone().into(),
                        c.child_name.clone().into(),
                        c.child_age.into(),
                        c.child_sex.as_str().into(),
                        c.disability.clone().into(),
                        c.channel.as_str().into(),
                        (c.self_report as i64).into(),
                        (c.anonymous as i64).into(),
                        c.reporter_phone.as_ref().map(|p| p.as_str().to_string()).into(),
                        c.volunteer_id.into(),
                        c.source_key.as_str().into(),
                        self.clock.now_ms().into(),
                    ],
                    decode: Box::new(|o| Ok(o.rows_affected == 1)),
                },
            )
            .await?;
        if inserted {
            return Ok(reference);
        }
        // Either this session already made its case (a retry, or another
        // server a moment ago), or no centre covers the place.
        match sqlx::query("SELECT reference FROM cases WHERE source_key = $1")
            .bind(&c.source_key)
            .fetch_optional(&self.pool)
            .await?
        {
            Some(r) => CaseRef::parse(&r.try_get::<String, _>("reference")?)
                .map_err(|e| StoreError::Invalid(e.to_string())),
            None => Err(StoreError::NoCentre(c.location_id)),
        }
    }

    /// The case's row id (what timers and events refer to).
    pub async fn case_id(&self, reference: &CaseRef) -> Result<Option<i64>> {
        Ok(sqlx::query("SELECT id FROM cases WHERE reference = $1")
            .bind(reference.as_str())
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get::<i64, _>("id"))
            .transpose()?)
    }

    pub async fn case_exists(&self, reference: &CaseRef) -> Result<bool> {
        Ok(
            sqlx::query("SELECT 1 AS one FROM cases WHERE reference = $1")
                .bind(reference.as_str())
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
    }

    /// Records a visit on a case's timeline, once per `source_key`.
    pub async fn log_visit(&self, v: &NewVisit) -> Result<()> {
        let actor = match v.volunteer_id {
            Some(id) => format!("volunteer:{id}"),
            None => format!("phone:{}", v.phone.redacted()),
        };
        let inserted = self
            .write(
                Durability::Disk,
                Write {
                    sql: Some(
                        "INSERT INTO case_events (case_id, kind, at, actor, channel, outcome, note, source_key)
                         SELECT id, 'visit', $1, $2, $3, $4, $5, $6 FROM cases WHERE reference = $7
                         ON CONFLICT (source_key) DO NOTHING",
                    ),
                    args: vec![
                        self.clock.now_ms().into(),
                        actor.into(),
                        v.channel.as_str().into(),
                        v.outcome.as_str().into(),
                        v.note.clone().into(),
                        v.source_key.as_str().into(),
                        v.reference.as_str().into(),
                    ],
                    decode: Box::new(|o| Ok(o.rows_affected > 0)),
                },
            )
            .await?;
        // Not inserted: already logged (a retry), or no such case.
        if inserted || self.case_exists(&v.reference).await? {
            Ok(())
        } else {
            Err(StoreError::NoCase(v.reference.to_string()))
        }
    }

    pub async fn recent_reports(
        &self,
        volunteer_id: i64,
        limit: u32,
    ) -> Result<Vec<(CaseRef, String)>> {
        let rows = sqlx::query("SELECT reference, stage FROM cases WHERE volunteer_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2")
            .bind(volunteer_id)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let reference = CaseRef::parse(&r.try_get::<String, _>("reference")?)
                    .map_err(|e| StoreError::Invalid(e.to_string()))?;
                Ok((reference, r.try_get("stage")?))
            })
            .collect()
    }

    pub async fn list_cases(&self) -> Result<Vec<CaseSummary>> {
        let sql = format!("{CASE_SUMMARY} ORDER BY c.created_at, c.id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(case_summary).collect()
    }

    pub async fn case_summary(&self, reference: &CaseRef) -> Result<Option<CaseSummary>> {
        let sql = format!("{CASE_SUMMARY} WHERE c.reference = $1");
        sqlx::query(&sql)
            .bind(reference.as_str())
            .fetch_optional(&self.pool)
            .await?
            .map(|r| case_summary(&r))
            .transpose()
    }

    /// The case's timeline, oldest first: its registration (from the case
    /// row), then every recorded event.
    pub async fn case_events(&self, reference: &CaseRef) -> Result<Vec<CaseEvent>> {
        let rows = sqlx::query(
            "SELECT 'registered' AS kind, c.created_at AS at, c.volunteer_id, c.self_report, c.anonymous,
                    c.channel, NULL AS outcome, NULL AS note, NULL AS actor, 0 AS seq, 0 AS id
             FROM cases c WHERE c.reference = $1
             UNION ALL
             SELECT e.kind, e.at, NULL, NULL, NULL, e.channel, e.outcome, e.note, e.actor, 1, e.id
             FROM case_events e JOIN cases c ON c.id = e.case_id WHERE c.reference = $1
             ORDER BY at, seq, id",
        )
        .bind(reference.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                let actor = if kind == "registered" {
                    let volunteer: Option<i64> = r.try_get("volunteer_id")?;
                    let anonymous: Option<i64> = r.try_get("anonymous")?;
                    Some(match volunteer {
                        Some(v) => format!("volunteer:{v}"),
                        None if anonymous == Some(1) => "self-report:anonymous".to_string(),
                        None => "self-report".to_string(),
                    })
                } else {
                    r.try_get("actor")?
                };
                Ok(CaseEvent {
                    kind,
                    at: crate::clock::from_ms(r.try_get("at")?).to_rfc3339(),
                    actor,
                    channel: r.try_get("channel")?,
                    outcome: r.try_get("outcome")?,
                    note: r.try_get("note")?,
                })
            })
            .collect()
    }

    // ---- reference data (all-or-nothing per call) ----

    /// Begins an import's transaction. On SQLite it takes the write lock at
    /// once: a transaction that read first could not write after another
    /// writer's commit (`SQLITE_BUSY_SNAPSHOT`, with no waiting).
    async fn begin_import(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.dialect {
            Dialect::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Dialect::Postgres => self.writer.begin().await?,
        })
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
                 ON CONFLICT (phone) DO UPDATE SET name = excluded.name, locale = excluded.locale, village_id = excluded.village_id",
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
            let done = sqlx::query(
                "INSERT INTO staff (phone, name, role, centre_id, locale)
                 SELECT $1, $2, $3, id, $4 FROM centres WHERE code = $5
                 ON CONFLICT (phone) DO UPDATE SET name = excluded.name, role = excluded.role,
                     centre_id = excluded.centre_id, locale = excluded.locale",
            )
            .bind(r.phone.as_str())
            .bind(&r.name)
            .bind(&r.role)
            .bind(r.locale.as_str())
            .bind(&r.centre_code)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Invalid(format!(
                    "centre `{}` is unknown",
                    r.centre_code
                )));
            }
        }
        tx.commit().await?;
        Ok(rows.len())
    }
}

const CASE_SUMMARY: &str =
    "SELECT c.reference, c.stage, ce.code AS centre, c.urgent, c.concern, c.channel, c.self_report, c.anonymous,
            l.code AS location, c.created_at
     FROM cases c JOIN centres ce ON ce.id = c.centre_id JOIN locations l ON l.id = c.location_id";

fn case_summary(r: &AnyRow) -> Result<CaseSummary> {
    Ok(CaseSummary {
        reference: r.try_get("reference")?,
        stage: r.try_get("stage")?,
        centre: r.try_get("centre")?,
        urgent: bool_of(r.try_get("urgent")?),
        concern: r.try_get("concern")?,
        channel: r.try_get("channel")?,
        self_report: bool_of(r.try_get("self_report")?),
        anonymous: bool_of(r.try_get("anonymous")?),
        location: r.try_get("location")?,
        created_at: crate::clock::from_ms(r.try_get("created_at")?).to_rfc3339(),
    })
}

/// Tables whose rows operators count.
#[derive(Clone, Copy, Debug)]
pub enum Table {
    Locations,
    Centres,
    Staff,
    Volunteers,
    Cases,
    CaseEvents,
    UssdSessions,
    SmsConversations,
    SmsInputs,
    Outbox,
    Rota,
    EscalationChain,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Locations => "locations",
            Table::Centres => "centres",
            Table::Staff => "staff",
            Table::Volunteers => "volunteers",
            Table::Cases => "cases",
            Table::CaseEvents => "case_events",
            Table::UssdSessions => "ussd_sessions",
            Table::SmsConversations => "sms_conversations",
            Table::SmsInputs => "sms_inputs",
            Table::Outbox => "outbox",
            Table::Rota => "rota",
            Table::EscalationChain => "escalation_chain",
        }
    }
}

impl Backend for Store {
    async fn places(&self, parent: Option<i64>) -> BackendResult<Vec<Place>> {
        Ok(self.children(parent).await?)
    }
    async fn place_by_code(&self, code: &str, level: usize) -> BackendResult<Option<Place>> {
        Ok(Store::place_by_code(self, code, level as i64).await?)
    }
    async fn recent_reports(
        &self,
        volunteer_id: i64,
        limit: u32,
    ) -> BackendResult<Vec<(CaseRef, String)>> {
        Ok(Store::recent_reports(self, volunteer_id, limit).await?)
    }
    async fn case_exists(&self, reference: &CaseRef) -> BackendResult<bool> {
        Ok(Store::case_exists(self, reference).await?)
    }
    async fn create_case(&self, case: NewCase) -> BackendResult<CaseRef> {
        Ok(Store::create_case(self, &case).await?)
    }
    async fn log_visit(&self, visit: NewVisit) -> BackendResult<()> {
        Ok(Store::log_visit(self, &visit).await?)
    }
    async fn save_locale(&self, volunteer_id: i64, locale: &Locale) -> BackendResult<()> {
        Ok(self.set_volunteer_locale(volunteer_id, locale).await?)
    }
}
