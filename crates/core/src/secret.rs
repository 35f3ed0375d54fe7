//! Client secrets: high-entropy random strings, stored only as a SHA-256 digest.
//!
//! A 256-bit random secret cannot be guessed, so a fast digest is as safe as a slow
//! password hash here and keeps the token endpoint fast.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Every generated secret starts with this, so leaked secrets are easy to recognise.
pub const SECRET_PREFIX: &str = "rsec_";

/// A plaintext secret. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        Self(format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// A secret chosen by the operator (bootstrap).
    pub fn from_string(s: String) -> Self {
        Self(s)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> SecretHash {
        SecretHash::of(&self.0)
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(..)")
    }
}

/// The stored form of a secret: `sha256:<hex>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretHash(String);

impl SecretHash {
    pub fn of(secret: &str) -> Self {
        let digest = Sha256::digest(secret.as_bytes());
        let mut hex = String::with_capacity(7 + 64);
        hex.push_str("sha256:");
        for b in digest {
            hex.push_str(&format!("{b:02x}"));
        }
        Self(hex)
    }

    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison of a presented secret with this hash.
    pub fn verify(&self, presented: &str) -> bool {
        let candidate = Self::of(presented);
        candidate.0.as_bytes().ct_eq(self.0.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_verify_and_differ() {
        let s = ClientSecret::generate();
        assert!(s.expose().starts_with(SECRET_PREFIX));
        assert!(s.expose().len() >= 40);
        let h = s.hash();
        assert!(h.verify(s.expose()));
        assert!(!h.verify("rsec_wrong"));
        assert_ne!(s.expose(), ClientSecret::generate().expose());
        assert_eq!(format!("{s:?}"), "ClientSecret(..)");
    }
}
