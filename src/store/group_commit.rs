//! Group commit for SQLite: one writer thread, which owns the only
//! connection that writes, takes every write queued while it was busy, runs
//! them in one transaction and answers each caller after the commit (and,
//! for a write that must reach the disk, after the flush that follows it),
//! so writes share commits and flushes.
//!
//! The writer talks to SQLite directly (rusqlite, over the same SQLite
//! library sqlx links), not through sqlx: sqlx runs each SQLite connection
//! on a thread of its own and hands it every statement, every row and every
//! result across threads. Each hand-over woke a thread on a machine whose
//! two cores were busy with HTTP, and a session's two writes waited on
//! several of them (see BENCHMARKS.md). Here a batch costs one hand-over in
//! and one answer out. Reads, migrations and imports stay on sqlx.
//!
//! A failing statement (a unique violation, say) undoes only itself in
//! SQLite and leaves the transaction open, so it fails alone and its
//! batch-mates are committed. If an error ends the transaction itself, or
//! the COMMIT fails, the batch is rolled back and each job runs alone, so
//! one job's error never reaches its batch-mates.
//!
//! The writer's connection commits with `synchronous = NORMAL`: in WAL mode
//! a commit is then in the log file (the kernel's page cache), which
//! survives a crash or kill of the process but not a power cut. A
//! [`Durability::Disk`] job is answered only once a [`Flush`] has put the
//! log on disk (`fdatasync` of the `-wal` file, what `synchronous = FULL`
//! does inside COMMIT). The flush runs on its own thread, so the writer
//! commits the next batch while the previous one's flush waits on the disk,
//! and one flush serves every batch committed before it began.
//!
//! The writer also takes SQLite's checkpoints (copying the log back into
//! the database file), at the same size SQLite would, but after it has
//! answered the batch that filled the log: SQLite's own automatic
//! checkpoint runs inside that batch's COMMIT, and its callers waited for
//! it (5 to 10 ms under load, see BENCHMARKS.md).

use std::{
    fs::File,
    io,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc as std_mpsc, Arc,
    },
    time::Duration,
};

use rusqlite::{types::ValueRef, Connection, OpenFlags};
use tokio::sync::oneshot;

use super::{
    write::{Arg, Outcome, Row, Value, Write},
    Result, StoreError,
};

/// Most writes one transaction takes.
const MAX_BATCH: usize = 256;

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
    queue: std_mpsc::Sender<Box<dyn Job>>,
    /// Read by the tests, which check how batches ran.
    #[cfg_attr(not(test), allow(dead_code))]
    counts: Arc<Counts>,
}

/// Batches of several jobs: committed together, or rolled back and run one
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

/// Opens the writer's connection to the database file `db` (already
/// migrated): WAL, `synchronous = NORMAL` (the flush thread puts what must
/// be on disk there), foreign keys, and a busy timeout for the rare other
/// writer (an import, another process).
fn open(db: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(64);
    // SAFETY: the handle is this open connection's; the hook keeps no
    // pointer (its argument is null) and only sets a thread-local.
    unsafe {
        rusqlite::ffi::sqlite3_wal_hook(conn.handle(), Some(wal_hook), std::ptr::null_mut());
    }
    Ok(conn)
}

/// Log frames past which the writer checkpoints, as SQLite's own automatic
/// checkpoint does (its default, `wal_autocheckpoint = 1000`).
const CHECKPOINT_FRAMES: i32 = 1000;

thread_local! {
    /// Frames in the log after the writer's last commit on this thread.
    static WAL_FRAMES: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
}

/// Called by SQLite after each commit on the writer's connection, in place
/// of its automatic checkpoint: notes the log's size, so that the writer
/// checkpoints after it has answered the batch, not inside its COMMIT.
extern "C" fn wal_hook(
    _arg: *mut std::ffi::c_void,
    _db: *mut rusqlite::ffi::sqlite3,
    _name: *const std::ffi::c_char,
    frames: std::ffi::c_int,
) -> std::ffi::c_int {
    WAL_FRAMES.set(frames);
    rusqlite::ffi::SQLITE_OK
}

