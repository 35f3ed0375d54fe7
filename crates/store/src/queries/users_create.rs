//! Create-or-link (`DECISIONS.md`, "Users"): gather what the store holds of a batch's
//! identifiers, let `roster_core::user::decide` decide, write what it decided, answer.
//! The rule itself lives in `core`; this file only reads and writes.

use super::common::{placeholders, to_json};
use super::passwords;
use super::users_read::{from_clause, user_err, user_not_found, view_columns, view_from_row};
use super::users_write::{user_args, UserDocs};
use crate::db::{args, Arg, Db, Dialect, Savepoint};
use roster_core::time::now_ms;
use roster_core::user::{
    decide, Claim, Created, Decision, Found, Membership, NewUser, Scope, TenantKey, User, UserId,
    UserView,
};
use roster_core::{AppId, Error, StoreError, TenantId};
use std::collections::HashMap;

/// One create's answer: the user as the app sees it, or the 4xx it decided.
pub(crate) type Outcome = Result<(UserView, Created), Error>;

/// The calling app and its name (answers carry `app_name`).
type AppRef<'a> = Option<(&'a AppId, &'a str)>;

fn column(key: TenantKey) -> &'static str {
    match key {
        TenantKey::Email => "email_key",
        TenantKey::PhoneNumber => "phone_number",
        TenantKey::ExternalUserId => "external_user_id",
    }
}

/// `None` when the app is not in the tenant.
async fn app_name(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app: &AppId,
) -> Result<Option<String>, StoreError> {
    let row = db
        .query_opt(
            "SELECT name FROM apps WHERE tenant_id = $1 AND app_id = $2",
            args![tenant.as_str(), app.as_str()],
        )
        .await?;
    row.map(|r| r.text("name")).transpose()
}

fn app_not_found() -> Error {
    Error::NotFound("App not found".into())
}

/// Who owns each tenant-level identifier of the batch: one indexed probe per kind.
async fn probe_owners(
    db: &mut Db<'_>,
    tenant: &TenantId,
    claims: &[Claim],
    found: &mut Found,
) -> Result<(), StoreError> {
    let mut parts = Vec::new();
    let mut values: Vec<&str> = Vec::new();
    for (kind, key) in TenantKey::ALL.into_iter().enumerate() {
        let wanted: Vec<&str> = claims.iter().filter_map(|c| c.key(key)).collect();
        if wanted.is_empty() {
            continue;
        }
        let col = column(key);
        parts.push(format!(
            "SELECT user_id, {kind} AS kind, {col} AS v FROM users \
             WHERE tenant_id = $1 AND {col} IN ({})",
            placeholders(values.len() + 2, wanted.len())
        ));
        values.extend(wanted);
    }
    if parts.is_empty() {
        return Ok(());
    }
    let mut a = vec![Arg::from(tenant.as_str())];
    a.extend(values.into_iter().map(Arg::from));
    for row in db.query(&parts.join(" UNION ALL "), &a).await? {
        let kind = usize::try_from(row.int("kind")?).ok();
        if let Some(key) = kind.and_then(|k| TenantKey::ALL.get(k)) {
            let owner = UserId::from_string(row.text("user_id")?);
            found.owners.insert((*key, row.text("v")?), owner);
        }
    }
    Ok(())
}

/// Which of the owners the app already has, and which of the batch's usernames and
/// external account ids it holds.
async fn probe_app(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app: &AppId,
    claims: &[Claim],
    found: &mut Found,
) -> Result<(), StoreError> {
    let mut owners: Vec<&str> = found.owners.values().map(UserId::as_str).collect();
    owners.sort_unstable();
    owners.dedup();
    let names: Vec<&str> = claims
        .iter()
        .filter_map(|c| c.username.as_deref())
        .collect();
    let accounts: Vec<&str> = claims
        .iter()
        .filter_map(|c| c.external_account_id.as_deref())
        .collect();
    let mut parts = Vec::new();
    let mut next = 3;
    for (kind, col, n) in [
        (0, "user_id", owners.len()),
        (1, "username_key", names.len()),
        (2, "external_account_id", accounts.len()),
    ] {
        if n > 0 {
            parts.push(format!(
                "SELECT {kind} AS kind, {col} AS v FROM user_apps \
                 WHERE tenant_id = $1 AND app_id = $2 AND {col} IN ({})",
                placeholders(next, n)
            ));
            next += n;
        }
    }
    if parts.is_empty() {
        return Ok(());
    }
    let mut a = vec![Arg::from(tenant.as_str()), Arg::from(app.as_str())];
    a.extend(
        owners
            .into_iter()
            .chain(names)
            .chain(accounts)
            .map(Arg::from),
    );
    for row in db.query(&parts.join(" UNION ALL "), &a).await? {
        let v = row.text("v")?;
        match row.int("kind")? {
            0 => found.members.insert(UserId::from_string(v)),
            1 => found.usernames.insert(v),
            _ => found.accounts.insert(v),
        };
    }
    Ok(())
}

