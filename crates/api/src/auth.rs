//! Bearer-token authentication and per-route permission rules, as one extractor.
//!
//! A handler declares what it needs in its signature, e.g. `Authorized<rules::AppsRead>`;
//! the extractor answers 401 for a bad token and 403 for a missing permission before the
//! handler runs, and hands it the caller's scope and its tenant's store handle, so no
//! handler picks a tenant or works out a scope itself.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use roster_core::user::Scope;
use roster_core::{AppId, Permission, Principal, PrincipalKind};
use roster_store::TenantStore;
use std::marker::PhantomData;

/// A permission rule: the caller needs any one of `ANY_OF`.
pub trait Rule {
    const ANY_OF: &'static [Permission];
    /// Only admin (management-app) tokens may pass, whatever their permissions.
    const ADMIN_ONLY: bool = false;
    /// Only end users' tokens may pass (the `me` routes), whatever the permissions.
    const USER_ONLY: bool = false;

    /// The answer when an admin's `?app_id=` names no app of the tenant, in the shape of
    /// the route's errors.
    fn unknown_app() -> ApiError {
        ApiError::NotFound("App not found".into())
    }
}

/// A verified caller that satisfies rule `R`.
pub struct Authorized<R: Rule> {
    pub principal: Principal,
    /// Which users the caller reaches and whose app-level data it sees.
    pub scope: Scope,
    /// The caller's tenant: the only data its handler can reach.
    pub store: TenantStore,
    _rule: PhantomData<R>,
}

/// A client (or user) token reaches its app's users. An admin token reaches the whole
/// tenant, or with `?app_id=` exactly what that app's own client sees (`DECISIONS.md`);
/// an `app_id` that names no app of the tenant is 404.
async fn scope_of<R: Rule>(
    principal: &Principal,
    parts: &Parts,
    store: &TenantStore,
) -> Result<Scope, ApiError> {
    match principal.kind {
        PrincipalKind::Admin => {
            let app_id = url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
                .find(|(k, _)| k == "app_id")
                .map(|(_, v)| AppId::from_string(v.into_owned()))
                .filter(|v| !v.as_str().is_empty());
            let Some(app_id) = app_id else {
                return Ok(Scope::Tenant(None));
            };
            match store.get_app(&app_id).await {
                Ok(_) => Ok(Scope::Members(app_id)),
                Err(roster_core::StoreError::NotFound) => Err(R::unknown_app()),
                Err(e) => Err(e.into()),
            }
        }
        PrincipalKind::Client | PrincipalKind::User => Ok(Scope::Members(principal.app_id.clone())),
    }
}

impl<R, S> FromRequestParts<S> for Authorized<R>
where
    R: Rule,
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let token = bearer_token(parts).ok_or(ApiError::Unauthorized)?;
        let principal = state
            .keys
            .verify(&state.store, token)
            .await
            .ok_or(ApiError::Unauthorized)?;
        if R::USER_ONLY {
            if principal.kind != PrincipalKind::User {
                return Err(ApiError::Forbidden(
                    "This operation requires a user access token (from an end-user login)".into(),
                ));
            }
        } else if R::ADMIN_ONLY && !principal.is_admin() {
            return Err(ApiError::Forbidden(
                "This operation requires an admin access token (a management app's client)".into(),
            ));
        }
        if !R::USER_ONLY && !principal.has_any(R::ANY_OF) {
            let needed: Vec<String> = R::ANY_OF.iter().map(ToString::to_string).collect();
            return Err(ApiError::Forbidden(format!(
                "Insufficient permissions: requires one of {}",
                needed.join(", ")
            )));
        }
        let store = state.store.tenant(&principal.tenant_id);
        Ok(Self {
            scope: scope_of::<R>(&principal, parts, &store).await?,
            store,
            principal,
            _rule: PhantomData,
        })
    }
}

fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The rules routes declare, with the permission names of the reference.
pub mod rules {
    use super::Rule;
    use roster_core::permission::{Action, Resource};
    use roster_core::Permission;

