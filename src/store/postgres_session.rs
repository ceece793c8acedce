//! One connection of the PostgreSQL engine ([`Session`]): a tokio-postgres
//! client whose connection the thread running the use case drives itself,
//! on a runtime of its own, while it waits for an answer — so a statement
//! costs one round trip and no other thread's wake-up — and whose requests
//! can travel together: a transaction's `START TRANSACTION` goes with its
//! first statement, a read's end is sent without waiting for its answer,
//! and statements that do not depend on each other go in one round trip
//! ([`Session::rows_together`]). Each round trip is two switches between the
//! service and a PostgreSQL backend and a read and a write on each side,
//! which on one core costs more than a simple statement does.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Instant;

use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Error, Row, Statement};

/// A connection's background work (reading answers, writing requests), as
/// tokio-postgres gives it, whatever its socket and TLS.
type Connection = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

/// Parameters of one statement, as tokio-postgres takes them.
pub(super) type Params<'p> = [&'p (dyn ToSql + Sync)];

pub struct Session {
    /// `None` only while the session closes.
    client: Option<Client>,
    link: Link,
    /// The prepared statements, by their SQLite text (each converted and
    /// prepared once a connection).
    statements: HashMap<String, Statement>,
    /// The beginning of the transaction the next statement opens, not sent
    /// yet: it goes in that statement's round trip.
    begin: Option<String>,
    pub(super) opened: Instant,
}

/// What carries a session's requests: its connection and the runtime it is
/// polled on.
struct Link {
    runtime: tokio::runtime::Runtime,
    /// `None` once it has ended (the server closed it, or it failed): the
    /// client's requests then fail as closed.
    connection: Option<Connection>,
    /// Whether its round trips count in
    /// [`round_trips_run`](super::round_trips_run).
    counted: bool,
}

impl Session {
    /// Opens a connection with `connect` (tokio-postgres's `connect` with
    /// the TLS wanted), on a runtime of its own; `refused` says why it
    /// could not be opened.
    pub(super) fn open<F, C>(
        counted: bool,
        connect: impl FnOnce() -> F,
        refused: impl Fn(String) -> crate::error::Error,
    ) -> crate::error::Result<Session>
    where
        F: Future<Output = Result<(Client, C), Error>>,
        C: Future<Output = Result<(), Error>> + Send + 'static,
    {
        // Timers too: tokio-postgres times its connection attempts.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| refused(format!("no runtime for the connection: {e}")))?;
        let (client, connection) = runtime
            .block_on(connect())
            .map_err(|e| refused(super::postgres::said(&e)))?;
        Ok(Session {
            client: Some(client),
            link: Link {
                runtime,
                connection: Some(Box::pin(connection)),
                counted,
            },
            statements: HashMap::new(),
            begin: None,
            opened: Instant::now(),
        })
    }

    /// Whether the server ended the connection.
    pub(super) fn is_closed(&self) -> bool {
        self.link.connection.is_none() || live(&self.client).is_closed()
    }

    /// Runs `simple` (statements without parameters) now and waits for it.
    pub(super) fn batch_execute(&mut self, simple: &str) -> Result<(), Error> {
        let client = live(&self.client);
        self.link.wait(client.batch_execute(simple))
    }

    /// Notes `begin` to be sent with the next statement.
    pub(super) fn begin_with_next(&mut self, begin: String) {
        self.begin = Some(begin);
    }

    /// Forgets a beginning no statement took, answering whether there was
    /// one: if so, no transaction was begun and there is none to end.
    pub(super) fn unbegun(&mut self) -> bool {
        self.begin.take().is_some()
    }

    /// Sends `end` (a read's `COMMIT`) without waiting for its answer, which
    /// the connection reads and drops with the next one's: a read-only
    /// transaction's end has nothing to report. It is written to the socket
    /// now, so the transaction holds no snapshot while the connection idles.
    pub(super) fn end_unheard(&mut self, end: &'static str) {
        let client = live(&self.client);
        let mut request = std::pin::pin!(client.batch_execute(end));
        let link = &mut self.link;
        link.runtime.block_on(std::future::poll_fn(|cx| {
            // Its first poll hands the request to the connection…
            let _ = request.as_mut().poll(cx);
            // …which writes it.
            poll_connection(&mut link.connection, cx);
            Poll::Ready(())
        }));
    }

