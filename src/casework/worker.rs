//! A background worker's handle (the SMS outbox's, the Primero push's): a
//! task that stops claiming work when told and finishes what it holds, or
//! is aborted wherever it is when the handle is dropped, as a crash would
//! (what it had claimed waits for its lease).

use std::{future::Future, time::Duration};

use tokio::sync::watch;

/// A running worker.
#[derive(Debug)]
pub struct Worker {
    name: &'static str,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Worker {
    /// Runs `work` in a task of its own; `work` watches its receiver and
    /// returns once it says `true` (or its sender is gone).
    pub fn spawn<F, Fut>(name: &'static str, work: F) -> Worker
    where
        F: FnOnce(watch::Receiver<bool>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (stop, stopping) = watch::channel(false);
        Worker {
            name,
            stop,
            task: Some(tokio::spawn(work(stopping))),
        }
    }

    /// Stops claiming and waits for the work in flight to finish and be
    /// recorded, at most `grace`; then aborts what is left.
    pub async fn shutdown(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(grace, &mut task).await.is_err() {
                tracing::warn!(
                    "{} worker still busy after {grace:?}: aborted; what it held is taken up again after its lease",
                    self.name
                );
                task.abort();
            }
        }
    }

    /// Stops the worker at once, work in flight included.
    pub fn abort(&self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.abort();
    }
}
