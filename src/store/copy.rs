//! `aco-api copy`: a SQLite database into an empty PostgreSQL-compatible
//! one, every table, histories and revisions included.
//!
//! The source is read in one read transaction: a consistent snapshot, taken
//! while the service keeps serving (WAL lets its writes go on). The target
//! is migrated first, and must then be empty. Rows go over in batches of at
//! most [`BATCH_ROWS`], each its own transaction (inside Aurora DSQL's 3,000
//! rows a transaction), with every value as stored: ids, texts, money and
//! instants as SQLite holds them, history ids as they were (what the
//! PostgreSQL store appends later is numbered above them). Then the rows
//! that stand in for SQLite's partial unique indexes are derived from the
//! copied ones. A copy that fails part-way leaves a partial copy: the
//! target must be emptied (dropped and created again) before the next try.

use std::collections::BTreeMap;

use rusqlite::types::Value;
use tokio_postgres::types::ToSql;

use super::postgres::{PostgresConfig, said};
use super::{StoreConfig, connection::open_connection};
use crate::error::{Error, Result};

/// The most rows one transaction of the copy writes.
pub const BATCH_ROWS: usize = 1_000;

/// PostgreSQL's limit on a statement's parameters.
const MAX_PARAMETERS: usize = 65_535;

/// The tables of the PostgreSQL schema that are not SQLite's: the migration
/// runner's, and the rows derived after the copy.
const NOT_COPIED: [&str; 4] = [
    "aco_schema_steps",
    "open_requests",
    "live_relationships",
    "published_agreements",
];

/// What was copied: each table's rows.
#[derive(Debug, Default)]
pub struct Copied {
    pub tables: BTreeMap<String, usize>,
}

/// Copies the SQLite database of `source` into the PostgreSQL database of
/// `target`, which is migrated first and must then hold no rows.
pub async fn sqlite_to_postgres(source: &StoreConfig, target: &PostgresConfig) -> Result<Copied> {
    super::postgres::migrate(target).await?;
    let pool = target.pool()?;
    let client = pool
        .get()
        .await
        .map_err(|e| Error::Internal(format!("{}: {e}", target.describe())))?;
    let database = |e: tokio_postgres::Error| {
        Error::Internal(format!("copying to {}: {}", target.describe(), said(&e)))
    };
    // The target's tables and their columns' types.
    let mut columns: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for row in client
        .query(
            "SELECT table_name::text, column_name::text, data_type::text \
             FROM information_schema.columns WHERE table_schema = current_schema() \
             ORDER BY table_name, ordinal_position",
            &[],
        )
        .await
        .map_err(database)?
    {
        let table: String = row.get(0);
        if !NOT_COPIED.contains(&table.as_str()) {
            columns
                .entry(table)
                .or_default()
                .push((row.get(1), row.get(2)));
        }
    }
    for table in columns.keys() {
        let rows: i64 = client
            .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
            .await
            .map_err(database)?
            .get(0);
        if rows > 0 {
            return Err(Error::Internal(format!(
                "{} is not empty ({table} has {rows} rows): copy into an empty database",
                target.describe()
            )));
        }
    }

    let conn = open_connection(source, true)?;
    conn.execute_batch("BEGIN DEFERRED")?;
    let mut copied = Copied::default();
    for (table, table_columns) in &columns {
        let names: Vec<&str> = table_columns.iter().map(|(c, _)| c.as_str()).collect();
        let mut statement = conn.prepare(&format!(
            "SELECT {} FROM {table} ORDER BY rowid",
            names.join(", ")
        ))?;
        let mut rows = statement.query([])?;
        let per_batch = BATCH_ROWS.min(MAX_PARAMETERS / names.len());
        let mut batch: Vec<Vec<Value>> = Vec::with_capacity(per_batch);
        let mut count = 0;
        loop {
            let row = rows.next()?;
            if let Some(row) = row {
                batch.push(
                    (0..names.len())
                        .map(|i| row.get::<_, Value>(i))
                        .collect::<rusqlite::Result<_>>()?,
                );
            }
            if batch.len() == per_batch || (row.is_none() && !batch.is_empty()) {
                insert(&client, table, table_columns, &batch)
                    .await
                    .map_err(database)?;
                count += batch.len();
                batch.clear();
            }
            if row.is_none() {
                break;
            }
        }
        copied.tables.insert(table.clone(), count);
    }
    conn.execute_batch("ROLLBACK")?;

    // What SQLite's partial unique indexes kept, as the PostgreSQL store
    // keeps it: a row per unfinished request, live relationship, published
    // agreement.
    for derive in [
        concat!(
            "INSERT INTO open_requests (customer_id, request_id) SELECT customer_id, id \
             FROM aco_requests WHERE ",
            super::requests::unfinished!()
        ),
        "INSERT INTO live_relationships (partner_id, customer_id, relationship_id) \
         SELECT partner_id, customer_id, id FROM reseller_relationships WHERE status <> 'REVOKED'",
        "INSERT INTO published_agreements (request_id, agreement_id) \
         SELECT request_id, id FROM aco_agreements WHERE status = 'PUBLISHED'",
    ] {
        client.execute(derive, &[]).await.map_err(database)?;
    }
    Ok(copied)
}

/// Inserts `rows` of `table` in one statement (one transaction).
async fn insert(
    client: &deadpool_postgres::Object,
    table: &str,
    columns: &[(String, String)],
    rows: &[Vec<Value>],
) -> std::result::Result<u64, tokio_postgres::Error> {
    let names: Vec<&str> = columns.iter().map(|(c, _)| c.as_str()).collect();
    let mut values = Vec::with_capacity(rows.len());
    let mut params: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
    for row in rows {
        let mut placeholders = Vec::with_capacity(row.len());
        for (value, (_, data_type)) in row.iter().zip(columns) {
            params.push(as_postgres(value, data_type));
            placeholders.push(format!("${}", params.len()));
        }
        values.push(format!("({})", placeholders.join(", ")));
    }
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES {}",
        names.join(", "),
        values.join(", ")
    );
    let refs: Vec<&(dyn ToSql + Sync)> = params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect();
    client.execute(&sql, &refs).await
}

/// A SQLite value as the PostgreSQL column of `data_type` takes it.
fn as_postgres(value: &Value, data_type: &str) -> Box<dyn ToSql + Sync + Send> {
    match (value, data_type) {
        (Value::Null, "boolean") => Box::new(None::<bool>),
        (Value::Null, "bigint" | "integer") => Box::new(None::<i64>),
        (Value::Null, _) => Box::new(None::<String>),
        (Value::Integer(n), "boolean") => Box::new(*n != 0),
        (Value::Integer(n), "bigint" | "integer") => Box::new(*n),
        (Value::Integer(n), _) => Box::new(n.to_string()),
        (Value::Real(x), _) => Box::new(x.to_string()),
        (Value::Text(text), _) => Box::new(text.clone()),
        (Value::Blob(bytes), _) => Box::new(String::from_utf8_lossy(bytes).into_owned()),
    }
}
