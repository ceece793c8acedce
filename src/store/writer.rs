//! The single writer: one thread owns the write connection and commits the
//! writes that are waiting together, in one transaction and one sync to disk
//! (group commit).
//!
//! Each write runs inside its own savepoint, so a refusal or a failure rolls
//! back that write only; the others of its batch still commit. A caller is
//! answered only after the batch's `COMMIT` has returned, that is after
//! `synchronous = FULL` has put it on disk: an acknowledged write is never
//! lost. If the commit fails, every write of the batch fails with it and
//! none is acknowledged.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Instant;

use rusqlite::{Connection, TransactionBehavior};

use tokio::sync::oneshot;

use super::Tx;
use crate::error::{Error, Result};

/// At most this many writes share one transaction.
const MAX_BATCH: usize = 64;

/// One caller's write, as the writer thread sees it.
trait Work: Send {
    /// Runs the write inside the batch's transaction; `true` keeps its changes.
    fn run(&mut self, tx: &Tx<'_>) -> bool;
    /// Answers the caller once the batch committed (`Ok`) or failed.
    fn answer(self: Box<Self>, committed: std::result::Result<(), &str>);
}

struct Pending<T, F> {
    work: Option<F>,
    outcome: Option<Result<T>>,
    deadline: Option<Instant>,
    span: tracing::Span,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> Pending<T, F> {
    fn late(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

impl<T, F> Work for Pending<T, F>
where
    F: FnOnce(&Tx<'_>) -> Result<T> + Send,
    T: Send,
{
    fn run(&mut self, tx: &Tx<'_>) -> bool {
        let _entered = self.span.enter();
        let outcome = if self.late() {
            Err(Error::Timeout)
        } else {
            let work = self.work.take().expect("a write runs once");
            match catch_unwind(AssertUnwindSafe(|| work(tx))) {
                // Its changes are rolled back: the caller has stopped waiting.
                Ok(Ok(_)) if self.late() => Err(Error::Timeout),
                Ok(outcome) => outcome,
                Err(_) => {
                    tracing::error!("a write panicked; its changes were rolled back");
                    Err(Error::Internal("the write failed".into()))
                }
            }
        };
        let keep = outcome.is_ok();
        self.outcome = Some(outcome);
        keep
    }

    fn answer(self: Box<Self>, committed: std::result::Result<(), &str>) {
        let answer = match (self.outcome, committed) {
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (_, Err(reason)) => Err(Error::Internal(reason.to_owned())),
            (None, Ok(())) => Err(Error::Internal("the write did not run".into())),
        };
        // The caller may have stopped waiting (a timeout): nothing to do then.
        let _ = self.reply.send(answer);
    }
}

/// The handle the store keeps: sends writes to the writer thread.
pub(super) struct Writer {
    jobs: Sender<Box<dyn Work>>,
    /// Dropped with the writer, which stops the checkpoint thread.
    _checkpoints: Option<Sender<()>>,
}

/// How often the checkpoint thread copies the write-ahead log into the database.
/// Often: each copy ends with a sync of the database file that the commits'
/// syncs queue behind, and a small copy holds them up less; under load, most
/// slow batches of writes ran beside a checkpoint (the figures per interval
/// are in BENCHMARKS.md, decision log). A pass with nothing to copy reads the
/// log's header and returns.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(20);
/// The writer checkpoints by itself only past this many log pages (a backstop).
const WRITER_CHECKPOINT_PAGES: i64 = 10_000;

impl Writer {
    /// Starts the writer thread, which owns `conn` until every handle is gone.
    /// With `checkpointer` (WAL mode), a second thread copies the log into the
    /// database in the background, so that a commit never waits for it.
    pub(super) fn start(conn: Connection, checkpointer: Option<Connection>) -> Result<Self> {
        let spawn_failed = |e: std::io::Error| Error::Internal(format!("starting the writer: {e}"));
        let checkpoints = match checkpointer {
            Some(checkpointer) => {
                conn.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
                let (stop, stopped) = channel::<()>();
                std::thread::Builder::new()
                    .name("aco-checkpoint".into())
                    .spawn(move || checkpoint(checkpointer, stopped))
                    .map_err(spawn_failed)?;
                Some(stop)
            }
            None => None,
        };
        let (jobs, queue) = channel::<Box<dyn Work>>();
        std::thread::Builder::new()
            .name("aco-writer".into())
            .spawn(move || run(conn, queue))
            .map_err(spawn_failed)?;
        Ok(Writer {
            jobs,
            _checkpoints: checkpoints,
        })
    }

    pub(super) async fn write<T, F>(&self, deadline: Option<Instant>, work: F) -> Result<T>
    where
        F: FnOnce(&Tx<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Pending {
            work: Some(work),
            outcome: None,
            deadline,
            span: tracing::Span::current(),
            reply,
        });
        self.jobs
            .send(job)
            .map_err(|_| Error::Internal("the writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Internal("the writer has stopped".into()))?
    }
}

/// Copies committed log pages into the database (`PASSIVE`: it never blocks
/// the writer or a reader) until the store is dropped, and syncs the database
/// file after each pass that copied pages.
///
/// SQLite syncs the database file itself only after a pass that copied every
/// frame of the log, which under a steady load of writes does not happen: the
/// writer has always committed more by then. The pages copied piled up unsynced
/// until the writer's own backstop checkpoint, which then synced them while
/// every write waited. Synced here, in this thread, after each pass (the
/// effect on the writes' p99 is in BENCHMARKS.md, decision log).
fn checkpoint(conn: Connection, stopped: Receiver<()>) {
    use std::sync::mpsc::RecvTimeoutError;
    let database = conn.path().map(std::fs::File::open).transpose();
    let database = database.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the checkpointer cannot open the database file to sync it");
        None
    });
    let mut copied_before = 0;
    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
        let copied = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(2));
        match copied {
            // No pass ran (another checkpoint held the log), or nothing new was copied.
            Ok(copied) if copied <= 0 || copied == copied_before => {}
            Ok(copied) => {
                copied_before = copied;
                if let Some(Err(e)) = database.as_ref().map(std::fs::File::sync_data) {
                    tracing::warn!(error = %e, "syncing the database file after a checkpoint failed");
                }
            }
            Err(e) => tracing::warn!(error = %e, "a background checkpoint failed"),
        }
    }
}

fn run(mut conn: Connection, queue: Receiver<Box<dyn Work>>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        crate::observe::write_batch(batch.len());
        let committed = commit(&mut conn, &mut batch).map_err(|e| {
            tracing::error!(error = %e, writes = batch.len(), "a write transaction failed");
            e
        });
        let committed = committed.as_ref().map(|_| ()).map_err(String::as_str);
        for job in batch {
            job.answer(committed);
        }
    }
}

/// Runs every write of `batch` in one transaction, each in its own savepoint.
fn commit(conn: &mut Connection, batch: &mut [Box<dyn Work>]) -> std::result::Result<(), String> {
    let failed = |e: rusqlite::Error| format!("the write could not be committed: {e}");
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(failed)?;
    for job in batch.iter_mut() {
        tx.prepare_cached("SAVEPOINT write")
            .and_then(|mut s| s.execute([]))
            .map_err(failed)?;
        let keep = job.run(&Tx::of(&tx));
        if tx.is_autocommit() {
            // SQLite rolled the whole transaction back (an I/O error, a full
            // disk): the writes before this one are gone too.
            return Err("the write transaction was rolled back by the database".into());
        }
        if !keep {
            tx.prepare_cached("ROLLBACK TO write")
                .and_then(|mut s| s.execute([]))
                .map_err(failed)?;
        }
        tx.prepare_cached("RELEASE write")
            .and_then(|mut s| s.execute([]))
            .map_err(failed)?;
    }
    tx.commit().map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(
        work: impl FnOnce(&Tx<'_>) -> Result<()> + Send + 'static,
    ) -> (Box<dyn Work>, oneshot::Receiver<Result<()>>) {
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            work: Some(work),
            outcome: None,
            deadline: None,
            span: tracing::Span::none(),
            reply,
        };
        (Box::new(pending), answer)
    }

    fn insert(n: i64) -> impl FnOnce(&Tx<'_>) -> Result<()> + Send + 'static {
        move |tx| {
            tx.execute("INSERT INTO t (n) VALUES (?1)", [n])?;
            Ok(())
        }
    }

    fn rows(conn: &Connection) -> Vec<i64> {
        let mut statement = conn.prepare("SELECT n FROM t ORDER BY n").unwrap();
        statement
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }

    fn answers(batch: Vec<Box<dyn Work>>, committed: std::result::Result<(), String>) {
        let committed = committed.as_ref().map(|_| ()).map_err(String::as_str);
        for job in batch {
            job.answer(committed);
        }
    }

    #[test]
    fn a_refused_write_rolls_back_alone_and_the_rest_of_its_batch_commits() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY)")
            .unwrap();
        let (a, a_answer) = job(insert(1));
        let (b, b_answer) = job(|tx| {
            tx.execute("INSERT INTO t (n) VALUES (2)", [])?;
            Err(Error::Internal("refused after writing".into()))
        });
        let (c, c_answer) = job(insert(3));
        let (d, d_answer) = job(|_| panic!("a bug in one write"));
        let mut batch = vec![a, b, c, d];
        let committed = commit(&mut conn, &mut batch);
        assert!(committed.is_ok());
        answers(batch, committed);
        assert_eq!(rows(&conn), vec![1, 3]);
        assert!(a_answer.blocking_recv().unwrap().is_ok());
        assert!(b_answer.blocking_recv().unwrap().is_err());
        assert!(c_answer.blocking_recv().unwrap().is_ok());
        assert!(d_answer.blocking_recv().unwrap().is_err());
    }