/// Rows per `INSERT`: PostgreSQL takes many (fewer round trips); SQLite one, with no round
/// trip to save: a multi-row statement there keeps a journal to undo itself half-way.
fn per_statement(dialect: Dialect, rows: usize) -> usize {
    match dialect {
        Dialect::Sqlite => 1,
        Dialect::Postgres => rows,
    }
}

async fn insert_users(
    db: &mut Db<'_>,
    tenant: &TenantId,
    users: &[&User],
) -> Result<(), StoreError> {
    for chunk in users.chunks(per_statement(db.dialect(), 50)) {
        let docs = chunk
            .iter()
            .map(|u| UserDocs::of(u))
            .collect::<Result<Vec<_>, _>>()?;
        let mut a = Vec::with_capacity(chunk.len() * 18);
        let mut rows = Vec::with_capacity(chunk.len());
        for (u, d) in chunk.iter().zip(&docs) {
            rows.push(format!("({})", placeholders(a.len() + 1, 18)));
            a.push(Arg::from(tenant.as_str()));
            a.push(Arg::from(u.user_id.as_str()));
            a.extend(user_args(u, d));
            a.push(Arg::from(u.created_at));
        }
        let sql = format!(
            "INSERT INTO users (tenant_id, user_id, email, email_key, email_verified, email_verified_at, \
             phone_number, phone_verified, phone_verified_at, external_user_id, status, status_changed_at, \
             last_auth, birthday, profile, custom_data, updated_at, created_at) VALUES {}",
            rows.join(", ")
        );
        db.execute(&sql, &a).await?;
    }
    Ok(())
}

async fn insert_memberships(
    db: &mut Db<'_>,
    tenant: &TenantId,
    memberships: &[(UserId, Membership)],
) -> Result<(), StoreError> {
    for chunk in memberships.chunks(per_statement(db.dialect(), 100)) {
        let docs = chunk
            .iter()
            .map(|(_, m)| {
                let key = m.username.as_deref().map(str::to_lowercase);
                Ok((key, to_json(&m.custom_app_data)?))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let mut a = Vec::with_capacity(chunk.len() * 9);
        let mut rows = Vec::with_capacity(chunk.len());
        for ((user_id, m), (username_key, custom)) in chunk.iter().zip(&docs) {
            rows.push(format!("({})", placeholders(a.len() + 1, 9)));
            a.extend([
                Arg::from(tenant.as_str()),
                Arg::from(m.app_id.as_str()),
                Arg::from(user_id.as_str()),
                Arg::from(&m.username),
                Arg::from(username_key),
                Arg::from(&m.external_account_id),
                Arg::from(custom),
                Arg::from(m.created_at),
                Arg::from(m.updated_at),
            ]);
        }
        let sql = format!(
            "INSERT INTO user_apps (tenant_id, app_id, user_id, username, username_key, \
             external_account_id, custom_app_data, created_at, updated_at) VALUES {}",
            rows.join(", ")
        );
        db.execute(&sql, &a).await?;
    }
    Ok(())
}

/// Linked users read back as the app sees them, by id.
async fn read_linked(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app: &AppId,
    ids: &[&UserId],
) -> Result<HashMap<UserId, UserView>, StoreError> {
    let scope = Scope::Members(app.clone());
    let mut linked = HashMap::new();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT {} {} WHERE u.tenant_id = $1 AND u.user_id IN ({})",
            view_columns(db.dialect()),
            from_clause(&scope),
            placeholders(3, chunk.len())
        );
        let mut q = vec![Arg::from(tenant.as_str()), Arg::from(app.as_str())];
        q.extend(chunk.iter().map(|id| Arg::from(id.as_str())));
        for row in db.query(&sql, &q).await? {
            let view = view_from_row(&row)?;
            linked.insert(view.user.user_id.clone(), view);
        }
    }
    Ok(linked)
}

