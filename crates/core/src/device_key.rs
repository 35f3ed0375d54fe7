//! Device keys: the public keys an app's client SDK binds to a user in that app
//! (`users-api.md` §8.2), with their metadata and a status that can be blocked.

use crate::user::input::{check_size, object, text, Problems};
use crate::Error;
use base64::Engine;
use p256::pkcs8::DecodePublicKey;
use rsa::pkcs8::spki::{ObjectIdentifier, SubjectPublicKeyInfoRef};
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The base64 text of a key, at most (an RSA 4096-bit key takes about 740).
pub const PUBLIC_KEY_MAX: usize = 4096;
const RSA_MIN_BITS: usize = 2048;
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// What a checked public key is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAlgorithm {
    Rsa { bits: usize },
    EcP256,
}

/// Checks `public_key`: the base64 of a DER SubjectPublicKeyInfo holding an RSA key of 2048
/// to 4096 bits, or an EC P-256 point that lies on the curve. Every message names the field.
pub fn check_public_key(b64: &str) -> Result<KeyAlgorithm, String> {
    if b64.len() > PUBLIC_KEY_MAX {
        return Err(format!(
            "public_key must be at most {PUBLIC_KEY_MAX} characters"
        ));
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| "public_key must be base64 (of a DER SubjectPublicKeyInfo)".to_string())?;
    let info = SubjectPublicKeyInfoRef::try_from(der.as_slice())
        .map_err(|_| "public_key is not a DER SubjectPublicKeyInfo".to_string())?;
    match info.algorithm.oid {
        RSA_ENCRYPTION => {
            let key = rsa::RsaPublicKey::from_public_key_der(&der).map_err(|_| {
                "public_key: the RSA key cannot be read (2048 to 4096 bits are accepted)"
                    .to_string()
            })?;
            let bits = key.n().bits();
            if bits < RSA_MIN_BITS {
                return Err(format!(
                    "public_key: an RSA key needs at least {RSA_MIN_BITS} bits, this one has {bits}"
                ));
            }
            Ok(KeyAlgorithm::Rsa { bits })
        }
        EC_PUBLIC_KEY => {
            if info.algorithm.parameters_oid().ok() != Some(P256) {
                return Err("public_key: an EC key must be on the P-256 curve".into());
            }
            p256::PublicKey::from_public_key_der(&der)
                .map_err(|_| "public_key: the point is not on the P-256 curve".to_string())?;
            Ok(KeyAlgorithm::EcP256)
        }
        _ => Err("public_key: only RSA (2048 bits or more) and EC P-256 keys are accepted".into()),
    }
}

pub const KEY_ID_MAX: usize = 256;
pub const DISPLAY_NAME_MAX: usize = 256;
const DEVICE_TOKEN_MIN: usize = 32;
const DEVICE_TOKEN_MAX: usize = 255;
const BUNDLE_ID_MAX: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    Blocked,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Blocked => "Blocked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [KeyStatus::Active, KeyStatus::Blocked]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PushType {
    #[serde(rename = "FCM")]
    Fcm,
    #[serde(rename = "APN")]
    Apn,
}

/// Where pushes for the device go (`DevicePushConfig`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = DevicePushConfig))]
pub struct PushConfig {
    pub device_token: String,
    #[serde(rename = "type")]
    pub push_type: PushType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DeviceKey {
    pub key_id: String,
    pub public_key: String,
    pub display_name: Option<String>,
    pub custom_data: Map<String, Value>,
    pub push_config: Option<PushConfig>,
    pub status: KeyStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

/// `POST /v1/users/{user_id}/device-keys` (`key_id` and `public_key` required) and the
/// metadata update (`display_name`, `custom_data`, `push_config`; each given one replaces
/// what was there).
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = DeviceKeyCreateInput))]
pub struct DeviceKeyInput {
    pub key_id: Option<String>,
    /// Base64 of the DER SubjectPublicKeyInfo: RSA (2048 to 4096 bits) or EC P-256.
    pub public_key: Option<String>,
    pub display_name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub custom_data: Option<Value>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<PushConfig>))]
    pub push_config: Option<Value>,
}

/// Checked metadata: `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct KeyChange {
    pub display_name: Option<String>,
    pub custom_data: Option<Map<String, Value>>,
    pub push_config: Option<PushConfig>,
}

impl KeyChange {
    pub fn apply(self, key: &mut DeviceKey, now: i64) {
        if let Some(v) = self.display_name {
            key.display_name = Some(v);
        }
        if let Some(v) = self.custom_data {
            key.custom_data = v;
        }
        if let Some(v) = self.push_config {
            key.push_config = Some(v);
        }
        key.updated_at = now;
    }
}

