//! Permissions: a closed set with the string forms Transmit prints in its reference.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    Users,
    Groups,
    Authenticators,
    Devices,
    Apps,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Read,
    Create,
    Edit,
    Delete,
    List,
}

impl Resource {
    pub const ALL: [Resource; 5] = [
        Resource::Users,
        Resource::Groups,
        Resource::Authenticators,
        Resource::Devices,
        Resource::Apps,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Users => "users",
            Resource::Groups => "groups",
            Resource::Authenticators => "authenticators",
            Resource::Devices => "devices",
            Resource::Apps => "apps",
        }
    }
    fn index(self) -> u32 {
        self as u32
    }
}

impl Action {
    pub const ALL: [Action; 5] = [
        Action::Read,
        Action::Create,
        Action::Edit,
        Action::Delete,
        Action::List,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Create => "create",
            Action::Edit => "edit",
            Action::Delete => "delete",
            Action::List => "list",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
    fn index(self) -> u32 {
        self as u32
    }
}

/// One permission. `OwnApp` is Transmit's `[appId]:<action>`: the action on the caller's own app.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    Global(Resource, Action),
    OwnApp(Action),
}

impl Permission {
    fn bit(self) -> u32 {
        match self {
            Permission::Global(r, a) => 1 << (r.index() * 5 + a.index()),
            Permission::OwnApp(a) => 1 << (25 + a.index()),
        }
    }

    /// The string form carried in tokens; `OwnApp` is spelled with the app id.
    pub fn to_claim(self, app_id: &str) -> String {
        match self {
            Permission::Global(r, a) => format!("{}:{}", r.as_str(), a.as_str()),
            Permission::OwnApp(a) => format!("{app_id}:{}", a.as_str()),
        }
    }

    /// Parses a claim string; `<app_id>:<action>` is `OwnApp` only for the token's own app.
    pub fn from_claim(s: &str, app_id: &str) -> Option<Self> {
        let (left, action) = s.rsplit_once(':')?;
        let action = Action::parse(action)?;
        if let Some(r) = Resource::ALL.into_iter().find(|r| r.as_str() == left) {
            return Some(Permission::Global(r, action));
        }
        (left == app_id).then_some(Permission::OwnApp(action))
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Permission::Global(r, a) => write!(f, "{}:{}", r.as_str(), a.as_str()),
            Permission::OwnApp(a) => write!(f, "[appId]:{}", a.as_str()),
        }
    }
}

/// A set of permissions as a bit set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PermissionSet(u32);

impl PermissionSet {
    pub const fn empty() -> Self {
        Self(0)
    }

    pub fn insert(&mut self, p: Permission) {
        self.0 |= p.bit();
    }

    pub fn contains(&self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    pub fn contains_any(&self, ps: &[Permission]) -> bool {
        ps.iter().any(|p| self.contains(*p))
    }

    pub fn iter(&self) -> impl Iterator<Item = Permission> + '_ {
        let global = Resource::ALL.into_iter().flat_map(|r| {
            Action::ALL
                .into_iter()
                .map(move |a| Permission::Global(r, a))
        });
        let own = Action::ALL.into_iter().map(Permission::OwnApp);
        global.chain(own).filter(|p| self.contains(*p))
    }

    /// A client of an ordinary app with no roles: its app's full permissions (as on Transmit),
    /// which do not include managing applications.
    pub fn app_client_default() -> Self {
        let mut set = Self::empty();
        for r in Resource::ALL.into_iter().filter(|r| *r != Resource::Apps) {
            for a in Action::ALL {
                set.insert(Permission::Global(r, a));
            }
        }
        for a in Action::ALL {
            set.insert(Permission::OwnApp(a));
        }
        set
    }

    /// A client of the management app: everything in the tenant.
    pub fn admin() -> Self {
        let mut set = Self::app_client_default();
        for a in Action::ALL {
            set.insert(Permission::Global(Resource::Apps, a));
        }
        set
    }

    pub fn to_claims(&self, app_id: &str) -> Vec<String> {
        self.iter().map(|p| p.to_claim(app_id)).collect()
    }

    /// Unknown strings are ignored: a token can only lose permissions by them.
    pub fn from_claims<S: AsRef<str>>(claims: &[S], app_id: &str) -> Self {
        let mut set = Self::empty();
        for c in claims {
            if let Some(p) = Permission::from_claim(c.as_ref(), app_id) {
                set.insert(p);
            }
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_round_trip() {
        let set = PermissionSet::admin();
        let claims = set.to_claims("app1");
        assert!(claims.contains(&"users:read".to_string()));
        assert!(claims.contains(&"apps:delete".to_string()));
        assert!(claims.contains(&"app1:edit".to_string()));
        assert_eq!(PermissionSet::from_claims(&claims, "app1"), set);
    }

    #[test]
    fn own_app_claim_of_another_app_is_ignored() {
        let set = PermissionSet::from_claims(&["other:read", "bogus", "users:fly"], "app1");
        assert_eq!(set, PermissionSet::empty());
    }

    #[test]
    fn app_client_cannot_manage_apps() {
        let set = PermissionSet::app_client_default();
        assert!(!set.contains(Permission::Global(Resource::Apps, Action::Create)));
        assert!(set.contains(Permission::Global(Resource::Users, Action::Create)));
        assert!(set.contains(Permission::OwnApp(Action::Create)));
    }
}
