//! Reading users as a scope sees them: by id, by a unique key, a page, a count.

use super::common::from_json;
use super::filter_sql;
use crate::db::{args, Arg, Db, Dialect, Row};
use roster_core::filter::Filter;
use roster_core::password::PasswordInfo;
use roster_core::user::{
    Contact, Email, Identity, ListQuery, Lookup, Membership, PhoneNumber, Profile, Scope,
    SortField, User, UserId, UserStatus, UserView,
};
use roster_core::{AppId, Error, StoreError, TenantId};

/// The view's columns: `$identities` and `$groups` are the dialect's expressions for a
/// user's identities and group ids as JSON arrays.
macro_rules! view_columns {
    ($identities:literal, $groups:literal) => {
        concat!(
            "u.user_id, u.email, u.email_verified, u.email_verified_at, \
            u.phone_number, u.phone_verified, u.phone_verified_at, u.external_user_id, u.status, \
            u.status_changed_at, u.last_auth, u.birthday, u.profile, u.custom_data, u.created_at, \
            u.updated_at, m.app_id AS m_app_id, a.name AS m_app_name, m.username AS m_username, \
            m.external_account_id AS m_external_account_id, m.custom_app_data AS m_custom_app_data, \
            m.created_at AS m_created_at, m.updated_at AS m_updated_at, \
            pw.temporary AS pw_temporary, pw.updated_at AS pw_updated_at, pw.expires_at AS pw_expires_at, ",
            $identities,
            " AS identities, ",
            $groups,
            " AS group_ids"
        )
    };
}

pub(crate) fn view_columns(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => view_columns!(
            "(SELECT json_group_array(json_object('provider_name', i.provider_name, \
             'provider_type', i.provider_type, 'auth_type', i.auth_type, 'identifier', i.identifier, \
             'first_auth_date', i.first_auth_date, 'last_auth_date', i.last_auth_date)) \
             FROM user_identities i WHERE i.tenant_id = u.tenant_id AND i.user_id = u.user_id)",
            "(SELECT json_group_array(g.group_id) FROM group_members g \
             WHERE g.tenant_id = u.tenant_id AND g.user_id = u.user_id)"
        ),
        Dialect::Postgres => view_columns!(
            "(SELECT COALESCE(json_agg(json_build_object('provider_name', i.provider_name, \
             'provider_type', i.provider_type, 'auth_type', i.auth_type, 'identifier', i.identifier, \
             'first_auth_date', i.first_auth_date, 'last_auth_date', i.last_auth_date) \
             ORDER BY i.first_auth_date), '[]')::text \
             FROM user_identities i WHERE i.tenant_id = u.tenant_id AND i.user_id = u.user_id)",
            "(SELECT COALESCE(json_agg(g.group_id ORDER BY g.group_id), '[]')::text \
             FROM group_members g WHERE g.tenant_id = u.tenant_id AND g.user_id = u.user_id)"
        ),
    }
}

/// The scope's membership join: `$1` is the tenant and `$2` the app ('' for none).
fn membership_join(scope: &Scope) -> &'static str {
    match scope {
        Scope::Members(_) => {
            "JOIN user_apps m ON m.tenant_id = u.tenant_id AND m.user_id = u.user_id AND m.app_id = $2"
        }
        Scope::Tenant(_) => {
            "LEFT JOIN user_apps m ON m.tenant_id = u.tenant_id AND m.user_id = u.user_id AND m.app_id = $2"
        }
    }
}

/// What a view reads besides the user and the membership.
const VIEW_JOINS: &str = "LEFT JOIN apps a ON a.tenant_id = m.tenant_id AND a.app_id = m.app_id \
     LEFT JOIN user_passwords pw ON pw.tenant_id = m.tenant_id AND pw.user_id = m.user_id AND pw.app_id = m.app_id";

/// `FROM` and joins for a scope's views; `$1` is the tenant and `$2` the app.
pub(crate) fn from_clause(scope: &Scope) -> String {
    format!("FROM users u {} {VIEW_JOINS}", membership_join(scope))
}