fn push_config(p: &mut Problems, value: Value) -> Option<PushConfig> {
    let config: PushConfig = match serde_json::from_value(value) {
        Ok(c) => c,
        Err(e) => {
            p.push(format!(
                "push_config must be {{device_token, type: FCM or APN, bundle_id}}: {e}"
            ));
            return None;
        }
    };
    let tokens = config.device_token.chars().count();
    if !(DEVICE_TOKEN_MIN..=DEVICE_TOKEN_MAX).contains(&tokens)
        || config.device_token.chars().any(char::is_control)
    {
        p.push(format!(
            "push_config.device_token must be {DEVICE_TOKEN_MIN} to {DEVICE_TOKEN_MAX} characters"
        ));
        return None;
    }
    if let Some(b) = &config.bundle_id {
        p.take(text("push_config.bundle_id", b, BUNDLE_ID_MAX))?;
    }
    Some(config)
}

/// The metadata a create or an update may carry, checked.
fn metadata(
    p: &mut Problems,
    display_name: Option<String>,
    custom_data: Option<Value>,
    push: Option<Value>,
) -> KeyChange {
    let display_name =
        display_name.and_then(|v| p.take(text("display_name", &v, DISPLAY_NAME_MAX)));
    let custom_data = custom_data.and_then(|v| p.take(object("custom_data", v)));
    if let Some(c) = &custom_data {
        p.take(check_size("custom_data", c));
    }
    KeyChange {
        display_name,
        custom_data,
        push_config: push.and_then(|v| push_config(p, v)),
    }
}

impl DeviceKeyInput {
    /// A new key's fields, all checked; the key's algorithm is checked here too.
    pub fn for_create(self, now: i64) -> Result<DeviceKey, Error> {
        let mut p = Problems(Vec::new());
        let Self {
            key_id,
            public_key,
            display_name,
            custom_data,
            push_config,
        } = self;
        if key_id.is_none() {
            p.push("key_id is required".into());
        }
        if public_key.is_none() {
            p.push("public_key is required".into());
        }
        let key_id = key_id.and_then(|k| p.take(text("key_id", &k, KEY_ID_MAX)));
        let public_key =
            public_key.and_then(|k| p.take(check_public_key(&k)).map(|_| k.trim().to_owned()));
        let rest = metadata(&mut p, display_name, custom_data, push_config);
        p.finish()?;
        Ok(DeviceKey {
            key_id: key_id.unwrap_or_default(),
            public_key: public_key.unwrap_or_default(),
            display_name: rest.display_name,
            custom_data: rest.custom_data.unwrap_or_default(),
            push_config: rest.push_config,
            status: KeyStatus::Active,
            created_at: now,
            updated_at: now,
        })
    }

