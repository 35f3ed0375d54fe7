//! Applying a seed plan, and the reset that clears a tenant's users back to it. Every
//! function runs in the caller's transaction: a seed is applied whole or not at all. What
//! already matches the plan is not written, so applying a plan twice changes nothing.

use super::clients::put_client;
use super::common::{from_json, to_json};
use super::groups::insert_group;
use super::tenants::Located;
use super::{apps, retired, tenants};
use crate::db::{args, Db};
use roster_core::app::App;
use roster_core::group::Group;
use roster_core::seed::{AppPlan, ApplyError, ClientPlan, GroupPlan, SeedError, TenantPlan};
use roster_core::user::UserId;
use roster_core::{AppId, Error, GroupId, StoreError, TenantId};
use std::collections::HashSet;

mod members;
mod users;

/// Creates per statement batch, and identifiers per probe: within every backend's bind limit.
const CREATE_BATCH: usize = 1000;
const PROBE_BATCH: usize = 500;

pub(super) fn entry(path: &str, field: &str, message: impl Into<String>) -> ApplyError {
    let path = if field.is_empty() {
        path.to_owned()
    } else {
        format!("{path}.{field}")
    };
    ApplyError::Entry(SeedError::new(path, message))
}

/// A refusal of the API's rules (a 4xx) is the entry's problem; anything else the store's.
pub(super) fn refused(path: &str, e: Error) -> ApplyError {
    match e {
        Error::Invalid(mut all) if !all.is_empty() => entry(path, "", all.swap_remove(0)),
        e @ (Error::Conflict { .. } | Error::NotFound(_) | Error::Invalid(_)) => {
            entry(path, "", e.to_string())
        }
        e => ApplyError::Store(StoreError::Other(e.to_string())),
    }
}

/// The tenant named by the plan (`Default` is the first start's tenant), made if missing.
async fn tenant(db: &mut Db<'_>, name: &str) -> Result<Located, StoreError> {
    if let Some(found) = tenants::find_by_name(db, name).await? {
        return Ok(found);
    }
    let made = match name {
        "Default" => tenants::ensure_default_tenant(db).await?,
        _ => tenants::create_tenant(db, name, None).await?,
    };
    // A tenant made now is stored under its public id.
    Ok(Located {
        key: made.tenant_id.clone(),
        public: made.tenant_id,
    })
}

/// Applies one tenant's part of a seed; the plan's users learn their stored ids. Returns
/// the tenant's public id and how many users were new.
pub(crate) async fn apply_tenant(
    db: &mut Db<'_>,
    plan: &mut TenantPlan,
    now: i64,
) -> Result<(TenantId, usize), ApplyError> {
    let tenant = tenant(db, &plan.name).await?;
    let created = apply_into(db, &tenant.key, plan, now).await?;
    Ok((tenant.public, created))
}

/// Management clients, apps with their clients and users, then groups. Returns how many
/// users were new.
async fn apply_into(
    db: &mut Db<'_>,
    tenant: &TenantId,
    plan: &mut TenantPlan,
    now: i64,
) -> Result<usize, ApplyError> {
    let management = apps::ensure_management_app(db, tenant).await.map_err(|_| {
        entry(
            &plan.path,
            "",
            "an app of this tenant holds the management app's name",
        )
    })?;
    for c in &plan.management_clients {
        client(db, tenant, &management.app_id, c).await?;
    }
    let stored = apps::list_apps(db, tenant).await?;
    let mut ids: Vec<Vec<UserId>> = Vec::with_capacity(plan.apps.len());
    let mut created = 0;
    for a in 0..plan.apps.len() {
        let app = app(db, tenant, &stored, &plan.apps[a]).await?;
        for c in &plan.apps[a].clients {
            client(db, tenant, &app.app_id, c).await?;
        }
        let (app_ids, new) = users::users(db, tenant, &app, &mut plan.apps, a, &ids, now).await?;
        ids.push(app_ids);
        created += new;
    }
    for g in &plan.groups {
        group(db, tenant, g, &ids, now).await?;
    }
    Ok(created)
}

/// A client with the plan's fixed id and secret in this app; one of another app is refused.
async fn client(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app_id: &AppId,
    c: &ClientPlan,
) -> Result<(), ApplyError> {
    match put_client(db, tenant, app_id, &c.client_id, &c.input, &c.secret).await {
        Ok(_) => Ok(()),
        Err(StoreError::Conflict(_)) => Err(entry(
            &c.path,
            "client_id",
            "is the id of a client of another app",
        )),
        Err(e) => Err(e.into()),
    }
}

