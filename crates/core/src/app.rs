//! Applications, their OAuth clients, and the per-app password policy.

use crate::{AppId, ClientId, Error, TenantId};
use serde::{Deserialize, Serialize};

pub const NAME_MAX: usize = 128;
pub const DESCRIPTION_MAX: usize = 1024;
pub const URI_MAX: usize = 2048;
pub const LIST_MAX: usize = 100;

/// Transmit's `PasswordConfiguration` with its published defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct PasswordConfiguration {
    pub failures_expire_in: u32,
    pub reset_validity_minutes: u32,
    pub password_complexity: u8,
    pub password_min_length: u32,
    pub block_previous_passwords: u32,
    pub check_hibp: bool,
    pub check_dictionary: bool,
    pub password_expires_in: u32,
    pub ignore_expiration: bool,
    pub max_password_failures: u32,
    pub password_suspension_duration: u32,
    pub temp_password_validity_hours: u32,
    #[serde(rename = "requireMFA")]
    pub require_mfa: bool,
    pub notify_on_password_update: bool,
    /// The password emails' look (`MessageConfiguration`): Roster sends no email, and
    /// keeps what is set so that the configuration reads back as written.
    pub message: MessageConfiguration,
}

/// Transmit's `MessageConfiguration`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageConfiguration {
    pub primary_color: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

impl Default for MessageConfiguration {
    fn default() -> Self {
        Self {
            primary_color: "#000000".into(),
            from: None,
            subject: None,
        }
    }
}

impl Default for PasswordConfiguration {
    fn default() -> Self {
        Self {
            failures_expire_in: 15,
            reset_validity_minutes: 5,
            password_complexity: 5,
            password_min_length: 14,
            block_previous_passwords: 0,
            check_hibp: false,
            check_dictionary: false,
            password_expires_in: 90,
            ignore_expiration: false,
            max_password_failures: 5,
            password_suspension_duration: 15,
            temp_password_validity_hours: 24,
            require_mfa: false,
            notify_on_password_update: false,
            message: MessageConfiguration::default(),
        }
    }
}

impl PasswordConfiguration {
    /// Checks the ranges of the Applications API; messages name the field.
    pub fn validate(&self) -> Result<(), Error> {
        let mut errors = Vec::new();
        let mut range = |name: &str, value: u32, min: u32, max: u32| {
            if value < min || value > max {
                errors.push(format!(
                    "password_configuration.{name} must be between {min} and {max}"
                ));
            }
        };
        range("failuresExpireIn", self.failures_expire_in, 1, 525_600);
        range("resetValidityMinutes", self.reset_validity_minutes, 5, 60);
        range("passwordComplexity", self.password_complexity.into(), 1, 5);
        range("passwordMinLength", self.password_min_length, 5, 14);
        range(
            "blockPreviousPasswords",
            self.block_previous_passwords,
            0,
            20,
        );
        range("passwordExpiresIn", self.password_expires_in, 1, 1096);
        range("maxPasswordFailures", self.max_password_failures, 1, 20);
        range(
            "passwordSuspensionDuration",
            self.password_suspension_duration,
            1,
            525_600,
        );
        range(
            "tempPasswordValidityHours",
            self.temp_password_validity_hours,
            1,
            8760,
        );
        let m = &self.message;
        let texts = [
            ("primaryColor", Some(&m.primary_color), 32),
            ("from", m.from.as_ref(), 256),
            ("subject", m.subject.as_ref(), 256),
        ];
        for (name, value, max) in texts {
            if value.is_some_and(|v| v.chars().count() > max) {
                errors.push(format!(
                    "password_configuration.message.{name} must be at most {max} characters"
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(errors))
        }
    }
}

/// Free-form app settings kept as one document; new fields need no migration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_uri: Option<String>,
    pub redirect_uris: Vec<String>,
    pub allow_public_signup: bool,
    /// Who created the app (`created_by`): the admin client's id, `seed` or `roster`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct App {
    pub tenant_id: TenantId,
    pub app_id: AppId,
    pub name: String,
    /// The management app's clients receive admin tokens.
    pub is_management: bool,
    pub settings: AppSettings,
    pub password_config: PasswordConfiguration,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug)]
pub struct NewApp {
    pub name: String,
    pub is_management: bool,
    pub settings: AppSettings,
    pub password_config: PasswordConfiguration,
}

