//! Bearer-token authentication and per-route permission rules, as extractors.
//!
//! A handler declares what it needs in its signature, e.g. `Authorized<rules::AppsRead>`;
//! the extractor answers 401 for a bad token and 403 for a missing permission before the
//! handler runs.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use roster_core::{Permission, Principal};
use std::marker::PhantomData;

/// A permission rule: the caller needs any one of `ANY_OF`.
pub trait Rule {
    const ANY_OF: &'static [Permission];
    /// Only admin (management-app) tokens may pass, whatever their permissions.
    const ADMIN_ONLY: bool = false;
}

/// A verified caller that satisfies rule `R`.
pub struct Authorized<R: Rule> {
    pub principal: Principal,
    _rule: PhantomData<R>,
}

impl<R: Rule> Authorized<R> {
    pub fn tenant(&self) -> &roster_core::TenantId {
        &self.principal.tenant_id
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
        if R::ADMIN_ONLY && !principal.is_admin() {
            return Err(ApiError::Forbidden(
                "This operation requires an admin access token (a management app's client)".into(),
            ));
        }
        if !principal.has_any(R::ANY_OF) {
            let needed: Vec<String> = R::ANY_OF.iter().map(ToString::to_string).collect();
            return Err(ApiError::Forbidden(format!(
                "Insufficient permissions: requires one of {}",
                needed.join(", ")
            )));
        }
        Ok(Self {
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

    // The Users API, with the permissions the reference prints for each operation.
    rule!(UsersCreate => [apps(Action::Create), own(Action::Create), users(Action::Create)]);
    rule!(UsersRead => [apps(Action::Read), own(Action::Read), users(Action::Read)]);
    rule!(UsersList => [
        users(Action::Read), users(Action::List), apps(Action::Read), own(Action::Read),
        apps(Action::List), own(Action::List),
    ]);
    rule!(UsersCount => [users(Action::List), apps(Action::List), own(Action::List)]);
    rule!(UsersEdit => [apps(Action::Edit), own(Action::Edit), users(Action::Edit)]);
    rule!(
        /// `DELETE /v1/manage/users/{id}` needs an admin token.
        UsersDelete => [users(Action::Delete)], admin_only = true
    );
}
