//! The embedded SQLite store: connection setup, migrations, and the two ways
//! every query runs.
//!
//! Writes go through a single writer connection owned by one thread, which
//! commits the writes waiting for it together (see [`writer`]): each write is
//! all or nothing, and answered once it is on disk. Reads use a small pool of
//! reader connections behind an async semaphore, each inside one deferred
//! transaction (a consistent snapshot), run where the request runs and moved
//! to a blocking thread if they run long, interrupted at their deadline.
//!
//! `connection` opens connections, `schema` holds the migrations, `db` the
//! SQLite engine ([`Sqlite`]) with its reader pool, `postgres` and
//! `postgres_engine` the PostgreSQL-compatible one ([`Postgres`]), `handle`
//! the [`Db`] that is either, and `tx` the [`Tx`] every query runs in, on
//! either; [`columns`] maps stored values to domain types.

pub mod agreements;
pub mod among;
pub mod audit;
pub mod bench;
pub mod benefits;
pub mod columns;
mod connection;
pub mod copy;
pub mod customers;
mod db;
mod engine;
pub mod events;
mod guard;
mod handle;
pub mod iam;
pub mod integrity;
pub mod pagination;
pub mod partners;
pub mod postgres;
mod postgres_engine;
pub mod postgres_migrations;
pub mod postgres_roles;
mod postgres_session;
mod postgres_threads;
pub mod relationships;
pub mod requests;
mod schema;
pub mod search;
mod tx;
pub mod usage;
pub mod webhooks;
mod writer;

pub use connection::{JournalMode, StoreConfig, round_trips_run, statements_run};
pub use db::{INLINE_BUDGET, Sqlite};
pub use engine::Engine;
pub use handle::Db;
pub use postgres_engine::Postgres;
#[cfg(test)]
pub(crate) use schema::before_usage_per_partner;
pub(crate) use schema::migrations;
pub use tx::{Column, Param, Row, Tx};

/// An object's id and name: what a list page shows of the customer or the
/// partner of each of its requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedRow {
    pub id: crate::domain::ids::ObjectId,
    pub name: String,
}

impl NamedRow {
    /// Reads a row of two columns: the id, then the name.
    pub(crate) fn map(r: &Row<'_>) -> crate::error::Result<NamedRow> {
        Ok(NamedRow {
            id: r.get(0)?,
            name: r.get(1)?,
        })
    }
}