/// One attempt at a batch in the open transaction: probe, decide, write, answer, one
/// named step after another (split further, each part would need most of the others'
/// values). A create that must fail fails alone and writes nothing. `Err(StoreError::Conflict)` is a lost
/// race: a concurrent writer took an identifier after the probe, and the transaction must
/// be rolled back (only on PostgreSQL; the single SQLite writer rules it out).
pub(crate) async fn attempt(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app: AppRef<'_>,
    inputs: &[&NewUser],
) -> Result<Vec<Outcome>, StoreError> {
    let claims: Vec<Claim> = inputs.iter().map(|i| Claim::of(i)).collect();
    let mut found = Found::default();
    probe_owners(db, tenant, &claims, &mut found).await?;
    if let Some((app_id, _)) = app {
        probe_app(db, tenant, app_id, &claims, &mut found).await?;
    }
    let decisions = decide(&claims, app.is_some(), found);

    let new_users: Vec<&User> = inputs
        .iter()
        .zip(&decisions)
        .filter(|(_, d)| matches!(d, Decision::Create))
        .map(|(i, _)| &i.user)
        .collect();
    insert_users(db, tenant, &new_users).await?;
    let now = now_ms();
    let mut memberships: Vec<(UserId, Membership)> = Vec::new();
    if let Some((app_id, name)) = app {
        for (input, decision) in inputs.iter().zip(&decisions) {
            let user_id = match decision {
                Decision::Create => input.user.user_id.clone(),
                Decision::Link(id) => id.clone(),
                Decision::Conflict(_) => continue,
            };
            memberships.push((user_id, input.membership(app_id, name, now)));
        }
    }
    insert_memberships(db, tenant, &memberships).await?;
    if let Some((app_id, _)) = app {
        for (input, decision) in inputs.iter().zip(&decisions) {
            let user_id = match decision {
                Decision::Create => &input.user.user_id,
                Decision::Link(id) => id,
                Decision::Conflict(_) => continue,
            };
            if let Some(password) = &input.password {
                passwords::insert_password(db, tenant, app_id, user_id, password).await?;
            }
        }
    }

    // Answers: new users as written; linked ones read back as the app sees them.
    let link_ids: Vec<&UserId> = decisions
        .iter()
        .filter_map(|d| match d {
            Decision::Link(id) => Some(id),
            _ => None,
        })
        .collect();
    let mut linked = match app {
        Some((app_id, _)) if !link_ids.is_empty() => {
            read_linked(db, tenant, app_id, &link_ids).await?
        }
        _ => HashMap::new(),
    };
    let mut membership_of: HashMap<UserId, Membership> = memberships.into_iter().collect();
    Ok(inputs
        .iter()
        .zip(decisions)
        .map(|(input, decision)| match decision {
            Decision::Create => Ok((
                UserView {
                    user: input.user.clone(),
                    membership: membership_of.remove(&input.user.user_id),
                },
                Created::New,
            )),
            Decision::Link(id) => linked
                .remove(&id)
                .map(|v| (v, Created::Linked))
                .ok_or_else(user_not_found),
            Decision::Conflict(key) => Err(Error::taken(&key)),
        })
        .collect())
}

/// In a transaction: many creates, each succeeding or failing on its own. When a
/// concurrent writer wins a race for an identifier (PostgreSQL), each input is tried alone
/// behind a savepoint.
pub(crate) async fn create_batch(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app: Option<&AppId>,
    inputs: &[&NewUser],
) -> Result<Vec<Outcome>, Error> {
    let name = match app {
        Some(a) => Some(app_name(db, tenant, a).await?.ok_or_else(app_not_found)?),
        None => None,
    };
    let app = app.zip(name.as_deref());
    if !db.dialect().retries_conflicts() {
        return attempt(db, tenant, app, inputs).await.map_err(user_err);
    }
    db.savepoint(Savepoint::Set, "batch").await?;
    match attempt(db, tenant, app, inputs).await {
        Ok(results) => {
            db.savepoint(Savepoint::Release, "batch").await?;
            return Ok(results);
        }
        Err(StoreError::Conflict(_)) => db.savepoint(Savepoint::Undo, "batch").await?,
        Err(e) => return Err(user_err(e)),
    }
    let mut one_by_one = Vec::with_capacity(inputs.len());
    for input in inputs {
        db.savepoint(Savepoint::Set, "one").await?;
        match attempt(db, tenant, app, &[*input]).await {
            Ok(mut r) => {
                db.savepoint(Savepoint::Release, "one").await?;
                one_by_one.push(r.pop().unwrap_or_else(|| Err(user_not_found())));
            }
            Err(e) => {
                db.savepoint(Savepoint::Undo, "one").await?;
                one_by_one.push(Err(user_err(e)));
            }
        }
    }
    Ok(one_by_one)
}

/// In a transaction: one create. A decided answer (a user, or a 4xx such as a 409) is
/// `Ok`; `Err(StoreError::Conflict)` is a lost race, for the caller to roll back and retry.
pub(crate) async fn create_one(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app: Option<&AppId>,
    input: &NewUser,
) -> Result<Outcome, StoreError> {
    let name = match app {
        Some(a) => match app_name(db, tenant, a).await? {
            Some(name) => Some(name),
            None => return Ok(Err(app_not_found())),
        },
        None => None,
    };
    let mut outcomes = attempt(db, tenant, app.zip(name.as_deref()), &[input]).await?;
    Ok(outcomes.pop().unwrap_or_else(|| Err(user_not_found())))
}
