//! User queries, written once for both backends over [`Db`].

use super::{delete_some, from_json, to_json};
use crate::db::{args, Arg, Db, Dialect, Row, Savepoint};
use roster_core::time::now_ms;
use roster_core::user::{
    conflict, conflict_code, email_key, Contact, Created, Identity, ListQuery, Lookup, Membership,
    NewUser, Profile, Scope, SortField, User, UserId, UserStatus, UserView,
};
use roster_core::{AppId, Error, StoreError, TenantId};
use std::collections::{HashMap, HashSet};

/// The view's columns: `$identities` is the dialect's expression for a user's identities
/// as a JSON array.
macro_rules! view_columns {
    ($identities:literal) => {
        concat!(
            "u.user_id, u.email, u.email_verified, u.email_verified_at, \
            u.phone_number, u.phone_verified, u.phone_verified_at, u.external_user_id, u.status, \
            u.status_changed_at, u.last_auth, u.birthday, u.profile, u.custom_data, u.created_at, \
            u.updated_at, m.app_id AS m_app_id, a.name AS m_app_name, m.username AS m_username, \
            m.external_account_id AS m_external_account_id, m.custom_app_data AS m_custom_app_data, \
            m.created_at AS m_created_at, m.updated_at AS m_updated_at, ",
            $identities,
            " AS identities"
        )
    };
}

fn view_columns(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => view_columns!(
            "(SELECT json_group_array(json_object('provider_name', i.provider_name, \
             'provider_type', i.provider_type, 'auth_type', i.auth_type, 'identifier', i.identifier, \
             'first_auth_date', i.first_auth_date, 'last_auth_date', i.last_auth_date)) \
             FROM user_identities i WHERE i.tenant_id = u.tenant_id AND i.user_id = u.user_id)"
        ),
        Dialect::Postgres => view_columns!(
            "(SELECT COALESCE(json_agg(json_build_object('provider_name', i.provider_name, \
             'provider_type', i.provider_type, 'auth_type', i.auth_type, 'identifier', i.identifier, \
             'first_auth_date', i.first_auth_date, 'last_auth_date', i.last_auth_date) \
             ORDER BY i.first_auth_date), '[]')::text \
             FROM user_identities i WHERE i.tenant_id = u.tenant_id AND i.user_id = u.user_id)"
        ),
    }
}

/// `FROM` and join for a scope; `$1` is the tenant and `$2` the app ('' for none).
fn from_clause(scope: &Scope) -> &'static str {
    match scope {
        Scope::Members(_) => {
            "FROM users u JOIN user_apps m ON m.tenant_id = u.tenant_id AND m.user_id = u.user_id AND m.app_id = $2 \
             LEFT JOIN apps a ON a.tenant_id = m.tenant_id AND a.app_id = m.app_id"
        }
        Scope::Tenant(_) => {
            "FROM users u LEFT JOIN user_apps m ON m.tenant_id = u.tenant_id AND m.user_id = u.user_id AND m.app_id = $2 \
             LEFT JOIN apps a ON a.tenant_id = m.tenant_id AND a.app_id = m.app_id"
        }
    }
}

fn scope_app(scope: &Scope) -> &str {
    scope.app().map_or("", AppId::as_str)
}

fn contact(value: Option<String>, verified: bool, at: Option<i64>) -> Option<Contact> {
    value.map(|value| Contact {
        value,
        verified,
        verified_at: at,
    })
}

fn view_from_row(row: &Row) -> Result<UserView, StoreError> {
    let status = row.text("status")?;
    let user = User {
        user_id: UserId::from_string(row.text("user_id")?),
        email: contact(
            row.opt_text("email")?,
            row.bool("email_verified")?,
            row.opt_int("email_verified_at")?,
        ),
        phone_number: contact(
            row.opt_text("phone_number")?,
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
        group_ids: Vec::new(),
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
            created_at: row.opt_int("m_created_at")?.unwrap_or_default(),
            updated_at: row.opt_int("m_updated_at")?.unwrap_or_default(),
        }),
    };
    Ok(UserView { user, membership })
}

/// A unique-constraint failure on a user write becomes Transmit's 409.
fn user_err(e: StoreError) -> Error {
    match e {
        StoreError::Conflict(detail) => conflict(conflict_code(&detail)),
        StoreError::NotFound => user_not_found(),
        e => e.into(),
    }
}

fn user_not_found() -> Error {
    Error::NotFound("User not found".into())
}

/// A user's stored forms that are not fields of `User`.
struct UserDocs {
    email_key: Option<String>,
    profile: String,
    custom: String,
}

