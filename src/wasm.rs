//! The JavaScript boundary (wasm32 only): every `#[wasm_bindgen]` export lives here.
//!
//! Each export takes and returns plain objects (serde-wasm-bindgen, JSON-shaped:
//! maps become objects, integers become numbers) and runs through [`export`],
//! which installs the panic hook once and turns a [`crate::Error`] into a JS
//! `Error` whose `message` is the error's Display and whose `name` is its
//! stable [`Error::code`]. Nothing here panics on input.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::{Error, Result};
use crate::gguf;
use crate::textgen::{ChatMessage, GenerationOptions, StepEvent, TextGenerator};

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

/// Heap bytes in use now (allocated, not yet freed): with the linear memory's
/// size, what a leak test samples.
#[wasm_bindgen(js_name = heapBytes)]
pub fn heap_bytes() -> f64 {
    crate::heap::live_bytes() as f64
}

/// Threads the matrix products are split across (1 unless this is the
/// threaded build and [`set_threads`] was called).
#[wasm_bindgen(js_name = threadCount)]
pub fn thread_count() -> usize {
    crate::threads::threads()
}

/// Threaded build only: splits products across `n` threads (the caller and
/// `n - 1` helper Web Workers, each inside [`thread_helper`]), at most
/// [`crate::threads::MAX_THREADS`]; returns the number set.
#[cfg(target_feature = "atomics")]
#[wasm_bindgen(js_name = setThreads)]
pub fn set_threads(n: usize) -> usize {
    crate::threads::set_threads(n)
}

/// Threaded build only: `[module, memory]`, the compiled module and the
/// shared memory a helper Web Worker instantiates the engine's copy on.
#[cfg(target_feature = "atomics")]
#[wasm_bindgen(js_name = threadShared)]
pub fn thread_shared() -> js_sys::Array {
    js_sys::Array::of2(&wasm_bindgen::module(), &wasm_bindgen::memory())
}

