//! The contract between the language model and everything that asks it for
//! text: chat messages in, completions out, one token per `step` so callers
//! (a Web Worker, a CLI, a test) can stream and cancel between tokens.
//!
//! The engine implements [`TextGenerator`]; the marketing pipeline only sees
//! this trait, so its logic runs in tests against a fake in milliseconds.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One turn of a conversation, rendered through the model's chat template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        Self { role: "system".into(), content: content.into() }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self { role: "user".into(), content: content.into() }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self { role: "assistant".into(), content: content.into() }
    }
}

/// Sampling and stopping options, named as in Hugging Face `generate` and the
/// OpenAI API. Unknown fields are rejected so a typo fails loudly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenerationOptions {
    /// Upper bound on generated tokens per sequence.
    pub max_new_tokens: u32,
    /// 0 means greedy (argmax); otherwise logits are divided by it.
    pub temperature: f32,
    /// Keep the k most likely tokens; 0 disables.
    pub top_k: u32,
    /// Keep the smallest set of tokens whose probability sums to p; 1 disables.
    pub top_p: f32,
    /// Drop tokens less likely than `min_p` times the most likely; 0 disables.
    pub min_p: f32,
    /// Divide positive (multiply negative) logits of already-seen tokens; 1 disables.
    pub repetition_penalty: f32,
    /// Base seed; sequence `i` samples with `seed + i`. `None` picks one and reports it.
    pub seed: Option<u32>,
    /// Generation stops before the first occurrence of any of these strings.
    pub stop: Vec<String>,
    /// Number of independent sequences drawn from the same prompt.
    pub num_return_sequences: u32,
}

/// Limits on options, checked by [`GenerationOptions::validate`].
pub const MAX_NEW_TOKENS_LIMIT: u32 = 4096;
pub const MAX_RETURN_SEQUENCES: u32 = 16;
pub const MAX_STOP_STRINGS: usize = 16;
pub const MAX_STOP_STRING_CHARS: usize = 256;

impl Default for GenerationOptions {
    fn default() -> Self {
        Self {
            max_new_tokens: 128,
            temperature: 0.7,
            top_k: 40,
            top_p: 0.95,
            min_p: 0.05,
            repetition_penalty: 1.1,
            seed: None,
            stop: Vec::new(),
            num_return_sequences: 1,
        }
    }
}

impl GenerationOptions {
    /// Greedy decoding with every filter off: the reference configuration.
    pub fn greedy(max_new_tokens: u32) -> Self {
        Self {
            max_new_tokens,
            temperature: 0.0,
            top_k: 0,
            top_p: 1.0,
            min_p: 0.0,
            repetition_penalty: 1.0,
            seed: Some(0),
            ..Self::default()
        }
    }

    /// Rejects values no sampler could honour, naming the field.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, reason: String| Err(Error::invalid_request(field, reason));
        if self.max_new_tokens == 0 || self.max_new_tokens > MAX_NEW_TOKENS_LIMIT {
            return bad("max_new_tokens", format!("must be 1..={MAX_NEW_TOKENS_LIMIT}, got {}", self.max_new_tokens));
        }
        if !self.temperature.is_finite() || self.temperature < 0.0 || self.temperature > 100.0 {
            return bad("temperature", format!("must be 0..=100, got {}", self.temperature));
        }
        if !self.top_p.is_finite() || self.top_p <= 0.0 || self.top_p > 1.0 {
            return bad("top_p", format!("must be in (0, 1], got {}", self.top_p));
        }
        if !self.min_p.is_finite() || !(0.0..=1.0).contains(&self.min_p) {
            return bad("min_p", format!("must be 0..=1, got {}", self.min_p));
        }
        if !self.repetition_penalty.is_finite()
            || self.repetition_penalty <= 0.0
            || self.repetition_penalty > 10.0
        {
            return bad(
                "repetition_penalty",
                format!("must be in (0, 10], got {}", self.repetition_penalty),
            );
        }
        if self.num_return_sequences == 0 || self.num_return_sequences > MAX_RETURN_SEQUENCES {
            return bad(
                "num_return_sequences",
                format!("must be 1..={MAX_RETURN_SEQUENCES}, got {}", self.num_return_sequences),
            );
        }
        if self.stop.len() > MAX_STOP_STRINGS {
            return bad("stop", format!("at most {MAX_STOP_STRINGS} strings, got {}", self.stop.len()));
        }
        for s in &self.stop {
            if s.is_empty() {
                return bad("stop", "stop strings must not be empty".into());
            }
            if s.chars().count() > MAX_STOP_STRING_CHARS {
                return bad("stop", format!("stop strings are at most {MAX_STOP_STRING_CHARS} characters"));
            }
        }
        Ok(())
    }
}

