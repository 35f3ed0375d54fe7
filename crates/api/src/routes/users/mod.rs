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
use crate::extract::{envelope, ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use roster_core::time::now_ms;
use roster_core::user::{CreateUserInput, NewUser, Scope, UpdateUserInput, UserId, UserView};
use roster_core::{AppId, Error, Principal, PrincipalKind};
use serde::Deserialize;
use view::UserJson;

/// `?app_id=`: lets an admin token act on one app's users and app-level data.
#[derive(Debug, Default, Deserialize)]
pub struct AppParam {
    pub app_id: Option<String>,
}

/// Which users the caller reaches: a client its app's, an admin the whole tenant.
pub(crate) fn scope_of(principal: &Principal, app_id: Option<String>) -> Scope {
    match principal.kind {
        PrincipalKind::Admin => {
            Scope::Tenant(app_id.filter(|a| !a.is_empty()).map(AppId::from_string))
        }
        PrincipalKind::Client | PrincipalKind::User => Scope::Members(principal.app_id.clone()),
    }
}

pub(crate) fn user_result(view: &UserView) -> axum::Json<crate::extract::Envelope<UserJson<'_>>> {
    envelope(UserJson::new(view))
}

/// Validates a create, including what needs the store (the delegated-access actor).
pub(crate) async fn prepare_create(
    state: &AppState,
    principal: &Principal,
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
        let tenant = state.store.tenant(&principal.tenant_id);
        if let Err(Error::NotFound(_)) = tenant.get_user(&Scope::Tenant(None), &actor).await {
            return Err(Error::invalid(
                "delegated_access.actor_id is not a user of this tenant",
            ));
        }
    }
    Ok(new)
}

/// `POST /cis/v1/users`.
pub async fn create_user(
    State(state): State<AppState>,
    auth: Authorized<rules::UsersCreate>,
    ApiQuery(param): ApiQuery<AppParam>,
    ApiJson(input): ApiJson<CreateUserInput>,
) -> ApiResult<impl IntoResponse> {
    let scope = scope_of(&auth.principal, param.app_id);
    let new = prepare_create(&state, &auth.principal, &scope, input).await?;
    let (view, _) = state
        .store
        .tenant(auth.tenant())
        .create_user(scope.app(), &new)
        .await?;
    Ok((StatusCode::CREATED, user_result(&view)).into_response())
}

/// `GET /cis/v1/users/{user_id}`.
pub async fn get_user(
    State(state): State<AppState>,
    auth: Authorized<rules::UsersRead>,
    ApiPath(user_id): ApiPath<String>,
    ApiQuery(param): ApiQuery<AppParam>,
) -> ApiResult<impl IntoResponse> {
    let scope = scope_of(&auth.principal, param.app_id);
    let view = state
        .store
        .tenant(auth.tenant())
        .get_user(&scope, &UserId::from_string(user_id))
        .await?;
    Ok(user_result(&view).into_response())
}

/// `PUT /cis/v1/users/{user_id}`: a merge, applied atomically.
pub async fn update_user(
    State(state): State<AppState>,
    auth: Authorized<rules::UsersEdit>,
    ApiPath(user_id): ApiPath<String>,
    ApiQuery(param): ApiQuery<AppParam>,
    ApiJson(input): ApiJson<UpdateUserInput>,
) -> ApiResult<impl IntoResponse> {
    let scope = scope_of(&auth.principal, param.app_id);
    let view = state
        .store
        .tenant(auth.tenant())
        .update_user(
            &scope,
            &UserId::from_string(user_id),
            move |user, membership| input.apply(user, membership, now_ms()),
        )
        .await?;
    Ok(user_result(&view).into_response())
}

/// `DELETE /cis/v1/users/{user_id}/apps`: leaves the caller's app; the tenant user stays.
pub async fn remove_from_app(
    State(state): State<AppState>,
    auth: Authorized<rules::UsersEdit>,
    ApiPath(user_id): ApiPath<String>,
    ApiQuery(param): ApiQuery<AppParam>,
) -> ApiResult<StatusCode> {
    let scope = scope_of(&auth.principal, param.app_id);
    let app = scope
        .app()
        .ok_or_else(|| ApiError::bad_request("app_id is required with an admin token"))?;
    state
        .store
        .tenant(auth.tenant())
        .remove_user_from_app(app, &UserId::from_string(user_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /cis/v1/manage/users/{user_id}`: the user and all their data (admin token).
pub async fn delete_user(
    State(state): State<AppState>,
    auth: Authorized<rules::UsersDelete>,
    ApiPath(user_id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .tenant(auth.tenant())
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