/// Threaded build only: a helper Web Worker's whole life (it never returns;
/// the worker is terminated with the engine's). The worker instantiated this
/// module on the engine's shared memory first (www/threads.js).
#[cfg(target_feature = "atomics")]
#[wasm_bindgen(js_name = threadHelper)]
pub fn thread_helper() {
    crate::threads::helper()
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

/// Feeds a model file to the engine as it downloads: `push` each chunk, then
/// `finish`. The file is never held whole in wasm memory.
#[wasm_bindgen]
pub struct ModelLoader {
    inner: Option<crate::loader::ModelLoader>,
}

#[wasm_bindgen]
impl ModelLoader {
    /// `totalBytes`: the file's size when known (Content-Length), so a bad
    /// file is reported before all of it has arrived.
    #[wasm_bindgen(constructor)]
    pub fn new(total_bytes: Option<f64>) -> ModelLoader {
        console_error_panic_hook::set_once();
        let total = total_bytes.filter(|t| t.is_finite() && *t >= 0.0).map(|t| t as u64);
        ModelLoader { inner: Some(crate::loader::ModelLoader::new(total)) }
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<(), JsError> {
        let loader = self.inner.as_mut().ok_or_else(|| js_error(&finished()))?;
        loader.push(chunk).map_err(|e| {
            self.inner = None;
            js_error(&e)
        })
    }

    /// Bytes received so far.
    #[wasm_bindgen(getter)]
    pub fn received(&self) -> f64 {
        self.inner.as_ref().map_or(0.0, |l| l.received() as f64)
    }

    /// Lower-case hex SHA-256 of the bytes pushed so far (call before `finish`).
    pub fn sha256(&self) -> Result<String, JsError> {
        self.inner.as_ref().map(|l| l.sha256()).ok_or_else(|| js_error(&finished()))
    }

    /// Builds the engine (tokenizer, chat template, weights) once every byte
    /// has arrived. The loader cannot be used afterwards.
    pub fn finish(&mut self) -> Result<Engine, JsError> {
        let loader = self.inner.take().ok_or_else(|| js_error(&finished()))?;
        let loaded = loader.finish().map_err(|e| js_error(&e))?;
        let engine = crate::engine::Engine::new(loaded).map_err(|e| js_error(&e))?;
        Ok(Engine { inner: engine })
    }
}

fn finished() -> Error {
    Error::invalid_request("loader", "this loader already finished or failed; start a new one")
}

/// A loaded model, ready to generate.
#[wasm_bindgen]
pub struct Engine {
    inner: crate::engine::Engine,
}

/// A started generation, advanced by `Engine.step`.
#[wasm_bindgen]
pub struct Generation {
    job: crate::engine::Job,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenizeRequest {
    text: String,
    /// Parse chat-template markers as special tokens (default true).
    #[serde(default = "yes")]
    special: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChatRequest {
    messages: Vec<ChatMessage>,
}

/// Either a raw `prompt` or chat `messages` (rendered with the model's template).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GenerateRequest {
    prompt: Option<String>,
    messages: Option<Vec<ChatMessage>>,
    #[serde(default)]
    options: GenerationOptions,
}

/// What one `step` produced, for JavaScript.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
enum StepOut<'a> {
    /// New text of one sequence (empty while the prompt is being read).
    #[serde(rename_all = "camelCase")]
    Token { sequence: usize, text: &'a str, prompt_read: usize, prompt_tokens: usize },
    #[serde(rename_all = "camelCase")]
    Done { completions: &'a [crate::textgen::Completion], prompt_tokens: usize },
}

/// Reads a request object. Through `serde_json::Value` first: serde-wasm-bindgen
/// looks up only the fields a struct declares, so on its own it would let a
/// typo like `temprature` pass silently instead of failing `deny_unknown_fields`.
fn from_js<T: serde::de::DeserializeOwned>(what: &str, value: JsValue) -> Result<T> {
    let json: serde_json::Value =
        serde_wasm_bindgen::from_value(value).map_err(|e| Error::invalid_request(what, e.to_string()))?;
    serde_json::from_value(json).map_err(|e| Error::invalid_request(what, e.to_string()))
}

#[wasm_bindgen]
impl Engine {
    /// `{architecture, name, vocab_size, context_length, layers, weight_bytes, kernels}`.
    pub fn info(&self) -> Result<JsValue, JsError> {
        export(|| {
            #[derive(Serialize)]
            struct Info<'a> {
                #[serde(flatten)]
                model: &'a crate::engine::ModelInfo,
                kernels: &'static str,
                threads: usize,
            }
            to_js(&Info {
                model: self.inner.info(),
                kernels: crate::quant::kernels::KERNELS,
                threads: crate::threads::threads(),
            })
        })
    }

    /// `{text, special?}` → `{ids}`.
    pub fn tokenize(&self, request: JsValue) -> Result<JsValue, JsError> {
        export(|| {
            let r: TokenizeRequest = from_js("tokenize", request)?;
            #[derive(Serialize)]
            struct Ids {
                ids: Vec<u32>,
            }
            to_js(&Ids { ids: self.inner.tokenizer().encode(&r.text, r.special)? })
        })
    }

    /// `{messages}` → the prompt string the model's chat template makes of them.
    #[wasm_bindgen(js_name = renderChat)]
    pub fn render_chat(&self, request: JsValue) -> Result<String, JsError> {
        let run = || -> Result<String> {
            let r: ChatRequest = from_js("renderChat", request)?;
            self.inner.render_chat(&r.messages)
        };
        console_error_panic_hook::set_once();
        run().map_err(|e| js_error(&e))
    }

    /// `{prompt | messages, options}` → a generation to advance with `step`.
    pub fn generate(&mut self, request: JsValue) -> Result<Generation, JsError> {
        console_error_panic_hook::set_once();
        let run = || -> Result<Generation> {
            let r: GenerateRequest = from_js("generate", request)?;
            let prompt = match (r.prompt, r.messages) {
                (Some(p), None) => p,
                (None, Some(m)) => self.inner.render_chat(&m)?,
                _ => return Err(Error::invalid_request("prompt", "give exactly one of `prompt` or `messages`")),
            };
            Ok(Generation { job: self.inner.start(&prompt, &r.options)? })
        };
        run().map_err(|e| js_error(&e))
    }

    /// A generation that only reads `prompt` into the prompt cache (draws
    /// nothing): prompts that begin the same way later skip that part.
    pub fn warmup(&mut self, prompt: &str) -> Result<Generation, JsError> {
        console_error_panic_hook::set_once();
        self.inner.start_warmup(prompt).map(|job| Generation { job }).map_err(|e| js_error(&e))
    }

    /// Advances a generation by one prompt chunk or one token per sequence:
    /// `{type: "token", sequence, text, promptRead, promptTokens}` or
    /// `{type: "done", completions, promptTokens}`. Call it from a loop that
    /// yields to the event loop, so a cancel message can arrive in between.
    pub fn step(&mut self, generation: &mut Generation) -> Result<JsValue, JsError> {
        export(|| {
            let (read, total) = generation.job.prompt_progress();
            match self.inner.step(&mut generation.job)? {
                StepEvent::Token { sequence, text } => to_js(&StepOut::Token {
                    sequence,
                    text: &text,
                    prompt_read: read.max(generation.job.prompt_progress().0),
                    prompt_tokens: total,
                }),
                StepEvent::Finished(done) => to_js(&StepOut::Done { completions: &done, prompt_tokens: total }),
            }
        })
    }
}

/// A store (catalog + brand) ready to write for.
#[wasm_bindgen]
pub struct Writer {
    inner: crate::marketing::Writer,
}

/// A write or rewrite in progress, advanced by `step`.
#[wasm_bindgen]
pub struct WriteTask {
    job: crate::marketing::WriteJob<crate::engine::Engine>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreInput {
    catalog: serde_json::Value,
    brand: serde_json::Value,
    /// The site's language for visitors whose language the model does not
    /// write (a primary subtag or tag; default "en").
    #[serde(default)]
    default_language: Option<String>,
}

#[wasm_bindgen]
impl Writer {
    /// `{catalog, brand, default_language?}` in the fixture formats (unknown
    /// fields ignored, bad values cleaned with warnings, unusable ones
    /// rejected by name).
    #[wasm_bindgen(constructor)]
    pub fn new(store: JsValue) -> Result<Writer, JsError> {
        console_error_panic_hook::set_once();
        let run = || -> Result<Writer> {
            let input: StoreInput = from_js("store", store)?;
            let store = crate::marketing::Store::from_values(&input.catalog, &input.brand)?;
            let mut config = crate::marketing::WriterConfig::default();
            if let Some(tag) = input.default_language {
                if !crate::marketing::lang::is_language_tag(&tag) {
                    return Err(Error::invalid_request("default_language", "not a language tag such as en or de-DE"));
                }
                config.default_language = crate::marketing::lang::primary(&tag);
            }
            Ok(Writer { inner: crate::marketing::Writer::with_config(store, config) })
        };
        run().map_err(|e| js_error(&e))
    }

    /// What cleaning the catalog and brand changed: `[{field, message}]`.
    pub fn warnings(&self) -> Result<JsValue, JsError> {
        export(|| to_js(&self.inner.store().warnings))
    }

    /// Ideation only, no model: `{plan, warnings}` for a write request.
    pub fn plan(&self, request: JsValue) -> Result<JsValue, JsError> {
        export(|| {
            let request = crate::marketing::WriteRequest::from_value(from_js("write", request)?)?;
            let (plan, warnings) = self.inner.plan(&request)?;
            #[derive(Serialize)]
            struct Planned {
                plan: crate::marketing::Plan,
                warnings: Vec<crate::marketing::Warning>,
            }
            to_js(&Planned { plan, warnings })
        })
    }

    /// The visitor-independent beginnings of prompts for `kind`, as an
    /// array of strings (feed each to `Engine.warmup` ahead of the first write).
    #[wasm_bindgen(js_name = warmupPrompts)]
    pub fn warmup_prompts(&self, engine: &Engine, kind: &str) -> Result<JsValue, JsError> {
        console_error_panic_hook::set_once();
        let run = || to_js(&self.inner.warmup_prompts(crate::marketing::ContentKind::parse(kind)?, &engine.inner)?);
        run().map_err(|e| js_error(&e))
    }

    /// Starts a write (`{kind, goal?, tone?, locale?, profile?, seed?, num_return_sequences?, ...}`).
    pub fn write(&self, engine: &Engine, request: JsValue) -> Result<WriteTask, JsError> {
        console_error_panic_hook::set_once();
        let run = || -> Result<WriteTask> {
            let request = crate::marketing::WriteRequest::from_value(from_js("write", request)?)?;
            Ok(WriteTask { job: self.inner.start(&request, &engine.inner)? })
        };
        run().map_err(|e| js_error(&e))
    }

    /// Starts a rewrite (`{kind, copy, op: "shorter" | "longer" | "more-formal" | "more-casual", ...}`).
    pub fn rewrite(&self, engine: &Engine, request: JsValue) -> Result<WriteTask, JsError> {
        console_error_panic_hook::set_once();
        let run = || -> Result<WriteTask> {
            let request = crate::marketing::RewriteRequest::from_value(from_js("rewrite", request)?)?;
            Ok(WriteTask { job: self.inner.start_rewrite(&request, &engine.inner)? })
        };
        run().map_err(|e| js_error(&e))
    }
}

#[wasm_bindgen]
impl WriteTask {
    /// The plan (known before any token is drawn).
    pub fn plan(&self) -> Result<JsValue, JsError> {
        export(|| to_js(self.job.plan()))
    }

    /// Advances by one model token or one pipeline stage:
    /// `{type: "attempt", ...}`, `{type: "token", attempt, variant, text}` (raw,
    /// unchecked model text: a preview at most) or `{type: "done", result}`.
    pub fn step(&mut self, engine: &mut Engine) -> Result<JsValue, JsError> {
        export(|| to_js(&self.job.step(&mut engine.inner)?))
    }
}
