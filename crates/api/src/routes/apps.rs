//! The Applications API subset: apps and their OAuth clients, for admin tokens.
//! Field names follow Transmit's `ApiApp` and `ApiOidcClient`.

use super::iso;
use crate::auth::{rules, Authorized};
use crate::error::{ApiError, ApiResult, BadRequestBody, ConflictBody, ErrorBody};
use crate::extract::{envelope, ApiJson, ApiPath, Envelope};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use roster_core::app::{validate_app, App, AppSettings, Client, NewApp, NewClient};
use roster_core::secret::ClientSecret;
use roster_core::{AppId, ClientId, Error, PasswordConfiguration, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[schema(as = ApiApp)]
struct AppView {
    app_id: String,
    tenant_id: String,
    app_name: String,
    app_description: String,
    logo: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    login_uri: Option<String>,
    redirect_uris: Vec<String>,
    allow_public_signup: bool,
    service_providers: Vec<String>,
    /// Roster extension: marks the app whose clients get admin tokens.
    is_management_app: bool,
    /// The app's login methods: Roster has passwords, with the app's policy.
    login_preferences: LoginPreferences,
    /// Roster extension, the same policy as `login_preferences.auth_methods.password`.
    password_configuration: PasswordConfiguration,
    created_at: String,
    updated_at: String,
    /// The default client made with the app; its secret is shown only in the create answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
}

impl AppView {
    fn new(app: App) -> Self {
        Self {
            app_id: app.app_id.into_string(),
            tenant_id: app.tenant_id.into_string(),
            app_name: app.name,
            app_description: app.settings.description.unwrap_or_default(),
            logo: app.settings.logo.unwrap_or_default(),
            login_uri: app.settings.login_uri,
            redirect_uris: app.settings.redirect_uris,
            allow_public_signup: app.settings.allow_public_signup,
            service_providers: Vec::new(),
            is_management_app: app.is_management,
            login_preferences: LoginPreferences {
                auth_methods: AuthMethods {
                    password: Some(app.password_config.clone()),
                },
            },
            password_configuration: app.password_config,
            created_at: iso(app.created_at),
            updated_at: iso(app.updated_at),
            client_id: None,
            client_secret: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = ApiOidcClient)]
struct ClientView {
    app_id: String,
    tenant_id: String,
    client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    name: String,
    description: String,
    redirect_uris: Vec<String>,
    resources: Vec<String>,
    authentication_protocol: &'static str,
    created_at: String,
    updated_at: String,
}

impl ClientView {
    fn new(client: Client, secret: Option<&ClientSecret>) -> Self {
        Self {
            app_id: client.app_id.into_string(),
            tenant_id: client.tenant_id.into_string(),
            client_id: client.client_id.into_string(),
            client_secret: secret.map(|s| s.expose().to_owned()),
            name: client.name,
            description: client.description.unwrap_or_default(),
            redirect_uris: client.redirect_uris,
            resources: client.resources,
            authentication_protocol: "oidc",
            created_at: iso(client.created_at),
            updated_at: iso(client.updated_at),
        }
    }
}

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

/// `ApiLoginPreferences`: of Transmit's login methods Roster has passwords; the others are
/// accepted and ignored.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(as = ApiLoginPreferences)]
pub struct LoginPreferences {
    #[serde(deserialize_with = "roster_core::object::required")]
    auth_methods: AuthMethods,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(as = ApiAuthMethods)]
pub struct AuthMethods {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "roster_core::object::optional"
    )]
    password: Option<PasswordConfiguration>,
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

#[derive(Deserialize, ToSchema)]
pub struct CreateClientRequest {
    name: Option<String>,
    description: Option<String>,
    redirect_uris: Option<Vec<String>>,
    resources: Option<Vec<String>>,
}

fn app_not_found(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::NotFound("App not found".into()),
        e => e.into(),
    }
}

fn client_not_found(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::NotFound("Client not found".into()),
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
        (status = 200, body = Envelope<Vec<AppView>>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub async fn list_apps(auth: Authorized<rules::AppsRead>) -> ApiResult<impl IntoResponse> {
    let apps = auth.store.list_apps().await?;
    Ok(envelope(
        apps.into_iter().map(AppView::new).collect::<Vec<_>>(),
    ))
}

/// Get app by ID
#[utoipa::path(get, path = "/cis/v1/applications/{appId}", operation_id = "getAppById", tag = "Applications",
    params(("appId" = String, Path)),
    responses(
        (status = 200, body = Envelope<AppView>),
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
        (status = 404, body = ErrorBody), (status = 409, body = ConflictBody),
        (status = 413, body = ErrorBody),
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
        Err(Error::Conflict { .. }) => Err(app_name_taken()),
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

/// Create client
#[utoipa::path(post, path = "/cis/v1/applications/{appId}/clients", operation_id = "createAppClient", tag = "Applications",
    params(("appId" = String, Path)),
    request_body = CreateClientRequest,
    responses(
        (status = 201, description = "The client; its secret is shown only here", body = ClientView),
        (status = 400, body = BadRequestBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
    ))]
pub async fn create_client(
    auth: Authorized<rules::AppsCreate>,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(req): ApiJson<CreateClientRequest>,
) -> ApiResult<impl IntoResponse> {
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
        .map_err(app_not_found)?;
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
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn list_clients(
    auth: Authorized<rules::AppsRead>,
    ApiPath(app_id): ApiPath<String>,
) -> ApiResult<impl IntoResponse> {
    let tenant = &auth.store;
    let app_id = AppId::from_string(app_id);
    tenant.get_app(&app_id).await.map_err(app_not_found)?;
    let clients = tenant.list_clients(&app_id).await?;
    Ok(Json(
        clients
            .into_iter()
            .map(|c| ClientView::new(c, None))
            .collect::<Vec<_>>(),
    ))
}

/// Get client by ID
#[utoipa::path(get, path = "/cis/v1/applications/{appId}/clients/{clientId}", operation_id = "getAppClientById", tag = "Applications",
    params(("appId" = String, Path), ("clientId" = String, Path)),
    responses(
        (status = 200, body = ClientView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn get_client(
    auth: Authorized<rules::AppsRead>,
    ApiPath((app_id, client_id)): ApiPath<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    let client = auth
        .store
        .get_client(
            &AppId::from_string(app_id),
            &ClientId::from_string(client_id),
        )
        .await
        .map_err(client_not_found)?;
    Ok(Json(ClientView::new(client, None)))
}

/// Delete client
#[utoipa::path(delete, path = "/cis/v1/applications/{appId}/clients/{clientId}", operation_id = "deleteAppClient", tag = "Applications",
    params(("appId" = String, Path), ("clientId" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn delete_client(
    State(state): State<AppState>,
    auth: Authorized<rules::AppsDelete>,
    ApiPath((app_id, client_id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    auth.store
        .delete_client(
            &AppId::from_string(app_id),
            &ClientId::from_string(client_id),
        )
        .await
        .map_err(client_not_found)?;
    state.keys.forget_clients();
    Ok(StatusCode::NO_CONTENT)
}
