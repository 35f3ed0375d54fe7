//! Seed files: read (YAML or JSON), checked, passwords hashed off the executor, applied in
//! one transaction. Every problem is one line naming the file, the entry and the field.

use roster_api::hasher::Hasher;
use roster_core::seed::{ApplyError, PlannedPassword, SeedFile, SeedPlan, UserPlan};
use roster_core::time::now_ms;
use roster_core::user::{Lookup, Scope};
use roster_core::TenantId;
use roster_store::Store;
use std::fmt;
use std::path::Path;

/// A seed that cannot be applied, as one line (`seed.yaml: tenants[0].name: ...`); the
/// process exits 2 with it.
#[derive(Debug)]
pub struct Invalid(pub String);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads and checks the file; nothing touches the database.
pub fn load(path: &Path) -> Result<SeedPlan, Invalid> {
    let name = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Invalid(format!("{name}: cannot read: {}", one_line(&e.to_string()))))?;
    let file: SeedFile = if text.trim().is_empty() {
        SeedFile::default()
    } else if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        // The JSON parser is several times faster on a large seed.
        let de = &mut serde_json::Deserializer::from_str(&text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let at = e.path().to_string();
            Invalid(format!(
                "{name}: {at}: {}",
                one_line(&e.into_inner().to_string())
            ))
        })?
    } else {
        // YAML is a superset of JSON: this reads both. Its errors name the entry path, the
        // line and the column.
        yaml_serde::from_str(&text)
            .map_err(|e| Invalid(format!("{name}: {}", one_line(&e.to_string()))))?
    };
    file.plan(now_ms())
        .map_err(|e| Invalid(format!("{name}: {}", one_line(&e.to_string()))))
}

/// `roster seed FILE`: applies the file to the configured database and exits.
pub async fn run(path: &Path, config: &crate::config::Config) -> anyhow::Result<()> {
    let mut plan = load(path)?;
    let store = crate::serve::open_store(config).await?;
    let hasher = Hasher::new(config.password_hashing)
        .map_err(|e| anyhow::anyhow!("password hashing: {e}"))?;
    let applied = apply(&store, &hasher, path, &mut plan).await;
    store.close().await;
    let tenants = applied?.len();
    eprintln!(
        "roster: seed {} applied ({tenants} tenants)",
        path.display()
    );
    Ok(())
}

/// Hashes the plan's passwords, keeping a stored hash the seeded password still matches
/// (so a second start writes nothing), then applies the plan.
pub async fn apply(
    store: &Store,
    hasher: &Hasher,
    path: &Path,
    plan: &mut SeedPlan,
) -> anyhow::Result<Vec<TenantId>> {
    hash_passwords(store, hasher, plan).await?;
    match store.apply_seed(plan).await {
        Ok(ids) => Ok(ids),
        Err(ApplyError::Entry(e)) => {
            Err(Invalid(format!("{}: {}", path.display(), one_line(&e.to_string()))).into())
        }
        Err(ApplyError::Store(e)) => Err(anyhow::anyhow!("cannot apply the seed: {e}")),
    }
}

async fn hash_passwords(store: &Store, hasher: &Hasher, plan: &mut SeedPlan) -> anyhow::Result<()> {
    for t in &mut plan.tenants {
        let tenant = store
            .find_tenant(&t.name)
            .await?
            .map(|id| store.tenant(&id));
        let apps = match &tenant {
            Some(scoped) => scoped.list_apps().await?,
            None => Vec::new(),
        };
        for app in &mut t.apps {
            let stored_app = apps
                .iter()
                .find(|a| !a.is_management && a.name == app.input.name);
            for user in &mut app.users {
                let Some(credentials) = user.credentials.take() else {
                    continue;
                };
                let stored = match (&tenant, stored_app) {
                    (Some(scoped), Some(a)) => stored_hash(scoped, &a.app_id, user).await?,
                    _ => None,
                };
                let kept = match stored {
                    Some(hash) => hasher
                        .matches_any(vec![hash.clone()], credentials.password.clone())
                        .await
                        .then_some(hash),
                    None => None,
                };
                let hash = match kept {
                    Some(hash) => hash,
                    None => hasher
                        .hash(credentials.password)
                        .await
                        .ok_or_else(|| anyhow::anyhow!("could not hash a seeded password"))?,
                };
                user.password = Some(PlannedPassword {
                    hash,
                    temporary: credentials.temporary,
                });
            }
        }
    }
    Ok(())
}

/// The stored password hash of the user an entry names in the app, if there is one.
async fn stored_hash(
    scoped: &roster_store::TenantStore,
    app: &roster_core::AppId,
    user: &UserPlan,
) -> anyhow::Result<Option<roster_core::password::PasswordHash>> {
    let u = &user.new.user;
    let lookups = [
        u.email.as_ref().map(|e| Lookup::Email(e.value.key())),
        u.phone_number
            .as_ref()
            .map(|p| Lookup::Phone(p.value.clone())),
        u.external_user_id.clone().map(Lookup::ExternalUserId),
        user.new
            .username
            .as_ref()
            .map(|n| Lookup::Username(n.to_lowercase())),
    ];
    let scope = Scope::Members(app.clone());
    for lookup in lookups.into_iter().flatten() {
        match scoped.find_user(&scope, &lookup).await {
            Ok(view) => {
                let stored = scoped.password(app, &view.user.user_id).await;
                return Ok(stored.ok().flatten().map(|p| p.hash));
            }
            Err(roster_core::Error::NotFound(_)) => continue,
            Err(e) => return Err(anyhow::anyhow!("cannot read a seeded user: {e}")),
        }
    }
    Ok(None)
}
