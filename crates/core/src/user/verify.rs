//! Verifying and removing a user's emails and phone numbers.

use super::{Contact, EmailKey, PhoneNumber, User};
use crate::Error;

impl User {
    /// Marks a primary or secondary email verified; with `to_primary`, a secondary one
    /// becomes the primary and the old primary a secondary (keeping its state).
    pub fn verify_email(
        &mut self,
        key: &EmailKey,
        to_primary: bool,
        now: i64,
    ) -> Result<(), Error> {
        if let Some(primary) = self.email.as_mut().filter(|e| e.value.key() == *key) {
            mark(primary, now);
            self.updated_at = now;
            return Ok(());
        }
        let index = self
            .profile
            .secondary_emails
            .iter()
            .position(|e| e.value.key() == *key)
            .ok_or_else(|| Error::NotFound("Email not found for this user".into()))?;
        mark(&mut self.profile.secondary_emails[index], now);
        if to_primary {
            let promoted = self.profile.secondary_emails.remove(index);
            if let Some(old) = self.email.replace(promoted) {
                self.profile.secondary_emails.push(old);
            }
        }
        self.updated_at = now;
        Ok(())
    }

    pub fn verify_phone(
        &mut self,
        phone: &PhoneNumber,
        to_primary: bool,
        now: i64,
    ) -> Result<(), Error> {
        if let Some(primary) = self.phone_number.as_mut().filter(|e| e.value == *phone) {
            mark(primary, now);
            self.updated_at = now;
            return Ok(());
        }
        let index = self
            .profile
            .secondary_phone_numbers
            .iter()
            .position(|e| e.value == *phone)
            .ok_or_else(|| Error::NotFound("Phone number not found for this user".into()))?;
        mark(&mut self.profile.secondary_phone_numbers[index], now);
        if to_primary {
            let promoted = self.profile.secondary_phone_numbers.remove(index);
            if let Some(old) = self.phone_number.replace(promoted) {
                self.profile.secondary_phone_numbers.push(old);
            }
        }
        self.updated_at = now;
        Ok(())
    }

    pub fn remove_secondary_email(&mut self, key: &EmailKey, now: i64) -> Result<(), Error> {
        if self.email.as_ref().is_some_and(|e| e.value.key() == *key) {
            return Err(Error::invalid(
                "email is the primary email: only secondary emails can be removed",
            ));
        }
        let before = self.profile.secondary_emails.len();
        self.profile
            .secondary_emails
            .retain(|e| e.value.key() != *key);
        if self.profile.secondary_emails.len() == before {
            return Err(Error::NotFound("Email not found for this user".into()));
        }
        self.updated_at = now;
        Ok(())
    }

    pub fn remove_secondary_phone(&mut self, phone: &PhoneNumber, now: i64) -> Result<(), Error> {
        if self
            .phone_number
            .as_ref()
            .is_some_and(|e| e.value == *phone)
        {
            return Err(Error::invalid(
                "phone_number is the primary phone number: only secondary numbers can be removed",
            ));
        }
        let before = self.profile.secondary_phone_numbers.len();
        self.profile
            .secondary_phone_numbers
            .retain(|e| e.value != *phone);
        if self.profile.secondary_phone_numbers.len() == before {
            return Err(Error::NotFound(
                "Phone number not found for this user".into(),
            ));
        }
        self.updated_at = now;
        Ok(())
    }
}

fn mark<T>(contact: &mut Contact<T>, now: i64) {
    if !contact.verified {
        contact.verified = true;
        contact.verified_at = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::super::create::fixtures::user;
    use super::super::{Email, EmailKey};
    use crate::Error;

    fn key(email: &str) -> EmailKey {
        Email::parse("email", email).unwrap().key()
    }

    #[test]
    fn verify_and_promote() {
        let mut u = user();
        u.verify_email(&key("b@example.com"), true, 5).unwrap();
        assert_eq!(u.email.as_ref().unwrap().value.as_str(), "b@example.com");
        assert!(u.email.as_ref().unwrap().verified);
        assert_eq!(
            u.profile.secondary_emails[0].value.as_str(),
            "a@example.com"
        );
        assert!(!u.profile.secondary_emails[0].verified);
        assert!(matches!(
            u.verify_email(&key("zz@example.com"), false, 5),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            u.remove_secondary_email(&key("b@example.com"), 6),
            Err(Error::Invalid(_))
        ));
        u.remove_secondary_email(&key("a@example.com"), 6).unwrap();
        assert!(u.profile.secondary_emails.is_empty());
    }
}
