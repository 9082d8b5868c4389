//! The chat template from the real GGUF renders the reference prompt exactly,
//! and the whole path (template → tokens) gives llama.cpp's prompt ids.

mod tokenizer_common;

use banneret::chat::ChatTemplate;
use banneret::textgen::ChatMessage;
use tokenizer_common::{data_path, metadata, tokenizer};

fn template() -> ChatTemplate {
    ChatTemplate::from_metadata(metadata(), tokenizer()).expect("template from the GGUF")
}

fn reference_chat_prompt() -> (String, Vec<u32>) {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data_path("smollm2-llamacpp.json")).unwrap())
            .unwrap();
    let g = v["generation"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "chatml-headline-1")
        .expect("chat reference prompt");
    let ids = g["prompt_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect();
    (g["prompt"].as_str().unwrap().to_owned(), ids)
}

#[test]
fn renders_the_reference_prompt_exactly() {
    let t = template();
    assert!(!t.is_fallback);
    let messages = [
        ChatMessage::system("You are a helpful marketing assistant."),
        ChatMessage::user("Write a short ad headline for a summer sale on running shoes."),
    ];
    let prompt = t.render(&messages, true).unwrap();
    let (want, want_ids) = reference_chat_prompt();
    assert_eq!(prompt, want);
    assert_eq!(tokenizer().encode(&prompt, true).unwrap(), want_ids);
}

#[test]
fn default_system_prompt_appears_without_a_system_message() {
    let t = template();
    let prompt = t.render(&[ChatMessage::user("Hi")], true).unwrap();
    assert_eq!(
        prompt,
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n\
         <|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    );
    let no_gen = t
        .render(&[ChatMessage::system("S"), ChatMessage::user("Hi")], false)
        .unwrap();
    assert_eq!(
        no_gen,
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
    );
}

#[test]
fn long_conversations_fit_the_template_budget() {
    let t = template();
    let long = "Tell me about trail shoes, please. ".repeat(60);
    let mut messages = vec![ChatMessage::system(
        "You are a helpful marketing assistant.",
    )];
    for i in 0..100 {
        messages.push(if i % 2 == 0 {
            ChatMessage::user(long.clone())
        } else {
            ChatMessage::assistant(long.clone())
        });
    }
    let prompt = t.render(&messages, true).unwrap();
    assert!(prompt.len() > 100 * long.len());
}
