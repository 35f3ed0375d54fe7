//! The Groups API (`/cis/v1/groups...`) and a user's groups. Groups belong to the tenant:
//! every app's client sees the same ones; member lists show the users the caller sees.

use super::users::lookup::{paging, PAGE_LIMIT_MAX};
use super::users::view::UserJson;
use crate::auth::{rules, Authorized};
use crate::error::{ApiError, ApiResult, BadRequestBody, ConflictBody, ErrorBody};
use crate::extract::{envelope, ApiJson, ApiPath, ApiQuery, Envelope};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use roster_core::group::{Group, GroupInput, MembersInput};
use roster_core::{GroupId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
#[schema(as = ApiGroup)]
struct GroupJson<'a> {
    group_id: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    /// Epoch milliseconds, like the user's dates.
    created_at: i64,
    updated_at: i64,
    #[schema(value_type = Object)]
    custom_data: &'a Map<String, Value>,
}

impl<'a> GroupJson<'a> {
    fn new(g: &'a Group) -> Self {
        Self {
            group_id: g.group_id.as_str(),
            name: &g.name,
            description: g.description.as_deref(),
            created_at: g.created_at,
            updated_at: g.updated_at,
            custom_data: &g.custom_data,
        }
    }
}

type GroupResult = Envelope<GroupJson<'static>>;
type GroupsResult = Envelope<Vec<GroupJson<'static>>>;
type UsersResult = Envelope<Vec<UserJson<'static>>>;

fn groups_json(groups: &[Group]) -> axum::response::Response {
    envelope(groups.iter().map(GroupJson::new).collect::<Vec<_>>()).into_response()
}

/// Create group
///
/// A name the tenant has already is 409.
#[utoipa::path(post, path = "/cis/v1/groups", operation_id = "createGroup", tag = "Groups",
    request_body = GroupInput,
    responses(
        (status = 201, body = GroupResult), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ConflictBody), (status = 413, body = ErrorBody),
    ))]
pub async fn create_group(
    auth: Authorized<rules::GroupsCreate>,
    ApiJson(input): ApiJson<GroupInput>,
) -> ApiResult<impl IntoResponse> {
    let group = auth.store.create_group(input.for_create()?).await?;
    Ok((StatusCode::CREATED, envelope(GroupJson::new(&group))).into_response())
}

/// Get all groups
///
/// Every group of the tenant, by name.
#[utoipa::path(get, path = "/cis/v1/groups", operation_id = "getAllGroups", tag = "Groups",
    responses(
        (status = 200, body = GroupsResult), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub async fn list_groups(auth: Authorized<rules::GroupsList>) -> ApiResult<impl IntoResponse> {
    Ok(groups_json(&auth.store.list_groups().await?))
}

/// Get group
#[utoipa::path(get, path = "/cis/v1/groups/{group_id}", operation_id = "getGroupByID", tag = "Groups",
    params(("group_id" = String, Path)),
    responses(
        (status = 200, body = GroupResult), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn get_group(
    auth: Authorized<rules::GroupsRead>,
    ApiPath(group_id): ApiPath<String>,
) -> ApiResult<impl IntoResponse> {
    let group = auth
        .store
        .get_group(&GroupId::from_string(group_id))
        .await?;
    Ok(envelope(GroupJson::new(&group)).into_response())
}

/// Update group
///
/// The fields given replace the group's (`custom_data` whole); `description: null` clears
/// it.
#[utoipa::path(put, path = "/cis/v1/groups/{group_id}", operation_id = "updateGroup", tag = "Groups",
    params(("group_id" = String, Path)),
    request_body = GroupInput,
    responses(
        (status = 200, body = GroupResult), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ConflictBody),
        (status = 413, body = ErrorBody),
    ))]
pub async fn update_group(
    auth: Authorized<rules::GroupsEdit>,
    ApiPath(group_id): ApiPath<String>,
    ApiJson(input): ApiJson<GroupInput>,
) -> ApiResult<impl IntoResponse> {
    let group = auth
        .store
        .update_group(&GroupId::from_string(group_id), input.for_update()?)
        .await?;
    Ok(envelope(GroupJson::new(&group)).into_response())
}

