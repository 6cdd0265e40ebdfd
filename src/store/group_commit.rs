//! Group commit for SQLite: one writer task takes every write queued while
//! the previous batch was committing, runs them in one transaction and
//! answers each caller after the commit (and, for a write that must reach
//! the disk, after the flush that follows it), so writes share commits and
//! flushes.
//!
//! A write is one statement (a [`Write`]: SQL, arguments, and how to read
//! its outcome). A batch goes to SQLite as one query, `BEGIN IMMEDIATE;`,
//! every job's statement, `COMMIT;`, in a single trip to sqlx's connection
//! thread: each trip costs a hand-over between threads, which under load
//! took about 100 microseconds, far more than the statement itself. If any
//! statement of the batch fails, the batch is rolled back and each job runs
//! alone, so one job's error never reaches its batch-mates. (A batch whose
//! results do not add up may have committed before its jobs run again;
//! every statement written here is idempotent, `ON CONFLICT DO NOTHING` or
//! an `UPDATE` to a value, so that costs nothing.)
//!
//! Several statements with bound arguments in one query is something only
//! SQLite allows, and sqlx deprecates it on its `query()` API (sqlx issue
//! #3108). It still works through `Executor::fetch_many` in the sqlx this
//! project locks; a test checks that a batch really runs as one query, so
//! an upgrade that drops it fails there, and the writer would still be
//! correct, one statement at a time.
//!
//! The writer's connection commits with `synchronous = NORMAL`: in WAL mode
//! a commit is then in the log file (the kernel's page cache), which
//! survives a crash or kill of the process but not a power cut. A
//! [`Durability::Disk`] job is answered only once a [`Flush`] has put the
//! log on disk (`fdatasync` of the `-wal` file, what `synchronous = FULL`
//! does inside COMMIT). The flush runs on its own thread, so the writer
//! commits the next batch while the previous one's flush waits on the disk,
//! and one flush serves every batch committed before it began.

use std::{
    fs::File,
    io,
    path::PathBuf,
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc as std_mpsc, Arc,
    },
};

use futures_util::TryStreamExt;
use sqlx::{
    any::{AnyArguments, AnyRow},
    pool::PoolConnection,
    query::Query,
    Any, AnyConnection, AnyPool, Either, Executor,
};
use tokio::sync::{mpsc, oneshot};

use super::{Result, StoreError};

/// Most writes the writer takes from its queue at once.
const MAX_BATCH: usize = 256;
/// Most writes one transaction takes, in one query. Each distinct batch
/// text stays prepared in sqlx's statement cache: with up to 64 a query the
/// server's peak memory rose by 12 MB under load, with 8 by 3.5 MB.
const MAX_TOGETHER: usize = 8;

/// A value for a statement's placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_string()))
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}

/// What a statement did.
#[derive(Default)]
pub struct Outcome {
    pub rows: Vec<AnyRow>,
    pub rows_affected: u64,
}

/// Reads a statement's outcome into the caller's answer.
pub type Decode<T> = Box<dyn FnOnce(Outcome) -> Result<T> + Send>;

/// One write: a single statement whose placeholders are `$1` to `$n` for its
/// `n` arguments (`sql: None` runs nothing and only waits for the
/// durability asked), and what to make of its outcome.
pub struct Write<T> {
    pub sql: Option<&'static str>,
    pub args: Vec<Arg>,
    pub decode: Decode<T>,
}

fn bind<'q>(
    mut query: Query<'q, Any, AnyArguments<'q>>,
    args: &'q [Arg],
) -> Query<'q, Any, AnyArguments<'q>> {
    for a in args {
        query = match a {
            Arg::Int(v) => query.bind(*v),
            Arg::Text(v) => query.bind(v.as_deref()),
        };
    }
    query
}

/// Runs one statement (or several, each ending with `;`, numbered across
/// the text) and returns each statement's outcome in order.
async fn run(conn: &mut AnyConnection, sql: &str, args: &[Arg]) -> Result<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    let mut current = Outcome::default();
    let mut results = conn.fetch_many(bind(sqlx::query(sql), args));
    while let Some(item) = results.try_next().await? {
        match item {
            Either::Left(done) => {
                current.rows_affected = done.rows_affected();
                outcomes.push(std::mem::take(&mut current));
            }
            Either::Right(row) => current.rows.push(row),
        }
    }
    Ok(outcomes)
}

