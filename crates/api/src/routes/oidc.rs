//! The token endpoint (client credentials), the JWK set and OpenID discovery.

use crate::error::{ApiError, ErrorBody, OAuthBody};
use crate::login::{login, refresh, LoginApp, Outcome, UserTokens, UsernameType};
use crate::state::AppState;
use crate::throttle::retry_after_secs;
use crate::tokens::{Grant, DEFAULT_AUDIENCE, TOKEN_TTL_SECS};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use roster_core::password::Password;
use roster_core::secret::SecretHash;
use roster_core::session::RefreshToken;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::OnceLock;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    scope: String,
}

fn invalid_request(description: impl Into<String>) -> ApiError {
    ApiError::oauth(StatusCode::BAD_REQUEST, "invalid_request", description)
}

fn invalid_client() -> ApiError {
    ApiError::oauth(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "client authentication failed",
    )
}

fn throttled(wait: std::time::Duration) -> ApiError {
    tracing::warn!("token endpoint: a client is cooling down after failed authentications");
    ApiError::Throttled {
        retry_after: retry_after_secs(wait),
    }
}

/// Longest `scope` a token carries (`DECISIONS.md`): tokens, and the memory that keeps
/// verified ones, stay small.
const SCOPE_MAX: usize = 1024;

/// A hash no secret matches, checked for unknown clients so both failures take one path.
fn dummy_hash() -> &'static SecretHash {
    static DUMMY: OnceLock<SecretHash> = OnceLock::new();
    DUMMY.get_or_init(|| SecretHash::of("unknown client: no secret matches this"))
}

/// The form the token endpoint reads (`application/x-www-form-urlencoded`).
#[derive(ToSchema)]
#[allow(dead_code)]
struct TokenForm {
    /// `client_credentials`, or `password` for an end user of the client's app.
    grant_type: String,
    /// Or HTTP Basic authentication.
    client_id: Option<String>,
    client_secret: Option<String>,
    /// The audience asked for: `userid-api` (the default) or one of the client's resources.
    resource: Option<String>,
    scope: Option<String>,
    /// The password grant's end user and password.
    username: Option<String>,
    password: Option<String>,
    /// username (the default), email, phone_number or user_id.
    username_type: Option<String>,
    /// The refresh-token grant's token.
    refresh_token: Option<String>,
}

/// Get an access token
///
/// The OAuth 2.0 client-credentials grant; the client authenticates with HTTP Basic or in the
/// form.
#[utoipa::path(post, path = "/oidc/token", operation_id = "getAccessToken", tag = "Tokens",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    security(()),
    responses(
        (status = 200, body = TokenResponse), (status = 400, body = OAuthBody),
        (status = 401, body = OAuthBody), (status = 413, body = ErrorBody),
        (status = 429, body = OAuthBody, description = "Too many failed authentications of this client; retry after `Retry-After` seconds",
            headers(("Retry-After" = u64, description = "Seconds until the client may try again"))),
    ))]
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let form = read_form(&headers, body)?;
    let nonempty = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let grant_type =
        nonempty("grant_type").ok_or_else(|| invalid_request("grant_type is required"))?;
    if !matches!(
        grant_type,
        "client_credentials" | "password" | "refresh_token"
    ) {
        return Err(ApiError::oauth(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("grant_type {grant_type} is not supported"),
        ));
    }
    let (client_id, secret) = presented_credentials(&headers, &form)?;
    if let Some(wait) = state.throttle.cooling_down(&client_id) {
        return Err(throttled(wait));
    }
    let found = state.store.client_credentials(&client_id).await?;
    let hash = found.as_ref().map_or(dummy_hash(), |c| &c.secret_hash);
    let secret_ok = hash.verify(&secret);
    let client = match found {
        Some(c) if secret_ok => c,
        // Only existing clients are counted, so the counts stay as few as the clients.
        Some(_) => {
            return Err(match state.throttle.failed(&client_id) {
                Some(wait) => throttled(wait),
                None => invalid_client(),
            })
        }
        None => return Err(invalid_client()),
    };
    match grant_type {
        "password" => return password_grant(&state, &client, &form).await,
        "refresh_token" => return refresh_grant(&state, &client, &form).await,
        _ => {}
    }
    let audience = match nonempty("resource") {
        None => DEFAULT_AUDIENCE,
        Some(r) if r == DEFAULT_AUDIENCE || client.resources.iter().any(|x| x == r) => r,
        Some(_) => {
            return Err(ApiError::oauth(
                StatusCode::BAD_REQUEST,
                "invalid_target",
                "resource is not allowed for this client",
            ))
        }
    };
    let scope = nonempty("scope").unwrap_or_default();
    if scope.len() > SCOPE_MAX {
        return Err(ApiError::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            format!("scope must be at most {SCOPE_MAX} bytes"),
        ));
    }
    let access_token = state
        .keys
        .issue(&Grant {
            tenant_id: &client.tenant_id,
            app_id: &client.app_id,
            app_name: &client.app_name,
            client_id: &client.client_id,
            is_admin: client.is_management,
            audience,
            scope,
            user: None,
        })
        .map_err(|e| {
            tracing::error!(error = %e, "could not sign a token");
            ApiError::Internal
        })?;
    let mut response = Json(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: TOKEN_TTL_SECS,
        scope: scope.to_owned(),
    })
    .into_response();
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// The resource-owner password grant: the client's app logs its user in.
async fn password_grant(
    state: &AppState,
    client: &roster_core::ClientCredentials,
    form: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let username = field("username").ok_or_else(|| invalid_request("username is required"))?;
    let password = field("password").ok_or_else(|| invalid_request("password is required"))?;
    let kind = match field("username_type") {
        None => UsernameType::default(),
        Some(raw) => serde_json::from_value(Value::String(raw.to_owned())).map_err(|_| {
            invalid_request("username_type must be username, email, phone_number or user_id")
        })?,
    };
    let app = LoginApp {
        tenant: &client.tenant_id,
        app_id: &client.app_id,
        app_name: &client.app_name,
        client_id: &client.client_id,
    };
    match login(
        state,
        &app,
        kind,
        username,
        Password::new(password.to_owned()),
    )
    .await
    {
        Ok(Outcome::Tokens(tokens)) => Ok(user_token_response(tokens)),
        Ok(Outcome::Reset {
            reason,
            reset_token,
        }) => Err(ApiError::PasswordReset {
            reason,
            reset_token,
        }),
        Err(ApiError::BadCredentials) => Err(ApiError::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the username or password is wrong",
        )),
        Err(e) => Err(e),
    }
}