/// Delete group
///
/// The group and its memberships; the users stay.
#[utoipa::path(delete, path = "/cis/v1/groups/{group_id}", operation_id = "deleteGroup", tag = "Groups",
    params(("group_id" = String, Path)),
    responses(
        (status = 204, description = "Deleted"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn delete_group(
    auth: Authorized<rules::GroupsDelete>,
    ApiPath(group_id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    auth.store
        .delete_group(&GroupId::from_string(group_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Assign users to group
///
/// Adds users of the tenant (at most 1000 ids per request); ids already in the group are
/// left as they are. An id that names no user of the tenant is a 400, and nothing is added.
#[utoipa::path(post, path = "/cis/v1/groups/{group_id}/members", operation_id = "assignUsers", tag = "Groups",
    params(("group_id" = String, Path)),
    request_body = MembersInput,
    responses(
        (status = 204, description = "Added"), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
    ))]
pub async fn add_members(
    auth: Authorized<rules::GroupsEdit>,
    ApiPath(group_id): ApiPath<String>,
    ApiJson(input): ApiJson<MembersInput>,
) -> ApiResult<StatusCode> {
    let ids = input.check()?;
    auth.store
        .add_group_members(&GroupId::from_string(group_id), &ids)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Paging of a member list (not in Transmit's reference, which pages nothing here).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberParams {
    /// Members to skip (default 0).
    #[param(value_type = Option<u64>)]
    page_offset: Option<String>,
    /// Members per answer (default and maximum 5000).
    #[param(value_type = Option<u64>, maximum = 5000)]
    page_limit: Option<String>,
}

/// Get group users
///
/// The group's members that the caller sees (a client: its app's users), by user id.
#[utoipa::path(get, path = "/cis/v1/groups/{group_id}/members", operation_id = "getGroupUsers", tag = "Groups",
    params(("group_id" = String, Path), MemberParams),
    responses(
        (status = 200, body = UsersResult), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn list_members(
    auth: Authorized<rules::UsersRead>,
    ApiPath(group_id): ApiPath<String>,
    ApiQuery(p): ApiQuery<MemberParams>,
) -> ApiResult<impl IntoResponse> {
    let mut problems = Vec::new();
    let (offset, limit) = paging(
        p.page_offset.as_deref(),
        p.page_limit.as_deref(),
        PAGE_LIMIT_MAX,
        &mut problems,
    );
    if !problems.is_empty() {
        return Err(ApiError::BadRequest(problems));
    }
    let views = auth
        .store
        .group_members(&auth.scope, &GroupId::from_string(group_id), limit, offset)
        .await?;
    Ok(envelope(views.iter().map(UserJson::new).collect::<Vec<_>>()).into_response())
}

/// Remove user from group
#[utoipa::path(delete, path = "/cis/v1/groups/{group_id}/members/{user_id}", operation_id = "removeAssignment", tag = "Groups",
    params(("group_id" = String, Path), ("user_id" = String, Path)),
    responses(
        (status = 204, description = "Removed"), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn remove_member(
    auth: Authorized<rules::GroupsEdit>,
    ApiPath((group_id, user_id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    auth.store
        .remove_group_member(
            &GroupId::from_string(group_id),
            &UserId::from_string(user_id),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Get user's groups
///
/// The groups of a user the caller sees; any other user is 404.
#[utoipa::path(get, path = "/cis/v1/users/{user_id}/groups", operation_id = "getUserGroups", tag = "Users",
    params(("user_id" = String, Path)),
    responses(
        (status = 200, body = GroupsResult), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn user_groups(
    auth: Authorized<rules::GroupsRead>,
    ApiPath(user_id): ApiPath<String>,
) -> ApiResult<impl IntoResponse> {
    let groups = auth
        .store
        .user_groups(&auth.scope, &UserId::from_string(user_id))
        .await?;
    Ok(groups_json(&groups))
}
