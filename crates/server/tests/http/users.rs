//! Users API: shared helpers, the created user's shape, and what every endpoint needs.
//! Other behaviour lives in the `users_*.rs` siblings.

use crate::common::{Credentials, Response, TestApp};
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

pub const USERS: &str = "/cis/v1/users";

/// A fresh tenant with an admin token and one ordinary app ("Shop") with its client token.
pub struct Ctx {
    pub app: TestApp,
    pub admin: String,
    pub shop: Credentials,
    pub shop_token: String,
}

impl std::ops::Deref for Ctx {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

impl Ctx {
    pub async fn new() -> Self {
        let app = TestApp::new().await;
        let admin = app.admin_token().await;
        let shop = app.create_app(&admin, "Shop").await;
        let shop_token = app.token_for(&shop).await;
        Self {
            app,
            admin,
            shop,
            shop_token,
        }
    }

    /// Another ordinary app of the same tenant and its client token.
    pub async fn another_app(&self, name: &str) -> (Credentials, String) {
        let creds = self.app.create_app(&self.admin, name).await;
        let token = self.app.token_for(&creds).await;
        (creds, token)
    }

    pub async fn get(&self, token: &str, uri: &str) -> Response {
        self.app.call(Method::GET, uri, Some(token), None).await
    }

    pub async fn post(&self, token: &str, uri: &str, body: Value) -> Response {
        self.app
            .call(Method::POST, uri, Some(token), Some(body))
            .await
    }

