//! The OpenAPI document: a reviewed snapshot (`crates/api/openapi.json`), and no drift from
//! Transmit's published specs on the operations both describe.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use roster_api::openapi::{document, EXTENSION};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");

#[test]
fn the_document_matches_the_reviewed_snapshot() {
    let generated = serde_json::to_string_pretty(document()).unwrap() + "\n";
    if std::env::var_os("ROSTER_UPDATE_OPENAPI").is_some() {
        std::fs::write(SNAPSHOT, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    assert!(
        committed == generated,
        "crates/api/openapi.json differs from the document the code generates: run \
         `ROSTER_UPDATE_OPENAPI=1 cargo test -p roster-api --test openapi`, review the diff and \
         commit it"
    );
}

#[test]
fn every_operation_has_an_id_and_extensions_are_marked() {
    let doc = document();
    let mut ids = BTreeSet::new();
    for (path, method, op) in operations(doc) {
        let id = op["operationId"].as_str().unwrap_or_default();
        assert!(!id.is_empty(), "{method} {path} has no operationId");
        assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
    }
    let bulk = &doc["paths"]["/cis/v1/users/bulk"]["post"];
    assert_eq!(bulk[EXTENSION], true);
    let app_id = bulk["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "app_id")
        .unwrap();
    assert_eq!(app_id[EXTENSION], true);
}

/// Statuses any operation may answer (`DECISIONS.md`, "Statuses, limits and hostile input").
const ANY_ROUTE: [&str; 6] = ["401", "403", "413", "429", "500", "503"];

/// Known differences, each with the issue that removes it. An entry that no longer differs
/// fails the test too, so that the list stays exact.
#[rustfmt::skip]
const KNOWN_DRIFT: &[(&str, &str, &str)] = &[
    ("createApp", "request body", "Applications API"),
    ("updateApp", "request body", "Applications API"),
    ("createAppClient", "request body", "Applications API"),
    ("updateAppClient", "request body", "Applications API"),
];

#[test]
fn operations_transmit_also_publishes_do_not_drift() {
    let Some(dir) = spec_dir() else { return };
    let ours = document();
    let mut drift: BTreeSet<(String, String)> = BTreeSet::new();
    let mut details = Vec::new();
    let mut compared = 0;
    for file in ["users-api", "manage-api", "applications-api"] {
        let text = std::fs::read_to_string(dir.join(format!("{file}.openapi.yml"))).unwrap();
        let theirs: Value = yaml_serde::from_str(&text).unwrap();
        for (path, method, their_op) in operations(&theirs) {
            let Some(our_op) = ours["paths"]
                .get(format!("/cis{path}"))
                .and_then(|item| item.get(&method))
            else {
                continue;
            };
            compared += 1;
            let id = their_op["operationId"].as_str().unwrap_or(&path).to_owned();
            for (aspect, detail) in differences(ours, our_op, &theirs, their_op) {
                details.push(format!("{id} ({method} /cis{path}): {aspect}: {detail}"));
                drift.insert((id.clone(), aspect));
            }
        }
    }
    assert!(compared >= 25, "only {compared} operations were compared");
    let known: BTreeSet<(String, String)> = KNOWN_DRIFT
        .iter()
        .map(|(id, aspect, _)| ((*id).to_owned(), (*aspect).to_owned()))
        .collect();
    let new: Vec<&String> = details
        .iter()
        .zip(&drift_keys(&details))
        .filter(|(_, key)| !known.contains(*key))
        .map(|(d, _)| d)
        .collect();
    let gone: Vec<_> = known.difference(&drift).collect();
    assert!(
        new.is_empty() && gone.is_empty(),
        "drift from Transmit's published specs:\n  {}\nknown drift that no longer occurs (remove it from KNOWN_DRIFT): {gone:?}",
        new.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n  ")
    );
}

/// The (operation, aspect) key of each detail line, in order.
fn drift_keys(details: &[String]) -> Vec<(String, String)> {
    details
        .iter()
        .map(|d| {
            let id = d.split(' ').next().unwrap_or_default().to_owned();
            let aspect = d.split(": ").nth(1).unwrap_or_default().to_owned();
            (id, aspect)
        })
        .collect()
}

/// Where Transmit's specs are: `ROSTER_SPEC_DIR`, or `shared/reference/transmit` beside the
/// checkout. Absent, the test says it did not run (and fails when `CI=true`).
fn spec_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("ROSTER_SPEC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/transmit")
        });
    if dir.join("users-api.openapi.yml").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "Transmit's OpenAPI specs are missing from {}: CI must run the drift check",
        dir.display()
    );
    eprintln!(
        "skipped: the OpenAPI drift check needs Transmit's specs in {} (set ROSTER_SPEC_DIR)",
        dir.display()
    );
    None
}

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                out.push((path.clone(), method.clone(), op));
            }
        }
    }
    out
}

