//! OAuth clients of an app, and the token endpoint's lookup of one.

use super::common::{delete_some, from_json, to_json};
use crate::db::{args, Db, Row};
use roster_core::app::{Client, ClientCredentials, NewClient};
use roster_core::secret::SecretHash;
use roster_core::time::now_ms;
use roster_core::{AppId, ClientId, StoreError, TenantId, UniqueKey};

const CLIENT_COLUMNS: &str =
    "tenant_id, app_id, client_id, name, description, redirect_uris, resources, created_at, updated_at";

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

pub(crate) fn management_client() -> NewClient {
    NewClient {
        name: "Management client".into(),
        description: Some("Created by bootstrap".into()),
        redirect_uris: Vec::new(),
        resources: Vec::new(),
    }
}

const INSERT_CLIENT: &str = "INSERT INTO clients (client_id, tenant_id, app_id, name, description, \
     redirect_uris, resources, secret_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)";

/// Inserts the client row; with `then`, an `ON CONFLICT` clause appended to the statement.
/// The number of rows written.
async fn write_client_row(
    db: &mut Db<'_>,
    (tenant, app_id, client_id): (&TenantId, &AppId, &ClientId),
    input: &NewClient,
    secret: &SecretHash,
    now: i64,
    then: &str,
) -> Result<u64, StoreError> {
    let (uris, resources) = (to_json(&input.redirect_uris)?, to_json(&input.resources)?);
    db.execute(
        &format!("{INSERT_CLIENT}{then}"),
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
    .await
}

pub(crate) async fn insert_client_row(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app_id: &AppId,
    client_id: &ClientId,
    input: &NewClient,
    secret: &SecretHash,
    now: i64,
) -> Result<Client, StoreError> {
    write_client_row(db, (tenant, app_id, client_id), input, secret, now, "").await?;
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
    // An existing client of this app gets the new secret and name, and is not written when
    // it has them already; one of another app or tenant is left alone.
    let then = " ON CONFLICT (client_id) DO UPDATE SET secret_hash = excluded.secret_hash, \
                name = excluded.name, updated_at = excluded.updated_at \
                WHERE clients.tenant_id = excluded.tenant_id AND clients.app_id = excluded.app_id \
                AND (clients.secret_hash <> excluded.secret_hash OR clients.name <> excluded.name)";
    let key = (tenant, app_id, client_id);
    write_client_row(db, key, input, secret, now_ms(), then).await?;
    match get_client(db, tenant, app_id, client_id).await {
        Err(StoreError::NotFound) => Err(StoreError::Conflict(UniqueKey::ClientId)),
        found => found,
    }
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

pub(crate) async fn client_credentials(
    db: &mut Db<'_>,
    client_id: &str,
) -> Result<Option<ClientCredentials>, StoreError> {
    let row = db
        .query_opt(
            "SELECT t.public_id, c.app_id, c.client_id, c.secret_hash, c.resources, a.name AS app_name, a.is_management \
             FROM clients c JOIN apps a ON a.tenant_id = c.tenant_id AND a.app_id = c.app_id \
             JOIN tenants t ON t.tenant_id = c.tenant_id AND t.retired_at IS NULL \
             WHERE c.client_id = $1",
            args![client_id],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(ClientCredentials {
        tenant_id: TenantId::from_string(row.text("public_id")?),
        app_id: AppId::from_string(row.text("app_id")?),
        app_name: row.text("app_name")?,
        is_management: row.bool("is_management")?,
        client_id: ClientId::from_string(row.text("client_id")?),
        secret_hash: SecretHash::from_stored(row.text("secret_hash")?),
        resources: from_json(&row.text("resources")?)?,
    }))
}

/// In a transaction: reads the client, applies `change`, writes its settings back.
pub(crate) async fn update_client<F>(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app_id: &AppId,
    client_id: &ClientId,
    change: F,
) -> Result<Client, roster_core::Error>
where
    F: FnOnce(&mut NewClient) -> Result<(), roster_core::Error> + Send,
{
    let client = get_client(db, tenant, app_id, client_id).await?;
    let mut input = NewClient {
        name: client.name,
        description: client.description,
        redirect_uris: client.redirect_uris,
        resources: client.resources,
    };
    change(&mut input)?;
    let (uris, resources) = (to_json(&input.redirect_uris)?, to_json(&input.resources)?);
    db.execute(
        "UPDATE clients SET name = $4, description = $5, redirect_uris = $6, resources = $7, \
         updated_at = $8 WHERE tenant_id = $1 AND app_id = $2 AND client_id = $3",
        args![
            tenant.as_str(),
            app_id.as_str(),
            client_id.as_str(),
            &input.name,
            &input.description,
            &uris,
            &resources,
            now_ms()
        ],
    )
    .await?;
    Ok(get_client(db, tenant, app_id, client_id).await?)
}

/// Deletes every client of the app; the number deleted.
pub(crate) async fn delete_clients(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app_id: &AppId,
) -> Result<u64, StoreError> {
    db.execute(
        "DELETE FROM clients WHERE tenant_id = $1 AND app_id = $2",
        args![tenant.as_str(), app_id.as_str()],
    )
    .await
}