impl NewApp {
    pub fn validate(&self) -> Result<(), Error> {
        let mut errors = Vec::new();
        check_text(&mut errors, "app_name", Some(&self.name), NAME_MAX, true);
        check_settings(&mut errors, &self.settings);
        if let Err(Error::Invalid(more)) = self.password_config.validate() {
            errors.extend(more);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(errors))
        }
    }
}

/// Validates an app after an update has been applied to it.
pub fn validate_app(app: &App) -> Result<(), Error> {
    NewApp {
        name: app.name.clone(),
        is_management: app.is_management,
        settings: app.settings.clone(),
        password_config: app.password_config.clone(),
    }
    .validate()
}

#[derive(Clone, Debug, PartialEq)]
pub struct Client {
    pub tenant_id: TenantId,
    pub app_id: AppId,
    pub client_id: ClientId,
    pub name: String,
    pub description: Option<String>,
    pub redirect_uris: Vec<String>,
    /// Resources (audiences) this client may ask tokens for, besides the default one.
    pub resources: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug)]
pub struct NewClient {
    pub name: String,
    pub description: Option<String>,
    pub redirect_uris: Vec<String>,
    pub resources: Vec<String>,
}

impl NewClient {
    pub fn validate(&self) -> Result<(), Error> {
        let mut errors = Vec::new();
        check_text(&mut errors, "name", Some(&self.name), NAME_MAX, true);
        check_text(
            &mut errors,
            "description",
            self.description.as_ref(),
            DESCRIPTION_MAX,
            false,
        );
        check_list(&mut errors, "redirect_uris", &self.redirect_uris);
        check_list(&mut errors, "resources", &self.resources);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(errors))
        }
    }
}

/// What the token endpoint needs to know about a client; the only cross-tenant lookup.
#[derive(Clone, Debug)]
pub struct ClientCredentials {
    pub tenant_id: TenantId,
    pub app_id: AppId,
    pub app_name: String,
    pub is_management: bool,
    pub client_id: ClientId,
    pub secret_hash: crate::secret::SecretHash,
    pub resources: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Tenant {
    pub tenant_id: TenantId,
    pub name: String,
    pub created_at: i64,
}

fn check_text(
    errors: &mut Vec<String>,
    field: &str,
    value: Option<&String>,
    max: usize,
    required: bool,
) {
    match value {
        None if required => errors.push(format!("{field} is required")),
        Some(v) if required && v.trim().is_empty() => errors.push(format!("{field} is required")),
        Some(v) if v.chars().count() > max => {
            errors.push(format!("{field} must be at most {max} characters"))
        }
        _ => {}
    }
}

fn check_list(errors: &mut Vec<String>, field: &str, values: &[String]) {
    if values.len() > LIST_MAX {
        errors.push(format!("{field} must have at most {LIST_MAX} entries"));
    }
    for (i, v) in values.iter().enumerate() {
        if v.trim().is_empty() {
            errors.push(format!("{field}[{i}] must not be empty"));
        } else if v.len() > URI_MAX {
            errors.push(format!("{field}[{i}] must be at most {URI_MAX} characters"));
        }
    }
}

fn check_settings(errors: &mut Vec<String>, s: &AppSettings) {
    check_text(
        errors,
        "app_description",
        s.description.as_ref(),
        DESCRIPTION_MAX,
        false,
    );
    check_text(errors, "logo", s.logo.as_ref(), URI_MAX, false);
    check_text(errors, "login_uri", s.login_uri.as_ref(), URI_MAX, false);
    check_list(errors, "redirect_uris", &s.redirect_uris);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_defaults_match_transmit() {
        let c = PasswordConfiguration::default();
        assert_eq!(c.password_min_length, 14);
        assert_eq!(c.password_complexity, 5);
        assert_eq!(c.max_password_failures, 5);
        assert_eq!(c.password_expires_in, 90);
        assert!(c.validate().is_ok());
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["passwordMinLength"], 14);
        assert_eq!(json["requireMFA"], false);
    }

    #[test]
    fn out_of_range_policy_names_the_field() {
        let c = PasswordConfiguration {
            password_complexity: 9,
            ..Default::default()
        };
        let Err(Error::Invalid(m)) = c.validate() else {
            panic!("expected invalid")
        };
        assert!(m[0].contains("passwordComplexity"));
    }

    #[test]
    fn new_app_requires_a_name() {
        let app = NewApp {
            name: "  ".into(),
            is_management: false,
            settings: AppSettings::default(),
            password_config: PasswordConfiguration::default(),
        };
        let Err(Error::Invalid(m)) = app.validate() else {
            panic!("expected invalid")
        };
        assert_eq!(m, vec!["app_name is required".to_string()]);
    }
}
