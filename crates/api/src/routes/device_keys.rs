//! Device keys (`/cis/v1/users/{user_id}/device-keys...`, `/cis/v1/users/me/device-keys`):
//! a user's public keys in one app. A client works on its own app's keys; an admin token
//! names the app with `?app_id=`.

use super::iso;
use crate::auth::{rules, Authorized, Rule};
use crate::error::{ApiError, ApiResult, BadRequestBody, ConflictBody, ErrorBody};
use crate::extract::{envelope, ApiJson, ApiPath, Envelope};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use roster_core::device_key::{DeviceKey, DeviceKeyInput, KeyStatus, PushConfig};
use roster_core::time::now_ms;
use roster_core::{AppId, UserId};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// `DeviceKeyResponseDto`; dates are ISO, unlike the user's.
#[derive(Serialize, ToSchema)]
#[schema(as = DeviceKeyResponseDto)]
struct KeyJson<'a> {
    key_id: &'a str,
    /// `Active` or `Blocked`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<&'a str>,
    #[schema(value_type = Object)]
    custom_data: &'a Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    push_config: Option<&'a PushConfig>,
    created_at: String,
    updated_at: String,
}

impl<'a> KeyJson<'a> {
    fn new(k: &'a DeviceKey) -> Self {
        Self {
            key_id: &k.key_id,
            status: k.status.as_str(),
            display_name: k.display_name.as_deref(),
            custom_data: &k.custom_data,
            push_config: k.push_config.as_ref(),
            created_at: iso(k.created_at),
            updated_at: iso(k.updated_at),
        }
    }
}

type KeyResult = Envelope<KeyJson<'static>>;
type KeysResult = Envelope<Vec<KeyJson<'static>>>;

fn keys_json(keys: &[DeviceKey]) -> axum::response::Response {
    envelope(keys.iter().map(KeyJson::new).collect::<Vec<_>>()).into_response()
}

/// The app whose keys the caller works on: its own, or the one an admin names.
fn app_of<R: Rule>(auth: &Authorized<R>) -> Result<&AppId, ApiError> {
    auth.scope.app().ok_or_else(|| {
        ApiError::bad_request(
            "app_id is required with an admin token: device keys belong to an app",
        )
    })
}

/// Register device key
///
/// Binds a public key to the user in the caller's app; answers 201 with no body.
#[utoipa::path(post, path = "/cis/v1/users/{user_id}/device-keys", operation_id = "createDeviceKeys", tag = "DeviceKeys",
    params(("user_id" = String, Path)),
    request_body = DeviceKeyInput,
    responses(
        (status = 201, description = "Registered"), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ConflictBody),
        (status = 413, body = ErrorBody),
    ))]
pub async fn create_key(
    auth: Authorized<rules::DevicesCreate>,
    ApiPath(user_id): ApiPath<String>,
    ApiJson(input): ApiJson<DeviceKeyInput>,
) -> ApiResult<StatusCode> {
    let key = input.for_create(now_ms())?;
    auth.store
        .add_device_key(app_of(&auth)?, &UserId::from_string(user_id), &key)
        .await?;
    Ok(StatusCode::CREATED)
}

/// Get the user's device keys
#[utoipa::path(get, path = "/cis/v1/users/{user_id}/device-keys", operation_id = "getDeviceKeysForUser", tag = "DeviceKeys",
    params(("user_id" = String, Path)),
    responses(
        (status = 200, body = KeysResult), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn list_keys(
    auth: Authorized<rules::DevicesRead>,
    ApiPath(user_id): ApiPath<String>,
) -> ApiResult<impl IntoResponse> {
    let keys = auth
        .store
        .device_keys(app_of(&auth)?, &UserId::from_string(user_id))
        .await?;
    Ok(keys_json(&keys))
}

/// Get device key
#[utoipa::path(get, path = "/cis/v1/users/{user_id}/device-keys/{key_id}", operation_id = "getDeviceKey", tag = "DeviceKeys",
    params(("user_id" = String, Path), ("key_id" = String, Path)),
    responses(
        (status = 200, body = KeyResult), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn get_key(
    auth: Authorized<rules::DevicesRead>,
    ApiPath((user_id, key_id)): ApiPath<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    let key = auth
        .store
        .device_key(app_of(&auth)?, &UserId::from_string(user_id), &key_id)
        .await?;
    Ok(envelope(KeyJson::new(&key)).into_response())
}

/// Update device key
///
/// Replaces the metadata given (`display_name`, `custom_data` whole, `push_config`); the
/// key itself cannot change.
#[utoipa::path(put, path = "/cis/v1/users/{user_id}/device-keys/{key_id}", operation_id = "updateDeviceKey", tag = "DeviceKeys",
    params(("user_id" = String, Path), ("key_id" = String, Path)),
    request_body = DeviceKeyInput,
    responses(
        (status = 200, body = KeyResult), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
    ))]
