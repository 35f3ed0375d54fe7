//! Emails and phone numbers: types whose only constructors produce their checked forms,
//! so no caller has to remember to trim, lower-case or normalise to E.164.

use email_address::EmailAddress;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

const EMAIL_MAX: usize = 254;

/// A syntactically valid email, trimmed, kept as given. Stored documents were parsed when
/// written, so deserialising reads them back as they are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

/// The case-insensitive form an email is unique and found by.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailKey(String);

/// A phone number in E.164 form (`+`, country code, digits), of a length that is possible
/// for its country (libphonenumber's "possible", not "valid": test numbers such as
/// `+15550001111` are accepted).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl Email {
    /// Parses user input; the message names `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, String> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(format!("{field} must not be empty"));
        }
        if value.len() > EMAIL_MAX {
            return Err(format!("{field} must be at most {EMAIL_MAX} characters"));
        }
        let parsed = EmailAddress::from_str(value)
            .map_err(|_| format!("{field} must be a valid email address"))?;
        // Require a dotted domain of plain labels, as address validators in front ends do.
        let domain = parsed.domain();
        let plain = domain.contains('.')
            && domain
                .split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'))
            && !value.contains(char::is_whitespace)
            && !parsed.local_part().starts_with('"');
        if !plain {
            return Err(format!("{field} must be a valid email address"));
        }
        Ok(Self(value.to_owned()))
    }

    /// A value the store wrote after parsing it.
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn key(&self) -> EmailKey {
        EmailKey(self.0.to_lowercase())
    }
}

impl EmailKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PhoneNumber {
    /// Parses user input into E.164; the message names `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, String> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(format!("{field} must not be empty"));
        }
        if !value.starts_with('+') {
            return Err(format!(
                "{field} must be in E.164 format, starting with + and the country code"
            ));
        }
        let invalid = || format!("{field} must be a valid phone number in E.164 format");
        let number = phonenumber::parse(None, value).map_err(|_| invalid())?;
        if number.extension().is_some() || !possible(&number) {
            return Err(invalid());
        }
        Ok(Self(
            number.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    /// A value the store wrote after parsing it.
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether the national number's length is one that some kind of number of its country
/// calling code can have (the metadata keeps the lengths per kind). Universal access and
/// voicemail numbers are left out: some are short national forms (Canada's 7-digit UAN
/// numbers) that no subscriber number written in E.164 has.
fn possible(number: &phonenumber::PhoneNumber) -> bool {
    let Ok(length) = u16::try_from(number.national().to_string().len()) else {
        return false;
    };
    let Some(regions) = phonenumber::metadata::DATABASE.by_code(&number.code().value()) else {
        return false;
    };
    regions.iter().any(|meta| {
        let d = meta.descriptors();
        [
            Some(d.general()),
            d.fixed_line(),
            d.mobile(),
            d.toll_free(),
            d.premium_rate(),
            d.shared_cost(),
            d.personal_number(),
            d.voip(),
            d.pager(),
        ]
        .into_iter()
        .flatten()
        .any(|kind| kind.possible_length().contains(&length))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        let e = Email::parse("email", " Jo@Example.com ").unwrap();
        assert_eq!(e.as_str(), "Jo@Example.com");
        assert_eq!(e.key().as_str(), "jo@example.com");
        for bad in [
            "",
            "no-at",
            "a@b",
            "a b@c.com",
            "@c.com",
            "a@.com",
            "a@c..com",
            "\"q\"@c.com",
        ] {
            let err = Email::parse("email", bad).unwrap_err();
            assert!(err.starts_with("email "), "{bad}: {err}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse("email", &long).is_err());
    }

    #[test]
    fn phones_normalise_to_e164() {
        let p = |raw: &str| PhoneNumber::parse("p", raw).map(|n| n.as_str().to_owned());
        assert_eq!(p("+1 (650) 253-0000").unwrap(), "+16502530000");
        assert_eq!(p("+447911123456").unwrap(), "+447911123456");
        for bad in [
            "",
            "2125550123",
            "+1",
            "+999999",
            "+1650253000x",
            "phone",
            "+16502530000123",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fictional_numbers_of_a_possible_length_are_accepted() {
        for (raw, e164) in [
            ("+15550001111", "+15550001111"),
            ("+1 555 010 9999", "+15550109999"),
            ("+447700900123", "+447700900123"),
        ] {
            assert_eq!(PhoneNumber::parse("p", raw).unwrap().as_str(), e164);
        }
        // Too short and too long for the country.
        for bad in ["+1555000111", "+155500011112", "+4477009", "+1 555 0100"] {
            assert!(PhoneNumber::parse("p", bad).is_err(), "{bad}");
        }
    }
}