impl GroupCommit {
    /// Opens the writer's connection to the SQLite file `db` and starts the
    /// writer thread on it and, with `flush`, the thread that puts
    /// [`Durability::Disk`] jobs on disk. Without `flush` a job is answered
    /// at its commit.
    pub fn start(db: &Path, flush: Option<Arc<dyn Flush>>) -> Result<Self> {
        let conn = open(db)?;
        let thread_error =
            |e: io::Error| StoreError::Invalid(format!("could not start a database thread: {e}"));
        let flushes = match flush {
            Some(flush) => {
                let (waiting, batches) = std_mpsc::channel();
                std::thread::Builder::new()
                    .name("kanda-flush".into())
                    .spawn(move || flusher(flush, batches))
                    .map_err(thread_error)?;
                Some(waiting)
            }
            None => None,
        };
        let (queue, jobs) = std_mpsc::channel();
        let counts = Arc::new(Counts::default());
        let c = counts.clone();
        std::thread::Builder::new()
            .name("kanda-writer".into())
            .spawn(move || writer(conn, jobs, flushes, c))
            .map_err(thread_error)?;
        Ok(GroupCommit { queue, counts })
    }

    /// How many batches of several jobs were committed together, and how
    /// many were rolled back and run one job at a time.
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

/// The writer thread: until every sender is gone, takes what is queued
/// (waiting for one job when none is), runs it as one batch and hands the
/// jobs that must reach the disk to the flush thread.
fn writer(
    conn: Connection,
    queue: std_mpsc::Receiver<Box<dyn Job>>,
    flushes: Option<Flushes>,
    counts: Arc<Counts>,
) {
    while let Ok(first) = queue.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let done = run_batch(&conn, jobs, &counts);
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
        if WAL_FRAMES.get() >= CHECKPOINT_FRAMES {
            WAL_FRAMES.set(0);
            // Readers in the log's last frames hold it back: the next
            // commit asks again. An error (the disk) is worth a warning:
            // the log grows until a checkpoint gets through.
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::warn!(error = %e, "SQLite checkpoint failed; the log grows meanwhile");
            }
        }
    }
}

/// Runs one statement, `$k` placeholders bound to `args[k - 1]`, and
/// collects what it returned and how many rows it changed.
fn execute(conn: &Connection, sql: &str, args: &[Arg]) -> rusqlite::Result<Outcome> {
    let mut statement = conn.prepare_cached(sql)?;
    for i in 1..=statement.parameter_count() {
        let arg = match statement
            .parameter_name(i)
            .and_then(|name| name.strip_prefix('$')?.parse::<usize>().ok())
            .and_then(|k| args.get(k.checked_sub(1)?))
        {
            Some(arg) => arg,
            None => {
                let name = statement.parameter_name(i).unwrap_or("?").to_string();
                return Err(rusqlite::Error::InvalidParameterName(name));
            }
        };
        match arg {
            Arg::Int(v) => statement.raw_bind_parameter(i, v)?,
            Arg::Text(v) => statement.raw_bind_parameter(i, v.as_deref())?,
        }
    }
    let names: Vec<String> = statement
        .column_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    let mut outcome = Outcome::default();
    let mut rows = statement.raw_query();
    while let Some(row) = rows.next()? {
        let mut columns = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let value = match row.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(v) => Value::Int(v),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                other => {
                    return Err(rusqlite::Error::InvalidColumnType(
                        i,
                        name.clone(),
                        other.data_type(),
                    ))
                }
            };
            columns.push((name.clone(), value));
        }
        outcome.rows.push(Row::new(columns));
    }
    drop(rows);
    outcome.rows_affected = conn.changes();
    Ok(outcome)
}

/// Runs a job's statement, or nothing for a job that only waits.
fn run_job(conn: &Connection, job: &dyn Job) -> Result<Outcome> {
    match job.sql() {
        Some(sql) => Ok(execute(conn, sql, job.args())?),
        None => Ok(Outcome::default()),
    }
}

