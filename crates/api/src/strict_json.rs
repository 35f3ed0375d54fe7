//! What serde does not check in a request body (`DECISIONS.md`, "JSON is strict"): one
//! document only, no key twice in any object, and nesting at most 64 deep.

use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

/// Deepest nesting of arrays and objects a body may have.
pub const MAX_DEPTH: usize = 64;

/// Checks `bytes` as one JSON document; the message says what is wrong and where.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    Walk {
        depth: 0,
        at: String::new(),
    }
    .deserialize(&mut de)
    .and_then(|()| de.end())
    .map_err(|e| e.to_string())
}

/// One value, at `at` (a JSON path like `custom_data.tags[2]`), `depth` levels down.
struct Walk {
    depth: usize,
    at: String,
}

impl Walk {
    fn inner(&self, step: &str) -> Result<Walk, String> {
        if self.depth >= MAX_DEPTH {
            return Err(format!(
                "request body is nested deeper than {MAX_DEPTH} levels"
            ));
        }
        Ok(Walk {
            depth: self.depth + 1,
            at: format!("{}{step}", self.at),
        })
    }
}

impl<'de> DeserializeSeed<'de> for Walk {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        loop {
            let walk = self
                .inner(&format!("[{index}]"))
                .map_err(A::Error::custom)?;
            if seq.next_element_seed(walk)?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let step = if self.at.is_empty() {
                key.clone()
            } else {
                format!(".{key}")
            };
            let walk = self.inner(&step).map_err(A::Error::custom)?;
            if !seen.insert(key) {
                return Err(A::Error::custom(format!("{} is given twice", walk.at)));
            }
            map.next_value_seed(walk)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_document_no_twice_given_key_bounded_depth() {
        for ok in [
            r#"{"a": {"b": [1, {"c": null}]}}"#,
            "[]",
            r#" {"a": 1} "#,
            r#"[{"a":1},{"a":2}]"#,
        ] {
            assert_eq!(check(ok.as_bytes()), Ok(()), "{ok}");
        }
        let deep = format!("{}{}", "[".repeat(65), "]".repeat(65));
        let fit = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert_eq!(check(fit.as_bytes()), Ok(()));
        for (bad, says) in [
            (r#"{"a": 1} x"#, "trailing characters"),
            (r#"{"a": 1}{"a": 2}"#, "trailing characters"),
            (r#"{"a": 1, "a": 2}"#, "a is given twice"),
            (
                r#"{"custom_data": {"k": 1, "k": 2}}"#,
                "custom_data.k is given twice",
            ),
            (
                r#"[{"x": [{"y": 1, "y": 1}]}]"#,
                "[0].x[0].y is given twice",
            ),
            (deep.as_str(), "deeper than 64"),
        ] {
            let err = check(bad.as_bytes()).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
