//! Finding users: by id-like keys, the paged list and the count.

use super::{user_result, UserResult};
use crate::auth::{rules, Authorized};
use crate::error::{ApiError, ApiResult, BadRequestBody, ErrorBody};
use crate::extract::{envelope, ApiPath, ApiQuery, Envelope};
use axum::response::IntoResponse;
use axum::Json;
use roster_core::filter::{self, Filter};
use roster_core::user::{Email, ListQuery, Lookup, PhoneNumber, Scope, SortField};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub const PAGE_LIMIT_DEFAULT: u64 = 100;
pub const PAGE_LIMIT_MAX: u64 = 5000;

type Read = Authorized<rules::UsersRead>;

async fn find(auth: &Read, lookup: Lookup) -> ApiResult<axum::response::Response> {
    let view = auth.store.find_user(&auth.scope, &lookup).await?;
    Ok(user_result(&view).into_response())
}

fn email_lookup(raw: &str) -> Result<Lookup, ApiError> {
    let email = Email::parse("email", raw).map_err(ApiError::bad_request)?;
    Ok(Lookup::Email(email.key()))
}

fn phone_lookup(field: &str, raw: &str) -> Result<Lookup, ApiError> {
    PhoneNumber::parse(field, raw)
        .map(Lookup::Phone)
        .map_err(ApiError::bad_request)
}

fn text_lookup(field: &str, raw: &str) -> Result<String, ApiError> {
    if raw.trim().is_empty() {
        return Err(ApiError::bad_request(format!("{field} must not be empty")));
    }
    Ok(raw.to_owned())
}

