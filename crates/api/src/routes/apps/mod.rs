//! The Applications API subset: apps (here) and their OAuth clients (`clients`), for
//! admin tokens. Answers in Transmit's shapes (`views`).

pub mod clients;
mod views;

use crate::auth::{rules, Authorized};
use crate::error::{ApiError, ApiResult, BadRequestBody, ConflictBody, ErrorBody};
use crate::extract::{envelope, ApiJson, ApiPath, Envelope};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use roster_core::app::{validate_app, AppSettings, NewApp, NewClient};
use roster_core::secret::ClientSecret;
use roster_core::{AppId, Error, PasswordConfiguration, StoreError};
use serde::Deserialize;
use utoipa::ToSchema;
use views::{AppView, BasicAppView, LoginPreferences};

#[derive(Deserialize, ToSchema)]
pub struct CreateAppRequest {
    app_name: Option<String>,
    app_description: Option<String>,
    logo: Option<String>,
    login_uri: Option<String>,
    redirect_uris: Option<Vec<String>>,
    allow_public_signup: Option<bool>,
    client_display_name: Option<String>,
    client_description: Option<String>,
    /// Roster extension: the password policy, as `login_preferences.auth_methods.password`.
    #[serde(default, deserialize_with = "roster_core::object::optional")]
    password_configuration: Option<PasswordConfiguration>,
    #[serde(default, deserialize_with = "roster_core::object::optional")]
    login_preferences: Option<LoginPreferences>,
}

/// The policy a create or update sets: `login_preferences.auth_methods.password`, or the
/// `password_configuration` extension; both at once is a 400.
fn policy_of(
    preferences: Option<LoginPreferences>,
    configuration: Option<PasswordConfiguration>,
) -> Result<Option<PasswordConfiguration>, ApiError> {
    match (preferences.and_then(|p| p.auth_methods.password), configuration) {
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "login_preferences.auth_methods.password and password_configuration are the same policy: send one",
        )),
        (a, b) => Ok(a.or(b)),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateAppRequest {
    app_name: Option<String>,
    app_description: Option<String>,
    logo: Option<String>,
    login_uri: Option<String>,
    redirect_uris: Option<Vec<String>>,
    allow_public_signup: Option<bool>,
    #[serde(default, deserialize_with = "roster_core::object::optional")]
    password_configuration: Option<PasswordConfiguration>,
    #[serde(default, deserialize_with = "roster_core::object::optional")]
    login_preferences: Option<LoginPreferences>,
}

/// Where the spec documents no 404 (client create and list), an unknown app is a 400.
fn unknown_app(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::bad_request("appId names no app of this tenant"),
        e => e.into(),
    }
}

fn app_not_found(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::NotFound("App not found".into()),
        e => e.into(),
    }
}

fn app_name_taken() -> ApiError {
    ApiError::Conflict {
        message: "App name is already taken".into(),
        ts_error_code: "APP_NAME_TAKEN",
    }
}

fn name_taken(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => app_name_taken(),
        e => app_not_found(e),
    }
}

/// Create app
///
/// Creates the app and its default client in one transaction.
#[utoipa::path(post, path = "/cis/v1/applications", operation_id = "createApp", tag = "Applications",
    request_body = CreateAppRequest,
    responses(
        (status = 201, description = "The app and its default client, whose secret is shown only here", body = Envelope<AppView>),
        (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ConflictBody), (status = 413, body = ErrorBody),
    ))]
pub async fn create_app(
    auth: Authorized<rules::AppsCreate>,
    ApiJson(req): ApiJson<CreateAppRequest>,
) -> ApiResult<impl IntoResponse> {
    let input = NewApp {
        name: req.app_name.unwrap_or_default(),
        is_management: false,
        settings: AppSettings {
            description: req.app_description,
            logo: req.logo,
            login_uri: req.login_uri,
            redirect_uris: req.redirect_uris.clone().unwrap_or_default(),
            allow_public_signup: req.allow_public_signup.unwrap_or(false),
            created_by: Some(auth.principal.client_id.as_str().to_owned()),
        },
        password_config: policy_of(req.login_preferences, req.password_configuration)?
            .unwrap_or_default(),
    };
    input.validate()?;
    let client = NewClient {
        name: req
            .client_display_name
            .unwrap_or_else(|| format!("{} default client", input.name)),
        description: req.client_description,
        redirect_uris: req.redirect_uris.unwrap_or_default(),
        resources: Vec::new(),
    };
    client.validate()?;
    let secret = ClientSecret::generate();
    let (app, client) = auth
        .store
        .create_app(&input, Some((&client, &secret.hash())))
        .await
        .map_err(name_taken)?;
    let mut view = AppView::new(app);
    if let Some(client) = client {
        view.client_id = Some(client.client_id.into_string());
        view.client_secret = Some(secret.expose().to_owned());
    }
    Ok((StatusCode::CREATED, envelope(view)))
}

