//! A typed search [`Filter`] -> a SQL condition per backend. Every value, and every
//! `custom_data` key, is a bound parameter; the SQL text holds only column names and
//! JSON paths fixed here. Users are `u`, the calling app's membership `m`.

use crate::db::{Arg, Dialect};
use roster_core::filter::{AddressPart, Attribute, Filter, Kind, NamePart, Op, Value};

/// A value to bind, owned by the condition.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Bind {
    Text(String),
    Int(i64),
    Real(f64),
}

impl Bind {
    pub(crate) fn arg(&self) -> Arg<'_> {
        match self {
            Bind::Text(s) => Arg::from(s.as_str()),
            Bind::Int(n) => Arg::from(*n),
            Bind::Real(x) => Arg::from(*x),
        }
    }
}

/// The condition's SQL (to follow `AND`) and its values, numbered from `$first`.
pub(crate) struct Condition {
    pub sql: String,
    pub binds: Vec<Bind>,
}

pub(crate) fn condition(filter: &Filter, dialect: Dialect, first: usize) -> Condition {
    let mut c = Compiler {
        dialect,
        first,
        binds: Vec::new(),
    };
    let sql = c.filter(filter);
    Condition {
        sql,
        binds: c.binds,
    }
}

struct Compiler {
    dialect: Dialect,
    first: usize,
    binds: Vec<Bind>,
}

/// Where a plain attribute lives: a column, or a fixed path in the profile JSON.
enum Source {
    Column(&'static str),
    Profile(&'static str, &'static str),
}

fn source(attr: &Attribute) -> Option<Source> {
    use Source::{Column, Profile};
    Some(match attr {
        Attribute::UserId => Column("u.user_id"),
        Attribute::Email => Column("u.email_key"),
        Attribute::PhoneNumber => Column("u.phone_number"),
        Attribute::ExternalUserId => Column("u.external_user_id"),
        Attribute::Status => Column("u.status"),
        Attribute::Birthday => Column("u.birthday"),
        Attribute::LastAuth => Column("u.last_auth"),
        Attribute::CreatedAt => Column("u.created_at"),
        Attribute::UpdatedAt => Column("u.updated_at"),
        Attribute::Username => Column("m.username_key"),
        Attribute::ExternalAccountId => Column("m.external_account_id"),
        Attribute::Name(p) => Profile(
            "name",
            match p {
                NamePart::Title => "title",
                NamePart::First => "first_name",
                NamePart::Middle => "middle_name",
                NamePart::Last => "last_name",
            },
        ),
        Attribute::Address(p) => Profile(
            "address",
            match p {
                AddressPart::Country => "country",
                AddressPart::State => "state",
                AddressPart::City => "city",
                AddressPart::StreetAddress => "street_address",
                AddressPart::PostalCode => "postal_code",
                AddressPart::Type => "type",
            },
        ),
        Attribute::Language => Profile("", "language"),
        Attribute::Picture => Profile("", "picture"),
        _ => return None,
    })
}

impl Compiler {
    fn bind(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.first + self.binds.len() - 1)
    }

    fn value(&mut self, v: &Value) -> String {
        match v {
            Value::Text(s) | Value::Date(s) => self.bind(Bind::Text(s.clone())),
            Value::Instant(ms) => self.bind(Bind::Int(*ms)),
            Value::Number(x) => self.bind(Bind::Real(*x)),
            Value::Bool(b) => self.bind(Bind::Int(i64::from(*b))),
            Value::Null => "NULL".into(),
        }
    }

