//! `POST /cis/v1/users/bulk`: up to 1000 creates, each succeeding or failing on its own.

use super::Creates;
use crate::auth::{rules, Authorized};
use crate::error::{ApiError, ApiResult, BadRequestBody, ErrorBody};
use crate::extract::{envelope, ApiJsonArray, Envelope};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use roster_core::object::Object;
use roster_core::user::CreateUserInput;
use roster_core::Error;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

pub const BULK_MAX: usize = 1000;

/// Why one item was not created.
#[derive(Serialize, ToSchema)]
struct ItemError {
    index: usize,
    message: String,
    error_code: u16,
}

#[derive(Serialize, ToSchema)]
struct BulkResult<'a> {
    total: usize,
    created: usize,
    failed: usize,
    users: Vec<super::view::UserJson<'a>>,
    errors: Vec<ItemError>,
}

/// The item's status and message, as the same error would be answered alone.
fn item_error(index: usize, e: Error) -> ItemError {
    let e = ApiError::from(e);
    ItemError {
        index,
        message: e.message(),
        error_code: e.status().as_u16(),
    }
}

/// Create users in bulk (Roster extension)
///
/// Up to 1000 creates in one request, each succeeding or failing on its own; the items are
/// `ApiCreateUserInput` bodies.
#[utoipa::path(post, path = "/cis/v1/users/bulk", operation_id = "createUsersInBulk", tag = "Users",
    request_body = Vec<CreateUserInput>,
    extensions(("x-roster-extension" = json!(true))),
    responses(
        (status = 201, body = Envelope<BulkResult>), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "An admin's `app_id` names no app", body = ErrorBody),
        (status = 413, body = ErrorBody),
    ))]
pub async fn bulk_create(
    State(state): State<AppState>,
    auth: Authorized<rules::UsersCreate>,
    ApiJsonArray(items): ApiJsonArray<Value>,
) -> ApiResult<impl IntoResponse> {
    if items.len() > BULK_MAX {
        return Err(ApiError::bad_request(format!(
            "at most {BULK_MAX} users can be created in one request"
        )));
    }
    let total = items.len();
    let mut errors = Vec::new();
    let mut valid = Vec::with_capacity(total);
    let mut positions = Vec::with_capacity(total);
    let mut creates = Creates::new(&auth.store, &auth.scope, &state.hasher);
    for (index, item) in items.into_iter().enumerate() {
        let input = match serde_path_to_error::deserialize::<_, Object<CreateUserInput>>(item) {
            Ok(Object(input)) => input,
            Err(e) => {
                let path = e.path().to_string();
                errors.push(item_error(
                    index,
                    Error::invalid(format!("{path}: {}", e.into_inner())),
                ));
                continue;
            }
        };
        match creates.prepare(input).await {
            Ok(new) => {
                valid.push(new);
                positions.push(index);
            }
            Err(e) => errors.push(item_error(index, e)),
        }
    }
    let outcomes = auth
        .store
        .bulk_create_users(auth.scope.app(), &valid)
        .await?;
    let mut views = Vec::with_capacity(outcomes.len());
    for (index, outcome) in positions.into_iter().zip(outcomes) {
        match outcome {
            Ok((view, _)) => views.push(view),
            Err(e) => errors.push(item_error(index, e)),
        }
    }
    errors.sort_by_key(|e| e.index);
    let result = BulkResult {
        total,
        created: views.len(),
        failed: errors.len(),
        users: views.iter().map(super::view::UserJson::new).collect(),
        errors,
    };
    Ok((StatusCode::CREATED, envelope(result)).into_response())
}
