//! Structs read only from JSON objects. Serde's derive also accepts an array and fills the
//! fields by position; `DECISIONS.md` makes an array where an object belongs a 400.

use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::marker::PhantomData;

/// `T`, read from a JSON object and nothing else.
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }

        deserializer
            .deserialize_map(ObjectVisitor(PhantomData))
            .map(Object)
    }
}

/// For `#[serde(deserialize_with = "...")]` on a struct-typed field.
pub fn required<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Object::deserialize(d).map(|o| o.0)
}

/// For `#[serde(default, deserialize_with = "...")]` on an optional struct-typed field.
pub fn optional<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Option::<Object<T>>::deserialize(d).map(|o| o.map(|o| o.0))
}

#[cfg(test)]
mod tests {
    use super::Object;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Pair {
        a: i64,
        #[serde(default, deserialize_with = "super::optional")]
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        b: Option<i64>,
    }

    #[test]
    fn objects_are_read_and_arrays_are_refused_at_any_level() {
        let ok: Object<Pair> = serde_json::from_str(r#"{"a": 1, "inner": {"b": 2}}"#).unwrap();
        assert_eq!(
            ok.0,
            Pair {
                a: 1,
                inner: Some(Inner { b: Some(2) })
            }
        );
        let none: Object<Pair> = serde_json::from_str(r#"{"a": 1, "inner": null}"#).unwrap();
        assert_eq!(none.0.inner, None);
        // The derive alone would read these by position.
        assert!(serde_json::from_str::<Pair>("[1]").is_ok());
        let top = serde_json::from_str::<Object<Pair>>("[1]").err().unwrap();
        assert!(top.to_string().contains("expected an object"), "{top}");
        let nested = serde_json::from_str::<Object<Pair>>(r#"{"a": 1, "inner": [2]}"#)
            .err()
            .unwrap();
        assert!(
            nested.to_string().contains("expected an object"),
            "{nested}"
        );
    }
}
