//! `roster admin ...`: bootstrap credentials and tenants, from the command line.

use crate::bootstrap::{self, Credentials};
use crate::cli::{AdminCommand, TenantCommand};
use crate::config::Config;
use crate::serve;
use anyhow::bail;

pub async fn run(command: AdminCommand, config: &Config) -> anyhow::Result<()> {
    let store = serve::open_store(config).await?;
    let done = match command {
        AdminCommand::Bootstrap { json } => {
            let creds = match &config.bootstrap {
                Some(given) => bootstrap::ensure_configured(&store, given).await?,
                None => bootstrap::new_management_client(&store).await?,
            };
            print_credentials(&creds, json)
        }
        AdminCommand::Tenant(TenantCommand::Create { name, json }) => {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
                bail!("--name must be 1 to 128 characters, without control characters");
            }
            let taken = store.list_tenants().await?.iter().any(|t| t.name == name);
            if taken {
                bail!("a tenant named {name:?} exists already");
            }
            let creds = bootstrap::new_tenant(&store, name).await?;
            print_credentials(&creds, json)
        }
        AdminCommand::Tenant(TenantCommand::List { json }) => {
            let tenants = store.list_tenants().await?;
            if json {
                let list: Vec<_> = tenants
                    .iter()
                    .map(|t| serde_json::json!({"tenant_id": t.tenant_id, "name": t.name, "created_at": t.created_at}))
                    .collect();
                println!("{}", serde_json::to_string(&list)?);
            } else {
                for t in &tenants {
                    println!("{}  {}", t.tenant_id, t.name);
                }
            }
            Ok(())
        }
    };
    store.close().await;
    done
}

/// Credentials go to stdout, never to the log.
fn print_credentials(creds: &Credentials, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(creds)?);
    } else {
        println!(
            "tenant_id:     {}\napp_id:        {}\nclient_id:     {}\nclient_secret: {}",
            creds.tenant_id, creds.app_id, creds.client_id, creds.client_secret
        );
    }
    Ok(())
}