pub(crate) fn scope_app(scope: &Scope) -> &str {
    scope.app().map_or("", AppId::as_str)
}

fn contact<T>(value: Option<T>, verified: bool, at: Option<i64>) -> Option<Contact<T>> {
    value.map(|value| Contact {
        value,
        verified,
        verified_at: at,
    })
}

pub(crate) fn view_from_row(row: &Row) -> Result<UserView, StoreError> {
    let status = row.text("status")?;
    let user = User {
        user_id: UserId::from_string(row.text("user_id")?),
        email: contact(
            row.opt_text("email")?.map(Email::from_stored),
            row.bool("email_verified")?,
            row.opt_int("email_verified_at")?,
        ),
        phone_number: contact(
            row.opt_text("phone_number")?.map(PhoneNumber::from_stored),
            row.bool("phone_verified")?,
            row.opt_int("phone_verified_at")?,
        ),
        external_user_id: row.opt_text("external_user_id")?,
        status: UserStatus::parse(&status)
            .ok_or_else(|| StoreError::Other(format!("unknown user status {status}")))?,
        status_changed_at: row.int("status_changed_at")?,
        last_auth: row.opt_int("last_auth")?,
        birthday: row.opt_text("birthday")?,
        profile: from_json::<Profile>(&row.text("profile")?)?,
        custom_data: from_json(&row.text("custom_data")?)?,
        identities: from_json::<Vec<Identity>>(&row.text("identities")?)?,
        group_ids: from_json(&row.text("group_ids")?)?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    };
    let membership = match row.opt_text("m_app_id")? {
        None => None,
        Some(app_id) => Some(Membership {
            app_id: AppId::from_string(app_id),
            app_name: row.opt_text("m_app_name")?.unwrap_or_default(),
            username: row.opt_text("m_username")?,
            external_account_id: row.opt_text("m_external_account_id")?,
            custom_app_data: from_json(&row.opt_text("m_custom_app_data")?.unwrap_or_default())?,
            password: match row.opt_int("pw_updated_at")? {
                None => None,
                Some(updated_at) => Some(PasswordInfo {
                    temporary: row.bool("pw_temporary")?,
                    updated_at,
                    expires_at: row.opt_int("pw_expires_at")?,
                }),
            },
            created_at: row.opt_int("m_created_at")?.unwrap_or_default(),
            updated_at: row.opt_int("m_updated_at")?.unwrap_or_default(),
        }),
    };
    Ok(UserView { user, membership })
}

/// A write's failure on a user: a taken key is Transmit's 409, a missing row its 404.
pub(crate) fn user_err(e: StoreError) -> Error {
    match e {
        StoreError::Conflict(key) => Error::taken(&key),
        StoreError::NotFound => user_not_found(),
        e => e.into(),
    }
}

pub(crate) fn user_not_found() -> Error {
    Error::NotFound("User not found".into())
}

/// Reads one user as `scope` sees it; `lock` locks the row first (PostgreSQL).
pub(crate) async fn read_view(
    db: &mut Db<'_>,
    tenant: &TenantId,
    scope: &Scope,
    user_id: &UserId,
    lock: bool,
) -> Result<Option<UserView>, StoreError> {
    let for_update = db.dialect().for_update();
    if lock && !for_update.is_empty() {
        // Lock first, read after: a read that waited on the lock would see a fresh
        // users row but a membership row from before the wait.
        let sql = format!(
            "SELECT u.user_id FROM users u WHERE u.tenant_id = $1 AND u.user_id = $2{for_update}"
        );
        db.query_opt(&sql, args![tenant.as_str(), user_id.as_str()])
            .await?;
    }
    let sql = format!(
        "SELECT {} {} WHERE u.tenant_id = $1 AND u.user_id = $3",
        view_columns(db.dialect()),
        from_clause(scope)
    );
    let row = db
        .query_opt(
            &sql,
            args![tenant.as_str(), scope_app(scope), user_id.as_str()],
        )
        .await?;
    row.as_ref().map(view_from_row).transpose()
}