/// Each way `ours` differs from `theirs`: parameters, request schema, statuses.
fn differences(
    our_doc: &Value,
    ours: &Value,
    their_doc: &Value,
    theirs: &Value,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let (our_params, their_params) = (params(ours), params(theirs));
    if our_params != their_params {
        out.push((
            "parameters".into(),
            format!("Roster {our_params:?}, Transmit {their_params:?}"),
        ));
    }
    let our_body = request_shape(our_doc, ours);
    let their_body = request_shape(their_doc, theirs);
    if our_body != their_body {
        let mut paths = Vec::new();
        diff_shapes("body", &our_body, &their_body, &mut paths);
        out.push(("request body".into(), paths.join("; ")));
    }
    let mut allowed: BTreeSet<&str> = ANY_ROUTE.into_iter().collect();
    if !ours["requestBody"].is_null() {
        // A body that is not valid JSON.
        allowed.insert("400");
    }
    if has_app_id(ours) {
        // An admin's `app_id` that names no app of the tenant (`DECISIONS.md`).
        allowed.insert("404");
    }
    let our_statuses = statuses(ours);
    let their_statuses = statuses(theirs);
    for s in our_statuses.difference(&their_statuses) {
        if !allowed.contains(s.as_str()) {
            out.push((
                format!("status {s}"),
                "answered by Roster, not documented by Transmit".into(),
            ));
        }
    }
    for s in their_statuses.difference(&our_statuses) {
        if !ANY_ROUTE.contains(&s.as_str()) {
            out.push((
                format!("status {s} missing"),
                "documented by Transmit, never answered by Roster".into(),
            ));
        }
    }
    out
}

fn has_app_id(op: &Value) -> bool {
    op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| p["name"] == "app_id" && p[EXTENSION] == true)
}

/// (name, in, required) of the parameters that are not Roster extensions.
fn params(op: &Value) -> BTreeSet<(String, String, bool)> {
    op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p[EXTENSION] != true)
        .map(|p| {
            let name = p["name"].as_str().unwrap_or_default();
            let place = p["in"].as_str().unwrap_or_default().to_owned();
            let name = if place == "header" {
                name.to_lowercase()
            } else {
                name.to_owned()
            };
            (name, place, p["required"].as_bool().unwrap_or(false))
        })
        .collect()
}

fn statuses(op: &Value) -> BTreeSet<String> {
    op["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k.clone())
        .collect()
}

fn request_shape(doc: &Value, op: &Value) -> Value {
    match op["requestBody"]["content"]["application/json"]["schema"].as_object() {
        Some(schema) => shape(doc, &Value::Object(schema.clone()), 0),
        None => Value::Null,
    }
}

/// A schema reduced to what a client's request depends on: types, property names, which
/// are required, array items and enum values. References and single-member `allOf`s are
/// resolved; `null` alternatives (OpenAPI 3.1's optional fields) are dropped; integers are
/// numbers; descriptions, formats, defaults and limits are left out.
fn shape(doc: &Value, schema: &Value, depth: usize) -> Value {
    if depth > 16 {
        return json!("…");
    }
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or_default();
        return shape(doc, &doc["components"]["schemas"][name], depth + 1);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array() {
            let mut kept: Vec<Value> = options
                .iter()
                .filter(|o| o["type"] != "null")
                .map(|o| shape(doc, o, depth + 1))
                .collect();
            return match kept.len() {
                1 => kept.remove(0),
                _ => {
                    kept.sort_by_key(|v| v.to_string());
                    json!({ "anyOf": kept })
                }
            };
        }
    }
    if let Some(parts) = schema["allOf"].as_array() {
        let mut merged = Map::new();
        for part in parts {
            if let Value::Object(m) = shape(doc, part, depth + 1) {
                merged.extend(m);
            }
        }
        return Value::Object(merged);
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ if schema["properties"].is_object() => vec!["object"],
        _ => Vec::new(),
    };
    let kind = match types.as_slice() {
        [t] if *t == "integer" => "number",
        [t] => t,
        _ => "any",
    };
    let mut out = Map::new();
    out.insert("type".into(), json!(kind));
    if let Some(values) = schema["enum"].as_array() {
        let mut values: Vec<String> = values
            .iter()
            .filter(|v| !v.is_null())
            .map(|v| v.to_string())
            .collect();
        values.sort();
        out.insert("enum".into(), json!(values));
    }
    if kind == "array" {
        out.insert("items".into(), shape(doc, &schema["items"], depth + 1));
    }
    if let Some(props) = schema["properties"].as_object() {
        let props: BTreeMap<&String, Value> = props
            .iter()
            .map(|(k, v)| (k, shape(doc, v, depth + 1)))
            .collect();
        out.insert("properties".into(), json!(props));
        let mut required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        required.sort_unstable();
        out.insert("required".into(), json!(required));
    }
    Value::Object(out)
}

/// Where two shapes differ, as `body.a.b: ...` lines.
fn diff_shapes(at: &str, ours: &Value, theirs: &Value, out: &mut Vec<String>) {
    if ours == theirs {
        return;
    }
    let (Some(o), Some(t)) = (ours.as_object(), theirs.as_object()) else {
        out.push(format!("{at}: Roster {ours}, Transmit {theirs}"));
        return;
    };
    for key in ["type", "enum", "required"] {
        if o.get(key) != t.get(key) {
            out.push(format!(
                "{at}.{key}: Roster {}, Transmit {}",
                o.get(key).unwrap_or(&Value::Null),
                t.get(key).unwrap_or(&Value::Null)
            ));
        }
    }
    if o.get("items") != t.get("items") {
        diff_shapes(&format!("{at}[]"), &o["items"], &t["items"], out);
    }
    let (op, tp) = (&o.get("properties"), &t.get("properties"));
    if op != tp {
        let empty = Map::new();
        let op = op.and_then(Value::as_object).unwrap_or(&empty);
        let tp = tp.and_then(Value::as_object).unwrap_or(&empty);
        for name in op.keys().chain(tp.keys()).collect::<BTreeSet<_>>() {
            match (op.get(name), tp.get(name)) {
                (Some(a), Some(b)) => diff_shapes(&format!("{at}.{name}"), a, b, out),
                (Some(_), None) => out.push(format!("{at}.{name}: only in Roster's")),
                (None, Some(_)) => out.push(format!("{at}.{name}: only in Transmit's")),
                (None, None) => {}
            }
        }
    }
}
