//! A seed's users: found by their identifiers in batches, created (or linked) in batches,
//! and existing members brought to their entries.

use super::members::Members;
use super::{entry, refused, CREATE_BATCH, PROBE_BATCH};
use crate::db::{Arg, Db};
use crate::queries::common::placeholders;
use crate::queries::{passwords, users_create, users_write};
use roster_core::app::App;
use roster_core::password::NewPassword;
use roster_core::seed::reconcile;
use roster_core::seed::{AppPlan, ApplyError, UserPlan};
use roster_core::user::{Created, Membership, Scope, User, UserId};
use roster_core::{AppId, StoreError, TenantId};
use std::collections::{HashMap, HashSet};

/// Probes of one column for many values, in statements of bounded size: `value -> user_id`.
async fn probe(
    db: &mut Db<'_>,
    tenant: &TenantId,
    sql: &str,
    fixed: &[&str],
    values: &[&str],
) -> Result<HashMap<String, String>, StoreError> {
    let mut found = HashMap::new();
    for chunk in values.chunks(PROBE_BATCH) {
        let mut a = vec![Arg::from(tenant.as_str())];
        a.extend(fixed.iter().map(|v| Arg::from(*v)));
        a.extend(chunk.iter().map(|v| Arg::from(*v)));
        let sql = format!("{sql} IN ({})", placeholders(fixed.len() + 2, chunk.len()));
        for row in db.query(&sql, &a).await? {
            found.insert(row.text("v")?, row.text("user_id")?);
        }
    }
    Ok(found)
}

/// The stored user each entry names, if any: by its tenant-level identifiers, then by its
/// username in the app; one indexed probe per identifier kind and batch. Identifiers that
/// name two different users are the entry's problem.
async fn existing(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app: &AppId,
    entries: &[UserPlan],
) -> Result<Vec<Option<UserId>>, ApplyError> {
    type KeyOf = fn(&UserPlan) -> Option<String>;
    let kinds: [(&str, &[&str], KeyOf); 4] = [
        ("SELECT user_id, email_key AS v FROM users WHERE tenant_id = $1 AND email_key", &[], |p| {
            p.new.user.email.as_ref().map(|e| e.value.key().as_str().to_owned())
        }),
        ("SELECT user_id, phone_number AS v FROM users WHERE tenant_id = $1 AND phone_number", &[], |p| {
            p.new.user.phone_number.as_ref().map(|e| e.value.as_str().to_owned())
        }),
        ("SELECT user_id, external_user_id AS v FROM users WHERE tenant_id = $1 AND external_user_id", &[], |p| {
            p.new.user.external_user_id.clone()
        }),
        (
            "SELECT user_id, username_key AS v FROM user_apps WHERE tenant_id = $1 AND app_id = $2 AND username_key",
            &[app.as_str()],
            |p| p.new.username.as_deref().map(str::to_lowercase),
        ),
    ];
    let mut owners: Vec<Vec<String>> = vec![Vec::new(); entries.len()];
    for (sql, fixed, key_of) in kinds {
        let keys: Vec<Option<String>> = entries.iter().map(key_of).collect();
        let values: Vec<&str> = keys.iter().flatten().map(String::as_str).collect();
        if values.is_empty() {
            continue;
        }
        let found = probe(db, tenant, sql, fixed, &values).await?;
        for (u, key) in keys.iter().enumerate() {
            if let Some(id) = key.as_ref().and_then(|k| found.get(k)) {
                if !owners[u].contains(id) {
                    owners[u].push(id.clone());
                }
            }
        }
    }
    owners
        .into_iter()
        .zip(entries)
        .map(|(mut ids, plan)| match ids.len() {
            0 => Ok(None),
            1 => Ok(ids.pop().map(UserId::from_string)),
            _ => Err(entry(
                &plan.path,
                "",
                "its identifiers belong to different users of the tenant",
            )),
        })
        .collect()
}

/// Which of `ids` are members of the app.
async fn members(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app: &AppId,
    ids: &[&str],
) -> Result<HashSet<String>, StoreError> {
    let sql = "SELECT user_id, user_id AS v FROM user_apps WHERE tenant_id = $1 AND app_id = $2 AND user_id";
    Ok(probe(db, tenant, sql, &[app.as_str()], ids)
        .await?
        .into_keys()
        .collect())
}

