//! An app's OAuth clients (`/v1/applications/{appId}/clients`), for admin tokens. Roster's
//! clients are OIDC clients of the client-credentials grant; SAML clients are not served.

use super::views::ClientView;
use super::{app_not_found, unknown_app};
use crate::auth::{rules, Authorized};
use crate::error::{ApiError, ApiResult, BadRequestBody, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use roster_core::app::NewClient;
use roster_core::secret::ClientSecret;
use roster_core::{AppId, ClientId, Error, StoreError};
use serde::Deserialize;
use utoipa::ToSchema;

/// `ApiCreateOidcClientInput`, of which Roster keeps the fields its clients use; the
/// others are accepted and ignored.
#[derive(Deserialize, ToSchema)]
pub struct CreateClientRequest {
    name: Option<String>,
    description: Option<String>,
    redirect_uris: Option<Vec<String>>,
    resources: Option<Vec<String>>,
    /// `oidc` (the default); `saml` is refused.
    authentication_protocol: Option<String>,
}

/// `ApiUpdateOidcClientInput`: present fields replace the stored ones.
#[derive(Deserialize, ToSchema)]
pub struct UpdateClientRequest {
    name: Option<String>,
    description: Option<String>,
    redirect_uris: Option<Vec<String>>,
    resources: Option<Vec<String>>,
}

fn client_not_found(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::NotFound("Client not found".into()),
        e => e.into(),
    }
}

fn ids(app_id: String, client_id: String) -> (AppId, ClientId) {
    (AppId::from_string(app_id), ClientId::from_string(client_id))
}

/// Create client
///
/// An OIDC client of the app; its secret is in this answer only.
#[utoipa::path(post, path = "/cis/v1/applications/{appId}/clients", operation_id = "createAppClient", tag = "Applications",
    params(("appId" = String, Path)),
    request_body = CreateClientRequest,
    responses(
        (status = 201, description = "The client; its secret is shown only here", body = ClientView),
        (status = 400, description = "Invalid input, a SAML client, or no app with this `appId`", body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "Not given: client ids are generated", body = crate::error::ConflictBody),
        (status = 413, body = ErrorBody),
    ))]
pub async fn create_client(
    auth: Authorized<rules::AppsCreate>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(req): ApiJson<CreateClientRequest>,
) -> ApiResult<impl IntoResponse> {
    match req.authentication_protocol.as_deref() {
        None | Some("oidc") => {}
        Some("saml") => {
            return Err(ApiError::bad_request(
                "authentication_protocol: SAML clients are not served; use oidc",
            ))
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "authentication_protocol must be oidc or saml",
            ))
        }
    }
    let input = NewClient {
        name: req.name.unwrap_or_default(),
        description: req.description,
        redirect_uris: req.redirect_uris.unwrap_or_default(),
        resources: req.resources.unwrap_or_default(),
    };
    input.validate()?;
    let secret = ClientSecret::generate();
    let client = auth
        .store
        .create_client(&AppId::from_string(app_id), &input, &secret.hash())
        .await
        .map_err(unknown_app)?;
    Ok((
        StatusCode::CREATED,
        Json(ClientView::new(client, Some(&secret))),
    ))
}

