//! The database role the service connects as, made by `aco-api migrate`
//! (run as an administrator): allowed to log in, to read and write the
//! service's tables and nothing else (not the record of migration steps,
//! not the schema). On Aurora DSQL it is also mapped to the IAM role that
//! connects as it (`AWS IAM GRANT`), which then needs only `dsql:DbConnect`.
//!
//! Each statement runs alone, in its own transaction, as Aurora DSQL
//! requires of DDL; running it all again changes nothing but the grants
//! on tables added since.

use super::postgres::{PostgresConfig, said, unreachable_database};
use crate::error::{Error, Result};

/// The role the service connects as, and on Aurora DSQL the IAM role (ARN)
/// mapped to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppRole {
    name: String,
    iam_role_arn: Option<String>,
}

impl AppRole {
    /// Checks the names: a plain lower-case identifier (never `admin` or
    /// `postgres`), and an IAM role ARN.
    pub fn new(name: &str, iam_role_arn: Option<&str>) -> Result<Self> {
        let plain = !name.is_empty()
            && name.len() <= 63
            && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !plain || matches!(name, "admin" | "postgres" | "public") {
            return Err(Error::Internal(format!(
                "ACO_DATABASE_APP_ROLE: {name:?} is not a role name the service can use \
                 (lower-case letters, digits and _, at most 63; not admin, postgres or public)"
            )));
        }
        if let Some(arn) = iam_role_arn {
            let parts: Vec<&str> = arn.splitn(6, ':').collect();
            let valid = parts.len() == 6
                && parts[0] == "arn"
                && parts[1].starts_with("aws")
                && parts[2] == "iam"
                && parts[4].len() == 12
                && parts[4].chars().all(|c| c.is_ascii_digit())
                && parts[5].starts_with("role/")
                && parts[5]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c));
            if !valid {
                return Err(Error::Internal(format!(
                    "ACO_DATABASE_APP_ROLE_ARN: {arn:?} is not an IAM role ARN \
                     (arn:aws:iam::<account>:role/<name>)"
                )));
            }
        }
        Ok(AppRole {
            name: name.to_owned(),
            iam_role_arn: iam_role_arn.map(str::to_owned),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Creates the role if it does not exist and grants it the service's
/// tables; on Aurora DSQL maps the IAM role to it. Returns what was done.
pub async fn grant(config: &PostgresConfig, role: &AppRole) -> Result<Vec<String>> {
    if role.iam_role_arn.is_some() && !config.is_aurora_dsql() {
        return Err(Error::Internal(
            "ACO_DATABASE_APP_ROLE_ARN maps an IAM role, which only Aurora DSQL does; \
             leave it unset for this database"
                .into(),
        ));
    }
    let pool = config.pool()?;
    let client = pool
        .get()
        .await
        .map_err(|e| unreachable_database(config, &e))?;
    let name = &role.name;
    let failed = |what: &str, e: tokio_postgres::Error| {
        Error::Internal(format!("{}: {what}: {}", config.describe(), said(&e)))
    };
    let mut done = Vec::new();
    let exists = client
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[name])
        .await
        .map_err(|e| failed("looking up the role", e))?
        .is_some();
    // The name is checked (a plain identifier), so it may stand in the statements.
    let mut statements = Vec::new();
    if !exists {
        statements.push(format!("CREATE ROLE {name} WITH LOGIN"));
    }
    statements.extend([
        format!("GRANT USAGE ON SCHEMA public TO {name}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}"),
        format!("REVOKE INSERT, UPDATE, DELETE ON aco_schema_steps FROM {name}"),
    ]);
    if let Some(arn) = &role.iam_role_arn {
        let mapped = client
            .query_opt(
                "SELECT 1 FROM sys.iam_pg_role_mappings WHERE pg_role_name = $1 AND arn = $2",
                &[name, arn],
            )
            .await
            .map_err(|e| failed("looking up the IAM role mapping", e))?
            .is_some();
        if !mapped {
            statements.push(format!("AWS IAM GRANT {name} TO '{arn}'"));
        }
    }
    for statement in statements {
        client
            .batch_execute(&format!("BEGIN; {statement}; COMMIT"))
            .await
            .map_err(|e| failed(&statement, e))?;
        done.push(statement);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_role_names_and_iam_role_arns_are_taken() {
        assert!(AppRole::new("aco_api", None).is_ok());
        let arn = "arn:aws:iam::123456789012:role/aco-api-ApiFunctionRole-1AB2C3";
        assert!(AppRole::new("aco_api", Some(arn)).is_ok());
        for bad in [
            "",
            "Aco",
            "aco-api",
            "admin",
            "postgres",
            "x; DROP TABLE t",
            "1aco",
        ] {
            assert!(AppRole::new(bad, None).is_err(), "{bad}");
        }
        for bad in [
            "arn:aws:iam::123:role/x",
            "arn:aws:iam::123456789012:user/x",
            "arn:aws:iam::123456789012:role/x'; DROP ROLE admin; --",
            "arn:aws:s3:::bucket",
        ] {
            assert!(AppRole::new("aco_api", Some(bad)).is_err(), "{bad}");
        }
    }
}
