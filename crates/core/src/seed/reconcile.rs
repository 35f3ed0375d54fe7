//! Bringing a stored user to what its seed entry says, touching nothing else: the status,
//! sign-ins, identities and verification of unchanged contacts stay as they are.

use crate::user::{Contact, Membership, NewUser, User};

/// A contact list as `wanted` gives it, each value keeping its stored verification.
fn contacts<T: Clone + PartialEq>(stored: &[Contact<T>], wanted: &[Contact<T>]) -> Vec<Contact<T>> {
    wanted
        .iter()
        .map(|w| {
            stored
                .iter()
                .find(|s| s.value == w.value)
                .cloned()
                .unwrap_or_else(|| Contact::unverified(w.value.clone()))
        })
        .collect()
}

fn contact<T: Clone + PartialEq>(
    stored: &Option<Contact<T>>,
    wanted: &Option<Contact<T>>,
) -> Option<Contact<T>> {
    match (stored, wanted) {
        (Some(s), Some(w)) if s.value == w.value => Some(s.clone()),
        (_, w) => w.as_ref().map(|w| Contact::unverified(w.value.clone())),
    }
}

/// Tenant-level fields (only for the entry that owns the person); `true` when it changed
/// anything, and then `updated_at` is `now`.
pub fn tenant_level(seed: &NewUser, user: &mut User, now: i64) -> bool {
    let before = user.clone();
    let w = &seed.user;
    user.email = contact(&user.email, &w.email);
    user.phone_number = contact(&user.phone_number, &w.phone_number);
    user.external_user_id.clone_from(&w.external_user_id);
    user.birthday.clone_from(&w.birthday);
    let p = &mut user.profile;
    p.secondary_emails = contacts(&p.secondary_emails, &w.profile.secondary_emails);
    p.secondary_phone_numbers = contacts(
        &p.secondary_phone_numbers,
        &w.profile.secondary_phone_numbers,
    );
    p.name.clone_from(&w.profile.name);
    // An address carries the time it was set: an equal one keeps its stored time.
    let same_address = match (&p.address, &w.profile.address) {
        (Some(s), Some(a)) => {
            let mut a = a.clone();
            a.updated_at = s.updated_at;
            *s == a
        }
        (None, None) => true,
        _ => false,
    };
    if !same_address {
        p.address = w.profile.address.clone().map(|mut a| {
            a.updated_at = now;
            a
        });
    }
    p.picture.clone_from(&w.profile.picture);
    p.language.clone_from(&w.profile.language);
    user.custom_data.clone_from(&w.custom_data);
    let changed = *user != before;
    if changed {
        user.updated_at = now;
    }
    changed
}

/// App-level fields; `true` when it changed anything.
pub fn app_level(seed: &NewUser, m: &mut Membership, now: i64) -> bool {
    let before = m.clone();
    m.username.clone_from(&seed.username);
    m.external_account_id.clone_from(&seed.external_account_id);
    m.custom_app_data.clone_from(&seed.custom_app_data);
    let changed = *m != before;
    if changed {
        m.updated_at = now;
    }
    changed
}
