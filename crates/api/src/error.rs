//! One error type for every answer that is not a success, in Transmit's shapes
//! (`users-api.md` §3.2): 400 carries a list of messages, other statuses one message.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use roster_core::{Error, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

/// A 400: every problem found, each naming its field.
#[derive(Serialize, ToSchema)]
#[schema(as = BadRequestHttpError)]
pub struct BadRequestBody {
    pub message: Vec<String>,
    pub error_code: u16,
}

/// Any other error of the API.
#[derive(Serialize, ToSchema)]
#[schema(as = HttpError)]
pub struct ErrorBody {
    pub message: String,
    pub error_code: u16,
}

/// A 400 for a taken identifier where no 409 is documented (`PUT /v1/users/{id}`, the
/// verify routes): the 400 shape with the `ts_error_code` of the 409.
#[derive(Serialize, ToSchema)]
#[schema(as = IdentifierIsTakenBadRequestHttpError)]
pub struct TakenBody {
    pub message: Vec<String>,
    pub error_code: u16,
    pub ts_error_code: &'static str,
}

/// A 409: the taken identifier, as Transmit's `ts_error_code`.
#[derive(Serialize, ToSchema)]
#[schema(as = IdentifierIsTakenHttpError)]
pub struct ConflictBody {
    pub message: String,
    pub error_code: u16,
    pub ts_error_code: &'static str,
}

/// An error of the password operations, which carry a string `error_code`
/// (`user_not_found`, `auth_password_weak`, ...).
#[derive(Serialize, ToSchema)]
#[schema(as = PasswordHttpError)]
pub struct PasswordErrorBody {
    pub error_code: &'static str,
    pub message: String,
}

/// A login whose password must be replaced first: `temporary_password` or
/// `password_expired`, and the token `POST /cis/v1/auth/password/reset` takes.
#[derive(Serialize, ToSchema)]
#[schema(as = PasswordResetRequired)]
pub struct ResetBody {
    pub message: &'static str,
    pub error_code: u16,
    pub reset_token: String,
}

/// An OAuth 2.0 error of the token endpoint (RFC 6749 §5.2).
#[derive(Serialize, ToSchema)]
#[schema(as = OAuthError)]
pub struct OAuthBody {
    pub error: &'static str,
    pub error_description: String,
}

#[derive(Debug)]
pub enum ApiError {
    BadRequest(Vec<String>),
    /// Missing, malformed, expired or wrongly signed token.
    Unauthorized,
    /// A login that failed, for whatever reason: one answer, so nothing is learnt from it.
    BadCredentials,
    /// The password was right but is temporary or expired: `reason` and a `reset_token`.
    PasswordReset {
        reason: &'static str,
        reset_token: String,
    },
    Forbidden(String),
    NotFound(String),
    MethodNotAllowed,
    Conflict {
        message: String,
        ts_error_code: &'static str,
    },
    /// A taken identifier where the spec documents no 409 (`DECISIONS.md`): a 400 with
    /// the same `ts_error_code`.
    Taken {
        message: String,
        ts_error_code: &'static str,
    },
    PayloadTooLarge,
    /// A client_id cooling down after too many failed authentications: 429, OAuth-shaped,
    /// with `Retry-After` in seconds.
    Throttled {
        retry_after: u64,
    },
    Unavailable,
    Internal,
    /// Errors of the password operations: `{error_code: "<name>", message}`.
    Password {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    /// OAuth 2.0 errors of the token endpoint: `{error, error_description}`.
    OAuth {
        status: StatusCode,
        error: &'static str,
        description: String,
    },
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(vec![message.into()])
    }

    pub fn oauth(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self::OAuth {
            status,
            error,
            description: description.into(),
        }
    }

    pub fn password(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self::Password {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Password { status, .. } => *status,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized | ApiError::BadCredentials => StatusCode::UNAUTHORIZED,
            ApiError::PasswordReset { .. } => StatusCode::FORBIDDEN,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Taken { .. } => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::OAuth { status, .. } => *status,
        }
    }

    /// The answer's message in one line (a 400's messages joined by "; ").
    pub fn message(&self) -> String {
        match self {
            ApiError::BadRequest(messages) => messages.join("; "),
            ApiError::Unauthorized => "Invalid token".into(),
            ApiError::BadCredentials => "Invalid username or password".into(),
            ApiError::PasswordReset { reason, .. } => (*reason).into(),
            ApiError::Forbidden(m) | ApiError::NotFound(m) => m.clone(),
            ApiError::MethodNotAllowed => "Method not allowed".into(),
            ApiError::Conflict { message, .. } | ApiError::Taken { message, .. } => message.clone(),
            ApiError::PayloadTooLarge => "Request body is larger than the limit of 1 MiB".into(),
            ApiError::Throttled { retry_after } => format!(
                "too many failed authentications for this client; retry after {retry_after} s"
            ),
            ApiError::Unavailable => "Service temporarily unavailable".into(),
            ApiError::Internal => "Something went wrong - Internal server error".into(),
            ApiError::OAuth { description, .. } => description.clone(),
            ApiError::Password { message, .. } => message.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let code = status.as_u16();
        let body = match self {
            ApiError::BadRequest(message) => axum::Json(BadRequestBody {
                message,
                error_code: code,
            })
            .into_response(),
            ApiError::Conflict {
                message,
                ts_error_code,
            } => axum::Json(ConflictBody {
                message,
                error_code: code,
                ts_error_code,
            })
            .into_response(),
            ApiError::Taken {
                message,
                ts_error_code,
            } => axum::Json(TakenBody {
                message: vec![message],
                error_code: code,
                ts_error_code,
            })
            .into_response(),
            ApiError::PasswordReset {
                reason,
                reset_token,
            } => axum::Json(ResetBody {
                message: reason,
                error_code: code,
                reset_token,
            })
            .into_response(),
            ApiError::Password { code, message, .. } => axum::Json(PasswordErrorBody {
                error_code: code,
                message,
            })
            .into_response(),
            ApiError::OAuth {
                error, description, ..
            } => axum::Json(OAuthBody {
                error,
                error_description: description,
            })
            .into_response(),
            ApiError::Throttled { retry_after } => {
                let mut response = axum::Json(OAuthBody {
                    error: "temporarily_unavailable",
                    error_description: ApiError::Throttled { retry_after }.message(),
                })
                .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                response
            }
            other => axum::Json(ErrorBody {
                message: other.message(),
                error_code: code,
            })
            .into_response(),
        };
        let mut response = (status, body).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(messages) => ApiError::BadRequest(messages),
            Error::NotFound(m) => ApiError::NotFound(m),
            Error::Conflict { message, code } => ApiError::Conflict {
                message,
                ts_error_code: code,
            },
            Error::Forbidden(m) => ApiError::Forbidden(m),
            Error::Unavailable(detail) => {
                tracing::warn!(error = %detail, "database unavailable");
                ApiError::Unavailable
            }
            Error::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                ApiError::Internal
            }
        }
    }
}

impl ApiError {
    /// For operations whose spec documents no 409: a taken identifier becomes a 400.
    pub fn taken_as_bad_request(e: Error) -> Self {
        match e {
            Error::Conflict { message, code } => ApiError::Taken {
                message,
                ts_error_code: code,
            },
            e => e.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::from(Error::from(e))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
