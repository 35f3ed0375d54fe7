//! Liveness and readiness, outside `/cis`.

use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

/// Liveness (Roster extension)
#[utoipa::path(get, path = "/healthz", operation_id = "healthz", tag = "Operations",
    security(()), extensions(("x-roster-extension" = json!(true))),
    responses((status = 200, description = "The process is up", body = Object)))]
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness (Roster extension)
#[utoipa::path(get, path = "/readyz", operation_id = "readyz", tag = "Operations",
    security(()), extensions(("x-roster-extension" = json!(true))),
    responses(
        (status = 200, description = "The database answers", body = Object),
        (status = 503, body = ErrorBody),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    match state.store.ping().await {
        Ok(()) => Ok(Json(
            json!({ "status": "ready", "database": state.store.backend_name() }),
        )),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::Unavailable)
        }
    }
}