/// The refresh-token grant: rotates the client's refresh token.
async fn refresh_grant(
    state: &AppState,
    client: &roster_core::ClientCredentials,
    form: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    let presented = form
        .get("refresh_token")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| invalid_request("refresh_token is required"))?;
    let app = LoginApp {
        tenant: &client.tenant_id,
        app_id: &client.app_id,
        app_name: &client.app_name,
        client_id: &client.client_id,
    };
    match refresh(state, &app, RefreshToken::presented(presented.clone())).await {
        Ok(tokens) => Ok(user_token_response(tokens)),
        Err(ApiError::BadCredentials) => Err(ApiError::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the refresh token is invalid, expired, revoked or already used",
        )),
        Err(e) => Err(e),
    }
}

fn user_token_response(tokens: UserTokens) -> Response {
    let mut response = Json(json!({
        "access_token": tokens.access_token,
        "id_token": tokens.id_token,
        "refresh_token": tokens.refresh_token,
        "token_type": tokens.token_type,
        "expires_in": tokens.expires_in,
        "scope": "",
        "session_id": tokens.session_id,
    }))
    .into_response();
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// The form body; a parameter given twice is refused (RFC 6749 §3.2).
fn read_form(
    headers: &HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<HashMap<String, String>, ApiError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(invalid_request(
            "Content-Type must be application/x-www-form-urlencoded",
        ));
    }
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            invalid_request("request body could not be read")
        }
    })?;
    let mut form: HashMap<String, String> = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(&body) {
        if form.insert(k.to_string(), v.into_owned()).is_some() {
            return Err(invalid_request(format!("parameter {k} is repeated")));
        }
    }
    Ok(form)
}

/// The client id and secret, from HTTP Basic or the form, never both.
fn presented_credentials(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(String, String), ApiError> {
    let nonempty = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    match (
        basic_credentials(headers)?,
        nonempty("client_id"),
        nonempty("client_secret"),
    ) {
        (Some((id, secret)), body_id, body_secret) => {
            if body_id.is_some_and(|b| b != id) || body_secret.is_some() {
                return Err(invalid_request(
                    "use one client authentication method: HTTP Basic or the request body",
                ));
            }
            Ok((id, secret))
        }
        (None, Some(id), Some(secret)) => Ok((id.to_owned(), secret.to_owned())),
        (None, None, _) => Err(invalid_request("client_id is required")),
        (None, Some(_), None) => Err(invalid_request("client_secret is required")),
    }
}

/// Get an access token (under `/cis`)
#[utoipa::path(post, path = "/cis/oidc/token", operation_id = "getAccessTokenCis", tag = "Tokens",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    security(()),
    responses(
        (status = 200, body = TokenResponse), (status = 400, body = OAuthBody),
        (status = 401, body = OAuthBody), (status = 413, body = ErrorBody),
        (status = 429, body = OAuthBody, description = "Too many failed authentications of this client; retry after `Retry-After` seconds",
            headers(("Retry-After" = u64, description = "Seconds until the client may try again"))),
    ))]
pub async fn token_cis(
    state: State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    token(state, headers, body).await
}

/// `Authorization: Basic` client credentials (RFC 6749 §2.3.1: each part form-encoded).
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| invalid_client())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(invalid_client());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(invalid_client());
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid_client)?;
    let (id, secret) = decoded.split_once(':').ok_or_else(invalid_client)?;
    let unescape = |s: &str| -> String {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let (id, secret) = (unescape(id), unescape(secret));
    if id.is_empty() || secret.is_empty() {
        return Err(invalid_client());
    }
    Ok(Some((id, secret)))
}

/// The token signing keys
#[utoipa::path(get, path = "/cis/oidc/jwks", operation_id = "getJwks", tag = "Tokens",
    security(()), responses((status = 200, description = "A JWK set", body = Object)))]
pub async fn jwks(State(state): State<AppState>) -> Json<Value> {
    Json(state.keys.jwks())
}

/// OpenID discovery
#[utoipa::path(get, path = "/.well-known/openid-configuration", operation_id = "getDiscovery", tag = "Tokens",
    security(()), responses((status = 200, body = Object)))]
pub async fn discovery(state: State<AppState>) -> Json<Value> {
    discovery_document(&state)
}

/// OpenID discovery (under `/cis/oidc`)
#[utoipa::path(get, path = "/cis/oidc/.well-known/openid-configuration", operation_id = "getDiscoveryCis", tag = "Tokens",
    security(()), responses((status = 200, body = Object)))]
pub async fn discovery_cis(state: State<AppState>) -> Json<Value> {
    discovery_document(&state)
}

fn discovery_document(state: &AppState) -> Json<Value> {
    let issuer = state.keys.issuer();
    Json(json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/oidc/token"),
        "jwks_uri": format!("{issuer}/cis/oidc/jwks"),
        "grant_types_supported": ["client_credentials", "password", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "scopes_supported": ["openid"],
    }))
}
