//! JSON shapes: the keys and value types of a reply, recursively.
//!
//! A shape is itself JSON: an object maps each key to the shape of its
//! value; an array holds the merged shape of its elements (nothing when it
//! was empty); a scalar is `"string"`, `"number"`, `"boolean"` or
//! `"null"`. A recorded shape is the contract: a later reply may add keys,
//! but may not remove a key or change a value's type. `null` stands for a
//! value that may be absent, so it matches anything on either side.
//!
//! ```
//! use serde_json::json;
//! use tablero_conformance::shape::{breaks, shape};
//! let recorded = shape(&json!({"id": "job-1", "progress": 0.5, "output": null}));
//! assert!(breaks(&recorded, &shape(&json!({"id": "job-2", "progress": 1, "output": {"key": "k"}, "new": true}))).is_empty());
//! // `id` retyped, `output` removed:
//! assert_eq!(breaks(&recorded, &shape(&json!({"id": 7, "progress": 1}))).len(), 2);
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// The shape of a JSON value.
pub fn shape(v: &Value) -> Value {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "boolean".into(),
        Value::Number(_) => "number".into(),
        Value::String(_) => "string".into(),
        Value::Array(items) => {
            Value::Array(items.iter().map(shape).reduce(merge).into_iter().collect())
        }
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
    }
}

/// Two shapes as one: the union of object keys, `null` giving way to a
/// type, `"any"` where two types conflict.
pub fn merge(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::String(s), b) if s == "null" => b,
        (a, Value::String(s)) if s == "null" => a,
        (Value::Object(mut x), Value::Object(y)) => {
            for (k, v) in y {
                let merged = match x.remove(&k) {
                    Some(old) => merge(old, v),
                    None => v,
                };
                x.insert(k, merged);
            }
            Value::Object(x)
        }
        (Value::Array(x), Value::Array(y)) => {
            Value::Array(x.into_iter().chain(y).reduce(merge).into_iter().collect())
        }
        (a, b) if a == b => a,
        _ => "any".into(),
    }
}

/// Where `now` breaks `recorded`: each removed key or changed type, as
/// `path: what`. Empty when `now` keeps the contract.
pub fn breaks(recorded: &Value, now: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(recorded, now, "$", &mut out);
    out
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "an object",
        Value::Array(_) => "an array",
        Value::String(s) if s == "string" => "a string",
        Value::String(s) if s == "number" => "a number",
        Value::String(s) if s == "boolean" => "a boolean",
        _ => "a value of mixed type",
    }
}

fn walk(recorded: &Value, now: &Value, path: &str, out: &mut Vec<String>) {
    match (recorded, now) {
        (Value::String(r), _) if r == "null" || r == "any" => {}
        (_, Value::String(n)) if n == "null" => {}
        (Value::Object(r), Value::Object(n)) => {
            for (k, rv) in r {
                match n.get(k) {
                    Some(nv) => walk(rv, nv, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}: removed")),
                }
            }
        }
        (Value::Array(r), Value::Array(n)) => {
            if let (Some(r0), Some(n0)) = (r.first(), n.first()) {
                walk(r0, n0, &format!("{path}[]"), out);
            }
        }
        (r, n) if r == n => {}
        (r, n) => out.push(format!("{path}: was {}, now {}", describe(r), describe(n))),
    }
}

/// The replies of one scenario, by name, checked against (or, with
/// `TABLERO_BLESS_SHAPES=1`, recorded into) a file of `tests/shapes/`.
pub struct Contract {
    file: PathBuf,
    seen: BTreeMap<String, Value>,
}

impl Contract {
    /// A contract recorded in `file`.
    pub fn new(file: impl AsRef<Path>) -> Contract {
        Contract {
            file: file.as_ref().to_path_buf(),
            seen: BTreeMap::new(),
        }
    }

    /// `tests/shapes/<name>.json` at the root of the repository.
    pub fn named(name: &str) -> Contract {
        Contract::new(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/shapes")
                .join(format!("{name}.json")),
        )
    }

    /// Records the shape of one reply (merged with earlier replies of the
    /// same name).
    pub fn reply(&mut self, name: &str, value: &Value) {
        let s = shape(value);
        let merged = match self.seen.remove(name) {
            Some(old) => merge(old, s),
            None => s,
        };
        self.seen.insert(name.to_string(), merged);
    }

    /// Checks every reply against the recorded shapes, and that every
    /// recorded reply was seen again; with `TABLERO_BLESS_SHAPES=1` writes
    /// the file instead. Panics with every break found.
    pub fn check(self) {
        if std::env::var_os("TABLERO_BLESS_SHAPES").is_some_and(|v| v == "1") {
            let doc = Value::Object(self.seen.into_iter().collect::<Map<_, _>>());
            let text = serde_json::to_string_pretty(&doc).expect("shapes serialise") + "\n";
            if let Some(dir) = self.file.parent() {
                std::fs::create_dir_all(dir).expect("create tests/shapes");
            }
            std::fs::write(&self.file, text).expect("write the shapes");
            return;
        }
        let text = std::fs::read_to_string(&self.file).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; record it with TABLERO_BLESS_SHAPES=1",
                self.file.display()
            )
        });
        let recorded: Map<String, Value> =
            serde_json::from_str(&text).expect("the shapes file is JSON");
        let mut problems = Vec::new();
        for (name, want) in &recorded {
            match self.seen.get(name) {
                Some(got) => problems.extend(
                    breaks(want, got)
                        .into_iter()
                        .map(|b| format!("{name}: {b}")),
                ),
                None => problems.push(format!("{name}: no such reply any more")),
            }
        }
        assert!(
            problems.is_empty(),
            "the JSON contract in {} is broken (keys may be added, never removed or retyped):\n  {}",
            self.file.display(),
            problems.join("\n  ")
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn additions_keep_the_contract_removals_and_retypes_break_it() {
        let recorded = shape(&json!({
            "jobs": [{"id": "a", "output": null}, {"id": "b", "output": {"key": "k"}}],
            "empty": [],
            "n": 1
        }));
        assert_eq!(
            recorded,
            json!({"jobs": [{"id": "string", "output": {"key": "string"}}], "empty": [], "n": "number"})
        );
        let added = shape(&json!({"jobs": [], "empty": [1], "n": 2.5, "more": "x"}));
        assert!(breaks(&recorded, &added).is_empty());
        let broken = shape(&json!({"jobs": [{"id": 3, "output": null}], "empty": []}));
        assert_eq!(
            breaks(&recorded, &broken),
            vec!["$.jobs[].id: was a string, now a number", "$.n: removed"]
        );
        assert_eq!(merge(json!("string"), json!("number")), json!("any"));
    }
}