/// Why a sequence ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model emitted an end-of-generation token.
    Eos,
    /// A `stop` string appeared (it is not part of the text).
    Stop,
    /// `max_new_tokens` was reached.
    Length,
    /// The context window filled up.
    ContextFull,
}

/// One finished sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    /// Generated text, without the prompt, the end token or the stop string.
    pub text: String,
    /// Generated token ids, including an end-of-generation token if one was drawn.
    pub token_ids: Vec<u32>,
    pub finish_reason: FinishReason,
    /// The seed this sequence sampled with.
    pub seed: u32,
    /// Mean natural-log probability of the drawn tokens under the model
    /// (before temperature and filters): the model's own fluency judgement.
    pub mean_logprob: f32,
}

/// What one `step` produced.
#[derive(Debug, Clone, PartialEq)]
pub enum StepEvent {
    /// New text for sequence `sequence` (may be empty while a multi-byte
    /// character or a possible stop string is still incomplete).
    Token { sequence: usize, text: String },
    /// Every sequence is finished; completions in sequence order.
    Finished(Vec<Completion>),
}

/// A language model that can be driven one token at a time.
pub trait TextGenerator {
    /// The state of one `start`ed generation (all its sequences).
    type Job;

    /// Renders messages with the model's own chat template, ending with the
    /// assistant turn's opening so the model writes the reply.
    fn render_chat(&self, messages: &[ChatMessage]) -> Result<String>;

    /// Whether [`render_chat`](Self::render_chat) works: `false` for base
    /// models, which are prompted with plain completion documents instead.
    fn has_chat_template(&self) -> bool {
        true
    }

    /// Primary language subtags the model writes copy in (the one table,
    /// [`crate::languages`]).
    fn languages(&self) -> Vec<String> {
        crate::languages::default_languages()
    }

    /// Tokenizes the prompt (chat markers parsed as special tokens) and
    /// prepares `options.num_return_sequences` sequences.
    fn start(&mut self, prompt: &str, options: &GenerationOptions) -> Result<Self::Job>;

    /// Advances the job: a chunk of the prompt, or one token of the
    /// unfinished sequences (one event per sequence, over successive calls).
    fn step(&mut self, job: &mut Self::Job) -> Result<StepEvent>;

    /// Whether the next [`step`](Self::step) reads a chunk of the prompt
    /// (its event then carries no text) rather than drawing tokens.
    fn reading_prompt(&self, _job: &Self::Job) -> bool {
        false
    }

    /// Ends `sequence` now, keeping its text (finish reason `stop`): for
    /// callers that recognize a complete answer before the model stops.
    fn finish_sequence(&mut self, job: &mut Self::Job, sequence: usize);

    /// Whether `sequence` just ended by drawing an end-of-generation token
    /// (its last event was the one handed out last for it), so that
    /// [`resume`](Self::resume) may still take it up again.
    fn ended_by_model(&self, _job: &Self::Job, _sequence: usize) -> bool {
        false
    }

    /// Takes up a sequence that [ended by the model](Self::ended_by_model)
    /// again, within the same job: the end token is dropped, `text` is read
    /// as if the model had written it (handed out as the sequence's next
    /// text, not counted in its mean log-probability), and drawing goes on
    /// after it. For callers that see an answer stop short of its last
    /// fields: it continues beside the job's other sequences instead of in a
    /// job of its own afterwards. `Ok(false)`, changing nothing, when it
    /// cannot: the sequence did not just end that way, or `text` would not
    /// follow its tokens exactly (a merge across the seam).
    fn resume(&mut self, _job: &mut Self::Job, _sequence: usize, _text: &str) -> Result<bool> {
        Ok(false)
    }

    /// Runs a job to its end, handing each event to `on_event`; returning
    /// `false` from it cancels with [`Error::Cancelled`].
    fn run(
        &mut self,
        job: &mut Self::Job,
        on_event: &mut dyn FnMut(&StepEvent) -> bool,
    ) -> Result<Vec<Completion>> {
        loop {
            let event = self.step(job)?;
            if !on_event(&event) {
                return Err(Error::Cancelled);
            }
            if let StepEvent::Finished(done) = event {
                return Ok(done);
            }
        }
    }
}