/// Runs one write's statement on `conn` (autocommit) and reads its outcome.
pub async fn run_alone<T>(conn: &mut AnyConnection, write: Write<T>) -> Result<T> {
    let outcome = match write.sql {
        Some(sql) => run(conn, sql, &write.args).await?.pop().unwrap_or_default(),
        None => Outcome::default(),
    };
    (write.decode)(outcome)
}

/// `sql` with each placeholder `$k` renumbered `$(k + offset)`. (The SQL
/// written for the writer has no `$` but in placeholders.)
fn renumber(sql: &str, offset: usize, out: &mut String) {
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at + 1]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(k) => out.push_str(&(k + offset).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
}

/// How far a write must have gone before its caller is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// On disk (the log flushed): survives a power cut. Cases, visits,
    /// profiles.
    Disk,
    /// In the database file's log: survives a crash or kill of the server,
    /// may roll back on a power cut. For USSD session snapshots, which only
    /// matter while the telco keeps the session open (a minute), and a power
    /// cut ends every session anyway.
    Process,
}

/// Puts on disk everything the writer has committed so far.
pub trait Flush: Send + Sync + 'static {
    fn flush(&self) -> io::Result<()>;
}

/// The flush of a SQLite database in WAL mode: `fdatasync` of its log, as
/// `synchronous = FULL` would do at each COMMIT. The log is opened for each
/// flush rather than kept open: SQLite deletes it when its last connection
/// closes and starts a new one later, and a kept descriptor would then sync
/// a deleted file. Without a log (all of it checkpointed into the database
/// and removed), the database file is synced instead.
#[derive(Debug)]
pub struct WalFile {
    pub db: PathBuf,
}

impl Flush for WalFile {
    fn flush(&self) -> io::Result<()> {
        let mut wal = self.db.clone().into_os_string();
        wal.push("-wal");
        match File::open(&wal) {
            Ok(log) => log.sync_data(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => File::open(&self.db)?.sync_data(),
            Err(e) => Err(e),
        }
    }
}

trait Job: Send {
    fn durability(&self) -> Durability;
    fn sql(&self) -> Option<&'static str>;
    fn args(&self) -> &[Arg];
    /// Reads the outcome; the answer waits for the commit (and flush).
    fn decode(self: Box<Self>, outcome: Outcome) -> Box<dyn Done>;
    fn fail(self: Box<Self>, error: StoreError);
}

/// A job that has run and waits for its batch's commit.
trait Done: Send {
    fn finish(self: Box<Self>, commit: std::result::Result<(), String>);
}

struct Pending<T> {
    durability: Durability,
    write: Write<T>,
    reply: oneshot::Sender<Result<T>>,
}

struct Finished<T> {
    result: Result<T>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T: Send + 'static> Done for Finished<T> {
    fn finish(self: Box<Self>, commit: std::result::Result<(), String>) {
        let result = match commit {
            Ok(()) => self.result,
            Err(e) => Err(StoreError::Commit(e)),
        };
        let _ = self.reply.send(result);
    }
}

impl<T: Send + 'static> Job for Pending<T> {
    fn durability(&self) -> Durability {
        self.durability
    }

    fn sql(&self) -> Option<&'static str> {
        self.write.sql
    }

    fn args(&self) -> &[Arg] {
        &self.write.args
    }

    fn decode(self: Box<Self>, outcome: Outcome) -> Box<dyn Done> {
        let Pending { write, reply, .. } = *self;
        Box::new(Finished {
            result: (write.decode)(outcome),
            reply,
        })
    }

    fn fail(self: Box<Self>, error: StoreError) {
        let _ = self.reply.send(Err(error));
    }
}

#[derive(Clone, Debug)]
pub struct GroupCommit {
    queue: mpsc::UnboundedSender<Box<dyn Job>>,
    /// Read by the tests, which check that a batch really is one query.
    #[cfg_attr(not(test), allow(dead_code))]
    counts: Arc<Counts>,
}

/// Batches of several jobs: run as one query, or rolled back and run one
/// job at a time.
#[derive(Debug, Default)]
struct Counts {
    together: AtomicU64,
    apart: AtomicU64,
}

impl std::fmt::Debug for dyn Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

