//! The one error type below the API, and its mapping to the API's error codes.

use async_graphql::ErrorExtensions;

use crate::domain::UserErrorCode;
use crate::domain::ids::IdError;

/// A business-rule refusal, returned in a mutation payload's `userErrors`.
#[derive(Debug, Clone, PartialEq, Eq, async_graphql::SimpleObject)]
pub struct UserError {
    /// The rule's stable code, e.g. `DEAL_BELOW_MINIMUM`.
    pub code: UserErrorCode,
    /// A one-line explanation of the refusal, for people; match on `code`, not on this text.
    pub message: String,
    /// The path of the input field at fault, e.g. `["input", "tenantId"]`
    /// (each comes from `crate::fields`).
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::FIELD_PATH, child_complexity)"
    )]
    pub field: Option<Vec<String>>,
}

impl UserError {
    pub fn new(code: UserErrorCode, message: impl Into<String>) -> Self {
        UserError {
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn at(mut self, field: crate::fields::InputField) -> Self {
        self.field = Some(field.path().iter().map(|s| (*s).to_owned()).collect());
        self
    }
}

/// Why an operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No token, where one is required.
    #[error("authentication required: send a bearer token")]
    Unauthenticated,
    /// The caller's role may never do this (DOMAIN §1, ROLE-1, ROLE-2).
    #[error("{message}")]
    Forbidden {
        reason: &'static str,
        message: String,
    },
    /// The object does not exist or the caller may not see it (ROLE-3).
    #[error("not found")]
    NotFound,
    /// Malformed arguments.
    #[error("{message}")]
    BadInput { message: String, field: Vec<String> },
    /// Business rules said no; nothing was changed.
    #[error("refused by business rules")]
    Rejected(Vec<UserError>),
    /// The request ran past its deadline: its statements were interrupted,
    /// or its write rolled back.
    #[error("the request ran out of time; nothing was changed")]
    Timeout,
    /// A distributed engine refused the commit for a concurrent write
    /// (SQLSTATE `40001` and kin): the engine runs the use case again, and
    /// answers this only once its attempts are spent. Nothing was changed.
    #[error("concurrent writes conflicted with this one: {0}")]
    Contended(String),
    #[error("database error: {0}")]
    Database(rusqlite::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<rusqlite::Error> for Error {
    /// A statement stopped at its request's deadline is a timeout; every
    /// other database error is internal.
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::OperationInterrupted) => Error::Timeout,
            _ => Error::Database(e),
        }
    }
}

impl Error {
    pub fn bad_input(field: &[&str], message: impl Into<String>) -> Self {
        Error::BadInput {
            message: message.into(),
            field: field.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    pub fn forbidden(reason: &'static str, message: impl Into<String>) -> Self {
        Error::Forbidden {
            reason,
            message: message.into(),
        }
    }

    pub fn rejected(error: UserError) -> Self {
        Error::Rejected(vec![error])
    }

    /// The id was not one of ours, or of the wrong kind.
    pub fn bad_id(field: &[&str], err: IdError) -> Self {
        Self::bad_input(field, err.to_string())
    }

    /// The GraphQL error a client sees. Internal details are logged here and
    /// replaced by the request id.
    pub fn into_graphql(self, request_id: &str) -> async_graphql::Error {
        match self {
            Error::Unauthenticated => async_graphql::Error::new(self.to_string())
                .extend_with(|_, e| e.set("code", "UNAUTHENTICATED")),
            Error::Forbidden { reason, message } => {
                async_graphql::Error::new(message).extend_with(|_, e| {
                    e.set("code", "FORBIDDEN");
                    e.set("reason", reason);
                })
            }
            Error::NotFound => async_graphql::Error::new("not found")
                .extend_with(|_, e| e.set("code", "NOT_FOUND")),
            Error::BadInput { message, field } => {
                async_graphql::Error::new(message).extend_with(|_, e| {
                    e.set("code", "BAD_USER_INPUT");
                    e.set("field", field.clone());
                })
            }
            Error::Rejected(errors) => {
                // Mutations turn these into userErrors; anywhere else they are bad input.
                let message = errors
                    .iter()
                    .map(|e| e.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ");
                async_graphql::Error::new(message).extend_with(|_, e| {
                    e.set("code", "BAD_USER_INPUT");
                    e.set(
                        "rules",
                        errors.iter().map(|e| e.code.as_str()).collect::<Vec<_>>(),
                    );
                })
            }
            Error::Timeout => async_graphql::Error::new(format!(
                "the request ran out of time (request id {request_id}); nothing was changed"
            ))
            .extend_with(|_, e| e.set("code", "TIMEOUT")),
            Error::Contended(_) => {
                tracing::warn!(request_id, error = %LogSafe(&self.to_string()), "retries spent");
                async_graphql::Error::new(format!(
                    "concurrent changes kept conflicting with this one (request id {request_id}); \
                     nothing was changed: try again"
                ))
                .extend_with(|_, e| e.set("code", "CONFLICT"))
            }
            Error::Database(_) | Error::Internal(_) => {
                tracing::error!(request_id, error = %LogSafe(&self.to_string()), "request failed");
                let request_id = request_id.to_owned();
                async_graphql::Error::new(format!("internal error (request id {request_id})"))
                    .extend_with(|_, e| {
                        e.set("code", "INTERNAL_SERVER_ERROR");
                        e.set("requestId", request_id.clone());
                    })
            }
        }
    }
}

/// A value from outside (an operation name, an event's source, an error that
/// may quote input) as it goes into a log line: control characters, quotes
/// and backslashes escaped, at most 200 characters, so that it can neither
/// forge a line of a text log nor flood it.
pub struct LogSafe<'a>(pub &'a str);

impl std::fmt::Display for LogSafe<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write;
        for c in self.0.chars().take(200).flat_map(char::escape_debug) {
            f.write_char(c)?;
        }
        if self.0.chars().nth(200).is_some() {
            f.write_str("…")?;
        }
        Ok(())
    }
}
