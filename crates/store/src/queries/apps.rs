//! Applications of a tenant.

use super::clients::insert_client_row;
use super::common::{delete_some, from_json, to_json};
use crate::db::{args, Db, Row};
use roster_core::app::{App, AppSettings, Client, NewApp, NewClient, PasswordConfiguration};
use roster_core::secret::SecretHash;
use roster_core::time::now_ms;
use roster_core::{AppId, ClientId, Error, StoreError, TenantId, UniqueKey};

const MANAGEMENT_APP_NAME: &str = "Management";
const APP_COLUMNS: &str =
    "tenant_id, app_id, name, is_management, settings, password_config, created_at, updated_at";

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

pub(crate) fn management_app(tenant: &TenantId, now: i64) -> App {
    App {
        tenant_id: tenant.clone(),
        app_id: AppId::generate(),
        name: MANAGEMENT_APP_NAME.into(),
        is_management: true,
        settings: AppSettings {
            description: Some("Manages the tenant: admin tokens".into()),
            created_by: Some("roster".into()),
            ..AppSettings::default()
        },
        password_config: PasswordConfiguration::default(),
        created_at: now,
        updated_at: now,
    }
}

/// Inserts an app; `or_nothing` makes a conflicting insert a no-op instead of an error.
pub(crate) async fn insert_app(
    db: &mut Db<'_>,
    app: &App,
    or_nothing: bool,
) -> Result<(), StoreError> {
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
        // An ordinary app holds the management app's name.
        None => Err(StoreError::Conflict(UniqueKey::AppName)),
    }
}
