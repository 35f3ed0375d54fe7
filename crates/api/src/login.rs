//! End-user password login, shared by `POST /cis/v1/auth/password/authenticate` and the
//! token endpoint's password grant: find the user in the app, check the password (a dummy
//! check for unknown users, so both failures take the same time), count failures toward
//! lockout, and either sign the user's tokens or ask for a reset.

use crate::error::ApiError;
use crate::state::AppState;
use crate::tokens::{Grant, TOKEN_TTL_SECS};
use roster_core::id::random_id;
use roster_core::password::{Password, PasswordHash, StoredPassword};
use roster_core::session::{RefreshToken, Rotation};
use roster_core::user::{Email, Identity, Lookup, PhoneNumber, Scope, UserStatus, UserView};
use roster_core::{AppId, ClientId, Error, StoreError, TenantId, UserId};
use roster_store::TenantStore;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// `aud` of the reset tokens a temporary or expired password answers with.
pub const RESET_AUDIENCE: &str = "password-reset";
/// How long a reset token is good for.
const RESET_TTL_SECS: i64 = 300;

/// How the login names the user (`username_type`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UsernameType {
    #[default]
    Username,
    Email,
    PhoneNumber,
    UserId,
}

/// The app a login is for, as its client token or credentials tell it.
pub struct LoginApp<'a> {
    pub tenant: &'a TenantId,
    pub app_id: &'a AppId,
    pub app_name: &'a str,
    pub client_id: &'a ClientId,
}

/// What a login gives.
pub enum Outcome {
    /// The user's tokens.
    Tokens(UserTokens),
    /// The password is right but temporary or expired: replace it first.
    Reset {
        reason: &'static str,
        reset_token: String,
    },
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserTokens {
    pub access_token: String,
    pub id_token: String,
    /// Exchanged at the token endpoint (`grant_type=refresh_token`) for new tokens and a
    /// new refresh token; 14 days, once.
    pub refresh_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub session_id: String,
}

/// The claims of an ID token.
#[derive(Serialize)]
struct IdClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    auth_time: i64,
    sid: &'a str,
    tid: &'a str,
    app_id: &'a str,
}

/// The claims of a reset token: it names the password it replaces (`pwd`, when that was
/// set), so it works once.
#[derive(Serialize, Deserialize)]
pub struct ResetClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub tid: String,
    pub app_id: String,
    pub pwd: i64,
}

/// A hash no password matches, checked when there is no user or no password, so that the
/// answer takes as long as a wrong password's.
fn dummy_hash(state: &AppState) -> PasswordHash {
    static DUMMY: OnceLock<PasswordHash> = OnceLock::new();
    DUMMY
        .get_or_init(|| {
            let secret = Password::new(random_id(32));
            state
                .hasher
                .params()
                .hash(&secret)
                .unwrap_or_else(|_| PasswordHash::from_stored(String::new()))
        })
        .clone()
}

fn lookup(kind: UsernameType, value: &str) -> Option<Lookup> {
    match kind {
        UsernameType::Username => Some(Lookup::Username(value.to_lowercase())),
        UsernameType::Email => Email::parse("username", value)
            .ok()
            .map(|e| Lookup::Email(e.key())),
        UsernameType::PhoneNumber => PhoneNumber::parse("username", value)
            .ok()
            .map(Lookup::Phone),
        UsernameType::UserId => None,
    }
}

async fn find(
    store: &TenantStore,
    app: &AppId,
    kind: UsernameType,
    value: &str,
) -> Option<UserView> {
    let scope = Scope::Members(app.clone());
    let found = match lookup(kind, value) {
        Some(l) => store.find_user(&scope, &l).await,
        None if kind == UsernameType::UserId => {
            store.get_user(&scope, &UserId::from_string(value)).await
        }
        None => return None,
    };
    found.ok()
}

