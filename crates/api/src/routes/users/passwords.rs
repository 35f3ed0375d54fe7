//! Setting a user's password in the caller's app (`users-api.md` §4.11, §4.12). Errors carry
//! the spec's string codes: `user_not_found`, `auth_password_already_configured`,
//! `auth_password_weak`, `auth_password_breached`, `auth_password_recently_used`,
//! `system_invalid_input`.

use crate::auth::{rules, Authorized, Rule};
use crate::error::{ApiError, ApiResult, ErrorBody, PasswordErrorBody};
use crate::extract::{envelope, invalid_password_input, ApiPath, Envelope, PasswordJson};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use roster_core::password::{self, NewPassword, Password, PolicyInput, StoredPassword};
use roster_core::user::UserId;
use roster_core::{AppId, PasswordConfiguration, StoreError, UniqueKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `ApiAddPassword`.
#[derive(Deserialize, ToSchema)]
#[schema(as = ApiAddPassword)]
pub struct AddPasswordInput {
    password: String,
    /// When true (the default) the password is temporary: it must be replaced at the next
    /// login.
    force_replace: Option<bool>,
    /// The login name; stored as the user's username in the app.
    username: Option<String>,
    /// False skips the complexity and common-password checks (never the minimum length).
    enforce_complexity: Option<bool>,
}

/// `ApiUpdatePassword`.
#[derive(Deserialize, ToSchema)]
#[schema(as = ApiUpdatePassword)]
pub struct UpdatePasswordInput {
    password: Option<String>,
    force_replace: Option<bool>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = RegisterPasswordResponse)]
struct Registered {
    message: &'static str,
}

fn registered() -> axum::Json<Envelope<Registered>> {
    envelope(Registered {
        message: "Password registered",
    })
}

fn user_not_found() -> ApiError {
    ApiError::password(StatusCode::NOT_FOUND, "user_not_found", "User not found")
}

fn already_configured(message: &str) -> ApiError {
    ApiError::password(
        StatusCode::CONFLICT,
        "auth_password_already_configured",
        message,
    )
}

/// What a password operation works on: the caller's app, the user in it, and the app's
/// policy.
struct Target {
    app: AppId,
    user_id: UserId,
    policy: PasswordConfiguration,
    current: Option<StoredPassword>,
    /// For the level-5 rule: the login name and the email.
    username: Option<String>,
    email: Option<roster_core::user::Email>,
}

async fn target<R: Rule>(auth: &Authorized<R>, user_id: String) -> ApiResult<Target> {
    let app = auth.scope.app().cloned().ok_or_else(|| {
        invalid_password_input("app_id is required with an admin token: passwords belong to an app")
    })?;
    let user_id = UserId::from_string(user_id);
    let current = match auth.store.password(&app, &user_id).await {
        Ok(current) => current,
        Err(StoreError::NotFound) => return Err(user_not_found()),
        Err(e) => return Err(e.into()),
    };
    let view = auth
        .store
        .get_user(&auth.scope, &user_id)
        .await
        .map_err(|_| user_not_found())?;
    let policy = auth.store.get_app(&app).await?.password_config;
    Ok(Target {
        app,
        user_id,
        policy,
        current,
        username: view.membership.and_then(|m| m.username),
        email: view.user.email.map(|e| e.value),
    })
}

fn checked(
    target: &Target,
    password: &Password,
    username: Option<&str>,
    enforce_complexity: bool,
) -> ApiResult<()> {
    password::check(&PolicyInput {
        password,
        policy: &target.policy,
        enforce_complexity,
        username: username.or(target.username.as_deref()),
        email: target.email.as_ref(),
    })
    .map_err(|v| ApiError::password(StatusCode::BAD_REQUEST, v.code(), v.message()))
}

async fn hashed(state: &AppState, password: Password) -> ApiResult<password::PasswordHash> {
    state.hasher.hash(password).await.ok_or(ApiError::Internal)
}

/// A login name under the identifier rules of `username` on the user routes.
fn username_of(raw: Option<String>) -> ApiResult<Option<String>> {
    raw.map(|name| roster_core::user::ident("username", &name, 256))
        .transpose()
        .map_err(invalid_password_input)
}

/// Add password credentials
///
/// Sets a first password for the user in the caller's app; temporary (replaced at the next
/// login) unless `force_replace` is false.
#[utoipa::path(post, path = "/cis/v1/users/{user_id}/password", operation_id = "addPasswordCredential", tag = "Users",
    params(("user_id" = String, Path)),
    request_body = AddPasswordInput,
    responses(
        (status = 201, body = Envelope<Registered>), (status = 400, body = PasswordErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = PasswordErrorBody), (status = 409, body = PasswordErrorBody),
        (status = 413, body = ErrorBody),
    ))]
