//! Access tokens: EdDSA (Ed25519) JWTs with a `kid`, signed with a key kept in the
//! database so that every node on one database issues and accepts the same tokens.

use crate::key_file::{is_sealed, KeyFile};
use crate::revocation::LiveClients;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use roster_core::id::random_id;
use roster_core::signing_key::SigningKeyRecord;
use roster_core::time::now_ms;
use roster_core::{AppId, ClientId, PermissionSet, Principal, PrincipalKind, StoreError, TenantId};
use roster_store::Store;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// The one algorithm tokens are signed and accepted with.
pub const ALGORITHM: Algorithm = Algorithm::EdDSA;
const ALGORITHM_NAME: &str = "EdDSA";
/// `aud` when the client asks for no `resource`.
pub const DEFAULT_AUDIENCE: &str = "userid-api";
pub const TOKEN_TTL_SECS: i64 = 3600;
const LEEWAY_SECS: u64 = 30;
/// How often an unknown `kid` may trigger a reload of the keys from the database.
const RELOAD_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub tid: String,
    pub app_id: String,
    pub app_name: String,
    pub client_id: String,
    pub roles: Vec<String>,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub ts_roles: Vec<String>,
    #[serde(default)]
    pub ts_permissions: Vec<String>,
}

struct VerifyingKey {
    key: DecodingKey,
    public_x: String,
}

pub struct KeyRing {
    issuer: String,
    /// Parsed once: deriving the key pair per token would double the signing cost.
    signer: Ed25519KeyPair,
    /// The encoded JWS header, the same for every token.
    header_b64: String,
    verified: VerifiedCache,
    live: LiveClients,
    verifying: RwLock<HashMap<String, VerifyingKey>>,
    last_reload: RwLock<Instant>,
}

/// The issuer and key ids only: the private key never shows.
impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kids: Vec<String> = self
            .verifying
            .read()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        kids.sort();
        f.debug_struct("KeyRing")
            .field("issuer", &self.issuer)
            .field("kids", &kids)
            .finish_non_exhaustive()
    }
}

/// What a token is issued for.
pub struct Grant<'a> {
    pub tenant_id: &'a TenantId,
    pub app_id: &'a AppId,
    pub app_name: &'a str,
    pub client_id: &'a ClientId,
    pub is_admin: bool,
    pub audience: &'a str,
    pub scope: &'a str,
    /// The end user a user token is for (`sub`); `None` for a client's own token.
    pub user: Option<&'a roster_core::UserId>,
}

