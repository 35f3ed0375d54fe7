//! Groups of a tenant and their members.

use super::common::{delete_some, from_json, placeholders, to_json};
use super::users_read::{self, from_clause, scope_app, view_columns, view_from_row};
use crate::db::{args, Arg, Db, Dialect, Row};
use roster_core::group::Group;
use roster_core::user::{Scope, UserView};
use roster_core::{Error, GroupId, StoreError, TenantId, UserId};

const COLUMNS: &str = "group_id, name, description, custom_data, created_at, updated_at";
/// Rows per multi-row insert (four values each).
const INSERT_CHUNK: usize = 250;

fn group_from_row(row: &Row) -> Result<Group, StoreError> {
    Ok(Group {
        group_id: GroupId::from_string(row.text("group_id")?),
        name: row.text("name")?,
        description: row.opt_text("description")?,
        custom_data: from_json(&row.text("custom_data")?)?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

pub(crate) fn group_not_found() -> Error {
    Error::NotFound("Group not found".into())
}

fn group_err(e: StoreError) -> Error {
    match e {
        StoreError::NotFound => group_not_found(),
        e => e.into(),
    }
}

pub(crate) async fn insert_group(
    db: &mut Db<'_>,
    tenant: &TenantId,
    g: &Group,
) -> Result<(), Error> {
    let custom_data = to_json(&g.custom_data)?;
    db.execute(
        "INSERT INTO groups (tenant_id, group_id, name, description, custom_data, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        args![
            tenant.as_str(),
            g.group_id.as_str(),
            &g.name,
            g.description.as_deref(),
            &custom_data,
            g.created_at,
            g.updated_at
        ],
    )
    .await?;
    Ok(())
}

pub(crate) async fn list_groups(db: &mut Db<'_>, tenant: &TenantId) -> Result<Vec<Group>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM groups WHERE tenant_id = $1 ORDER BY name, group_id");
    let rows = db.query(&sql, args![tenant.as_str()]).await?;
    Ok(rows.iter().map(group_from_row).collect::<Result<_, _>>()?)
}

/// The group; `lock` keeps it (PostgreSQL) until the transaction ends.
pub(crate) async fn get_group(
    db: &mut Db<'_>,
    tenant: &TenantId,
    group_id: &GroupId,
    lock: bool,
) -> Result<Group, Error> {
    let lock = if lock { db.dialect().for_update() } else { "" };
    let sql = format!("SELECT {COLUMNS} FROM groups WHERE tenant_id = $1 AND group_id = $2{lock}");
    let row = db
        .query_opt(&sql, args![tenant.as_str(), group_id.as_str()])
        .await?
        .ok_or_else(group_not_found)?;
    Ok(group_from_row(&row)?)
}

/// In a transaction: reads the group, applies `change`, writes it back.
pub(crate) async fn update_group<F>(
    db: &mut Db<'_>,
    tenant: &TenantId,
    group_id: &GroupId,
    change: F,
) -> Result<Group, Error>
where
    F: FnOnce(&mut Group),
{
    let mut g = get_group(db, tenant, group_id, true).await?;
    change(&mut g);
    let custom_data = to_json(&g.custom_data)?;
    db.execute(
        "UPDATE groups SET name = $3, description = $4, custom_data = $5, updated_at = $6 \
         WHERE tenant_id = $1 AND group_id = $2",
        args![
            tenant.as_str(),
            group_id.as_str(),
            &g.name,
            g.description.as_deref(),
            &custom_data,
            g.updated_at
        ],
    )
    .await?;
    Ok(g)
}

pub(crate) async fn delete_group(
    db: &mut Db<'_>,
    tenant: &TenantId,
    group_id: &GroupId,
) -> Result<(), Error> {
    delete_some(
        db,
        "DELETE FROM groups WHERE tenant_id = $1 AND group_id = $2",
        args![tenant.as_str(), group_id.as_str()],
    )
    .await
    .map_err(group_err)
}

/// In a transaction: adds the tenant's users `ids` to the group. An id that names no user
/// of the tenant is a 400 naming it, and then nothing is added.
pub(crate) async fn add_members(
    db: &mut Db<'_>,
    tenant: &TenantId,
    group_id: &GroupId,
    ids: &[UserId],
    now: i64,
) -> Result<(), Error> {
    get_group(db, tenant, group_id, true).await?;
    // The users stay until the commit: a concurrent delete waits (PostgreSQL).
    let share = match db.dialect() {
        Dialect::Postgres => " FOR SHARE",
        Dialect::Sqlite => "",
    };
    let mut missing = Vec::new();
    for chunk in ids.chunks(INSERT_CHUNK) {
        let sql = format!(
            "SELECT user_id FROM users WHERE tenant_id = $1 AND user_id IN ({}){share}",
            placeholders(2, chunk.len())
        );
        let mut a = vec![Arg::from(tenant.as_str())];
        a.extend(chunk.iter().map(|id| Arg::from(id.as_str())));
        let found: std::collections::HashSet<String> = db
            .query(&sql, &a)
            .await?
            .iter()
            .map(|r| r.text("user_id"))
            .collect::<Result<_, _>>()?;
        missing.extend(chunk.iter().filter(|id| !found.contains(id.as_str())));
    }
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|id| id.as_str()).collect();
        return Err(Error::invalid(format!(
            "user_ids: no user of this tenant has the id {}",
            names.join(", ")
        )));
    }
    for chunk in ids.chunks(INSERT_CHUNK) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, $2, ${}, $3)", i + 4))
            .collect();
        let sql = format!(
            "INSERT INTO group_members (tenant_id, group_id, user_id, created_at) VALUES {} \
             ON CONFLICT DO NOTHING",
            rows.join(", ")
        );
        let mut a = vec![
            Arg::from(tenant.as_str()),
            Arg::from(group_id.as_str()),
            Arg::from(now),
        ];
        a.extend(chunk.iter().map(|id| Arg::from(id.as_str())));
        db.execute(&sql, &a).await?;
    }
    Ok(())
}

