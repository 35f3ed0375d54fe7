//! A seed file checked into what the store applies: every entry validated as the API
//! would validate it, identities across apps resolved, group members found.

use super::{AppEntry, ClientEntry, GroupEntry, SeedError, SeedFile, TenantEntry};
use crate::app::{AppSettings, NewApp, NewClient, PasswordConfiguration};
use crate::group::{GroupChange, GroupInput};
use crate::password::{check, Credentials, PasswordHash, PolicyInput};
use crate::secret::SecretHash;
use crate::user::input::text;
use crate::user::{CreateUserInput, NewUser};
use crate::{ClientId, Error};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

pub const SECRET_MIN: usize = 16;
const SECRET_MAX: usize = 1024;
const CLIENT_ID_MAX: usize = 128;
const TENANT_NAME_MAX: usize = 128;

/// The fields of a `POST /v1/users` body a seed may carry (`ApiCreateUserInput`, without
/// `delegated_access`, whose actor is a user id a seed cannot know).
const USER_FIELDS: &[&str] = &[
    "email",
    "phone_number",
    "username",
    "secondary_emails",
    "secondary_phone_numbers",
    "birthday",
    "address",
    "name",
    "external_account_id",
    "custom_app_data",
    "picture",
    "language",
    "custom_data",
    "external_user_id",
    "credentials",
];

#[derive(Debug)]
pub struct SeedPlan {
    pub tenants: Vec<TenantPlan>,
}

#[derive(Debug)]
pub struct TenantPlan {
    pub path: String,
    pub name: String,
    pub management_clients: Vec<ClientPlan>,
    pub apps: Vec<AppPlan>,
    pub groups: Vec<GroupPlan>,
}

#[derive(Debug)]
pub struct ClientPlan {
    pub path: String,
    pub client_id: ClientId,
    pub secret: SecretHash,
    pub input: NewClient,
}

#[derive(Debug)]
pub struct AppPlan {
    pub path: String,
    pub input: NewApp,
    pub clients: Vec<ClientPlan>,
    pub users: Vec<UserPlan>,
}

#[derive(Debug)]
pub struct UserPlan {
    pub path: String,
    /// The create; once applied, `new.user.user_id` is the stored user's id, so that a
    /// reset brings the user back under the same id.
    pub new: NewUser,
    /// An earlier entry of the same person in another app (`apps` index, `users` index):
    /// this entry links the user and brings only app-level data.
    pub same_as: Option<(usize, usize)>,
    /// The password as given, until [`UserPlan::password`] holds its hash.
    pub credentials: Option<Credentials>,
    pub password: Option<PlannedPassword>,
}

/// A seeded password, hashed before the transaction (hashing is slow and blocking).
#[derive(Clone, Debug)]
pub struct PlannedPassword {
    pub hash: PasswordHash,
    pub temporary: bool,
}

#[derive(Debug)]
pub struct GroupPlan {
    pub path: String,
    pub name: String,
    pub description: Option<String>,
    pub custom_data: serde_json::Map<String, Value>,
    /// Seeded users (`apps` index, `users` index of the entry that owns the person).
    pub members: Vec<(usize, usize)>,
}

/// The first problem of `e` (messages name their field).
fn first(path: &str, e: Error) -> SeedError {
    let message = match e {
        Error::Invalid(mut all) if !all.is_empty() => all.swap_remove(0),
        e => e.to_string(),
    };
    SeedError::new(path, message)
}

impl SeedFile {
    /// Checks every entry; the first problem is the error.
    pub fn plan(self, now: i64) -> Result<SeedPlan, SeedError> {
        let mut names = HashSet::new();
        let mut client_ids = HashSet::new();
        let mut tenants = Vec::new();
        for (t, entry) in self.tenants.into_iter().enumerate() {
            let path = format!("tenants[{t}]");
            text("name", &entry.name, TENANT_NAME_MAX).map_err(|m| SeedError::new(&path, m))?;
            if !names.insert(entry.name.clone()) {
                return Err(SeedError::new(
                    format!("{path}.name"),
                    "names a tenant declared earlier in the file",
                ));
            }
            tenants.push(tenant(path, entry, now, &mut client_ids)?);
        }
        Ok(SeedPlan { tenants })
    }
}

