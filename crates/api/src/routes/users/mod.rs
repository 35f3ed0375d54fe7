//! The Users API (`/cis/v1/users...`, `/cis/v1/manage/users/{id}`).

pub mod bulk;
pub mod contacts;
pub mod lookup;
pub mod passwords;
pub(crate) mod view;

use crate::auth::{rules, Authorized};
use crate::error::{ApiError, ApiResult, BadRequestBody, ConflictBody, ErrorBody};
use crate::extract::{envelope, ApiJson, ApiPath, Envelope};
use crate::hasher::Hasher;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use roster_core::password::{self, NewPassword, PolicyInput};
use roster_core::time::now_ms;
use roster_core::user::{CreateUserInput, NewUser, Scope, UpdateUserInput, UserId, UserView};
use roster_core::{Error, PasswordConfiguration};
use roster_store::TenantStore;
use view::UserJson;

/// `{"result": ApiUser}`, for the OpenAPI document.
pub(crate) type UserResult = Envelope<UserJson<'static>>;

pub(crate) fn user_result(view: &UserView) -> axum::Json<Envelope<UserJson<'_>>> {
    envelope(UserJson::new(view))
}

/// Validates creates, including what needs the store (the delegated-access actor) and the
/// app's password policy, read once per request.
pub(crate) struct Creates<'a> {
    store: &'a TenantStore,
    scope: &'a Scope,
    hasher: &'a Hasher,
    policy: Option<PasswordConfiguration>,
}

impl<'a> Creates<'a> {
    pub(crate) fn new(store: &'a TenantStore, scope: &'a Scope, hasher: &'a Hasher) -> Self {
        Self {
            store,
            scope,
            hasher,
            policy: None,
        }
    }

    pub(crate) async fn prepare(&mut self, input: CreateUserInput) -> Result<NewUser, Error> {
        let mut new = input.validate(now_ms())?;
        let Some(app) = self.scope.app() else {
            if new.has_app_data() {
                return Err(Error::invalid(
                    "username, external_account_id, custom_app_data and credentials are app-level: admin tokens must pass app_id",
                ));
            }
            return self.actor_checked(new).await;
        };
        if let Some(credentials) = new.credentials.take() {
            if self.policy.is_none() {
                self.policy = Some(self.store.get_app(app).await?.password_config);
            }
            let policy = self.policy.as_ref().unwrap_or(&DEFAULT_POLICY);
            password::check(&PolicyInput {
                password: &credentials.password,
                policy,
                enforce_complexity: true,
                username: new.username.as_deref(),
                email: new.user.email.as_ref().map(|e| &e.value),
            })
            .map_err(|v| Error::invalid(format!("credentials.password: {}", v.message())))?;
            let hash = self
                .hasher
                .hash(credentials.password)
                .await
                .ok_or_else(|| Error::Internal("could not hash a password".into()))?;
            let stored = NewPassword::new(hash, credentials.temporary, now_ms(), policy, None);
            new.password = Some(stored);
        }
        self.actor_checked(new).await
    }

    async fn actor_checked(&self, new: NewUser) -> Result<NewUser, Error> {
        if let Some(d) = &new.user.profile.delegated_access {
            let actor = UserId::from_string(d.actor_id.clone());
            let found = self.store.get_user(&Scope::Tenant(None), &actor).await;
            if let Err(Error::NotFound(_)) = found {
                return Err(Error::invalid(
                    "delegated_access.actor_id is not a user of this tenant",
                ));
            }
        }
        Ok(new)
    }
}

static DEFAULT_POLICY: std::sync::LazyLock<PasswordConfiguration> =
    std::sync::LazyLock::new(PasswordConfiguration::default);

/// Create user
///
/// Creates the user, or links an existing tenant user with the same primary email, phone
/// number or `external_user_id` to the calling app.
#[utoipa::path(post, path = "/cis/v1/users", operation_id = "createUser", tag = "Users",
    request_body = CreateUserInput,
    responses(
        (status = 201, description = "The user was created or linked", body = UserResult),
        (status = 400, body = BadRequestBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, description = "An admin's `app_id` names no app", body = ErrorBody),
        (status = 409, body = ConflictBody), (status = 413, body = ErrorBody),
    ))]
pub async fn create_user(
    State(state): State<AppState>,
    auth: Authorized<rules::UsersCreate>,
    ApiJson(input): ApiJson<CreateUserInput>,
) -> ApiResult<impl IntoResponse> {
    let new = Creates::new(&auth.store, &auth.scope, &state.hasher)
        .prepare(input)
        .await?;
    let (view, _) = auth.store.create_user(auth.scope.app(), &new).await?;
    Ok((StatusCode::CREATED, user_result(&view)).into_response())
}

/// Get user by ID
#[utoipa::path(get, path = "/cis/v1/users/{user_id}", operation_id = "getUserById", tag = "Users",
    params(("user_id" = String, Path, description = "The user ID to search for")),
    responses(
        (status = 200, body = UserResult), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn get_user(
    auth: Authorized<rules::UsersRead>,
    ApiPath(user_id): ApiPath<String>,
) -> ApiResult<impl IntoResponse> {
    let view = auth
        .store
        .get_user(&auth.scope, &UserId::from_string(user_id))
        .await?;
    Ok(user_result(&view).into_response())
}

/// Update user
///
/// A merge, applied atomically: absent fields stay, objects are replaced whole, custom data
/// is shallow-merged, secondary contacts are added.
#[utoipa::path(put, path = "/cis/v1/users/{user_id}", operation_id = "updateUser", tag = "Users",
    params(
        ("user_id" = String, Path, description = "The ID of the user that should be updated"),
        ("user-agent" = Option<String>, Header),
    ),
    request_body = UpdateUserInput,
    responses(
        (status = 200, body = UserResult), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody),
    ))]
pub async fn update_user(
    auth: Authorized<rules::UsersEdit>,
    ApiPath(user_id): ApiPath<String>,
    ApiJson(input): ApiJson<UpdateUserInput>,
) -> ApiResult<impl IntoResponse> {
    let view = auth
        .store
        .update_user(
            &auth.scope,
            &UserId::from_string(user_id),
            move |user, membership| input.apply(user, membership, now_ms()),
        )
        .await
        .map_err(ApiError::taken_as_bad_request)?;
    Ok(user_result(&view).into_response())
}

/// Remove user from app
///
/// Drops the user's membership of the caller's app with its app-level data; the tenant user
/// stays.
#[utoipa::path(delete, path = "/cis/v1/users/{user_id}/apps", operation_id = "removeUserFromApp", tag = "Users",
    params(("user_id" = String, Path)),
    responses(
        (status = 204, description = "Removed"), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn remove_from_app(
    auth: Authorized<rules::UsersEdit>,
    ApiPath(user_id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let app = auth
        .scope
        .app()
        .ok_or_else(|| ApiError::bad_request("app_id is required with an admin token"))?;
    auth.store
        .remove_user_from_app(app, &UserId::from_string(user_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete user
///
/// The user and all their data (admin token).
#[utoipa::path(delete, path = "/cis/v1/manage/users/{user_id}", operation_id = "deleteTenantUser", tag = "Users",
    params(("user_id" = String, Path)),
    responses(
        (status = 204, description = "Deleted"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn delete_user(
    auth: Authorized<rules::UsersDelete>,
    ApiPath(user_id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    auth.store
        .delete_user(&UserId::from_string(user_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
