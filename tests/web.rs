//! The wasm boundary in a real browser (wasm-bindgen-test, headless Chromium):
//! exports return plain JS objects, and errors are JS `Error`s named by code.
//! Run with `make test` (or `wasm-pack test --headless --chrome`).
#![cfg(target_arch = "wasm32")]

use banneret::gguf::{self, Value};
use banneret::wasm::{inspect_model, version};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn tiny_gguf() -> Vec<u8> {
    let data = [0u8; 4 * 16];
    gguf::write(
        &[
            ("general.architecture", Value::String("llama".into())),
            ("general.name", Value::String("tiny".into())),
            ("llama.block_count", Value::U32(1)),
        ],
        &[
            ("token_embd.weight", vec![4, 4], 0, &data),
            ("output_norm.weight", vec![4], 0, &data[..16]),
        ],
    )
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).unwrap()
}

fn thrown(result: Result<JsValue, wasm_bindgen::JsError>) -> js_sys::Error {
    let err: JsValue = result.expect_err("should have thrown").into();
    err.dyn_into::<js_sys::Error>().expect("a JS Error object")
}

#[wasm_bindgen_test]
fn version_is_the_crate_version() {
    assert_eq!(version(), env!("CARGO_PKG_VERSION"));
}

#[wasm_bindgen_test]
fn inspect_model_returns_a_plain_object() {
    let bytes = tiny_gguf();
    let header = gguf::parse_complete(&bytes).unwrap();
    let info = inspect_model(&bytes).unwrap();
    let plain_prototype = Object::get_prototype_of(&Object::new());
    assert_eq!(
        JsValue::from(Object::get_prototype_of(&info)),
        JsValue::from(plain_prototype)
    );
    assert_eq!(
        get(&info, "architecture").as_string().as_deref(),
        Some("llama")
    );
    assert_eq!(get(&info, "name").as_string().as_deref(), Some("tiny"));
    assert_eq!(get(&info, "version").as_f64(), Some(3.0));
    assert_eq!(get(&info, "tensorCount").as_f64(), Some(2.0));
    assert_eq!(
        get(&info, "dataOffset").as_f64(),
        Some(header.data_offset as f64)
    );
    let keys: Vec<String> = Array::from(&get(&info, "metadataKeys"))
        .iter()
        .map(|k| k.as_string().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["general.architecture", "general.name", "llama.block_count"]
    );
}

#[wasm_bindgen_test]
fn inspect_model_without_architecture_reports_null() {
    let bytes = gguf::write(&[("general.name", Value::String("anon".into()))], &[]);
    let info = inspect_model(&bytes).unwrap();
    assert!(get(&info, "architecture").is_null());
    assert_eq!(get(&info, "tensorCount").as_f64(), Some(0.0));
}

#[wasm_bindgen_test]
fn garbage_throws_an_error_named_by_code() {
    let err = thrown(inspect_model(b"PK\x03\x04 this is a zip, not a model"));
    assert_eq!(String::from(err.name()), "invalid_model");
    let message = String::from(err.message());
    assert!(message.contains("not a GGUF file"), "{message}");
    let expected = gguf::parse_complete(b"PK\x03\x04 this is a zip, not a model").unwrap_err();
    assert_eq!(message, expected.to_string());
}

#[wasm_bindgen_test]
fn truncated_file_throws_truncated_model() {
    let bytes = tiny_gguf();
    let err = thrown(inspect_model(&bytes[..bytes.len() - 1]));
    assert_eq!(String::from(err.name()), "truncated_model");
    let message = String::from(err.message());
    assert!(
        message.contains(&format!("has {}", bytes.len() - 1)),
        "{message}"
    );
}

#[wasm_bindgen_test]
fn empty_input_throws_not_panics() {
    let err = thrown(inspect_model(&[]));
    assert_eq!(String::from(err.name()), "truncated_model");
}