    pub async fn put(&self, token: &str, uri: &str, body: Value) -> Response {
        self.app
            .call(Method::PUT, uri, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, token: &str, uri: &str) -> Response {
        self.app.call(Method::DELETE, uri, Some(token), None).await
    }

    /// `POST /v1/users`, which must answer 201; returns `result`.
    pub async fn create(&self, token: &str, body: Value) -> Value {
        let r = self.post(token, USERS, body.clone()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{body}: {}", text(&r));
        r.json()["result"].clone()
    }

    /// Creates through the Shop client; returns the user id.
    pub async fn shop_user(&self, body: Value) -> String {
        id(&self.create(&self.shop_token, body).await)
    }

    /// `GET /v1/users/{id}`, which must answer 200; returns `result`.
    pub async fn read(&self, token: &str, user_id: &str) -> Value {
        let r = self.get(token, &format!("{USERS}/{user_id}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
        r.json()["result"].clone()
    }

    /// `PUT /v1/users/{id}`, which must answer 200; returns `result`.
    pub async fn update(&self, token: &str, user_id: &str, body: Value) -> Value {
        let r = self
            .put(token, &format!("{USERS}/{user_id}"), body.clone())
            .await;
        assert_eq!(r.status, StatusCode::OK, "{body}: {}", text(&r));
        r.json()["result"].clone()
    }

    /// `GET /v1/users/count` as `token` sees it.
    pub async fn count(&self, token: &str, query: &str) -> u64 {
        let r = self.get(token, &format!("{USERS}/count{query}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
        r.json()["result"]["user_count"].as_u64().unwrap()
    }
}

/// Moves a user's `updated_at` and `status_changed_at` back to 1970 through the store, so
/// a test can tell whether a request moved them without waiting for the clock.
pub async fn backdate(ctx: &Ctx, user_id: &str) {
    ctx.app
        .store
        .tenant(&ctx.app.tenant)
        .update_user(
            &roster_core::user::Scope::Tenant(None),
            &roster_core::user::UserId::from_string(user_id.to_owned()),
            |user, _| {
                user.updated_at = 1_000;
                user.status_changed_at = 1_000;
                Ok(())
            },
        )
        .await
        .unwrap();
}

pub const BACKDATED_ISO: &str = "1970-01-01T00:00:01.000Z";

pub fn id(user: &Value) -> String {
    user["user_id"].as_str().unwrap().to_owned()
}

pub fn text(r: &Response) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// A 400 in Transmit's shape, one of whose messages starts with `prefix`.
pub fn assert_bad_request(r: &Response, prefix: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{prefix}: {}", text(r));
    let body = r.json();
    assert_eq!(body["error_code"], 400, "{body}");
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    let messages = body["message"].as_array().expect("message is an array");
    assert!(
        messages
            .iter()
            .any(|m| m.as_str().unwrap().starts_with(prefix)),
        "expected a message starting with {prefix:?}: {body}"
    );
}

/// Where the spec documents no 409 (`DECISIONS.md`): a 400 with the 409's `ts_error_code`.
pub fn assert_taken(r: &Response, code: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{code}: {}", text(r));
    let body = r.json();
    assert_eq!(body["error_code"], 400, "{body}");
    assert_eq!(body["ts_error_code"], code, "{body}");
    assert!(body["message"][0].is_string(), "{body}");
}

/// A 409 `IdentifierIsTaken` with `ts_error_code`.
pub fn assert_conflict(r: &Response, code: &str) {
    assert_eq!(r.status, StatusCode::CONFLICT, "{code}: {}", text(r));
    let body = r.json();
    assert_eq!(body["error_code"], 409, "{body}");
    assert_eq!(body["ts_error_code"], code, "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
}

pub fn assert_user_not_found(r: &Response) {
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", text(r));
    assert_eq!(
        r.json(),
        json!({"message": "User not found", "error_code": 404})
    );
}

fn is_iso(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| chrono_like(s) && s.ends_with('Z'))
}

/// `YYYY-MM-DDTHH:MM:SS...`: enough to tell an ISO string from anything else.
fn chrono_like(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':'
}

#[tokio::test]
async fn create_returns_the_user_in_transmits_shape() {
    let ctx = Ctx::new().await;
    let r = ctx
        .post(
            &ctx.shop_token,
            USERS,
            json!({
                "email": "Jo@Example.com",
                "phone_number": "+1 650 253 0000",
                "username": "jo",
                "external_account_id": "acct-1",
                "custom_app_data": {"tier": "gold"},
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
    let body = r.json();
    assert_eq!(body.as_object().unwrap().len(), 1, "only result: {body}");
    let u = &body["result"];
    let user_id = id(u);
    assert_eq!(user_id.len(), 21);
    assert!(user_id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(u["status"], "Pending");
    assert!(u["created_at"].is_i64(), "{u}");
    assert!(u["updated_at"].is_i64(), "{u}");
    assert!(u["created_at"].as_i64().unwrap() > 1_600_000_000_000, "ms");
    assert!(is_iso(&u["status_changed_at"]), "{u}");
    assert_eq!(
        u["email"],
        json!({"value": "Jo@Example.com", "email_verified": false})
    );
    assert_eq!(
        u["phone_number"],
        json!({"value": "+16502530000", "phone_number_verified": false})
    );
    assert_eq!(u["secondary_emails"], json!([]));
    assert_eq!(u["secondary_phone_numbers"], json!([]));
    assert_eq!(u["identities"], json!([]));
    assert_eq!(u["groupIds"], json!([]));
    assert_eq!(u["custom_data"], json!({}));
    assert_eq!(u["username"], "jo");
    assert_eq!(u["external_account_id"], "acct-1");
    assert_eq!(u["custom_app_data"], json!({"tier": "gold"}));
    assert_eq!(u["app_name"], "Shop");
    for unset in [
        "birthday",
        "address",
        "name",
        "picture",
        "language",
        "last_auth",
        "external_user_id",
        "password_information",
    ] {
        assert!(u.get(unset).is_none(), "{unset} should be omitted: {u}");
    }
    // The stored user reads back the same.
    assert_eq!(&ctx.read(&ctx.shop_token, &user_id).await, u);
}

#[tokio::test]
async fn every_field_round_trips() {
    let ctx = Ctx::new().await;
    let u = ctx
        .create(
            &ctx.shop_token,
            json!({
                "email": "full@example.com",
                "phone_number": "+447911123456",
                "secondary_emails": ["second@example.com"],
                "secondary_phone_numbers": ["+33 6 12 34 56 78"],
                "birthday": "1990-05-17",
                "address": {"country": "FR", "state": "IDF", "city": "Paris",
                            "street_address": "1 rue de Rivoli", "postal_code": "75001", "type": "work"},
                "name": {"title": "Dr", "first_name": "Jo", "middle_name": "Q", "last_name": "Doe"},
                "picture": "https://example.com/jo.png",
                "language": "fr-FR",
                "custom_data": {"plan": {"level": 2}},
                "external_user_id": "ext-1",
            }),
        )
        .await;
    assert_eq!(
        u["secondary_emails"],
        json!([{"value": "second@example.com", "email_verified": false}])
    );
    assert_eq!(
        u["secondary_phone_numbers"],
        json!([{"value": "+33612345678", "phone_number_verified": false}])
    );
    assert_eq!(u["birthday"], "1990-05-17T00:00:00.000Z");
    let address = &u["address"];
    assert_eq!(address["type"], "Work");
    assert_eq!(address["city"], "Paris");
    assert_eq!(address["street_address"], "1 rue de Rivoli");
    assert!(address["updated_at"].is_i64(), "{address}");
    assert_eq!(
        u["name"],
        json!({"title": "Dr", "first_name": "Jo", "middle_name": "Q", "last_name": "Doe"})
    );
    assert_eq!(u["picture"], "https://example.com/jo.png");
    assert_eq!(u["language"], "fr-FR");
    assert_eq!(u["custom_data"], json!({"plan": {"level": 2}}));
    assert_eq!(u["external_user_id"], "ext-1");
    assert_eq!(u["custom_app_data"], json!({}), "always there for an app");
    assert_eq!(ctx.read(&ctx.shop_token, &id(&u)).await, u);
}

#[tokio::test]
async fn app_level_fields_need_an_app() {
    let ctx = Ctx::new().await;
    let user_id = ctx
        .shop_user(json!({"email": "a@example.com", "username": "a", "external_account_id": "x"}))
        .await;
    // An admin token without app_id sees the tenant-level user only.
    let u = ctx.read(&ctx.admin, &user_id).await;
    for app_level in [
        "username",
        "external_account_id",
        "custom_app_data",
        "app_name",
    ] {
        assert!(u.get(app_level).is_none(), "{app_level}: {u}");
    }
    assert_eq!(u["email"]["value"], "a@example.com");
    assert_eq!(u["custom_data"], json!({}));
    // With app_id it sees that app's data.
    let u = ctx
        .read(&ctx.admin, &format!("{user_id}?app_id={}", ctx.shop.app_id))
        .await;
    assert_eq!(u["username"], "a");
    assert_eq!(u["external_account_id"], "x");
    assert_eq!(u["custom_app_data"], json!({}));
    assert_eq!(u["app_name"], "Shop");

    // An admin create without app_id makes a tenant user in no app.
    let u = ctx
        .create(&ctx.admin, json!({"email": "t@example.com"}))
        .await;
    assert!(
        u.get("app_name").is_none() && u.get("custom_app_data").is_none(),
        "{u}"
    );
    assert_user_not_found(
        &ctx.get(&ctx.shop_token, &format!("{USERS}/{}", id(&u)))
            .await,
    );
    // Sending app-level fields without an app is refused.
    for body in [
        json!({"email": "u@example.com", "username": "u"}),
        json!({"email": "u@example.com", "external_account_id": "u"}),
        json!({"email": "u@example.com", "custom_app_data": {"k": 1}}),
        json!({"username": "u"}),
        json!({"email": "u@example.com", "credentials": {"password": "Str0ng!Passw0rd-x"}}),
    ] {
        let r = ctx.post(&ctx.admin, USERS, body.clone()).await;
        assert_bad_request(
            &r,
            "username, external_account_id, custom_app_data and credentials",
        );
    }
}

#[tokio::test]
async fn admin_creates_in_an_app_with_app_id() {
    let ctx = Ctx::new().await;
    let r = ctx
        .post(
            &ctx.admin,
            &format!("{USERS}?app_id={}", ctx.shop.app_id),
            json!({"username": "Admin-Made", "custom_app_data": {"k": 1}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
    let u = r.json()["result"].clone();
    assert_eq!(u["username"], "Admin-Made");
    assert_eq!(u["app_name"], "Shop");
    let seen = ctx.read(&ctx.shop_token, &id(&u)).await;
    assert_eq!(seen["custom_app_data"], json!({"k": 1}));

    // An app_id that is not an app of the tenant.
    let r = ctx
        .post(
            &ctx.admin,
            &format!("{USERS}?app_id=no-such-app"),
            json!({"email": "n@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", text(&r));
    assert_eq!(r.json()["error_code"], 404);
}

#[tokio::test]
async fn every_users_endpoint_needs_a_token() {
    let ctx = Ctx::new().await;
    let user_id = ctx.shop_user(json!({"email": "jo@example.com"})).await;
    let u = format!("{USERS}/{user_id}");
    let cases = [
        (
            Method::POST,
            USERS.to_owned(),
            Some(json!({"email": "x@example.com"})),
        ),
        (Method::GET, USERS.to_owned(), None),
        (Method::GET, format!("{USERS}/count"), None),
        (
            Method::GET,
            format!("{USERS}/identifier?identifier_name=email&identifier_value=jo%40example.com"),
            None,
        ),
        (Method::GET, u.clone(), None),
        (Method::PUT, u.clone(), Some(json!({"language": "en"}))),
        (Method::GET, format!("{USERS}/email/jo%40example.com"), None),
        (Method::GET, format!("{USERS}/external-user-id/x"), None),
        (Method::GET, format!("{USERS}/username/jo"), None),
        (
            Method::GET,
            format!("{USERS}/phone-number/%2B16502530000"),
            None,
        ),
        (Method::GET, format!("{USERS}/phone/%2B16502530000"), None),
        (Method::DELETE, format!("{u}/apps"), None),
        (Method::DELETE, format!("{u}/emails/b%40example.com"), None),
        (
            Method::DELETE,
            format!("{u}/phone-numbers/%2B16502530000"),
            None,
        ),
        (
            Method::POST,
            format!("{u}/emails/jo%40example.com/verify"),
            None,
        ),
        (
            Method::POST,
            format!("{u}/phone-numbers/%2B16502530000/verify"),
            None,
        ),
        (
            Method::DELETE,
            format!("/cis/v1/manage/users/{user_id}"),
            None,
        ),
        (Method::POST, format!("{USERS}/bulk"), Some(json!([]))),
        (Method::GET, format!("{u}/groups"), None),
    ];
    for (method, uri, body) in cases {
        for token in [None, Some("not-a-token")] {
            let r = ctx
                .app
                .call(method.clone(), &uri, token, body.clone())
                .await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
            assert_eq!(
                r.json(),
                json!({"message": "Invalid token", "error_code": 401}),
                "{method} {uri}"
            );
        }
    }
    // Nothing happened.
    let seen = ctx.read(&ctx.shop_token, &user_id).await;
    assert!(seen.get("language").is_none());
    assert_eq!(ctx.count(&ctx.admin, "").await, 1);
}
