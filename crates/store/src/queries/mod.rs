//! Queries written once for both backends. The SQL is portable (`$N` placeholders work on
//! SQLite and PostgreSQL); each backend instantiates this macro for its own `sqlx` types
//! and supplies its dialect differences as constants (`FOR_UPDATE`).

macro_rules! define_queries {
    ($backend:ident, $db:ty) => {
        mod generated {
        use super::{$backend, FOR_UPDATE};
        use roster_core::app::{
            App, AppSettings, Client, ClientCredentials, NewApp, NewClient,
            PasswordConfiguration, Tenant,
        };
        use roster_core::secret::SecretHash;
        use roster_core::signing_key::SigningKeyRecord;
        use roster_core::time::now_ms;
        use roster_core::{AppId, ClientId, Error, StoreError, TenantId};
        use sqlx::Row;
        use $crate::error::{json_error, map_sqlx_error as db_err};

        type DbRow = <$db as sqlx::Database>::Row;

        const DEFAULT_SLUG: &str = "default";
        const MANAGEMENT_APP_NAME: &str = "Management";
        const APP_COLUMNS: &str =
            "tenant_id, app_id, name, is_management, settings, password_config, created_at, updated_at";
        const CLIENT_COLUMNS: &str =
            "tenant_id, app_id, client_id, name, description, redirect_uris, resources, created_at, updated_at";

        fn tenant_from_row(row: &DbRow) -> Result<Tenant, StoreError> {
            Ok(Tenant {
                tenant_id: TenantId::from_string(row.try_get::<String, _>("tenant_id").map_err(db_err)?),
                name: row.try_get("name").map_err(db_err)?,
                created_at: row.try_get("created_at").map_err(db_err)?,
            })
        }

        fn app_from_row(row: &DbRow) -> Result<App, StoreError> {
            let settings: String = row.try_get("settings").map_err(db_err)?;
            let password_config: String = row.try_get("password_config").map_err(db_err)?;
            Ok(App {
                tenant_id: TenantId::from_string(row.try_get::<String, _>("tenant_id").map_err(db_err)?),
                app_id: AppId::from_string(row.try_get::<String, _>("app_id").map_err(db_err)?),
                name: row.try_get("name").map_err(db_err)?,
                is_management: row.try_get("is_management").map_err(db_err)?,
                settings: serde_json::from_str::<AppSettings>(&settings).map_err(json_error)?,
                password_config: serde_json::from_str::<PasswordConfiguration>(&password_config)
                    .map_err(json_error)?,
                created_at: row.try_get("created_at").map_err(db_err)?,
                updated_at: row.try_get("updated_at").map_err(db_err)?,
            })
        }

        fn client_from_row(row: &DbRow) -> Result<Client, StoreError> {
            let redirect_uris: String = row.try_get("redirect_uris").map_err(db_err)?;
            let resources: String = row.try_get("resources").map_err(db_err)?;
            Ok(Client {
                tenant_id: TenantId::from_string(row.try_get::<String, _>("tenant_id").map_err(db_err)?),
                app_id: AppId::from_string(row.try_get::<String, _>("app_id").map_err(db_err)?),
                client_id: ClientId::from_string(row.try_get::<String, _>("client_id").map_err(db_err)?),
                name: row.try_get("name").map_err(db_err)?,
                description: row.try_get("description").map_err(db_err)?,
                redirect_uris: serde_json::from_str(&redirect_uris).map_err(json_error)?,
                resources: serde_json::from_str(&resources).map_err(json_error)?,
                created_at: row.try_get("created_at").map_err(db_err)?,
                updated_at: row.try_get("updated_at").map_err(db_err)?,
            })
        }

        fn key_from_row(row: &DbRow) -> Result<SigningKeyRecord, StoreError> {
            Ok(SigningKeyRecord {
                kid: row.try_get("kid").map_err(db_err)?,
                purpose: row.try_get("purpose").map_err(db_err)?,
                algorithm: row.try_get("algorithm").map_err(db_err)?,
                private_key: row.try_get("private_key").map_err(db_err)?,
                public_key: row.try_get("public_key").map_err(db_err)?,
                created_at: row.try_get("created_at").map_err(db_err)?,
            })
        }

        fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
            serde_json::to_string(value).map_err(json_error)
        }

        fn management_app(tenant: &TenantId, now: i64) -> App {
            App {
                tenant_id: tenant.clone(),
                app_id: AppId::generate(),
                name: MANAGEMENT_APP_NAME.into(),
                is_management: true,
                settings: AppSettings {
                    description: Some("Manages the tenant: admin tokens".into()),
                    ..AppSettings::default()
                },
                password_config: PasswordConfiguration::default(),
                created_at: now,
                updated_at: now,
            }
        }

        fn management_client() -> NewClient {
            NewClient {
                name: "Management client".into(),
                description: Some("Created by bootstrap".into()),
                redirect_uris: Vec::new(),
                resources: Vec::new(),
            }
        }

        /// Inserts an app; `or_nothing` makes a conflicting insert a no-op instead of an error.
        async fn insert_app<'e, E>(executor: E, app: &App, or_nothing: bool) -> Result<(), StoreError>
        where
            E: sqlx::Executor<'e, Database = $db>,
        {
            let sql = format!(
                "INSERT INTO apps (tenant_id, app_id, name, is_management, settings, password_config, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8){}",
                if or_nothing { " ON CONFLICT DO NOTHING" } else { "" }
            );
            sqlx::query(&sql)
                .bind(app.tenant_id.as_str())
                .bind(app.app_id.as_str())
                .bind(&app.name)
                .bind(app.is_management)
                .bind(to_json(&app.settings)?)
                .bind(to_json(&app.password_config)?)
                .bind(app.created_at)
                .bind(app.updated_at)
                .execute(executor)
                .await
                .map_err(db_err)?;
            Ok(())
        }

        async fn insert_client_row<'e, E>(
            executor: E,
            tenant: &TenantId,
            app_id: &AppId,
            client_id: &ClientId,
            input: &NewClient,
            secret: &SecretHash,
            now: i64,
        ) -> Result<Client, StoreError>
        where
            E: sqlx::Executor<'e, Database = $db>,
        {
            sqlx::query(
                "INSERT INTO clients (client_id, tenant_id, app_id, name, description, redirect_uris, resources, secret_hash, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
            )
            .bind(client_id.as_str())
            .bind(tenant.as_str())
            .bind(app_id.as_str())
            .bind(&input.name)
            .bind(input.description.as_deref())
            .bind(to_json(&input.redirect_uris)?)
            .bind(to_json(&input.resources)?)
            .bind(secret.as_str())
            .bind(now)
            .execute(executor)
            .await
            .map_err(db_err)?;
            Ok(Client {
                tenant_id: tenant.clone(),
                app_id: app_id.clone(),
                client_id: client_id.clone(),
                name: input.name.clone(),
                description: input.description.clone(),
                redirect_uris: input.redirect_uris.clone(),
                resources: input.resources.clone(),
                created_at: now,
                updated_at: now,
            })
        }

        impl $backend {
            pub(crate) async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1").execute(self.reader()).await.map_err(db_err)?;
                Ok(())
            }

            pub(crate) async fn close(&self) {
                self.reader().close().await;
                self.writer().close().await;
            }

            pub(crate) async fn create_tenant(
                &self,
                name: &str,
                slug: Option<&str>,
            ) -> Result<Tenant, StoreError> {
                let tenant = Tenant {
                    tenant_id: TenantId::generate(),
                    name: name.to_owned(),
                    created_at: now_ms(),
                };
                sqlx::query("INSERT INTO tenants (tenant_id, name, slug, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(tenant.tenant_id.as_str())
                    .bind(&tenant.name)
                    .bind(slug)
                    .bind(tenant.created_at)
                    .execute(self.writer())
                    .await
                    .map_err(db_err)?;
                Ok(tenant)
            }

            pub(crate) async fn get_tenant(&self, tenant: &TenantId) -> Result<Tenant, StoreError> {
                let row = sqlx::query("SELECT tenant_id, name, created_at FROM tenants WHERE tenant_id = $1")
                    .bind(tenant.as_str())
                    .fetch_one(self.reader())
                    .await
                    .map_err(db_err)?;
                tenant_from_row(&row)
            }

            pub(crate) async fn ensure_default_tenant(&self) -> Result<Tenant, StoreError> {
                sqlx::query(
                    "INSERT INTO tenants (tenant_id, name, slug, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(TenantId::generate().as_str())
                .bind("Default")
                .bind(DEFAULT_SLUG)
                .bind(now_ms())
                .execute(self.writer())
                .await
                .map_err(db_err)?;
                let row = sqlx::query("SELECT tenant_id, name, created_at FROM tenants WHERE slug = $1")
                    .bind(DEFAULT_SLUG)
                    .fetch_one(self.writer())
                    .await
                    .map_err(db_err)?;
                tenant_from_row(&row)
            }

            pub(crate) async fn create_default_tenant_with_client(
                &self,
                client_id: &ClientId,
                secret: &SecretHash,
            ) -> Result<Option<(Tenant, App)>, StoreError> {
                let now = now_ms();
                let tenant = Tenant {
                    tenant_id: TenantId::generate(),
                    name: "Default".into(),
                    created_at: now,
                };
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                let inserted = sqlx::query(
                    "INSERT INTO tenants (tenant_id, name, slug, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(tenant.tenant_id.as_str())
                .bind(&tenant.name)
                .bind(DEFAULT_SLUG)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
                if inserted == 0 {
                    return Ok(None);
                }
                let app = management_app(&tenant.tenant_id, now);
                insert_app(&mut *tx, &app, false).await?;
                insert_client_row(&mut *tx, &tenant.tenant_id, &app.app_id, client_id, &management_client(), secret, now)
                    .await?;
                tx.commit().await.map_err(db_err)?;
                Ok(Some((tenant, app)))
            }

            pub(crate) async fn client_credentials(
                &self,
                client_id: &str,
            ) -> Result<Option<ClientCredentials>, StoreError> {
                let row = sqlx::query(
                    "SELECT c.tenant_id, c.app_id, c.client_id, c.secret_hash, c.resources, a.name AS app_name, a.is_management \
                     FROM clients c JOIN apps a ON a.tenant_id = c.tenant_id AND a.app_id = c.app_id \
                     WHERE c.client_id = $1",
                )
                .bind(client_id)
                .fetch_optional(self.reader())
                .await
                .map_err(db_err)?;
                let Some(row) = row else { return Ok(None) };
                let resources: String = row.try_get("resources").map_err(db_err)?;
                Ok(Some(ClientCredentials {
                    tenant_id: TenantId::from_string(row.try_get::<String, _>("tenant_id").map_err(db_err)?),
                    app_id: AppId::from_string(row.try_get::<String, _>("app_id").map_err(db_err)?),
                    app_name: row.try_get("app_name").map_err(db_err)?,
                    is_management: row.try_get("is_management").map_err(db_err)?,
                    client_id: ClientId::from_string(row.try_get::<String, _>("client_id").map_err(db_err)?),
                    secret_hash: SecretHash::from_stored(row.try_get("secret_hash").map_err(db_err)?),
                    resources: serde_json::from_str(&resources).map_err(json_error)?,
                }))
            }

            pub(crate) async fn ensure_signing_key(
                &self,
                candidate: &SigningKeyRecord,
            ) -> Result<SigningKeyRecord, StoreError> {
                sqlx::query(
                    "INSERT INTO signing_keys (kid, purpose, algorithm, private_key, public_key, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                )
                .bind(&candidate.kid)
                .bind(&candidate.purpose)
                .bind(&candidate.algorithm)
                .bind(&candidate.private_key)
                .bind(&candidate.public_key)
                .bind(candidate.created_at)
                .execute(self.writer())
                .await
                .map_err(db_err)?;
                let row = sqlx::query(
                    "SELECT kid, purpose, algorithm, private_key, public_key, created_at FROM signing_keys WHERE purpose = $1",
                )
                .bind(&candidate.purpose)
                .fetch_one(self.writer())
                .await
                .map_err(db_err)?;
                key_from_row(&row)
            }

            pub(crate) async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
                let rows = sqlx::query(
                    "SELECT kid, purpose, algorithm, private_key, public_key, created_at FROM signing_keys ORDER BY created_at",
                )
                .fetch_all(self.reader())
                .await
                .map_err(db_err)?;
                rows.iter().map(key_from_row).collect()
            }

            pub(crate) async fn create_app(
                &self,
                tenant: &TenantId,
                input: &NewApp,
                first_client: Option<(&NewClient, &SecretHash)>,
            ) -> Result<(App, Option<Client>), StoreError> {
                let now = now_ms();
                let app = App {
                    tenant_id: tenant.clone(),
                    app_id: AppId::generate(),
                    name: input.name.clone(),
                    is_management: input.is_management,
                    settings: input.settings.clone(),
                    password_config: input.password_config.clone(),
                    created_at: now,
                    updated_at: now,
                };
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                insert_app(&mut *tx, &app, false).await?;
                let client = match first_client {
                    Some((input, secret)) => Some(
                        insert_client_row(&mut *tx, tenant, &app.app_id, &ClientId::generate(), input, secret, now)
                            .await?,
                    ),
                    None => None,
                };
                tx.commit().await.map_err(db_err)?;
                Ok((app, client))
            }

            pub(crate) async fn list_apps(&self, tenant: &TenantId) -> Result<Vec<App>, StoreError> {
                let rows = sqlx::query(&format!(
                    "SELECT {APP_COLUMNS} FROM apps WHERE tenant_id = $1 ORDER BY created_at, app_id"
                ))
                .bind(tenant.as_str())
                .fetch_all(self.reader())
                .await
                .map_err(db_err)?;
                rows.iter().map(app_from_row).collect()
            }

            pub(crate) async fn get_app(&self, tenant: &TenantId, app_id: &AppId) -> Result<App, StoreError> {
                let row = sqlx::query(&format!(
                    "SELECT {APP_COLUMNS} FROM apps WHERE tenant_id = $1 AND app_id = $2"
                ))
                .bind(tenant.as_str())
                .bind(app_id.as_str())
                .fetch_one(self.reader())
                .await
                .map_err(db_err)?;
                app_from_row(&row)
            }

            pub(crate) async fn update_app<F>(
                &self,
                tenant: &TenantId,
                app_id: &AppId,
                change: F,
            ) -> Result<App, Error>
            where
                F: FnOnce(&mut App) -> Result<(), Error> + Send,
            {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                let row = sqlx::query(&format!(
                    "SELECT {APP_COLUMNS} FROM apps WHERE tenant_id = $1 AND app_id = $2{FOR_UPDATE}"
                ))
                .bind(tenant.as_str())
                .bind(app_id.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
                let mut app = app_from_row(&row)?;
                change(&mut app)?;
                app.updated_at = now_ms();
                sqlx::query(
                    "UPDATE apps SET name = $3, settings = $4, password_config = $5, updated_at = $6 \
                     WHERE tenant_id = $1 AND app_id = $2",
                )
                .bind(tenant.as_str())
                .bind(app_id.as_str())
                .bind(&app.name)
                .bind(to_json(&app.settings)?)
                .bind(to_json(&app.password_config)?)
                .bind(app.updated_at)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(app)
            }

            pub(crate) async fn delete_app(&self, tenant: &TenantId, app_id: &AppId) -> Result<(), StoreError> {
                let done = sqlx::query("DELETE FROM apps WHERE tenant_id = $1 AND app_id = $2")
                    .bind(tenant.as_str())
                    .bind(app_id.as_str())
                    .execute(self.writer())
                    .await
                    .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            pub(crate) async fn ensure_management_app(&self, tenant: &TenantId) -> Result<App, StoreError> {
                insert_app(self.writer(), &management_app(tenant, now_ms()), true).await?;
                let row = sqlx::query(&format!(
                    "SELECT {APP_COLUMNS} FROM apps WHERE tenant_id = $1 AND is_management"
                ))
                .bind(tenant.as_str())
                .fetch_optional(self.writer())
                .await
                .map_err(db_err)?;
                match row {
                    Some(row) => app_from_row(&row),
                    None => Err(StoreError::Conflict(format!(
                        "an app named {MANAGEMENT_APP_NAME} exists and is not the management app"
                    ))),
                }
            }

            /// Fails with `NotFound` when the app is not in the tenant.
            pub(crate) async fn insert_client(
                &self,
                tenant: &TenantId,
                app_id: &AppId,
                client_id: &ClientId,
                input: &NewClient,
                secret: &SecretHash,
            ) -> Result<Client, StoreError> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                self.require_app(&mut tx, tenant, app_id).await?;
                let client = insert_client_row(&mut *tx, tenant, app_id, client_id, input, secret, now_ms()).await?;
                tx.commit().await.map_err(db_err)?;
                Ok(client)
            }

            pub(crate) async fn put_client(
                &self,
                tenant: &TenantId,
                app_id: &AppId,
                client_id: &ClientId,
                input: &NewClient,
                secret: &SecretHash,
            ) -> Result<Client, StoreError> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                self.require_app(&mut tx, tenant, app_id).await?;
                let now = now_ms();
                let written = sqlx::query(
                    "INSERT INTO clients (client_id, tenant_id, app_id, name, description, redirect_uris, resources, secret_hash, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
                     ON CONFLICT (client_id) DO UPDATE SET secret_hash = excluded.secret_hash, updated_at = excluded.updated_at \
                     WHERE clients.tenant_id = excluded.tenant_id AND clients.app_id = excluded.app_id",
                )
                .bind(client_id.as_str())
                .bind(tenant.as_str())
                .bind(app_id.as_str())
                .bind(&input.name)
                .bind(input.description.as_deref())
                .bind(to_json(&input.redirect_uris)?)
                .bind(to_json(&input.resources)?)
                .bind(secret.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
                if written == 0 {
                    return Err(StoreError::Conflict("client_id".into()));
                }
                let row = sqlx::query(&format!(
                    "SELECT {CLIENT_COLUMNS} FROM clients WHERE tenant_id = $1 AND app_id = $2 AND client_id = $3"
                ))
                .bind(tenant.as_str())
                .bind(app_id.as_str())
                .bind(client_id.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
                let client = client_from_row(&row)?;
                tx.commit().await.map_err(db_err)?;
                Ok(client)
            }

            async fn require_app(
                &self,
                tx: &mut sqlx::Transaction<'_, $db>,
                tenant: &TenantId,
                app_id: &AppId,
            ) -> Result<(), StoreError> {
                sqlx::query("SELECT app_id FROM apps WHERE tenant_id = $1 AND app_id = $2")
                    .bind(tenant.as_str())
                    .bind(app_id.as_str())
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            pub(crate) async fn list_clients(&self, tenant: &TenantId, app_id: &AppId) -> Result<Vec<Client>, StoreError> {
                let rows = sqlx::query(&format!(
                    "SELECT {CLIENT_COLUMNS} FROM clients WHERE tenant_id = $1 AND app_id = $2 ORDER BY created_at, client_id"
                ))
                .bind(tenant.as_str())
                .bind(app_id.as_str())
                .fetch_all(self.reader())
                .await
                .map_err(db_err)?;
                rows.iter().map(client_from_row).collect()
            }

            pub(crate) async fn get_client(
                &self,
                tenant: &TenantId,
                app_id: &AppId,
                client_id: &ClientId,
            ) -> Result<Client, StoreError> {
                let row = sqlx::query(&format!(
                    "SELECT {CLIENT_COLUMNS} FROM clients WHERE tenant_id = $1 AND app_id = $2 AND client_id = $3"
                ))
                .bind(tenant.as_str())
                .bind(app_id.as_str())
                .bind(client_id.as_str())
                .fetch_one(self.reader())
                .await
                .map_err(db_err)?;
                client_from_row(&row)
            }

            pub(crate) async fn delete_client(
                &self,
                tenant: &TenantId,
                app_id: &AppId,
                client_id: &ClientId,
            ) -> Result<(), StoreError> {
                let done = sqlx::query("DELETE FROM clients WHERE tenant_id = $1 AND app_id = $2 AND client_id = $3")
                    .bind(tenant.as_str())
                    .bind(app_id.as_str())
                    .bind(client_id.as_str())
                    .execute(self.writer())
                    .await
                    .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }
        }
        }
    };
}

pub(crate) use define_queries;

pub(crate) mod users;