/// Get user by email
#[utoipa::path(get, path = "/cis/v1/users/email/{email}", operation_id = "getUserByEmail", tag = "Users",
    params(("email" = String, Path, description = "The user's primary email, in any letter case")),
    responses(
        (status = 200, body = UserResult), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn by_email(auth: Read, ApiPath(email): ApiPath<String>) -> ApiResult<impl IntoResponse> {
    find(&auth, email_lookup(&email)?).await
}

/// Get user by phone number
#[utoipa::path(get, path = "/cis/v1/users/phone-number/{phone_number}", operation_id = "getUserByPhone", tag = "Users",
    params(("phone_number" = String, Path, description = "The user's primary phone number (E.164; `+` may be sent raw or as %2B)")),
    responses(
        (status = 200, body = UserResult), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn by_phone(auth: Read, ApiPath(phone): ApiPath<String>) -> ApiResult<impl IntoResponse> {
    let lookup = phone_lookup("phone_number", &phone)?;
    find(&auth, lookup).await
}

/// Get user by phone number (deprecated path)
#[utoipa::path(get, path = "/cis/v1/users/phone/{phone_number}", operation_id = "deprecatedGetUserByPhone", tag = "Users",
    params(("phone_number" = String, Path, description = "The user's primary phone number")),
    responses(
        (status = 200, body = UserResult), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn by_phone_deprecated(
    auth: Read,
    path: ApiPath<String>,
) -> ApiResult<impl IntoResponse> {
    by_phone(auth, path).await
}

/// Get user by external user ID
#[utoipa::path(get, path = "/cis/v1/users/external-user-id/{external_user_id}", operation_id = "getUserByExternalUserId", tag = "Users",
    params(("external_user_id" = String, Path, description = "The user's external user ID")),
    responses(
        (status = 200, body = UserResult), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn by_external_user_id(
    auth: Read,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<impl IntoResponse> {
    let lookup = Lookup::ExternalUserId(text_lookup("external_user_id", &id)?);
    find(&auth, lookup).await
}

/// Get user by username
#[utoipa::path(get, path = "/cis/v1/users/username/{username}", operation_id = "getUserByUsername", tag = "Users",
    params(("username" = String, Path, description = "The user's username in the app, in any letter case")),
    responses(
        (status = 200, body = UserResult), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn by_username(
    auth: Read,
    ApiPath(username): ApiPath<String>,
) -> ApiResult<impl IntoResponse> {
    let lookup = Lookup::Username(text_lookup("username", &username)?.to_lowercase());
    find(&auth, lookup).await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IdentifierParams {
    /// One of email, phoneNumber, externalUserId, username, idpIdentifier.
    #[param(required = true)]
    identifier_name: Option<String>,
    #[param(required = true)]
    identifier_value: Option<String>,
}

/// Get user by identifier
#[utoipa::path(get, path = "/cis/v1/users/identifier", operation_id = "getUserByIdentifier", tag = "Users",
    params(IdentifierParams),
    responses(
        (status = 200, body = UserResult), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn by_identifier(
    auth: Read,
    ApiQuery(p): ApiQuery<IdentifierParams>,
) -> ApiResult<impl IntoResponse> {
    let mut missing = Vec::new();
    if p.identifier_name.as_deref().is_none_or(str::is_empty) {
        missing.push("identifier_name is required".to_owned());
    }
    if p.identifier_value.as_deref().is_none_or(str::is_empty) {
        missing.push("identifier_value is required".to_owned());
    }
    if !missing.is_empty() {
        return Err(ApiError::BadRequest(missing));
    }
    let name = p.identifier_name.unwrap_or_default();
    let value = p.identifier_value.unwrap_or_default();
    let lookup = match name.as_str() {
        "email" => email_lookup(&value)?,
        "phoneNumber" => phone_lookup("identifier_value", &value)?,
        "externalUserId" => Lookup::ExternalUserId(value),
        "username" => Lookup::Username(value.to_lowercase()),
        "idpIdentifier" => Lookup::IdpIdentifier(value),
        other => {
            return Err(ApiError::bad_request(format!(
                "identifier_name '{other}' is not supported: use email, phoneNumber, externalUserId, username or idpIdentifier"
            )))
        }
    };
    find(&auth, lookup).await
}

/// Query parameters of the user list; numbers arrive as text so that a bad one is a 400
/// that names it.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// A SCIM filter (RFC 7644 §3.4.2.2), e.g. `(address.country eq "USA")and(email sw "sales")`; at most 4 KB.
    search: Option<String>,
    /// Users to skip (default 0).
    #[param(value_type = Option<u64>)]
    page_offset: Option<String>,
    /// Users per page (default 100, at most 5000).
    #[param(value_type = Option<u64>, maximum = 5000)]
    page_limit: Option<String>,
    /// Prefix of the primary email or phone number.
    search_prefix: Option<String>,
    /// email, created_at, phone_number, last_auth or organization_added_at.
    sort_field: Option<String>,
    /// asc or desc.
    sort_order: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct PageInfo {
    has_next_page: bool,
    has_previous_page: bool,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ApiGetAllUsers)]
struct UserPage<'a> {
    total_count: u64,
    page_info: PageInfo,
    result: Vec<super::view::UserJson<'a>>,
}

/// `page_offset` (default 0) and `page_limit` (default `default_limit`, at most
/// `PAGE_LIMIT_MAX`); a bad one adds a problem that names it.
pub(crate) fn paging(
    offset: Option<&str>,
    limit: Option<&str>,
    default_limit: u64,
    problems: &mut Vec<String>,
) -> (u64, u64) {
    let offset = offset.map_or(Ok(0), |v| whole_number("page_offset", v));
    let limit = limit.map_or(Ok(default_limit), |v| {
        whole_number("page_limit", v).and_then(|n| {
            (n <= PAGE_LIMIT_MAX)
                .then_some(n)
                .ok_or_else(|| format!("page_limit must be at most {PAGE_LIMIT_MAX}"))
        })
    });
    let mut take = |r: Result<u64, String>| {
        r.unwrap_or_else(|e| {
            problems.push(e);
            0
        })
    };
    (take(offset), take(limit))
}

fn whole_number(name: &str, raw: &str) -> Result<u64, String> {
    let value = raw.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{name} must be a non-negative integer"));
    }
    value
        .parse::<u64>()
        .ok()
        .filter(|v| i64::try_from(*v).is_ok())
        .ok_or_else(|| format!("{name} is too large"))
}

/// The `search` filter, parsed and checked against what the caller can read: app-level
/// attributes need an app (a client's own, or an admin's `app_id`).
fn search_filter(search: Option<&str>, scope: &Scope) -> Result<Option<Filter>, ApiError> {
    let Some(text) = search.filter(|s| !s.trim().is_empty()) else {
        return Ok(None);
    };
    let filter = filter::parse(text).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if filter.reads_app_data() && scope.app().is_none() {
        return Err(ApiError::bad_request(
            "search: username, external_account_id and custom_app_data are an app's data: \
             name the app with app_id",
        ));
    }
    Ok(Some(filter))
}

fn list_query(p: &ListParams, scope: &Scope) -> Result<ListQuery, ApiError> {
    let filter = search_filter(p.search.as_deref(), scope)?;
    let mut problems = Vec::new();
    let (offset, limit) = paging(
        p.page_offset.as_deref(),
        p.page_limit.as_deref(),
        PAGE_LIMIT_DEFAULT,
        &mut problems,
    );
    let sort = match p.sort_field.as_deref() {
        None | Some("created_at") | Some("organization_added_at") => SortField::CreatedAt,
        Some("email") => SortField::Email,
        Some("phone_number") => SortField::PhoneNumber,
        Some("last_auth") => SortField::LastAuth,
        Some(other) => {
            problems.push(format!(
                "sort_field '{other}' is not one of email, created_at, phone_number, last_auth, organization_added_at"
            ));
            SortField::CreatedAt
        }
    };
    let descending = match p.sort_order.as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => {
            problems.push(format!("sort_order '{other}' is not one of asc, desc"));
            false
        }
    };
    if p.search_prefix.as_deref().is_some_and(|s| s.contains('\0')) {
        problems.push("search_prefix must not contain NUL characters".into());
    }
    if !problems.is_empty() {
        return Err(ApiError::BadRequest(problems));
    }
    Ok(ListQuery {
        offset,
        limit,
        sort,
        descending,
        prefix: p.search_prefix.clone().filter(|s| !s.is_empty()),
        filter,
    })
}

/// Get users
///
/// One page of the users the caller reaches, and the number of all that match.
#[utoipa::path(get, path = "/cis/v1/users", operation_id = "getUsers", tag = "Users",
    params(ListParams),
    responses(
        (status = 200, body = UserPage), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "An admin's `app_id` names no app", body = ErrorBody),
    ))]
pub async fn list_users(
    auth: Authorized<rules::UsersList>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<impl IntoResponse> {
    let query = list_query(&params, &auth.scope)?;
    let (views, total) = auth.store.list_users(&auth.scope, &query).await?;
    let page = UserPage {
        total_count: total,
        page_info: PageInfo {
            has_next_page: query.offset + (views.len() as u64) < total,
            has_previous_page: query.offset > 0,
        },
        result: views.iter().map(super::view::UserJson::new).collect(),
    };
    Ok(Json(page).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CountParams {
    /// A SCIM filter (RFC 7644 §3.4.2.2), as for the user list; at most 4 KB.
    search: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ApiUsersCount)]
struct UserCount {
    user_count: u64,
}

/// Get users count
#[utoipa::path(get, path = "/cis/v1/users/count", operation_id = "getUsersCount", tag = "Users",
    params(CountParams),
    responses(
        (status = 200, body = Envelope<UserCount>), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "An admin's `app_id` names no app", body = ErrorBody),
    ))]
pub async fn count_users(
    auth: Authorized<rules::UsersCount>,
    ApiQuery(params): ApiQuery<CountParams>,
) -> ApiResult<impl IntoResponse> {
    let filter = search_filter(params.search.as_deref(), &auth.scope)?;
    let n = auth.store.count_users(&auth.scope, filter.as_ref()).await?;
    Ok(envelope(UserCount { user_count: n }))
}
