//! Storage: SQL only, one text per query for SQLite and PostgreSQL. Both
//! accept `$1` placeholders, `ON CONFLICT` and `RETURNING`, so every query
//! is written once; what must differ (connection set-up, the import's
//! lock, PostgreSQL's row lock on a claim) is `dialect.rs`, and the schema
//! key types `migrations/<dialect>/` (a test holds the two schemas equal).
//! Reads, migrations and imports go through sqlx's `Any` driver; the
//! service's writes (`write.rs`) run on SQLite on the group commit's writer
//! thread (rusqlite, over the same SQLite library) and on PostgreSQL
//! through sqlx.
//!
//! The store knows tables and constraints, not rules: what a timer kind
//! means, who may receive an SMS beyond the one `WHERE` that refuses it,
//! or which provider said what, belong to the layers above. It imports
//! only `domain`.

use std::sync::Arc;

use sqlx::AnyPool;

mod access;
mod admin;
mod audit;
mod backup;
mod case_timers;
mod case_views;
mod case_work;
mod cases;
mod conditions;
mod dialect;
mod gauges;
mod group_commit;
mod import;
mod indicators;
mod outbox;
mod people;
mod places;
mod primero;
mod retention;
mod rota;
mod rotation;
mod sealed;
mod sessions;
mod sms;
mod timeline;
mod timers;
mod write;

pub use access::{Account, SessionOf, TokenRow};
pub use admin::{StaffListing, VolunteerListing};
pub use audit::{AuditEntry, AuditFilter, NewAudit};
pub use backup::held_rows_at;
pub use case_timers::UNDONE_KINDS;
pub use case_views::{CaseDetail, CaseFilter, CaseItem, CasePage, ReporterKind};
pub use case_work::{Referral, Transfer};
pub use cases::{CaseRow, CaseSummary, Follower};
pub use dialect::Dialect;
pub use gauges::{OutboxGauges, PoolUse, TimerGauges};
pub use group_commit::Durability;
pub use import::{CentreRow, LocationRow, StaffRow, VolunteerRow};
pub use indicators::{
    AreaRows, CohortGroup, Counts, EventCount, Span, Timeliness, DAY_MS, HOUR_MS,
};
pub use outbox::{Attempt, ClaimedSms, OutboxRow};
pub use people::{Contact, StaffMember};
pub use primero::{PrimeroCase, PrimeroState, PushRecord};
pub use rota::{ChainRow, RotaEntry, RotaRow};
pub use rotation::{sealed_columns, Cursor, Resealed};
pub use sealed::{KeyError, Keyring};
pub use sessions::SessionRow;
pub use sms::{ConversationRow, Sender};
pub use timeline::{CaseEvent, NewEvent};
pub use timers::{NewTimer, Settlement, TimerRow, TimerState, FIRED_BATCH};
use write::{run_alone, Write};

use crate::domain::SharedClock;

/// How writes reach the database (see [`Store::write`]).
#[derive(Clone, Debug)]
enum Writes {
    Grouped(group_commit::GroupCommit),
    Direct(AnyPool),
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
    #[error("{0}")]
    Sealed(#[from] KeyError),
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
    /// Seals and opens child-identifying values (see `sealed.rs`).
    keys: Arc<Keyring>,
    /// Woken by [`Store::schedule`]: a scheduler on this store (or a clone)
    /// looks at once rather than at its next poll.
    timers_wake: Arc<tokio::sync::Notify>,
}

impl Store {
    /// Connects, creating a SQLite file if needed, and migrates; `keys`
    /// seal what identifies a child.
    pub async fn connect(url: &str, clock: SharedClock, keys: Arc<Keyring>) -> Result<Self> {
        let opened = dialect::open(url).await?;
        Ok(Store {
            pool: opened.pool,
            writer: opened.writer,
            writes: opened.writes,
            dialect: opened.dialect,
            clock,
            keys,
            timers_wake: Arc::default(),
        })
    }

    /// Runs one write (one statement, the same SQL on both databases): on
    /// SQLite through the group commit, as durable as `durability` asks; on
    /// PostgreSQL on a pooled connection: a `Disk` write in autocommit,
    /// flushed to disk (PostgreSQL shares WAL flushes between concurrent
    /// commits itself), a `Process` write (a USSD hop's inputs, a lease)
    /// in a transaction that does not wait for the flush (a flush per hop
    /// held PostgreSQL to 900 hops/s here). What a write reads back after
    /// it (a case's reference when a retry found it made) is read after
    /// the commit, on the read pool.
    async fn write<T: Send + 'static>(&self, durability: Durability, write: Write<T>) -> Result<T> {
        match &self.writes {
            Writes::Grouped(g) => g.write(durability, write).await,
            Writes::Direct(pool) => {
                let relaxed = match durability {
                    Durability::Process => self.dialect.relaxed_commit(),
                    Durability::Disk => None,
                };
                let Some(relaxed) = relaxed else {
                    let mut conn = pool.acquire().await?;
                    return run_alone(&mut conn, write).await;
                };
                use sqlx::{Acquire, Executor};
                let mut conn = pool.acquire().await?;
                let mut tx = conn.begin().await?;
                tx.execute(relaxed).await?;
                let out = run_alone(&mut tx, write).await?;
                tx.commit().await?;
                Ok(out)
            }
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub fn keys(&self) -> &Keyring {
        &self.keys
    }

    /// `clear` sealed for `column`.
    fn seal(&self, column: sealed::Column, clear: &str) -> String {
        self.keys.seal(&column.label(), clear)
    }

    fn seal_opt(&self, column: sealed::Column, clear: Option<&str>) -> Option<String> {
        self.keys.seal_opt(&column.label(), clear)
    }

    /// A stored value of `column` opened.
    fn open(&self, column: sealed::Column, stored: &str) -> Result<String> {
        Ok(self.keys.open(&column.label(), stored)?)
    }

    fn open_opt(&self, column: sealed::Column, stored: Option<&str>) -> Result<Option<String>> {
        Ok(self.keys.open_opt(&column.label(), stored)?)
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn count(&self, table: Table) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) AS n FROM {}", table.name());
        Ok(sqlx::Row::try_get(
            &sqlx::query(&sql).fetch_one(&self.pool).await?,
            "n",
        )?)
    }
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