/// Logs `username` in to the app with `password`. Every refusal is the same
/// `BadCredentials`: unknown user, no password, wrong password, locked, or disabled. One
/// sequence of steps (find, lock, verify, count, reset, record, sign) kept in one place on
/// purpose: the order of the checks is what keeps the refusals alike.
pub async fn login(
    state: &AppState,
    app: &LoginApp<'_>,
    kind: UsernameType,
    username: &str,
    password: Password,
) -> Result<Outcome, ApiError> {
    let store = state.store.tenant(app.tenant);
    let user = find(&store, app.app_id, kind, username).await;
    let stored = match &user {
        Some(view) => match store.password(app.app_id, &view.user.user_id).await {
            Ok(stored) => stored,
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let now = state.clock.now();
    let (Some(view), Some(stored)) = (user, stored) else {
        state
            .hasher
            .matches_any(vec![dummy_hash(state)], password)
            .await;
        return Err(ApiError::BadCredentials);
    };
    if stored.failures.locked(now) {
        state
            .hasher
            .matches_any(vec![dummy_hash(state)], password)
            .await;
        return Err(ApiError::BadCredentials);
    }
    let user_id = view.user.user_id.clone();
    if !state
        .hasher
        .matches_any(vec![stored.hash.clone()], password)
        .await
    {
        let policy = store.get_app(app.app_id).await?.password_config;
        let failures = stored.failures.after_failure(now, &policy);
        store
            .record_login_failure(app.app_id, &user_id, &failures)
            .await?;
        return Err(ApiError::BadCredentials);
    }
    if view.user.status == UserStatus::Disabled {
        return Err(ApiError::BadCredentials);
    }
    if stored.temporary || stored.expired(now) {
        let reason = if stored.temporary {
            "temporary_password"
        } else {
            "password_expired"
        };
        let reset_token = reset_token(state, app, &user_id, &stored, now)?;
        return Ok(Outcome::Reset {
            reason,
            reset_token,
        });
    }
    let identity = Identity {
        provider_name: "Password".into(),
        provider_type: "Native".into(),
        auth_type: "password".into(),
        identifier: username.to_owned(),
        first_auth_date: now,
        last_auth_date: now,
    };
    store
        .record_login(app.app_id, &user_id, &identity, now)
        .await
        .map_err(|e| match e {
            Error::NotFound(_) => ApiError::BadCredentials,
            e => e.into(),
        })?;
    let refresh = RefreshToken::generate();
    store
        .start_session(app.app_id, app.client_id, &user_id, &refresh.digest(), now)
        .await?;
    Ok(Outcome::Tokens(user_tokens(
        state, app, &user_id, now, refresh,
    )?))
}

/// The refresh-token grant: the presented token is exchanged for new tokens and the next
/// refresh token. Anything wrong is `BadCredentials`.
pub async fn refresh(
    state: &AppState,
    app: &LoginApp<'_>,
    presented: RefreshToken,
) -> Result<UserTokens, ApiError> {
    let store = state.store.tenant(app.tenant);
    let now = state.clock.now();
    let next = RefreshToken::generate();
    let rotated = store
        .rotate_refresh_token(app.client_id, &presented.digest(), &next.digest(), now)
        .await?;
    let Rotation::Rotated(user_id) = rotated else {
        return Err(ApiError::BadCredentials);
    };
    let view = store
        .get_user(&Scope::Members(app.app_id.clone()), &user_id)
        .await
        .map_err(|_| ApiError::BadCredentials)?;
    if view.user.status == UserStatus::Disabled {
        return Err(ApiError::BadCredentials);
    }
    user_tokens(state, app, &user_id, now, next)
}

fn signing_failed(e: serde_json::Error) -> ApiError {
    tracing::error!(error = %e, "could not sign a token");
    ApiError::Internal
}

fn user_tokens(
    state: &AppState,
    app: &LoginApp<'_>,
    user_id: &UserId,
    now: i64,
    refresh: RefreshToken,
) -> Result<UserTokens, ApiError> {
    let session_id = random_id(21);
    let access_token = state
        .keys
        .issue(&Grant {
            tenant_id: app.tenant,
            app_id: app.app_id,
            app_name: app.app_name,
            client_id: app.client_id,
            is_admin: false,
            audience: crate::tokens::DEFAULT_AUDIENCE,
            scope: "",
            user: Some(user_id),
        })
        .map_err(signing_failed)?;
    let secs = now / 1000;
    let id_token = state
        .keys
        .sign(&IdClaims {
            iss: state.keys.issuer(),
            sub: user_id.as_str(),
            aud: app.client_id.as_str(),
            iat: secs,
            exp: secs + TOKEN_TTL_SECS,
            auth_time: secs,
            sid: &session_id,
            tid: app.tenant.as_str(),
            app_id: app.app_id.as_str(),
        })
        .map_err(signing_failed)?;
    Ok(UserTokens {
        access_token,
        id_token,
        refresh_token: refresh.expose().to_owned(),
        token_type: "Bearer",
        expires_in: TOKEN_TTL_SECS,
        session_id,
    })
}

fn reset_token(
    state: &AppState,
    app: &LoginApp<'_>,
    user_id: &UserId,
    stored: &StoredPassword,
    now: i64,
) -> Result<String, ApiError> {
    let secs = now / 1000;
    state
        .keys
        .sign(&ResetClaims {
            iss: state.keys.issuer().to_owned(),
            sub: user_id.to_string(),
            aud: RESET_AUDIENCE.into(),
            iat: secs,
            exp: secs + RESET_TTL_SECS,
            jti: random_id(21),
            tid: app.tenant.to_string(),
            app_id: app.app_id.to_string(),
            pwd: stored.updated_at,
        })
        .map_err(signing_failed)
}
