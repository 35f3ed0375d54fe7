//! An app's password policy (`PasswordConfiguration`, `DECISIONS.md`): minimum length,
//! complexity levels 1-5, and the common-password check.

use super::Password;
use crate::app::PasswordConfiguration;
use crate::user::Email;

/// What a new password is checked against.
pub struct PolicyInput<'a> {
    pub password: &'a Password,
    pub policy: &'a PasswordConfiguration,
    /// `false` (`enforce_complexity`) skips the complexity and dictionary checks, never the
    /// minimum length.
    pub enforce_complexity: bool,
    /// The login name the password goes with, and the user's email: level 5 keeps both
    /// out of the password.
    pub username: Option<&'a str>,
    pub email: Option<&'a Email>,
}

/// Why a password is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// `auth_password_weak`, with the rule it breaks.
    Weak(String),
    /// `auth_password_breached`: a commonly used password.
    Breached,
}

impl Violation {
    pub fn code(&self) -> &'static str {
        match self {
            Violation::Weak(_) => "auth_password_weak",
            Violation::Breached => "auth_password_breached",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Violation::Weak(rule) => format!("password is too weak: {rule}"),
            Violation::Breached => {
                "password is too common: it appears in lists of leaked passwords".into()
            }
        }
    }
}

/// Identifiers shorter than this are not looked for inside the password: almost every
/// password would contain a one- or two-letter name.
const IDENTIFIER_MIN: usize = 3;

/// Longest password taken: Argon2 hashes any length, but its cost grows with it.
pub const PASSWORD_MAX: usize = 1024;

pub fn check(input: &PolicyInput<'_>) -> Result<(), Violation> {
    let password = input.password.expose();
    let min = input.policy.password_min_length.max(1) as usize;
    let length = password.chars().count();
    if length < min {
        return Err(Violation::Weak(format!(
            "it must be at least {min} characters long"
        )));
    }
    if length > PASSWORD_MAX {
        return Err(Violation::Weak(format!(
            "it must be at most {PASSWORD_MAX} characters long"
        )));
    }
    if !input.enforce_complexity {
        return Ok(());
    }
    complexity(password, input)?;
    if input.policy.check_dictionary && common(password) {
        return Err(Violation::Breached);
    }
    Ok(())
}

fn complexity(password: &str, input: &PolicyInput<'_>) -> Result<(), Violation> {
    let level = input.policy.password_complexity.clamp(1, 5);
    let classes = [
        password.chars().any(char::is_lowercase),
        password.chars().any(char::is_uppercase),
        password.chars().any(|c| c.is_numeric()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    let have = classes.iter().filter(|c| **c).count();
    let need = match level {
        1 => 1,
        2 => 2,
        3 => 3,
        _ => 4,
    };
    if have < need {
        let which = if need == 4 {
            "all four of".to_owned()
        } else {
            format!("at least {need} of")
        };
        return Err(Violation::Weak(format!(
            "it must contain {which}: lower-case letters, upper-case letters, digits, symbols"
        )));
    }
    if level == 5 {
        let lower = password.to_lowercase();
        let local_part = input
            .email
            .and_then(|e| e.as_str().split('@').next().map(str::to_owned));
        for (what, identifier) in [
            ("username", input.username.map(str::to_owned)),
            ("email", local_part),
        ] {
            let Some(id) = identifier.map(|i| i.to_lowercase()) else {
                continue;
            };
            if id.chars().count() >= IDENTIFIER_MIN && lower.contains(&id) {
                return Err(Violation::Weak(format!("it must not contain the {what}")));
            }
        }
    }
    Ok(())
}

/// Whether the whole password, up to letter case and common substitutions, is one of the
/// common passwords of zxcvbn's dictionaries.
fn common(password: &str) -> bool {
    use zxcvbn::matching::patterns::MatchPattern;
    use zxcvbn::matching::Match;
    let length = password.chars().count();
    let entropy = zxcvbn::zxcvbn(password, &[]);
    entropy.sequence().iter().any(|m: &Match| {
        let whole = m.i == 0 && m.j + 1 == length;
        // The crate does not export its dictionaries' names; the passwords list is the
        // default one.
        let listed = match &m.pattern {
            MatchPattern::Dictionary(d) => d.dictionary_name == Default::default(),
            _ => false,
        };
        whole && listed
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(min: u32, complexity: u8, dictionary: bool) -> PasswordConfiguration {
        PasswordConfiguration {
            password_min_length: min,
            password_complexity: complexity,
            check_dictionary: dictionary,
            ..PasswordConfiguration::default()
        }
    }

    fn run(
        pw: &str,
        p: &PasswordConfiguration,
        enforce: bool,
        user: Option<&str>,
    ) -> Result<(), Violation> {
        let email = Email::parse("email", "jo.doe@example.com").unwrap();
        check(&PolicyInput {
            password: &Password::new(pw.into()),
            policy: p,
            enforce_complexity: enforce,
            username: user,
            email: Some(&email),
        })
    }

    fn weak(r: Result<(), Violation>) -> String {
        match r {
            Err(Violation::Weak(rule)) => rule,
            other => panic!("expected weak, got {other:?}"),
        }
    }

    /// Password, policy, enforce complexity, username, the rule it breaks (if any).
    type Case = (
        &'static str,
        PasswordConfiguration,
        bool,
        Option<&'static str>,
        Option<&'static str>,
    );

    #[test]
    #[rustfmt::skip]
    fn each_rule() {
        let cases: [Case; 12] = [
            ("Aa1!aaaaaaaaaa", PasswordConfiguration::default(), true, None, None),
            ("Aa1!aaaaaaaaa", PasswordConfiguration::default(), true, None, Some("at least 14 characters")),
            ("aaaaaaaa", policy(8, 1, false), true, None, None),
            ("aaaaaaaa", policy(8, 2, false), true, None, Some("at least 2 of")),
            ("aaaaaaa1", policy(8, 2, false), true, None, None),
            ("aaaaaaA1", policy(8, 3, false), true, None, None),
            ("aaaaaaA1", policy(8, 4, false), true, None, Some("all four of")),
            ("aaaaaA1!", policy(8, 4, false), true, None, None),
            ("xJoUser1!", policy(8, 5, false), true, Some("jouser"), Some("the username")),
            ("Jo.Doe-1!x", policy(8, 5, false), true, Some("someone"), Some("the email")),
            ("Jo1!abcdefg", policy(8, 5, false), true, Some("jo"), None),
            ("aaaa", policy(8, 5, false), false, None, Some("at least 8 characters")),
        ];
        for (pw, p, enforce, user, want) in cases {
            let got = run(pw, &p, enforce, user);
            match want {
                None => assert_eq!(got, Ok(()), "{pw}"),
                Some(rule) => assert!(weak(got).contains(rule), "{pw}: {rule}"),
            }
        }
    }

    #[test]
    fn enforce_complexity_false_keeps_only_the_length() {
        let p = policy(4, 5, true);
        assert_eq!(run("password", &p, false, None), Ok(()));
        assert!(run("pas", &p, false, None).is_err());
        assert!(run("", &policy(1, 1, false), false, None).is_err());
    }

    #[test]
    fn common_passwords_are_breached_only_when_the_app_checks() {
        let p = policy(8, 1, true);
        for pw in ["password", "Password1", "qwertyuiop", "iloveyou"] {
            assert_eq!(run(pw, &p, true, None), Err(Violation::Breached), "{pw}");
        }
        assert_eq!(run("password", &policy(8, 1, false), true, None), Ok(()));
        assert_eq!(run("vivid-otter-42-lantern", &p, true, None), Ok(()));
    }
}
