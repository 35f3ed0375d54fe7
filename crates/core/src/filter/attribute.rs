//! The attributes a filter may name, and what kind of value each holds.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamePart {
    Title,
    First,
    Middle,
    Last,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressPart {
    Country,
    State,
    City,
    StreetAddress,
    PostalCode,
    Type,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attribute {
    UserId,
    Email,
    PhoneNumber,
    ExternalUserId,
    Status,
    Birthday,
    LastAuth,
    CreatedAt,
    UpdatedAt,
    Name(NamePart),
    Address(AddressPart),
    Language,
    Picture,
    SecondaryEmails,
    SecondaryPhoneNumbers,
    GroupIds,
    /// App-level: the calling app's data.
    Username,
    ExternalAccountId,
    /// A path into `custom_data` (tenant-level) or `custom_app_data` (the app's).
    CustomData(Vec<String>),
    CustomAppData(Vec<String>),
}

/// What an attribute's values are, which decides the operators and values it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A string; `folded` ones compare case-insensitively (stored lower-cased too).
    Text { folded: bool },
    /// An array of strings: matches when an element matches.
    TextArray { folded: bool },
    /// A point in time, stored as epoch milliseconds.
    Instant,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// A JSON value of any type.
    Json,
}

/// Longest `custom_data` path taken, in keys.
const PATH_MAX: usize = 16;

impl Attribute {
    /// The attribute a path names (case-insensitive, except for `custom_data` keys).
    pub fn resolve(path: &str) -> Result<Self, String> {
        let lower = path.to_ascii_lowercase();
        for (prefix, app_level) in [("custom_data.", false), ("custom_app_data.", true)] {
            if lower.starts_with(prefix) {
                let keys: Vec<String> =
                    path[prefix.len()..].split('.').map(str::to_owned).collect();
                if keys.iter().any(String::is_empty) {
                    return Err(format!("'{path}' has an empty key"));
                }
                if keys.len() > PATH_MAX {
                    return Err(format!("'{path}' is deeper than {PATH_MAX} keys"));
                }
                return Ok(if app_level {
                    Attribute::CustomAppData(keys)
                } else {
                    Attribute::CustomData(keys)
                });
            }
        }
        Ok(match lower.as_str() {
            "user_id" => Attribute::UserId,
            "email" => Attribute::Email,
            "phone_number" => Attribute::PhoneNumber,
            "external_user_id" => Attribute::ExternalUserId,
            "status" => Attribute::Status,
            "birthday" => Attribute::Birthday,
            "last_auth" => Attribute::LastAuth,
            "created_at" => Attribute::CreatedAt,
            "updated_at" => Attribute::UpdatedAt,
            "name.title" => Attribute::Name(NamePart::Title),
            "name.first_name" => Attribute::Name(NamePart::First),
            "name.middle_name" => Attribute::Name(NamePart::Middle),
            "name.last_name" => Attribute::Name(NamePart::Last),
            "address.country" => Attribute::Address(AddressPart::Country),
            "address.state" => Attribute::Address(AddressPart::State),
            "address.city" => Attribute::Address(AddressPart::City),
            "address.street_address" => Attribute::Address(AddressPart::StreetAddress),
            "address.postal_code" => Attribute::Address(AddressPart::PostalCode),
            "address.type" => Attribute::Address(AddressPart::Type),
            "language" => Attribute::Language,
            "picture" => Attribute::Picture,
            "secondary_emails" => Attribute::SecondaryEmails,
            "secondary_phone_numbers" => Attribute::SecondaryPhoneNumbers,
            "groupids" | "group_ids" => Attribute::GroupIds,
            "username" => Attribute::Username,
            "external_account_id" => Attribute::ExternalAccountId,
            _ => return Err(format!("unknown attribute '{path}'")),
        })
    }

    pub fn kind(&self) -> Kind {
        match self {
            Attribute::Email | Attribute::Username => Kind::Text { folded: true },
            Attribute::SecondaryEmails => Kind::TextArray { folded: true },
            Attribute::SecondaryPhoneNumbers | Attribute::GroupIds => {
                Kind::TextArray { folded: false }
            }
            Attribute::LastAuth | Attribute::CreatedAt | Attribute::UpdatedAt => Kind::Instant,
            Attribute::Birthday => Kind::Date,
            Attribute::CustomData(_) | Attribute::CustomAppData(_) => Kind::Json,
            _ => Kind::Text { folded: false },
        }
    }

    /// Read from the calling app's data rather than the tenant's.
    pub fn is_app_level(&self) -> bool {
        matches!(
            self,
            Attribute::Username | Attribute::ExternalAccountId | Attribute::CustomAppData(_)
        )
    }
}

impl std::fmt::Display for Attribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fixed = match self {
            Attribute::UserId => "user_id",
            Attribute::Email => "email",
            Attribute::PhoneNumber => "phone_number",
            Attribute::ExternalUserId => "external_user_id",
            Attribute::Status => "status",
            Attribute::Birthday => "birthday",
            Attribute::LastAuth => "last_auth",
            Attribute::CreatedAt => "created_at",
            Attribute::UpdatedAt => "updated_at",
            Attribute::Name(NamePart::Title) => "name.title",
            Attribute::Name(NamePart::First) => "name.first_name",
            Attribute::Name(NamePart::Middle) => "name.middle_name",
            Attribute::Name(NamePart::Last) => "name.last_name",
            Attribute::Address(AddressPart::Country) => "address.country",
            Attribute::Address(AddressPart::State) => "address.state",
            Attribute::Address(AddressPart::City) => "address.city",
            Attribute::Address(AddressPart::StreetAddress) => "address.street_address",
            Attribute::Address(AddressPart::PostalCode) => "address.postal_code",
            Attribute::Address(AddressPart::Type) => "address.type",
            Attribute::Language => "language",
            Attribute::Picture => "picture",
            Attribute::SecondaryEmails => "secondary_emails",
            Attribute::SecondaryPhoneNumbers => "secondary_phone_numbers",
            Attribute::GroupIds => "groupIds",
            Attribute::Username => "username",
            Attribute::ExternalAccountId => "external_account_id",
            Attribute::CustomData(keys) => return write!(f, "custom_data.{}", keys.join(".")),
            Attribute::CustomAppData(keys) => {
                return write!(f, "custom_app_data.{}", keys.join("."))
            }
        };
        f.write_str(fixed)
    }
}