/// `User not found` unless `scope` sees the user: without reading the user's view.
pub(crate) async fn ensure_visible(
    db: &mut Db<'_>,
    tenant: &TenantId,
    scope: &Scope,
    user_id: &UserId,
) -> Result<(), Error> {
    let sql = format!(
        "SELECT 1 AS one FROM users u {} WHERE u.tenant_id = $1 AND u.user_id = $3",
        membership_join(scope)
    );
    db.query_opt(
        &sql,
        args![tenant.as_str(), scope_app(scope), user_id.as_str()],
    )
    .await?
    .map(|_| ())
    .ok_or_else(user_not_found)
}

pub(crate) async fn get_user(
    db: &mut Db<'_>,
    tenant: &TenantId,
    scope: &Scope,
    user_id: &UserId,
) -> Result<UserView, Error> {
    read_view(db, tenant, scope, user_id, false)
        .await?
        .ok_or_else(user_not_found)
}

pub(crate) async fn find_user(
    db: &mut Db<'_>,
    tenant: &TenantId,
    scope: &Scope,
    lookup: &Lookup,
) -> Result<UserView, Error> {
    let (condition, value) = match lookup {
        Lookup::Email(v) => ("u.email_key = $3", v.as_str()),
        Lookup::Phone(v) => ("u.phone_number = $3", v.as_str()),
        Lookup::ExternalUserId(v) => ("u.external_user_id = $3", v.as_str()),
        Lookup::Username(v) if scope.app().is_some() => ("m.username_key = $3", v.as_str()),
        Lookup::Username(v) => (
            "u.user_id IN (SELECT x.user_id FROM user_apps x WHERE x.tenant_id = $1 AND x.username_key = $3)",
            v.as_str(),
        ),
        Lookup::IdpIdentifier(v) => (
            "u.user_id IN (SELECT i.user_id FROM user_identities i WHERE i.tenant_id = $1 AND i.identifier = $3)",
            v.as_str(),
        ),
    };
    let sql = format!(
        "SELECT {} {} WHERE u.tenant_id = $1 AND {condition} LIMIT 2",
        view_columns(db.dialect()),
        from_clause(scope)
    );
    let rows = db
        .query(&sql, args![tenant.as_str(), scope_app(scope), value])
        .await?;
    if rows.len() > 1 {
        return Err(Error::invalid(
            "the identifier matches users of several apps: pass app_id",
        ));
    }
    let view = rows.first().ok_or_else(user_not_found)?;
    Ok(view_from_row(view)?)
}

