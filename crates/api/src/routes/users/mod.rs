//! The Users API (`/cis/v1/users...`, `/cis/v1/manage/users/{id}`).

mod bulk;
mod contacts;
mod lookup;
mod view;

pub use bulk::bulk_create;
pub use contacts::{remove_email, remove_phone, verify_email, verify_phone};
pub use lookup::{
    by_email, by_external_user_id, by_identifier, by_phone, by_username, count_users, list_users,
};

use crate::auth::{rules, Authorized};
use crate::error::{ApiError, ApiResult};
use crate::extract::{envelope, ApiJson, ApiPath};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use roster_core::time::now_ms;
use roster_core::user::{CreateUserInput, NewUser, Scope, UpdateUserInput, UserId, UserView};
use roster_core::Error;
use roster_store::TenantStore;
use view::UserJson;

pub(crate) fn user_result(view: &UserView) -> axum::Json<crate::extract::Envelope<UserJson<'_>>> {
    envelope(UserJson::new(view))
}

/// Validates a create, including what needs the store (the delegated-access actor).
pub(crate) async fn prepare_create(
    store: &TenantStore,
    scope: &Scope,
    input: CreateUserInput,
) -> Result<NewUser, Error> {
    let new = input.validate(now_ms())?;
    if scope.app().is_none() && new.has_app_data() {
        return Err(Error::invalid(
            "username, external_account_id and custom_app_data are app-level: admin tokens must pass app_id",
        ));
    }
    if let Some(d) = &new.user.profile.delegated_access {
        let actor = UserId::from_string(d.actor_id.clone());
        if let Err(Error::NotFound(_)) = store.get_user(&Scope::Tenant(None), &actor).await {
            return Err(Error::invalid(
                "delegated_access.actor_id is not a user of this tenant",
            ));
        }
    }
    Ok(new)
}

/// `POST /cis/v1/users`.
pub async fn create_user(
    auth: Authorized<rules::UsersCreate>,
    ApiJson(input): ApiJson<CreateUserInput>,
) -> ApiResult<impl IntoResponse> {
    let new = prepare_create(&auth.store, &auth.scope, input).await?;
    let (view, _) = auth.store.create_user(auth.scope.app(), &new).await?;
    Ok((StatusCode::CREATED, user_result(&view)).into_response())
}

/// `GET /cis/v1/users/{user_id}`.
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

/// `PUT /cis/v1/users/{user_id}`: a merge, applied atomically.
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
        .await?;
    Ok(user_result(&view).into_response())
}

/// `DELETE /cis/v1/users/{user_id}/apps`: leaves the caller's app; the tenant user stays.
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

/// `DELETE /cis/v1/manage/users/{user_id}`: the user and all their data (admin token).
pub async fn delete_user(
    auth: Authorized<rules::UsersDelete>,
    ApiPath(user_id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    auth.store
        .delete_user(&UserId::from_string(user_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /cis/v1/users/{user_id}/groups`: groups are a later capability.
pub async fn user_groups(
    _auth: Authorized<rules::UsersRead>,
    ApiPath(_user_id): ApiPath<String>,
) -> ApiError {
    ApiError::bad_request("groups are not available yet")
}