/// The ordinary app of that name, made if missing or brought to the plan's settings.
async fn app(
    db: &mut Db<'_>,
    tenant: &TenantId,
    stored: &[App],
    plan: &AppPlan,
) -> Result<App, ApplyError> {
    let found = stored
        .iter()
        .find(|a| !a.is_management && a.name == plan.input.name);
    let Some(found) = found else {
        return match apps::create_app(db, tenant, &plan.input, None).await {
            Ok((app, _)) => Ok(app),
            Err(StoreError::Conflict(_)) => Err(entry(
                &plan.path,
                "app_name",
                "is the management app's name",
            )),
            Err(e) => Err(e.into()),
        };
    };
    let description = &plan.input.settings.description;
    let config = &plan.input.password_config;
    if found.settings.description == *description && found.password_config == *config {
        return Ok(found.clone());
    }
    apps::update_app(db, tenant, &found.app_id, |a| {
        a.settings.description.clone_from(description);
        a.password_config = config.clone();
        Ok(())
    })
    .await
    .map_err(|e| refused(&plan.path, e))
}

/// The group of that name with exactly the plan's members.
async fn group(
    db: &mut Db<'_>,
    tenant: &TenantId,
    plan: &GroupPlan,
    ids: &[Vec<UserId>],
    now: i64,
) -> Result<(), ApplyError> {
    let row = db
        .query_opt(
            "SELECT group_id, description, custom_data FROM groups WHERE tenant_id = $1 AND name = $2",
            args![tenant.as_str(), &plan.name],
        )
        .await?;
    let group_id = match row {
        None => {
            let g = Group {
                group_id: GroupId::generate(),
                name: plan.name.clone(),
                description: plan.description.clone(),
                custom_data: plan.custom_data.clone(),
                created_at: now,
                updated_at: now,
            };
            insert_group(db, tenant, &g)
                .await
                .map_err(|e| refused(&plan.path, e))?;
            g.group_id
        }
        Some(row) => {
            let id = GroupId::from_string(row.text("group_id")?);
            let custom: serde_json::Map<String, serde_json::Value> =
                from_json(&row.text("custom_data")?)?;
            if row.opt_text("description")? != plan.description || custom != plan.custom_data {
                db.execute(
                    "UPDATE groups SET description = $3, custom_data = $4, updated_at = $5 \
                     WHERE tenant_id = $1 AND group_id = $2",
                    args![
                        tenant.as_str(),
                        id.as_str(),
                        &plan.description,
                        &to_json(&plan.custom_data)?,
                        now
                    ],
                )
                .await?;
            }
            id
        }
    };
    let wanted: HashSet<&str> = plan
        .members
        .iter()
        .filter_map(|(a, u)| ids.get(*a).and_then(|v| v.get(*u)))
        .map(UserId::as_str)
        .collect();
    let current: HashSet<String> = db
        .query(
            "SELECT user_id FROM group_members WHERE tenant_id = $1 AND group_id = $2",
            args![tenant.as_str(), group_id.as_str()],
        )
        .await?
        .iter()
        .map(|r| r.text("user_id"))
        .collect::<Result<_, _>>()?;
    for user in wanted.iter().filter(|u| !current.contains(**u)) {
        db.execute(
            "INSERT INTO group_members (tenant_id, group_id, user_id, created_at) VALUES ($1, $2, $3, $4)",
            args![tenant.as_str(), group_id.as_str(), *user, now],
        )
        .await?;
    }
    for user in current.iter().filter(|u| !wanted.contains(u.as_str())) {
        db.execute(
            "DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3",
            args![tenant.as_str(), group_id.as_str(), user.as_str()],
        )
        .await?;
    }
    Ok(())
}

/// Moves the tenant (stored under `key`) to a fresh key with its apps, clients and the
/// groups the seed declares (with their ids), leaving its users and other groups behind
/// under the retired key; then applies the tenant's part of the seed again, if there is
/// one. Returns the new key and the number of users left behind.
pub(crate) async fn reset_tenant(
    db: &mut Db<'_>,
    key: &TenantId,
    plan: Option<&mut TenantPlan>,
    now: i64,
) -> Result<(TenantId, u64), ApplyError> {
    let keep: Vec<&str> = plan
        .as_ref()
        .map(|p| p.groups.iter().map(|g| g.name.as_str()).collect())
        .unwrap_or_default();
    let (new, deleted) = retired::move_tenant(db, key, &keep, now).await?;
    if let Some(plan) = plan {
        apply_into(db, &new, plan, now).await?;
    }
    Ok((new, deleted))
}