pub async fn add_password(
    State(state): State<AppState>,
    auth: Authorized<rules::PasswordsCreate>,
    ApiPath(user_id): ApiPath<String>,
    PasswordJson(input): PasswordJson<AddPasswordInput>,
) -> ApiResult<impl IntoResponse> {
    let username = username_of(input.username)?;
    let target = target(&auth, user_id).await?;
    if target.current.is_some() {
        return Err(already_configured(
            "Password already configured for this user",
        ));
    }
    let password = Password::new(input.password);
    checked(
        &target,
        &password,
        username.as_deref(),
        input.enforce_complexity.unwrap_or(true),
    )?;
    let hash = hashed(&state, password).await?;
    let temporary = input.force_replace.unwrap_or(true);
    let new = NewPassword::new(hash, temporary, state.clock.now(), &target.policy, None);
    let stored = auth
        .store
        .add_password(&target.app, &target.user_id, username.as_deref(), &new)
        .await;
    match stored {
        Ok(()) => Ok((StatusCode::CREATED, registered())),
        Err(StoreError::NotFound) => Err(user_not_found()),
        Err(StoreError::Conflict(UniqueKey::Username)) => Err(invalid_password_input(
            "username is already taken in this app",
        )),
        Err(StoreError::Conflict(_)) => Err(already_configured(
            "Password already configured for this user",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Update password credentials
///
/// Replaces the user's password in the caller's app; temporary unless `force_replace` is
/// false. A user without a password is a 409, as Transmit documents it.
#[utoipa::path(put, path = "/cis/v1/users/{user_id}/password", operation_id = "updatePasswordCredential", tag = "Users",
    params(("user_id" = String, Path)),
    request_body = UpdatePasswordInput,
    responses(
        (status = 200, body = Envelope<Registered>), (status = 400, body = PasswordErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = PasswordErrorBody), (status = 409, body = PasswordErrorBody),
        (status = 413, body = ErrorBody),
    ))]
pub async fn update_password(
    State(state): State<AppState>,
    auth: Authorized<rules::PasswordsEdit>,
    ApiPath(user_id): ApiPath<String>,
    PasswordJson(input): PasswordJson<UpdatePasswordInput>,
) -> ApiResult<impl IntoResponse> {
    let raw = input
        .password
        .ok_or_else(|| invalid_password_input("password is required"))?;
    let target = target(&auth, user_id).await?;
    let Some(current) = target.current.clone() else {
        return Err(already_configured("Password not configured for this user"));
    };
    let password = Password::new(raw);
    checked(&target, &password, None, true)?;
    let keep = target.policy.block_previous_passwords as usize;
    if state
        .hasher
        .matches_any(current.recent(keep), password.clone())
        .await
    {
        return Err(ApiError::password(
            StatusCode::BAD_REQUEST,
            "auth_password_recently_used",
            format!("password must differ from the last {keep} passwords"),
        ));
    }
    let hash = hashed(&state, password).await?;
    let temporary = input.force_replace.unwrap_or(true);
    let new = NewPassword::new(
        hash,
        temporary,
        state.clock.now(),
        &target.policy,
        Some(&current),
    );
    match auth
        .store
        .replace_password(&target.app, &target.user_id, current.updated_at, &new)
        .await
    {
        Ok(()) => Ok(registered()),
        Err(StoreError::NotFound) => Err(already_configured(
            "The password changed meanwhile: read it again",
        )),
        Err(e) => Err(e.into()),
    }
}

/// `ApiMeAddPassword`.
#[derive(Deserialize, ToSchema)]
#[schema(as = ApiMeAddPassword)]
pub struct MyPasswordInput {
    password: String,
    /// The login name; stored as the user's username in the app.
    username: Option<String>,
}

fn forbidden(message: &str) -> ApiError {
    ApiError::Forbidden(message.into())
}

/// Add password credentials to the current user
///
/// A logged-in end user (user token) sets a first password in the token's app; it is not
/// temporary. A user who has one already is refused (403).
#[utoipa::path(post, path = "/cis/v1/users/me/password-credentials", operation_id = "addPasswordCredentialsToCurrentUser", tag = "Users",
    request_body = MyPasswordInput,
    responses(
        (status = 200, body = Envelope<Registered>), (status = 400, body = PasswordErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody),
    ))]
pub async fn add_my_password(
    State(state): State<AppState>,
    auth: Authorized<rules::Me>,
    PasswordJson(input): PasswordJson<MyPasswordInput>,
) -> ApiResult<impl IntoResponse> {
    let username = username_of(input.username)?;
    let user_id = auth.principal.user_id.clone().unwrap_or_default();
    let target = target(&auth, user_id)
        .await
        .map_err(|_| forbidden("The token's user is not a user of its app"))?;
    if target.current.is_some() {
        return Err(forbidden("A password is already configured for this user"));
    }
    let password = Password::new(input.password);
    checked(&target, &password, username.as_deref(), true)?;
    let hash = hashed(&state, password).await?;
    let new = NewPassword::new(hash, false, state.clock.now(), &target.policy, None);
    match auth
        .store
        .add_password(&target.app, &target.user_id, username.as_deref(), &new)
        .await
    {
        Ok(()) => Ok(registered()),
        Err(StoreError::Conflict(UniqueKey::Username)) => Err(invalid_password_input(
            "username is already taken in this app",
        )),
        Err(StoreError::Conflict(_)) => {
            Err(forbidden("A password is already configured for this user"))
        }
        Err(StoreError::NotFound) => Err(forbidden("The token's user is not a user of its app")),
        Err(e) => Err(e.into()),
    }
}
