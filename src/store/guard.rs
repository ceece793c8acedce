//! What SQLite's partial unique indexes and snapshot-free single writer
//! give, kept on PostgreSQL-compatible engines (which have neither here):
//! guard rows ([`Guard`]) and claims ([`claim`]). On SQLite both do nothing.

use super::{Param, Tx};
use crate::domain::ids::ObjectId;
use crate::error::{Error, Result};

/// A table with a row per key while one object (its holder) has a state
/// that only one may have: ELIG-13's unfinished request per customer, the
/// live relationship per partner and customer, the published agreement per
/// request. Writing the row refuses a second holder, and makes two writers
/// at once conflict on it.
pub(super) struct Guard {
    pub table: &'static str,
    /// The key's columns, then the holder's.
    pub columns: &'static [&'static str],
    /// What the rule is, for the error should a second holder get this far.
    pub rule: &'static str,
}

impl Guard {
    /// Records `holder` as the key's, or releases it, as `holds` says.
    pub fn keep(
        &self,
        tx: &Tx<'_>,
        key: &[&dyn Param],
        holder: &ObjectId,
        holds: bool,
    ) -> Result<()> {
        if !tx.is_postgres() {
            return Ok(());
        }
        let (key_columns, holder_column) = self.columns.split_at(self.columns.len() - 1);
        let mut params = key.to_vec();
        params.push(holder);
        let numbered = |columns: &[&str]| -> Vec<String> {
            columns
                .iter()
                .enumerate()
                .map(|(n, column)| format!("{column} = ?{}", n + 1))
                .collect()
        };
        if !holds {
            tx.exec(
                &format!(
                    "DELETE FROM {} WHERE {}",
                    self.table,
                    numbered(self.columns).join(" AND ")
                ),
                &params,
            )?;
            return Ok(());
        }
        let placeholders: Vec<String> = (1..=params.len()).map(|n| format!("?{n}")).collect();
        let added = tx.exec(
            &format!(
                "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO NOTHING",
                self.table,
                self.columns.join(", "),
                placeholders.join(", "),
                key_columns.join(", ")
            ),
            &params,
        )?;
        if added == 1 {
            return Ok(());
        }
        // The key's row was there already: this holder's own, written before.
        let current = tx.row(
            &format!(
                "SELECT {} FROM {} WHERE {}",
                holder_column[0],
                self.table,
                numbered(key_columns).join(" AND ")
            ),
            key,
            |r| r.get::<ObjectId>(0),
        )?;
        if current.as_ref() == Some(holder) {
            Ok(())
        } else {
            Err(Error::Internal(format!(
                "{}: {holder} while another holds it",
                self.rule
            )))
        }
    }
}

/// Makes a use case that reads several rows of one owner and writes others
/// conflict with any other doing the same: on PostgreSQL-compatible
/// engines, whose snapshot isolation would let two such use cases each
/// decide on what the other has not yet written, it writes the owner's own
/// row of `table` (an update that changes nothing: a write-write conflict
/// the engine refuses one of, and the service runs again). SQLite's one
/// writer needs nothing.
pub(super) fn claim(tx: &Tx<'_>, table: &str, id: &ObjectId) -> Result<()> {
    if tx.is_postgres() {
        tx.exec(&format!("UPDATE {table} SET id = id WHERE id = ?1"), &[id])?;
    }
    Ok(())
}