    #[test]
    fn when_the_transaction_is_lost_no_write_of_the_batch_is_acknowledged() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY)")
            .unwrap();
        let (a, a_answer) = job(insert(1));
        // Ends the transaction under the batch, as SQLite does on some errors.
        let (b, b_answer) = job(|tx| {
            tx.execute_batch("ROLLBACK")?;
            Ok(())
        });
        let mut batch = vec![a, b];
        let committed = commit(&mut conn, &mut batch);
        assert!(committed.is_err());
        answers(batch, committed);
        assert!(rows(&conn).is_empty());
        assert!(a_answer.blocking_recv().unwrap().is_err());
        assert!(b_answer.blocking_recv().unwrap().is_err());
    }

    #[test]
    fn a_write_past_its_deadline_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY)")
            .unwrap();
        let (reply, answer) = oneshot::channel();
        let late: Box<dyn Work> = Box::new(Pending {
            work: Some(insert(7)),
            outcome: None,
            deadline: Some(Instant::now()),
            span: tracing::Span::none(),
            reply,
        });
        let mut batch = vec![late];
        let committed = commit(&mut conn, &mut batch);
        answers(batch, committed);
        assert!(rows(&conn).is_empty());
        assert!(answer.blocking_recv().unwrap().is_err());
    }
}
