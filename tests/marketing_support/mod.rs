//! Test support for the marketing pipeline: a scriptable fake
//! [`TextGenerator`] (ChatML rendering like SmolLM2's template, text chosen
//! per call and seed, streamed a few characters per step, every prompt and
//! option recorded) and fixture loaders.
#![allow(dead_code)]

use std::path::PathBuf;

use banneret::error::{Error, Result};
use banneret::marketing::Store;
use banneret::textgen::{
    ChatMessage, Completion, FinishReason, GenerationOptions, StepEvent, TextGenerator,
};
use serde_json::Value;

/// What the script sees for one sequence.
pub struct Call<'a> {
    pub prompt: &'a str,
    /// The seed this sequence samples with (options.seed + sequence).
    pub seed: u32,
    pub sequence: usize,
    /// How many times `start` was called before this one.
    pub start_index: usize,
}

type Script = Box<dyn FnMut(&Call) -> String>;

pub struct FakeGenerator {
    script: Script,
    /// Every prompt handed to `start`, in order.
    pub prompts: Vec<String>,
    /// Every option set handed to `start`, in order.
    pub options: Vec<GenerationOptions>,
    /// Every text produced, in order.
    pub outputs: Vec<String>,
    /// `step` calls so far.
    pub steps: usize,
    /// Fail `start` with this error (once).
    pub fail_start: Option<Error>,
    /// Fail the n-th `step` with this error.
    pub fail_step: Option<(usize, Error)>,
    /// Mean log-probability reported per sequence (by seed), default -1.0.
    pub logprob: Box<dyn Fn(u32) -> f32>,
    /// Sequences the pipeline ended early with `finish_sequence`.
    pub finished_early: usize,
    /// The prompt a `resume`d sequence's script saw (what a job of its own
    /// would have been started with), in order.
    pub resumed: Vec<String>,
    /// Refuse every `resume` (as a generator without it does).
    pub no_resume: bool,
    /// `Some(languages)`: a base model (no chat template) writing these.
    pub base: Option<Vec<String>>,
    /// Steps every job spends reading its prompt before drawing, and how
    /// long each takes (as the engine's prompt chunks do).
    pub prompt_steps: (usize, std::time::Duration),
}

pub struct FakeJob {
    prompt: String,
    start_index: usize,
    seqs: Vec<Seq>,
    next: usize,
    /// Prompt-reading steps left.
    unread: usize,
}

struct Seq {
    chunks: Vec<String>,
    pos: usize,
    /// Ended by `finish_sequence` (not resumable, as with the engine).
    cut: bool,
    text: String,
    seed: u32,
}

impl FakeGenerator {
    pub fn new(script: impl FnMut(&Call) -> String + 'static) -> Self {
        FakeGenerator {
            finished_early: 0,
            resumed: Vec::new(),
            no_resume: false,
            base: None,
            prompt_steps: (0, std::time::Duration::ZERO),
            script: Box::new(script),
            prompts: Vec::new(),
            options: Vec::new(),
            outputs: Vec::new(),
            steps: 0,
            fail_start: None,
            fail_step: None,
            logprob: Box::new(|_| -1.0),
        }
    }

    /// A base model without a chat template that writes `languages`.
    pub fn base_model(mut self, languages: &[&str]) -> Self {
        self.base = Some(languages.iter().map(|l| l.to_string()).collect());
        self
    }

    /// Always the same text.
    pub fn constant(text: &str) -> Self {
        let t = text.to_string();
        Self::new(move |_| t.clone())
    }

    /// A competent model: reads the product, price and store from the prompt's
    /// last turn and writes plausible copy in the requested format, varying
    /// with the seed.
    pub fn competent() -> Self {
        Self::new(|call| competent_copy(call.prompt, call.seed))
    }
}

