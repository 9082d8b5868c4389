//! The JavaScript boundary (wasm32 only): every `#[wasm_bindgen]` export lives here.
//!
//! Each export takes and returns plain objects (serde-wasm-bindgen, JSON-shaped:
//! maps become objects, integers become numbers) and runs through [`export`],
//! which installs the panic hook once and turns a [`crate::Error`] into a JS
//! `Error` whose `message` is the error's Display and whose `name` is its
//! stable [`Error::code`]. Nothing here panics on input.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::{Error, Result};
use crate::gguf;

/// Runs one export: panic hook installed, error converted. The body builds
/// its result with [`to_js`] while what it borrows is still alive.
fn export(body: impl FnOnce() -> Result<JsValue>) -> Result<JsValue, JsError> {
    console_error_panic_hook::set_once();
    body().map_err(|e| js_error(&e))
}

/// Serializes a result as a plain JSON-shaped JS value.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| Error::Internal(format!("cannot convert the result for JavaScript: {e}")))
}

/// A JS `Error` with `name` = the error's code (e.g. `"invalid_model"`).
pub(crate) fn js_error(e: &Error) -> JsError {
    let err = JsError::new(&e.to_string());
    // A JsError clone refers to the same JS object, so naming the clone names `err`.
    let object: JsValue = err.clone().into();
    object.unchecked_ref::<js_sys::Error>().set_name(e.code());
    err
}

/// The crate version, e.g. `"0.1.0"`.
#[wasm_bindgen]
pub fn version() -> String {
    console_error_panic_hook::set_once();
    env!("CARGO_PKG_VERSION").to_owned()
}

/// What [`inspect_model`] reports about a GGUF file.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ModelSummary<'a> {
    /// `general.architecture`, or null when the file does not say.
    architecture: Option<&'a str>,
    /// `general.name`, or null.
    name: Option<&'a str>,
    /// GGUF format version.
    version: u32,
    tensor_count: usize,
    /// Every metadata key, in sorted order.
    metadata_keys: Vec<&'a str>,
    /// Absolute byte offset where tensor data starts.
    data_offset: u64,
}

/// Parses a whole GGUF file and summarizes its header; bad or truncated bytes
/// throw an `Error` naming the problem (name `invalid_model`, `truncated_model`).
#[wasm_bindgen(js_name = inspectModel)]
pub fn inspect_model(bytes: &[u8]) -> Result<JsValue, JsError> {
    export(|| {
        let header = gguf::parse_complete(bytes)?;
        let md = &header.metadata;
        to_js(&ModelSummary {
            architecture: md.opt_str("general.architecture")?,
            name: md.opt_str("general.name")?,
            version: header.version,
            tensor_count: header.tensors.len(),
            metadata_keys: md.0.keys().map(String::as_str).collect(),
            data_offset: header.data_offset,
        })
    })
}
