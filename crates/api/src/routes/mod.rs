pub mod apps;
pub mod device_keys;
pub mod groups;
pub mod health;
pub mod oidc;
pub mod password_auth;
pub mod reset;
pub mod users;

/// RFC 3339 with milliseconds, as Transmit writes date-time fields.
pub(crate) fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
