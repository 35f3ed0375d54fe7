//! Errors: storage errors and the domain error every API answer is mapped from.

use thiserror::Error;

/// What a storage backend reports; `sqlx::Error` is mapped to this once, in the store crate.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write.
    #[error("conflict on {0:?}")]
    Conflict(UniqueKey),
    /// The database cannot be reached or is overloaded.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Another writer (another process on the same SQLite file) holds the lock: worth
    /// waiting for, briefly.
    #[error("the database is locked by another writer")]
    Busy,
    /// The database cannot store a value the request carried (PostgreSQL refuses NUL
    /// characters in text and JSON): the request's problem, not the server's.
    #[error("{0}")]
    Rejected(String),
    #[error("storage error: {0}")]
    Other(String),
}

/// The unique keys a write can collide on; mapped once from the database's constraint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UniqueKey {
    /// The same user again (its id, or every identifier it was matched by).
    User,
    Email,
    PhoneNumber,
    ExternalUserId,
    Username,
    ExternalAccountId,
    AppName,
    GroupName,
    DeviceKeyId,
    ClientId,
    /// Any other constraint, by the name the database gave it.
    Other(String),
}

impl UniqueKey {
    /// Transmit's `ts_error_code` for the key.
    pub fn ts_error_code(&self) -> &'static str {
        match self {
            UniqueKey::User => "USER_ALREADY_EXISTS",
            UniqueKey::Email => "EMAIL_TAKEN",
            UniqueKey::PhoneNumber => "PHONE_NUMBER_TAKEN",
            UniqueKey::ExternalUserId => "EXTERNAL_USER_ID_TAKEN",
            UniqueKey::Username => "USERNAME_TAKEN",
            UniqueKey::ExternalAccountId => "EXTERNAL_ACCOUNT_ID_TAKEN",
            UniqueKey::AppName => "APP_NAME_TAKEN",
            UniqueKey::GroupName => "GROUP_NAME_TAKEN",
            UniqueKey::DeviceKeyId => "DEVICE_KEY_ID_TAKEN",
            UniqueKey::ClientId => "CLIENT_ID_TAKEN",
            UniqueKey::Other(_) => "IDENTIFIER_TAKEN",
        }
    }

    fn message(&self) -> String {
        match self {
            UniqueKey::User => "User already exists".into(),
            UniqueKey::Email => "Email is already taken".into(),
            UniqueKey::PhoneNumber => "Phone number is already taken".into(),
            UniqueKey::ExternalUserId => "External user ID is already taken".into(),
            UniqueKey::Username => "Username is already taken".into(),
            UniqueKey::ExternalAccountId => "External account ID is already taken".into(),
            UniqueKey::AppName => "App name is already taken".into(),
            UniqueKey::GroupName => "Group name is already taken".into(),
            UniqueKey::DeviceKeyId => {
                "The user already has a device key with this key_id in the app".into()
            }
            UniqueKey::ClientId => "Client ID is already taken".into(),
            UniqueKey::Other(what) => format!("{what} is already taken"),
        }
    }
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

    /// The 409 for a taken key.
    pub fn taken(key: &UniqueKey) -> Self {
        Self::Conflict {
            message: key.message(),
            code: key.ts_error_code(),
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Error::NotFound("Not found".into()),
            StoreError::Conflict(key) => Error::taken(&key),
            StoreError::Unavailable(m) => Error::Unavailable(m),
            StoreError::Busy => {
                Error::Unavailable("the database is locked by another writer".into())
            }
            StoreError::Rejected(m) => Error::Invalid(vec![m]),
            StoreError::Other(m) => Error::Internal(m),
        }
    }
}
