//! Multilingual copy from the real Gemma 3 270M (a base model, prompted with
//! few-shot completion documents): the Northwind zh-CN visitor gets Chinese
//! copy passing every check (and a checked Chinese rewrite), and a de-DE
//! request gets German. Model from
//! `BANNERET_GEMMA_MODEL` (default: the `make model` cache); fails when absent.
#![cfg(not(target_arch = "wasm32"))] // reads the model and fixtures from disk

mod gemma3_support;

use std::path::Path;

use banneret::engine::Engine;
use banneret::marketing::lang::script_check;
use banneret::marketing::{
    ContentKind, RewriteRequest, Source, Store, WriteRequest, WriteResult, Writer,
};
use banneret::textgen::TextGenerator;

fn northwind() -> (Writer, std::path::PathBuf) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("www/stores/northwind");
    (Writer::new(Store::load_dir(&dir).unwrap()), dir)
}

fn profile(dir: &Path, name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("profiles").join(format!("{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn is_han(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF)
}

fn describe(r: &WriteResult) -> String {
    let failed: Vec<String> = r
        .checks
        .iter()
        .filter(|c| !c.pass)
        .map(|c| format!("{} {:?}: {:?}", c.name, c.field, c.detail))
        .collect();
    let rejected: Vec<String> = r
        .rejected
        .iter()
        .map(|x| {
            format!(
                "{:?} -> {:?}",
                x.raw,
                x.failed.iter().map(|c| &c.name).collect::<Vec<_>>()
            )
        })
        .collect();
    format!(
        "copy {:?}\nfailed {failed:?}\nwarnings {:?}\nrejected {rejected:#?}",
        r.copy, r.warnings
    )
}

#[test]
fn gemma_writes_chinese_for_the_chinese_visitor_and_german_on_request() {
    let mut engine = Engine::from_gguf_bytes(&gemma3_support::model_bytes()).unwrap();
    assert!(
        !engine.has_chat_template(),
        "Gemma 3 270M is the base model"
    );
    for lang in ["en", "zh", "de"] {
        assert!(
            engine.languages().iter().any(|l| l == lang),
            "{:?}",
            engine.languages()
        );
    }
    let (writer, dir) = northwind();
    let zh = profile(&dir, "zh-yoga");
    let mut zh_banner = None;
    for kind in [ContentKind::Banner, ContentKind::EmailSubject] {
        let mut req = WriteRequest::new(kind);
        req.profile = Some(zh.clone());
        let r = writer.write(&req, &mut engine).unwrap();
        let text = r.copy.joined();
        assert_eq!(r.language, "zh", "{}", describe(&r));
        assert_eq!(r.source, Source::Model, "{}", describe(&r));
        assert!(r.checks.iter().all(|c| c.pass), "{}", describe(&r));
        let han = text.chars().filter(|&c| is_han(c)).count();
        assert!(
            han >= 4,
            "Chinese copy has Han characters: {}",
            describe(&r)
        );
        println!("zh {}: {:?}", kind.name(), r.copy);
        if kind == ContentKind::Banner {
            zh_banner = Some(r.copy.clone());
        }
    }

    // A rewrite in Chinese through the base model: checked copy, still Chinese.
    let copy: serde_json::Map<String, serde_json::Value> = zh_banner
        .unwrap()
        .iter()
        .map(|(k, v)| (k.to_string(), v.into()))
        .collect();
    let rewrite = RewriteRequest::from_value(serde_json::json!({
        "kind": "banner", "copy": copy, "operation": "longer", "locale": "zh-CN", "seed": 5
    }))
    .unwrap();
    let r = writer.rewrite(&rewrite, &mut engine).unwrap();
    assert_eq!(r.language, "zh", "{}", describe(&r));
    assert!(r.checks.iter().all(|c| c.pass), "{}", describe(&r));
    assert!(r.copy.joined().chars().filter(|&c| is_han(c)).count() >= 4, "{}", describe(&r));
    println!("zh longer rewrite ({:?}): {:?}", r.source, r.copy);

    let mut req = WriteRequest::new(ContentKind::Banner);
    req.profile = Some(profile(&dir, "trail-runner"));
    req.locale = Some("de-DE".into());
    let r = writer.write(&req, &mut engine).unwrap();
    assert_eq!(r.language, "de", "{}", describe(&r));
    assert_eq!(r.source, Source::Model, "{}", describe(&r));
    assert!(r.checks.iter().all(|c| c.pass), "{}", describe(&r));
    for (field, text) in r.copy.iter() {
        assert!(script_check(text, "de").is_ok(), "{field}: {text}");
    }
    // The light check is not a rubber stamp: the English fallback would fail it.
    assert!(script_check(
        "Ridgeline Trail Runner, now just $99 for your next run",
        "de"
    )
    .is_err());
    println!("de banner: {:?}", r.copy);
}
