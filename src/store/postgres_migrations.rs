//! The PostgreSQL store's migrations (`migrations/postgres/`), as the steps
//! its runner applies: one DDL statement each, in a transaction of its own
//! and recorded after it, so that a step cut off by a crash runs again
//! harmlessly (every `CREATE` says `IF NOT EXISTS`).
//!
//! They keep to the subset Aurora DSQL accepts, which CockroachDB and Aurora
//! PostgreSQL accept too: [`subset_faults`] names what a step uses outside
//! it, and a test holds every step to it.

/// The PostgreSQL migrations, in order: a name and its SQL.
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_initial",
        include_str!("../../migrations/postgres/0001_initial.sql"),
    ),
    (
        "0002_order_and_search",
        include_str!("../../migrations/postgres/0002_order_and_search.sql"),
    ),
    (
        "0003_events_and_webhooks",
        include_str!("../../migrations/postgres/0003_events_and_webhooks.sql"),
    ),
];

/// One statement of a migration, applied alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// `<migration>#<n>`, counted from 1: what the runner records.
    pub name: String,
    pub sql: String,
}

/// Every step of every migration, in order. A statement ends with `;` at
/// the end of a line; `--` starts a comment.
pub fn steps() -> Vec<Step> {
    let mut steps = Vec::new();
    for (migration, text) in MIGRATIONS {
        let mut sql = String::new();
        for line in text.lines() {
            let code = line.split("--").next().unwrap_or("").trim_end();
            if code.trim().is_empty() {
                continue;
            }
            sql.push_str(code);
            sql.push('\n');
            if code.ends_with(';') {
                steps.push(Step {
                    name: format!("{migration}#{}", steps.len() + 1),
                    sql: sql.trim().trim_end_matches(';').to_owned(),
                });
                sql.clear();
            }
        }
        assert!(
            sql.trim().is_empty(),
            "{migration} ends without a `;`: {sql}"
        );
    }
    steps
}

/// Words a step must not use: what Aurora DSQL does not accept (foreign
/// keys, triggers, sequences and serial or identity columns, savepoints,
/// temporary tables, procedural code and extensions), or a data change.
const EXCLUDED: &[&str] = &[
    "REFERENCES",
    "FOREIGN",
    "TRIGGER",
    "SEQUENCE",
    "SERIAL",
    "BIGSERIAL",
    "SMALLSERIAL",
    "IDENTITY",
    "SAVEPOINT",
    "TEMP",
    "TEMPORARY",
    "FUNCTION",
    "PROCEDURE",
    "PLPGSQL",
    "DO",
    "EXTENSION",
    "TRUNCATE",
    "INHERITS",
    "PARTITION",
    "COLLATE",
    "MATERIALIZED",
    "INSERT",
    "UPDATE",
    "DELETE",
    "EXCLUDE",
];