    /// The metadata an update may change; `key_id` and `public_key` may not.
    pub fn for_update(self) -> Result<KeyChange, Error> {
        let mut p = Problems(Vec::new());
        if self.key_id.is_some() || self.public_key.is_some() {
            p.push("key_id and public_key cannot be changed: register a new key".into());
        }
        let change = metadata(
            &mut p,
            self.display_name,
            self.custom_data,
            self.push_config,
        );
        p.finish()?;
        Ok(change)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made with `openssl genpkey` and `openssl pkey -pubout -outform DER | base64`.
    const RSA_2048: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAhFZj97l7oSaHOAD0EOhQLFGeUzqWaOSROd+9IHyRFkOUTOdP6p0vUtuaDa7N/FyByaPE7BG+CeoA1/l8CI/itGG3aWNhb2sL0AXeOUZm6SW9QlrK5BPnmwwyLH3WJg4AjlOKlV/6A6Gt2GaMFTOqQ9/Iz6/Gha57vbsVbWAeJGVuGnqWgisPBpagrTX/nA9hsxlItAI2hyNAdVRf3bIhLQPC1qzA5UoA16lz+lhaAFcz/MmMSXNJIZgZ1rCWu6VHx5svt7WpWZm71Bxsc/01VJlaCzJxRyz6aAGRzIorr8jDwpv+QpzGa1Xw1Y+AGuylxnlZmpySUdKe7ymngo7m3QIDAQAB";
    const RSA_1024: &str = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDARXuWGMq3z/wWtjoN2fi/2qhheXy7PhJWV8ZvMx49rnxEcu58RGCei7hG6HpRnGCjWf9BRYEpbqdw0nNvF/0TpSoG65LZey4v+Ov45jX/ZOqf8Xmrmwq2jELtwufQu9IvZMoVWs1Al9pQdA3NuDNeaS6hycXxS89yfREH7vIrRQIDAQAB";
    const EC_P256: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEoFjyAoezRclnfDiI9lDX4zVYsCUdDYULxE4yKZsX9L9W5T4Ap1aF9K/qonzFHSaY1xtQ5R2dtS8KbKv7wE7Btg==";
    const EC_P384: &str = "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEbhDUns0K5E/eIpvUdJCsTzdDqJOOkDo3457kDqRMNmapHIp5ZOVELocdXTKvtvvL2Etp1MrPEobmXGCKjjAKxxjQsJ0CFTQJT92gvrEfTSEAyTS0trB/7S3xjVl8pWAd";
    const ED25519: &str = "MCowBQYDK2VwAyEAzb2aRHjHR1aay4M0uZpDVF4E+joDebnfELJKvDcnkws=";

    fn message(key: &str) -> String {
        check_public_key(key).unwrap_err()
    }

    #[test]
    fn rsa_2048_and_p256_keys_are_accepted() {
        assert_eq!(
            check_public_key(RSA_2048),
            Ok(KeyAlgorithm::Rsa { bits: 2048 })
        );
        assert_eq!(check_public_key(EC_P256), Ok(KeyAlgorithm::EcP256));
    }

    #[test]
    fn weak_foreign_and_broken_keys_are_refused_by_name() {
        assert_eq!(
            message(RSA_1024),
            "public_key: an RSA key needs at least 2048 bits, this one has 1024"
        );
        assert_eq!(
            message(EC_P384),
            "public_key: an EC key must be on the P-256 curve"
        );
        assert!(message(ED25519).starts_with("public_key: only RSA"));
        assert!(message("not base64!").starts_with("public_key must be base64"));
        assert!(message("aGVsbG8=").starts_with("public_key is not a DER"));
        assert!(message(&"A".repeat(PUBLIC_KEY_MAX + 4)).starts_with("public_key must be at most"));
        // The same P-256 key with its point moved off the curve.
        let mut der = base64::engine::general_purpose::STANDARD
            .decode(EC_P256)
            .unwrap();
        let last = der.len() - 1;
        der[last] ^= 1;
        let moved = base64::engine::general_purpose::STANDARD.encode(der);
        assert_eq!(
            message(&moved),
            "public_key: the point is not on the P-256 curve"
        );
        // A truncated RSA key.
        let cut = &RSA_2048[..RSA_2048.len() - 8];
        assert!(message(cut).starts_with("public_key"), "{}", message(cut));
    }

    #[test]
    fn a_create_checks_every_field_and_names_it() {
        let input: DeviceKeyInput = serde_json::from_value(serde_json::json!({
            "key_id": "", "public_key": RSA_1024, "custom_data": [1],
            "push_config": {"device_token": "short", "type": "FCM"}
        }))
        .unwrap();
        let Err(Error::Invalid(m)) = input.for_create(1) else {
            panic!("not a 400")
        };
        assert!(m[0].starts_with("key_id must not be empty"), "{m:?}");
        assert!(m[1].starts_with("public_key: an RSA key needs"), "{m:?}");
        assert!(
            m[2].starts_with("custom_data must be a JSON object"),
            "{m:?}"
        );
        assert!(
            m[3].starts_with("push_config.device_token must be 32"),
            "{m:?}"
        );
        let bad_type: DeviceKeyInput = serde_json::from_value(serde_json::json!({
            "key_id": "k", "public_key": EC_P256,
            "push_config": {"device_token": "t".repeat(40), "type": "SMS"}
        }))
        .unwrap();
        let Err(Error::Invalid(m)) = bad_type.for_create(1) else {
            panic!("not a 400")
        };
        assert!(m[0].starts_with("push_config must be"), "{m:?}");
        let ok: DeviceKeyInput = serde_json::from_value(serde_json::json!({
            "key_id": "k1", "public_key": EC_P256, "display_name": "Phone",
            "push_config": {"device_token": "t".repeat(40), "type": "APN", "bundle_id": "com.x"}
        }))
        .unwrap();
        let key = ok.for_create(7).unwrap();
        assert_eq!(
            (key.key_id.as_str(), key.status, key.created_at),
            ("k1", KeyStatus::Active, 7)
        );
        assert_eq!(key.push_config.unwrap().push_type, PushType::Apn);
    }

    #[test]
    fn an_update_changes_metadata_only() {
        let input: DeviceKeyInput =
            serde_json::from_value(serde_json::json!({"public_key": EC_P256})).unwrap();
        assert!(input.for_update().is_err());
        let input: DeviceKeyInput =
            serde_json::from_value(serde_json::json!({"display_name": "Tablet"})).unwrap();
        assert_eq!(
            input.for_update().unwrap().display_name.as_deref(),
            Some("Tablet")
        );
    }
}
