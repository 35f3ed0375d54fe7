//! Device keys: the public keys an app's client SDK binds to a user (`users-api.md` §8.2).
//! This module holds what a key must be before it is stored.

use base64::Engine;
use p256::pkcs8::DecodePublicKey;
use rsa::pkcs8::spki::{ObjectIdentifier, SubjectPublicKeyInfoRef};
use rsa::traits::PublicKeyParts;

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
}