pub async fn update_key(
    auth: Authorized<rules::DevicesEdit>,
    ApiPath((user_id, key_id)): ApiPath<(String, String)>,
    ApiJson(input): ApiJson<DeviceKeyInput>,
) -> ApiResult<impl IntoResponse> {
    let change = input.for_update()?;
    let key = auth
        .store
        .update_device_key(
            app_of(&auth)?,
            &UserId::from_string(user_id),
            &key_id,
            change,
        )
        .await?;
    Ok(envelope(KeyJson::new(&key)).into_response())
}

/// Delete device key
#[utoipa::path(delete, path = "/cis/v1/users/{user_id}/device-keys/{key_id}", operation_id = "deleteDeviceKey", tag = "DeviceKeys",
    params(("user_id" = String, Path), ("key_id" = String, Path)),
    responses(
        (status = 204, description = "Deleted"), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn delete_key(
    auth: Authorized<rules::DevicesDelete>,
    ApiPath((user_id, key_id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    auth.store
        .delete_device_key(app_of(&auth)?, &UserId::from_string(user_id), &key_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_status(
    auth: &Authorized<rules::DevicesEdit>,
    user_id: String,
    key_id: &str,
    status: KeyStatus,
) -> ApiResult<axum::response::Response> {
    let key = auth
        .store
        .set_device_key_status(app_of(auth)?, &UserId::from_string(user_id), key_id, status)
        .await?;
    Ok(envelope(KeyJson::new(&key)).into_response())
}

/// Block device key
#[utoipa::path(put, path = "/cis/v1/users/{user_id}/device-keys/{key_id}/block", operation_id = "blockDeviceKey", tag = "DeviceKeys",
    params(("user_id" = String, Path), ("key_id" = String, Path)),
    responses(
        (status = 200, body = KeyResult), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn block_key(
    auth: Authorized<rules::DevicesEdit>,
    ApiPath((user_id, key_id)): ApiPath<(String, String)>,
) -> ApiResult<axum::response::Response> {
    set_status(&auth, user_id, &key_id, KeyStatus::Blocked).await
}

/// Unblock device key
#[utoipa::path(put, path = "/cis/v1/users/{user_id}/device-keys/{key_id}/unblock", operation_id = "unblockDeviceKey", tag = "DeviceKeys",
    params(("user_id" = String, Path), ("key_id" = String, Path)),
    responses(
        (status = 200, body = KeyResult), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn unblock_key(
    auth: Authorized<rules::DevicesEdit>,
    ApiPath((user_id, key_id)): ApiPath<(String, String)>,
) -> ApiResult<axum::response::Response> {
    set_status(&auth, user_id, &key_id, KeyStatus::Active).await
}

/// Get device keys of the current user
///
/// The keys of the token's user in the token's app, as an array (`DECISIONS.md`).
#[utoipa::path(get, path = "/cis/v1/users/me/device-keys", operation_id = "getDeviceKeysForTenant", tag = "Users",
    responses(
        (status = 200, body = KeysResult), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn my_keys(auth: Authorized<rules::Me>) -> ApiResult<impl IntoResponse> {
    let user = UserId::from_string(auth.principal.user_id.clone().unwrap_or_default());
    let keys = auth
        .store
        .device_keys(&auth.principal.app_id, &user)
        .await?;
    Ok(keys_json(&keys))
}
