//! The threads PostgreSQL's use cases run on, the most recently idle first.
//!
//! A use case blocks its thread on each answer from the database, so it
//! needs a thread of its own for as long as it runs. tokio's blocking pool
//! would do, but it wakes its idle threads in turn and starts another
//! whenever none is idle at that instant: under load every one of dozens of
//! threads takes requests, and each keeps a heap of what it allocated
//! (under the abuse test it grew to 38 threads and peaked at up to 155 MB;
//! 11 threads and 97–113 MB here). Here the thread that finished last takes
//! the next use case, so the threads in use, and their memory, follow how
//! many use cases run at once, and a thread is started only when every one
//! is busy. The engine's permits bound them by the pool's size.

use std::sync::{Arc, Mutex, PoisonError, Weak, mpsc};

use tokio::sync::OwnedSemaphorePermit;

use crate::error::{Error, Result};

/// A use case handed to a thread, with the permit it holds until that
/// thread is idle again.
struct Job {
    work: Box<dyn FnOnce() + Send>,
    permit: OwnedSemaphorePermit,
}

/// The idle threads, each waiting on the channel whose sender is here; the
/// last one pushed is the next to work. Dropping it lets every idle thread
/// end.
#[derive(Default)]
pub(super) struct Threads {
    idle: Mutex<Vec<mpsc::Sender<Job>>>,
}

impl Threads {
    /// Runs `f` on an idle thread, or a new one, and answers what it returns.
    pub(super) async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        permit: OwnedSemaphorePermit,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let mut job = Job {
            work: Box::new(move || {
                let _ = answer.send(f());
            }),
            permit,
        };
        loop {
            let idle = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let Some(thread) = idle else {
                self.start(job)?;
                break;
            };
            // A thread leaves only with the pool, or by a panic before it is
            // idle again, so its sender is live; were it not, the next is
            // tried.
            match thread.send(job) {
                Ok(()) => break,
                Err(mpsc::SendError(back)) => job = back,
            }
        }
        answered
            .await
            .map_err(|_| Error::Internal("a database task failed".into()))
    }

    fn start(self: &Arc<Self>, first: Job) -> Result<()> {
        let threads = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("aco-postgres".into())
            .spawn(move || work(&threads, first))
            .map(drop)
            .map_err(|e| Error::Internal(format!("no thread for the database: {e}")))
    }
}

/// A thread's life: a job, then idle (on top of the stack) until the next
/// one, until the pool is gone.
fn work(threads: &Weak<Threads>, first: Job) {
    let mut job = first;
    loop {
        let Job { work, permit } = job;
        work();
        let Some(pool) = threads.upgrade() else {
            return;
        };
        let (next, waiting) = mpsc::channel();
        pool.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(next);
        drop(pool);
        // Idle before the permit goes: the use case it admits finds this
        // thread rather than starting another.
        drop(permit);
        match waiting.recv() {
            Ok(another) => job = another,
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::Semaphore;

    /// As the engine does: a permit freed once its thread is idle again.
    async fn permit(permits: &Arc<Semaphore>) -> OwnedSemaphorePermit {
        permits.clone().acquire_owned().await.unwrap()
    }

    #[tokio::test]
    async fn use_cases_one_after_another_share_one_thread() {
        let threads = Arc::new(Threads::default());
        let permits = Arc::new(Semaphore::new(1));
        let mut seen = std::collections::HashSet::new();
        for n in 0..50 {
            let (id, doubled) = threads
                .run(permit(&permits).await, move || {
                    (std::thread::current().id(), n * 2)
                })
                .await
                .unwrap();
            assert_eq!(doubled, n * 2);
            seen.insert(id);
        }
        assert_eq!(seen.len(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn threads_follow_the_use_cases_running_at_once() {
        let threads = Arc::new(Threads::default());
        let permits = Arc::new(Semaphore::new(3));
        let mut seen = std::collections::HashSet::new();
        for _ in 0..20 {
            let runs = (0..3).map(|_| {
                let (threads, permits) = (threads.clone(), permits.clone());
                async move {
                    threads
                        .run(permit(&permits).await, || {
                            std::thread::sleep(std::time::Duration::from_millis(2));
                            std::thread::current().id()
                        })
                        .await
                        .unwrap()
                }
            });
            seen.extend(futures_util::future::join_all(runs).await);
        }
        assert_eq!(seen.len(), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_thread_idle_last_takes_the_next_use_case() {
        let threads = Arc::new(Threads::default());
        let permits = Arc::new(Semaphore::new(2));
        let run_for = |millis| {
            let (threads, permits) = (threads.clone(), permits.clone());
            async move {
                threads
                    .run(permit(&permits).await, move || {
                        std::thread::sleep(std::time::Duration::from_millis(millis));
                        std::thread::current().id()
                    })
                    .await
                    .unwrap()
            }
        };
        let (first, last) = tokio::join!(run_for(5), run_for(200));
        assert_ne!(first, last);
        // Both idle again (a permit comes back once its thread is idle).
        while permits.available_permits() < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        assert_eq!(run_for(0).await, last);
    }

    #[tokio::test]
    async fn a_use_case_that_panics_is_an_error_and_the_next_runs() {
        let threads = Arc::new(Threads::default());
        let permits = Arc::new(Semaphore::new(1));
        let failed = threads
            .run(permit(&permits).await, || -> u32 { panic!("a bug") })
            .await;
        assert!(matches!(failed, Err(Error::Internal(_))), "{failed:?}");
        // Its permit went with the thread.
        assert_eq!(threads.run(permit(&permits).await, || 7).await.unwrap(), 7);
    }
}
