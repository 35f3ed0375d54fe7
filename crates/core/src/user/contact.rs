//! Emails and phone numbers: the only ways to build the stored forms.

use email_address::EmailAddress;
use std::str::FromStr;

const EMAIL_MAX: usize = 254;

/// A syntactically valid email, trimmed; the message names `field`.
pub fn parse_email(field: &str, raw: &str) -> Result<String, String> {
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
    Ok(value.to_owned())
}

/// The case-insensitive key emails are unique and found by.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A valid phone number in E.164 form (`+` and digits); the message names `field`.
pub fn parse_phone(field: &str, raw: &str) -> Result<String, String> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(format!("{field} must not be empty"));
    }
    if !value.starts_with('+') {
        return Err(format!(
            "{field} must be in E.164 format, starting with + and the country code"
        ));
    }
    let number = phonenumber::parse(None, value)
        .map_err(|_| format!("{field} must be a valid phone number in E.164 format"))?;
    if !phonenumber::is_valid(&number) {
        return Err(format!(
            "{field} must be a valid phone number in E.164 format"
        ));
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            parse_email("email", " Jo@Example.com ").unwrap(),
            "Jo@Example.com"
        );
        assert_eq!(email_key("Jo@Example.COM"), "jo@example.com");
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
            let err = parse_email("email", bad).unwrap_err();
            assert!(err.starts_with("email "), "{bad}: {err}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(parse_email("email", &long).is_err());
    }

    #[test]
    fn phones_normalise_to_e164() {
        assert_eq!(
            parse_phone("p", "+1 (650) 253-0000").unwrap(),
            "+16502530000"
        );
        assert_eq!(parse_phone("p", "+447911123456").unwrap(), "+447911123456");
        for bad in ["", "2125550123", "+1", "+999999", "+1650253000x", "phone"] {
            assert!(parse_phone("p", bad).is_err(), "{bad}");
        }
    }
}
