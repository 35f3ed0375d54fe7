//! Token signing keys as stored: installation-wide, shared by every node on one database.

#[derive(Clone)]
pub struct SigningKeyRecord {
    /// Key id, sent as `kid` in token headers.
    pub kid: String,
    /// `primary` for the key that signs new tokens.
    pub purpose: String,
    /// The JWS algorithm name, e.g. `EdDSA`.
    pub algorithm: String,
    /// Base64 (standard) PKCS#8 document.
    pub private_key: String,
    /// Base64url (no padding) raw public key.
    pub public_key: String,
    pub created_at: i64,
}

/// Everything but the private key.
impl std::fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("purpose", &self.purpose)
            .field("algorithm", &self.algorithm)
            .field("public_key", &self.public_key)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}
