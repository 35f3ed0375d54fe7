//! Updates: checked first (every problem found, each naming its field), then merged into
//! the stored user as `DECISIONS.md` says.

use super::input::{
    add_secondary_emails, add_secondary_phones, address, birthday, check_size, check_total, merge,
    name, object, opt_ident, opt_text, secondary_emails, secondary_phones, Problems, ID_MAX,
    LANGUAGE_MAX, PICTURE_MAX,
};
use super::{
    Address, Contact, Email, Membership, Name, PhoneNumber, UpdateUserInput, User, UserStatus,
};
use crate::Error;
use serde_json::{Map, Value};

/// An update whose every field was checked: what [`Checked::apply_to`] writes.
struct Checked {
    email: Option<Email>,
    phone: Option<PhoneNumber>,
    sec_emails: Option<Vec<Email>>,
    sec_phones: Option<Vec<PhoneNumber>>,
    birthday: Option<String>,
    name: Option<Name>,
    address: Option<Address>,
    status: Option<UserStatus>,
    external_user_id: Option<String>,
    picture: Option<String>,
    language: Option<String>,
    custom_data: Option<Map<String, Value>>,
    username: Option<String>,
    external_account_id: Option<String>,
    custom_app_data: Option<Map<String, Value>>,
}

impl UpdateUserInput {
    /// Applies the update: absent fields stay, objects are replaced whole, custom data is
    /// shallow-merged, secondary contacts are added. App-level fields need a membership.
    pub fn apply(
        self,
        user: &mut User,
        membership: Option<&mut Membership>,
        now: i64,
    ) -> Result<(), Error> {
        self.check(membership.is_some(), now)?
            .apply_to(user, membership, now)
    }

    fn check(self, has_membership: bool, now: i64) -> Result<Checked, Error> {
        let mut p = Problems::default();
        let email = self.email.and_then(|v| p.take(Email::parse("email", &v)));
        let phone = self
            .phone_number
            .and_then(|v| p.take(PhoneNumber::parse("phone_number", &v)));
        let sec_emails = self.secondary_emails.map(|v| secondary_emails(&mut p, v));
        let sec_phones = self
            .secondary_phone_numbers
            .map(|v| secondary_phones(&mut p, v));
        let birthday = self.birthday.and_then(|v| p.take(birthday(&v)));
        let name = self.name.map(|n| name(&mut p, n));
        let address = self.address.map(|a| address(&mut p, a, now));
        let status = self.status.and_then(|s| {
            p.take(
                UserStatus::parse(&s)
                    .ok_or_else(|| "status must be one of Active, Disabled, Pending".to_owned()),
            )
        });
        let external_user_id = opt_ident(&mut p, "external_user_id", self.external_user_id, ID_MAX);
        let picture = opt_text(&mut p, "picture", self.picture, PICTURE_MAX);
        let language = opt_text(&mut p, "language", self.language, LANGUAGE_MAX);
        let custom_data = self
            .custom_data
            .and_then(|v| p.take(object("custom_data", v)));
        let username = opt_ident(&mut p, "username", self.username, ID_MAX);
        let external_account_id = opt_ident(
            &mut p,
            "external_account_id",
            self.external_account_id,
            ID_MAX,
        );
        let custom_app_data = self
            .custom_app_data
            .and_then(|v| p.take(object("custom_app_data", v)));
        let wants_app =
            username.is_some() || external_account_id.is_some() || custom_app_data.is_some();
        if wants_app && !has_membership {
            p.push(
                "username, external_account_id and custom_app_data are app-level: the user must belong to the caller's app (admin tokens: pass app_id)"
                    .into(),
            );
        }
        p.finish()?;
        Ok(Checked {
            email,
            phone,
            sec_emails,
            sec_phones,
            birthday,
            name,
            address,
            status,
            external_user_id,
            picture,
            language,
            custom_data,
            username,
            external_account_id,
            custom_app_data,
        })
    }
}

