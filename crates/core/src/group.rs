//! Groups: named sets of a tenant's users (`ApiGroup`). A group belongs to the tenant, not
//! to an app; its members appear in each user's `groupIds`.

use crate::user::input::{check_size, object, text, Problems};
use crate::{Error, GroupId, UserId};
use serde::Deserialize;
use serde_json::{Map, Value};

pub const NAME_MAX: usize = 256;
pub const DESCRIPTION_MAX: usize = 1024;
/// User ids one `POST /v1/groups/{id}/members` may carry.
pub const MEMBERS_PER_REQUEST: usize = 1000;

#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub group_id: GroupId,
    pub name: String,
    pub description: Option<String>,
    pub custom_data: Map<String, Value>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// `POST /v1/groups` (`name` required) and `PUT /v1/groups/{group_id}` (every field
/// optional; what is given replaces what was there, objects included).
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ApiGroupInput))]
pub struct GroupInput {
    pub name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub description: Option<Option<String>>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub custom_data: Option<Value>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// A checked create or update: `None` leaves the field as it is.
#[derive(Debug, Default)]
pub struct GroupChange {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub custom_data: Option<Map<String, Value>>,
}

impl GroupInput {
    fn check(self) -> Result<GroupChange, Error> {
        let mut p = Problems(Vec::new());
        let name = self.name.and_then(|n| p.take(text("name", &n, NAME_MAX)));
        let description = self
            .description
            .map(|d| d.and_then(|d| p.take(text("description", &d, DESCRIPTION_MAX))));
        let custom_data = self
            .custom_data
            .and_then(|v| p.take(object("custom_data", v)));
        if let Some(c) = &custom_data {
            p.take(check_size("custom_data", c));
        }
        p.finish()?;
        Ok(GroupChange {
            name,
            description,
            custom_data,
        })
    }

    /// A new group's fields; `name` is required.
    pub fn for_create(self) -> Result<GroupChange, Error> {
        if self.name.is_none() {
            return Err(Error::invalid("name is required"));
        }
        self.check()
    }

    pub fn for_update(self) -> Result<GroupChange, Error> {
        self.check()
    }
}

impl GroupChange {
    pub fn create(self, now: i64) -> Group {
        Group {
            group_id: GroupId::generate(),
            name: self.name.unwrap_or_default(),
            description: self.description.flatten(),
            custom_data: self.custom_data.unwrap_or_default(),
            created_at: now,
            updated_at: now,
        }
    }

    pub fn apply(self, group: &mut Group, now: i64) {
        if let Some(name) = self.name {
            group.name = name;
        }
        if let Some(description) = self.description {
            group.description = description;
        }
        if let Some(custom_data) = self.custom_data {
            group.custom_data = custom_data;
        }
        group.updated_at = now;
    }
}

/// `POST /v1/groups/{group_id}/members` (`ApiAssignGroupInput`).
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ApiAssignGroupInput))]
pub struct MembersInput {
    pub user_ids: Vec<String>,
}

impl MembersInput {
    /// The distinct ids, in the order given.
    pub fn check(self) -> Result<Vec<UserId>, Error> {
        if self.user_ids.len() > MEMBERS_PER_REQUEST {
            return Err(Error::invalid(format!(
                "user_ids must hold at most {MEMBERS_PER_REQUEST} ids"
            )));
        }
        let mut seen = std::collections::HashSet::new();
        let mut ids = Vec::with_capacity(self.user_ids.len());
        for (i, id) in self.user_ids.into_iter().enumerate() {
            if id.is_empty() || id.len() > 256 {
                return Err(Error::invalid(format!(
                    "user_ids[{i}] must be a user id of 1 to 256 characters"
                )));
            }
            if seen.insert(id.clone()) {
                ids.push(UserId::from_string(id));
            }
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(v: Value) -> GroupInput {
        serde_json::from_value(v).unwrap()
    }

    fn messages(e: Error) -> Vec<String> {
        match e {
            Error::Invalid(m) => m,
            e => panic!("not a 400: {e:?}"),
        }
    }

    #[test]
    fn create_needs_a_name_and_checks_every_field() {
        assert_eq!(
            messages(input(json!({"description": "d"})).for_create().unwrap_err()),
            ["name is required"]
        );
        let m = messages(
            input(json!({"name": " ", "description": "x".repeat(1025), "custom_data": [1]}))
                .for_create()
                .unwrap_err(),
        );
        assert!(m[0].starts_with("name must not be empty"), "{m:?}");
        assert!(
            m[1].starts_with("description must be at most 1024"),
            "{m:?}"
        );
        assert!(
            m[2].starts_with("custom_data must be a JSON object"),
            "{m:?}"
        );
        let g = input(json!({"name": "Admins", "custom_data": {"a": 1}}))
            .for_create()
            .unwrap()
            .create(5);
        assert_eq!(
            (g.name.as_str(), g.description, g.created_at),
            ("Admins", None, 5)
        );
    }

    #[test]
    fn update_replaces_given_fields_and_null_clears_the_description() {
        let mut g =
            input(json!({"name": "A", "description": "d", "custom_data": {"a": 1, "b": 2}}))
                .for_create()
                .unwrap()
                .create(1);
        input(json!({"custom_data": {"c": 3}}))
            .for_update()
            .unwrap()
            .apply(&mut g, 2);
        assert_eq!(
            (g.name.as_str(), g.description.as_deref()),
            ("A", Some("d"))
        );
        assert_eq!(Value::Object(g.custom_data.clone()), json!({"c": 3}));
        input(json!({"description": null}))
            .for_update()
            .unwrap()
            .apply(&mut g, 3);
        assert_eq!((g.description, g.updated_at), (None, 3));
    }

    #[test]
    fn member_lists_are_bounded_and_deduplicated() {
        let ids = MembersInput {
            user_ids: vec!["a".into(), "b".into(), "a".into()],
        }
        .check()
        .unwrap();
        assert_eq!(ids, [UserId::from_string("a"), UserId::from_string("b")]);
        let many = MembersInput {
            user_ids: vec!["a".into(); 1001],
        };
        assert!(messages(many.check().unwrap_err())[0].contains("at most 1000"));
        let empty = MembersInput {
            user_ids: vec![String::new()],
        };
        assert!(messages(empty.check().unwrap_err())[0].starts_with("user_ids[0]"));
    }
}
