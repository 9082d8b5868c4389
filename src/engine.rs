//! The generation engine: a loaded model with its tokenizer and chat
//! template, driven one token at a time through [`TextGenerator`].
//!
//! A job reads its prompt in chunks (so a caller can cancel between them),
//! freezes the prompt's KV cache, and then decodes all its sequences
//! together: each step draws one token per unfinished sequence and runs them
//! through the model as one batch, every sequence reading the shared prompt
//! cache plus its own. The engine keeps the last prompt's cache, so a new
//! prompt that shares its beginning (brand, catalog, instructions) only
//! reads the rest.

use std::collections::VecDeque;
use std::rc::Rc;

use serde::Serialize;

use crate::chat::ChatTemplate;
use crate::error::{Error, Result};
use crate::loader::Loaded;
use crate::model::{Frozen, Model, Scratch, Segment, State};
use crate::sampling::{log_sum_exp, Sampler};
use crate::textgen::{ChatMessage, Completion, FinishReason, GenerationOptions, StepEvent, TextGenerator};
use crate::tokenizer::{StreamDecoder, Tokenizer};

/// Prompt tokens read per `step` while prefilling: large enough for batched
/// matrix products, small enough that cancelling stays responsive.
pub const PREFILL_CHUNK: usize = 64;

/// Bytes of KV cache kept for recent prompts (each entry is a frozen prompt;
/// the least recently used go first). SmolLM2 needs 45 KiB per position, so
/// this holds about 730 positions; a prompt that extends a cached one holds
/// only its own (a banner's two warmed-up beginnings take ~275, each
/// visitor's tail ~170).
pub const PROMPT_CACHE_BYTES: usize = 32 << 20;

/// What a loaded model is, for the page and the CLI.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub architecture: String,
    /// Whether the model has a chat template (instruction-tuned) or takes plain prompts.
    pub chat: bool,
    pub name: Option<String>,
    /// Languages it writes copy in (primary subtags, [`crate::languages`]).
    pub languages: Vec<String>,
    pub vocab_size: usize,
    pub context_length: usize,
    pub layers: usize,
    /// Bytes of weights in memory, after repacking.
    pub weight_bytes: usize,
}

pub struct Engine {
    model: Model,
    tokenizer: Tokenizer,
    /// `None` for base models without a template (and without ChatML markers).
    template: Option<ChatTemplate>,
    info: ModelInfo,
    /// Recently read prompts and their frozen caches, least recently used first.
    prompt_cache: Vec<(Vec<u32>, Rc<Frozen>)>,
    scratch: Scratch,
}

/// One sequence of a job.
struct Sequence {
    seed: u32,
    sampler: Sampler,
    state: Option<State>,
    /// Logits for the next token.
    logits: Vec<f32>,
    generated: Vec<u32>,
    /// Tokens to read next instead of drawing one ([`TextGenerator::resume`]).
    forced: Vec<u32>,
    /// Where the tokens the repetition penalty looks at begin in
    /// `generated` (after the text a resume handed over).
    history_from: usize,
    decoder: StreamDecoder,
    /// Decoded text so far (may run past a stop string until it is cut).
    text: String,
    /// Bytes of `text` already handed out.
    emitted: usize,
    /// Log-probabilities of the drawn tokens (not the forced ones): their
    /// sum, how many, and the sum before the last one was drawn.
    logprob_sum: f64,
    drawn: usize,
    logprob_sum_before: f64,
    finished: Option<FinishReason>,
}

/// A started generation: its prompt and its sequences.
pub struct Job {
    prompt: Vec<u32>,
    /// Prompt tokens already in `prompt_state`.
    read: usize,
    /// The prompt's cache while it is being read.
    prompt_state: Option<State>,
    /// The prompt's cache once read, shared by every sequence.
    prompt_frozen: Option<Rc<Frozen>>,
    prompt_logits: Vec<f32>,
    options: GenerationOptions,
    sequences: Vec<Sequence>,
    /// Events of the last batched step not yet handed out.
    pending: VecDeque<StepEvent>,
    /// Token rows the model has read for this job (see [`Job::rows_read`]).
    rows_read: usize,
}

impl Job {
    /// Prompt tokens read so far, out of the total.
    pub fn prompt_progress(&self) -> (usize, usize) {
        (self.read, self.prompt.len())
    }

    pub fn prompt_tokens(&self) -> usize {
        self.prompt.len()
    }

    /// Token rows the model has read for this job: the prompt's (not those
    /// reused from the prompt cache) and one per token for each distinct
    /// sequence (sequences that drew the same tokens are read once).
    pub fn rows_read(&self) -> usize {
        self.rows_read
    }
}