impl Checked {
    fn apply_to(
        self,
        user: &mut User,
        membership: Option<&mut Membership>,
        now: i64,
    ) -> Result<(), Error> {
        if let Some(v) = self.email {
            let key = v.key();
            if user.email.as_ref().map(|e| e.value.key()) != Some(key.clone()) {
                user.profile
                    .secondary_emails
                    .retain(|e| e.value.key() != key);
                user.email = Some(Contact::unverified(v));
            }
        }
        if let Some(v) = self.phone {
            if user.phone_number.as_ref().map(|e| &e.value) != Some(&v) {
                user.profile
                    .secondary_phone_numbers
                    .retain(|e| e.value != v);
                user.phone_number = Some(Contact::unverified(v));
            }
        }
        let mut p = Problems::default();
        if let Some(v) = self.sec_emails {
            let before = user.profile.secondary_emails.len();
            add_secondary_emails(user, v);
            let after = user.profile.secondary_emails.len();
            p.take(check_total("secondary_emails", before, after));
        }
        if let Some(v) = self.sec_phones {
            let before = user.profile.secondary_phone_numbers.len();
            add_secondary_phones(user, v);
            let after = user.profile.secondary_phone_numbers.len();
            p.take(check_total("secondary_phone_numbers", before, after));
        }
        if let Some(v) = self.birthday {
            user.birthday = Some(v);
        }
        if let Some(v) = self.name {
            user.profile.name = Some(v);
        }
        if let Some(v) = self.address {
            user.profile.address = Some(v);
        }
        if let Some(v) = self.status {
            if v != user.status {
                user.status = v;
                user.status_changed_at = now;
            }
        }
        if let Some(v) = self.external_user_id {
            user.external_user_id = Some(v);
        }
        if let Some(v) = self.picture {
            user.profile.picture = Some(v);
        }
        if let Some(v) = self.language {
            user.profile.language = Some(v);
        }
        if let Some(patch) = self.custom_data {
            merge(&mut user.custom_data, patch);
            p.take(check_size("custom_data", &user.custom_data));
        }
        if let Some(m) = membership {
            if let Some(v) = self.username {
                m.username = Some(v);
            }
            if let Some(v) = self.external_account_id {
                m.external_account_id = Some(v);
            }
            if let Some(patch) = self.custom_app_data {
                merge(&mut m.custom_app_data, patch);
                p.take(check_size("custom_app_data", &m.custom_app_data));
            }
            m.updated_at = now;
        }
        user.updated_at = now;
        p.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::super::create::fixtures::user;
    use super::super::{UpdateUserInput, UserStatus};
    use crate::Error;
    use serde_json::json;

    #[test]
    fn secondaries_may_not_grow_past_fifty_but_a_user_past_it_can_still_be_updated() {
        let emails = |range: std::ops::Range<usize>| {
            let list: Vec<String> = range.map(|i| format!("s{i}@example.com")).collect();
            serde_json::from_value::<UpdateUserInput>(json!({ "secondary_emails": list })).unwrap()
        };
        let mut u = user();
        u.profile.secondary_emails.clear();
        emails(0..50).apply(&mut u, None, 2_000).unwrap();
        assert_eq!(u.profile.secondary_emails.len(), 50);
        assert!(matches!(
            emails(50..51).apply(&mut u.clone(), None, 2_000),
            Err(Error::Invalid(m)) if m[0].starts_with("secondary_emails: a user has at most 50")
        ));
        // Past the cap by a verify: resending entries it has is not an addition.
        u.profile.secondary_emails.push(super::Contact::unverified(
            super::Email::parse("x", "old@example.com").unwrap(),
        ));
        emails(0..3).apply(&mut u, None, 3_000).unwrap();
        assert_eq!(u.profile.secondary_emails.len(), 51);
    }

    #[test]
    fn update_merges() {
        let mut u = user();
        let input: UpdateUserInput = serde_json::from_value(json!({
            "custom_data": {"drop": null, "new": true},
            "secondary_emails": ["c@example.com", "A@example.com"],
            "email": "new@example.com",
            "status": "Disabled",
            "name": {"last_name": "Doe"},
        }))
        .unwrap();
        input.apply(&mut u, None, 2_000).unwrap();
        assert_eq!(
            u.custom_data,
            json!({"keep": 1, "new": true}).as_object().unwrap().clone()
        );
        assert_eq!(u.email.as_ref().unwrap().value.as_str(), "new@example.com");
        assert!(!u.email.as_ref().unwrap().verified);
        let sec: Vec<_> = u
            .profile
            .secondary_emails
            .iter()
            .map(|e| e.value.as_str())
            .collect();
        assert_eq!(sec, vec!["b@example.com", "c@example.com", "A@example.com"]);
        assert_eq!(u.status, UserStatus::Disabled);
        assert_eq!(u.status_changed_at, 2_000);
        assert_eq!(u.updated_at, 2_000);
    }

    #[test]
    fn app_level_update_needs_a_membership() {
        let mut u = user();
        let input: UpdateUserInput = serde_json::from_value(json!({"username": "jo"})).unwrap();
        assert!(matches!(
            input.apply(&mut u, None, 2),
            Err(Error::Invalid(_))
        ));
    }
}
