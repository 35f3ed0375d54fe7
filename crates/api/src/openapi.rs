//! The OpenAPI document of everything Roster serves, generated from the same declarations
//! that route the requests (`#[utoipa::path]` on each handler, collected by `routes()` in
//! `lib.rs`). Roster's additions to Transmit's API carry `x-roster-extension: true`.

use crate::error::ErrorBody;
use axum::Json;
use serde_json::{json, Value};
use std::sync::OnceLock;
use utoipa::OpenApi;

/// The marker of an operation or parameter that Transmit's API does not have.
pub const EXTENSION: &str = "x-roster-extension";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Roster",
        description = "A user directory that speaks the Transmit Security Users API: the same paths under /cis, bodies, statuses and tokens.",
        license(name = "Apache-2.0"),
    ),
    tags(
        (name = "Users", description = "Transmit's Users API"),
        (name = "Applications", description = "The Applications API subset (admin tokens)"),
        (name = "Tokens", description = "OAuth 2.0 client credentials, keys and discovery"),
        (name = "Authentication", description = "End-user password login and reset"),
        (name = "Operations", description = "Health and this document"),
    ),
)]
struct Info;

/// The finished document: the routes' declarations, the bearer scheme every authenticated
/// operation uses, and the admin `?app_id=` parameter of the user routes.
pub(crate) fn finish(mut api: utoipa::openapi::OpenApi) -> Value {
    api.merge(Info::openapi());
    api.info = Info::openapi().info;
    api.info.version = env!("CARGO_PKG_VERSION").into();
    let mut doc = serde_json::to_value(api).unwrap_or_else(|e| json!({ "error": e.to_string() }));
    doc["components"]["securitySchemes"] = json!({
        "bearer": {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": "An access token from the token endpoint: a client's (ClientAccessToken) or a management client's (AdminAccessToken)",
        }
    });
    doc["security"] = json!([{ "bearer": [] }]);
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let user_route =
                path.starts_with("/cis/v1/users") || path.starts_with("/cis/v1/manage");
            let Some(operations) = item.as_object_mut().filter(|_| user_route) else {
                continue;
            };
            for operation in operations.values_mut() {
                add_app_id(operation);
            }
        }
    }
    doc
}

/// Admin tokens name the app whose users and app-level data they act on.
fn add_app_id(operation: &mut Value) {
    let parameter = json!({
        "name": "app_id", "in": "query", "required": false,
        "description": "Admin tokens only: the app whose users and app-level data the request acts on",
        "schema": { "type": "string" },
        EXTENSION: true,
    });
    match operation["parameters"].as_array_mut() {
        Some(list) => list.push(parameter),
        None => operation["parameters"] = json!([parameter]),
    }
}

/// The document, built once.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| finish(crate::routes_with_docs().split_for_parts().1))
}

/// This document (Roster extension)
#[utoipa::path(get, path = "/cis/openapi.json", operation_id = "getOpenApiDocument", tag = "Operations",
    security(()), extensions(("x-roster-extension" = json!(true))),
    responses(
        (status = 200, description = "The OpenAPI document of every route Roster serves", body = Object),
        (status = 500, body = ErrorBody),
    ))]
pub async fn openapi_json() -> Json<Value> {
    Json(document().clone())
}
