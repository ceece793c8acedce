//! The one error type below the API, and its mapping to the API's error codes.

use async_graphql::ErrorExtensions;

use crate::domain::ids::IdError;

/// A business-rule refusal, returned in a mutation payload's `userErrors`.
#[derive(Debug, Clone, PartialEq, Eq, async_graphql::SimpleObject)]
pub struct UserError {
    /// The rule's stable code, e.g. `DEAL_BELOW_MINIMUM`.
    pub code: String,
    pub message: String,
    /// The path of the input field at fault, e.g. `["input", "tenantId"]`.
    pub field: Option<Vec<String>>,
}

impl UserError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        UserError {
            code: code.to_owned(),
            message: message.into(),
            field: None,
        }
    }

    pub fn at(mut self, field: &[&str]) -> Self {
        self.field = Some(field.iter().map(|s| (*s).to_owned()).collect());
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
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

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
                        errors.iter().map(|e| e.code.clone()).collect::<Vec<_>>(),
                    );
                })
            }
            Error::Database(_) | Error::Internal(_) => {
                tracing::error!(request_id, error = %self, "request failed");
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
