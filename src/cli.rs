//! The native command-line tool over the same core the browser runs: each
//! command prints one JSON object on stdout; errors go to stderr with a
//! non-zero exit. Generation options are the request's own field names
//! (`--max_new_tokens 32` or `--max-new-tokens 32`), checked by the same
//! deserializer as the JS API, so a typo fails loudly.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::textgen::{ChatMessage, GenerationOptions, StepEvent, TextGenerator};

pub const USAGE: &str = "\
usage:
  banneret tokenize --model PATH --text TEXT [--no-special]
  banneret logprobs --model PATH (--prompt-ids 1,2,3 | --prompt TEXT) --ids 4,5,6 [--top 5]
  banneret generate --model PATH (--prompt TEXT | --chat MESSAGE) [--stream]
                    [--max_new_tokens N] [--temperature T] [--top_k K] [--top_p P] [--min_p P]
                    [--repetition_penalty R] [--seed S] [--stop STR]... [--num_return_sequences N]
  banneret info --model PATH";

/// Parsed `--key value` arguments (`--flag` alone is `true`); repeated keys collect.
pub struct Args {
    pub command: String,
    values: BTreeMap<String, Vec<String>>,
}

const FLAGS: &[&str] = &["no_special", "stream"];

impl Args {
    pub fn parse(argv: &[String]) -> Result<Args> {
        let usage = |reason: String| Error::invalid_request("arguments", format!("{reason}\n{USAGE}"));
        let command = argv.first().ok_or_else(|| usage("no command given".into()))?.clone();
        let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut i = 1;
        while i < argv.len() {
            let key = argv[i]
                .strip_prefix("--")
                .ok_or_else(|| usage(format!("expected an option, got '{}'", argv[i])))?
                .replace('-', "_");
            if FLAGS.contains(&key.as_str()) {
                values.entry(key).or_default().push("true".into());
                i += 1;
                continue;
            }
            let value = argv.get(i + 1).ok_or_else(|| usage(format!("--{key} needs a value")))?;
            values.entry(key).or_default().push(value.clone());
            i += 2;
        }
        Ok(Args { command, values })
    }

    pub fn take(&mut self, key: &str) -> Option<String> {
        self.values.remove(key).and_then(|mut v| v.pop())
    }

    pub fn require(&mut self, key: &str) -> Result<String> {
        self.take(key).ok_or_else(|| Error::invalid_request(key, format!("--{} is required", key.replace('_', "-"))))
    }

    pub fn flag(&mut self, key: &str) -> bool {
        self.values.remove(key).is_some()
    }

    /// Every remaining option as a JSON object, for a serde request type.
    fn into_object(self, repeated: &[&str]) -> Value {
        let mut object = Map::new();
        for (key, mut vals) in self.values {
            let parse = |v: &str| serde_json::from_str::<Value>(v).ok().filter(|j| !j.is_string()).unwrap_or(Value::String(v.into()));
            let value = if repeated.contains(&key.as_str()) {
                Value::Array(vals.into_iter().map(Value::String).collect())
            } else {
                parse(&vals.pop().unwrap_or_default())
            };
            object.insert(key, value);
        }
        Value::Object(object)
    }

    /// Rejects options no command consumed.
    pub fn finish(self) -> Result<()> {
        match self.values.keys().next() {
            Some(k) => Err(Error::invalid_request(k, format!("unknown option --{k}\n{USAGE}"))),
            None => Ok(()),
        }
    }
}

fn parse_ids(field: &str, text: &str) -> Result<Vec<u32>> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<u32>().map_err(|_| Error::invalid_request(field, format!("'{s}' is not a token id"))))
        .collect()
}

fn load_engine(args: &mut Args) -> Result<Engine> {
    let path = args.require("model")?;
    let bytes = std::fs::read(&path)
        .map_err(|e| Error::invalid_request("model", format!("cannot read '{path}': {e}")))?;
    Engine::from_gguf_bytes(&bytes)
}

fn ms(since: web_time::Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1e4).round() / 10.0
}

/// Runs one command and returns the JSON to print.
pub fn run(argv: &[String]) -> Result<Value> {
    let mut args = Args::parse(argv)?;
    match args.command.as_str() {
        "tokenize" => {
            let engine = load_engine(&mut args)?;
            let text = args.require("text")?;
            let special = !args.flag("no_special");
            args.finish()?;
            Ok(json!({ "ids": engine.tokenizer().encode(&text, special)? }))
        }
        "info" => {
            let engine = load_engine(&mut args)?;
            args.finish()?;
            Ok(serde_json::to_value(engine.info()).map_err(|e| Error::Internal(e.to_string()))?)
        }
        "logprobs" => {
            let engine = load_engine(&mut args)?;
            let prompt = match (args.take("prompt_ids"), args.take("prompt")) {
                (Some(ids), None) => parse_ids("prompt_ids", &ids)?,
                (None, Some(text)) => engine.tokenizer().encode(&text, true)?,
                _ => return Err(Error::invalid_request("prompt_ids", "give exactly one of --prompt-ids or --prompt")),
            };
            let ids = parse_ids("ids", &args.require("ids")?)?;
            let top = match args.take("top") {
                Some(t) => t.parse::<usize>().ok().filter(|&k| (1..=100).contains(&k)).ok_or_else(|| {
                    Error::invalid_request("top", format!("'{t}' is not a number in 1..=100"))
                })?,
                None => 5,
            };
            args.finish()?;
            let steps = engine.top_logprobs(&prompt, &ids, top)?;
            Ok(json!({ "prompt_ids": prompt, "ids": ids, "top_logprobs": steps }))
        }
        "generate" => {
            let mut engine = load_engine(&mut args)?;
            let prompt = match (args.take("prompt"), args.take("chat")) {
                (Some(p), None) => p,
                (None, Some(message)) => engine.render_chat(&[ChatMessage::user(message)])?,
                _ => return Err(Error::invalid_request("prompt", "give exactly one of --prompt or --chat")),
            };
            let stream = args.flag("stream");
            let options: GenerationOptions = serde_json::from_value(args.into_object(&["stop"]))
                .map_err(|e| Error::invalid_request("options", e.to_string()))?;
            let started = web_time::Instant::now();
            let mut job = engine.start(&prompt, &options)?;
            let mut first_token_ms = None;
            let completions = engine.run(&mut job, &mut |event| {
                if let StepEvent::Token { text, .. } = event {
                    if first_token_ms.is_none() && !text.is_empty() {
                        first_token_ms = Some(ms(started));
                    }
                    if stream {
                        eprint!("{text}");
                    }
                }
                true
            })?;
            if stream {
                eprintln!();
            }
            let first = completions.first().ok_or_else(|| Error::Internal("no completion".into()))?;
            let generated: usize = completions.iter().map(|c| c.token_ids.len()).sum();
            let total = ms(started);
            Ok(json!({
                "text": first.text,
                "ids": first.token_ids,
                "completions": completions,
                "prompt_tokens": job.prompt_tokens(),
                "generated_tokens": generated,
                "timings_ms": { "first_token": first_token_ms, "total": total },
            }))
        }
        other => Err(Error::invalid_request("command", format!("unknown command '{other}'\n{USAGE}"))),
    }
}