/// Runs a batch in one transaction: a statement that fails undoes only
/// itself and fails alone. If the transaction cannot begin, is ended by an
/// error, or cannot commit, it is rolled back and each job runs alone.
/// Returns each job, decoded, with its durability; a job that failed is
/// answered at once.
fn run_batch(
    conn: &Connection,
    jobs: Vec<Box<dyn Job>>,
    counts: &Counts,
) -> Vec<(Durability, Box<dyn Done>)> {
    let mut done = Vec::with_capacity(jobs.len());
    if jobs.len() > 1 {
        match together(conn, &jobs) {
            Ok(outcomes) => {
                counts.together.fetch_add(1, Ordering::Relaxed);
                for (j, outcome) in jobs.into_iter().zip(outcomes) {
                    match outcome {
                        Ok(o) => done.push((j.durability(), j.decode(o))),
                        Err(e) => j.fail(e),
                    }
                }
                return done;
            }
            Err(e) => {
                tracing::debug!(error = %e, "a batch failed; running its jobs one by one");
                counts.apart.fetch_add(1, Ordering::Relaxed);
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
            }
        }
    }
    for j in jobs {
        match run_job(conn, &*j) {
            Ok(o) => done.push((j.durability(), j.decode(o))),
            Err(e) => j.fail(e),
        }
    }
    done
}

