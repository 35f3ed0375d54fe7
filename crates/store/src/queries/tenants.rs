//! Tenants: the unit of isolation, and the default tenant bootstrap makes.

use super::apps::{insert_app, management_app};
use super::clients::{insert_client_row, management_client};
use crate::db::{args, Db, Row};
use roster_core::app::{App, Tenant};
use roster_core::secret::SecretHash;
use roster_core::time::now_ms;
use roster_core::{ClientId, StoreError, TenantId};

const DEFAULT_SLUG: &str = "default";

fn tenant_from_row(row: &Row) -> Result<Tenant, StoreError> {
    Ok(Tenant {
        tenant_id: TenantId::from_string(row.text("public_id")?),
        name: row.text("name")?,
        created_at: row.int("created_at")?,
    })
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
        "INSERT INTO tenants (tenant_id, public_id, name, slug, created_at) \
         VALUES ($1, $1, $2, $3, $4)",
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
            "SELECT public_id, name, created_at FROM tenants \
             WHERE public_id = $1 AND retired_at IS NULL",
            args![tenant.as_str()],
        )
        .await?;
    tenant_from_row(&row)
}

/// Every tenant of the installation, oldest first.
pub(crate) async fn list_tenants(db: &mut Db<'_>) -> Result<Vec<Tenant>, StoreError> {
    db.query(
        "SELECT public_id, name, created_at FROM tenants WHERE retired_at IS NULL \
         ORDER BY created_at, public_id",
        &[],
    )
    .await?
    .iter()
    .map(tenant_from_row)
    .collect()
}

/// A live tenant's public id and the key its rows are stored under.
pub(crate) struct Located {
    pub(crate) public: TenantId,
    pub(crate) key: TenantId,
}

/// The tenant a seed names: `Default` is the first start's tenant (found by its slug),
/// any other name is matched exactly (the oldest, should two share it).
pub(crate) async fn find_by_name(
    db: &mut Db<'_>,
    name: &str,
) -> Result<Option<Located>, StoreError> {
    let row = if name == "Default" {
        let sql = "SELECT public_id, tenant_id FROM tenants WHERE slug = $1";
        db.query_opt(sql, args![DEFAULT_SLUG]).await?
    } else {
        let sql = "SELECT public_id, tenant_id FROM tenants \
                   WHERE name = $1 AND retired_at IS NULL ORDER BY created_at LIMIT 1";
        db.query_opt(sql, args![name]).await?
    };
    row.map(|r| {
        Ok(Located {
            public: TenantId::from_string(r.text("public_id")?),
            key: TenantId::from_string(r.text("tenant_id")?),
        })
    })
    .transpose()
}

/// The live tenants whose rows are stored under another key than their public id (those
/// reset since they were made).
pub(crate) async fn moved(db: &mut Db<'_>) -> Result<Vec<Located>, StoreError> {
    db.query(
        "SELECT public_id, tenant_id FROM tenants \
         WHERE retired_at IS NULL AND public_id <> tenant_id",
        &[],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Located {
            public: TenantId::from_string(r.text("public_id")?),
            key: TenantId::from_string(r.text("tenant_id")?),
        })
    })
    .collect()
}

pub(crate) async fn ensure_default_tenant(db: &mut Db<'_>) -> Result<Tenant, StoreError> {
    db.execute(
        "INSERT INTO tenants (tenant_id, public_id, name, slug, created_at) \
         VALUES ($1, $1, $2, $3, $4) ON CONFLICT DO NOTHING",
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
            "SELECT public_id, name, created_at FROM tenants WHERE slug = $1",
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
            "INSERT INTO tenants (tenant_id, public_id, name, slug, created_at) \
             VALUES ($1, $1, $2, $3, $4) ON CONFLICT DO NOTHING",
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
