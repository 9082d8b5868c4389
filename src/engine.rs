//! The generation engine: a loaded model with its tokenizer and chat
//! template, driven one token at a time through [`TextGenerator`].
//!
//! A job reads its prompt in chunks (so a caller can cancel between them),
//! then draws each sequence in turn from a copy of the prompt's KV cache.
//! The engine keeps the KV cache of the last prompt, so a new prompt that
//! shares its beginning (brand, catalog, instructions) only reads the rest.

use serde::Serialize;

use crate::chat::ChatTemplate;
use crate::error::{Error, Result};
use crate::loader::Loaded;
use crate::model::{Model, State};
use crate::sampling::{log_sum_exp, Sampler};
use crate::textgen::{ChatMessage, Completion, FinishReason, GenerationOptions, StepEvent, TextGenerator};
use crate::tokenizer::{StreamDecoder, Tokenizer};

/// Prompt tokens read per `step` while prefilling: large enough for batched
/// matrix products, small enough that cancelling stays responsive.
pub const PREFILL_CHUNK: usize = 64;

/// What a loaded model is, for the page and the CLI.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub architecture: String,
    pub name: Option<String>,
    pub vocab_size: usize,
    pub context_length: usize,
    pub layers: usize,
    /// Bytes of weights in memory, after repacking.
    pub weight_bytes: usize,
}

pub struct Engine {
    model: Model,
    tokenizer: Tokenizer,
    template: ChatTemplate,
    info: ModelInfo,
    /// The last prompt read, and the state after reading it.
    prompt_cache: Option<(Vec<u32>, State)>,
}

/// One sequence of a job.
struct Sequence {
    seed: u32,
    sampler: Sampler,
    state: Option<State>,
    /// Logits for the next token.
    logits: Vec<f32>,
    generated: Vec<u32>,
    decoder: StreamDecoder,
    /// Decoded text so far (may run past a stop string until it is cut).
    text: String,
    /// Bytes of `text` already handed out.
    emitted: usize,
    logprob_sum: f64,
    finished: Option<FinishReason>,
}

/// A started generation: its prompt and its sequences.
pub struct Job {
    prompt: Vec<u32>,
    /// Prompt tokens already in `prompt_state`.
    read: usize,
    prompt_state: Option<State>,
    prompt_logits: Vec<f32>,
    options: GenerationOptions,
    sequences: Vec<Sequence>,
}

impl Job {
    /// Prompt tokens read so far, out of the total.
    pub fn prompt_progress(&self) -> (usize, usize) {
        (self.read, self.prompt.len())
    }

    pub fn prompt_tokens(&self) -> usize {
        self.prompt.len()
    }
}

impl Engine {
    pub fn new(loaded: Loaded) -> Result<Engine> {
        let Loaded { metadata, model } = loaded;
        let tokenizer = Tokenizer::from_metadata(&metadata)?;
        if tokenizer.vocab_size() > model.config().vocab_size {
            return Err(Error::MissingMetadata(format!(
                "the tokenizer has {} tokens but the model's embedding only {}",
                tokenizer.vocab_size(),
                model.config().vocab_size
            )));
        }
        let template = ChatTemplate::from_metadata(&metadata, &tokenizer)?;
        let c = model.config();
        let info = ModelInfo {
            architecture: metadata.str("general.architecture")?.to_string(),
            name: metadata.opt_str("general.name")?.map(str::to_string),
            vocab_size: c.vocab_size,
            context_length: c.context_length,
            layers: c.n_layer,
            weight_bytes: model.memory_bytes(),
        };
        Ok(Engine { model, tokenizer, template, info, prompt_cache: None })
    }

