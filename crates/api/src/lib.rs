//! Roster's HTTP layer: the router, extractors, tokens and the one error model.

pub mod auth;
pub mod error;
pub mod extract;
pub mod routes;
pub mod state;
pub mod tokens;

use crate::error::ApiError;
use crate::extract::BODY_LIMIT;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::Request;
use axum::response::IntoResponse;
use axum::routing::delete;
use axum::routing::{get, post};
use axum::Router;
use routes::{apps, health, oidc, users};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use state::AppState;
pub use tokens::KeyRing;

async fn not_found() -> ApiError {
    ApiError::NotFound("Route not found".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Everything under `/cis`, as on Transmit.
fn cis_routes() -> Router<AppState> {
    Router::new()
        .route("/oidc/token", post(oidc::token))
        .route("/oidc/jwks", get(oidc::jwks))
        .route(
            "/oidc/.well-known/openid-configuration",
            get(oidc::discovery),
        )
        .route(
            "/v1/applications",
            post(apps::create_app).get(apps::list_apps),
        )
        .route(
            "/v1/applications/{appId}",
            get(apps::get_app)
                .put(apps::update_app)
                .delete(apps::delete_app),
        )
        .route(
            "/v1/applications/{appId}/clients",
            post(apps::create_client).get(apps::list_clients),
        )
        .route(
            "/v1/applications/{appId}/clients/{clientId}",
            get(apps::get_client).delete(apps::delete_client),
        )
        .route("/v1/users", post(users::create_user).get(users::list_users))
        .route("/v1/users/count", get(users::count_users))
        .route("/v1/users/bulk", post(users::bulk_create))
        .route("/v1/users/identifier", get(users::by_identifier))
        .route("/v1/users/email/{email}", get(users::by_email))
        .route(
            "/v1/users/external-user-id/{external_user_id}",
            get(users::by_external_user_id),
        )
        .route("/v1/users/username/{username}", get(users::by_username))
        .route(
            "/v1/users/phone-number/{phone_number}",
            get(users::by_phone),
        )
        .route("/v1/users/phone/{phone_number}", get(users::by_phone))
        .route(
            "/v1/users/{user_id}",
            get(users::get_user).put(users::update_user),
        )
        .route("/v1/users/{user_id}/apps", delete(users::remove_from_app))
        .route("/v1/users/{user_id}/groups", get(users::user_groups))
        .route(
            "/v1/users/{user_id}/emails/{email}",
            delete(users::remove_email),
        )
        .route(
            "/v1/users/{user_id}/emails/{email}/verify",
            post(users::verify_email),
        )
        .route(
            "/v1/users/{user_id}/phone-numbers/{phone_number}",
            delete(users::remove_phone),
        )
        .route(
            "/v1/users/{user_id}/phone-numbers/{phone_number}/verify",
            post(users::verify_phone),
        )
        .route("/v1/manage/users/{user_id}", delete(users::delete_user))
        .method_not_allowed_fallback(method_not_allowed)
}

/// The whole service with its middleware.
pub fn router(state: AppState) -> Router {
    let middleware = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<Body>| {
                    // The route template only: raw paths can hold emails and phone numbers.
                    let route = req
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or("unmatched", MatchedPath::as_str);
                    let request_id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    tracing::info_span!("request", method = %req.method(), route, request_id)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal.into_response()
        }));

    Router::new()
        .route("/oidc/token", post(oidc::token))
        .route("/.well-known/openid-configuration", get(oidc::discovery))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .nest("/cis", cis_routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware)
        .with_state(state)
}
