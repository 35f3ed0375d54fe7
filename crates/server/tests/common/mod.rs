//! An in-process Roster for HTTP tests: the real router over the store named by
//! `ROSTER_TEST_DATABASE_URL` (default: in-memory SQLite), with a fresh tenant per test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use roster_api::hasher::Hasher;
use roster_api::throttle::ClientThrottle;
use roster_api::{AppState, KeyRing};
use roster_core::app::NewClient;
use roster_core::password::HashParams;
use roster_core::secret::ClientSecret;
use roster_core::time::Clock;
use roster_core::TenantId;
use roster_store::{Store, StoreOptions};
use serde_json::Value;
use std::num::NonZeroU32;
use std::sync::Arc;
use tower::ServiceExt;

pub const ISSUER: &str = "http://roster.test";

/// Cheap Argon2id parameters: the HTTP tests check behaviour, not cost.
pub const FAST_HASHING: HashParams = HashParams {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
}

pub struct Credentials {
    pub app_id: String,
    pub client_id: String,
    pub client_secret: String,
}

pub struct TestApp {
    pub router: Router,
    pub store: Store,
    pub keys: Arc<KeyRing>,
    /// The server's clock: tests move it instead of sleeping.
    pub clock: Arc<Clock>,
    pub tenant: TenantId,
    pub admin: Credentials,
}

pub async fn store() -> Store {
    let url =
        std::env::var("ROSTER_TEST_DATABASE_URL").unwrap_or_else(|_| "sqlite::memory:".into());
    let store = Store::connect(&url, &StoreOptions { max_connections: 4 })
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    store
}

impl TestApp {
    pub async fn new() -> Self {
        let store = store().await;
        let keys = Arc::new(KeyRing::load(&store, ISSUER.into(), None).await.unwrap());
        let tenant = store.create_tenant("test").await.unwrap().tenant_id;
        let admin = Self::management_client(&store, &tenant).await;
        let clock = Arc::new(Clock::default());
        let router = roster_api::router(AppState {
            resets: None,
            store: store.clone(),
            keys: keys.clone(),
            hasher: Arc::new(Hasher::new(FAST_HASHING).unwrap()),
            clock: clock.clone(),
            throttle: Arc::new(ClientThrottle::new(NonZeroU32::new(20).unwrap())),
        });
        Self {
            router,
            store,
            keys,
            clock,
            tenant,
            admin,
        }
    }

    /// A tenant with its own management client, on the same store.
    pub async fn another_tenant(&self) -> (TenantId, Credentials) {
        let tenant = self.store.create_tenant("other").await.unwrap().tenant_id;
        let creds = Self::management_client(&self.store, &tenant).await;
        (tenant, creds)
    }

    async fn management_client(store: &Store, tenant: &TenantId) -> Credentials {
        let scoped = store.tenant(tenant);
        let app = scoped.ensure_management_app().await.unwrap();
        let secret = ClientSecret::generate();
        let client = scoped
            .create_client(
                &app.app_id,
                &NewClient {
                    name: "admin".into(),
                    description: None,
                    redirect_uris: vec![],
                    resources: vec![],
                },
                &secret.hash(),
            )
            .await
            .unwrap();
        Credentials {
            app_id: app.app_id.into_string(),
            client_id: client.client_id.into_string(),
            client_secret: secret.expose().to_owned(),
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Response {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Response {
            status,
            headers,
            body,
        }
    }

    /// A JSON request with an optional bearer token.
    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            builder = builder.header("authorization", format!("Bearer {t}"));
        }
        let request = match body {
            Some(b) => builder
                .header("content-type", "application/json")
                .body(Body::from(b.to_string()))
                .unwrap(),
            None => builder.body(Body::empty()).unwrap(),
        };
        self.send(request).await
    }

    /// `POST /oidc/token` with a form body.
    pub async fn token_request(&self, form: &[(&str, &str)]) -> Response {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.send(
            Request::post("/oidc/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// The client-credentials grant with `creds`, whatever it answers.
    pub async fn client_credentials(&self, creds: &Credentials) -> Response {
        self.token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &creds.client_id),
            ("client_secret", &creds.client_secret),
        ])
        .await
    }

    pub async fn token_for(&self, creds: &Credentials) -> String {
        let r = self.client_credentials(creds).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        r.json()["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn admin_token(&self) -> String {
        self.token_for(&self.admin).await
    }

    /// Creates an ordinary app through the API; returns its default client.
    pub async fn create_app(&self, admin_token: &str, name: &str) -> Credentials {
        let r = self
            .call(
                Method::POST,
                "/cis/v1/applications",
                Some(admin_token),
                Some(serde_json::json!({ "app_name": name })),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        let result = &r.json()["result"];
        Credentials {
            app_id: result["app_id"].as_str().unwrap().to_owned(),
            client_id: result["client_id"].as_str().unwrap().to_owned(),
            client_secret: result["client_secret"].as_str().unwrap().to_owned(),
        }
    }
}

/// The payload of a JWT, unverified.
pub fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}