    /// Loads from a complete GGUF file in memory.
    pub fn from_gguf_bytes(bytes: &[u8]) -> Result<Engine> {
        Engine::new(crate::loader::load(bytes)?)
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Teacher forcing: reads `prompt` then `continuation`, and returns for
    /// each continuation token the `k` most likely tokens (id, log-probability)
    /// the model predicted at that step.
    pub fn top_logprobs(&self, prompt: &[u32], continuation: &[u32], k: usize) -> Result<Vec<Vec<(u32, f32)>>> {
        if prompt.is_empty() {
            return Err(Error::invalid_request("prompt_ids", "must not be empty"));
        }
        if continuation.is_empty() {
            return Ok(Vec::new());
        }
        let vocab = self.model.config().vocab_size;
        if let Some(bad) = prompt.iter().chain(continuation).find(|&&t| t as usize >= vocab) {
            return Err(Error::invalid_request("ids", format!("token id {bad} is outside the vocabulary of {vocab}")));
        }
        let mut tokens = prompt.to_vec();
        tokens.extend_from_slice(&continuation[..continuation.len() - 1]);
        let mut state = self.model.new_state();
        let logits = self.model.forward(&tokens, &mut state, true)?;
        Ok((0..continuation.len())
            .map(|step| {
                let row = &logits[(prompt.len() - 1 + step) * vocab..][..vocab];
                crate::sampling::top_logprobs(row, k)
            })
            .collect())
    }

    /// The KV cache to start `prompt` from: the cached prompt state cut to
    /// the common prefix (leaving at least one token to read for logits).
    fn reusable_state(&mut self, prompt: &[u32]) -> (State, usize) {
        if let Some((ids, state)) = &self.prompt_cache {
            let common = ids.iter().zip(prompt).take_while(|(a, b)| a == b).count().min(prompt.len() - 1);
            if common > 0 {
                let mut state = state.clone();
                self.model.truncate(&mut state, common);
                return (state, common);
            }
        }
        (self.model.new_state(), 0)
    }

    fn prefill_step(&mut self, job: &mut Job) -> Result<()> {
        if job.prompt_state.is_none() {
            let (state, reused) = self.reusable_state(&job.prompt);
            job.prompt_state = Some(state);
            job.read = reused;
        }
        let state = job.prompt_state.as_mut().ok_or_else(|| Error::Internal("prompt state missing".into()))?;
        let end = (job.read + PREFILL_CHUNK).min(job.prompt.len());
        let logits = self.model.forward(&job.prompt[job.read..end], state, false)?;
        job.read = end;
        if end == job.prompt.len() {
            job.prompt_logits = logits;
            self.prompt_cache = Some((job.prompt.clone(), state.clone()));
        }
        Ok(())
    }

    /// Draws one token for `seq`, updating its text and finish state;
    /// returns the newly safe-to-show text.
    fn decode_step(&mut self, job: &mut Job, index: usize) -> Result<String> {
        let context = self.model.config().context_length;
        let seq = &mut job.sequences[index];
        if seq.state.is_none() {
            seq.state = job.prompt_state.clone();
            seq.logits = job.prompt_logits.clone();
        }
        let state = seq.state.as_mut().ok_or_else(|| Error::Internal("sequence state missing".into()))?;
        let token = seq.sampler.sample(&seq.logits, &seq.generated);
        let lse = log_sum_exp(&seq.logits);
        seq.logprob_sum += (seq.logits[token as usize] - lse) as f64;
        seq.generated.push(token);

        if self.tokenizer.is_eog(token) {
            seq.finished = Some(FinishReason::Eos);
            return Ok(flush_text(seq, &job.options.stop, true));
        }
        let piece = seq.decoder.push(&self.tokenizer, token);
        seq.text.push_str(&piece);
        if let Some(cut) = find_stop(&seq.text, &job.options.stop, seq.emitted) {
            seq.text.truncate(cut);
            seq.finished = Some(FinishReason::Stop);
            return Ok(flush_text(seq, &job.options.stop, true));
        }
        if seq.generated.len() >= job.options.max_new_tokens as usize {
            seq.finished = Some(FinishReason::Length);
            return Ok(flush_text(seq, &job.options.stop, true));
        }
        if state.len() >= context {
            seq.finished = Some(FinishReason::ContextFull);
            return Ok(flush_text(seq, &job.options.stop, true));
        }
        seq.logits = self.model.forward(&[token], state, false)?;
        Ok(flush_text(seq, &job.options.stop, false))
    }
}

/// Byte offset of the first stop string in `text` that ends after `from`.
fn find_stop(text: &str, stops: &[String], from: usize) -> Option<usize> {
    stops
        .iter()
        .filter_map(|s| {
            let start = from.saturating_sub(s.len());
            let start = (0..=start).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            text[start..].find(s.as_str()).map(|i| start + i)
        })
        .min()
}

/// Hands out text that can no longer become part of a stop string.
fn flush_text(seq: &mut Sequence, stops: &[String], finished: bool) -> String {
    if finished {
        let tail = seq.decoder.finish();
        if seq.finished != Some(FinishReason::Stop) {
            seq.text.push_str(&tail);
        }
        seq.emitted = seq.emitted.min(seq.text.len());
        let out = seq.text[seq.emitted..].to_string();
        seq.emitted = seq.text.len();
        return out;
    }
    // Hold back the longest suffix that is a prefix of some stop string.
    let mut safe = seq.text.len();
    for s in stops {
        for k in (1..s.len()).rev() {
            if seq.text.len() >= k && s.is_char_boundary(k) && seq.text.ends_with(&s[..k]) {
                safe = safe.min(seq.text.len() - k);
                break;
            }
        }
    }
    if safe <= seq.emitted {
        return String::new();
    }
    let out = seq.text[seq.emitted..safe].to_string();
    seq.emitted = safe;
    out
}

fn random_seed() -> u32 {
    let mut b = [0u8; 4];
    match getrandom::fill(&mut b) {
        Ok(()) => u32::from_le_bytes(b),
        // No entropy source: a clock-derived seed still varies between calls.
        Err(_) => web_time::SystemTime::now()
            .duration_since(web_time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() ^ d.as_secs() as u32),
    }
}

impl TextGenerator for Engine {
    type Job = Job;

