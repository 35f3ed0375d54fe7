//! JSON bodies: content type checked, size limited, and deserialisation errors that name
//! the field, all answered as `ApiError`.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use roster_core::object::Object;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Request body limit for every route.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// A JSON object body (an array in its place is a 400, never read by position).
pub struct ApiJson<T>(pub T);

/// A JSON array body, for the bulk operations.
pub struct ApiJsonArray<T>(pub Vec<T>);

/// A JSON body that may be left out or blank (then `T::default()`): many clients send a
/// body-less POST, with or without a JSON content type.
pub struct ApiJsonOrEmpty<T>(pub T);

fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// A 400, as `DECISIONS.md` says (Transmit documents no 415).
fn wrong_content_type() -> ApiError {
    ApiError::bad_request("Content-Type must be application/json")
}

/// The body, within the size limit (413 beyond it).
async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::bad_request("request body could not be read")
        }
    })
}

/// The body of a request that must declare JSON.
async fn read_json_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    if !is_json(req.headers()) {
        return Err(wrong_content_type());
    }
    read_body(req, state).await
}

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        parse_json(&read_json_body(req, state).await?).map(ApiJson)
    }
}

impl<T, S> FromRequest<S> for ApiJsonArray<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        parse_json_as::<Vec<T>>(&read_json_body(req, state).await?).map(ApiJsonArray)
    }
}

impl<T, S> FromRequest<S> for ApiJsonOrEmpty<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = is_json(req.headers());
        let bytes = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(ApiJsonOrEmpty(T::default()));
        }
        if !json {
            return Err(wrong_content_type());
        }
        parse_json(&bytes).map(ApiJsonOrEmpty)
    }
}

/// Parses a JSON object; an error names the path of the offending field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    parse_json_as::<Object<T>>(bytes).map(|o| o.0)
}

/// Parses any JSON document into `T`; an error names the path of the offending field.
fn parse_json_as<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    crate::strict_json::check(bytes).map_err(|problem| {
        ApiError::BadRequest(vec![format!("request body is not valid JSON: {problem}")])
    })?;
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("request body is not valid JSON: {inner}")
        } else if path == "." {
            format!("request body: {inner}")
        } else {
            format!("{path}: {inner}")
        };
        ApiError::BadRequest(vec![message])
    })
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Transmit's success envelope: `{"result": ...}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Envelope<T> {
    pub result: T,
}

pub fn envelope<T: Serialize>(result: T) -> axum::Json<Envelope<T>> {
    axum::Json(Envelope { result })
}

/// Path parameters, percent-decoded; a bad one is a 400 in the API's shape.
pub struct ApiPath<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e| {
                ApiError::bad_request(format!("invalid path parameter: {}", e.body_text()))
            })
    }
}

/// Query parameters; a bad one is a 400 naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|err| {
                let path = err.path().to_string();
                ApiError::bad_request(format!("query parameter {path}: {}", err.into_inner()))
            })
    }
}

/// A JSON body of the password operations, whose spec gives 400s a string `error_code`:
/// an unreadable body, or one without the JSON content type, is `system_invalid_input`.
pub struct PasswordJson<T>(pub T);

impl<T, S> FromRequest<S> for PasswordJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match ApiJson::<T>::from_request(req, state).await {
            Ok(ApiJson(body)) => Ok(PasswordJson(body)),
            Err(ApiError::BadRequest(messages)) => Err(invalid_password_input(messages.join("; "))),
            Err(other) => Err(other),
        }
    }
}

/// `system_invalid_input`, the password operations' 400 for malformed input.
pub fn invalid_password_input(message: impl Into<String>) -> ApiError {
    ApiError::password(StatusCode::BAD_REQUEST, "system_invalid_input", message)
}
