//! Queries, written once for both backends over [`Db`]. Each function runs on the
//! connection or transaction it is given; the caller decides which.

pub(crate) mod users;

use crate::db::{args, Arg, Db, Row};
use crate::error::json_error;
use roster_core::app::{
    App, AppSettings, Client, ClientCredentials, NewApp, NewClient, PasswordConfiguration, Tenant,
};
use roster_core::secret::SecretHash;
use roster_core::signing_key::SigningKeyRecord;
use roster_core::time::now_ms;
use roster_core::{AppId, ClientId, Error, StoreError, TenantId};

const DEFAULT_SLUG: &str = "default";
const MANAGEMENT_APP_NAME: &str = "Management";
const APP_COLUMNS: &str =
    "tenant_id, app_id, name, is_management, settings, password_config, created_at, updated_at";
const CLIENT_COLUMNS: &str =
    "tenant_id, app_id, client_id, name, description, redirect_uris, resources, created_at, updated_at";
const KEY_COLUMNS: &str = "kid, purpose, algorithm, private_key, public_key, created_at";

/// Runs a `DELETE` that must remove something: `NotFound` when it removed nothing.
pub(crate) async fn delete_some(
    db: &mut Db<'_>,
    sql: &str,
    args: &[Arg<'_>],
) -> Result<(), StoreError> {
    match db.execute(sql, args).await? {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(json_error)
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(json_error)
}

fn tenant_from_row(row: &Row) -> Result<Tenant, StoreError> {
    Ok(Tenant {
        tenant_id: TenantId::from_string(row.text("tenant_id")?),
        name: row.text("name")?,
        created_at: row.int("created_at")?,
    })
}

fn app_from_row(row: &Row) -> Result<App, StoreError> {
    Ok(App {
        tenant_id: TenantId::from_string(row.text("tenant_id")?),
        app_id: AppId::from_string(row.text("app_id")?),
        name: row.text("name")?,
        is_management: row.bool("is_management")?,
        settings: from_json::<AppSettings>(&row.text("settings")?)?,
        password_config: from_json::<PasswordConfiguration>(&row.text("password_config")?)?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

fn client_from_row(row: &Row) -> Result<Client, StoreError> {
    Ok(Client {
        tenant_id: TenantId::from_string(row.text("tenant_id")?),
        app_id: AppId::from_string(row.text("app_id")?),
        client_id: ClientId::from_string(row.text("client_id")?),
        name: row.text("name")?,
        description: row.opt_text("description")?,
        redirect_uris: from_json(&row.text("redirect_uris")?)?,
        resources: from_json(&row.text("resources")?)?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

fn key_from_row(row: &Row) -> Result<SigningKeyRecord, StoreError> {
    Ok(SigningKeyRecord {
        kid: row.text("kid")?,
        purpose: row.text("purpose")?,
        algorithm: row.text("algorithm")?,
        private_key: row.text("private_key")?,
        public_key: row.text("public_key")?,
        created_at: row.int("created_at")?,
    })
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
async fn insert_app(db: &mut Db<'_>, app: &App, or_nothing: bool) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO apps (tenant_id, app_id, name, is_management, settings, password_config, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8){}",
        if or_nothing { " ON CONFLICT DO NOTHING" } else { "" }
    );
    let (settings, password_config) = (to_json(&app.settings)?, to_json(&app.password_config)?);
    db.execute(
        &sql,
        args![
            app.tenant_id.as_str(),
            app.app_id.as_str(),
            &app.name,
            app.is_management,
            &settings,
            &password_config,
            app.created_at,
            app.updated_at
        ],
    )
    .await?;
    Ok(())
}

async fn insert_client_row(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app_id: &AppId,
    client_id: &ClientId,
    input: &NewClient,
    secret: &SecretHash,
    now: i64,
) -> Result<Client, StoreError> {
    let (uris, resources) = (to_json(&input.redirect_uris)?, to_json(&input.resources)?);
    db.execute(
        "INSERT INTO clients (client_id, tenant_id, app_id, name, description, redirect_uris, resources, secret_hash, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        args![
            client_id.as_str(),
            tenant.as_str(),
            app_id.as_str(),
            &input.name,
            &input.description,
            &uris,
            &resources,
            secret.as_str(),
            now
        ],
    )
    .await?;
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

pub(crate) async fn ping(db: &mut Db<'_>) -> Result<(), StoreError> {
    db.query("SELECT 1 AS one", &[]).await.map(|_| ())
}

pub(crate) async fn create_tenant(
    db: &mut Db<'_>,
    name: &str,
    slug: Option<&str>,
) -> Result<Tenant, StoreError> {
    let tenant = Tenant {
        tenant_id: TenantId::generate(),
        name: name.to_owned(),
        created_at: now_ms(),
    };
    db.execute(
        "INSERT INTO tenants (tenant_id, name, slug, created_at) VALUES ($1, $2, $3, $4)",
        args![
            tenant.tenant_id.as_str(),
            &tenant.name,
            slug,
            tenant.created_at
        ],
    )
    .await?;
    Ok(tenant)
}

pub(crate) async fn get_tenant(db: &mut Db<'_>, tenant: &TenantId) -> Result<Tenant, StoreError> {
    let row = db
        .query_one(
            "SELECT tenant_id, name, created_at FROM tenants WHERE tenant_id = $1",
            args![tenant.as_str()],
        )
        .await?;
    tenant_from_row(&row)
}

pub(crate) async fn ensure_default_tenant(db: &mut Db<'_>) -> Result<Tenant, StoreError> {
    db.execute(
        "INSERT INTO tenants (tenant_id, name, slug, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING",
        args![
            TenantId::generate().as_str(),
            "Default",
            DEFAULT_SLUG,
            now_ms()
        ],
    )
    .await?;
    let row = db
        .query_one(
            "SELECT tenant_id, name, created_at FROM tenants WHERE slug = $1",
            args![DEFAULT_SLUG],
        )
        .await?;
    tenant_from_row(&row)
}

/// In a transaction: `None` when the default tenant already existed.
pub(crate) async fn create_default_tenant_with_client(
    db: &mut Db<'_>,
    client_id: &ClientId,
    secret: &SecretHash,
) -> Result<Option<(Tenant, App)>, StoreError> {
    let now = now_ms();
    let tenant = Tenant {
        tenant_id: TenantId::generate(),
        name: "Default".into(),
        created_at: now,
    };
    let inserted = db
        .execute(
            "INSERT INTO tenants (tenant_id, name, slug, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
            args![tenant.tenant_id.as_str(), &tenant.name, DEFAULT_SLUG, now],
        )
        .await?;
    if inserted == 0 {
        return Ok(None);
    }
    let app = management_app(&tenant.tenant_id, now);
    insert_app(db, &app, false).await?;
    insert_client_row(
        db,
        &tenant.tenant_id,
        &app.app_id,
        client_id,
        &management_client(),
        secret,
        now,
    )
    .await?;
    Ok(Some((tenant, app)))
}

pub(crate) async fn client_credentials(
    db: &mut Db<'_>,
    client_id: &str,
) -> Result<Option<ClientCredentials>, StoreError> {
    let row = db
        .query_opt(
            "SELECT c.tenant_id, c.app_id, c.client_id, c.secret_hash, c.resources, a.name AS app_name, a.is_management \
             FROM clients c JOIN apps a ON a.tenant_id = c.tenant_id AND a.app_id = c.app_id \
             WHERE c.client_id = $1",
            args![client_id],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(ClientCredentials {
        tenant_id: TenantId::from_string(row.text("tenant_id")?),
        app_id: AppId::from_string(row.text("app_id")?),
        app_name: row.text("app_name")?,
        is_management: row.bool("is_management")?,
        client_id: ClientId::from_string(row.text("client_id")?),
        secret_hash: SecretHash::from_stored(row.text("secret_hash")?),
        resources: from_json(&row.text("resources")?)?,
    }))
}

pub(crate) async fn ensure_signing_key(
    db: &mut Db<'_>,
    candidate: &SigningKeyRecord,
) -> Result<SigningKeyRecord, StoreError> {
    db.execute(
        "INSERT INTO signing_keys (kid, purpose, algorithm, private_key, public_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        args![
            &candidate.kid,
            &candidate.purpose,
            &candidate.algorithm,
            &candidate.private_key,
            &candidate.public_key,
            candidate.created_at
        ],
    )
    .await?;
    let sql = format!("SELECT {KEY_COLUMNS} FROM signing_keys WHERE purpose = $1");
    key_from_row(&db.query_one(&sql, args![&candidate.purpose]).await?)
}

pub(crate) async fn signing_keys(db: &mut Db<'_>) -> Result<Vec<SigningKeyRecord>, StoreError> {
    let sql = format!("SELECT {KEY_COLUMNS} FROM signing_keys ORDER BY created_at");
    db.query(&sql, &[])
        .await?
        .iter()
        .map(key_from_row)
        .collect()
}

/// In a transaction.
pub(crate) async fn create_app(
    db: &mut Db<'_>,
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
    insert_app(db, &app, false).await?;
    let client = match first_client {
        Some((input, secret)) => Some(
            insert_client_row(
                db,
                tenant,
                &app.app_id,
                &ClientId::generate(),
                input,
                secret,
                now,
            )
            .await?,
        ),
        None => None,
    };
    Ok((app, client))
}

pub(crate) async fn list_apps(db: &mut Db<'_>, tenant: &TenantId) -> Result<Vec<App>, StoreError> {
    let sql =
        format!("SELECT {APP_COLUMNS} FROM apps WHERE tenant_id = $1 ORDER BY created_at, app_id");
    db.query(&sql, args![tenant.as_str()])
        .await?
        .iter()
        .map(app_from_row)
        .collect()
}

pub(crate) async fn get_app(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app_id: &AppId,
) -> Result<App, StoreError> {
    let sql = format!("SELECT {APP_COLUMNS} FROM apps WHERE tenant_id = $1 AND app_id = $2");
    app_from_row(
        &db.query_one(&sql, args![tenant.as_str(), app_id.as_str()])
            .await?,
    )
}

/// In a transaction: reads the app locked, applies `change`, writes it back.
pub(crate) async fn update_app<F>(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app_id: &AppId,
    change: F,
) -> Result<App, Error>
where
    F: FnOnce(&mut App) -> Result<(), Error> + Send,
{
    let sql = format!(
        "SELECT {APP_COLUMNS} FROM apps WHERE tenant_id = $1 AND app_id = $2{}",
        db.dialect().for_update()
    );
    let mut app = app_from_row(
        &db.query_one(&sql, args![tenant.as_str(), app_id.as_str()])
            .await?,
    )?;
    change(&mut app)?;
    app.updated_at = now_ms();
    let (settings, password_config) = (to_json(&app.settings)?, to_json(&app.password_config)?);
    db.execute(
        "UPDATE apps SET name = $3, settings = $4, password_config = $5, updated_at = $6 \
         WHERE tenant_id = $1 AND app_id = $2",
        args![
            tenant.as_str(),
            app_id.as_str(),
            &app.name,
            &settings,
            &password_config,
            app.updated_at
        ],
    )
    .await?;
    Ok(app)
}

pub(crate) async fn delete_app(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app_id: &AppId,
) -> Result<(), StoreError> {
    delete_some(
        db,
        "DELETE FROM apps WHERE tenant_id = $1 AND app_id = $2",
        args![tenant.as_str(), app_id.as_str()],
    )
    .await
}

pub(crate) async fn ensure_management_app(
    db: &mut Db<'_>,
    tenant: &TenantId,
) -> Result<App, StoreError> {
    insert_app(db, &management_app(tenant, now_ms()), true).await?;
    let sql = format!("SELECT {APP_COLUMNS} FROM apps WHERE tenant_id = $1 AND is_management");
    match db.query_opt(&sql, args![tenant.as_str()]).await? {
        Some(row) => app_from_row(&row),
        None => Err(StoreError::Conflict(format!(
            "an app named {MANAGEMENT_APP_NAME} exists and is not the management app"
        ))),
    }
}

async fn require_app(db: &mut Db<'_>, tenant: &TenantId, app_id: &AppId) -> Result<(), StoreError> {
    db.query_one(
        "SELECT app_id FROM apps WHERE tenant_id = $1 AND app_id = $2",
        args![tenant.as_str(), app_id.as_str()],
    )
    .await?;
    Ok(())
}

/// In a transaction; `NotFound` when the app is not in the tenant.
pub(crate) async fn insert_client(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app_id: &AppId,
    client_id: &ClientId,
    input: &NewClient,
    secret: &SecretHash,
) -> Result<Client, StoreError> {
    require_app(db, tenant, app_id).await?;
    insert_client_row(db, tenant, app_id, client_id, input, secret, now_ms()).await
}

/// In a transaction.
pub(crate) async fn put_client(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app_id: &AppId,
    client_id: &ClientId,
    input: &NewClient,
    secret: &SecretHash,
) -> Result<Client, StoreError> {
    require_app(db, tenant, app_id).await?;
    let (uris, resources) = (to_json(&input.redirect_uris)?, to_json(&input.resources)?);
    let written = db
        .execute(
            "INSERT INTO clients (client_id, tenant_id, app_id, name, description, redirect_uris, resources, secret_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
             ON CONFLICT (client_id) DO UPDATE SET secret_hash = excluded.secret_hash, updated_at = excluded.updated_at \
             WHERE clients.tenant_id = excluded.tenant_id AND clients.app_id = excluded.app_id",
            args![
                client_id.as_str(),
                tenant.as_str(),
                app_id.as_str(),
                &input.name,
                &input.description,
                &uris,
                &resources,
                secret.as_str(),
                now_ms()
            ],
        )
        .await?;
    if written == 0 {
        return Err(StoreError::Conflict("client_id".into()));
    }
    get_client(db, tenant, app_id, client_id).await
}

pub(crate) async fn list_clients(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app_id: &AppId,
) -> Result<Vec<Client>, StoreError> {
    let sql = format!(
        "SELECT {CLIENT_COLUMNS} FROM clients WHERE tenant_id = $1 AND app_id = $2 ORDER BY created_at, client_id"
    );
    db.query(&sql, args![tenant.as_str(), app_id.as_str()])
        .await?
        .iter()
        .map(client_from_row)
        .collect()
}

pub(crate) async fn get_client(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app_id: &AppId,
    client_id: &ClientId,
) -> Result<Client, StoreError> {
    let sql = format!(
        "SELECT {CLIENT_COLUMNS} FROM clients WHERE tenant_id = $1 AND app_id = $2 AND client_id = $3"
    );
    let row = db
        .query_one(
            &sql,
            args![tenant.as_str(), app_id.as_str(), client_id.as_str()],
        )
        .await?;
    client_from_row(&row)
}

pub(crate) async fn delete_client(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app_id: &AppId,
    client_id: &ClientId,
) -> Result<(), StoreError> {
    delete_some(
        db,
        "DELETE FROM clients WHERE tenant_id = $1 AND app_id = $2 AND client_id = $3",
        args![tenant.as_str(), app_id.as_str(), client_id.as_str()],
    )
    .await
}