/// What `sql`, one step, uses outside the subset; empty if nothing.
pub fn subset_faults(sql: &str) -> Vec<String> {
    let upper = sql.to_ascii_uppercase();
    let words: Vec<&str> = upper
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut faults: Vec<String> = EXCLUDED
        .iter()
        .filter(|excluded| words.contains(excluded))
        .map(|excluded| format!("uses {excluded}"))
        .collect();
    if upper.contains("$$") {
        faults.push("uses a dollar-quoted body".into());
    }
    if sql.contains(';') {
        faults.push("holds more than one statement".into());
    }
    let starts = |prefix: &str| upper.starts_with(prefix);
    let index = starts("CREATE INDEX ") || starts("CREATE UNIQUE INDEX ");
    if !(starts("CREATE TABLE ") || index || starts("ALTER TABLE ") || starts("DROP INDEX ")) {
        faults.push("is not a CREATE TABLE, CREATE INDEX, ALTER TABLE or DROP INDEX".into());
    }
    if starts("CREATE ") && !upper.contains(" IF NOT EXISTS ") {
        faults.push("creates without IF NOT EXISTS".into());
    }
    if index && words.contains(&"WHERE") {
        faults.push("is a partial index".into());
    }
    if index && words.contains(&"ASYNC") {
        faults.push("says ASYNC itself (the runner does, on Aurora DSQL)".into());
    }
    faults
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_postgres_migration_step_keeps_to_the_aurora_dsql_subset() {
        let steps = steps();
        assert!(steps.len() > 40, "{} steps", steps.len());
        for step in &steps {
            let faults = subset_faults(&step.sql);
            assert!(faults.is_empty(), "{}: {faults:?}\n{}", step.name, step.sql);
        }
        let mut names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
        names.dedup();
        assert_eq!(names.len(), steps.len());
    }

    #[test]
    fn what_aurora_dsql_refuses_is_found() {
        for (sql, fault) in [
            (
                "CREATE TABLE IF NOT EXISTS a (b TEXT REFERENCES c (id))",
                "uses REFERENCES",
            ),
            (
                "CREATE TABLE IF NOT EXISTS a (id BIGSERIAL PRIMARY KEY)",
                "uses BIGSERIAL",
            ),
            (
                "CREATE TABLE IF NOT EXISTS a (id BIGINT GENERATED ALWAYS AS IDENTITY)",
                "uses IDENTITY",
            ),
            ("CREATE SEQUENCE IF NOT EXISTS s", "uses SEQUENCE"),
            (
                "CREATE TRIGGER t BEFORE UPDATE ON a FOR EACH ROW EXECUTE FUNCTION f()",
                "uses TRIGGER",
            ),
            (
                "CREATE TEMPORARY TABLE IF NOT EXISTS a (b TEXT)",
                "uses TEMPORARY",
            ),
            (
                "CREATE INDEX IF NOT EXISTS i ON a (b) WHERE b IS NOT NULL",
                "is a partial index",
            ),
            ("CREATE TABLE a (b TEXT)", "creates without IF NOT EXISTS"),
            ("INSERT INTO a VALUES (1)", "uses INSERT"),
            ("UPDATE a SET b = 1", "uses UPDATE"),
            (
                "CREATE TABLE IF NOT EXISTS a (b TEXT); DROP TABLE c",
                "holds more than one statement",
            ),
            (
                "CREATE INDEX ASYNC IF NOT EXISTS i ON a (b)",
                "says ASYNC itself (the runner does, on Aurora DSQL)",
            ),
            ("SAVEPOINT s", "uses SAVEPOINT"),
            (
                "CREATE FUNCTION IF NOT EXISTS f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE plpgsql",
                "uses PLPGSQL",
            ),
        ] {
            let faults = subset_faults(sql);
            assert!(faults.contains(&fault.to_owned()), "{sql}: {faults:?}");
        }
    }

    /// Each table's columns as the PostgreSQL migrations create them.
    fn postgres_tables() -> std::collections::BTreeMap<String, Vec<String>> {
        let mut tables = std::collections::BTreeMap::new();
        for step in steps() {
            if let Some(rest) = step.sql.strip_prefix("ALTER TABLE ") {
                let words: Vec<&str> = rest.split_whitespace().collect();
                if let [table, "ADD", "COLUMN", "IF", "NOT", "EXISTS", column, ..] = words[..]
                    && let Some(columns) = tables.get_mut(table)
                {
                    let columns: &mut Vec<String> = columns;
                    columns.push(column.to_owned());
                }
                continue;
            }
            let Some(rest) = step.sql.strip_prefix("CREATE TABLE IF NOT EXISTS ") else {
                continue;
            };
            let name = rest.split_whitespace().next().unwrap().to_owned();
            let columns = rest
                .lines()
                .skip(1)
                .filter_map(|line| line.split_whitespace().next())
                .filter(|word| {
                    word.starts_with(|c: char| c.is_ascii_lowercase())
                        && word
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                })
                .map(str::to_owned)
                .collect();
            tables.insert(name, columns);
        }
        tables
    }

    /// The PostgreSQL schema is SQLite's, table for table and column for
    /// column, plus the rows that stand in for SQLite's partial unique
    /// indexes: a column added to one store and not the other fails here.
    #[test]
    fn the_postgres_schema_has_every_table_and_column_of_sqlite() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        super::super::migrations().to_latest(&mut conn).unwrap();
        let mut names = conn
            .prepare(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .unwrap();
        let sqlite_tables: Vec<String> = names
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let mut postgres = postgres_tables();
        for table in &sqlite_tables {
            let mut info = conn
                .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .unwrap();
            let mut columns: Vec<String> = info
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            let mut theirs = postgres
                .remove(table)
                .unwrap_or_else(|| panic!("{table} is not in the PostgreSQL schema"));
            columns.sort();
            theirs.sort();
            assert_eq!(theirs, columns, "the columns of {table}");
        }
        let only_postgres: Vec<&str> = postgres.keys().map(String::as_str).collect();
        assert_eq!(
            only_postgres,
            [
                "live_relationships",
                "open_requests",
                "published_agreements"
            ]
        );
    }

    #[test]
    fn steps_are_whole_statements_without_comments() {
        let steps = steps();
        let first = &steps[0];
        assert_eq!(first.name, "0001_initial#1");
        assert!(
            first
                .sql
                .starts_with("CREATE TABLE IF NOT EXISTS partners (")
        );
        assert!(!first.sql.contains("--") && !first.sql.ends_with(';'));
    }
}