impl GroupCommit {
    /// Starts the writer task on `pool` (a one-connection pool committing
    /// with `synchronous = NORMAL`: the only writer, so SQLite never makes a
    /// writer sleep in its busy handler) and, with `flush`, the thread that
    /// puts [`Durability::Disk`] jobs on disk. Without `flush` (a database
    /// in memory, with no disk to reach) a job is answered at its commit.
    pub fn start(pool: AnyPool, flush: Option<Arc<dyn Flush>>) -> io::Result<Self> {
        let flushes = match flush {
            Some(flush) => {
                let (waiting, batches) = std_mpsc::channel();
                std::thread::Builder::new()
                    .name("kanda-flush".into())
                    .spawn(move || flusher(flush, batches))?;
                Some(waiting)
            }
            None => None,
        };
        let (queue, jobs) = mpsc::unbounded_channel();
        let counts = Arc::new(Counts::default());
        tokio::spawn(writer(pool, jobs, flushes, counts.clone()));
        Ok(GroupCommit { queue, counts })
    }

    /// How many batches of several jobs ran as one query, and how many were
    /// rolled back and run one job at a time.
    #[cfg(test)]
    fn batches(&self) -> (u64, u64) {
        (
            self.counts.together.load(Ordering::Relaxed),
            self.counts.apart.load(Ordering::Relaxed),
        )
    }

    /// Queues `write` and waits until it is committed (or failed), and for a
    /// [`Durability::Disk`] job until it is on disk.
    pub async fn write<T: Send + 'static>(
        &self,
        durability: Durability,
        write: Write<T>,
    ) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Commit("the database writer has stopped".into());
        self.queue
            .send(Box::new(Pending {
                durability,
                write,
                reply,
            }))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Committed jobs that wait for their flush.
type Flushes = std_mpsc::Sender<Vec<Box<dyn Done>>>;

async fn writer(
    pool: AnyPool,
    mut queue: mpsc::UnboundedReceiver<Box<dyn Job>>,
    flushes: Option<Flushes>,
    counts: Arc<Counts>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // The connection is kept while writes keep coming and given back to the
    // pool when none waits (imports share it): sqlx returns a connection
    // through a task on the runtime, and taking it again waited for that
    // task behind every HTTP connection's, a sixth of the writer's time.
    let mut held: Option<PoolConnection<Any>> = None;
    loop {
        if queue.is_empty() {
            held = None;
        }
        if queue.recv_many(&mut batch, MAX_BATCH).await == 0 {
            break;
        }
        let mut jobs: Vec<Box<dyn Job>> = std::mem::take(&mut batch);
        let mut conn = match held.take() {
            Some(c) => c,
            None => match pool.acquire().await {
                Ok(c) => c,
                Err(e) => {
                    let e = e.to_string();
                    jobs.into_iter()
                        .for_each(|j| j.fail(StoreError::Commit(e.clone())));
                    continue;
                }
            },
        };
        // Jobs of one kind together: batch texts then repeat, and sqlx's
        // statement cache keeps their prepared form. Callers that wait at
        // the same time have no order among them.
        jobs.sort_by_key(|j| j.sql().map(|s| s.as_ptr() as usize));
        let mut done = Vec::with_capacity(jobs.len());
        while !jobs.is_empty() {
            let rest = jobs.split_off(jobs.len().min(MAX_TOGETHER));
            done.extend(run_batch(&mut conn, jobs, &counts).await);
            jobs = rest;
        }
        held = Some(conn);
        let mut to_flush = Vec::new();
        for (durability, d) in done {
            match (durability, &flushes) {
                (Durability::Disk, Some(_)) => to_flush.push(d),
                _ => d.finish(Ok(())),
            }
        }
        if let (false, Some(flushes)) = (to_flush.is_empty(), &flushes) {
            if let Err(std_mpsc::SendError(jobs)) = flushes.send(to_flush) {
                for d in jobs {
                    d.finish(Err("the database flush thread has stopped".into()));
                }
            }
        }
    }
}