    fn filter(&mut self, f: &Filter) -> String {
        match f {
            Filter::And(parts) | Filter::Or(parts) => {
                let joint = if matches!(f, Filter::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                let parts: Vec<String> = parts
                    .iter()
                    .map(|p| format!("({})", self.filter(p)))
                    .collect();
                parts.join(joint)
            }
            // A comparison with a missing value is NULL in SQL and false here, so the
            // negation of "unknown" is true.
            Filter::Not(inner) => format!("NOT COALESCE(({}), FALSE)", self.filter(inner)),
            Filter::Present(a) => self.present(a),
            Filter::Compare(a, op, Value::Null) => {
                let present = self.present(a);
                match op {
                    Op::Ne => present,
                    _ => format!("NOT COALESCE(({present}), FALSE)"),
                }
            }
            Filter::Compare(a, Op::Ne, v) => {
                let eq = self.compare(a, Op::Eq, v);
                format!("NOT COALESCE(({eq}), FALSE)")
            }
            Filter::Compare(a, op, v) => self.compare(a, *op, v),
        }
    }

    /// SQL for a profile path (fixed by this module, never from the request).
    fn profile(&self, object: &str, key: &str) -> String {
        match (self.dialect, object) {
            (Dialect::Sqlite, "") => format!("json_extract(u.profile, '$.{key}')"),
            (Dialect::Sqlite, o) => format!("json_extract(u.profile, '$.{o}.{key}')"),
            (Dialect::Postgres, "") => format!("(u.profile::jsonb ->> '{key}')"),
            (Dialect::Postgres, o) => format!("(u.profile::jsonb #>> '{{{o},{key}}}')"),
        }
    }

    fn scalar(&self, a: &Attribute) -> Option<String> {
        Some(match source(a)? {
            Source::Column(c) => c.to_owned(),
            Source::Profile(o, k) => self.profile(o, k),
        })
    }

    /// The elements of an array attribute: the rows of `e` with the condition that ties
    /// them to the user (ending in `AND`), and each one's value as SQL.
    fn elements(&self, a: &Attribute) -> Option<(String, String)> {
        let key =
            match a {
                Attribute::SecondaryEmails => "secondary_emails",
                Attribute::SecondaryPhoneNumbers => "secondary_phone_numbers",
                Attribute::GroupIds => return Some((
                    "group_members e WHERE e.tenant_id = u.tenant_id AND e.user_id = u.user_id AND"
                        .into(),
                    "e.group_id".into(),
                )),
                _ => return None,
            };
        let folded = matches!(a.kind(), Kind::TextArray { folded: true });
        Some(match self.dialect {
            Dialect::Sqlite => {
                let v = "json_extract(e.value, '$.value')";
                (
                    format!("json_each(u.profile, '$.{key}') e WHERE"),
                    if folded {
                        format!("lower({v})")
                    } else {
                        v.into()
                    },
                )
            }
            Dialect::Postgres => {
                let v = "(e.value ->> 'value')";
                (
                    format!("jsonb_array_elements(COALESCE(u.profile::jsonb -> '{key}', '[]'::jsonb)) e WHERE"),
                    if folded { format!("lower({v})") } else { v.into() },
                )
            }
        })
    }

    /// The JSON value at a `custom_data` path: its type test and its SQL value, with the
    /// keys bound.
    fn json(&mut self, a: &Attribute) -> Option<Json> {
        let (column, keys) = match a {
            Attribute::CustomData(k) => ("u.custom_data", k),
            Attribute::CustomAppData(k) => ("m.custom_app_data", k),
            _ => return None,
        };
        Some(match self.dialect {
            Dialect::Sqlite => {
                let path: String = keys
                    .iter()
                    .map(|k| format!(".\"{}\"", k.replace('"', "\\\"")))
                    .collect();
                let p = self.bind(Bind::Text(format!("${path}")));
                Json {
                    type_of: format!("json_type({column}, {p})"),
                    value: format!("json_extract({column}, {p})"),
                    truth: [
                        format!("json_type({column}, {p}) = 'false'"),
                        format!("json_type({column}, {p}) = 'true'"),
                    ],
                    names: ["'text'", "'integer', 'real'", "'null'"],
                }
            }
            Dialect::Postgres => {
                let binds: Vec<String> = keys
                    .iter()
                    .map(|k| self.bind(Bind::Text(k.clone())))
                    .collect();
                let j = format!(
                    "jsonb_extract_path(COALESCE({column}, '{{}}')::jsonb, {})",
                    binds.join(", ")
                );
                Json {
                    type_of: format!("jsonb_typeof({j})"),
                    value: format!("({j} #>> '{{}}')"),
                    truth: [
                        format!("{j} = 'false'::jsonb"),
                        format!("{j} = 'true'::jsonb"),
                    ],
                    names: ["'string'", "'number'", "'null'"],
                }
            }
        })
    }

    fn present(&mut self, a: &Attribute) -> String {
        if let Some(s) = self.scalar(a) {
            return format!("{s} IS NOT NULL");
        }
        if let Some((rows, _)) = self.elements(a) {
            return format!("EXISTS (SELECT 1 FROM {rows} TRUE)");
        }
        if let Some(j) = self.json(a) {
            return format!("COALESCE({} NOT IN ({}), FALSE)", j.type_of, j.names[2]);
        }
        "FALSE".into()
    }

    fn compare(&mut self, a: &Attribute, op: Op, v: &Value) -> String {
        if let Some(s) = self.scalar(a) {
            let test = self.test(&s, op, v);
            return match (op, v) {
                // A range the column's (or expression's) index can serve, then the exact test.
                (Op::Sw, Value::Text(prefix)) => {
                    let low = self.bind(Bind::Text(prefix.clone()));
                    let high = self.bind(Bind::Text(format!("{prefix}{}", char::MAX)));
                    format!("{s} >= {low} AND {s} < {high} AND {test}")
                }
                _ => test,
            };
        }
        if let Some((rows, e)) = self.elements(a) {
            let test = self.test(&e, op, v);
            return format!("EXISTS (SELECT 1 FROM {rows} {test})");
        }
        if let Some(doc) = self.containment(a, op, v) {
            // Containment is what the GIN index of migration 0007 answers; the exact test
            // after it keeps the meaning identical to SQLite's.
            let doc = self.bind(Bind::Text(doc));
            let exact = self.json_compare(a, op, v);
            return format!("(u.custom_data::jsonb @> CAST({doc} AS jsonb) AND {exact})");
        }
        self.json_compare(a, op, v)
    }

    /// For `custom_data.<path> eq` a string or boolean on PostgreSQL: the JSON document
    /// that every match contains (`{"a": {"b": "v"}}` for `custom_data.a.b eq "v"`).
    fn containment(&self, a: &Attribute, op: Op, v: &Value) -> Option<String> {
        let (Dialect::Postgres, Attribute::CustomData(keys), Op::Eq) = (self.dialect, a, op) else {
            return None;
        };
        let leaf = match v {
            Value::Text(s) => serde_json::Value::String(s.clone()),
            Value::Bool(b) => serde_json::Value::Bool(*b),
            _ => return None,
        };
        let doc = keys.iter().rev().fold(leaf, |inner, key| {
            serde_json::Value::Object(serde_json::Map::from_iter([(key.clone(), inner)]))
        });
        Some(doc.to_string())
    }

    /// A comparison of a JSON value; without a JSON attribute, no user matches.
    fn json_compare(&mut self, a: &Attribute, op: Op, v: &Value) -> String {
        if let Some(j) = self.json(a) {
            return match v {
                Value::Bool(b) => format!("COALESCE({}, FALSE)", j.truth[usize::from(*b)]),
                Value::Number(_) => {
                    let n = match self.dialect {
                        Dialect::Sqlite => j.value.clone(),
                        Dialect::Postgres => format!("CAST({} AS DOUBLE PRECISION)", j.value),
                    };
                    let test = self.test(&n, op, v);
                    // The type test first: PostgreSQL must not cast a string.
                    format!(
                        "(CASE WHEN {} IN ({}) THEN {test} ELSE FALSE END)",
                        j.type_of, j.names[1]
                    )
                }
                _ => {
                    let test = self.test(&j.value, op, v);
                    format!(
                        "(CASE WHEN {} IN ({}) THEN {test} ELSE FALSE END)",
                        j.type_of, j.names[0]
                    )
                }
            };
        }
        "FALSE".into()
    }

    /// `sql op value` for one SQL value.
    fn test(&mut self, sql: &str, op: Op, v: &Value) -> String {
        let val = self.value(v);
        match op {
            Op::Eq => format!("{sql} = {val}"),
            Op::Ne => format!("{sql} <> {val}"),
            Op::Gt => format!("{sql} > {val}"),
            Op::Ge => format!("{sql} >= {val}"),
            Op::Lt => format!("{sql} < {val}"),
            Op::Le => format!("{sql} <= {val}"),
            Op::Sw => match self.dialect {
                Dialect::Sqlite => format!("substr({sql}, 1, length({val})) = {val}"),
                Dialect::Postgres => format!("left({sql}, length({val})) = {val}"),
            },
            Op::Ew => match self.dialect {
                Dialect::Sqlite => format!(
                    "(length({sql}) >= length({val}) AND substr({sql}, length({sql}) - length({val}) + 1) = {val})"
                ),
                Dialect::Postgres => format!("right({sql}, length({val})) = {val}"),
            },
            Op::Co => match self.dialect {
                Dialect::Sqlite => format!("instr({sql}, {val}) > 0"),
                Dialect::Postgres => format!("strpos({sql}, {val}) > 0"),
            },
        }
    }
}

/// A `custom_data` value: SQL for its JSON type name, for its scalar value and for its
/// being `false` and `true`, and the dialect's type names as SQL lists (string, number,
/// null).
struct Json {
    type_of: String,
    value: String,
    truth: [String; 2],
    names: [&'static str; 3],
}

/// The `search_prefix` condition: a range on the primary email key or phone, so the
/// unique indexes serve it. Binds start at `$first`.
pub(crate) fn prefix_filter(prefix: Option<&str>, first: usize) -> (String, Vec<String>) {
    match prefix {
        None => (String::new(), Vec::new()),
        Some(p) => {
            let lower = p.to_lowercase();
            let top = char::MAX;
            let (a, b, c, d) = (first, first + 1, first + 2, first + 3);
            // Two index ranges, unioned: an OR would let the planner scan the tenant.
            (
                format!(
                    " AND u.user_id IN (\
                     SELECT p.user_id FROM users p WHERE p.tenant_id = $1 AND p.email_key >= ${a} AND p.email_key < ${b} \
                     UNION ALL SELECT p.user_id FROM users p WHERE p.tenant_id = $1 AND p.phone_number >= ${c} AND p.phone_number < ${d})"
                ),
                vec![
                    lower.clone(),
                    format!("{lower}{top}"),
                    p.to_owned(),
                    format!("{p}{top}"),
                ],
            )
        }
    }
}
