//! Mutation fuzzing of every JSON input the crate accepts — catalog, brand,
//! profile, write and rewrite requests, generation options — as parsed text
//! (deep nesting, huge numbers, NaN-like strings, duplicate keys, lone UTF-16
//! surrogates) and as values with fields of every wrong type. Each input must
//! give a result or an error naming a field: never a panic.
//! `BANNERET_FUZZ_ITERS` sets the executions (`make fuzz` runs long).
#![cfg(not(target_arch = "wasm32"))]

mod marketing_support;

use banneret::marketing::{RewriteRequest, Store, WriteRequest, Writer};
use banneret::textgen::GenerationOptions;
use marketing_support::{data_dir, FakeGenerator};
use serde_json::{json, Value};

mod common;
use common::rng::Rng;

fn read(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(data_dir().join(path)).unwrap()).unwrap()
}

/// A value of a random, usually wrong, type.
fn wild(rng: &mut Rng) -> Value {
    match rng.below(14) {
        0 => Value::Null,
        1 => json!(-1),
        2 => json!(1e308),
        3 => json!(u64::MAX),
        4 => json!(-9.9e-300),
        5 => json!("NaN"),
        6 => json!("Infinity"),
        7 => json!(""),
        8 => json!("\u{202e}\u{200b}<script>alert(1)</script><|im_start|>system"),
        9 => json!("x".repeat(100_000)),
        10 => json!([1, "two", null, {"three": 3}]),
        11 => json!({"nested": {"deeper": [true]}}),
        12 => Value::Array(vec![json!({"sku": "NW-TR-101", "count": 1}); 5000]),
        _ => json!(true),
    }
}

/// Replaces a random node (object value or array item) with `wild`.
fn mutate_value(v: &mut Value, rng: &mut Rng, depth: usize) {
    let descend = depth < 4 && rng.below(3) > 0;
    match v {
        Value::Object(map) if !map.is_empty() => {
            let key = map.keys().nth(rng.below(map.len())).cloned().unwrap_or_default();
            let child = map.get_mut(&key).expect("key exists");
            if descend {
                mutate_value(child, rng, depth + 1)
            } else if rng.below(5) == 0 {
                map.remove(&key);
            } else {
                *child = wild(rng);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = rng.below(items.len());
            if descend {
                mutate_value(&mut items[i], rng, depth + 1)
            } else {
                items[i] = wild(rng);
            }
        }
        other => *other = wild(rng),
    }
}

/// Text-level mutations the value level cannot express.
fn mutate_text(text: &str, rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => format!("{}{}{}", "[".repeat(5000), text, "]".repeat(5000)),
        1 => text.replacen('{', "{\"kind\": \"banner\", ", 1).replacen('{', "{\"kind\": \"email_subject\", ", 1),
        2 => text.replacen(':', ": \"\\ud800\", \"x\":", 1),
        3 => text.replacen("1", "1e999999", 1),
        4 => text[..rng.below(text.len())].to_string(),
        _ => text.replacen('"', "\"\\u0000\\u001b[31m", 1),
    }
}

fn message_names_something(e: &banneret::Error) {
    let m = e.to_string();
    assert!(m.contains('\'') || m.contains('`') || m.contains("field") || m.contains("line"), "unhelpful: {m}");
}

#[test]
fn mutated_json_inputs_never_panic_and_errors_name_the_field() {
    let iterations: usize = std::env::var("BANNERET_FUZZ_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let catalog = read("northwind/catalog.json");
    let brand = read("northwind/brand.json");
    let profiles: Vec<Value> = ["cart-abandoner", "injection", "zh-yoga", "no-consent"]
        .iter()
        .map(|p| read(&format!("northwind/profiles/{p}.json")))
        .collect();
    let requests = [
        json!({"kind": "banner", "goal": "winter sale", "tone": "casual", "num_return_sequences": 2, "seed": 3,
               "options": {"temperature": 0.7, "max_new_tokens": 40}}),
        json!({"kind": "search_ad", "locale": "en-GB", "date": "2026-11-28", "max_retries": 1}),
    ];
    let rewrite = json!({"kind": "banner", "op": "shorter",
                         "copy": {"headline": "Trail ready", "subline": "The Ridgeline Trail Runner, now $99.", "cta": "Shop now"}});
    let options = json!({"max_new_tokens": 8, "temperature": 0.5, "top_k": 4, "top_p": 0.9, "min_p": 0.1,
                         "repetition_penalty": 1.2, "seed": 1, "stop": ["\n"], "num_return_sequences": 2});
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let (mut ok, mut err) = (0usize, 0usize);
    for i in 0..iterations {
        let target = rng.below(6);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<(), banneret::Error> {
            let (mut c, mut b) = (catalog.clone(), brand.clone());
            let mut p = profiles[rng.below(profiles.len())].clone();
            let mut r = requests[rng.below(requests.len())].clone();
            let mut w = rewrite.clone();
            let mut o = options.clone();
            let as_text = rng.below(4) == 0;
            let pick: &mut Value = match target {
                0 => &mut c,
                1 => &mut b,
                2 => &mut p,
                3 => &mut r,
                4 => &mut w,
                _ => &mut o,
            };
            if as_text {
                let text = mutate_text(&pick.to_string(), &mut rng);
                match serde_json::from_str::<Value>(&text) {
                    Ok(v) => *pick = v,
                    Err(_) => return Ok(()), // the JSON layer refused it (JS would too)
                }
            } else {
                for _ in 0..1 + rng.below(3) {
                    mutate_value(pick, &mut rng, 0);
                }
            }
            if target == 5 {
                let parsed: Result<GenerationOptions, _> = serde_json::from_value(o);
                if let Ok(opts) = parsed {
                    let _ = opts.validate();
                }
                return Ok(());
            }
            let writer = Writer::new(Store::from_values(&c, &b)?);
            let mut gen = FakeGenerator::competent();
            if target == 4 {
                writer.rewrite(&RewriteRequest::from_value(w)?, &mut gen)?;
            } else {
                r["profile"] = p;
                writer.write(&WriteRequest::from_value(r)?, &mut gen)?;
            }
            Ok(())
        }));
        match outcome {
            Err(_) => panic!("iteration {i} (target {target}) panicked"),
            Ok(Ok(())) => ok += 1,
            Ok(Err(e)) => {
                message_names_something(&e);
                err += 1;
            }
        }
    }
    println!("{iterations} executions: {ok} accepted, {err} rejected with a named field");
    assert!(ok > 0 && err > 0);
}
