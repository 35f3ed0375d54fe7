//! Bootstrap: the default tenant, its management app, and a management client.

use crate::config::BootstrapCredentials;
use roster_core::app::{NewClient, Tenant};
use roster_core::secret::ClientSecret;
use roster_core::{ClientId, StoreError};
use roster_store::Store;
use secrecy::ExposeSecret;
use serde::Serialize;

/// Management credentials, as `roster admin bootstrap --json` prints them.
#[derive(Clone, Serialize)]
pub struct Credentials {
    pub tenant_id: String,
    pub app_id: String,
    pub client_id: String,
    pub client_secret: String,
}

fn client_input(description: &str) -> NewClient {
    NewClient {
        name: "Management client".into(),
        description: Some(description.into()),
        redirect_uris: Vec::new(),
        resources: Vec::new(),
    }
}

/// Ensures a management client with exactly these credentials (idempotent).
pub async fn ensure_configured(
    store: &Store,
    creds: &BootstrapCredentials,
) -> Result<Credentials, StoreError> {
    let tenant = store.ensure_default_tenant().await?;
    let scoped = store.tenant(&tenant.tenant_id);
    let app = scoped.ensure_management_app().await?;
    let secret = ClientSecret::from_string(creds.client_secret.expose_secret().to_owned());
    scoped
        .put_client(
            &app.app_id,
            &ClientId::from_string(creds.client_id.clone()),
            &client_input("From ROSTER_BOOTSTRAP_CLIENT_ID"),
            &secret.hash(),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Other(
                "ROSTER_BOOTSTRAP_CLIENT_ID is already the id of a client of another app".into(),
            ),
            e => e,
        })?;
    Ok(Credentials {
        tenant_id: tenant.tenant_id.into_string(),
        app_id: app.app_id.into_string(),
        client_id: creds.client_id.clone(),
        client_secret: secret.expose().to_owned(),
    })
}

/// At startup without configured credentials: on a database with no default tenant,
/// creates it with a generated management client and returns those credentials once.
pub async fn first_start(store: &Store) -> Result<Option<Credentials>, StoreError> {
    let client_id = ClientId::generate();
    let secret = ClientSecret::generate();
    let created = store
        .create_default_tenant_with_client(&client_id, &secret.hash())
        .await?;
    Ok(created.map(|(tenant, app)| Credentials {
        tenant_id: tenant.tenant_id.into_string(),
        app_id: app.app_id.into_string(),
        client_id: client_id.into_string(),
        client_secret: secret.expose().to_owned(),
    }))
}

/// `roster admin bootstrap` without configured credentials: a new management client
/// (secrets are stored hashed, so an existing one cannot be shown again).
pub async fn new_management_client(store: &Store) -> Result<Credentials, StoreError> {
    let tenant = store.ensure_default_tenant().await?;
    management_client(store, tenant, "From roster admin bootstrap").await
}

/// A new tenant with its management app and one management client (`roster admin tenant
/// create`); the secret is returned once.
pub async fn new_tenant(store: &Store, name: &str) -> Result<Credentials, StoreError> {
    let tenant = store.create_tenant(name).await?;
    management_client(store, tenant, "From roster admin tenant create").await
}

/// A new client of the tenant's management app (made if missing).
async fn management_client(
    store: &Store,
    tenant: Tenant,
    description: &str,
) -> Result<Credentials, StoreError> {
    let scoped = store.tenant(&tenant.tenant_id);
    let app = scoped.ensure_management_app().await?;
    let secret = ClientSecret::generate();
    let client = scoped
        .create_client(&app.app_id, &client_input(description), &secret.hash())
        .await?;
    Ok(Credentials {
        tenant_id: tenant.tenant_id.into_string(),
        app_id: app.app_id.into_string(),
        client_id: client.client_id.into_string(),
        client_secret: secret.expose().to_owned(),
    })
}

/// The one-time notice on stderr. Deliberately not a log line: logs never carry secrets.
pub fn print_generated(creds: &Credentials) {
    eprintln!(
        "\nroster: created the default tenant and its management client.\n\
         Save the secret now; it is not shown again.\n  \
         tenant_id:     {}\n  client_id:     {}\n  client_secret: {}\n",
        creds.tenant_id, creds.client_id, creds.client_secret
    );
}