    /// The prepared statement of `sql` (written for SQLite: see
    /// `tx::postgres_sql`), prepared on first use.
    fn statement(&mut self, sql: &str) -> Result<Statement, Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let client = live(&self.client);
        let statement = self
            .link
            .wait(client.prepare(&super::tx::postgres_sql(sql)))?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    /// The rows of each of `statements`, sent in one round trip (with the
    /// transaction's beginning, if not sent yet) and run in order. The first
    /// failure is the answer; those after it were run in a transaction it
    /// aborted, so they changed nothing.
    pub(super) fn rows_together(
        &mut self,
        statements: &[(&str, &Params<'_>)],
    ) -> Result<Vec<Vec<Row>>, Error> {
        let prepared = statements
            .iter()
            .map(|(sql, _)| self.statement(sql))
            .collect::<Result<Vec<_>, _>>()?;
        let begin = self.begin.take();
        let client = live(&self.client);
        let queries = prepared
            .iter()
            .zip(statements)
            .map(|(statement, (_, params))| client.query(statement, params));
        let all = futures_util::future::try_join_all(queries);
        self.link.wait(after(client, begin.as_deref(), all))
    }

    /// The rows `sql` answers.
    pub(super) fn rows(&mut self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>, Error> {
        let statement = self.statement(sql)?;
        let begin = self.begin.take();
        let client = live(&self.client);
        let rows = client.query(&statement, params);
        self.link.wait(after(client, begin.as_deref(), rows))
    }

    /// Runs `sql`; the rows it changed.
    pub(super) fn execute(&mut self, sql: &str, params: &Params<'_>) -> Result<u64, Error> {
        let statement = self.statement(sql)?;
        let begin = self.begin.take();
        let client = live(&self.client);
        let changed = client.execute(&statement, params);
        self.link.wait(after(client, begin.as_deref(), changed))
    }
}

/// The client of a session that is not closing.
fn live(client: &Option<Client>) -> &Client {
    client
        .as_ref()
        .expect("a session's client lives until it closes")
}

/// `request` sent right after `begin` (if any) in one write, its answer the
/// answer: the two are polled in that order, and the first poll of each
/// hands its request to the connection.
async fn after<T>(
    client: &Client,
    begin: Option<&str>,
    request: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    match begin {
        Some(begin) => futures_util::future::try_join(client.batch_execute(begin), request)
            .await
            .map(|(_, out)| out),
        None => request.await,
    }
}

impl Drop for Session {
    /// Ends the connection as a client should: with the client gone, one
    /// poll of the connection writes a `Terminate` message.
    fn drop(&mut self) {
        drop(self.client.take());
        let link = &mut self.link;
        link.runtime.block_on(std::future::poll_fn(|cx| {
            poll_connection(&mut link.connection, cx);
            Poll::Ready(())
        }));
    }
}

/// Polls the connection once; forgets it once it has ended, which fails the
/// requests still waiting for an answer.
fn poll_connection(connection: &mut Option<Connection>, cx: &mut std::task::Context<'_>) {
    if let Some(running) = connection
        && let Poll::Ready(ended) = running.as_mut().poll(cx)
    {
        if let Err(e) = ended {
            tracing::debug!(error = %e, "a database connection ended");
        }
        *connection = None;
    }
}

impl Link {
    /// Waits for `request` on this thread, driving the connection meanwhile.
    fn wait<T>(&mut self, request: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        if self.counted {
            super::connection::count_postgres_round_trip();
        }
        let connection = &mut self.connection;
        let mut request = std::pin::pin!(request);
        self.runtime.block_on(std::future::poll_fn(|cx| {
            // The request first, so that what it hands the connection is
            // written in this same poll.
            if let Poll::Ready(out) = request.as_mut().poll(cx) {
                return Poll::Ready(out);
            }
            poll_connection(connection, cx);
            request.as_mut().poll(cx)
        }))
    }
}
