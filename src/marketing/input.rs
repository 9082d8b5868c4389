//! Reading untrusted JSON by hand: typed getters that never fail on a wrong
//! type but record a [`Warning`] naming the field (`profile.viewed[3].count`)
//! and let the caller drop or default the value. Serde derive would reject the
//! whole object on the first wrong type; host pages send imperfect data.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Something in the input was clamped, dropped or defaulted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// Path of the value, e.g. `profile.viewed[3].count`.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Most warnings kept per document; the rest are counted in one summary, so
/// a 5,000-entry list of bad SKUs does not yield 5,000 messages.
pub const MAX_WARNINGS: usize = 50;

/// Collects warnings while walking one input document.
#[derive(Debug, Default)]
pub struct Warnings {
    list: Vec<Warning>,
    overflow: usize,
}

impl Warnings {
    /// Starts from warnings already collected (e.g. the store's).
    pub fn from_vec(list: Vec<Warning>) -> Self {
        Warnings { list, overflow: 0 }
    }

    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        if self.list.len() < MAX_WARNINGS {
            self.list.push(Warning {
                field: field.into(),
                message: message.into(),
            });
        } else {
            self.overflow += 1;
        }
    }

    pub fn into_vec(mut self) -> Vec<Warning> {
        if self.overflow > 0 {
            self.list.push(Warning {
                field: "warnings".into(),
                message: format!("{} more not shown", self.overflow),
            });
        }
        self.list
    }
}

pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

pub fn child(path: &str, key: &str) -> String {
    format!("{path}.{key}")
}

pub fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// A present, non-null member, or `None` (missing and null are the same).
pub fn member<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

pub fn string(obj: &Map<String, Value>, key: &str, path: &str, w: &mut Warnings) -> Option<String> {
    match member(obj, key)? {
        Value::String(s) => Some(s.clone()),
        other => {
            w.push(
                child(path, key),
                format!("expected a string, got {}; ignored", type_name(other)),
            );
            None
        }
    }
}

/// A finite number; strings holding a number are accepted (pages often send "3").
pub fn number(obj: &Map<String, Value>, key: &str, path: &str, w: &mut Warnings) -> Option<f64> {
    match member(obj, key)? {
        Value::Number(n) => n.as_f64().filter(|x| x.is_finite()),
        Value::String(s) if s.trim().parse::<f64>().is_ok_and(f64::is_finite) => {
            s.trim().parse().ok()
        }
        other => {
            w.push(
                child(path, key),
                format!("expected a number, got {}; ignored", type_name(other)),
            );
            None
        }
    }
}

pub fn boolean(obj: &Map<String, Value>, key: &str, path: &str, w: &mut Warnings) -> Option<bool> {
    match member(obj, key)? {
        Value::Bool(b) => Some(*b),
        other => {
            w.push(
                child(path, key),
                format!("expected true or false, got {}; ignored", type_name(other)),
            );
            None
        }
    }
}

pub fn array<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
    w: &mut Warnings,
) -> Option<&'a Vec<Value>> {
    match member(obj, key)? {
        Value::Array(a) => Some(a),
        other => {
            w.push(
                child(path, key),
                format!("expected a list, got {}; ignored", type_name(other)),
            );
            None
        }
    }
}

pub fn object<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
    w: &mut Warnings,
) -> Option<&'a Map<String, Value>> {
    match member(obj, key)? {
        Value::Object(o) => Some(o),
        other => {
            w.push(
                child(path, key),
                format!("expected an object, got {}; ignored", type_name(other)),
            );
            None
        }
    }
}

/// A list of strings; non-string entries are dropped with a warning each.
pub fn strings(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    w: &mut Warnings,
) -> Vec<(usize, String)> {
    let Some(items) = array(obj, key, path, w) else {
        return Vec::new();
    };
    let list_path = child(path, key);
    items
        .iter()
        .enumerate()
        .filter_map(|(i, v)| match v {
            Value::String(s) => Some((i, s.clone())),
            Value::Null => None,
            other => {
                w.push(
                    index(&list_path, i),
                    format!("expected a string, got {}; dropped", type_name(other)),
                );
                None
            }
        })
        .collect()
}

/// Parses JSON text, rejecting documents larger than `max_bytes` before parsing.
pub fn parse_json(text: &str, what: &str, max_bytes: usize) -> crate::Result<Value> {
    if text.len() > max_bytes {
        return Err(crate::Error::invalid_input(
            what,
            format!("{} bytes is more than the {max_bytes} accepted", text.len()),
        ));
    }
    serde_json::from_str(text)
        .map_err(|e| crate::Error::invalid_input(what, format!("not valid JSON: {e}")))
}
