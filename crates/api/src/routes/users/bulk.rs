//! `POST /cis/v1/users/bulk`: up to 1000 creates, each succeeding or failing on its own.

use super::{prepare_create, scope_of, AppParam};
use crate::auth::{rules, Authorized};
use crate::error::{ApiError, ApiResult};
use crate::extract::{envelope, ApiJson, ApiQuery};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use roster_core::user::CreateUserInput;
use roster_core::Error;
use serde::Serialize;
use serde_json::Value;

pub const BULK_MAX: usize = 1000;

#[derive(Serialize)]
struct ItemError {
    index: usize,
    message: String,
    error_code: u16,
}

#[derive(Serialize)]
struct BulkResult<'a> {
    total: usize,
    created: usize,
    failed: usize,
    users: Vec<super::view::UserJson<'a>>,
    errors: Vec<ItemError>,
}

fn item_error(index: usize, e: Error) -> ItemError {
    let (message, error_code) = match e {
        Error::Invalid(m) => (m.join("; "), 400),
        Error::NotFound(m) => (m, 404),
        Error::Conflict { message, .. } => (message, 409),
        Error::Forbidden(m) => (m, 403),
        Error::Unavailable(_) => ("Service temporarily unavailable".into(), 503),
        Error::Internal(detail) => {
            tracing::error!(error = %detail, index, "bulk create item failed");
            ("Something went wrong - Internal server error".into(), 500)
        }
    };
    ItemError {
        index,
        message,
        error_code,
    }
}

pub async fn bulk_create(
    State(state): State<AppState>,
    auth: Authorized<rules::UsersCreate>,
    ApiQuery(param): ApiQuery<AppParam>,
    ApiJson(items): ApiJson<Vec<Value>>,
) -> ApiResult<impl IntoResponse> {
    if items.len() > BULK_MAX {
        return Err(ApiError::bad_request(format!(
            "at most {BULK_MAX} users can be created in one request"
        )));
    }
    let total = items.len();
    let scope = scope_of(&auth.principal, param.app_id);
    let mut errors = Vec::new();
    let mut valid = Vec::with_capacity(total);
    let mut positions = Vec::with_capacity(total);
    for (index, item) in items.into_iter().enumerate() {
        let input = match serde_path_to_error::deserialize::<_, CreateUserInput>(item) {
            Ok(input) => input,
            Err(e) => {
                let path = e.path().to_string();
                errors.push(item_error(
                    index,
                    Error::invalid(format!("{path}: {}", e.into_inner())),
                ));
                continue;
            }
        };
        match prepare_create(&state, &auth.principal, &scope, input).await {
            Ok(new) => {
                valid.push(new);
                positions.push(index);
            }
            Err(e) => errors.push(item_error(index, e)),
        }
    }
    let outcomes = state
        .store
        .tenant(auth.tenant())
        .bulk_create_users(scope.app(), &valid)
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
