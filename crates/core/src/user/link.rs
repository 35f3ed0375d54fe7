//! Create-or-link (`DECISIONS.md`, "Users"): what each create of a batch does, decided from
//! what the store holds of the batch's identifiers. Pure: the store gathers [`Found`],
//! calls [`decide`], and writes what it decided.

use super::{NewUser, UserId};
use crate::UniqueKey;
use std::collections::{HashMap, HashSet};

/// The tenant-level identifiers a create is matched to an existing user by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TenantKey {
    Email,
    PhoneNumber,
    ExternalUserId,
}

impl TenantKey {
    pub const ALL: [TenantKey; 3] = [
        TenantKey::Email,
        TenantKey::PhoneNumber,
        TenantKey::ExternalUserId,
    ];

    fn unique_key(self) -> UniqueKey {
        match self {
            TenantKey::Email => UniqueKey::Email,
            TenantKey::PhoneNumber => UniqueKey::PhoneNumber,
            TenantKey::ExternalUserId => UniqueKey::ExternalUserId,
        }
    }
}

/// One create's identifiers, in the forms they are unique in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The id the user gets if the create makes a new one.
    pub user_id: UserId,
    /// Lower-cased primary email.
    pub email: Option<String>,
    /// E.164 primary phone.
    pub phone_number: Option<String>,
    pub external_user_id: Option<String>,
    /// Lower-cased, per app.
    pub username: Option<String>,
    /// Per app.
    pub external_account_id: Option<String>,
}

impl Claim {
    pub fn of(new: &NewUser) -> Self {
        let u = &new.user;
        Self {
            user_id: u.user_id.clone(),
            email: u.email.as_ref().map(|e| e.value.key().as_str().to_owned()),
            phone_number: u.phone_number.as_ref().map(|p| p.value.as_str().to_owned()),
            external_user_id: u.external_user_id.clone(),
            username: new.username.as_deref().map(str::to_lowercase),
            external_account_id: new.external_account_id.clone(),
        }
    }

    pub fn key(&self, key: TenantKey) -> Option<&str> {
        match key {
            TenantKey::Email => self.email.as_deref(),
            TenantKey::PhoneNumber => self.phone_number.as_deref(),
            TenantKey::ExternalUserId => self.external_user_id.as_deref(),
        }
    }
}

/// What the store holds of a batch's identifiers. More than the batch needs is harmless.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Found {
    /// The tenant user that owns each tenant-level identifier.
    pub owners: HashMap<(TenantKey, String), UserId>,
    /// Which of those owners the calling app already has.
    pub members: HashSet<UserId>,
    /// Usernames (lower-cased) and external account ids the calling app already has.
    pub usernames: HashSet<String>,
    pub accounts: HashSet<String>,
}

/// What one create does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// A new tenant user (and, with an app, its membership).
    Create,
    /// An existing tenant user joins the app.
    Link(UserId),
    /// 409, naming the key.
    Conflict(UniqueKey),
}

/// Decides every create of a batch in order, each seeing what the earlier ones will write,
/// exactly as if they ran one after another. `app`: whether the creates are made for an
/// app (an admin's create without `app_id` is tenant-level and never links).
pub fn decide(claims: &[Claim], app: bool, mut found: Found) -> Vec<Decision> {
    claims
        .iter()
        .map(|claim| {
            let decision = decide_one(claim, app, &found);
            found.record(claim, &decision, app);
            decision
        })
        .collect()
}

fn decide_one(claim: &Claim, app: bool, found: &Found) -> Decision {
    let matched: Vec<(TenantKey, &UserId)> = TenantKey::ALL
        .into_iter()
        .filter_map(|k| Some((k, found.owners.get(&(k, claim.key(k)?.to_owned()))?)))
        .collect();
    let app_level_taken = if claim
        .username
        .as_ref()
        .is_some_and(|n| found.usernames.contains(n))
    {
        Some(UniqueKey::Username)
    } else if claim
        .external_account_id
        .as_ref()
        .is_some_and(|x| found.accounts.contains(x))
    {
        Some(UniqueKey::ExternalAccountId)
    } else {
        None
    };
    let Some(&(first, existing)) = matched.first() else {
        return match app_level_taken {
            Some(key) if app => Decision::Conflict(key),
            _ => Decision::Create,
        };
    };
    if let Some((other, _)) = matched.iter().find(|(_, id)| *id != existing) {
        // The identifiers point to two different users.
        return Decision::Conflict(other.unique_key());
    }
    if !app {
        return Decision::Conflict(first.unique_key());
    }
    if found.members.contains(existing) {
        // The same person again is "already exists"; a request that only shares some
        // identifier with a member names that identifier.
        let same_person = TenantKey::ALL
            .into_iter()
            .all(|k| claim.key(k).is_none() || matched.iter().any(|(m, _)| *m == k));
        return Decision::Conflict(if same_person {
            UniqueKey::User
        } else {
            first.unique_key()
        });
    }
    match app_level_taken {
        Some(key) => Decision::Conflict(key),
        None => Decision::Link(existing.clone()),
    }
}