fn tenant(
    path: String,
    entry: TenantEntry,
    now: i64,
    client_ids: &mut HashSet<String>,
) -> Result<TenantPlan, SeedError> {
    let management_clients = clients(
        &path,
        "management_clients",
        entry.management_clients,
        client_ids,
    )?;
    let mut app_names = HashSet::new();
    let mut apps = Vec::new();
    for (a, app_entry) in entry.apps.into_iter().enumerate() {
        let apath = format!("{path}.apps[{a}]");
        if !app_names.insert(app_entry.app_name.clone()) {
            return Err(SeedError::new(
                format!("{apath}.app_name"),
                "names an app declared earlier in this tenant",
            ));
        }
        apps.push(app(apath, app_entry, now, client_ids)?);
    }
    let people = People::link(&mut apps)?;
    let groups = entry
        .groups
        .into_iter()
        .enumerate()
        .map(|(g, group_entry)| group(format!("{path}.groups[{g}]"), group_entry, &people))
        .collect::<Result<Vec<_>, _>>()?;
    let mut group_names = HashSet::new();
    for g in &groups {
        if !group_names.insert(g.name.clone()) {
            return Err(SeedError::new(
                format!("{}.name", g.path),
                "names a group declared earlier in this tenant",
            ));
        }
    }
    Ok(TenantPlan {
        path,
        name: entry.name,
        management_clients,
        apps,
        groups,
    })
}

fn clients(
    parent: &str,
    key: &str,
    entries: Vec<ClientEntry>,
    client_ids: &mut HashSet<String>,
) -> Result<Vec<ClientPlan>, SeedError> {
    let mut out = Vec::new();
    for (i, c) in entries.into_iter().enumerate() {
        let path = format!("{parent}.{key}[{i}]");
        let id_ok = !c.client_id.is_empty()
            && c.client_id.len() <= CLIENT_ID_MAX
            && c.client_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._~-".contains(&b));
        if !id_ok {
            return Err(SeedError::new(
                format!("{path}.client_id"),
                format!("must be 1 to {CLIENT_ID_MAX} characters of A-Z, a-z, 0-9, '.', '_', '~' and '-'"),
            ));
        }
        if !client_ids.insert(c.client_id.clone()) {
            return Err(SeedError::new(
                format!("{path}.client_id"),
                "is declared earlier in the file (client ids are unique in the installation)",
            ));
        }
        let length = c.client_secret.chars().count();
        if length < SECRET_MIN {
            return Err(SeedError::new(
                format!("{path}.client_secret"),
                format!("must be at least {SECRET_MIN} characters"),
            ));
        }
        if length > SECRET_MAX {
            return Err(SeedError::new(
                format!("{path}.client_secret"),
                format!("must be at most {SECRET_MAX} characters"),
            ));
        }
        let input = NewClient {
            name: c.name.unwrap_or_else(|| "Seeded client".into()),
            description: None,
            redirect_uris: Vec::new(),
            resources: Vec::new(),
        };
        input.validate().map_err(|e| first(&path, e))?;
        out.push(ClientPlan {
            path,
            client_id: ClientId::from_string(c.client_id),
            secret: SecretHash::of(&c.client_secret),
            input,
        });
    }
    Ok(out)
}