/// The last user turn of a ChatML prompt.
pub fn last_user_turn(prompt: &str) -> &str {
    let start = prompt
        .rfind("<|im_start|>user\n")
        .map_or(0, |i| i + "<|im_start|>user\n".len());
    let rest = &prompt[start..];
    rest.find("<|im_end|>").map_or(rest, |e| &rest[..e])
}

fn line_value<'a>(turn: &'a str, label: &str) -> Option<&'a str> {
    turn.lines()
        .find_map(|l| l.strip_prefix(label))
        .map(str::trim)
}

/// Output labels, from the worked example's answer in the prompt.
pub fn labels(prompt: &str) -> Vec<String> {
    let example = prompt.split("<|im_start|>assistant\n").nth(1).unwrap_or("");
    let example = example.split("<|im_end|>").next().unwrap_or("");
    example
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(k, _)| k.to_string()))
        .collect()
}

/// The store name from the system turn ("You write web banners for X.").
pub fn store_name(prompt: &str) -> String {
    let system = prompt.split("<|im_end|>").next().unwrap_or("");
    let after = system.split(" for ").nth(1).unwrap_or("");
    after
        .split(". ")
        .next()
        .unwrap_or("")
        .trim_end_matches('.')
        .to_string()
}

/// What a competent model would continue the prompt with (the first label
/// is already in the prompt).
pub fn competent_copy(prompt: &str, seed: u32) -> String {
    let turn = last_user_turn(prompt);
    let store = store_name(prompt);
    let name = line_value(turn, "Product: ").unwrap_or(&store).to_string();
    let price = line_value(turn, "Price: ")
        .and_then(|p| p.split([' ', ',']).next())
        .unwrap_or("")
        .to_string();
    let v = (seed % 3) as usize;
    let mut out = Vec::new();
    for label in labels(prompt) {
        let text = match label.as_str() {
            "Headline" => [
                "Meet the {name}",
                "{name} is ready",
                "Ready for the {name}?",
            ][v]
                .replace("{name}", &name),
            l if l.starts_with("Headline ") => {
                let n: usize = l[9..].parse().unwrap_or(1);
                [name.clone(), format!("Now {price}"), store.clone()][(n + v) % 3].clone()
            }
            "Subline" => format!("The {name}, now {price} at {store}."),
            "CTA" => ["Shop now", "Take a look", "See it"][v].to_string(),
            "Description 1" => format!("The {name} for {price}, from {store}."),
            l if l.starts_with("Description ") => format!("Find the {name} at {store}."),
            "Post" => format!("Ready for more? The {name} is {price} right now at {store}."),
            "Subject" => format!("{name}, {price} at {store}"),
            "Blurb" => format!("The {name} is made for you. Now {price} at {store}."),
            _ => "…".to_string(),
        };
        out.push(format!("{label}: {text}"));
    }
    let text = out.join("\n");
    // Continue after the prefilled "Label:".
    match text.split_once(':') {
        Some((_, rest)) => rest.to_string(),
        None => text,
    }
}

fn chunks(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(3).map(|c| c.iter().collect()).collect()
}

impl TextGenerator for FakeGenerator {
    type Job = FakeJob;

    fn render_chat(&self, messages: &[ChatMessage]) -> Result<String> {
        let mut s = String::new();
        for m in messages {
            s.push_str(&format!(
                "<|im_start|>{}\n{}<|im_end|>\n",
                m.role, m.content
            ));
        }
        s.push_str("<|im_start|>assistant\n");
        Ok(s)
    }

    fn has_chat_template(&self) -> bool {
        self.base.is_none()
    }

    fn languages(&self) -> Vec<String> {
        self.base.clone().unwrap_or_else(|| vec!["en".into()])
    }