/// Each job's outcome, committed in one transaction; `Err` when the
/// transaction as a whole did not hold (then nothing of it is committed).
fn together(conn: &Connection, jobs: &[Box<dyn Job>]) -> Result<Vec<Result<Outcome>>> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let mut outcomes = Vec::with_capacity(jobs.len());
    for j in jobs {
        match run_job(conn, &**j) {
            // SQLite ended the transaction (a full disk, an I/O error).
            Err(e) if conn.is_autocommit() => return Err(e),
            outcome => outcomes.push(outcome),
        }
    }
    conn.execute_batch("COMMIT")?;
    Ok(outcomes)
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
    use sqlx::{any::AnyPoolOptions, AnyPool, Executor, Row as _};
    use std::{future::Future, sync::Mutex};
    use tokio::sync::mpsc;

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

    /// A database file with a table `t` (unique `n`) and `child`, whose
    /// reference to `t` is checked only at COMMIT; and a pool to read it.
    async fn database(dir: &tempfile::TempDir) -> (PathBuf, AnyPool) {
        sqlx::any::install_default_drivers();
        let db = dir.path().join("g.db");
        let url = format!("sqlite://{}?mode=rwc", db.display());
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .unwrap();
        pool.execute(
            "CREATE TABLE t (n INTEGER UNIQUE);
             CREATE TABLE child (n INTEGER REFERENCES t (n) DEFERRABLE INITIALLY DEFERRED);",
        )
        .await
        .unwrap();
        (db, pool)
    }

    fn queue<T: Send + 'static>(
        g: &GroupCommit,
        durability: Durability,
        write: Write<T>,
    ) -> impl Future<Output = Result<T>> + Send + 'static {
        let g = g.clone();
        async move { g.write(durability, write).await }
    }

    /// Inserts `n`; answers `n * 10` as the database computed it.
    fn insert(
        g: &GroupCommit,
        durability: Durability,
        n: i64,
    ) -> impl Future<Output = Result<i64>> + Send + 'static {
        let write = Write {
            sql: Some("INSERT INTO t (n) VALUES ($1) RETURNING n * 10 AS tenfold"),
            args: vec![n.into()],
            decode: Box::new(|o| match o.rows.first() {
                Some(r) => r.int_required("tenfold"),
                None => Ok(-1),
            }),
        };
        queue(g, durability, write)
    }

    /// Inserts a child of `n`, which must exist by the COMMIT.
    fn insert_child(g: &GroupCommit, n: i64) -> impl Future<Output = Result<u64>> + Send + 'static {
        let write = Write {
            sql: Some("INSERT INTO child (n) VALUES ($1)"),
            args: vec![n.into()],
            decode: Box::new(|o| Ok(o.rows_affected)),
        };
        queue(g, Durability::Disk, write)
    }

    /// Holds the writer thread until the returned sender is used (or
    /// dropped), so that what the test queues meanwhile is one batch.
    async fn hold(g: &GroupCommit) -> (std_mpsc::Sender<()>, tokio::task::JoinHandle<Result<()>>) {
        let (held_tx, mut held) = mpsc::unbounded_channel();
        let (release, released) = std_mpsc::channel::<()>();
        let write = Write {
            sql: None,
            args: vec![],
            decode: Box::new(move |_| {
                let _ = held_tx.send(());
                let _ = released.recv();
                Ok(())
            }),
        };
        let holding = tokio::spawn(queue(g, Durability::Process, write));
        held.recv().await.unwrap();
        (release, holding)
    }

    /// Lets the spawned writes queue, then releases the writer.
    async fn release(release: std_mpsc::Sender<()>, holding: tokio::task::JoinHandle<Result<()>>) {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        release.send(()).unwrap();
        holding.await.unwrap().unwrap();
    }

    async fn rows(pool: &AnyPool, table: &str) -> Vec<i64> {
        sqlx::query(&format!("SELECT n FROM {table} ORDER BY n"))
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get("n").unwrap())
            .collect()
    }

    #[tokio::test]
    async fn a_batch_commits_together_and_each_job_gets_its_own_rows() {
        let dir = tempfile::tempdir().unwrap();
        let (db, pool) = database(&dir).await;
        let g = GroupCommit::start(&db, None).unwrap();
        let (tx, holding) = hold(&g).await;
        let jobs = [
            tokio::spawn(insert(&g, Durability::Disk, 1)),
            tokio::spawn(insert(&g, Durability::Process, 2)),
            tokio::spawn(insert(&g, Durability::Disk, 3)),
        ];
        release(tx, holding).await;
        let mut answers = Vec::new();
        for j in jobs {
            answers.push(j.await.unwrap().unwrap());
        }
        assert_eq!(answers, [10, 20, 30]);
        assert_eq!(g.batches(), (1, 0));
        assert_eq!(rows(&pool, "t").await, [1, 2, 3]);
    }

    #[tokio::test]
    async fn placeholders_bind_by_number_in_any_order_and_a_missing_one_fails() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _pool) = database(&dir).await;
        let g = GroupCommit::start(&db, None).unwrap();
        let write = Write {
            sql: Some("SELECT $2 AS b, $1 AS a, $2 || $1 AS ba"),
            args: vec!["x".into(), "y".into()],
            decode: Box::new(|o| {
                let r = &o.rows[0];
                Ok([
                    r.text_required("b")?,
                    r.text_required("a")?,
                    r.text_required("ba")?,
                ])
            }),
        };
        let got = g.write(Durability::Process, write).await.unwrap();
        assert_eq!(got, ["y", "x", "yx"]);
        let missing = Write {
            sql: Some("SELECT $2 AS b"),
            args: vec!["x".into()],
            decode: Box::new(|_| Ok(())),
        };
        let e = g.write(Durability::Process, missing).await.unwrap_err();
        assert!(e.to_string().contains("$2"), "{e}");
    }

    #[tokio::test]
    async fn a_failing_statement_fails_alone_and_its_batch_mates_are_committed() {
        let dir = tempfile::tempdir().unwrap();
        let (db, pool) = database(&dir).await;
        let g = GroupCommit::start(&db, None).unwrap();
        insert(&g, Durability::Disk, 1).await.unwrap();
        let (tx, holding) = hold(&g).await;
        let a = tokio::spawn(insert(&g, Durability::Disk, 2));
        let dup = tokio::spawn(insert(&g, Durability::Disk, 1));
        let c = tokio::spawn(insert(&g, Durability::Process, 3));
        release(tx, holding).await;
        assert_eq!(a.await.unwrap().unwrap(), 20);
        assert_eq!(c.await.unwrap().unwrap(), 30);
        let e = dup.await.unwrap().unwrap_err();
        assert!(e.is_unique_violation(), "{e:?}");
        assert_eq!(g.batches(), (1, 0));
        assert_eq!(rows(&pool, "t").await, [1, 2, 3]);
    }

    #[tokio::test]
    async fn a_batch_whose_commit_fails_is_rolled_back_and_run_job_by_job() {
        let dir = tempfile::tempdir().unwrap();
        let (db, pool) = database(&dir).await;
        let g = GroupCommit::start(&db, None).unwrap();
        let (tx, holding) = hold(&g).await;
        let a = tokio::spawn(insert(&g, Durability::Disk, 1));
        // Its parent never exists: the deferred check fails the COMMIT.
        let orphan = tokio::spawn(insert_child(&g, 9));
        let child = tokio::spawn(insert_child(&g, 1));
        release(tx, holding).await;
        assert_eq!(a.await.unwrap().unwrap(), 10);
        assert_eq!(child.await.unwrap().unwrap(), 1);
        assert!(orphan.await.unwrap().is_err());
        assert_eq!(g.batches(), (0, 1));
        assert_eq!(rows(&pool, "t").await, [1]);
        assert_eq!(rows(&pool, "child").await, [1]);
    }

    #[tokio::test]
    async fn a_disk_write_is_answered_only_after_its_flush_and_others_go_on_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let (db, pool) = database(&dir).await;
        let (started_tx, mut started) = mpsc::unbounded_channel();
        let (outcome, outcome_rx) = std_mpsc::channel();
        let gate = Gate {
            started: started_tx,
            outcome: Mutex::new(outcome_rx),
        };
        let g = GroupCommit::start(&db, Some(Arc::new(gate))).unwrap();

        let case = tokio::spawn(insert(&g, Durability::Disk, 1));
        started.recv().await.unwrap();
        // The case is committed but its flush has not ended: no answer yet,
        // while a session snapshot is written and answered meanwhile.
        insert(&g, Durability::Process, 2).await.unwrap();
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(!case.is_finished(), "answered before its flush ended");
        assert_eq!(rows(&pool, "t").await, [1, 2]);
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
        let (db, pool) = database(&dir).await;
        let g = GroupCommit::start(&db, Some(Arc::new(WalFile { db: db.clone() }))).unwrap();
        let (a, b) = tokio::join!(
            insert(&g, Durability::Disk, 1),
            insert(&g, Durability::Process, 2),
        );
        a.unwrap();
        b.unwrap();
        assert_eq!(rows(&pool, "t").await, [1, 2]);
        assert!(dir.path().join("g.db-wal").exists());
        assert!(WalFile { db }.flush().is_ok());
        // No log beside the file (SQLite removes it when the last
        // connection closes): the file itself is synced.
        let alone = dir.path().join("alone.db");
        File::create(&alone).unwrap();
        assert!(WalFile { db: alone }.flush().is_ok());
        assert!(WalFile {
            db: dir.path().join("none.db")
        }
        .flush()
        .is_err());
    }

    #[tokio::test]
    async fn without_a_file_to_flush_a_disk_write_is_answered_at_its_commit() {
        let dir = tempfile::tempdir().unwrap();
        let (db, pool) = database(&dir).await;
        let g = GroupCommit::start(&db, None).unwrap();
        insert(&g, Durability::Disk, 1).await.unwrap();
        assert_eq!(rows(&pool, "t").await, [1]);
    }

    #[tokio::test]
    async fn the_writer_checkpoints_so_the_log_stops_growing() {
        let dir = tempfile::tempdir().unwrap();
        let (db, pool) = database(&dir).await;
        pool.execute("CREATE TABLE big (v TEXT)").await.unwrap();
        let g = GroupCommit::start(&db, None).unwrap();
        // Each commit adds at least one full page to the log: without a
        // checkpoint it would hold 3,000 frames and more.
        for _ in 0..3 * CHECKPOINT_FRAMES {
            let write = Write {
                sql: Some("INSERT INTO big (v) VALUES ($1)"),
                args: vec!["x".repeat(4096).into()],
                decode: Box::new(|_| Ok(())),
            };
            g.write(Durability::Process, write).await.unwrap();
        }
        let frame = 4096 + 24;
        let log = std::fs::metadata(dir.path().join("g.db-wal"))
            .unwrap()
            .len();
        assert!(
            log < 2 * CHECKPOINT_FRAMES as u64 * frame,
            "the log grew to {log} bytes"
        );
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM big")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(count, 3 * i64::from(CHECKPOINT_FRAMES));
    }

    #[test]
    fn a_database_that_cannot_be_opened_is_an_error_not_a_thread() {
        let dir = tempfile::tempdir().unwrap();
        assert!(GroupCommit::start(&dir.path().join("missing.db"), None).is_err());
    }
}
