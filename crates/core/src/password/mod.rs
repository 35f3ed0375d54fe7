//! Passwords: the secret itself, Argon2id hashes (PHC strings), and the per-app policy.
//! Hashing is CPU work of tens of milliseconds: callers run it off the async executor.

mod lockout;
mod policy;

pub use lockout::Failures;
pub use policy::{check, PolicyInput, Violation, PASSWORD_MAX};

use argon2::password_hash::PasswordHasher;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

/// A password as a user typed it. Its `Debug` shows nothing, and it is never logged.
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    pub fn new(value: String) -> Self {
        Self(SecretString::from(value))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// The stored form: an Argon2id PHC string (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// A hash the store kept.
    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

/// A password a request carries, with whether it is temporary (`force_replace`).
#[derive(Clone, Debug)]
pub struct Credentials {
    pub password: Password,
    pub temporary: bool,
}

/// A user's password in one app, as stored.
#[derive(Clone, Debug)]
pub struct StoredPassword {
    pub hash: PasswordHash,
    /// Set by an admin with `force_replace`: must be replaced at the next login.
    pub temporary: bool,
    pub updated_at: i64,
    /// When it expires (the app's policy when it was set); `None`: never.
    pub expires_at: Option<i64>,
    /// Earlier hashes, newest first.
    pub history: Vec<PasswordHash>,
    pub failures: Failures,
}

impl StoredPassword {
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// The `keep` latest passwords, this one first: those a new password must not repeat.
    pub fn recent(&self, keep: usize) -> Vec<PasswordHash> {
        std::iter::once(self.hash.clone())
            .chain(self.history.iter().cloned())
            .take(keep)
            .collect()
    }
}

/// A password about to be stored.
#[derive(Clone, Debug)]
pub struct NewPassword {
    pub hash: PasswordHash,
    pub temporary: bool,
    pub updated_at: i64,
    pub expires_at: Option<i64>,
    pub history: Vec<PasswordHash>,
}

impl NewPassword {
    /// The stored form of `hash` set at `now` under `policy`: a temporary password lasts
    /// `tempPasswordValidityHours`, another `passwordExpiresIn` days unless the app ignores
    /// expiry; the history keeps the `blockPreviousPasswords` latest earlier hashes.
    pub fn new(
        hash: PasswordHash,
        temporary: bool,
        now: i64,
        policy: &crate::app::PasswordConfiguration,
        previous: Option<&StoredPassword>,
    ) -> Self {
        const HOUR_MS: i64 = 3_600_000;
        let expires_at = if temporary {
            Some(now + i64::from(policy.temp_password_validity_hours) * HOUR_MS)
        } else if policy.ignore_expiration {
            None
        } else {
            Some(now + i64::from(policy.password_expires_in) * 24 * HOUR_MS)
        };
        let keep = policy.block_previous_passwords as usize;
        let history = previous
            .map(|p| {
                std::iter::once(p.hash.clone())
                    .chain(p.history.iter().cloned())
                    .take(keep)
                    .collect()
            })
            .unwrap_or_default();
        Self {
            hash,
            temporary,
            updated_at: now,
            expires_at,
            history,
        }
    }
}

/// What the user object shows of a password (`password_information`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordInfo {
    pub temporary: bool,
    pub updated_at: i64,
    pub expires_at: Option<i64>,
}

/// Argon2id cost parameters (`DECISIONS.md`: m = 19456 KiB, t = 2, p = 1 by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashParams {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl HashParams {
    fn argon2(self) -> Result<Argon2<'static>, String> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| format!("invalid Argon2 parameters: {e}"))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Checks the parameters once, at start-up.
    pub fn validate(self) -> Result<(), String> {
        self.argon2().map(|_| ())
    }

    /// Hashes with a fresh random salt.
    pub fn hash(self, password: &Password) -> Result<PasswordHash, String> {
        let hash = self
            .argon2()?
            .hash_password(password.expose().as_bytes())
            .map_err(|e| format!("could not hash a password: {e}"))?;
        Ok(PasswordHash(hash.to_string()))
    }
}

thread_local! {
    /// Argon2's working memory, kept per thread: allocating 19 MiB per verification
    /// costs thousands of page faults, a fifth of a login's CPU time when measured.
    static MEMORY: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Whether `password` matches `hash`, with the algorithm, version and parameters recorded
/// in the hash; an unreadable hash matches nothing. The outputs are compared in constant
/// time.
pub fn verify(hash: &PasswordHash, password: &Password) -> bool {
    let Ok(parsed) = argon2::password_hash::phc::PasswordHash::new(&hash.0) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let (Ok(params), Ok(algorithm)) = (
        Params::try_from(&parsed),
        Algorithm::try_from(parsed.algorithm.as_str()),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    let computed = MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        argon2
            .hash_password_into_with_memory(
                password.expose().as_bytes(),
                salt.as_ref(),
                &mut out,
                &mut memory[..blocks],
            )
            .is_ok()
    });
    computed && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap parameters: these tests check behaviour, not cost.
    const FAST: HashParams = HashParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn hashes_verify_and_are_salted() {
        let pw = Password::new("correct horse battery staple".into());
        let a = FAST.hash(&pw).unwrap();
        let b = FAST.hash(&pw).unwrap();
        assert!(
            a.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"),
            "{}",
            a.as_str()
        );
        assert_ne!(a, b);
        assert!(verify(&a, &pw));
        assert!(!verify(
            &a,
            &Password::new("correct horse battery stapler".into())
        ));
        assert!(!verify(
            &PasswordHash::from_stored("not a hash".into()),
            &pw
        ));
    }

    #[test]
    fn hashes_of_other_costs_verify_on_one_thread() {
        let pw = Password::new("correct horse battery staple".into());
        let big = HashParams {
            memory_kib: 256,
            iterations: 2,
            ..FAST
        };
        let (small_hash, big_hash) = (FAST.hash(&pw).unwrap(), big.hash(&pw).unwrap());
        for _ in 0..2 {
            assert!(verify(&big_hash, &pw) && verify(&small_hash, &pw));
        }
        assert!(!verify(&big_hash, &Password::new("wrong".into())));
    }

    #[test]
    fn debug_forms_show_nothing() {
        let pw = Password::new("s3cret-value".into());
        let hash = FAST.hash(&pw).unwrap();
        let shown = format!("{pw:?} {hash:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("argon2"),
            "{shown}"
        );
    }

    #[test]
    fn default_parameters_are_the_documented_ones() {
        let p = HashParams::default();
        assert_eq!((p.memory_kib, p.iterations, p.parallelism), (19_456, 2, 1));
        assert!(HashParams { memory_kib: 1, ..p }.validate().is_err());
    }
}