impl KeyRing {
    /// Loads the primary key from the database, generating and storing it on first start;
    /// with a key file the private key is stored sealed (an unsealed one is sealed now).
    pub async fn load(
        store: &Store,
        issuer: String,
        key_file: Option<&KeyFile>,
    ) -> Result<Self, StoreError> {
        let mut candidate = generate_key()?;
        if let Some(k) = key_file {
            candidate.private_key = k
                .seal(&candidate.kid, &candidate.private_key)
                .map_err(StoreError::Other)?;
        }
        let primary = store.ensure_signing_key(&candidate).await?;
        if primary.algorithm != ALGORITHM_NAME {
            return Err(StoreError::Other(format!(
                "signing key {} uses {}, expected {ALGORITHM_NAME}",
                primary.kid, primary.algorithm
            )));
        }
        let private_key = match (key_file, is_sealed(&primary.private_key)) {
            (Some(k), true) => k
                .open(&primary.kid, &primary.private_key)
                .map_err(StoreError::Other)?,
            (None, true) => {
                return Err(StoreError::Other(format!(
                "signing key {} is sealed; start with the key file it was sealed with (--key-file)",
                primary.kid
            )))
            }
            (Some(k), false) => {
                let sealed = k
                    .seal(&primary.kid, &primary.private_key)
                    .map_err(StoreError::Other)?;
                store
                    .replace_signing_private_key(&primary.kid, &primary.private_key, &sealed)
                    .await?;
                primary.private_key.clone()
            }
            (None, false) => primary.private_key.clone(),
        };
        let pkcs8 = STANDARD
            .decode(&private_key)
            .map_err(|e| StoreError::Other(format!("signing key is not base64: {e}")))?;
        let signer = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pkcs8)
            .map_err(|_| StoreError::Other(format!("signing key {} is unreadable", primary.kid)))?;
        let header = serde_json::json!({ "typ": "JWT", "alg": ALGORITHM_NAME, "kid": primary.kid });
        let header_b64 = URL_SAFE_NO_PAD.encode(header.to_string());
        let ring = KeyRing {
            issuer,
            signer,
            header_b64,
            verified: VerifiedCache::default(),
            live: LiveClients::default(),
            verifying: RwLock::new(HashMap::new()),
            last_reload: RwLock::new(Instant::now()),
        };
        ring.install(store.signing_keys().await?)?;
        Ok(ring)
    }

    fn install(&self, records: Vec<SigningKeyRecord>) -> Result<(), StoreError> {
        let mut map = HashMap::new();
        for r in records
            .into_iter()
            .filter(|r| r.algorithm == ALGORITHM_NAME)
        {
            let key = DecodingKey::from_ed_components(&r.public_key).map_err(|e| {
                StoreError::Other(format!("signing key {} is unreadable: {e}", r.kid))
            })?;
            map.insert(
                r.kid,
                VerifyingKey {
                    key,
                    public_x: r.public_key,
                },
            );
        }
        if let Ok(mut guard) = self.verifying.write() {
            *guard = map;
        }
        Ok(())
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Signs an access token for a client-credentials grant.
    pub fn issue(&self, grant: &Grant<'_>) -> Result<String, serde_json::Error> {
        let now = now_ms() / 1000;
        let claims = Claims {
            sub: grant
                .user
                .map_or_else(|| grant.client_id.to_string(), ToString::to_string),
            iss: self.issuer.clone(),
            aud: grant.audience.to_owned(),
            iat: now,
            exp: now + TOKEN_TTL_SECS,
            jti: random_id(21),
            tid: grant.tenant_id.to_string(),
            app_id: grant.app_id.to_string(),
            app_name: grant.app_name.to_owned(),
            client_id: grant.client_id.to_string(),
            roles: if grant.is_admin {
                vec!["Admin".into()]
            } else {
                Vec::new()
            },
            scope: grant.scope.to_owned(),
            ts_roles: Vec::new(),
            // Clients without roles have their kind's full permissions; those are implied
            // rather than listed, which keeps tokens small.
            ts_permissions: Vec::new(),
        };
        self.sign(&claims)
    }

    /// Signs any claims with the primary key (EdDSA, its `kid` in the header).
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, serde_json::Error> {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?);
        let signing_input = format!("{}.{payload}", self.header_b64);
        let signature = self.signer.sign(signing_input.as_bytes());
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }

    /// Verifies a bearer token for this API (`aud` = `userid-api`) into a principal.
    pub async fn verify(&self, store: &Store, token: &str) -> Option<Principal> {
        let principal = match self.verified.get(token) {
            Some(p) => p,
            None => {
                let claims: Claims = self.decode(store, token, DEFAULT_AUDIENCE).await?;
                let exp = claims.exp;
                let principal = principal_from(claims);
                self.verified.put(token, &principal, exp);
                principal
            }
        };
        // A signature outlives its client: the client (and so its app) must still exist.
        self.live
            .alive(store, &principal)
            .await
            .then_some(principal)
    }

    /// Tokens of a client or app just deleted on this node stop working at once.
    pub fn forget_clients(&self) {
        self.live.forget();
    }

    /// Verifies a token of this issuer for `audience` (EdDSA only, a known `kid`, `exp`
    /// with 30 s of leeway) and reads its claims.
    pub async fn decode<T: serde::de::DeserializeOwned>(
        &self,
        store: &Store,
        token: &str,
        audience: &str,
    ) -> Option<T> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != ALGORITHM {
            return None;
        }
        let kid = header.kid?;
        if !self.knows(&kid) {
            self.reload_if_due(store).await;
        }
        let guard = self.verifying.read().ok()?;
        let key = &guard.get(&kid)?.key;
        let mut validation = Validation::new(ALGORITHM);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<serde_json::Value>(token, key, &validation)
            .ok()?
            .claims;
        // A token issued in the future (beyond the leeway) was not issued by this clock.
        let issued = claims.get("iat").and_then(serde_json::Value::as_i64);
        if issued.is_some_and(|iat| iat > now_ms() / 1000 + LEEWAY_SECS as i64) {
            return None;
        }
        serde_json::from_value(claims).ok()
    }

    fn knows(&self, kid: &str) -> bool {
        self.verifying
            .read()
            .map(|m| m.contains_key(kid))
            .unwrap_or(false)
    }

    /// Another node may have rotated keys; look again, but not more than once per interval.
    async fn reload_if_due(&self, store: &Store) {
        let due = self
            .last_reload
            .read()
            .map(|t| t.elapsed() >= RELOAD_INTERVAL)
            .unwrap_or(false);
        if !due {
            return;
        }
        if let Ok(mut t) = self.last_reload.write() {
            *t = Instant::now();
        }
        match store.signing_keys().await {
            Ok(records) => {
                if let Err(e) = self.install(records) {
                    tracing::warn!(error = %e, "could not reload signing keys");
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not reload signing keys"),
        }
    }

    /// The public keys as a JWK set.
    pub fn jwks(&self) -> serde_json::Value {
        let guard = match self.verifying.read() {
            Ok(g) => g,
            Err(_) => return serde_json::json!({ "keys": [] }),
        };
        let mut keys: Vec<_> = guard
            .iter()
            .map(|(kid, k)| {
                serde_json::json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": k.public_x,
                    "kid": kid,
                    "use": "sig",
                    "alg": ALGORITHM_NAME,
                })
            })
            .collect();
        keys.sort_by(|a, b| a["kid"].as_str().cmp(&b["kid"].as_str()));
        serde_json::json!({ "keys": keys })
    }
}