fn app(
    path: String,
    entry: AppEntry,
    now: i64,
    client_ids: &mut HashSet<String>,
) -> Result<AppPlan, SeedError> {
    let input = NewApp {
        name: entry.app_name,
        is_management: false,
        settings: AppSettings {
            description: entry.app_description,
            created_by: Some("seed".into()),
            ..AppSettings::default()
        },
        password_config: entry.password_configuration.unwrap_or_default(),
    };
    input.validate().map_err(|e| first(&path, e))?;
    let clients = clients(&path, "clients", entry.clients, client_ids)?;
    let users = entry
        .users
        .into_iter()
        .enumerate()
        .map(|(u, body)| {
            user(
                format!("{path}.users[{u}]"),
                body,
                now,
                &input.password_config,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AppPlan {
        path,
        input,
        clients,
        users,
    })
}

fn user(
    path: String,
    body: Value,
    now: i64,
    policy: &PasswordConfiguration,
) -> Result<UserPlan, SeedError> {
    let Value::Object(fields) = &body else {
        return Err(SeedError::new(
            path,
            "must be an object (a POST /v1/users body)",
        ));
    };
    if let Some(key) = fields.keys().find(|k| !USER_FIELDS.contains(&k.as_str())) {
        let message = if key == "delegated_access" {
            "is not supported in seed files"
        } else {
            "is not a field of a POST /v1/users body"
        };
        return Err(SeedError::new(format!("{path}.{key}"), message));
    }
    let input: CreateUserInput = serde_path_to_error::deserialize(body)
        .map_err(|e| SeedError::new(format!("{path}.{}", e.path()), e.into_inner().to_string()))?;
    let mut new = input.validate(now).map_err(|e| first(&path, e))?;
    let credentials = new.credentials.take();
    if let Some(c) = &credentials {
        check(&PolicyInput {
            password: &c.password,
            policy,
            enforce_complexity: true,
            username: new.username.as_deref(),
            email: new.user.email.as_ref().map(|e| &e.value),
        })
        .map_err(|v| SeedError::new(format!("{path}.credentials.password"), v.message()))?;
    }
    Ok(UserPlan {
        path,
        new,
        same_as: None,
        credentials,
        password: None,
    })
}

/// The seeded people of one tenant, by each identifier that finds them.
#[derive(Default)]
struct People {
    /// `kind:value` to the owning entry.
    by_key: HashMap<String, (usize, usize)>,
}

impl People {
    /// Tenant-level keys (email, phone, external id) find one person across apps; app-level
    /// ones (username, external account id) must be unique within their app.
    fn link(apps: &mut [AppPlan]) -> Result<Self, SeedError> {
        let mut people = People::default();
        for (a, app) in apps.iter_mut().enumerate() {
            let mut in_app: HashMap<String, usize> = HashMap::new();
            for u in 0..app.users.len() {
                let plan = &app.users[u];
                let (tenant_keys, app_keys) = keys(&plan.new);
                for (field, key) in tenant_keys.iter().chain(&app_keys) {
                    if let Some(earlier) = in_app.insert(key.clone(), u) {
                        return Err(SeedError::new(
                            format!("{}.{field}", plan.path),
                            format!("is also given by users[{earlier}] of this app"),
                        ));
                    }
                }
                let mut owners: Vec<(usize, usize)> = tenant_keys
                    .iter()
                    .filter_map(|(_, k)| people.by_key.get(k).copied())
                    .collect();
                owners.dedup();
                if owners.len() > 1 {
                    return Err(SeedError::new(
                        plan.path.clone(),
                        "its email, phone_number and external_user_id belong to different seeded users",
                    ));
                }
                let owner = owners.first().copied().unwrap_or((a, u));
                for (_, k) in tenant_keys.into_iter().chain(app_keys) {
                    people.by_key.entry(k).or_insert(owner);
                }
                if owner != (a, u) {
                    app.users[u].same_as = Some(owner);
                }
            }
        }
        Ok(people)
    }

    fn find(&self, reference: &str) -> Option<(usize, usize)> {
        let lower = reference.to_lowercase();
        [
            format!("email:{lower}"),
            format!("phone:{reference}"),
            format!("external:{reference}"),
            format!("username:{lower}"),
        ]
        .iter()
        .find_map(|k| self.by_key.get(k).copied())
    }
}

/// A field name and the key its value is found by.
type Key = (&'static str, String);

/// A create's tenant-level and app-level keys, each with its field name.
fn keys(new: &NewUser) -> (Vec<Key>, Vec<Key>) {
    let u = &new.user;
    let mut tenant = Vec::new();
    if let Some(e) = &u.email {
        tenant.push(("email", format!("email:{}", e.value.key().as_str())));
    }
    if let Some(p) = &u.phone_number {
        tenant.push(("phone_number", format!("phone:{}", p.value.as_str())));
    }
    if let Some(x) = &u.external_user_id {
        tenant.push(("external_user_id", format!("external:{x}")));
    }
    let mut app = Vec::new();
    if let Some(n) = &new.username {
        app.push(("username", format!("username:{}", n.to_lowercase())));
    }
    if let Some(x) = &new.external_account_id {
        app.push(("external_account_id", format!("account:{x}")));
    }
    (tenant, app)
}

fn group(path: String, entry: GroupEntry, people: &People) -> Result<GroupPlan, SeedError> {
    let change: GroupChange = GroupInput {
        name: Some(entry.name),
        description: Some(entry.description),
        custom_data: entry.custom_data,
    }
    .for_create()
    .map_err(|e| first(&path, e))?;
    let mut members = Vec::new();
    for (m, reference) in entry.members.iter().enumerate() {
        let Some(owner) = people.find(reference) else {
            return Err(SeedError::new(
                format!("{path}.members[{m}]"),
                "names no seeded user of this tenant (give an email, phone_number, external_user_id or username)",
            ));
        };
        if !members.contains(&owner) {
            members.push(owner);
        }
    }
    Ok(GroupPlan {
        path,
        name: change.name.unwrap_or_default(),
        description: change.description.flatten(),
        custom_data: change.custom_data.unwrap_or_default(),
        members,
    })
}