pub(crate) async fn list_users(
    db: &mut Db<'_>,
    tenant: &TenantId,
    scope: &Scope,
    query: &ListQuery,
) -> Result<(Vec<UserView>, u64), Error> {
    let (filter, bounds) = filter_sql::prefix_filter(query.prefix.as_deref(), 5);
    let dir = if query.descending { "DESC" } else { "ASC" };
    // With a prefix the matches are few: sort them rather than walk the sort index (the
    // no-op expressions keep SQLite from choosing that walk).
    let (num, text) = if query.prefix.is_some() {
        (" + 0", " || ''")
    } else {
        ("", "")
    };
    let search = query
        .filter
        .as_ref()
        .map(|f| filter_sql::condition(f, db.dialect(), 5 + bounds.len()));
    let search_sql = search
        .as_ref()
        .map_or(String::new(), |c| format!(" AND ({})", c.sql));
    let condition = format!("{filter}{search_sql}");
    let mut tail: Vec<Arg<'_>> = bounds.iter().map(|b| Arg::from(b.as_str())).collect();
    if let Some(c) = &search {
        tail.extend(c.binds.iter().map(filter_sql::Bind::arg));
    }
    let total = count_filtered(
        db,
        tenant,
        scope,
        query.prefix.as_deref(),
        query.filter.as_ref(),
    )
    .await?;
    let column = match query.sort {
        SortField::CreatedAt => None,
        SortField::Email => Some("u.email_key"),
        SortField::PhoneNumber => Some("u.phone_number"),
        SortField::LastAuth => Some("u.last_auth"),
    };
    let p = Page {
        scope,
        tenant,
        tail: &tail,
    };
    let views = match column {
        // Users without the value come last. One ORDER BY that says so cannot walk an
        // index, so users with the value are read in index order first, then the rest.
        Some(col) if query.prefix.is_none() && query.filter.is_none() => {
            let with = format!("{condition} AND {col} IS NOT NULL");
            let order = format!("{col} {dir}, u.user_id {dir}");
            let mut views = p.rows(db, &with, &order, query.limit, query.offset).await?;
            let short = query.limit - views.len() as u64;
            if short > 0 {
                let past = if views.is_empty() {
                    query.offset - p.count(db, &with).await?.min(query.offset)
                } else {
                    0
                };
                let without = format!("{condition} AND {col} IS NULL");
                let order = format!("u.user_id {dir}");
                views.extend(p.rows(db, &without, &order, short, past).await?);
            }
            views
        }
        _ => {
            let order = match query.sort {
                SortField::CreatedAt => format!("u.created_at{num} {dir}"),
                SortField::Email => format!("(u.email_key IS NULL), u.email_key{text} {dir}"),
                SortField::PhoneNumber => {
                    format!("(u.phone_number IS NULL), u.phone_number{text} {dir}")
                }
                SortField::LastAuth => format!("(u.last_auth IS NULL), u.last_auth{num} {dir}"),
            };
            let order = format!("{order}, u.user_id {dir}");
            p.rows(db, &condition, &order, query.limit, query.offset)
                .await?
        }
    };
    Ok((views, total))
}

/// One list query's parts: `$1` the tenant, `$2` the app, `$3` and `$4` the limit and
/// offset, then `tail` (the prefix bounds and the filter's values).
struct Page<'a> {
    scope: &'a Scope,
    tenant: &'a TenantId,
    tail: &'a [Arg<'a>],
}

impl Page<'_> {
    fn args(&self, limit: u64, offset: u64) -> Vec<Arg<'_>> {
        let mut a = vec![
            Arg::from(self.tenant.as_str()),
            Arg::from(scope_app(self.scope)),
            Arg::from(i64::try_from(limit).unwrap_or(i64::MAX)),
            Arg::from(i64::try_from(offset).unwrap_or(i64::MAX)),
        ];
        a.extend_from_slice(self.tail);
        a
    }

    async fn rows(
        &self,
        db: &mut Db<'_>,
        condition: &str,
        order: &str,
        limit: u64,
        offset: u64,
    ) -> Result<Vec<UserView>, Error> {
        // The page's ids first, over the narrow rows alone; the views (JSON, identities,
        // app and password joins) are built for the page's users only, not for every
        // match sorted or skipped.
        // SQLite must read the page first: left to choose, it walks the sort's index over
        // every user and probes the page for each (seconds at a million users).
        let first = match db.dialect() {
            Dialect::Sqlite => "CROSS JOIN",
            Dialect::Postgres => "JOIN",
        };
        let join = membership_join(self.scope);
        let sql = format!(
            "SELECT {} FROM (SELECT u.user_id AS page_id FROM users u {join} \
             WHERE u.tenant_id = $1{condition} ORDER BY {order} LIMIT $3 OFFSET $4) pick \
             {first} users u ON u.tenant_id = $1 AND u.user_id = pick.page_id {join} {VIEW_JOINS} \
             ORDER BY {order}",
            view_columns(db.dialect()),
        );
        Ok(db
            .query(&sql, &self.args(limit, offset))
            .await?
            .iter()
            .map(view_from_row)
            .collect::<Result<Vec<_>, _>>()?)
    }

    /// Users matching `condition` (the limit and offset bound but unused).
    async fn count(&self, db: &mut Db<'_>, condition: &str) -> Result<u64, Error> {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM (SELECT u.user_id FROM users u {} \
             WHERE u.tenant_id = $1{condition} LIMIT $3 OFFSET $4) c",
            membership_join(self.scope),
        );
        let row = db.query_one(&sql, &self.args(u64::MAX >> 1, 0)).await?;
        Ok(u64::try_from(row.int("n")?).unwrap_or_default())
    }
}

