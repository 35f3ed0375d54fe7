//! User queries, written once for both backends (see `define_queries`).

/// Binds a user's columns from `email` to `updated_at`, in table order; `$bind` is
/// `bind` (one statement) or `push_bind` (a row of a multi-row insert).
macro_rules! bind_user_columns {
    ($q:expr, $bind:ident, $u:expr, $profile:expr, $custom:expr) => {
        $q.$bind($u.email.as_ref().map(|e| e.value.as_str()))
            .$bind($u.email.as_ref().map(|e| email_key(&e.value)))
            .$bind($u.email.as_ref().is_some_and(|e| e.verified))
            .$bind($u.email.as_ref().and_then(|e| e.verified_at))
            .$bind($u.phone_number.as_ref().map(|e| e.value.as_str()))
            .$bind($u.phone_number.as_ref().is_some_and(|e| e.verified))
            .$bind($u.phone_number.as_ref().and_then(|e| e.verified_at))
            .$bind($u.external_user_id.as_deref())
            .$bind($u.status.as_str())
            .$bind($u.status_changed_at)
            .$bind($u.last_auth)
            .$bind($u.birthday.as_deref())
            .$bind($profile)
            .$bind($custom)
            .$bind($u.updated_at)
    };
}

macro_rules! define_user_queries {
    // `$identities`: the dialect's expression for a user's identities as a JSON array.
    ($backend:ident, $db:ty, $identities:literal) => {
        mod generated_users {
        use super::{$backend, FOR_UPDATE, RETRY_CONFLICTS};
        use roster_core::time::now_ms;
        use roster_core::user::{
            conflict, conflict_code, email_key, Contact, Created, Identity, ListQuery, Lookup,
            Membership, NewUser, Profile, Scope, SortField, User, UserId, UserStatus, UserView,
        };
        use roster_core::{AppId, Error, StoreError, TenantId};
        use serde_json::{Map, Value};
        use sqlx::Row;
        use $crate::error::{json_error, map_sqlx_error as db_err};

        type DbRow = <$db as sqlx::Database>::Row;
        type Tx<'t> = sqlx::Transaction<'t, $db>;

        const VIEW_COLUMNS: &str = concat!(
            "u.user_id, u.email, u.email_verified, u.email_verified_at, \
            u.phone_number, u.phone_verified, u.phone_verified_at, u.external_user_id, u.status, \
            u.status_changed_at, u.last_auth, u.birthday, u.profile, u.custom_data, u.created_at, \
            u.updated_at, m.app_id AS m_app_id, a.name AS m_app_name, m.username AS m_username, \
            m.external_account_id AS m_external_account_id, m.custom_app_data AS m_custom_app_data, \
            m.created_at AS m_created_at, m.updated_at AS m_updated_at, ",
            $identities,
            " AS identities"
        );

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

        fn json_map(s: &str) -> Result<Map<String, Value>, StoreError> {
            serde_json::from_str(s).map_err(json_error)
        }

        fn contact(value: Option<String>, verified: bool, at: Option<i64>) -> Option<Contact> {
            value.map(|value| Contact {
                value,
                verified,
                verified_at: at,
            })
        }

        fn view_from_row(row: &DbRow) -> Result<UserView, StoreError> {
            let get_s = |c: &str| row.try_get::<Option<String>, _>(c).map_err(db_err);
            let get_i = |c: &str| row.try_get::<Option<i64>, _>(c).map_err(db_err);
            let status: String = row.try_get("status").map_err(db_err)?;
            let profile: String = row.try_get("profile").map_err(db_err)?;
            let custom: String = row.try_get("custom_data").map_err(db_err)?;
            let identities: String = row.try_get("identities").map_err(db_err)?;
            let user = User {
                user_id: UserId::from_string(row.try_get::<String, _>("user_id").map_err(db_err)?),
                email: contact(
                    get_s("email")?,
                    row.try_get("email_verified").map_err(db_err)?,
                    get_i("email_verified_at")?,
                ),
                phone_number: contact(
                    get_s("phone_number")?,
                    row.try_get("phone_verified").map_err(db_err)?,
                    get_i("phone_verified_at")?,
                ),
                external_user_id: get_s("external_user_id")?,
                status: UserStatus::parse(&status)
                    .ok_or_else(|| StoreError::Other(format!("unknown user status {status}")))?,
                status_changed_at: row.try_get("status_changed_at").map_err(db_err)?,
                last_auth: get_i("last_auth")?,
                birthday: get_s("birthday")?,
                profile: serde_json::from_str::<Profile>(&profile).map_err(json_error)?,
                custom_data: json_map(&custom)?,
                identities: serde_json::from_str::<Vec<Identity>>(&identities).map_err(json_error)?,
                group_ids: Vec::new(),
                created_at: row.try_get("created_at").map_err(db_err)?,
                updated_at: row.try_get("updated_at").map_err(db_err)?,
            };
            let membership = match get_s("m_app_id")? {
                None => None,
                Some(app_id) => Some(Membership {
                    app_id: AppId::from_string(app_id),
                    app_name: get_s("m_app_name")?.unwrap_or_default(),
                    username: get_s("m_username")?,
                    external_account_id: get_s("m_external_account_id")?,
                    custom_app_data: json_map(&get_s("m_custom_app_data")?.unwrap_or_default())?,
                    created_at: get_i("m_created_at")?.unwrap_or_default(),
                    updated_at: get_i("m_updated_at")?.unwrap_or_default(),
                }),
            };
            Ok(UserView { user, membership })
        }

        fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
            serde_json::to_string(value).map_err(json_error)
        }

        /// A unique-constraint failure on a user write becomes Transmit's 409.
        fn user_err(e: StoreError) -> Error {
            match e {
                StoreError::Conflict(detail) => conflict(conflict_code(&detail)),
                StoreError::NotFound => Error::NotFound("User not found".into()),
                e => e.into(),
            }
        }

        fn user_not_found() -> Error {
            Error::NotFound("User not found".into())
        }

        type Query<'q> = sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>;

        /// Binds a user's columns as `$3` to `$17`, after the tenant and the user id (updates).
        fn bind_user<'q>(q: Query<'q>, u: &'q User) -> Result<Query<'q>, StoreError> {
            Ok($crate::queries::users::bind_user_columns!(q, bind, u, to_json(&u.profile)?, to_json(&u.custom_data)?))
        }

        async fn write_user(tx: &mut Tx<'_>, tenant: &TenantId, u: &User) -> Result<(), StoreError> {
            let q = sqlx::query(
                "UPDATE users SET email = $3, email_key = $4, email_verified = $5, email_verified_at = $6, \
                 phone_number = $7, phone_verified = $8, phone_verified_at = $9, external_user_id = $10, \
                 status = $11, status_changed_at = $12, last_auth = $13, birthday = $14, profile = $15, \
                 custom_data = $16, updated_at = $17 WHERE tenant_id = $1 AND user_id = $2",
            )
            .bind(tenant.as_str())
            .bind(u.user_id.as_str());
            bind_user(q, u)?.execute(&mut **tx).await.map_err(db_err)?;
            Ok(())
        }

        async fn write_membership(
            tx: &mut Tx<'_>,
            tenant: &TenantId,
            user_id: &UserId,
            m: &Membership,
        ) -> Result<(), StoreError> {
            sqlx::query(
                "UPDATE user_apps SET username = $4, username_key = $5, external_account_id = $6, \
                 custom_app_data = $7, updated_at = $8 WHERE tenant_id = $1 AND app_id = $2 AND user_id = $3",
            )
            .bind(tenant.as_str())
            .bind(m.app_id.as_str())
            .bind(user_id.as_str())
            .bind(m.username.as_deref())
            .bind(m.username.as_deref().map(str::to_lowercase))
            .bind(m.external_account_id.as_deref())
            .bind(to_json(&m.custom_app_data)?)
            .bind(m.updated_at)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
            Ok(())
        }

        async fn app_name(tx: &mut Tx<'_>, tenant: &TenantId, app: &AppId) -> Result<String, Error> {
            let row = sqlx::query("SELECT name FROM apps WHERE tenant_id = $1 AND app_id = $2")
                .bind(tenant.as_str())
                .bind(app.as_str())
                .fetch_optional(&mut **tx)
                .await
                .map_err(db_err)?
                .ok_or_else(|| Error::NotFound("App not found".into()))?;
            Ok(row.try_get("name").map_err(db_err)?)
        }

        /// Reads one user as `scope` sees it, inside `tx` (locked on PostgreSQL).
        async fn view_in_tx(
            tx: &mut Tx<'_>,
            tenant: &TenantId,
            scope: &Scope,
            user_id: &UserId,
            lock: bool,
        ) -> Result<Option<UserView>, StoreError> {
            if lock && !FOR_UPDATE.is_empty() {
                // Lock first, read after: a read that waited on the lock would see a fresh
                // users row but a membership row from before the wait.
                sqlx::query(&format!(
                    "SELECT u.user_id FROM users u WHERE u.tenant_id = $1 AND u.user_id = $2{FOR_UPDATE}"
                ))
                .bind(tenant.as_str())
                .bind(user_id.as_str())
                .fetch_optional(&mut **tx)
                .await
                .map_err(db_err)?;
            }
            let sql = format!(
                "SELECT {VIEW_COLUMNS} {} WHERE u.tenant_id = $1 AND u.user_id = $3",
                from_clause(scope)
            );
            let row = sqlx::query(&sql)
                .bind(tenant.as_str())
                .bind(scope_app(scope))
                .bind(user_id.as_str())
                .fetch_optional(&mut **tx)
                .await
                .map_err(db_err)?;
            row.as_ref().map(view_from_row).transpose()
        }

        /// What one create of a batch will do.
        enum Step {
            New,
            Link(UserId),
            Fail(Error),
        }

        fn placeholders(from: usize, n: usize) -> String {
            (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
        }

        /// Create-or-link of many inputs inside one transaction (`DECISIONS.md`, "Users"):
        /// one probe for every identifier, decisions in input order (so later inputs see
        /// earlier ones), then multi-row inserts. `app` carries the app's name. An input that
        /// must fail fails alone and writes nothing; `Err(StoreError::Conflict)` means a
        /// concurrent writer won a race and the transaction must be rolled back.
        async fn create_batch_in_tx(
            tx: &mut Tx<'_>,
            tenant: &TenantId,
            app: Option<(&AppId, &str)>,
            inputs: &[&NewUser],
        ) -> Result<Vec<Result<(UserView, Created), Error>>, StoreError> {
            use std::collections::{HashMap, HashSet};
            let now = now_ms();
            let emails: Vec<String> = inputs
                .iter()
                .filter_map(|i| i.user.email.as_ref().map(|e| email_key(&e.value)))
                .collect();
            let phones: Vec<String> = inputs
                .iter()
                .filter_map(|i| i.user.phone_number.as_ref().map(|p| p.value.clone()))
                .collect();
            let externals: Vec<String> = inputs
                .iter()
                .filter_map(|i| i.user.external_user_id.clone())
                .collect();

            // Who owns each identifier now: one indexed probe per identifier kind.
            let mut owners: [HashMap<String, String>; 3] = Default::default();
            let mut parts = Vec::new();
            let mut next = 2;
            for (kind, column, values) in [
                (0, "email_key", &emails),
                (1, "phone_number", &phones),
                (2, "external_user_id", &externals),
            ] {
                if !values.is_empty() {
                    parts.push(format!(
                        "SELECT user_id, {kind} AS kind, {column} AS v FROM users \
                         WHERE tenant_id = $1 AND {column} IN ({})",
                        placeholders(next, values.len())
                    ));
                    next += values.len();
                }
            }
            if !parts.is_empty() {
                let sql = parts.join(" UNION ALL ");
                let mut q = sqlx::query(&sql).bind(tenant.as_str());
                for v in emails.iter().chain(&phones).chain(&externals) {
                    q = q.bind(v.as_str());
                }
                for row in q.fetch_all(&mut **tx).await.map_err(db_err)? {
                    let kind: i32 = row.try_get("kind").map_err(db_err)?;
                    let owner: String = row.try_get("user_id").map_err(db_err)?;
                    let value: String = row.try_get("v").map_err(db_err)?;
                    if let Some(map) = usize::try_from(kind).ok().and_then(|k| owners.get_mut(k)) {
                        map.insert(value, owner);
                    }
                }
            }

            // What the app already holds: its members among those owners, and its
            // usernames and external account ids among the requested ones.
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
                    let mut q = sqlx::query(&sql).bind(tenant.as_str()).bind(a.as_str());
                    for id in &known {
                        q = q.bind(id.as_str());
                    }
                    for row in q.fetch_all(&mut **tx).await.map_err(db_err)? {
                        members.insert(row.try_get("user_id").map_err(db_err)?);
                    }
                }
                let wanted_names: Vec<String> = inputs
                    .iter()
                    .filter_map(|i| i.username.as_deref().map(str::to_lowercase))
                    .collect();
                let wanted_accounts: Vec<String> = inputs
                    .iter()
                    .filter_map(|i| i.external_account_id.clone())
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
                    let sql = parts.join(" UNION ALL ");
                    let mut q = sqlx::query(&sql).bind(tenant.as_str()).bind(a.as_str());
                    for v in wanted_names.iter().chain(&wanted_accounts) {
                        q = q.bind(v.as_str());
                    }
                    for row in q.fetch_all(&mut **tx).await.map_err(db_err)? {
                        let kind: i32 = row.try_get("kind").map_err(db_err)?;
                        let v: String = row.try_get("v").map_err(db_err)?;
                        if kind == 0 {
                            usernames.insert(v);
                        } else {
                            accounts.insert(v);
                        }
                    }
                }
            }

            // Decide in input order, as if the creates ran one after another.
            const CODES: [&str; 3] = ["EMAIL_TAKEN", "PHONE_NUMBER_TAKEN", "EXTERNAL_USER_ID_TAKEN"];
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
                            // The same person again is "already exists"; a request that only
                            // shares some identifier with a member names that identifier.
                            let same_person = keys
                                .iter()
                                .enumerate()
                                .all(|(k, key)| key.is_none() || matched.iter().any(|(c, _)| *c == CODES[k]));
                            Step::Fail(conflict(if same_person { "USER_ALREADY_EXISTS" } else { first_code }))
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

            // Write: the new users, then every membership, many rows per statement.
            let new_users: Vec<&User> = inputs
                .iter()
                .zip(&steps)
                .filter(|(_, s)| matches!(s, Step::New))
                .map(|(i, _)| &i.user)
                .collect();
            for chunk in new_users.chunks(50) {
                let mut qb = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO users (tenant_id, user_id, email, email_key, email_verified, email_verified_at, \
                     phone_number, phone_verified, phone_verified_at, external_user_id, status, status_changed_at, \
                     last_auth, birthday, profile, custom_data, updated_at, created_at) ",
                );
                let mut docs = Vec::with_capacity(chunk.len());
                for u in chunk {
                    docs.push((to_json(&u.profile)?, to_json(&u.custom_data)?));
                }
                qb.push_values(chunk.iter().zip(&docs), |mut b, (u, (profile, custom))| {
                    $crate::queries::users::bind_user_columns!(
                        b.push_bind(tenant.as_str()).push_bind(u.user_id.as_str()),
                        push_bind,
                        u,
                        profile.as_str(),
                        custom.as_str()
                    )
                        .push_bind(u.created_at);
                });
                qb.build().execute(&mut **tx).await.map_err(db_err)?;
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
            for chunk in memberships.chunks(100) {
                let mut docs = Vec::with_capacity(chunk.len());
                for (_, m) in chunk {
                    docs.push(to_json(&m.custom_app_data)?);
                }
                let mut qb = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO user_apps (tenant_id, app_id, user_id, username, username_key, \
                     external_account_id, custom_app_data, created_at, updated_at) ",
                );
                qb.push_values(chunk.iter().zip(&docs), |mut b, ((user_id, m), custom)| {
                    b.push_bind(tenant.as_str())
                        .push_bind(m.app_id.as_str())
                        .push_bind(user_id.as_str())
                        .push_bind(m.username.as_deref())
                        .push_bind(m.username.as_deref().map(str::to_lowercase))
                        .push_bind(m.external_account_id.as_deref())
                        .push_bind(custom.as_str())
                        .push_bind(m.created_at)
                        .push_bind(m.updated_at);
                });
                qb.build().execute(&mut **tx).await.map_err(db_err)?;
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
                        "SELECT {VIEW_COLUMNS} {} WHERE u.tenant_id = $1 AND u.user_id IN ({})",
                        from_clause(&scope),
                        placeholders(3, chunk.len())
                    );
                    let mut q = sqlx::query(&sql).bind(tenant.as_str()).bind(a.as_str());
                    for id in chunk {
                        q = q.bind(id.as_str());
                    }
                    for row in q.fetch_all(&mut **tx).await.map_err(db_err)? {
                        let view = view_from_row(&row)?;
                        linked.insert(view.user.user_id.as_str().to_owned(), view);
                    }
                }
            }
            let mut membership_of: HashMap<&str, &Membership> = memberships
                .iter()
                .map(|(id, m)| (id.as_str(), m))
                .collect();
            Ok(inputs
                .iter()
                .zip(steps)
                .map(|(input, step)| match step {
                    Step::New => Ok((
                        UserView {
                            user: input.user.clone(),
                            membership: membership_of
                                .remove(input.user.user_id.as_str())
                                .cloned(),
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

        /// Creates a batch in one transaction; after a lost race (PostgreSQL), each input
        /// is tried on its own inside the transaction, with a savepoint each.
        pub(super) async fn create_batch(
            pool: &sqlx::Pool<$db>,
            tenant: &TenantId,
            app: Option<&AppId>,
            inputs: &[&NewUser],
        ) -> Result<Vec<Result<(UserView, Created), Error>>, Error> {
            let mut tx = pool.begin().await.map_err(db_err)?;
            let name = match app {
                Some(a) => Some(app_name(&mut tx, tenant, a).await?),
                None => None,
            };
            let app = app.zip(name.as_deref());
            let results = {
                let mut savepoint = sqlx::Acquire::begin(&mut *tx).await.map_err(db_err)?;
                match create_batch_in_tx(&mut savepoint, tenant, app, inputs).await {
                    Ok(results) => {
                        savepoint.commit().await.map_err(db_err)?;
                        Some(results)
                    }
                    Err(StoreError::Conflict(_)) => {
                        savepoint.rollback().await.map_err(db_err)?;
                        None
                    }
                    Err(e) => return Err(user_err(e)),
                }
            };
            let results = match results {
                Some(results) => results,
                None => {
                    let mut one_by_one = Vec::with_capacity(inputs.len());
                    for input in inputs {
                        let mut savepoint = sqlx::Acquire::begin(&mut *tx).await.map_err(db_err)?;
                        match create_batch_in_tx(&mut savepoint, tenant, app, &[*input]).await {
                            Ok(mut r) => {
                                savepoint.commit().await.map_err(db_err)?;
                                one_by_one.push(r.pop().unwrap_or_else(|| Err(user_not_found())));
                            }
                            Err(e) => {
                                savepoint.rollback().await.map_err(db_err)?;
                                one_by_one.push(Err(user_err(e)));
                            }
                        }
                    }
                    one_by_one
                }
            };
            tx.commit().await.map_err(db_err)?;
            Ok(results)
        }

        /// One create in its own transaction.
        pub(super) async fn create_one(
            pool: &sqlx::Pool<$db>,
            tenant: &TenantId,
            app: Option<&AppId>,
            input: &NewUser,
        ) -> Result<(UserView, Created), Error> {
            // A concurrent create can commit the same identifier between our probe and
            // insert (PostgreSQL); one retry then sees it and links or answers 409.
            let mut attempt = 0;
            loop {
                attempt += 1;
                let mut tx = pool.begin().await.map_err(db_err)?;
                let name = match app {
                    Some(a) => Some(app_name(&mut tx, tenant, a).await?),
                    None => None,
                };
                let app = app.zip(name.as_deref());
                let outcome = match create_batch_in_tx(&mut tx, tenant, app, &[input]).await {
                    Ok(mut r) => r.pop().unwrap_or_else(|| Err(user_not_found())),
                    Err(e) => Err(user_err(e)),
                };
                match outcome {
                    Ok(done) => {
                        tx.commit().await.map_err(db_err)?;
                        return Ok(done);
                    }
                    Err(Error::Conflict { .. }) if attempt < 2 && RETRY_CONFLICTS => drop(tx),
                    Err(e) => return Err(e),
                }
            }
        }

        impl $backend {
            /// Many creates, each succeeding or failing on its own, in one transaction.
            pub(crate) async fn bulk_create_users(
                &self,
                tenant: &TenantId,
                app: Option<&AppId>,
                inputs: &[NewUser],
            ) -> Result<Vec<Result<(UserView, Created), Error>>, Error> {
                let refs: Vec<&NewUser> = inputs.iter().collect();
                let created = create_batch(self.writer(), tenant, app, &refs).await;
                self.after_inserts(inputs.len());
                created
            }

            pub(crate) async fn get_user(
                &self,
                tenant: &TenantId,
                scope: &Scope,
                user_id: &UserId,
            ) -> Result<UserView, Error> {
                let sql = format!(
                    "SELECT {VIEW_COLUMNS} {} WHERE u.tenant_id = $1 AND u.user_id = $3",
                    from_clause(scope)
                );
                let row = sqlx::query(&sql)
                    .bind(tenant.as_str())
                    .bind(scope_app(scope))
                    .bind(user_id.as_str())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err)?
                    .ok_or_else(user_not_found)?;
                Ok(view_from_row(&row)?)
            }

            pub(crate) async fn find_user(
                &self,
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
                    "SELECT {VIEW_COLUMNS} {} WHERE u.tenant_id = $1 AND {condition} LIMIT 2",
                    from_clause(scope)
                );
                let rows = sqlx::query(&sql)
                    .bind(tenant.as_str())
                    .bind(scope_app(scope))
                    .bind(value)
                    .fetch_all(self.reader())
                    .await
                    .map_err(db_err)?;
                if rows.len() > 1 {
                    return Err(Error::invalid(
                        "the identifier matches users of several apps: pass app_id",
                    ));
                }
                let view = rows.first().ok_or_else(user_not_found)?;
                Ok(view_from_row(view)?)
            }

            pub(crate) async fn list_users(
                &self,
                tenant: &TenantId,
                scope: &Scope,
                query: &ListQuery,
            ) -> Result<(Vec<UserView>, u64), Error> {
                let (filter, bounds) = prefix_filter(query.prefix.as_deref(), 3);
                let dir = if query.descending { "DESC" } else { "ASC" };
                // With a prefix the matches are few: sort them rather than walk the sort index
                // (the no-op expressions keep SQLite from choosing that walk).
                let (num, text) = if query.prefix.is_some() { (" + 0", " || ''") } else { ("", "") };
                let order = match query.sort {
                    SortField::CreatedAt => format!("u.created_at{num} {dir}"),
                    SortField::Email => format!("(u.email_key IS NULL), u.email_key{text} {dir}"),
                    SortField::PhoneNumber => {
                        format!("(u.phone_number IS NULL), u.phone_number{text} {dir}")
                    }
                    SortField::LastAuth => format!("(u.last_auth IS NULL), u.last_auth{num} {dir}"),
                };
                let sql = format!(
                    "SELECT {VIEW_COLUMNS} {} WHERE u.tenant_id = $1{filter} ORDER BY {order}, u.user_id {dir} \
                     LIMIT {} OFFSET {}",
                    from_clause(scope),
                    query.limit,
                    query.offset
                );
                let mut q = sqlx::query(&sql).bind(tenant.as_str()).bind(scope_app(scope));
                for b in &bounds {
                    q = q.bind(b.as_str());
                }
                let rows = q.fetch_all(self.reader()).await.map_err(db_err)?;
                let views = rows.iter().map(view_from_row).collect::<Result<Vec<_>, _>>()?;
                let total = self.count_filtered(tenant, scope, query.prefix.as_deref()).await?;
                Ok((views, total))
            }

            pub(crate) async fn count_users(&self, tenant: &TenantId, scope: &Scope) -> Result<u64, Error> {
                self.count_filtered(tenant, scope, None).await
            }

            async fn count_filtered(
                &self,
                tenant: &TenantId,
                scope: &Scope,
                prefix: Option<&str>,
            ) -> Result<u64, Error> {
                // Without an app there is nothing to join: count the tenant's users directly.
                // Without a prefix, the membership (or user) key index alone answers.
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
                    (Scope::Tenant(_), _) => ("SELECT COUNT(*) AS n FROM users u WHERE u.tenant_id = $1", 2),
                };
                let (filter, bounds) = prefix_filter(prefix, first);
                let sql = format!("{sql}{filter}");
                let mut q = sqlx::query(&sql).bind(tenant.as_str());
                if let Scope::Members(app) = scope {
                    q = q.bind(app.as_str());
                }
                for b in &bounds {
                    q = q.bind(b.as_str());
                }
                let row = q.fetch_one(self.reader()).await.map_err(db_err)?;
                let n: i64 = row.try_get("n").map_err(db_err)?;
                Ok(u64::try_from(n).unwrap_or_default())
            }

            /// Read-modify-write of one user (and the scope's membership) in one transaction.
            pub(crate) async fn update_user<F>(
                &self,
                tenant: &TenantId,
                scope: &Scope,
                user_id: &UserId,
                change: F,
            ) -> Result<UserView, Error>
            where
                F: FnOnce(&mut User, Option<&mut Membership>) -> Result<(), Error> + Send,
            {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                let mut view = view_in_tx(&mut tx, tenant, scope, user_id, true)
                    .await?
                    .ok_or_else(user_not_found)?;
                let before = view.clone();
                change(&mut view.user, view.membership.as_mut())?;
                if view.user != before.user {
                    write_user(&mut tx, tenant, &view.user).await.map_err(user_err)?;
                }
                if let Some(m) = &view.membership {
                    if Some(m) != before.membership.as_ref() {
                        write_membership(&mut tx, tenant, user_id, m).await.map_err(user_err)?;
                    }
                }
                tx.commit().await.map_err(db_err)?;
                Ok(view)
            }

            /// Records a sign-in identity, or moves its `last_auth_date` forward.
            pub(crate) async fn record_identity(
                &self,
                tenant: &TenantId,
                user_id: &UserId,
                identity: &Identity,
            ) -> Result<(), Error> {
                sqlx::query(
                    "INSERT INTO user_identities (tenant_id, user_id, provider_name, provider_type, auth_type, \
                     identifier, first_auth_date, last_auth_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (tenant_id, user_id, provider_name, identifier) \
                     DO UPDATE SET last_auth_date = excluded.last_auth_date",
                )
                .bind(tenant.as_str())
                .bind(user_id.as_str())
                .bind(&identity.provider_name)
                .bind(&identity.provider_type)
                .bind(&identity.auth_type)
                .bind(&identity.identifier)
                .bind(identity.first_auth_date)
                .bind(identity.last_auth_date)
                .execute(self.writer())
                .await
                .map_err(|e| user_err(db_err(e)))?;
                Ok(())
            }

            pub(crate) async fn remove_user_from_app(
                &self,
                tenant: &TenantId,
                app: &AppId,
                user_id: &UserId,
            ) -> Result<(), Error> {
                let done = sqlx::query("DELETE FROM user_apps WHERE tenant_id = $1 AND app_id = $2 AND user_id = $3")
                    .bind(tenant.as_str())
                    .bind(app.as_str())
                    .bind(user_id.as_str())
                    .execute(self.writer())
                    .await
                    .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    return Err(user_not_found());
                }
                Ok(())
            }

            pub(crate) async fn delete_user(&self, tenant: &TenantId, user_id: &UserId) -> Result<(), Error> {
                let done = sqlx::query("DELETE FROM users WHERE tenant_id = $1 AND user_id = $2")
                    .bind(tenant.as_str())
                    .bind(user_id.as_str())
                    .execute(self.writer())
                    .await
                    .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    return Err(user_not_found());
                }
                Ok(())
            }
        }

        /// The `search_prefix` condition: a range on the primary email key or phone, so the
        /// unique indexes serve it. Binds start at `$3`.
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
                        vec![lower.clone(), format!("{lower}{top}"), p.to_owned(), format!("{p}{top}")],
                    )
                }
            }
        }
        }
    };
}

pub(crate) use bind_user_columns;
pub(crate) use define_user_queries;