/// Runs a batch in one transaction, in one query; on any error, rolls it
/// back and runs each job alone. Returns each job, decoded, with its
/// durability; a job that failed alone is answered at once.
async fn run_batch(
    conn: &mut AnyConnection,
    jobs: Vec<Box<dyn Job>>,
    counts: &Counts,
) -> Vec<(Durability, Box<dyn Done>)> {
    let mut done = Vec::with_capacity(jobs.len());
    if jobs.len() > 1 {
        let mut sql = String::from("BEGIN IMMEDIATE;\n");
        let mut args = Vec::new();
        for j in &jobs {
            if let Some(statement) = j.sql() {
                renumber(statement, args.len(), &mut sql);
                sql.push_str(";\n");
                args.extend_from_slice(j.args());
            }
        }
        sql.push_str("COMMIT;");
        let statements = jobs.iter().filter(|j| j.sql().is_some()).count();
        match run(conn, &sql, &args).await {
            Ok(outcomes) if outcomes.len() == statements + 2 => {
                counts.together.fetch_add(1, Ordering::Relaxed);
                let mut outcomes = outcomes.into_iter().skip(1);
                for j in jobs {
                    let outcome = match j.sql() {
                        Some(_) => outcomes.next().unwrap_or_default(),
                        None => Outcome::default(),
                    };
                    done.push((j.durability(), j.decode(outcome)));
                }
                return done;
            }
            Ok(outcomes) => tracing::error!(
                statements,
                results = outcomes.len(),
                "a batch gave an unexpected number of results; running its jobs one by one"
            ),
            Err(e) => tracing::debug!(error = %e, "a batch failed; running its jobs one by one"),
        }
        // A statement failed, or the COMMIT: nothing of the batch stays.
        counts.apart.fetch_add(1, Ordering::Relaxed);
        let _ = conn.execute("ROLLBACK").await;
    }
    for j in jobs {
        let durability = j.durability();
        let outcome = match j.sql() {
            Some(sql) => run(conn, sql, j.args()).await,
            None => Ok(vec![Outcome::default()]),
        };
        match outcome {
            Ok(mut o) => done.push((durability, j.decode(o.pop().unwrap_or_default()))),
            Err(e) => j.fail(e),
        }
    }
    done
}

