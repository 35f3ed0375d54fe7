//! Errors: storage errors and the domain error every API answer is mapped from.

use thiserror::Error;

/// What a storage backend reports; `sqlx::Error` is mapped to this once, in the store crate.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; the payload names the constraint.
    #[error("conflict on {0}")]
    Conflict(String),
    /// The database cannot be reached or is overloaded.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("storage error: {0}")]
    Other(String),
}

/// The domain error. The API layer renders each variant in Transmit's error shapes.
#[derive(Clone, Debug, Error)]
pub enum Error {
    /// Bad input; one message per problem, each naming the field.
    #[error("invalid input: {0:?}")]
    Invalid(Vec<String>),
    #[error("{0}")]
    NotFound(String),
    /// A unique identifier is taken; `code` is the `ts_error_code`.
    #[error("{message}")]
    Conflict { message: String, code: &'static str },
    #[error("{0}")]
    Forbidden(String),
    #[error("service unavailable")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(vec![message.into()])
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Error::NotFound("Not found".into()),
            StoreError::Conflict(what) => Error::Conflict {
                message: format!("{what} is already taken"),
                code: "IDENTIFIER_TAKEN",
            },
            StoreError::Unavailable(m) => Error::Unavailable(m),
            StoreError::Other(m) => Error::Internal(m),
        }
    }
}
