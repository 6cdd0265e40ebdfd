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
//! A batch is committed with `synchronous = FULL` (fsync before anyone is
//! answered) when any of its jobs is [`Durability::Disk`], else with
//! `NORMAL`: in WAL mode that commit survives a crash of the process, and
//! the next FULL commit puts it on disk with everything before it.

use std::{future::Future, pin::Pin};

use sqlx::{AnyConnection, AnyPool, Executor};
use tokio::sync::{mpsc, oneshot};

use super::{Result, StoreError};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Most writes one transaction takes.
const MAX_BATCH: usize = 256;

/// How far a write must have gone before its caller is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// On disk (fsync): survives a power cut. Cases, visits, profiles.
    Disk,
    /// In the database file's log: survives a crash or kill of the server,
    /// may roll back on a power cut. For USSD session snapshots, which only
    /// matter while the telco keeps the session open (a minute), and a power
    /// cut ends every session anyway.
    Process,
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
    /// Starts the writer task on `pool` (a one-connection pool: the only
    /// writer, so SQLite never makes a writer sleep in its busy handler).
    pub fn start(pool: AnyPool) -> Self {
        let (queue, jobs) = mpsc::unbounded_channel();
        tokio::spawn(writer(pool, jobs));
        GroupCommit { queue }
    }

    /// Queues `op` and waits until it is committed (or failed).
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

async fn writer(pool: AnyPool, mut queue: mpsc::UnboundedReceiver<Box<dyn Job>>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // The connection starts with FULL (Store::open's after_connect).
    let mut synchronous = Durability::Disk;
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let jobs: Vec<Box<dyn Job>> = std::mem::take(&mut batch);
        let mut conn = match pool.acquire().await {
            Ok(c) => c,
            Err(e) => {
                jobs.into_iter().for_each(|j| j.fail(e.to_string()));
                continue;
            }
        };
        let wanted = match jobs.iter().any(|j| j.durability() == Durability::Disk) {
            true => Durability::Disk,
            false => Durability::Process,
        };
        if wanted != synchronous {
            let pragma = match wanted {
                Durability::Disk => "PRAGMA synchronous = FULL",
                Durability::Process => "PRAGMA synchronous = NORMAL",
            };
            if let Err(e) = conn.execute(pragma).await {
                jobs.into_iter().for_each(|j| j.fail(e.to_string()));
                // Unsure of the setting now: the connection goes, the next is FULL.
                drop(conn.detach());
                synchronous = Durability::Disk;
                continue;
            }
            synchronous = wanted;
        }
        if jobs.len() == 1 {
            // Alone: its statement commits itself.
            for job in jobs {
                job.run(&mut conn).await.finish(Ok(()));
            }
            continue;
        }
        if let Err(e) = conn.execute("BEGIN IMMEDIATE").await {
            jobs.into_iter().for_each(|j| j.fail(e.to_string()));
            continue;
        }
        let mut done = Vec::with_capacity(jobs.len());
        for job in jobs {
            done.push(job.run(&mut conn).await);
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
        for d in done {
            d.finish(commit.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::{any::AnyPoolOptions, Row};

    /// What `PRAGMA synchronous` says inside a job: 2 is FULL, 1 is NORMAL.
    async fn level(g: &GroupCommit, durability: Durability) -> i64 {
        g.write(durability, |conn| {
            Box::pin(async move {
                let row = sqlx::query("PRAGMA synchronous")
                    .fetch_one(&mut *conn)
                    .await?;
                Ok(row.try_get::<i64, _>(0)?)
            })
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn a_batch_is_fsynced_when_any_of_its_jobs_must_reach_the_disk() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/g.db?mode=rwc", dir.path().display());
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = FULL").await?;
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .unwrap();
        let g = GroupCommit::start(pool);
        assert_eq!(level(&g, Durability::Disk).await, 2);
        assert_eq!(level(&g, Durability::Process).await, 1);
        assert_eq!(level(&g, Durability::Process).await, 1);
        assert_eq!(level(&g, Durability::Disk).await, 2);
        // Queued together, they may share a batch: the case is still fsynced.
        let (snapshot, case) =
            tokio::join!(level(&g, Durability::Process), level(&g, Durability::Disk));
        assert_eq!(case, 2);
        assert!(snapshot == 1 || snapshot == 2);
    }
}