/// Get clients
#[utoipa::path(get, path = "/cis/v1/applications/{appId}/clients", operation_id = "getAppClients", tag = "Applications",
    params(("appId" = String, Path)),
    responses(
        (status = 200, body = Vec<ClientView>),
        (status = 400, description = "No app with this `appId`", body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub async fn list_clients(
    auth: Authorized<rules::AppsRead>,
    ApiPath(app_id): ApiPath<String>,
) -> ApiResult<impl IntoResponse> {
    let tenant = &auth.store;
    let app_id = AppId::from_string(app_id);
    tenant.get_app(&app_id).await.map_err(unknown_app)?;
    let clients = tenant.list_clients(&app_id).await?;
    Ok(Json(
        clients
            .into_iter()
            .map(|c| ClientView::new(c, None))
            .collect::<Vec<_>>(),
    ))
}

/// Delete all clients
///
/// Every client of the app; their tokens stop working. Not for the app of the token in
/// use (400): that would lock the caller out.
#[utoipa::path(delete, path = "/cis/v1/applications/{appId}/clients", operation_id = "deleteAppClients", tag = "Applications",
    params(("appId" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn delete_clients(
    State(state): State<AppState>,
    auth: Authorized<rules::AppsDelete>,
    ApiPath(app_id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let app_id = AppId::from_string(app_id);
    auth.store.get_app(&app_id).await.map_err(app_not_found)?;
    if app_id == auth.principal.app_id {
        return Err(ApiError::bad_request(
            "appId is the app of the token in use: its clients cannot all be deleted",
        ));
    }
    auth.store.delete_clients(&app_id).await?;
    state.keys.forget_clients();
    Ok(StatusCode::NO_CONTENT)
}

/// Get client by ID
#[utoipa::path(get, path = "/cis/v1/applications/{appId}/clients/{clientId}", operation_id = "getAppClientById", tag = "Applications",
    params(("appId" = String, Path), ("clientId" = String, Path)),
    responses(
        (status = 200, body = ClientView),
        (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn get_client(
    auth: Authorized<rules::AppsRead>,
    ApiPath((app_id, client_id)): ApiPath<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    let (app_id, client_id) = ids(app_id, client_id);
    let client = auth
        .store
        .get_client(&app_id, &client_id)
        .await
        .map_err(client_not_found)?;
    Ok(Json(ClientView::new(client, None)))
}

/// Update client
///
/// Present fields replace the stored ones; the secret does not change.
#[utoipa::path(put, path = "/cis/v1/applications/{appId}/clients/{clientId}", operation_id = "updateAppClient", tag = "Applications",
    params(("appId" = String, Path), ("clientId" = String, Path)),
    request_body = UpdateClientRequest,
    responses(
        (status = 200, body = ClientView), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
    ))]
pub async fn update_client(
    State(state): State<AppState>,
    auth: Authorized<rules::AppsEdit>,
    ApiPath((app_id, client_id)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<UpdateClientRequest>,
) -> ApiResult<impl IntoResponse> {
    let (app_id, client_id) = ids(app_id, client_id);
    let updated = auth
        .store
        .update_client(&app_id, &client_id, move |c| {
            if let Some(v) = req.name {
                c.name = v;
            }
            if let Some(v) = req.description {
                c.description = Some(v);
            }
            if let Some(v) = req.redirect_uris {
                c.redirect_uris = v;
            }
            if let Some(v) = req.resources {
                c.resources = v;
            }
            c.validate()
        })
        .await;
    match updated {
        Ok(client) => {
            // A client's resources are part of what a token may be asked for.
            state.keys.forget_clients();
            Ok(Json(ClientView::new(client, None)))
        }
        Err(Error::NotFound(_)) => Err(ApiError::NotFound("Client not found".into())),
        Err(e) => Err(e.into()),
    }
}

/// Delete client
///
/// Its tokens stop working. The client of the token in use cannot be deleted (400).
#[utoipa::path(delete, path = "/cis/v1/applications/{appId}/clients/{clientId}", operation_id = "deleteAppClient", tag = "Applications",
    params(("appId" = String, Path), ("clientId" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn delete_client(
    State(state): State<AppState>,
    auth: Authorized<rules::AppsDelete>,
    ApiPath((app_id, client_id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let (app_id, client_id) = ids(app_id, client_id);
    if client_id == auth.principal.client_id && app_id == auth.principal.app_id {
        return Err(ApiError::bad_request(
            "clientId is the client of the token in use: it cannot delete itself",
        ));
    }
    auth.store
        .delete_client(&app_id, &client_id)
        .await
        .map_err(client_not_found)?;
    state.keys.forget_clients();
    Ok(StatusCode::NO_CONTENT)
}