/// Tokens already verified, until they expire. Clients reuse one access token for its
/// whole hour, and an EdDSA verification costs far more than the rest of a lookup.
/// Bounded by memory, not entry count: each entry weighs its token's length plus the
/// principal, so a flood of large tokens evicts older ones instead of growing the process.
struct VerifiedCache {
    entries: moka::sync::Cache<String, (Principal, i64)>,
}

impl Default for VerifiedCache {
    fn default() -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(Self::MAX_BYTES)
                .weigher(|token: &String, _| {
                    u32::try_from(token.len() + Self::ENTRY_OVERHEAD).unwrap_or(u32::MAX)
                })
                // No token outlives a day; expired entries are dropped, not only skipped.
                .time_to_live(Duration::from_secs(24 * 3600))
                .build(),
        }
    }
}

impl VerifiedCache {
    /// 32 MiB of tokens: more than 10,000 ordinary ones.
    const MAX_BYTES: u64 = 32 * 1024 * 1024;
    /// The principal and the cache's own bookkeeping, estimated.
    const ENTRY_OVERHEAD: usize = 512;

    fn get(&self, token: &str) -> Option<Principal> {
        let (principal, exp) = self.entries.get(token)?;
        // Same 30 s leeway as the full check.
        if now_ms() / 1000 <= exp + LEEWAY_SECS as i64 {
            Some(principal)
        } else {
            self.entries.invalidate(token);
            None
        }
    }

    fn put(&self, token: &str, principal: &Principal, exp: i64) {
        self.entries
            .insert(token.to_owned(), (principal.clone(), exp));
    }
}

fn principal_from(claims: Claims) -> Principal {
    let kind = if claims.sub != claims.client_id {
        PrincipalKind::User
    } else if claims.roles.iter().any(|r| r == "Admin") {
        PrincipalKind::Admin
    } else {
        PrincipalKind::Client
    };
    let permissions = if claims.ts_roles.is_empty() && claims.ts_permissions.is_empty() {
        match kind {
            PrincipalKind::Admin => PermissionSet::admin(),
            PrincipalKind::Client => PermissionSet::app_client_default(),
            PrincipalKind::User => PermissionSet::empty(),
        }
    } else {
        PermissionSet::from_claims(&claims.ts_permissions, &claims.app_id)
    };
    Principal {
        tenant_id: TenantId::from_string(claims.tid),
        app_id: AppId::from_string(claims.app_id),
        client_id: ClientId::from_string(claims.client_id),
        user_id: (kind == PrincipalKind::User).then_some(claims.sub),
        kind,
        permissions,
    }
}

fn generate_key() -> Result<SigningKeyRecord, StoreError> {
    let rng = SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
        .map_err(|_| StoreError::Other("could not generate a signing key".into()))?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
        .map_err(|_| StoreError::Other("generated signing key is unreadable".into()))?;
    Ok(SigningKeyRecord {
        kid: random_id(16),
        purpose: "primary".into(),
        algorithm: ALGORITHM_NAME.into(),
        private_key: STANDARD.encode(pkcs8.as_ref()),
        public_key: URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
        created_at: now_ms(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use roster_store::StoreOptions;

    #[tokio::test]
    async fn the_debug_form_shows_no_private_key() {
        let store = Store::connect("sqlite::memory:", &StoreOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let ring = KeyRing::load(&store, "http://roster.test".into(), None)
            .await
            .unwrap();
        let record = store.signing_keys().await.unwrap().remove(0);
        let shown = format!("{ring:?} {ring:#?} {record:?}");
        assert!(shown.contains(&record.kid), "{shown}");
        assert!(!shown.contains(&record.private_key), "{shown}");
    }

    #[test]
    fn the_verified_cache_is_bounded_by_bytes_and_forgets_expired_tokens() {
        let cache = VerifiedCache::default();
        let principal = Principal {
            tenant_id: TenantId::from_string("t"),
            app_id: AppId::from_string("a"),
            client_id: ClientId::from_string("c"),
            user_id: None,
            kind: PrincipalKind::Client,
            permissions: PermissionSet::app_client_default(),
        };
        let exp = now_ms() / 1000 + 3600;
        // 50 MB of 100 KB tokens offered; at most 32 MiB kept.
        for i in 0..500 {
            let token = format!("{i:06}{}", "x".repeat(100_000));
            cache.put(&token, &principal, exp);
        }
        cache.entries.run_pending_tasks();
        assert!(
            cache.entries.weighted_size() <= VerifiedCache::MAX_BYTES,
            "{}",
            cache.entries.weighted_size()
        );
        assert!(cache.entries.entry_count() > 0);

        cache.put("short", &principal, exp);
        assert!(cache.get("short").is_some());
        cache.put(
            "expired",
            &principal,
            now_ms() / 1000 - LEEWAY_SECS as i64 - 1,
        );
        assert!(cache.get("expired").is_none());
        cache.entries.run_pending_tasks();
        assert!(!cache.entries.contains_key("expired"));
    }
}