/// Flushes for every batch committed before the flush began: the batches
/// that queued while the previous flush ran share the next one.
fn flusher(flush: Arc<dyn Flush>, batches: std_mpsc::Receiver<Vec<Box<dyn Done>>>) {
    while let Ok(mut waiting) = batches.recv() {
        while let Ok(more) = batches.try_recv() {
            waiting.extend(more);
        }
        let flushed = flush.flush().map_err(|e| {
            tracing::error!(error = %e, jobs = waiting.len(), "could not put committed writes on disk");
            format!("committed but not flushed to disk: {e}")
        });
        for d in waiting {
            d.finish(flushed.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::{any::AnyPoolOptions, Row};
    use std::{future::Future, sync::Mutex};

    /// A flush that tells the test it started and waits for the test to say
    /// how it ends.
    struct Gate {
        started: mpsc::UnboundedSender<()>,
        outcome: Mutex<std_mpsc::Receiver<io::Result<()>>>,
    }

    impl Flush for Gate {
        fn flush(&self) -> io::Result<()> {
            let _ = self.started.send(());
            self.outcome.lock().unwrap().recv().unwrap()
        }
    }

    async fn writer_pool(dir: &tempfile::TempDir) -> AnyPool {
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}/g.db?mode=rwc", dir.path().display());
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER UNIQUE)")
            .execute(&pool)
            .await
            .unwrap();
        pool
    }

    /// Inserts `n`; answers `n * 10` as the database computed it.
    fn insert(
        g: &GroupCommit,
        durability: Durability,
        n: i64,
    ) -> impl Future<Output = Result<i64>> + Send + 'static {
        let g = g.clone();
        async move {
            let write = Write {
                sql: Some("INSERT INTO t (n) VALUES ($1) RETURNING n * 10 AS tenfold"),
                args: vec![n.into()],
                decode: Box::new(|o| {
                    Ok(o.rows
                        .first()
                        .map(|r| r.try_get("tenfold"))
                        .transpose()?
                        .unwrap_or(-1))
                }),
            };
            g.write(durability, write).await
        }
    }

    async fn rows(pool: &AnyPool) -> Vec<i64> {
        sqlx::query("SELECT n FROM t ORDER BY n")
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get("n").unwrap())
            .collect()
    }

    #[test]
    fn placeholders_are_renumbered_past_earlier_statements() {
        let mut out = String::new();
        renumber("VALUES ($1, $2, $10, $2, 'x')", 3, &mut out);
        assert_eq!(out, "VALUES ($4, $5, $13, $5, 'x')");
        out.clear();
        renumber("no placeholder $ here", 3, &mut out);
        assert_eq!(out, "no placeholder $ here");
    }

    #[tokio::test]
    async fn a_batch_runs_as_one_query_and_each_job_gets_its_own_rows() {
        let dir = tempfile::tempdir().unwrap();
        let pool = writer_pool(&dir).await;
        let g = GroupCommit::start(pool.clone(), None).unwrap();
        // Queued before the writer runs (one thread): one batch.
        let (a, b, c) = tokio::join!(
            insert(&g, Durability::Disk, 1),
            insert(&g, Durability::Process, 2),
            insert(&g, Durability::Disk, 3)
        );
        assert_eq!((a.unwrap(), b.unwrap(), c.unwrap()), (10, 20, 30));
        assert_eq!(g.batches(), (1, 0));
        assert_eq!(rows(&pool).await, [1, 2, 3]);
    }

    #[tokio::test]
    async fn a_failing_job_fails_alone_and_its_batch_mates_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let pool = writer_pool(&dir).await;
        let g = GroupCommit::start(pool.clone(), None).unwrap();
        insert(&g, Durability::Disk, 1).await.unwrap();
        let (a, dup, c) = tokio::join!(
            insert(&g, Durability::Disk, 2),
            insert(&g, Durability::Disk, 1),
            insert(&g, Durability::Process, 3)
        );
        assert_eq!((a.unwrap(), c.unwrap()), (20, 30));
        match dup {
            Err(StoreError::Sqlx(sqlx::Error::Database(e))) => assert!(e.is_unique_violation()),
            other => panic!("expected a unique violation, got {other:?}"),
        }
        assert_eq!(g.batches(), (0, 1));
        assert_eq!(rows(&pool).await, [1, 2, 3]);
    }

    #[tokio::test]
    async fn a_disk_write_is_answered_only_after_its_flush_and_others_go_on_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let pool = writer_pool(&dir).await;
        let (started_tx, mut started) = mpsc::unbounded_channel();
        let (outcome, outcome_rx) = std_mpsc::channel();
        let gate = Gate {
            started: started_tx,
            outcome: Mutex::new(outcome_rx),
        };
        let g = GroupCommit::start(pool.clone(), Some(Arc::new(gate))).unwrap();

        let case = tokio::spawn(insert(&g, Durability::Disk, 1));
        started.recv().await.unwrap();
        // The case is committed but its flush has not ended: no answer yet,
        // while a session snapshot is written and answered meanwhile.
        insert(&g, Durability::Process, 2).await.unwrap();
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(!case.is_finished(), "answered before its flush ended");
        assert_eq!(rows(&pool).await, [1, 2]);
        outcome.send(Ok(())).unwrap();
        assert_eq!(case.await.unwrap().unwrap(), 10);

        // A flush that fails fails the writes that waited for it.
        let case = tokio::spawn(insert(&g, Durability::Disk, 3));
        started.recv().await.unwrap();
        outcome.send(Err(io::Error::other("disk gone"))).unwrap();
        let e = case.await.unwrap().unwrap_err();
        assert!(e.to_string().contains("disk gone"), "{e}");
    }

    #[tokio::test]
    async fn the_wal_flush_syncs_the_log_or_the_database_and_reports_a_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let pool = writer_pool(&dir).await;
        let db = dir.path().join("g.db");
        let g =
            GroupCommit::start(pool.clone(), Some(Arc::new(WalFile { db: db.clone() }))).unwrap();
        let (a, b, c) = tokio::join!(
            insert(&g, Durability::Disk, 1),
            insert(&g, Durability::Process, 2),
            insert(&g, Durability::Disk, 3)
        );
        a.unwrap();
        b.unwrap();
        c.unwrap();
        assert_eq!(rows(&pool).await, [1, 2, 3]);
        assert!(WalFile { db: db.clone() }.flush().is_ok());
        pool.close().await;
        // The last connection closed: SQLite checkpointed and removed the log.
        assert!(!dir.path().join("g.db-wal").exists());
        assert!(WalFile { db }.flush().is_ok());
        assert!(WalFile {
            db: dir.path().join("none.db")
        }
        .flush()
        .is_err());
    }

    #[tokio::test]
    async fn without_a_file_to_flush_a_disk_write_is_answered_at_its_commit() {
        let dir = tempfile::tempdir().unwrap();
        let pool = writer_pool(&dir).await;
        let g = GroupCommit::start(pool.clone(), None).unwrap();
        insert(&g, Durability::Disk, 1).await.unwrap();
        assert_eq!(rows(&pool).await, [1]);
    }
}