/// Get all apps
#[utoipa::path(get, path = "/cis/v1/applications", operation_id = "getAllApps", tag = "Applications",
    responses(
        (status = 200, body = Envelope<Vec<AppView>>), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub async fn list_apps(auth: Authorized<rules::AppsRead>) -> ApiResult<impl IntoResponse> {
    let apps = auth.store.list_apps().await?;
    Ok(envelope(
        apps.into_iter().map(AppView::new).collect::<Vec<_>>(),
    ))
}

/// Get apps list
///
/// Every app of the tenant, in brief (`ApiBasicApp`).
#[utoipa::path(get, path = "/cis/v1/applications/list", operation_id = "getAppsList", tag = "Applications",
    responses(
        (status = 200, body = Envelope<Vec<BasicAppView>>), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub async fn list_apps_brief(auth: Authorized<rules::AppsRead>) -> ApiResult<impl IntoResponse> {
    let apps = auth.store.list_apps().await?;
    Ok(envelope(
        apps.into_iter().map(BasicAppView::new).collect::<Vec<_>>(),
    ))
}

/// Get app by ID
#[utoipa::path(get, path = "/cis/v1/applications/{appId}", operation_id = "getAppById", tag = "Applications",
    params(("appId" = String, Path)),
    responses(
        (status = 200, body = Envelope<AppView>), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn get_app(
    auth: Authorized<rules::AppsRead>,
    ApiPath(app_id): ApiPath<String>,
) -> ApiResult<impl IntoResponse> {
    let app = auth
        .store
        .get_app(&AppId::from_string(app_id))
        .await
        .map_err(app_not_found)?;
    Ok(envelope(AppView::new(app)))
}

/// Update app
///
/// Present fields replace the stored ones.
#[utoipa::path(put, path = "/cis/v1/applications/{appId}", operation_id = "updateApp", tag = "Applications",
    params(("appId" = String, Path)),
    request_body = UpdateAppRequest,
    responses(
        (status = 200, body = Envelope<AppView>), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
    ))]
pub async fn update_app(
    auth: Authorized<rules::AppsEdit>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateAppRequest>,
) -> ApiResult<impl IntoResponse> {
    let policy = policy_of(req.login_preferences, req.password_configuration)?;
    let result = auth
        .store
        .update_app(&AppId::from_string(app_id), move |app| {
            if let Some(v) = req.app_name {
                app.name = v;
            }
            let s = &mut app.settings;
            if let Some(v) = req.app_description {
                s.description = Some(v);
            }
            if let Some(v) = req.logo {
                s.logo = Some(v);
            }
            if let Some(v) = req.login_uri {
                s.login_uri = Some(v);
            }
            if let Some(v) = req.redirect_uris {
                s.redirect_uris = v;
            }
            if let Some(v) = req.allow_public_signup {
                s.allow_public_signup = v;
            }
            if let Some(v) = policy {
                app.password_config = v;
            }
            validate_app(app)
        })
        .await;
    match result {
        Ok(app) => Ok(envelope(AppView::new(app))),
        Err(Error::NotFound(_)) => Err(ApiError::NotFound("App not found".into())),
        // The spec documents no 409 on an update: a 400 with the same code.
        Err(Error::Conflict { .. }) => Err(ApiError::Taken {
            message: "App name is already taken".into(),
            ts_error_code: "APP_NAME_TAKEN",
        }),
        Err(e) => Err(e.into()),
    }
}

/// Delete app
///
/// The app, its clients and its users' memberships; the management app cannot be deleted (400).
#[utoipa::path(delete, path = "/cis/v1/applications/{appId}", operation_id = "deleteApp", tag = "Applications",
    params(("appId" = String, Path)),
    responses(
        (status = 204, description = "Deleted"), (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn delete_app(
    State(state): State<AppState>,
    auth: Authorized<rules::AppsDelete>,
    ApiPath(app_id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let tenant = &auth.store;
    let app_id = AppId::from_string(app_id);
    let app = tenant.get_app(&app_id).await.map_err(app_not_found)?;
    if app.is_management {
        return Err(ApiError::bad_request(
            "the management app cannot be deleted",
        ));
    }
    tenant.delete_app(&app_id).await.map_err(app_not_found)?;
    state.keys.forget_clients();
    Ok(StatusCode::NO_CONTENT)
}
