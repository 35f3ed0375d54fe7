//! `POST /roster/v1/reset` (a Roster extension for test suites, served only with
//! `--allow-reset`): the caller's tenant loses every user and group, keeps its apps and
//! clients, and gets the seed's users and groups back.

use crate::auth::{rules, Authorized};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use roster_core::seed::{ApplyError, TenantPlan};
use roster_core::{StoreError, TenantId};
use serde_json::{json, Value};
use std::collections::HashMap;
use tokio::sync::Mutex;

/// The seed's part for each seeded tenant, by the id it was applied to. One lock: two
/// resets of one tenant run one after the other.
#[derive(Default)]
pub struct Resets {
    plans: Mutex<HashMap<TenantId, TenantPlan>>,
}

impl Resets {
    pub fn new(plans: HashMap<TenantId, TenantPlan>) -> Self {
        Self {
            plans: Mutex::new(plans),
        }
    }
}

pub(crate) async fn reset(
    State(state): State<AppState>,
    auth: Authorized<rules::Reset>,
) -> Result<Json<Value>, ApiError> {
    let Some(resets) = &state.resets else {
        return Err(ApiError::NotFound("Route not found".into()));
    };
    let mut plans = resets.plans.lock().await;
    let tenant = &auth.principal.tenant_id;
    // A handle made now, under the lock: an earlier reset may have moved the tenant since
    // the request's handle was made.
    let mut done = state
        .store
        .tenant(tenant)
        .reset(plans.get_mut(tenant))
        .await;
    if matches!(done, Err(ApplyError::Store(StoreError::NotFound))) {
        // Another node (or server on the file) moved the tenant since this one last looked.
        state.store.refresh_tenant_keys().await?;
        done = state
            .store
            .tenant(tenant)
            .reset(plans.get_mut(tenant))
            .await;
    }
    let deleted = done.map_err(|e| match e {
        ApplyError::Store(e) => ApiError::from(e),
        // The seed applied at start; an entry refused now means the tenant's apps changed.
        ApplyError::Entry(e) => {
            tracing::error!(path = %e.path, "reset could not apply the seed again");
            ApiError::Internal
        }
    })?;
    Ok(Json(json!({ "deleted_users": deleted })))
}
