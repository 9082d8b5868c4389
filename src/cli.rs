//! The native command-line tool over the same core the browser runs: each
//! command prints one JSON object on stdout; errors go to stderr with a
//! non-zero exit. Generation options are the request's own field names
//! (`--max_new_tokens 32` or `--max-new-tokens 32`), checked by the same
//! deserializer as the JS API, so a typo fails loudly.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use std::path::{Path, PathBuf};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::marketing::{evaluate, ContentKind, Store, WriteRequest, Writer};
use crate::textgen::{ChatMessage, GenerationOptions, StepEvent, TextGenerator};

pub const USAGE: &str = "\
usage:
  banneret tokenize --model PATH --text TEXT [--no-special]
  banneret logprobs --model PATH (--prompt-ids 1,2,3 | --prompt TEXT) --ids 4,5,6 [--top 5]
  banneret generate --model PATH (--prompt TEXT | --chat MESSAGE) [--stream]
                    [--max_new_tokens N] [--temperature T] [--top_k K] [--top_p P] [--min_p P]
                    [--repetition_penalty R] [--seed S] [--stop STR]... [--num_return_sequences N]
  banneret write --model PATH --store DIR --profile FILE --kind KIND [--goal TEXT] [--tone T]
                 [--seed N] [--variants N] [--locale TAG] [--date YYYY-MM-DD]
  banneret eval --model PATH --store DIR [--kinds banner,social_post,...] [--goal TEXT] [--seed N] [--json]
  banneret info --model PATH

KIND: banner, search_ad, social_post, email_subject, product_blurb. DIR holds catalog.json and
brand.json; eval runs every profile in DIR/profiles/*.json through every kind.";

/// Parsed `--key value` arguments (`--flag` alone is `true`); repeated keys collect.
pub struct Args {
    pub command: String,
    values: BTreeMap<String, Vec<String>>,
}

const FLAGS: &[&str] = &["no_special", "stream", "json"];

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

fn read_json(field: &str, path: &str) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::invalid_request(field, format!("cannot read '{path}': {e}")))?;
    serde_json::from_str(&text).map_err(|e| Error::invalid_input(field, format!("'{path}' is not JSON: {e}")))
}

/// Every `*.json` in `dir`, by file stem, sorted.
fn profiles_in(dir: &Path) -> Result<Vec<(String, Value)>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::invalid_request("store", format!("cannot list {}: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let name = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            Ok((name, read_json("profile", &p.to_string_lossy())?))
        })
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
                "threads": crate::threads::threads(),
                "timings_ms": { "first_token": first_token_ms, "total": total },
            }))
        }
        "write" => {
            let mut engine = load_engine(&mut args)?;
            let writer = Writer::new(Store::load_dir(Path::new(&args.require("store")?))?);
            let profile = read_json("profile", &args.require("profile")?)?;
            let mut request = args.into_object(&[]);
            request["profile"] = profile;
            let request = WriteRequest::from_value(request)?;
            let result = writer.write(&request, &mut engine)?;
            serde_json::to_value(&result).map_err(|e| Error::Internal(e.to_string()))
        }
        "eval" => {
            let mut engine = load_engine(&mut args)?;
            let dir = PathBuf::from(args.require("store")?);
            let writer = Writer::new(Store::load_dir(&dir)?);
            let kinds: Vec<ContentKind> = match args.take("kinds") {
                Some(list) => list
                    .split(',')
                    .map(ContentKind::parse)
                    .collect::<Result<_>>()?,
                None => ContentKind::all().collect(),
            };
            let json = args.flag("json");
            let mut base = args.into_object(&[]);
            base["kind"] = json!(kinds.first().map_or("banner", |k| k.name()));
            let base = WriteRequest::from_value(base)?;
            let profiles = profiles_in(&dir.join("profiles"))?;
            let report = evaluate(&writer, &profiles, &kinds, &base, &mut engine, &mut |row| {
                if !json {
                    eprintln!("{} / {}: {}", row.profile, row.kind.name(), if row.pass { "pass" } else { "FAIL" });
                }
            })?;
            if json {
                serde_json::to_value(&report).map_err(|e| Error::Internal(e.to_string()))
            } else {
                print!("{}", report.table());
                Ok(Value::Null)
            }
        }
        other => Err(Error::invalid_request("command", format!("unknown command '{other}'\n{USAGE}"))),
    }
}
