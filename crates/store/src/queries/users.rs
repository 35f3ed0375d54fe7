//! User queries, written once for both backends (see `define_queries`).

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

        /// Binds a user's columns as `$3` to `$17`, after the tenant and the user id.
        fn bind_user<'q>(q: Query<'q>, u: &'q User) -> Result<Query<'q>, StoreError> {
            Ok(q.bind(u.email.as_ref().map(|e| e.value.as_str()))
                .bind(u.email.as_ref().map(|e| email_key(&e.value)))
                .bind(u.email.as_ref().is_some_and(|e| e.verified))
                .bind(u.email.as_ref().and_then(|e| e.verified_at))
                .bind(u.phone_number.as_ref().map(|e| e.value.as_str()))
                .bind(u.phone_number.as_ref().is_some_and(|e| e.verified))
                .bind(u.phone_number.as_ref().and_then(|e| e.verified_at))
                .bind(u.external_user_id.as_deref())
                .bind(u.status.as_str())
                .bind(u.status_changed_at)
                .bind(u.last_auth)
                .bind(u.birthday.as_deref())
                .bind(to_json(&u.profile)?)
                .bind(to_json(&u.custom_data)?)
                .bind(u.updated_at))
        }

        async fn insert_user(tx: &mut Tx<'_>, tenant: &TenantId, u: &User) -> Result<(), StoreError> {
            let q = sqlx::query(
                "INSERT INTO users (tenant_id, user_id, email, email_key, email_verified, email_verified_at, \
                 phone_number, phone_verified, phone_verified_at, external_user_id, status, status_changed_at, \
                 last_auth, birthday, profile, custom_data, updated_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
            )
            .bind(tenant.as_str())
            .bind(u.user_id.as_str());
            bind_user(q, u)?
                .bind(u.created_at)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            Ok(())
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

        async fn insert_membership(
            tx: &mut Tx<'_>,
            tenant: &TenantId,
            user_id: &UserId,
            m: &Membership,
        ) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO user_apps (tenant_id, app_id, user_id, username, username_key, external_account_id, \
                 custom_app_data, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(tenant.as_str())
            .bind(m.app_id.as_str())
            .bind(user_id.as_str())
            .bind(m.username.as_deref())
            .bind(m.username.as_deref().map(str::to_lowercase))
            .bind(m.external_account_id.as_deref())
            .bind(to_json(&m.custom_app_data)?)
            .bind(m.created_at)
            .bind(m.updated_at)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
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

        /// Create-or-link inside one transaction (`DECISIONS.md`, "Users").
        /// `app` carries the app's name, read once by the caller.
        async fn create_in_tx(
            tx: &mut Tx<'_>,
            tenant: &TenantId,
            app: Option<(&AppId, &str)>,
            input: &NewUser,
        ) -> Result<(UserView, Created), Error> {
            let now = now_ms();
            let (app, app_name) = match app {
                Some((a, name)) => (Some(a), Some(name)),
                None => (None, None),
            };
            let u = &input.user;
            let email = u.email.as_ref().map(|e| email_key(&e.value));
            let phone = u.phone_number.as_ref().map(|p| p.value.clone());
            let matches = if email.is_some() || phone.is_some() || u.external_user_id.is_some() {
                // One indexed probe per identifier: an OR would let the planner scan the tenant.
                sqlx::query(
                    "SELECT user_id, email_key, phone_number, external_user_id FROM users \
                     WHERE tenant_id = $1 AND email_key = $2 \
                     UNION ALL SELECT user_id, email_key, phone_number, external_user_id FROM users \
                     WHERE tenant_id = $1 AND phone_number = $3 \
                     UNION ALL SELECT user_id, email_key, phone_number, external_user_id FROM users \
                     WHERE tenant_id = $1 AND external_user_id = $4",
                )
                .bind(tenant.as_str())
                .bind(email.as_deref())
                .bind(phone.as_deref())
                .bind(u.external_user_id.as_deref())
                .fetch_all(&mut **tx)
                .await
                .map_err(db_err)?
            } else {
                Vec::new()
            };
            // Which stored user each identifier of the request points to, in priority order.
            let mut owners: Vec<(&'static str, String)> = Vec::new();
            for row in &matches {
                let id: String = row.try_get("user_id").map_err(db_err)?;
                let k: Option<String> = row.try_get("email_key").map_err(db_err)?;
                let p: Option<String> = row.try_get("phone_number").map_err(db_err)?;
                let x: Option<String> = row.try_get("external_user_id").map_err(db_err)?;
                if email.is_some() && k == email {
                    owners.push(("EMAIL_TAKEN", id.clone()));
                }
                if phone.is_some() && p == phone {
                    owners.push(("PHONE_NUMBER_TAKEN", id.clone()));
                }
                if u.external_user_id.is_some() && x == u.external_user_id {
                    owners.push(("EXTERNAL_USER_ID_TAKEN", id));
                }
            }
            let rank = |code: &str| match code {
                "EMAIL_TAKEN" => 0,
                "PHONE_NUMBER_TAKEN" => 1,
                _ => 2,
            };
            owners.sort_by_key(|(code, _)| rank(code));

            let Some((first_code, existing)) = owners.first().cloned() else {
                insert_user(tx, tenant, u).await.map_err(user_err)?;
                let membership = match (app, app_name) {
                    (Some(a), Some(name)) => {
                        let m = input.membership(a, name, now);
                        insert_membership(tx, tenant, &u.user_id, &m).await.map_err(user_err)?;
                        Some(m)
                    }
                    _ => None,
                };
                return Ok((
                    UserView {
                        user: u.clone(),
                        membership,
                    },
                    Created::New,
                ));
            };
            if let Some((code, _)) = owners.iter().find(|(_, id)| *id != existing) {
                return Err(conflict(code));
            }
            let (Some(a), Some(name)) = (app, app_name) else {
                return Err(conflict(first_code));
            };
            let existing = UserId::from_string(existing);
            let linked = sqlx::query(
                "SELECT 1 AS one FROM user_apps WHERE tenant_id = $1 AND app_id = $2 AND user_id = $3",
            )
            .bind(tenant.as_str())
            .bind(a.as_str())
            .bind(existing.as_str())
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_err)?;
            if linked.is_some() {
                // The same person again is "already exists"; a request that only shares
                // some identifier with a member names that identifier.
                let has = |code: &str| owners.iter().any(|(c, _)| *c == code);
                let same_person = (email.is_none() || has("EMAIL_TAKEN"))
                    && (phone.is_none() || has("PHONE_NUMBER_TAKEN"))
                    && (u.external_user_id.is_none() || has("EXTERNAL_USER_ID_TAKEN"));
                return Err(conflict(if same_person {
                    "USER_ALREADY_EXISTS"
                } else {
                    first_code
                }));
            }
            let m = input.membership(a, name, now);
            insert_membership(tx, tenant, &existing, &m).await.map_err(user_err)?;
            let view = view_in_tx(tx, tenant, &Scope::Members(a.clone()), &existing, false)
                .await?
                .ok_or_else(user_not_found)?;
            Ok((view, Created::Linked))
        }

        impl $backend {
            pub(crate) async fn create_user(
                &self,
                tenant: &TenantId,
                app: Option<&AppId>,
                input: &NewUser,
            ) -> Result<(UserView, Created), Error> {
                // A concurrent create can commit the same identifier between our lookup and
                // insert (PostgreSQL); one retry then sees it and links or answers 409.
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    let mut tx = self.writer().begin().await.map_err(db_err)?;
                    let name = match app {
                        Some(a) => Some(app_name(&mut tx, tenant, a).await?),
                        None => None,
                    };
                    let app = app.zip(name.as_deref());
                    match create_in_tx(&mut tx, tenant, app, input).await {
                        Ok(done) => {
                            tx.commit().await.map_err(db_err)?;
                            return Ok(done);
                        }
                        Err(Error::Conflict { .. }) if attempt < 2 && RETRY_CONFLICTS => {
                            drop(tx);
                        }
                        Err(e) => return Err(e),
                    }
                }
            }

            /// Each input succeeds or fails on its own (a savepoint each); all successes
            /// are committed in one transaction.
            pub(crate) async fn bulk_create_users(
                &self,
                tenant: &TenantId,
                app: Option<&AppId>,
                inputs: &[NewUser],
            ) -> Result<Vec<Result<(UserView, Created), Error>>, Error> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                let name = match app {
                    Some(a) => Some(app_name(&mut tx, tenant, a).await?),
                    None => None,
                };
                let app = app.zip(name.as_deref());
                let mut results = Vec::with_capacity(inputs.len());
                for input in inputs {
                    let mut savepoint = sqlx::Acquire::begin(&mut *tx).await.map_err(db_err)?;
                    match create_in_tx(&mut savepoint, tenant, app, input).await {
                        Ok(done) => {
                            savepoint.commit().await.map_err(db_err)?;
                            results.push(Ok(done));
                        }
                        Err(e) => {
                            savepoint.rollback().await.map_err(db_err)?;
                            results.push(Err(e));
                        }
                    }
                }
                tx.commit().await.map_err(db_err)?;
                Ok(results)
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

pub(crate) use define_user_queries;
