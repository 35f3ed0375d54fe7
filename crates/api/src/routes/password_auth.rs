//! End-user password login (`users-api.md` §7.3): the backend authentication with a client
//! token, and the reset that replaces a temporary or expired password.

use crate::auth::{rules, Authorized};
use crate::error::{ApiError, ApiResult, BadRequestBody, ErrorBody, PasswordErrorBody, ResetBody};
use crate::extract::{ApiJson, PasswordJson};
use crate::login::{
    login, LoginApp, Outcome, ResetClaims, UserTokens, UsernameType, RESET_AUDIENCE,
};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_core::password::{self, NewPassword, Password, PolicyInput};
use roster_core::user::{Scope, UserId};
use roster_core::{AppId, TenantId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct AuthenticateInput {
    /// The login name: a username, email, phone number or user ID, as `username_type` says.
    username: String,
    password: String,
    #[serde(default)]
    username_type: UsernameType,
}

/// Authenticate with a password
///
/// Logs an end user in to the calling client's app. A wrong username or password, a locked
/// or disabled user all give the same 401. A right but temporary or expired password gives
/// 403 with a `reset_token` for `POST /cis/v1/auth/password/reset`.
#[utoipa::path(post, path = "/cis/v1/auth/password/authenticate", operation_id = "authenticatePassword", tag = "Authentication",
    request_body = AuthenticateInput,
    responses(
        (status = 200, body = UserTokens), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ResetBody),
        (status = 413, body = ErrorBody),
    ))]
pub async fn authenticate(
    State(state): State<AppState>,
    auth: Authorized<rules::UsersRead>,
    ApiJson(input): ApiJson<AuthenticateInput>,
) -> ApiResult<Json<UserTokens>> {
    let p = &auth.principal;
    let app = state.store.tenant(&p.tenant_id).get_app(&p.app_id).await?;
    let target = LoginApp {
        tenant: &p.tenant_id,
        app_id: &p.app_id,
        app_name: &app.name,
        client_id: &p.client_id,
    };
    let password = Password::new(input.password);
    match login(
        &state,
        &target,
        input.username_type,
        &input.username,
        password,
    )
    .await?
    {
        Outcome::Tokens(tokens) => Ok(Json(tokens)),
        Outcome::Reset {
            reason,
            reset_token,
        } => Err(ApiError::PasswordReset {
            reason,
            reset_token,
        }),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ResetInput {
    reset_token: String,
    new_password: String,
}

#[derive(Serialize, ToSchema)]
pub struct ResetDone {
    message: &'static str,
}

fn bad_reset_token() -> ApiError {
    ApiError::Forbidden("The reset token is invalid, expired or already used".into())
}

/// Reset a temporary or expired password
///
/// Takes the `reset_token` a login answered with (valid 5 minutes, once) and the new
/// password, which the app's policy and history apply to; the new one is not temporary.
#[utoipa::path(post, path = "/cis/v1/auth/password/reset", operation_id = "resetPassword", tag = "Authentication",
    request_body = ResetInput,
    security(()),
    responses(
        (status = 200, body = ResetDone), (status = 400, body = PasswordErrorBody),
        (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
    ))]
pub async fn reset(
    State(state): State<AppState>,
    PasswordJson(input): PasswordJson<ResetInput>,
) -> ApiResult<Json<ResetDone>> {
    let claims: ResetClaims = state
        .keys
        .decode(&state.store, &input.reset_token, RESET_AUDIENCE)
        .await
        .ok_or_else(bad_reset_token)?;
    let store = state.store.tenant(&TenantId::from_string(claims.tid));
    let (app, user_id) = (
        AppId::from_string(claims.app_id),
        UserId::from_string(claims.sub),
    );
    let current = store
        .password(&app, &user_id)
        .await
        .ok()
        .flatten()
        .filter(|c| c.updated_at == claims.pwd)
        .ok_or_else(bad_reset_token)?;
    let view = store
        .get_user(&Scope::Members(app.clone()), &user_id)
        .await?;
    let policy = store.get_app(&app).await?.password_config;
    let new_password = Password::new(input.new_password);
    password::check(&PolicyInput {
        password: &new_password,
        policy: &policy,
        enforce_complexity: true,
        username: view.membership.as_ref().and_then(|m| m.username.as_deref()),
        email: view.user.email.as_ref().map(|e| &e.value),
    })
    .map_err(|v| ApiError::password(StatusCode::BAD_REQUEST, v.code(), v.message()))?;
    let keep = (policy.block_previous_passwords as usize).max(1);
    if state
        .hasher
        .matches_any(current.recent(keep), new_password.clone())
        .await
    {
        return Err(ApiError::password(
            StatusCode::BAD_REQUEST,
            "auth_password_recently_used",
            "the new password must differ from the one it replaces",
        ));
    }
    let hash = state
        .hasher
        .hash(new_password)
        .await
        .ok_or(ApiError::Internal)?;
    let now = state.clock.now();
    let new = NewPassword::new(hash, false, now, &policy, Some(&current));
    store
        .replace_password(&app, &user_id, current.updated_at, &new)
        .await
        .map_err(|_| bad_reset_token())?;
    Ok(Json(ResetDone {
        message: "Password changed successfully",
    }))
}