pub(crate) async fn count_users(
    db: &mut Db<'_>,
    tenant: &TenantId,
    scope: &Scope,
    filter: Option<&Filter>,
) -> Result<u64, Error> {
    count_filtered(db, tenant, scope, None, filter).await
}

async fn count_filtered(
    db: &mut Db<'_>,
    tenant: &TenantId,
    scope: &Scope,
    prefix: Option<&str>,
    filter: Option<&Filter>,
) -> Result<u64, Error> {
    if let Some(f) = filter {
        return count_searched(db, tenant, scope, prefix, f).await;
    }
    // Without a prefix the counts the triggers of migration 0006 keep answer. Without an
    // app there is nothing to join: count the tenant's users directly.
    let (sql, first) = match (scope, prefix) {
        (Scope::Members(_), None) => (
            "SELECT COALESCE((SELECT c.n FROM app_member_counts c \
             WHERE c.tenant_id = $1 AND c.app_id = $2), 0) AS n",
            3,
        ),
        (Scope::Tenant(_), None) => (
            "SELECT COALESCE((SELECT c.n FROM tenant_user_counts c WHERE c.tenant_id = $1), 0) AS n",
            2,
        ),
        (Scope::Members(_), Some(_)) => (
            "SELECT COUNT(*) AS n FROM users u JOIN user_apps m ON m.tenant_id = u.tenant_id \
             AND m.user_id = u.user_id AND m.app_id = $2 WHERE u.tenant_id = $1",
            3,
        ),
        (Scope::Tenant(_), _) => (
            "SELECT COUNT(*) AS n FROM users u WHERE u.tenant_id = $1",
            2,
        ),
    };
    let (filter, bounds) = filter_sql::prefix_filter(prefix, first);
    let mut a = vec![Arg::from(tenant.as_str())];
    if let Scope::Members(app) = scope {
        a.push(Arg::from(app.as_str()));
    }
    a.extend(bounds.iter().map(|b| Arg::from(b.as_str())));
    let row = db.query_one(&format!("{sql}{filter}"), &a).await?;
    Ok(u64::try_from(row.int("n")?).unwrap_or_default())
}

/// A count with a `search` filter: the users joined with the scope's membership (which an
/// app-level attribute reads).
async fn count_searched(
    db: &mut Db<'_>,
    tenant: &TenantId,
    scope: &Scope,
    prefix: Option<&str>,
    filter: &Filter,
) -> Result<u64, Error> {
    let join = match scope {
        Scope::Members(_) => "JOIN",
        Scope::Tenant(_) => "LEFT JOIN",
    };
    let (prefix_sql, bounds) = filter_sql::prefix_filter(prefix, 3);
    let search = filter_sql::condition(filter, db.dialect(), 3 + bounds.len());
    let sql = format!(
        "SELECT COUNT(*) AS n FROM users u {join} user_apps m ON m.tenant_id = u.tenant_id \
         AND m.user_id = u.user_id AND m.app_id = $2 WHERE u.tenant_id = $1{prefix_sql} AND ({})",
        search.sql
    );
    let mut a = vec![Arg::from(tenant.as_str()), Arg::from(scope_app(scope))];
    a.extend(bounds.iter().map(|b| Arg::from(b.as_str())));
    a.extend(search.binds.iter().map(filter_sql::Bind::arg));
    let row = db.query_one(&sql, &a).await?;
    Ok(u64::try_from(row.int("n")?).unwrap_or_default())
}