    fn render_chat(&self, messages: &[ChatMessage]) -> Result<String> {
        self.template.render(messages, true)
    }

    fn start(&mut self, prompt: &str, options: &GenerationOptions) -> Result<Job> {
        options.validate()?;
        let mut ids = Vec::new();
        if self.tokenizer.specials().add_bos {
            if let Some(bos) = self.tokenizer.specials().bos {
                ids.push(bos);
            }
        }
        ids.extend(self.tokenizer.encode(prompt, true)?);
        if ids.is_empty() {
            return Err(Error::invalid_request("prompt", "must not be empty"));
        }
        let limit = self.model.config().context_length;
        if ids.len() >= limit {
            return Err(Error::ContextOverflow { needed: ids.len() + 1, limit });
        }
        let base = options.seed.unwrap_or_else(random_seed);
        let sequences = (0..options.num_return_sequences)
            .map(|i| {
                let seed = base.wrapping_add(i);
                Sequence {
                    seed,
                    sampler: Sampler::new(options, seed),
                    state: None,
                    logits: Vec::new(),
                    generated: Vec::new(),
                    decoder: StreamDecoder::new(),
                    text: String::new(),
                    emitted: 0,
                    logprob_sum: 0.0,
                    finished: None,
                }
            })
            .collect();
        Ok(Job {
            prompt: ids,
            read: 0,
            prompt_state: None,
            prompt_logits: Vec::new(),
            options: options.clone(),
            sequences,
        })
    }

    fn step(&mut self, job: &mut Job) -> Result<StepEvent> {
        if job.read < job.prompt.len() {
            self.prefill_step(job)?;
            return Ok(StepEvent::Token { sequence: 0, text: String::new() });
        }
        if let Some(index) = job.sequences.iter().position(|s| s.finished.is_none()) {
            let text = self.decode_step(job, index)?;
            if job.sequences[index].finished.is_some() {
                // Free this sequence's KV cache as soon as it is done.
                job.sequences[index].state = None;
            }
            return Ok(StepEvent::Token { sequence: index, text });
        }
        Ok(StepEvent::Finished(
            job.sequences
                .iter()
                .map(|s| Completion {
                    text: s.text.clone(),
                    token_ids: s.generated.clone(),
                    finish_reason: s.finished.unwrap_or(FinishReason::Length),
                    seed: s.seed,
                    mean_logprob: if s.generated.is_empty() {
                        0.0
                    } else {
                        (s.logprob_sum / s.generated.len() as f64) as f32
                    },
                })
                .collect(),
        ))
    }
}
