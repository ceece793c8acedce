//! The layers keep to their imports (ARCHITECTURE.md): SQL text lives in
//! `src/store/` only, and the domain imports no other layer.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The words that start or shape a statement, as they appear in SQL text.
const SQL: [&str; 9] = [
    "SELECT ",
    "INSERT INTO",
    "UPDATE ",
    "DELETE FROM",
    "PRAGMA ",
    "CREATE ",
    " WHERE ",
    "EXPLAIN ",
    "ALTER TABLE",
];

/// Whether `line` has SQL text inside a string literal.
fn sql_in_strings(line: &str) -> bool {
    let code = line.trim_start();
    if code.starts_with("//") {
        return false;
    }
    // The odd-numbered pieces between quotes are inside string literals.
    code.split('"')
        .skip(1)
        .step_by(2)
        .any(|text| SQL.iter().any(|word| text.contains(word)))
}

#[test]
fn sql_text_lives_in_the_store_only() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut found = Vec::new();
    for file in files {
        if file.starts_with(root.join("store")) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if sql_in_strings(line) {
                found.push(format!(
                    "{}:{}: {}",
                    file.strip_prefix(&root).unwrap().display(),
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "SQL outside src/store/:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_domain_imports_no_other_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root.join("domain"), &mut files);
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            if let Some(at) = code.find("crate::") {
                let path = &code[at + "crate::".len()..];
                if !path.starts_with("domain") {
                    found.push(format!("{}:{}: {}", file.display(), n + 1, code));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "the domain imports:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_finds_sql_where_it_is() {
    assert!(sql_in_strings(
        r#"    tx.prepare("SELECT id FROM partners")?;"#
    ));
    assert!(sql_in_strings(
        r#"let q = format!("{} WHERE x = ?", base);"#
    ));
    assert!(!sql_in_strings("// SELECT in a comment"));
    assert!(!sql_in_strings(
        r#"let action = "PARTNER_PROFILE_UPDATED";"#
    ));
}

/// The histories are append-only (FLOW-17, LEDGER-2, the change log, and
/// the benefit usage and MPA signatures kept as entries): on SQLite triggers
/// refuse changing the first three, on PostgreSQL-compatible engines (no
/// triggers on Aurora DSQL) the service is what keeps them all so. No statement
/// the service runs, outside the schema's migrations, updates or deletes a
/// row of one.
#[test]
fn no_statement_changes_or_removes_a_history_entry() {
    const HISTORIES: [&str; 5] = [
        "aco_request_history",
        "monthly_usage_history",
        "change_log",
        "benefit_usage",
        "partner_agreements",
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut found = Vec::new();
    for file in files {
        // SQLite's migrations (0007 rebuilds the usage history) and tests.
        if file.ends_with("store/schema.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for table in HISTORIES {
            for statement in [format!("UPDATE {table} "), format!("DELETE FROM {table} ")] {
                if flat.contains(&statement) {
                    found.push(format!("{}: {statement}", file.display()));
                }
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}
