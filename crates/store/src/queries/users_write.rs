//! Changing users: the read-modify-write update, identities, leaving an app, deletion.

use super::common::{delete_some, to_json};
use super::users_read::{read_view, user_err, user_not_found};
use crate::db::{args, Arg, Db};
use roster_core::user::{Identity, Membership, Scope, User, UserId, UserView};
use roster_core::{AppId, Error, StoreError, TenantId};

/// A user's stored forms that are not fields of `User`.
pub(crate) struct UserDocs {
    pub(crate) email_key: Option<String>,
    pub(crate) profile: String,
    pub(crate) custom: String,
}

impl UserDocs {
    pub(crate) fn of(u: &User) -> Result<Self, StoreError> {
        Ok(Self {
            email_key: u.email.as_ref().map(|e| e.value.key().as_str().to_owned()),
            profile: to_json(&u.profile)?,
            custom: to_json(&u.custom_data)?,
        })
    }
}

/// A user's columns from `email` to `updated_at`, in table order.
pub(crate) fn user_args<'a>(u: &'a User, d: &'a UserDocs) -> [Arg<'a>; 15] {
    [
        Arg::Text(u.email.as_ref().map(|e| e.value.as_str())),
        Arg::Text(d.email_key.as_deref()),
        Arg::Bool(Some(u.email.as_ref().is_some_and(|e| e.verified))),
        Arg::Int(u.email.as_ref().and_then(|e| e.verified_at)),
        Arg::Text(u.phone_number.as_ref().map(|e| e.value.as_str())),
        Arg::Bool(Some(u.phone_number.as_ref().is_some_and(|e| e.verified))),
        Arg::Int(u.phone_number.as_ref().and_then(|e| e.verified_at)),
        Arg::Text(u.external_user_id.as_deref()),
        Arg::Text(Some(u.status.as_str())),
        Arg::Int(Some(u.status_changed_at)),
        Arg::Int(u.last_auth),
        Arg::Text(u.birthday.as_deref()),
        Arg::Text(Some(&d.profile)),
        Arg::Text(Some(&d.custom)),
        Arg::Int(Some(u.updated_at)),
    ]
}

async fn write_user(db: &mut Db<'_>, tenant: &TenantId, u: &User) -> Result<(), StoreError> {
    let docs = UserDocs::of(u)?;
    let mut a = vec![Arg::from(tenant.as_str()), Arg::from(u.user_id.as_str())];
    a.extend(user_args(u, &docs));
    db.execute(
        "UPDATE users SET email = $3, email_key = $4, email_verified = $5, email_verified_at = $6, \
         phone_number = $7, phone_verified = $8, phone_verified_at = $9, external_user_id = $10, \
         status = $11, status_changed_at = $12, last_auth = $13, birthday = $14, profile = $15, \
         custom_data = $16, updated_at = $17 WHERE tenant_id = $1 AND user_id = $2",
        &a,
    )
    .await?;
    Ok(())
}

async fn write_membership(
    db: &mut Db<'_>,
    tenant: &TenantId,
    user_id: &UserId,
    m: &Membership,
) -> Result<(), StoreError> {
    let username_key = m.username.as_deref().map(str::to_lowercase);
    let custom = to_json(&m.custom_app_data)?;
    db.execute(
        "UPDATE user_apps SET username = $4, username_key = $5, external_account_id = $6, \
         custom_app_data = $7, updated_at = $8 WHERE tenant_id = $1 AND app_id = $2 AND user_id = $3",
        args![
            tenant.as_str(),
            m.app_id.as_str(),
            user_id.as_str(),
            &m.username,
            &username_key,
            &m.external_account_id,
            &custom,
            m.updated_at
        ],
    )
    .await?;
    Ok(())
}

/// In a transaction: reads the user and the scope's membership (locked), applies
/// `change`, writes back what changed.
pub(crate) async fn update_user<F>(
    db: &mut Db<'_>,
    tenant: &TenantId,
    scope: &Scope,
    user_id: &UserId,
    change: F,
) -> Result<UserView, Error>
where
    F: FnOnce(&mut User, Option<&mut Membership>) -> Result<(), Error> + Send,
{
    let mut view = read_view(db, tenant, scope, user_id, true)
        .await?
        .ok_or_else(user_not_found)?;
    let before = view.clone();
    change(&mut view.user, view.membership.as_mut())?;
    if view.user != before.user {
        write_user(db, tenant, &view.user).await.map_err(user_err)?;
    }
    if let Some(m) = &view.membership {
        if Some(m) != before.membership.as_ref() {
            write_membership(db, tenant, user_id, m)
                .await
                .map_err(user_err)?;
        }
    }
    Ok(view)
}

/// Records a sign-in identity, or moves its `last_auth_date` forward.
pub(crate) async fn record_identity(
    db: &mut Db<'_>,
    tenant: &TenantId,
    user_id: &UserId,
    identity: &Identity,
) -> Result<(), Error> {
    db.execute(
        "INSERT INTO user_identities (tenant_id, user_id, provider_name, provider_type, auth_type, \
         identifier, first_auth_date, last_auth_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (tenant_id, user_id, provider_name, identifier) \
         DO UPDATE SET last_auth_date = excluded.last_auth_date",
        args![
            tenant.as_str(),
            user_id.as_str(),
            &identity.provider_name,
            &identity.provider_type,
            &identity.auth_type,
            &identity.identifier,
            identity.first_auth_date,
            identity.last_auth_date
        ],
    )
    .await
    .map_err(user_err)?;
    Ok(())
}

pub(crate) async fn remove_user_from_app(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app: &AppId,
    user_id: &UserId,
) -> Result<(), Error> {
    delete_some(
        db,
        "DELETE FROM user_apps WHERE tenant_id = $1 AND app_id = $2 AND user_id = $3",
        args![tenant.as_str(), app.as_str(), user_id.as_str()],
    )
    .await
    .map_err(user_err)
}

pub(crate) async fn delete_user(
    db: &mut Db<'_>,
    tenant: &TenantId,
    user_id: &UserId,
) -> Result<(), Error> {
    delete_some(
        db,
        "DELETE FROM users WHERE tenant_id = $1 AND user_id = $2",
        args![tenant.as_str(), user_id.as_str()],
    )
    .await
    .map_err(user_err)
}

/// Sets the app-level username (a password's login name); `Conflict(Username)` when the
/// app has it already.
pub(crate) async fn set_username(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app: &AppId,
    user_id: &UserId,
    username: &str,
) -> Result<(), StoreError> {
    db.execute(
        "UPDATE user_apps SET username = $4, username_key = $5 \
         WHERE tenant_id = $1 AND app_id = $2 AND user_id = $3",
        args![
            tenant.as_str(),
            app.as_str(),
            user_id.as_str(),
            username,
            &username.to_lowercase()
        ],
    )
    .await?;
    Ok(())
}
