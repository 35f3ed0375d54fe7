//! The Applications API's answers in Transmit's shapes (`ApiApp`, `ApiBasicApp`,
//! `ApiOidcClient`), every required field present.

use crate::routes::iso;
use roster_core::app::{App, Client};
use roster_core::secret::ClientSecret;
use roster_core::session::REFRESH_TTL_MS;
use roster_core::PasswordConfiguration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `created_by` of apps made before it was recorded (by bootstrap).
const CREATED_BY_ROSTER: &str = "roster";

/// What a client reads in place of a secret: secrets are stored as digests and shown only
/// in the answer that creates them.
pub(crate) const SECRET_MASK: &str = "********";

#[derive(Serialize, ToSchema)]
#[schema(as = ApiApp)]
pub(crate) struct AppView {
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
    /// Roster has no authentication hub: never centralized.
    authenticator_preferences: AuthenticatorPreferences,
    /// The admin client that created the app (`seed` for seeded apps, `roster` for the
    /// management app).
    created_by: String,
    created_at: String,
    updated_at: String,
    /// The default client made with the app; its secret is shown only in the create answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) client_secret: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ApiAuthenticatorAppPreferences)]
struct AuthenticatorPreferences {
    is_centralized: bool,
    login_uri: String,
}

impl AppView {
    pub(crate) fn new(app: App) -> Self {
        Self {
            app_id: app.app_id.into_string(),
            tenant_id: app.tenant_id.into_string(),
            app_name: app.name,
            app_description: app.settings.description.unwrap_or_default(),
            logo: app.settings.logo.unwrap_or_default(),
            authenticator_preferences: AuthenticatorPreferences {
                is_centralized: false,
                login_uri: app.settings.login_uri.clone().unwrap_or_default(),
            },
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
            created_by: app
                .settings
                .created_by
                .unwrap_or_else(|| CREATED_BY_ROSTER.into()),
            created_at: iso(app.created_at),
            updated_at: iso(app.updated_at),
            client_id: None,
            client_secret: None,
        }
    }
}

/// `ApiBasicApp`: the list of `GET /v1/applications/list`.
#[derive(Serialize, ToSchema)]
#[schema(as = ApiBasicApp)]
pub(crate) struct BasicAppView {
    app_id: String,
    tenant_id: String,
    app_name: String,
    app_description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    login_uri: Option<String>,
}

impl BasicAppView {
    pub(crate) fn new(app: App) -> Self {
        Self {
            app_id: app.app_id.into_string(),
            tenant_id: app.tenant_id.into_string(),
            app_name: app.name,
            app_description: app.settings.description.unwrap_or_default(),
            login_uri: app.settings.login_uri,
        }
    }
}

/// `ApiLoginPreferences`: of Transmit's login methods Roster has passwords; the others are
/// accepted and ignored.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(as = ApiLoginPreferences)]
pub struct LoginPreferences {
    #[serde(deserialize_with = "roster_core::object::required")]
    pub(crate) auth_methods: AuthMethods,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(as = ApiAuthMethods)]
pub struct AuthMethods {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "roster_core::object::optional"
    )]
    pub(crate) password: Option<PasswordConfiguration>,
}

/// `ApiOidcClient`. Roster's clients use the client-credentials grant only: the
/// interactive flows' settings read as off.
#[derive(Serialize, ToSchema)]
#[schema(as = ApiOidcClient)]
pub(crate) struct ClientView {
    app_id: String,
    tenant_id: String,
    client_id: String,
    /// The secret in the answer that creates the client; `********` afterwards.
    client_secret: String,
    name: String,
    description: String,
    redirect_uris: Vec<String>,
    resources: Vec<String>,
    authentication_protocol: &'static str,
    /// The clients of one app form one group: the app's id.
    client_group_id: String,
    default_custom_claims: Vec<String>,
    device_authorization: DeviceAuthorization,
    ciba_authorization: CibaAuthorization,
    supported_prompts: Vec<String>,
    token_expiration: TokenExpiration,
    /// Seconds a session (a refresh token family) lasts.
    session_expiration: i64,
    enforce_par: bool,
    fapi_version_compliancy: bool,
    created_at: String,
    updated_at: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ApiDeviceAuthConfiguration)]
struct DeviceAuthorization {
    enabled: bool,
    approval_uri: String,
    success_uri: String,
    input_uri: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ApiCibaAuthConfiguration)]
struct CibaAuthorization {
    enabled: bool,
}

/// Seconds, as Roster issues them.
#[derive(Serialize, ToSchema)]
#[schema(as = ApiTokenExpirationConfiguration)]
struct TokenExpiration {
    access_token_ttl: i64,
    refresh_token_ttl: i64,
}

impl ClientView {
    pub(crate) fn new(client: Client, secret: Option<&ClientSecret>) -> Self {
        Self {
            client_group_id: client.app_id.as_str().to_owned(),
            app_id: client.app_id.into_string(),
            tenant_id: client.tenant_id.into_string(),
            client_id: client.client_id.into_string(),
            client_secret: secret.map_or_else(|| SECRET_MASK.into(), |s| s.expose().to_owned()),
            name: client.name,
            description: client.description.unwrap_or_default(),
            redirect_uris: client.redirect_uris,
            resources: client.resources,
            authentication_protocol: "oidc",
            default_custom_claims: Vec::new(),
            device_authorization: DeviceAuthorization {
                enabled: false,
                approval_uri: String::new(),
                success_uri: String::new(),
                input_uri: String::new(),
            },
            ciba_authorization: CibaAuthorization { enabled: false },
            supported_prompts: Vec::new(),
            token_expiration: TokenExpiration {
                access_token_ttl: crate::tokens::TOKEN_TTL_SECS,
                refresh_token_ttl: REFRESH_TTL_MS / 1000,
            },
            session_expiration: REFRESH_TTL_MS / 1000,
            enforce_par: false,
            fapi_version_compliancy: false,
            created_at: iso(client.created_at),
            updated_at: iso(client.updated_at),
        }
    }
}