    fn start(&mut self, prompt: &str, options: &GenerationOptions) -> Result<FakeJob> {
        options.validate()?;
        if let Some(e) = self.fail_start.take() {
            return Err(e);
        }
        let base = options.seed.unwrap_or(0);
        let start_index = self.prompts.len();
        self.prompts.push(prompt.to_string());
        self.options.push(options.clone());
        let mut seqs = Vec::new();
        for i in 0..options.num_return_sequences as usize {
            let seed = base.wrapping_add(i as u32);
            let text = (self.script)(&Call {
                prompt,
                seed,
                sequence: i,
                start_index,
            });
            self.outputs.push(text.clone());
            seqs.push(Seq {
                chunks: chunks(&text),
                pos: 0,
                cut: false,
                text,
                seed,
            });
        }
        Ok(FakeJob { prompt: prompt.to_string(), start_index, seqs, next: 0, unread: self.prompt_steps.0 })
    }

    fn step(&mut self, job: &mut FakeJob) -> Result<StepEvent> {
        self.steps += 1;
        if let Some((n, _)) = &self.fail_step {
            if *n == self.steps {
                let (_, e) = self.fail_step.take().unwrap();
                return Err(e);
            }
        }
        if job.unread > 0 {
            job.unread -= 1;
            std::thread::sleep(self.prompt_steps.1);
            return Ok(StepEvent::Token { sequence: 0, text: String::new() });
        }
        for _ in 0..job.seqs.len() {
            let i = job.next % job.seqs.len();
            job.next += 1;
            let s = &mut job.seqs[i];
            if s.pos < s.chunks.len() {
                s.pos += 1;
                return Ok(StepEvent::Token {
                    sequence: i,
                    text: s.chunks[s.pos - 1].clone(),
                });
            }
        }
        let done = job
            .seqs
            .iter()
            .map(|s| Completion {
                text: s.text.clone(),
                token_ids: Vec::new(),
                finish_reason: FinishReason::Eos,
                seed: s.seed,
                mean_logprob: (self.logprob)(s.seed),
            })
            .collect();
        Ok(StepEvent::Finished(done))
    }

    fn finish_sequence(&mut self, job: &mut FakeJob, sequence: usize) {
        if let Some(s) = job.seqs.get_mut(sequence) {
            if s.pos < s.chunks.len() {
                s.chunks.truncate(s.pos);
                s.text = s.chunks.concat();
                s.cut = true;
                self.finished_early += 1;
            }
        }
    }

    fn reading_prompt(&self, job: &FakeJob) -> bool {
        job.unread > 0
    }

    /// Every scripted text ends "by the model" once streamed in full,
    /// unless the caller cut it short.
    fn ended_by_model(&self, job: &FakeJob, sequence: usize) -> bool {
        job.seqs.get(sequence).is_some_and(|s| s.pos == s.chunks.len() && !s.cut)
    }

    /// The script writes the rest for the prompt a job of its own would
    /// have had: the job's prompt, the text so far and `text`.
    fn resume(&mut self, job: &mut FakeJob, sequence: usize, text: &str) -> Result<bool> {
        if self.no_resume || text.is_empty() || !self.ended_by_model(job, sequence) {
            return Ok(false);
        }
        let s = &mut job.seqs[sequence];
        let prompt = format!("{}{}{}", job.prompt, s.text, text);
        let rest = (self.script)(&Call {
            prompt: &prompt,
            seed: s.seed,
            sequence,
            start_index: job.start_index,
        });
        self.outputs.push(rest.clone());
        self.resumed.push(prompt);
        s.chunks.push(text.to_string());
        s.chunks.extend(chunks(&rest));
        s.text = format!("{}{text}{rest}", s.text);
        Ok(true)
    }
}

/// The fixture stores live with the demo that serves them.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("www/stores")
}

pub fn store(name: &str) -> Store {
    Store::load_dir(&data_dir().join(name)).unwrap()
}

pub fn profile(store: &str, name: &str) -> Value {
    let path = data_dir()
        .join(store)
        .join("profiles")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Every profile of a store, sorted by name.
pub fn profiles(store: &str) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(data_dir().join(store).join("profiles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().to_string();
            (
                name,
                serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
