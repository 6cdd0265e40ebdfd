//! Group commit for SQLite: one writer task takes every write queued while
//! the previous batch was committing, runs them in one transaction and
//! answers each caller after the commit, so a batch shares one fsync.
//!
//! Each queued operation has at most one statement that writes. SQLite
//! undoes a failing statement alone (a constraint error aborts that
//! statement, not the transaction), so one job's error never touches its
//! batch-mates' rows; an error that ends the transaction fails the COMMIT,
//! and then every job of the batch gets the error.
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
    future::Future,
    io,
    path::PathBuf,
    pin::Pin,
    sync::{mpsc as std_mpsc, Arc},
};

use sqlx::{pool::PoolConnection, Any, AnyConnection, AnyPool, Executor};
use tokio::sync::{mpsc, oneshot};

use super::{Result, StoreError};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

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
    fn run<'c>(self: Box<Self>, conn: &'c mut AnyConnection) -> BoxFuture<'c, Box<dyn Done>>;
    fn fail(self: Box<Self>, error: String);
}

/// A job that has run and waits for its batch's commit.
trait Done: Send {
    fn finish(self: Box<Self>, commit: std::result::Result<(), String>);
}

struct Pending<T, F> {
    durability: Durability,
    op: F,
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

impl<T, F> Job for Pending<T, F>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
{
    fn durability(&self) -> Durability {
        self.durability
    }

    fn run<'c>(self: Box<Self>, conn: &'c mut AnyConnection) -> BoxFuture<'c, Box<dyn Done>> {
        let Pending { op, reply, .. } = *self;
        Box::pin(async move {
            let result = op(conn).await;
            Box::new(Finished { result, reply }) as Box<dyn Done>
        })
    }

    fn fail(self: Box<Self>, error: String) {
        let _ = self.reply.send(Err(StoreError::Commit(error)));
    }
}

#[derive(Clone, Debug)]
pub struct GroupCommit {
    queue: mpsc::UnboundedSender<Box<dyn Job>>,
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
        tokio::spawn(writer(pool, jobs, flushes));
        Ok(GroupCommit { queue })
    }

    /// Queues `op` and waits until it is committed (or failed), and for a
    /// [`Durability::Disk`] job until it is on disk.
    pub async fn write<T, F>(&self, durability: Durability, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Commit("the database writer has stopped".into());
        self.queue
            .send(Box::new(Pending {
                durability,
                op,
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
        let jobs: Vec<Box<dyn Job>> = std::mem::take(&mut batch);
        let mut conn = match held.take() {
            Some(c) => c,
            None => match pool.acquire().await {
                Ok(c) => c,
                Err(e) => {
                    jobs.into_iter().for_each(|j| j.fail(e.to_string()));
                    continue;
                }
            },
        };
        let mut done = Vec::with_capacity(jobs.len());
        let commit = if jobs.len() == 1 {
            // Alone: its statement commits itself.
            for job in jobs {
                let durability = job.durability();
                done.push((durability, job.run(&mut conn).await));
            }
            Ok(())
        } else {
            if let Err(e) = conn.execute("BEGIN IMMEDIATE").await {
                jobs.into_iter().for_each(|j| j.fail(e.to_string()));
                continue;
            }
            for job in jobs {
                let durability = job.durability();
                done.push((durability, job.run(&mut conn).await));
            }
            let commit = conn
                .execute("COMMIT")
                .await
                .map(|_| ())
                .map_err(|e| e.to_string());
            if let Err(e) = &commit {
                tracing::error!(error = %e, jobs = done.len(), "group commit failed");
                let _ = conn.execute("ROLLBACK").await;
            }
            commit
        };
        held = Some(conn);
        let mut to_flush = Vec::new();
        for (durability, d) in done {
            match (&commit, durability, &flushes) {
                (Ok(()), Durability::Disk, Some(_)) => to_flush.push(d),
                _ => d.finish(commit.clone()),
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
    use std::sync::Mutex;

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
        sqlx::query("CREATE TABLE t (n INTEGER)")
            .execute(&pool)
            .await
            .unwrap();
        pool
    }

    fn insert(g: &GroupCommit, durability: Durability, n: i64) -> impl Future<Output = Result<()>> {
        let g = g.clone();
        async move {
            g.write(durability, move |conn| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO t (n) VALUES ($1)")
                        .bind(n)
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            })
            .await
        }
    }

    async fn rows(pool: &AnyPool) -> i64 {
        sqlx::query("SELECT COUNT(*) AS c FROM t")
            .fetch_one(pool)
            .await
            .unwrap()
            .try_get("c")
            .unwrap()
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
        assert_eq!(rows(&pool).await, 2);
        outcome.send(Ok(())).unwrap();
        case.await.unwrap().unwrap();

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
        assert_eq!(rows(&pool).await, 3);
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
        assert_eq!(rows(&pool).await, 1);
    }
}