impl Engine {
    pub fn new(loaded: Loaded) -> Result<Engine> {
        let Loaded { metadata, model } = loaded;
        let tokenizer = Tokenizer::from_metadata(&metadata)?;
        if tokenizer.vocab_size() > model.shape().vocab_size {
            return Err(Error::MissingMetadata(format!(
                "the tokenizer has {} tokens but the model's embedding only {}",
                tokenizer.vocab_size(),
                model.shape().vocab_size
            )));
        }
        // A broken template is an error; a missing one means raw prompts only.
        let template = match metadata.get("tokenizer.chat_template") {
            Some(_) => Some(ChatTemplate::from_metadata(&metadata, &tokenizer)?),
            None => ChatTemplate::from_metadata(&metadata, &tokenizer).ok(),
        };
        let c = model.shape();
        let architecture = metadata.str("general.architecture")?.to_string();
        let info = ModelInfo {
            languages: crate::languages::for_architecture(&architecture).iter().map(|s| s.to_string()).collect(),
            architecture,
            chat: template.is_some(),
            name: metadata.opt_str("general.name")?.map(str::to_string),
            vocab_size: c.vocab_size,
            context_length: c.context_length,
            layers: c.layers,
            weight_bytes: model.memory_bytes(),
        };
        Ok(Engine { model, tokenizer, template, info, prompt_cache: Vec::new(), scratch: Scratch::default() })
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
        let vocab = self.model.shape().vocab_size;
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

    /// The KV cache to start `prompt` from: the cached prompt sharing the
    /// longest beginning with it, cut there (leaving at least one token to
    /// read for logits).
    fn reusable_state(&mut self, prompt: &[u32]) -> (State, usize) {
        let best = self
            .prompt_cache
            .iter()
            .enumerate()
            .map(|(i, (ids, _))| (i, ids.iter().zip(prompt).take_while(|(a, b)| a == b).count().min(prompt.len() - 1)))
            .max_by_key(|&(i, common)| (common, i));
        match best {
            Some((i, common)) if common > 0 => {
                let entry = self.prompt_cache.remove(i);
                let state = self.model.state_from(&entry.1, common);
                self.prompt_cache.push(entry);
                (state, common)
            }
            _ => (self.model.new_state(), 0),
        }
    }

    /// Remembers a read prompt, evicting the least recently used beyond the budget.
    fn remember_prompt(&mut self, ids: Vec<u32>, frozen: Rc<Frozen>) {
        self.prompt_cache.retain(|(cached, _)| *cached != ids);
        self.prompt_cache.push((ids, frozen));
        while self.prompt_cache_bytes() > PROMPT_CACHE_BYTES && self.prompt_cache.len() > 1 {
            self.prompt_cache.remove(0);
        }
    }

    /// Bytes held by cached prompts: each one's own rows, and once each the
    /// older prompts they start with (kept alive by them, cached or not).
    pub fn prompt_cache_bytes(&self) -> usize {
        let mut counted: Vec<&Rc<Frozen>> = Vec::new();
        for f in self.prompt_cache.iter().flat_map(|(_, f)| std::iter::successors(Some(f), |f| f.base())) {
            if !counted.iter().any(|c| Rc::ptr_eq(c, f)) {
                counted.push(f);
            }
        }
        counted.iter().map(|f| f.bytes()).sum()
    }

    /// A job that only reads `prompt` into the prompt cache (no sequences):
    /// later prompts that begin the same way start from it. Step it like any job.
    pub fn start_warmup(&mut self, prompt: &str) -> Result<Job> {
        let options = GenerationOptions { num_return_sequences: 1, ..GenerationOptions::greedy(1) };
        let mut job = self.start(prompt, &options)?;
        job.sequences.clear();
        Ok(job)
    }

    fn prefill_step(&mut self, job: &mut Job) -> Result<()> {
        if job.prompt_state.is_none() {
            let (mut state, reused) = self.reusable_state(&job.prompt);
            state.reserve(job.prompt.len() - reused);
            job.prompt_state = Some(state);
            job.read = reused;
        }
        let state = job.prompt_state.as_mut().ok_or_else(|| Error::Internal("prompt state missing".into()))?;
        let end = (job.read + PREFILL_CHUNK).min(job.prompt.len());
        let tokens = &job.prompt[job.read..end];
        let logits = self.model.forward_batch(&mut [Segment { tokens, state }], &mut self.scratch, false)?;
        job.rows_read += tokens.len();
        job.read = end;
        if end == job.prompt.len() {
            let frozen = job.prompt_state.take().ok_or_else(|| Error::Internal("prompt state missing".into()))?.freeze();
            job.prompt_logits = logits;
            self.remember_prompt(job.prompt.clone(), frozen.clone());
            job.prompt_frozen = Some(frozen);
        }
        Ok(())
    }

    /// Draws one token for every unfinished sequence (or takes the tokens
    /// handed to it by [`TextGenerator::resume`]), then runs the ones that
    /// continue through the model as one batch.
    fn decode_step(&mut self, job: &mut Job) -> Result<()> {
        let context = self.model.shape().context_length;
        let frozen = job.prompt_frozen.clone().ok_or_else(|| Error::Internal("prompt not read".into()))?;
        // (sequence, the tokens it reads this step) for those that continue.
        let mut continuing: Vec<(usize, Vec<u32>)> = Vec::new();
        for (index, seq) in job.sequences.iter_mut().enumerate() {
            if seq.finished.is_some() {
                // A sequence that ended by the model kept its cache for one
                // step, in case it was resumed; it was not.
                seq.state = None;
                continue;
            }
            if seq.state.is_none() {
                seq.state = Some(self.model.state_from(&frozen, frozen.len()));
                seq.logits = job.prompt_logits.clone();
            }
            let tokens = match std::mem::take(&mut seq.forced) {
                forced if !forced.is_empty() => forced,
                _ => {
                    let token = seq.sampler.sample(&seq.logits, &seq.generated[seq.history_from..]);
                    seq.logprob_sum_before = seq.logprob_sum;
                    seq.logprob_sum += (seq.logits[token as usize] - log_sum_exp(&seq.logits)) as f64;
                    seq.drawn += 1;
                    vec![token]
                }
            };
            let stop = &job.options.stop;
            let mut finished = None;
            for (taken, &token) in tokens.iter().enumerate() {
                seq.generated.push(token);
                finished = if self.tokenizer.is_eog(token) {
                    Some(FinishReason::Eos)
                } else {
                    let piece = seq.decoder.push(&self.tokenizer, token);
                    seq.text.push_str(&piece);
                    if let Some(cut) = find_stop(&seq.text, stop, seq.emitted) {
                        seq.text.truncate(cut);
                        Some(FinishReason::Stop)
                    } else if seq.generated.len() >= job.options.max_new_tokens as usize {
                        Some(FinishReason::Length)
                    } else if seq.state.as_ref().map_or(0, State::len) + taken >= context {
                        Some(FinishReason::ContextFull)
                    } else {
                        None
                    }
                };
                if finished.is_some() {
                    break;
                }
            }
            seq.finished = finished;
            let text = flush_text(seq, stop, finished.is_some());
            job.pending.push_back(StepEvent::Token { sequence: index, text });
            match finished {
                // Kept for one step: the caller may resume it.
                Some(FinishReason::Eos) => {}
                // Free this sequence's own cache as soon as it is done.
                Some(_) => seq.state = None,
                None => continuing.push((index, tokens)),
            }
        }
        if continuing.is_empty() {
            return Ok(());
        }
        // Variants often open alike: a sequence that has read exactly what
        // an earlier one has, and reads the same tokens now, is the same
        // sequence to the model. Only the first of them is read; the others
        // take its new cache rows and logits (the bits they would compute).
        let twin_of: Vec<Option<usize>> = continuing
            .iter()
            .enumerate()
            .map(|(k, (i, tokens))| {
                let a = &job.sequences[*i];
                continuing[..k].iter().position(|(j, earlier)| {
                    let b = &job.sequences[*j];
                    earlier == tokens
                        && b.generated == a.generated
                        && matches!((&a.state, &b.state), (Some(x), Some(y)) if x.holds_the_same_positions_as(y))
                })
            })
            .collect();
        let mut segments = Vec::with_capacity(continuing.len());
        let mut reads = continuing.iter().zip(&twin_of);
        for seq in job.sequences.iter_mut().filter(|s| s.finished.is_none()) {
            let ((_, tokens), twin) = reads.next().ok_or_else(|| Error::Internal("sequence tokens missing".into()))?;
            if twin.is_none() {
                let state = seq.state.as_mut().ok_or_else(|| Error::Internal("sequence state missing".into()))?;
                segments.push(Segment { tokens, state });
            }
        }
        job.rows_read += segments.iter().map(|s| s.tokens.len()).sum::<usize>();
        let logits = self.model.forward_batch(&mut segments, &mut self.scratch, false)?;
        let vocab = self.model.shape().vocab_size;
        let mut row = 0;
        for (k, (i, _)) in continuing.iter().enumerate() {
            match twin_of[k] {
                None => {
                    job.sequences[*i].logits = logits[row * vocab..(row + 1) * vocab].to_vec();
                    row += 1;
                }
                Some(t) => {
                    // The twin comes first in `sequences`.
                    let (earlier, rest) = job.sequences.split_at_mut(*i);
                    let (twin, seq) = (&earlier[continuing[t].0], &mut rest[0]);
                    if let (Some(own), Some(theirs)) = (seq.state.as_mut(), twin.state.as_ref()) {
                        own.catch_up(theirs);
                    }
                    seq.logits.clone_from(&twin.logits);
                }
            }
        }
        Ok(())
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
        match &self.template {
            Some(t) => t.render(messages, true),
            None => Err(Error::Template(format!(
                "model '{}' has no chat template (a base model): give it a plain prompt instead of messages",
                self.info.name.as_deref().unwrap_or(&self.info.architecture)
            ))),
        }
    }

    fn has_chat_template(&self) -> bool {
        self.template.is_some()
    }

    fn languages(&self) -> Vec<String> {
        self.info.languages.clone()
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
        let limit = self.model.shape().context_length;
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
                    forced: Vec::new(),
                    history_from: 0,
                    decoder: StreamDecoder::new(),
                    text: String::new(),
                    emitted: 0,
                    logprob_sum: 0.0,
                    drawn: 0,
                    logprob_sum_before: 0.0,
                    finished: None,
                }
            })
            .collect();
        Ok(Job {
            prompt: ids,
            read: 0,
            prompt_state: None,
            prompt_frozen: None,
            prompt_logits: Vec::new(),
            options: options.clone(),
            sequences,
            pending: VecDeque::new(),
            rows_read: 0,
        })
    }

    /// Ends one sequence of a job now (its text so far is kept, finish
    /// reason `stop`): callers that recognize a complete answer save the
    /// remaining tokens. Unknown or finished sequences are left alone.
    fn finish_sequence(&mut self, job: &mut Job, sequence: usize) {
        if let Some(seq) = job.sequences.get_mut(sequence) {
            if seq.finished.is_none() {
                seq.finished = Some(FinishReason::Stop);
                seq.state = None;
                seq.forced.clear();
                let tail = seq.decoder.finish();
                seq.text.push_str(&tail);
                seq.emitted = seq.text.len();
            }
        }
    }

    fn reading_prompt(&self, job: &Job) -> bool {
        job.pending.is_empty() && job.read < job.prompt.len()
    }

    fn ended_by_model(&self, job: &Job, sequence: usize) -> bool {
        job.sequences.get(sequence).is_some_and(|s| s.finished == Some(FinishReason::Eos) && s.state.is_some())
    }

    /// `text`'s tokens are those it adds to the encoding of the sequence's
    /// last line; refused when that line's own tokens would change.
    fn resume(&mut self, job: &mut Job, sequence: usize, text: &str) -> Result<bool> {
        if text.is_empty() || !self.ended_by_model(job, sequence) {
            return Ok(false);
        }
        let seq = &mut job.sequences[sequence];
        let line = &seq.text[seq.text.rfind('\n').unwrap_or(0)..];
        let before = self.tokenizer.encode(line, false)?;
        let after = self.tokenizer.encode(&format!("{line}{text}"), false)?;
        if after.len() <= before.len() || after[..before.len()] != before[..] {
            return Ok(false);
        }
        let forced = after[before.len()..].to_vec();
        // Room for the text and one drawn token after it (the end token goes).
        let cached = seq.state.as_ref().map_or(0, State::len);
        let fits = cached + forced.len() < self.model.shape().context_length
            && seq.generated.len() + forced.len() < job.options.max_new_tokens as usize;
        if !fits {
            return Ok(false);
        }
        seq.generated.pop();
        seq.logprob_sum = seq.logprob_sum_before;
        seq.drawn -= 1;
        // It draws as a continuation started on its own would: from its
        // seed, penalizing repeats of its own new tokens only. (The same
        // copy for a given seed as when it ran after the round.)
        seq.sampler = Sampler::new(&job.options, seq.seed);
        seq.history_from = seq.generated.len() + forced.len();
        seq.forced = forced;
        seq.finished = None;
        Ok(true)
    }

    fn step(&mut self, job: &mut Job) -> Result<StepEvent> {
        if let Some(event) = job.pending.pop_front() {
            return Ok(event);
        }
        if job.read < job.prompt.len() {
            self.prefill_step(job)?;
            return Ok(StepEvent::Token { sequence: 0, text: String::new() });
        }
        if job.sequences.iter().any(|s| s.finished.is_none()) {
            self.decode_step(job)?;
            if let Some(event) = job.pending.pop_front() {
                return Ok(event);
            }
        }
        Ok(StepEvent::Finished(
            job.sequences
                .iter()
                .map(|s| Completion {
                    text: s.text.clone(),
                    token_ids: s.generated.clone(),
                    finish_reason: s.finished.unwrap_or(FinishReason::Length),
                    seed: s.seed,
                    mean_logprob: if s.drawn == 0 {
                        0.0
                    } else {
                        (s.logprob_sum / s.drawn as f64) as f32
                    },
                })
                .collect(),
        ))
    }
}
