//! End-user sessions: refresh tokens, random and stored only as digests, rotated on every
//! use, with the whole family revoked when a rotated one comes back.

use crate::secret::SecretHash;
use crate::UserId;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

/// How long a refresh token lasts (14 days, as Transmit's).
pub const REFRESH_TTL_MS: i64 = 14 * 24 * 3_600_000;

/// Every refresh token starts with this, so a leaked one is easy to recognise.
const PREFIX: &str = "rrt_";

/// A refresh token as the client holds it. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct RefreshToken(String);

impl RefreshToken {
    /// 256 random bits.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        Self(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// A token a client presented.
    pub fn presented(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The stored form, by which the token is found (a fast digest is enough for 256
    /// random bits).
    pub fn digest(&self) -> String {
        SecretHash::of(&self.0).as_str().to_owned()
    }
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshToken(..)")
    }
}

/// What presenting a refresh token did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// It was current: it is used up, and its successor was stored.
    Rotated(UserId),
    /// Unknown, expired, revoked, of another client, or used before (which revoked its
    /// family).
    Refused,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hidden() {
        let a = RefreshToken::generate();
        assert!(a.expose().starts_with(PREFIX) && a.expose().len() > 40);
        assert_ne!(a.expose(), RefreshToken::generate().expose());
        assert_eq!(
            a.digest(),
            RefreshToken::presented(a.expose().into()).digest()
        );
        assert_eq!(format!("{a:?}"), "RefreshToken(..)");
    }
}