impl UserDocs {
    fn of(u: &User) -> Result<Self, StoreError> {
        Ok(Self {
            email_key: u.email.as_ref().map(|e| email_key(&e.value)),
            profile: to_json(&u.profile)?,
            custom: to_json(&u.custom_data)?,
        })
    }
}

/// A user's columns from `email` to `updated_at`, in table order.
fn user_args<'a>(u: &'a User, d: &'a UserDocs) -> [Arg<'a>; 15] {
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

async fn app_name(db: &mut Db<'_>, tenant: &TenantId, app: &AppId) -> Result<String, Error> {
    let row = db
        .query_opt(
            "SELECT name FROM apps WHERE tenant_id = $1 AND app_id = $2",
            args![tenant.as_str(), app.as_str()],
        )
        .await?
        .ok_or_else(|| Error::NotFound("App not found".into()))?;
    Ok(row.text("name")?)
}

/// Reads one user as `scope` sees it; `lock` locks the row first (PostgreSQL).
async fn read_view(
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

/// What one create of a batch will do.
enum Step {
    New,
    Link(UserId),
    Fail(Error),
}

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Create-or-link of many inputs inside one transaction (`DECISIONS.md`, "Users"): one
/// probe for every identifier, decisions in input order (so later inputs see earlier
/// ones), then multi-row inserts. `app` carries the app's name. An input that must fail
/// fails alone and writes nothing; `Err(StoreError::Conflict)` means a concurrent writer
/// won a race and the transaction must be rolled back.
async fn create_batch_in_tx(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app: Option<(&AppId, &str)>,
    inputs: &[&NewUser],
) -> Result<Vec<Result<(UserView, Created), Error>>, StoreError> {
    let now = now_ms();
    let emails: Vec<String> = inputs
        .iter()
        .filter_map(|i| i.user.email.as_ref().map(|e| email_key(&e.value)))
        .collect();
    let phones: Vec<&str> = inputs
        .iter()
        .filter_map(|i| i.user.phone_number.as_ref().map(|p| p.value.as_str()))
        .collect();
    let externals: Vec<&str> = inputs
        .iter()
        .filter_map(|i| i.user.external_user_id.as_deref())
        .collect();

    // Who owns each identifier now: one indexed probe per identifier kind.
    let mut owners: [HashMap<String, String>; 3] = Default::default();
    let mut parts = Vec::new();
    let mut next = 2;
    for (kind, column, n) in [
        (0, "email_key", emails.len()),
        (1, "phone_number", phones.len()),
        (2, "external_user_id", externals.len()),
    ] {
        if n > 0 {
            parts.push(format!(
                "SELECT user_id, {kind} AS kind, {column} AS v FROM users \
                 WHERE tenant_id = $1 AND {column} IN ({})",
                placeholders(next, n)
            ));
            next += n;
        }
    }
    if !parts.is_empty() {
        let mut a = vec![Arg::from(tenant.as_str())];
        a.extend(emails.iter().map(|v| Arg::from(v.as_str())));
        a.extend(phones.iter().chain(&externals).map(|v| Arg::from(*v)));
        for row in db.query(&parts.join(" UNION ALL "), &a).await? {
            let kind = row.int("kind")?;
            if let Some(map) = usize::try_from(kind).ok().and_then(|k| owners.get_mut(k)) {
                map.insert(row.text("v")?, row.text("user_id")?);
            }
        }
    }

    // What the app already holds: its members among those owners, and its usernames and
    // external account ids among the requested ones.
    let mut members: HashSet<String> = HashSet::new();
    let mut usernames: HashSet<String> = HashSet::new();
    let mut accounts: HashSet<String> = HashSet::new();
    if let Some((a, _)) = app {
        let known: Vec<&String> = owners
            .iter()
            .flat_map(|m| m.values())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if !known.is_empty() {
            let sql = format!(
                "SELECT user_id FROM user_apps WHERE tenant_id = $1 AND app_id = $2 AND user_id IN ({})",
                placeholders(3, known.len())
            );
            let mut q = vec![Arg::from(tenant.as_str()), Arg::from(a.as_str())];
            q.extend(known.iter().map(|id| Arg::from(id.as_str())));
            for row in db.query(&sql, &q).await? {
                members.insert(row.text("user_id")?);
            }
        }
        let wanted_names: Vec<String> = inputs
            .iter()
            .filter_map(|i| i.username.as_deref().map(str::to_lowercase))
            .collect();
        let wanted_accounts: Vec<&str> = inputs
            .iter()
            .filter_map(|i| i.external_account_id.as_deref())
            .collect();
        let mut parts = Vec::new();
        if !wanted_names.is_empty() {
            parts.push(format!(
                "SELECT 0 AS kind, username_key AS v FROM user_apps \
                 WHERE tenant_id = $1 AND app_id = $2 AND username_key IN ({})",
                placeholders(3, wanted_names.len())
            ));
        }
        if !wanted_accounts.is_empty() {
            parts.push(format!(
                "SELECT 1 AS kind, external_account_id AS v FROM user_apps \
                 WHERE tenant_id = $1 AND app_id = $2 AND external_account_id IN ({})",
                placeholders(3 + wanted_names.len(), wanted_accounts.len())
            ));
        }
        if !parts.is_empty() {
            let mut q = vec![Arg::from(tenant.as_str()), Arg::from(a.as_str())];
            q.extend(wanted_names.iter().map(|v| Arg::from(v.as_str())));
            q.extend(wanted_accounts.iter().map(|v| Arg::from(*v)));
            for row in db.query(&parts.join(" UNION ALL "), &q).await? {
                let v = row.text("v")?;
                if row.int("kind")? == 0 {
                    usernames.insert(v);
                } else {
                    accounts.insert(v);
                }
            }
        }
    }

    // Decide in input order, as if the creates ran one after another.
    const CODES: [&str; 3] = [
        "EMAIL_TAKEN",
        "PHONE_NUMBER_TAKEN",
        "EXTERNAL_USER_ID_TAKEN",
    ];
    let mut steps = Vec::with_capacity(inputs.len());
    for input in inputs {
        let u = &input.user;
        let keys = [
            u.email.as_ref().map(|e| email_key(&e.value)),
            u.phone_number.as_ref().map(|p| p.value.clone()),
            u.external_user_id.clone(),
        ];
        let matched: Vec<(&'static str, String)> = keys
            .iter()
            .enumerate()
            .filter_map(|(k, key)| {
                let owner = owners[k].get(key.as_ref()?)?;
                Some((CODES[k], owner.clone()))
            })
            .collect();
        let username = input.username.as_deref().map(str::to_lowercase);
        let app_level_taken = if username.as_ref().is_some_and(|n| usernames.contains(n)) {
            Some("USERNAME_TAKEN")
        } else if input
            .external_account_id
            .as_ref()
            .is_some_and(|x| accounts.contains(x))
        {
            Some("EXTERNAL_ACCOUNT_ID_TAKEN")
        } else {
            None
        };
        let step = match matched.first() {
            None => match app_level_taken {
                Some(code) if app.is_some() => Step::Fail(conflict(code)),
                _ => Step::New,
            },
            Some((first_code, existing)) => {
                if let Some((code, _)) = matched.iter().find(|(_, id)| id != existing) {
                    Step::Fail(conflict(code))
                } else if app.is_none() {
                    Step::Fail(conflict(first_code))
                } else if members.contains(existing) {
                    // The same person again is "already exists"; a request that only shares
                    // some identifier with a member names that identifier.
                    let same_person = keys.iter().enumerate().all(|(k, key)| {
                        key.is_none() || matched.iter().any(|(c, _)| *c == CODES[k])
                    });
                    Step::Fail(conflict(if same_person {
                        "USER_ALREADY_EXISTS"
                    } else {
                        first_code
                    }))
                } else if let Some(code) = app_level_taken {
                    Step::Fail(conflict(code))
                } else {
                    Step::Link(UserId::from_string(existing.clone()))
                }
            }
        };
        // Later inputs of the batch see what this one will write.
        match &step {
            Step::New => {
                for (k, key) in keys.into_iter().enumerate() {
                    if let Some(key) = key {
                        owners[k].insert(key, u.user_id.as_str().to_owned());
                    }
                }
                if app.is_some() {
                    members.insert(u.user_id.as_str().to_owned());
                }
            }
            Step::Link(id) => {
                members.insert(id.as_str().to_owned());
            }
            Step::Fail(_) => {}
        }
        if matches!(step, Step::New | Step::Link(_)) && app.is_some() {
            usernames.extend(username);
            accounts.extend(input.external_account_id.clone());
        }
        steps.push(step);
    }

    // Write: the new users, then every membership. PostgreSQL takes many rows per statement
    // (fewer round trips); SQLite one, with no round trip to save: a multi-row statement
    // there keeps a journal to undo itself half-way.
    let dialect = db.dialect();
    let per_statement = |rows: usize| match dialect {
        Dialect::Sqlite => 1,
        Dialect::Postgres => rows,
    };
    let new_users: Vec<&User> = inputs
        .iter()
        .zip(&steps)
        .filter(|(_, s)| matches!(s, Step::New))
        .map(|(i, _)| &i.user)
        .collect();
    for chunk in new_users.chunks(per_statement(50)) {
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
    let mut memberships: Vec<(UserId, Membership)> = Vec::new();
    if let Some((a, name)) = app {
        for (input, step) in inputs.iter().zip(&steps) {
            let user_id = match step {
                Step::New => input.user.user_id.clone(),
                Step::Link(id) => id.clone(),
                Step::Fail(_) => continue,
            };
            memberships.push((user_id, input.membership(a, name, now)));
        }
    }
    for chunk in memberships.chunks(per_statement(100)) {
        let docs = chunk
            .iter()
            .map(|(_, m)| {
                Ok((
                    m.username.as_deref().map(str::to_lowercase),
                    to_json(&m.custom_app_data)?,
                ))
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

    // Answers: new users as written; linked ones read back as the app sees them.
    let mut linked: HashMap<String, UserView> = HashMap::new();
    let link_ids: Vec<&UserId> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Link(id) => Some(id),
            _ => None,
        })
        .collect();
    if let (Some((a, _)), false) = (app, link_ids.is_empty()) {
        let scope = Scope::Members(a.clone());
        for chunk in link_ids.chunks(500) {
            let sql = format!(
                "SELECT {} {} WHERE u.tenant_id = $1 AND u.user_id IN ({})",
                view_columns(db.dialect()),
                from_clause(&scope),
                placeholders(3, chunk.len())
            );
            let mut q = vec![Arg::from(tenant.as_str()), Arg::from(a.as_str())];
            q.extend(chunk.iter().map(|id| Arg::from(id.as_str())));
            for row in db.query(&sql, &q).await? {
                let view = view_from_row(&row)?;
                linked.insert(view.user.user_id.as_str().to_owned(), view);
            }
        }
    }
    let mut membership_of: HashMap<&str, &Membership> =
        memberships.iter().map(|(id, m)| (id.as_str(), m)).collect();
    Ok(inputs
        .iter()
        .zip(steps)
        .map(|(input, step)| match step {
            Step::New => Ok((
                UserView {
                    user: input.user.clone(),
                    membership: membership_of.remove(input.user.user_id.as_str()).cloned(),
                },
                Created::New,
            )),
            Step::Link(id) => linked
                .get(id.as_str())
                .cloned()
                .map(|v| (v, Created::Linked))
                .ok_or_else(user_not_found),
            Step::Fail(e) => Err(e),
        })
        .collect())
}

/// In a transaction: many creates, each succeeding or failing on its own. On PostgreSQL a
/// concurrent writer can win a race for an identifier; then each input is tried alone
/// behind a savepoint. SQLite's single writer rules that out, and skips the savepoint.
pub(crate) async fn create_batch(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app: Option<&AppId>,
    inputs: &[&NewUser],
) -> Result<Vec<Result<(UserView, Created), Error>>, Error> {
    let name = match app {
        Some(a) => Some(app_name(db, tenant, a).await?),
        None => None,
    };
    let app = app.zip(name.as_deref());
    if !db.dialect().retries_conflicts() {
        return create_batch_in_tx(db, tenant, app, inputs)
            .await
            .map_err(user_err);
    }
    db.savepoint(Savepoint::Set, "batch").await?;
    match create_batch_in_tx(db, tenant, app, inputs).await {
        Ok(results) => {
            db.savepoint(Savepoint::Release, "batch").await?;
            return Ok(results);
        }
        Err(StoreError::Conflict(_)) => {
            db.savepoint(Savepoint::Undo, "batch").await?;
        }
        Err(e) => return Err(user_err(e)),
    }
    let mut one_by_one = Vec::with_capacity(inputs.len());
    for input in inputs {
        db.savepoint(Savepoint::Set, "one").await?;
        match create_batch_in_tx(db, tenant, app, &[*input]).await {
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

/// In a transaction: one create. `Err(Conflict)` from a lost race (PostgreSQL) leaves the
/// transaction to be rolled back and tried again by the caller.
pub(crate) async fn create_one(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app: Option<&AppId>,
    input: &NewUser,
) -> Result<(UserView, Created), Error> {
    let name = match app {
        Some(a) => Some(app_name(db, tenant, a).await?),
        None => None,
    };
    let app = app.zip(name.as_deref());
    match create_batch_in_tx(db, tenant, app, &[input]).await {
        Ok(mut r) => r.pop().unwrap_or_else(|| Err(user_not_found())),
        Err(e) => Err(user_err(e)),
    }
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
        Lookup::Email(v) => ("u.email_key = $3", v),
        Lookup::Phone(v) => ("u.phone_number = $3", v),
        Lookup::ExternalUserId(v) => ("u.external_user_id = $3", v),
        Lookup::Username(v) if scope.app().is_some() => ("m.username_key = $3", v),
        Lookup::Username(v) => (
            "u.user_id IN (SELECT x.user_id FROM user_apps x WHERE x.tenant_id = $1 AND x.username_key = $3)",
            v,
        ),
        Lookup::IdpIdentifier(v) => (
            "u.user_id IN (SELECT i.user_id FROM user_identities i WHERE i.tenant_id = $1 AND i.identifier = $3)",
            v,
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
    let (filter, bounds) = prefix_filter(query.prefix.as_deref(), 5);
    let dir = if query.descending { "DESC" } else { "ASC" };
    // With a prefix the matches are few: sort them rather than walk the sort index (the
    // no-op expressions keep SQLite from choosing that walk).
    let (num, text) = if query.prefix.is_some() {
        (" + 0", " || ''")
    } else {
        ("", "")
    };
    let order = match query.sort {
        SortField::CreatedAt => format!("u.created_at{num} {dir}"),
        SortField::Email => format!("(u.email_key IS NULL), u.email_key{text} {dir}"),
        SortField::PhoneNumber => format!("(u.phone_number IS NULL), u.phone_number{text} {dir}"),
        SortField::LastAuth => format!("(u.last_auth IS NULL), u.last_auth{num} {dir}"),
    };
    let sql = format!(
        "SELECT {} {} WHERE u.tenant_id = $1{filter} ORDER BY {order}, u.user_id {dir} LIMIT $3 OFFSET $4",
        view_columns(db.dialect()),
        from_clause(scope),
    );
    let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
    let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
    let mut a = vec![
        Arg::from(tenant.as_str()),
        Arg::from(scope_app(scope)),
        Arg::from(limit),
        Arg::from(offset),
    ];
    a.extend(bounds.iter().map(|b| Arg::from(b.as_str())));
    let views = db
        .query(&sql, &a)
        .await?
        .iter()
        .map(view_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let total = count_filtered(db, tenant, scope, query.prefix.as_deref()).await?;
    Ok((views, total))
}

pub(crate) async fn count_users(
    db: &mut Db<'_>,
    tenant: &TenantId,
    scope: &Scope,
) -> Result<u64, Error> {
    count_filtered(db, tenant, scope, None).await
}

async fn count_filtered(
    db: &mut Db<'_>,
    tenant: &TenantId,
    scope: &Scope,
    prefix: Option<&str>,
) -> Result<u64, Error> {
    // Without an app there is nothing to join: count the tenant's users directly. Without
    // a prefix, the membership (or user) key index alone answers.
    let (sql, first) = match (scope, prefix) {
        (Scope::Members(_), None) => (
            "SELECT COUNT(*) AS n FROM user_apps m WHERE m.tenant_id = $1 AND m.app_id = $2",
            3,
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
    let (filter, bounds) = prefix_filter(prefix, first);
    let mut a = vec![Arg::from(tenant.as_str())];
    if let Scope::Members(app) = scope {
        a.push(Arg::from(app.as_str()));
    }
    a.extend(bounds.iter().map(|b| Arg::from(b.as_str())));
    let row = db.query_one(&format!("{sql}{filter}"), &a).await?;
    Ok(u64::try_from(row.int("n")?).unwrap_or_default())
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

/// The `search_prefix` condition: a range on the primary email key or phone, so the
/// unique indexes serve it. Binds start at `$first`.
fn prefix_filter(prefix: Option<&str>, first: usize) -> (String, Vec<String>) {
    match prefix {
        None => (String::new(), Vec::new()),
        Some(p) => {
            let lower = p.to_lowercase();
            let top = char::MAX;
            let (a, b, c, d) = (first, first + 1, first + 2, first + 3);
            // Two index ranges, unioned: an OR would let the planner scan the tenant.
            (
                format!(
                    " AND u.user_id IN (\
                     SELECT p.user_id FROM users p WHERE p.tenant_id = $1 AND p.email_key >= ${a} AND p.email_key < ${b} \
                     UNION ALL SELECT p.user_id FROM users p WHERE p.tenant_id = $1 AND p.phone_number >= ${c} AND p.phone_number < ${d})"
                ),
                vec![
                    lower.clone(),
                    format!("{lower}{top}"),
                    p.to_owned(),
                    format!("{p}{top}"),
                ],
            )
        }
    }
}