    macro_rules! rule {
        ($(#[$doc:meta])* $name:ident => [$($perm:expr),+ $(,)?] $(, admin_only = $admin:expr)?) => {
            $(#[$doc])*
            pub struct $name;
            impl Rule for $name {
                const ANY_OF: &'static [Permission] = &[$($perm),+];
                $(const ADMIN_ONLY: bool = $admin;)?
            }
        };
    }

    const fn apps(a: Action) -> Permission {
        Permission::Global(Resource::Apps, a)
    }

    const fn users(a: Action) -> Permission {
        Permission::Global(Resource::Users, a)
    }

    const fn own(a: Action) -> Permission {
        Permission::OwnApp(a)
    }

    // Managing applications is for admin tokens only: an app's own `[appId]:*`
    // permissions do not reach the Applications API.
    rule!(AppsCreate => [apps(Action::Create)]);
    rule!(AppsRead => [apps(Action::Read), apps(Action::List)]);
    rule!(AppsEdit => [apps(Action::Edit)]);
    rule!(AppsDelete => [apps(Action::Delete)]);

    const fn authenticators(a: Action) -> Permission {
        Permission::Global(Resource::Authenticators, a)
    }

    // The Users API, with the permissions the reference prints for each operation.
    rule!(UsersCreate => [apps(Action::Create), own(Action::Create), users(Action::Create)]);
    rule!(UsersRead => [apps(Action::Read), own(Action::Read), users(Action::Read)]);
    rule!(UsersList => [
        users(Action::Read), users(Action::List), apps(Action::Read), own(Action::Read),
        apps(Action::List), own(Action::List),
    ]);
    rule!(UsersCount => [users(Action::List), apps(Action::List), own(Action::List)]);
    rule!(UsersEdit => [apps(Action::Edit), own(Action::Edit), users(Action::Edit)]);
    /// The `me` routes: an end user's own data, with the user token of a login.
    pub struct Me;
    impl Rule for Me {
        const ANY_OF: &'static [Permission] = &[];
        const USER_ONLY: bool = true;
    }

    /// The password operations answer in their spec's shape: `user_not_found`.
    macro_rules! password_rule {
        ($name:ident => [$($perm:expr),+]) => {
            pub struct $name;
            impl Rule for $name {
                const ANY_OF: &'static [Permission] = &[$($perm),+];
                fn unknown_app() -> crate::error::ApiError {
                    crate::error::ApiError::password(
                        axum::http::StatusCode::NOT_FOUND,
                        "user_not_found",
                        "User not found",
                    )
                }
            }
        };
    }
    password_rule!(PasswordsCreate => [apps(Action::Create), own(Action::Create), authenticators(Action::Create)]);
    password_rule!(PasswordsEdit => [apps(Action::Edit), own(Action::Edit), authenticators(Action::Edit)]);
    rule!(
        /// `POST /roster/v1/reset` deletes every user of the tenant: admin tokens only.
        Reset => [users(Action::Delete)], admin_only = true
    );
    rule!(
        /// `DELETE /v1/manage/users/{id}` needs an admin token.
        UsersDelete => [users(Action::Delete)], admin_only = true
    );

    const fn groups(a: Action) -> Permission {
        Permission::Global(Resource::Groups, a)
    }

    // The Groups API, with the permissions the reference prints for each operation.
    rule!(GroupsCreate => [apps(Action::Create), own(Action::Create), groups(Action::Create)]);
    rule!(GroupsRead => [apps(Action::Read), own(Action::Read), groups(Action::Read)]);
    rule!(GroupsList => [
        apps(Action::Read), own(Action::Read), groups(Action::Read),
        apps(Action::List), own(Action::List), groups(Action::List),
    ]);
    rule!(GroupsEdit => [apps(Action::Edit), own(Action::Edit), groups(Action::Edit)]);
    rule!(GroupsDelete => [apps(Action::Delete), own(Action::Delete), groups(Action::Delete)]);

    const fn devices(a: Action) -> Permission {
        Permission::Global(Resource::Devices, a)
    }

    // Device keys, with the permissions the reference prints.
    rule!(DevicesCreate => [apps(Action::Create), own(Action::Create), devices(Action::Create)]);
    rule!(DevicesRead => [
        apps(Action::Read), own(Action::Read), devices(Action::Read),
        apps(Action::List), own(Action::List), devices(Action::List),
    ]);
    rule!(DevicesEdit => [apps(Action::Edit), own(Action::Edit), devices(Action::Edit)]);
    rule!(DevicesDelete => [apps(Action::Delete), own(Action::Delete), devices(Action::Delete)]);
}