impl Found {
    /// Takes in what `decision` will write, for the creates after it.
    fn record(&mut self, claim: &Claim, decision: &Decision, app: bool) {
        let member = match decision {
            Decision::Create => {
                for k in TenantKey::ALL {
                    if let Some(v) = claim.key(k) {
                        self.owners.insert((k, v.to_owned()), claim.user_id.clone());
                    }
                }
                claim.user_id.clone()
            }
            Decision::Link(id) => id.clone(),
            Decision::Conflict(_) => return,
        };
        if app {
            self.members.insert(member);
            self.usernames.extend(claim.username.clone());
            self.accounts.extend(claim.external_account_id.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(s: &str) -> UserId {
        UserId::from_string(s)
    }

    #[derive(Default)]
    struct C {
        email: Option<&'static str>,
        phone: Option<&'static str>,
        ext: Option<&'static str>,
        username: Option<&'static str>,
        account: Option<&'static str>,
    }

    fn claim(user: &str, c: C) -> Claim {
        Claim {
            user_id: id(user),
            email: c.email.map(Into::into),
            phone_number: c.phone.map(Into::into),
            external_user_id: c.ext.map(Into::into),
            username: c.username.map(Into::into),
            external_account_id: c.account.map(Into::into),
        }
    }

    /// A tenant with user `a` (email a@x, phone +1) in the app as "ann" / account "acc-a",
    /// and user `b` (email b@x, external id ext-b) outside the app.
    fn tenant() -> Found {
        let mut f = Found::default();
        f.owners.insert((TenantKey::Email, "a@x".into()), id("a"));
        f.owners
            .insert((TenantKey::PhoneNumber, "+1".into()), id("a"));
        f.owners.insert((TenantKey::Email, "b@x".into()), id("b"));
        f.owners
            .insert((TenantKey::ExternalUserId, "ext-b".into()), id("b"));
        f.members.insert(id("a"));
        f.usernames.insert("ann".into());
        f.accounts.insert("acc-a".into());
        f
    }

    fn one(c: C, app: bool) -> Decision {
        decide(&[claim("new", c)], app, tenant())
            .pop()
            .expect("one decision")
    }

    fn taken(key: UniqueKey) -> Decision {
        Decision::Conflict(key)
    }

    #[test]
    #[rustfmt::skip]
    fn each_case_of_one_create() {
        use UniqueKey::*;
        let cases: Vec<(&str, C, bool, Decision)> = vec![
            ("unknown identifiers create", C { email: Some("n@x"), ..C::default() }, true, Decision::Create),
            ("tenant-level create", C { email: Some("n@x"), ..C::default() }, false, Decision::Create),
            ("username only creates", C { username: Some("new"), ..C::default() }, true, Decision::Create),
            ("a user outside the app is linked", C { email: Some("b@x"), ..C::default() }, true, Decision::Link(id("b"))),
            ("linked by every identifier it has", C { email: Some("b@x"), ext: Some("ext-b"), ..C::default() }, true, Decision::Link(id("b"))),
            ("linked with free app-level fields", C { email: Some("b@x"), username: Some("bob"), ..C::default() }, true, Decision::Link(id("b"))),
            ("the same member again", C { email: Some("a@x"), phone: Some("+1"), ..C::default() }, true, taken(User)),
            ("a member matched by email only", C { email: Some("a@x"), ..C::default() }, true, taken(User)),
            ("a member's email with a new phone", C { email: Some("a@x"), phone: Some("+2"), ..C::default() }, true, taken(Email)),
            ("a member's phone with a new email", C { email: Some("n@x"), phone: Some("+1"), ..C::default() }, true, taken(PhoneNumber)),
            ("identifiers of two users", C { email: Some("a@x"), ext: Some("ext-b"), ..C::default() }, true, taken(ExternalUserId)),
            ("tenant-level create never links", C { email: Some("b@x"), ..C::default() }, false, taken(Email)),
            ("tenant-level create of a taken phone", C { phone: Some("+1"), ..C::default() }, false, taken(PhoneNumber)),
            ("a taken username", C { email: Some("n@x"), username: Some("ann"), ..C::default() }, true, taken(Username)),
            ("a taken external account id", C { email: Some("n@x"), account: Some("acc-a"), ..C::default() }, true, taken(ExternalAccountId)),
            ("a link blocked by a taken username", C { email: Some("b@x"), username: Some("ann"), ..C::default() }, true, taken(Username)),
            ("a link blocked by a taken account", C { email: Some("b@x"), account: Some("acc-a"), ..C::default() }, true, taken(ExternalAccountId)),
            ("app-level keys do not matter without an app", C { email: Some("n@x"), username: Some("ann"), ..C::default() }, false, Decision::Create),
        ];
        for (name, c, app, want) in cases {
            assert_eq!(one(c, app), want, "{name}");
        }
    }

    #[test]
    fn later_creates_of_a_batch_see_earlier_ones() {
        let claims = [
            claim(
                "n1",
                C {
                    email: Some("n@x"),
                    username: Some("neo"),
                    ..C::default()
                },
            ),
            // Same email: the user the first create makes, now a member.
            claim(
                "n2",
                C {
                    email: Some("n@x"),
                    ..C::default()
                },
            ),
            claim(
                "n3",
                C {
                    email: Some("m@x"),
                    username: Some("neo"),
                    ..C::default()
                },
            ),
            // A conflict writes nothing: its username stays free.
            claim(
                "n4",
                C {
                    email: Some("a@x"),
                    phone: Some("+9"),
                    username: Some("zed"),
                    ..C::default()
                },
            ),
            claim(
                "n5",
                C {
                    email: Some("z@x"),
                    username: Some("zed"),
                    ..C::default()
                },
            ),
            claim(
                "n6",
                C {
                    email: Some("b@x"),
                    ..C::default()
                },
            ),
            claim(
                "n7",
                C {
                    ext: Some("ext-b"),
                    ..C::default()
                },
            ),
        ];
        let got = decide(&claims, true, tenant());
        assert_eq!(
            got,
            vec![
                Decision::Create,
                Decision::Conflict(UniqueKey::User),
                Decision::Conflict(UniqueKey::Username),
                Decision::Conflict(UniqueKey::Email),
                Decision::Create,
                Decision::Link(id("b")),
                Decision::Conflict(UniqueKey::User),
            ]
        );
    }

    /// A store as the rule sees it: users with their identifiers, and one app's members.
    #[derive(Clone, Debug, Default)]
    struct Model {
        users: Vec<Claim>,
        members: HashMap<UserId, (Option<String>, Option<String>)>,
    }

    impl Model {
        fn found(&self) -> Found {
            let mut f = Found::default();
            for u in &self.users {
                for k in TenantKey::ALL {
                    if let Some(v) = u.key(k) {
                        f.owners.insert((k, v.to_owned()), u.user_id.clone());
                    }
                }
            }
            for (user, (name, account)) in &self.members {
                f.members.insert(user.clone());
                f.usernames.extend(name.clone());
                f.accounts.extend(account.clone());
            }
            f
        }

        fn apply(&mut self, claim: &Claim, decision: &Decision, app: bool) {
            let member = match decision {
                Decision::Create => {
                    self.users.push(claim.clone());
                    claim.user_id.clone()
                }
                Decision::Link(user) => user.clone(),
                Decision::Conflict(_) => return,
            };
            if app {
                let fields = (claim.username.clone(), claim.external_account_id.clone());
                self.members.insert(member, fields);
            }
        }
    }

    fn small(prefix: &'static str) -> impl Strategy<Value = Option<String>> {
        proptest::option::of((0..4u8).prop_map(move |n| format!("{prefix}{n}")))
    }

    fn claims() -> impl Strategy<Value = Vec<Claim>> {
        let one = (small("e"), small("p"), small("x"), small("u"), small("a"));
        proptest::collection::vec(one, 0..12).prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(
                    |(
                        i,
                        (email, phone_number, external_user_id, username, external_account_id),
                    )| Claim {
                        user_id: id(&format!("u{i}")),
                        email,
                        phone_number,
                        external_user_id,
                        username,
                        external_account_id,
                    },
                )
                .collect()
        })
    }

    proptest! {
        /// A batch decides exactly as the same creates made one at a time, each against
        /// the store the earlier ones left.
        #[test]
        fn a_batch_decides_as_creates_made_one_at_a_time(
            existing in claims(),
            batch in claims(),
            app in any::<bool>(),
        ) {
            let mut before = Model::default();
            for (i, mut c) in existing.into_iter().enumerate() {
                c.user_id = id(&format!("old{i}"));
                let d = decide(std::slice::from_ref(&c), app, before.found()).remove(0);
                before.apply(&c, &d, app);
            }
            let batched = decide(&batch, app, before.found());
            let mut model = before;
            let mut one_by_one = Vec::new();
            for c in &batch {
                let d = decide(std::slice::from_ref(c), app, model.found()).remove(0);
                model.apply(c, &d, app);
                one_by_one.push(d);
            }
            prop_assert_eq!(batched, one_by_one);
        }
    }
}
