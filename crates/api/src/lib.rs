//! Roster's HTTP layer: the router, extractors, tokens and the one error model.

pub mod auth;
pub mod error;
pub mod extract;
pub mod hasher;
pub mod key_file;
pub mod login;
pub mod openapi;
pub mod revocation;
pub mod routes;
pub mod state;
mod strict_json;
pub mod throttle;
pub mod tokens;

use crate::error::ApiError;
use crate::extract::BODY_LIMIT;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::Request;
use axum::response::IntoResponse;
use axum::Router;
use routes::{apps, device_keys, groups, health, oidc, password_auth, users};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use state::AppState;
pub use tokens::KeyRing;

async fn not_found() -> ApiError {
    ApiError::NotFound("Route not found".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Every route, each declared once: `routes!` registers the handler with axum and its
/// `#[utoipa::path]` declaration with the OpenAPI document.
pub(crate) fn routes_with_docs() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(oidc::token))
        .routes(routes!(oidc::discovery))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(openapi::openapi_json))
        .routes(routes!(oidc::token_cis))
        .routes(routes!(oidc::jwks))
        .routes(routes!(oidc::discovery_cis))
        .routes(routes!(apps::create_app, apps::list_apps))
        .routes(routes!(apps::get_app, apps::update_app, apps::delete_app))
        .routes(routes!(apps::list_apps_brief))
        .routes(routes!(
            apps::clients::create_client,
            apps::clients::list_clients,
            apps::clients::delete_clients
        ))
        .routes(routes!(
            apps::clients::get_client,
            apps::clients::update_client,
            apps::clients::delete_client
        ))
        .routes(routes!(users::create_user, users::lookup::list_users))
        .routes(routes!(users::lookup::count_users))
        .routes(routes!(users::bulk::bulk_create))
        .routes(routes!(users::lookup::by_identifier))
        .routes(routes!(users::lookup::by_email))
        .routes(routes!(users::lookup::by_external_user_id))
        .routes(routes!(users::lookup::by_username))
        .routes(routes!(users::lookup::by_phone))
        .routes(routes!(users::lookup::by_phone_deprecated))
        .routes(routes!(users::get_user, users::update_user))
        .routes(routes!(users::remove_from_app))
        .routes(routes!(groups::user_groups))
        .routes(routes!(groups::create_group, groups::list_groups))
        .routes(routes!(
            groups::get_group,
            groups::update_group,
            groups::delete_group
        ))
        .routes(routes!(groups::add_members, groups::list_members))
        .routes(routes!(groups::remove_member))
        .routes(routes!(device_keys::create_key, device_keys::list_keys))
        .routes(routes!(
            device_keys::get_key,
            device_keys::update_key,
            device_keys::delete_key
        ))
        .routes(routes!(device_keys::block_key))
        .routes(routes!(device_keys::unblock_key))
        .routes(routes!(device_keys::my_keys))
        .routes(routes!(users::contacts::remove_email))
        .routes(routes!(users::contacts::verify_email))
        .routes(routes!(users::contacts::remove_phone))
        .routes(routes!(users::contacts::verify_phone))
        .routes(routes!(users::delete_user))
        .routes(routes!(
            users::passwords::add_password,
            users::passwords::update_password
        ))
        .routes(routes!(users::passwords::add_my_password))
        .routes(routes!(password_auth::authenticate))
        .routes(routes!(password_auth::reset))
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

    let (mut routes, _) = routes_with_docs().split_for_parts();
    // A Roster extension, outside the published API: only when the operator allows it.
    if state.resets.is_some() {
        routes = routes.route(
            "/roster/v1/reset",
            axum::routing::post(routes::reset::reset),
        );
    }
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware)
        .with_state(state)
}