/// The app's users: new ones created (or linked) in one batch, existing members brought to
/// their entries. Returns each entry's user id, and how many users were new.
pub(super) async fn users(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app: &App,
    plans: &mut [AppPlan],
    a: usize,
    earlier: &[Vec<UserId>],
    now: i64,
) -> Result<(Vec<UserId>, usize), ApplyError> {
    let entries = &plans[a].users;
    let mut ids = existing(db, tenant, &app.app_id, entries).await?;
    for (id, plan) in ids.iter_mut().zip(entries) {
        if let Some((oa, ou)) = plan.same_as {
            *id = earlier.get(oa).and_then(|v| v.get(ou)).cloned();
        }
    }
    let found: Vec<&str> = ids.iter().flatten().map(UserId::as_str).collect();
    let member = members(db, tenant, &app.app_id, &found).await?;
    let mut creates = Vec::new();
    for (u, (plan, id)) in entries.iter().zip(&ids).enumerate() {
        if !id.as_ref().is_some_and(|id| member.contains(id.as_str())) {
            creates.push((u, prepared(plan, id.as_ref(), app, now)?));
        }
    }
    let inputs: Vec<_> = creates.iter().map(|(_, n)| n).collect();
    let mut outcomes = Vec::with_capacity(inputs.len());
    // Batches bounded so that their probes stay within every backend's bind limit.
    for batch in inputs.chunks(CREATE_BATCH) {
        let done = users_create::create_batch(db, tenant, Some(&app.app_id), batch)
            .await
            .map_err(|e| refused(&plans[a].path, e))?;
        outcomes.extend(done);
    }
    let mut fresh = HashSet::new();
    for ((u, _), outcome) in creates.iter().zip(outcomes) {
        let (view, created) = outcome.map_err(|e| refused(&entries[*u].path, e))?;
        if created == Created::New {
            fresh.insert(*u);
        }
        ids[*u] = Some(view.user.user_id);
    }
    let stored = Members::read(db, tenant, &app.app_id, ids.len() - fresh.len()).await?;
    let mut out = Vec::with_capacity(ids.len());
    for (u, id) in ids.into_iter().enumerate() {
        let id = id.ok_or_else(|| entry(&entries[u].path, "", "was not stored"))?;
        let current = stored
            .as_ref()
            .is_some_and(|s| s.match_entry(&entries[u], &id, now));
        if !fresh.contains(&u) && !current {
            bring(db, tenant, app, &entries[u], &id, now).await?;
        }
        out.push(id);
    }
    for (plan, id) in plans[a].users.iter_mut().zip(&out) {
        plan.new.user.user_id = id.clone();
    }
    Ok((out, fresh.len()))
}

/// The create for an entry: stamped `now`, under the user's stored id when it has one.
fn prepared(
    plan: &UserPlan,
    found: Option<&UserId>,
    app: &App,
    now: i64,
) -> Result<roster_core::user::NewUser, ApplyError> {
    let mut new = plan.new.clone();
    if let Some(id) = found {
        new.user.user_id = id.clone();
    }
    let u = &mut new.user;
    (u.created_at, u.updated_at, u.status_changed_at) = (now, now, now);
    if let Some(a) = &mut u.profile.address {
        a.updated_at = now;
    }
    new.password = match (&plan.password, &plan.credentials) {
        (Some(p), _) => Some(NewPassword::new(
            p.hash.clone(),
            p.temporary,
            now,
            &app.password_config,
            None,
        )),
        (None, Some(_)) => return Err(entry(&plan.path, "credentials", "was not hashed")),
        (None, None) => None,
    };
    Ok(new)
}

/// The entry's fields on a stored member: the tenant-level ones when the entry owns the
/// user (not a later app's entry for the same person), and this app's.
pub(super) fn reconcile_member(
    plan: &UserPlan,
    user: &mut User,
    membership: Option<&mut Membership>,
    now: i64,
) {
    if plan.same_as.is_none() {
        reconcile::tenant_level(&plan.new, user, now);
    }
    if let Some(m) = membership {
        reconcile::app_level(&plan.new, m, now);
    }
}

/// An existing member brought to its entry: the owner's tenant-level fields, this app's
/// fields, and the password when the entry has one.
async fn bring(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app: &App,
    plan: &UserPlan,
    id: &UserId,
    now: i64,
) -> Result<(), ApplyError> {
    let scope = Scope::Members(app.app_id.clone());
    users_write::update_user(db, tenant, &scope, id, |user, membership| {
        reconcile_member(plan, user, membership, now);
        Ok(())
    })
    .await
    .map_err(|e| refused(&plan.path, e))?;
    let Some(wanted) = &plan.password else {
        return Ok(());
    };
    let stored = passwords::get_password(db, tenant, &app.app_id, id).await?;
    let policy = &app.password_config;
    match stored {
        Some(s) if s.hash == wanted.hash && s.temporary == wanted.temporary => {}
        Some(s) => {
            let new =
                NewPassword::new(wanted.hash.clone(), wanted.temporary, now, policy, Some(&s));
            passwords::replace_password(db, tenant, &app.app_id, id, s.updated_at, &new).await?;
        }
        None => {
            let new = NewPassword::new(wanted.hash.clone(), wanted.temporary, now, policy, None);
            passwords::insert_password(db, tenant, &app.app_id, id, &new).await?;
        }
    }
    Ok(())
}