/// Removes one member: 404 when the group is unknown or the user is not in it.
pub(crate) async fn remove_member(
    db: &mut Db<'_>,
    tenant: &TenantId,
    group_id: &GroupId,
    user_id: &UserId,
) -> Result<(), Error> {
    let removed = db
        .execute(
            "DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3",
            args![tenant.as_str(), group_id.as_str(), user_id.as_str()],
        )
        .await?;
    if removed == 0 {
        get_group(db, tenant, group_id, false).await?;
        return Err(Error::NotFound("User is not a member of the group".into()));
    }
    Ok(())
}

/// The group's members that `scope` sees, by user id.
pub(crate) async fn members(
    db: &mut Db<'_>,
    tenant: &TenantId,
    scope: &Scope,
    group_id: &GroupId,
    limit: u64,
    offset: u64,
) -> Result<Vec<UserView>, Error> {
    get_group(db, tenant, group_id, false).await?;
    let sql = format!(
        "SELECT {} {} JOIN group_members g ON g.tenant_id = u.tenant_id AND g.user_id = u.user_id \
         WHERE u.tenant_id = $1 AND g.group_id = $3 ORDER BY u.user_id LIMIT $4 OFFSET $5",
        view_columns(db.dialect()),
        from_clause(scope)
    );
    let rows = db
        .query(
            &sql,
            args![
                tenant.as_str(),
                scope_app(scope),
                group_id.as_str(),
                i64::try_from(limit).unwrap_or(i64::MAX),
                i64::try_from(offset).unwrap_or(i64::MAX)
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(view_from_row)
        .collect::<Result<Vec<_>, _>>()?)
}

/// The groups of a user `scope` sees (404 for one it does not), by name.
pub(crate) async fn user_groups(
    db: &mut Db<'_>,
    tenant: &TenantId,
    scope: &Scope,
    user_id: &UserId,
) -> Result<Vec<Group>, Error> {
    users_read::ensure_visible(db, tenant, scope, user_id).await?;
    let sql = format!(
        "SELECT {COLUMNS} FROM groups WHERE tenant_id = $1 AND group_id IN \
         (SELECT g.group_id FROM group_members g WHERE g.tenant_id = $1 AND g.user_id = $2) \
         ORDER BY name, group_id"
    );
    let rows = db
        .query(&sql, args![tenant.as_str(), user_id.as_str()])
        .await?;
    Ok(rows.iter().map(group_from_row).collect::<Result<_, _>>()?)
}
