//! The pipeline as a step-wise job, so a Web Worker can stream tokens and
//! abandon a request between any two of them: [`Writer::start`] ideates and
//! renders the prompt (chat turns, or a few-shot completion document for a
//! base model: completion.rs), each [`WriteJob::step`] advances the generator by one
//! token (or finishes an attempt: parse, check, repair, regenerate with new
//! seeds when nothing passed), and the last step yields the [`WriteResult`].
//! A multi-field answer that stops short (the small model drifts back into
//! the fact-sheet format after two search-ad headlines) is continued: its
//! good lines plus the next missing label become a new prompt, once.
//! Dropping the job cancels it. [`Writer::write`] runs one to the end.

use web_time::Instant;

use super::brand::Brand;
use super::checks::{self, CheckContext, EchoGuard};
use super::completion;
use super::date;
use super::facts::FactSheet;
use super::fallback;
use super::ideate::{self, featured_product, Angle, Frame, IdeateInput, Plan};
use super::input::{Warning, Warnings};
use super::kinds::ContentKind;
use super::lang::{self, LanguageCheck};
use super::parse;
use super::profile::Profile;
use super::prompt::{self, StoreVoice};
use super::repair;
use super::request::{GenerationOverrides, RewriteOp, RewriteRequest, Tone, WriteRequest};
use super::result::{
    all_pass, Alternative, Check, CopyFields, Rejected, Source, Timings, WriteResult,
};
use super::rewrite;
use super::sanitize;
use super::score;
use super::store::Store;
use super::text::{collapse_ws, words};
use crate::error::{Error, Result};
use crate::textgen::{Completion, GenerationOptions, StepEvent, TextGenerator};

/// Sampling defaults for copy (per-kind token budgets come from kinds.rs).
pub const TEMPERATURE: f32 = 0.8;
pub const TOP_K: u32 = 40;
pub const TOP_P: f32 = 0.95;
pub const MIN_P: f32 = 0.05;
pub const REPETITION_PENALTY: f32 = 1.1;
/// Repair rounds per variant before it is rejected.
const REPAIR_ROUNDS: usize = 2;
/// Continuations per variant whose answer stopped short of its fields.
const CONTINUATIONS: u8 = 1;

/// What the generator can do, as far as the pipeline cares.
#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// Languages the generator writes (primary subtags); empty, the default,
    /// takes them from the generator ([`TextGenerator::languages`]).
    pub languages: Vec<String>,
    /// Used when the visitor's language is not among them.
    pub default_language: String,
    pub language_check: LanguageCheck,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            languages: Vec::new(),
            default_language: "en".into(),
            language_check: lang::script_check,
        }
    }
}

/// A store ready to write for; shared by every request.
#[derive(Debug, Clone)]
pub struct Writer {
    store: Store,
    config: WriterConfig,
}

/// What one `step` produced. Serializes as `{"type": "attempt" | "token" |
/// "done", ...}` for a worker protocol.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WriteEvent {
    /// A generation round begins; text streamed before it is obsolete.
    Attempt {
        attempt: u32,
        variants: u32,
        seed: u32,
    },
    /// New raw model text for one variant of the current attempt. Unchecked:
    /// show it as a preview at most, never as the final copy.
    Token {
        attempt: u32,
        variant: usize,
        text: String,
    },
    /// The job is finished.
    Done { result: Box<WriteResult> },
}

enum Mode {
    Write,
    Rewrite { op: RewriteOp, original: CopyFields },
}

/// A variant that passed every check.
struct Passed {
    copy: CopyFields,
    seed: u32,
    mean_logprob: f32,
    repairs: Vec<String>,
    checks: Vec<Check>,
}

enum Phase<J> {
    Ready,
    Generating(J),
    /// Continuing one variant's unfinished answer.
    Continuing(J, Continuation),
    Done,
}

/// A variant whose answer stopped short: its text so far (from the prefilled
/// label, ending with the next missing field's label) and where it came from.
struct Continuation {
    text: String,
    /// The answer as the model first wrote it, judged as it is when the
    /// continuation starts the answer over instead of filling the field.
    original: String,
    variant: usize,
    seed: u32,
    mean_logprob: f32,
    round: u8,
}

/// A variant that stopped short and went on in its batch: the answer as the
/// model first wrote it, and where its continuation begins in the
/// completion's text (after the label handed to it).
struct Resumed {
    original: String,
    continuation_at: usize,
}

/// One request in flight. Owns everything it needs: it can outlive the borrow
/// of the [`Writer`] that started it.
pub struct WriteJob<G: TextGenerator> {
    kind: ContentKind,
    mode: Mode,
    plan: Plan,
    facts: FactSheet,
    echo: EchoGuard,
    /// Stems the copy must touch (see [`checks::topic_stems`]).
    topic: Vec<String>,
    /// Catalog-only copy for the plan: the fallback, and the filler for a
    /// variant missing a minority of its fields.
    fallback: CopyFields,
    /// Catalog-only copy for the store-wide angle: the filler where the
    /// fallback's text would repeat a field the model wrote.
    fallback_alt: CopyFields,
    brand: Brand,
    language_check: LanguageCheck,
    prompt: String,
    /// Text the prompt ends with inside the assistant turn; the model's
    /// completion continues it.
    prefill: String,
    options: GenerationOptions,
    seed: u32,
    max_attempts: u32,
    warnings: Vec<Warning>,
    phase: Phase<G::Job>,
    attempt: u32,
    passed: Vec<Passed>,
    rejected: Vec<Rejected>,
    partial: Vec<String>,
    /// Variants of the current attempt taken up again in the batch after
    /// they stopped short ([`TextGenerator::resume`]).
    resumed: Vec<Option<Resumed>>,
    /// Unfinished answers waiting to be continued.
    continuations: Vec<Continuation>,
    timings: Timings,
    started: Instant,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// 32-bit FNV-1a: a stable default seed from the plan.
fn fnv1a(parts: &[&str]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= b as u32;
            h = h.wrapping_mul(0x0100_0193);
        }
    }
    h
}

fn base_options(
    kind: ContentKind,
    n: u32,
    overrides: &GenerationOverrides,
) -> Result<GenerationOptions> {
    let mut o = GenerationOptions {
        max_new_tokens: kind.spec().max_new_tokens,
        temperature: TEMPERATURE,
        top_k: TOP_K,
        top_p: TOP_P,
        min_p: MIN_P,
        repetition_penalty: REPETITION_PENALTY,
        seed: None,
        // A multi-field answer that starts a fact-sheet line has left the format.
        stop: if kind.fields().len() > 1 {
            prompt::FACT_LABELS.iter().map(|l| format!("\n{l}")).collect()
        } else {
            Vec::new()
        },
        num_return_sequences: n,
    };
    overrides.apply(&mut o);
    o.validate().map_err(|e| match e {
        Error::InvalidRequest { field, reason } => {
            Error::invalid_request(format!("options.{field}"), reason)
        }
        other => other,
    })?;
    Ok(o)
}

/// The parts of a write request that need no generator.
struct Prepared {
    plan: Plan,
    facts: FactSheet,
    echo: EchoGuard,
    warnings: Vec<Warning>,
}

impl Writer {
    pub fn new(store: Store) -> Writer {
        Writer {
            store,
            config: WriterConfig::default(),
        }
    }

    pub fn with_config(store: Store, config: WriterConfig) -> Writer {
        Writer { store, config }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn config(&self) -> &WriterConfig {
        &self.config
    }

    /// The languages to resolve a locale against: the configured ones, else
    /// the generator's (the default language alone when there is none).
    fn languages(&self, generator: Option<Vec<String>>) -> Vec<String> {
        match generator {
            _ if !self.config.languages.is_empty() => self.config.languages.clone(),
            Some(g) => g,
            None => vec![self.config.default_language.clone()],
        }
    }

    fn prepare(&self, request: &WriteRequest, languages: &[String]) -> Result<Prepared> {
        request.validate()?;
        let catalog = &self.store.catalog;
        let brand = &self.store.brand;
        let mut w = Warnings::from_vec(self.store.warnings.clone());
        let profile = Profile::from_value(request.profile.as_ref(), catalog, &mut w)?;
        let requested = request.locale.as_deref().or(profile.locale.as_deref());
        let (language, fell_back) = lang::resolve(
            requested,
            languages,
            &self.config.default_language,
        );
        if let Some(why) = fell_back {
            w.push(
                if request.locale.is_some() {
                    "request.locale"
                } else {
                    "profile.locale"
                },
                why,
            );
        }
        let goal = match &request.goal {
            None => None,
            Some(g) => {
                let c = sanitize::clean(g, super::request::MAX_GOAL_CHARS);
                if c.injection {
                    return Err(Error::invalid_request(
                        "goal",
                        "reads as instructions to the model",
                    ));
                }
                for note in &c.notes {
                    w.push("request.goal", *note);
                }
                Some(c.text).filter(|t| !t.is_empty())
            }
        };
        let today = match &request.date {
            Some(d) => Some(date::parse(d).map_err(|why| Error::invalid_request("date", why))?),
            None if profile.consent => profile.local_time,
            None => None,
        };
        let tone = request.tone.or(brand.tone).unwrap_or(Tone::Neutral);
        let plan = ideate::ideate(&IdeateInput {
            catalog,
            profile: &profile,
            goal: goal.as_deref(),
            today,
            kind: request.kind,
            tone,
            language: &language,
        });
        let extra: Vec<&str> = [self.store.name(), brand.name.as_str()]
            .into_iter()
            .chain(goal.as_deref())
            .collect();
        let facts = FactSheet::new(catalog, &plan.featured, today, &extra);
        let echo =
            EchoGuard::new(&profile.hostile, &facts).with_instructions(prompt::instruction_texts());
        Ok(Prepared {
            plan,
            facts,
            echo,
            warnings: w.into_vec(),
        })
    }

    fn voice(&self) -> StoreVoice<'_> {
        let brand = &self.store.brand;
        StoreVoice {
            catalog: &self.store.catalog,
            store: self.store.name(),
            voice: &brand.voice,
            emoji_max: brand.emoji.max(),
            required: &brand.required_terms,
            banned: &brand.banned_phrases,
        }
    }

    /// The parts of `kind` prompts that no visitor changes: reading them
    /// ahead of time with the engine's warm-up means a write only reads its
    /// visitor-specific tail. One prompt per product the worked example can
    /// show (the store's pick, and the next one for visitors whose own
    /// product is that pick), each up to the example's angle: the system
    /// turn and the example's product, tone and promotion. Found as the
    /// common beginning of renders that differ in the angle and the last
    /// turn, so it holds for any chat template.
    pub fn warmup_prompts<G: TextGenerator>(&self, kind: ContentKind, generator: &G) -> Result<Vec<String>> {
        let prepared = self.prepare(&WriteRequest::new(kind), &self.languages(Some(generator.languages())))?;
        if !generator.has_chat_template() {
            return Ok(vec![completion::document_header(&prepared.plan.language, self.store.name())]);
        }
        let plan = prepared.plan;
        let mut plans = vec![plan.clone()];
        if let Some(example) = prompt::example_plan(&self.store.catalog, &plan) {
            plans.push(Plan { featured: example.featured, ..plan.clone() });
        }
        let voice = self.voice();
        let render = |plan: &Plan, last: &str| {
            let mut messages = prompt::messages(kind, plan, &voice);
            if let Some(m) = messages.last_mut() {
                m.content = last.to_string();
            }
            generator.render_chat(&messages)
        };
        let common = |x: &str, y: &str| {
            x.char_indices()
                .zip(y.chars())
                .find(|((_, p), q)| p != q)
                .map_or(x.len().min(y.len()), |((i, _), _)| i)
        };
        let mut prompts: Vec<String> = Vec::new();
        for plan in &plans {
            let other_angle = Plan {
                angle: if plan.angle == Angle::CartReminder { Angle::Generic } else { Angle::CartReminder },
                ..plan.clone()
            };
            let (a, b, c) = (render(plan, "A")?, render(plan, "B")?, render(&other_angle, "A")?);
            let prefix = a[..common(&a, &b).min(common(&a, &c))].to_string();
            if !prompts.contains(&prefix) {
                prompts.push(prefix);
            }
        }
        Ok(prompts)
    }

    /// Ideation only: the plan (and input warnings) a request would use.
    pub fn plan(&self, request: &WriteRequest) -> Result<(Plan, Vec<Warning>)> {
        let p = self.prepare(request, &self.languages(None))?;
        Ok((p.plan, p.warnings))
    }

    /// Starts a write: cleans the inputs, ideates, renders the prompt.
    pub fn start<G: TextGenerator>(
        &self,
        request: &WriteRequest,
        generator: &G,
    ) -> Result<WriteJob<G>> {
        let started = Instant::now();
        let prepared = self.prepare(request, &self.languages(Some(generator.languages())))?;
        let ideate_ms = ms(started);
        let brand = &self.store.brand;
        let plan = prepared.plan;
        let prefill = prompt::prefill(request.kind);
        let mut options = base_options(request.kind, request.num_return_sequences, &request.options)?;
        let prompt = if generator.has_chat_template() {
            generator.render_chat(&prompt::messages(request.kind, &plan, &self.voice()))?
        } else {
            options.stop.extend(completion::stop_strings(&plan.language));
            completion::document(request.kind, &plan, &self.store.catalog, self.store.name())
        } + &prefill;
        let topic = checks::topic_stems(&plan, self.store.name());
        // Copy from catalog facts alone, in the plan's language where the
        // completion phrases cover it; the generic-angle one is the
        // alternative when the plan's own equals another's.
        let compose_fallback = |plan: &Plan| {
            completion::localized_fallback(request.kind, plan, self.store.name()).unwrap_or_else(
                || {
                    fallback::compose(
                        request.kind,
                        plan,
                        self.store.name(),
                        &brand.banned_phrases,
                        &brand.required_terms,
                    )
                },
            )
        };
        let fallback_copy = compose_fallback(&plan);
        let fallback_alt = compose_fallback(&Plan {
            angle: Angle::Generic,
            ..plan.clone()
        });
        let seed = request.seed.unwrap_or_else(|| {
            let angle = serde_json::to_string(&plan.angle).unwrap_or_default();
            let mut parts = vec![
                request.kind.name(),
                plan.goal.as_deref().unwrap_or(""),
                plan.tone.name(),
                angle.as_str(),
            ];
            parts.extend(plan.featured.iter().map(String::as_str));
            fnv1a(&parts)
        });
        Ok(WriteJob {
            kind: request.kind,
            mode: Mode::Write,
            plan,
            facts: prepared.facts,
            echo: prepared.echo,
            topic,
            fallback: fallback_copy,
            fallback_alt,
            brand: brand.clone(),
            language_check: self.config.language_check,
            prompt,
            prefill,
            options,
            seed,
            max_attempts: 1 + request.max_retries,
            warnings: prepared.warnings,
            phase: Phase::Ready,
            attempt: 0,
            passed: Vec::new(),
            rejected: Vec::new(),
            partial: Vec::new(),
            resumed: Vec::new(),
            continuations: Vec::new(),
            timings: Timings {
                ideate: ideate_ms,
                ..Timings::default()
            },
            started,
        })
    }

    /// Starts a rewrite of existing copy.
    pub fn start_rewrite<G: TextGenerator>(
        &self,
        request: &RewriteRequest,
        generator: &G,
    ) -> Result<WriteJob<G>> {
        let started = Instant::now();
        request.validate()?;
        let catalog = &self.store.catalog;
        let brand = &self.store.brand;
        let mut w = Warnings::from_vec(self.store.warnings.clone());
        let (language, fell_back) = lang::resolve(
            request.locale.as_deref(),
            &self.languages(Some(generator.languages())),
            &self.config.default_language,
        );
        if let Some(why) = fell_back {
            w.push("request.locale", why);
        }
        let mut original = CopyFields::default();
        for f in request.kind.fields() {
            let text = request
                .copy
                .get(f.name)
                .map(|t| collapse_ws(&sanitize::strip_invisible(t).0))
                .unwrap_or_default();
            original.set(f.name, text);
        }
        let extra = [self.store.name(), brand.name.as_str()];
        let facts = FactSheet::new(catalog, &[], None, &extra);
        let texts: Vec<&str> = original.iter().map(|(_, t)| t).collect();
        let named: Vec<String> = facts
            .scope_for(&texts)
            .into_iter()
            .map(|i| catalog.products[i].sku.clone())
            .collect();
        let products: Vec<_> = named
            .iter()
            .filter_map(|s| catalog.product(s))
            .map(|p| featured_product(p, catalog, &language))
            .collect();
        let tone = match request.operation {
            RewriteOp::MoreFormal => Tone::Formal,
            RewriteOp::MoreCasual => Tone::Casual,
            _ => brand.tone.unwrap_or(Tone::Neutral),
        };
        let plan = Plan {
            personalized: false,
            angle: Angle::Rewrite,
            frame: Frame::Aida,
            featured: named,
            products,
            promotion: None,
            keywords: Vec::new(),
            signals: Vec::new(),
            ranking: Vec::new(),
            why: format!(
                "A {} rewrite of existing copy; nothing about the visitor was used.",
                request.operation.name()
            ),
            visitor_phrase: None,
            goal: None,
            tone,
            language,
            prefer_short: false,
        };
        let voice = StoreVoice {
            catalog,
            store: self.store.name(),
            voice: &brand.voice,
            emoji_max: brand.emoji.max(),
            required: &brand.required_terms,
            banned: &brand.banned_phrases,
        };
        let prefill = prompt::prefill(request.kind);
        let mut options = base_options(request.kind, request.num_return_sequences, &request.options)?;
        // A base model follows examples, not instructions: it writes new copy
        // about the products the original names, from the same few-shot
        // document as a write, and the rewrite checks keep only variants that
        // went the asked direction and added no amount.
        let prompt = if generator.has_chat_template() {
            let messages = rewrite::messages(
                request.kind,
                request.operation,
                &original,
                &plan.products,
                &voice,
                &plan.language,
            );
            generator.render_chat(&messages)?
        } else {
            options.stop.extend(completion::stop_strings(&plan.language));
            completion::document(request.kind, &plan, catalog, self.store.name())
        } + &prefill;
        let seed = request.seed.unwrap_or_else(|| {
            fnv1a(&[
                request.kind.name(),
                request.operation.name(),
                &original.joined(),
            ])
        });
        Ok(WriteJob {
            kind: request.kind,
            mode: Mode::Rewrite {
                op: request.operation,
                original,
            },
            plan,
            facts,
            echo: EchoGuard::default().with_instructions(prompt::instruction_texts()),
            topic: Vec::new(),
            fallback: CopyFields::default(),
            fallback_alt: CopyFields::default(),
            brand: brand.clone(),
            language_check: self.config.language_check,
            prompt,
            prefill,
            options,
            seed,
            max_attempts: 1 + request.max_retries,
            warnings: w.into_vec(),
            phase: Phase::Ready,
            attempt: 0,
            passed: Vec::new(),
            rejected: Vec::new(),
            partial: Vec::new(),
            resumed: Vec::new(),
            continuations: Vec::new(),
            timings: Timings {
                ideate: ms(started),
                ..Timings::default()
            },
            started,
        })
    }

    /// Runs a write to the end.
    pub fn write<G: TextGenerator>(
        &self,
        request: &WriteRequest,
        generator: &mut G,
    ) -> Result<WriteResult> {
        self.start(request, generator)?.run(generator)
    }

    /// Runs a rewrite to the end.
    pub fn rewrite<G: TextGenerator>(
        &self,
        request: &RewriteRequest,
        generator: &mut G,
    ) -> Result<WriteResult> {
        self.start_rewrite(request, generator)?.run(generator)
    }
}

/// Whether streamed text (after the prefilled first label) holds every field
/// of a kind whose fields are single lines, the last one ended by a newline.
/// Multi-line kinds (posts, blurbs) end on the model's own end token.
fn answer_complete(kind: ContentKind, prefill: &str, partial: &str) -> bool {
    if matches!(kind, ContentKind::SocialPost | ContentKind::ProductBlurb) {
        return false;
    }
    let text = format!("{prefill}{partial}");
    let mut last_end = 0;
    for field in kind.fields() {
        let label = format!("{}:", field.label);
        let at_line_start = |i: usize| i == 0 || text[..i].ends_with('\n');
        let Some(pos) = text.match_indices(&label).map(|(i, _)| i).find(|&i| at_line_start(i)) else {
            return false;
        };
        last_end = last_end.max(pos + label.len());
    }
    text[last_end..].trim_start_matches([' ', '\t']).split_once('\n').is_some_and(|(line, _)| !line.trim().is_empty())
}

/// Writes one piece of copy with the default configuration.
pub fn write<G: TextGenerator>(
    generator: &mut G,
    store: &Store,
    request: &WriteRequest,
) -> Result<WriteResult> {
    Writer::new(store.clone()).write(request, generator)
}

impl<G: TextGenerator> WriteJob<G> {
    /// The plan, available before any token is drawn (for a "why" panel).
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The prompt handed to the generator: the rendered chat, then the
    /// opening of the answer (see [`prompt::prefill`]).
    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    /// Text streamed so far for a variant of the current attempt (raw, unchecked).
    pub fn partial(&self, variant: usize) -> Option<&str> {
        self.partial.get(variant).map(String::as_str)
    }

    /// Runs to the end, ignoring intermediate events.
    pub fn run(mut self, generator: &mut G) -> Result<WriteResult> {
        loop {
            if let WriteEvent::Done { result } = self.step(generator)? {
                return Ok(*result);
            }
        }
    }

    fn attempt_seed(&self) -> u32 {
        self.seed
            .wrapping_add(self.attempt.wrapping_mul(self.options.num_return_sequences))
    }

    /// Advances by one generator step (one token of one variant), or by one
    /// pipeline stage. Errors other than [`Error::Cancelled`] from the
    /// generator end the job with fallback copy and a warning.
    pub fn step(&mut self, generator: &mut G) -> Result<WriteEvent> {
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Ready => {
                let seed = self.attempt_seed();
                let options = GenerationOptions {
                    seed: Some(seed),
                    ..self.options.clone()
                };
                let t = Instant::now();
                let started = generator.start(&self.prompt, &options);
                self.timings.create += ms(t);
                match started {
                    Ok(job) => {
                        self.phase = Phase::Generating(job);
                        self.partial = vec![String::new(); options.num_return_sequences as usize];
                        self.resumed = (0..options.num_return_sequences).map(|_| None).collect();
                        Ok(WriteEvent::Attempt {
                            attempt: self.attempt,
                            variants: options.num_return_sequences,
                            seed,
                        })
                    }
                    Err(e) => self.generator_failed(e)
                }
            }
            Phase::Generating(mut job) => {
                let event = self.timed_step(generator, &mut job);
                match event {
                    Ok(StepEvent::Token { sequence, text }) => {
                        if let Some(p) = self.partial.get_mut(sequence) {
                            p.push_str(&text);
                            // Stop a variant once its answer is complete: the
                            // small model tends to ramble on after the last field.
                            if !text.is_empty() && answer_complete(self.kind, &self.prefill, p) {
                                generator.finish_sequence(&mut job, sequence);
                            }
                        }
                        if generator.ended_by_model(&job, sequence) {
                            if let Err(e) = self.resume_short_answer(generator, &mut job, sequence) {
                                return self.generator_failed(e);
                            }
                        }
                        self.phase = Phase::Generating(job);
                        Ok(WriteEvent::Token {
                            attempt: self.attempt,
                            variant: sequence,
                            text,
                        })
                    }
                    Ok(StepEvent::Finished(completions)) => {
                        let t = Instant::now();
                        self.optimize(completions);
                        self.timings.optimize += ms(t);
                        self.after_round(generator)
                    }
                    Err(e) => self.generator_failed(e)
                }
            }
            Phase::Continuing(mut job, cont) => {
                let event = self.timed_step(generator, &mut job);
                match event {
                    Ok(StepEvent::Token { text, .. }) => {
                        let variant = cont.variant;
                        if let Some(p) = self.partial.get_mut(variant) {
                            p.push_str(&text);
                        }
                        let so_far = self.partial.get(variant).map_or("", |p| p.as_str());
                        if !text.is_empty() && answer_complete(self.kind, &self.prefill, so_far) {
                            generator.finish_sequence(&mut job, 0);
                        }
                        self.phase = Phase::Continuing(job, cont);
                        Ok(WriteEvent::Token {
                            attempt: self.attempt,
                            variant,
                            text,
                        })
                    }
                    Ok(StepEvent::Finished(mut completions)) => {
                        let t = Instant::now();
                        if let Some(c) = completions.pop() {
                            if self.starts_over(&c.text) {
                                self.consider(cont.original, cont.seed, cont.mean_logprob, cont.variant, cont.round);
                            } else {
                                let full = format!("{}{}", cont.text, c.text);
                                let logprob = (cont.mean_logprob + c.mean_logprob) / 2.0;
                                self.consider(full, cont.seed, logprob, cont.variant, cont.round);
                            }
                        }
                        self.timings.optimize += ms(t);
                        self.after_round(generator)
                    }
                    Err(e) => self.generator_failed(e)
                }
            }
            Phase::Done => Err(Error::invalid_request(
                "job",
                "already finished; start a new one",
            )),
        }
    }

    /// One generator step, its time counted in `create` (and in `prompt`
    /// when it reads the prompt).
    fn timed_step(&mut self, generator: &mut G, job: &mut G::Job) -> Result<StepEvent> {
        let reading = generator.reading_prompt(job);
        let t = Instant::now();
        let event = generator.step(job);
        let elapsed = ms(t);
        self.timings.create += elapsed;
        if reading {
            self.timings.prompt += elapsed;
        }
        event
    }

    /// A generator error ends the job with the fallback copy and a warning
    /// saying why; a cancel stays a cancel.
    fn generator_failed(&mut self, e: Error) -> Result<WriteEvent> {
        if matches!(e, Error::Cancelled) {
            return Err(e);
        }
        self.warnings.push(Warning {
            field: "generator".into(),
            message: format!("{e}; fallback copy used"),
        });
        Ok(self.finish())
    }

    /// After a round of variants (or one continuation): continue the next
    /// unfinished answer, else regenerate when nothing passed, else finish.
    fn after_round(&mut self, generator: &mut G) -> Result<WriteEvent> {
        if let Some(cont) = self.continuations.pop() {
            let options = GenerationOptions {
                seed: Some(cont.seed),
                num_return_sequences: 1,
                ..self.options.clone()
            };
            let prompt = format!("{}{}", self.prompt, &cont.text[self.prefill.len()..]);
            let t = Instant::now();
            let started = generator.start(&prompt, &options);
            self.timings.create += ms(t);
            return match started {
                Ok(job) => {
                    // The variant's streamed text becomes the answer so far.
                    if let Some(p) = self.partial.get_mut(cont.variant) {
                        *p = cont.text[self.prefill.len()..].to_string();
                    }
                    self.phase = Phase::Continuing(job, cont);
                    self.step(generator)
                }
                Err(e) => self.generator_failed(e)
            };
        }
        self.attempt += 1;
        if self.passed.is_empty() && self.attempt < self.max_attempts {
            self.phase = Phase::Ready;
            return self.step(generator);
        }
        Ok(self.finish())
    }

    /// Whether a continuation opens with a field label of its own: the model
    /// started the answer over rather than writing the field it was given.
    fn starts_over(&self, continuation: &str) -> bool {
        let first = continuation
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
            .to_lowercase();
        self.kind.fields().iter().any(|f| {
            std::iter::once(f.label.to_lowercase())
                .chain(f.aliases.iter().map(|a| a.to_string()))
                .any(|l| first.starts_with(&format!("{l}:")) || first.starts_with(&format!("{l} ")) && first.contains(':'))
        })
    }

    /// The answer's leading lines in the output format, plus the label of the
    /// first field they miss — when some fields are there and some are not.
    fn continuation_text(&self, full: &str) -> Option<String> {
        let fields = self.kind.fields();
        if fields.len() < 2 {
            return None;
        }
        let mut kept: Vec<&str> = Vec::new();
        for line in full.lines() {
            let t = line.trim_start();
            if prompt::FACT_LABELS.iter().any(|l| t.starts_with(l)) {
                break;
            }
            kept.push(line);
        }
        let kept = kept.join("\n");
        let copy = parse::parse(self.kind, &kept);
        let missing = fields.iter().find(|f| copy.get(f.name).is_none())?;
        if copy.0.is_empty() {
            return None;
        }
        // The answer begins with the prefilled label (or the model's own copy of it).
        let body = kept.trim_start();
        let body = match body.get(..self.prefill.len()) {
            Some(head) if head.eq_ignore_ascii_case(&self.prefill) => &body[self.prefill.len()..],
            _ => return None,
        };
        Some(format!("{}{}\n{}:", self.prefill, body.trim_end(), missing.label))
    }

    fn check(&self, copy: &CopyFields) -> Vec<Check> {
        let ctx = CheckContext {
            kind: self.kind,
            brand: &self.brand,
            facts: &self.facts,
            echo: &self.echo,
            language: &self.plan.language,
            language_check: self.language_check,
            topic: &self.topic,
            visitor: match &self.mode {
                Mode::Write => checks::VisitorFacts::from_plan(&self.plan),
                Mode::Rewrite { .. } => checks::VisitorFacts::any(),
            },
        };
        match &self.mode {
            Mode::Write => checks::run(copy, &ctx, &[]),
            Mode::Rewrite { op, original } => {
                let texts: Vec<&str> = original.iter().map(|(_, t)| t).collect();
                let mut c = checks::run(copy, &ctx, &texts);
                c.extend(rewrite::checks(*op, original, copy));
                c
            }
        }
    }

    fn optimize(&mut self, completions: Vec<Completion>) {
        for (variant, c) in completions.into_iter().enumerate() {
            let full = self.answer(&c.text);
            match self.resumed.get_mut(variant).and_then(Option::take) {
                // Continued in the batch: judged as a continuation is.
                Some(r) => {
                    let continuation = c.text.get(r.continuation_at..).unwrap_or("");
                    let full = if self.starts_over(continuation) { r.original } else { full };
                    self.consider(full, c.seed, c.mean_logprob, variant, CONTINUATIONS);
                }
                None => self.consider(full, c.seed, c.mean_logprob, variant, 0),
            }
        }
    }

    /// The whole answer from a completion's text: the model continues the
    /// prefilled label, or repeats it.
    fn answer(&self, text: &str) -> String {
        let repeated = text.trim_start().to_lowercase().starts_with(&self.prefill.to_lowercase());
        match repeated {
            true => text.to_string(),
            false => format!("{}{}", self.prefill, text),
        }
    }

    /// A variant that ended short of its fields (the model drew its end
    /// token after the subline, say) reads the next field's label and goes
    /// on beside the other variants, rather than in a continuation of its
    /// own after the round, one token per step with nothing beside it. Only
    /// when its text so far is the continuation's beginning as it stands;
    /// otherwise (an answer that drifted into the fact sheet, trailing
    /// spaces) the continuation after the round still applies.
    fn resume_short_answer(&mut self, generator: &mut G, job: &mut G::Job, variant: usize) -> Result<()> {
        // One continuation per variant (CONTINUATIONS), as after the round.
        let once = self.resumed.get(variant).is_some_and(Option::is_none);
        if !matches!(self.mode, Mode::Write) || !once {
            return Ok(());
        }
        let Some(partial) = self.partial.get(variant) else {
            return Ok(());
        };
        let full = self.answer(partial);
        let Some(label) = self.continuation_text(&full).and_then(|c| c.strip_prefix(full.as_str()).map(str::to_string))
        else {
            return Ok(());
        };
        let continuation_at = partial.len() + label.len();
        if generator.resume(job, variant, &label)? {
            if let Some(slot) = self.resumed.get_mut(variant) {
                *slot = Some(Resumed { original: full, continuation_at });
            }
        }
        Ok(())
    }

    /// Checks one answer (repairing what can be repaired), or queues it for
    /// a continuation when it stopped short of its fields.
    fn consider(&mut self, full: String, seed: u32, mean_logprob: f32, variant: usize, round: u8) {
        if matches!(self.mode, Mode::Write) && round < CONTINUATIONS {
            if let Some(text) = self.continuation_text(&full) {
                self.continuations.push(Continuation {
                    text,
                    original: full,
                    variant,
                    seed,
                    mean_logprob,
                    round: round + 1,
                });
                return;
            }
        }
        let raw = full
            .strip_prefix(self.prefill.as_str())
            .unwrap_or(&full)
            .to_string();
        {
            let mut copy = parse::parse(self.kind, &full);
            let mut checks = self.check(&copy);
            let mut repairs = Vec::new();
            for _ in 0..REPAIR_ROUNDS {
                if all_pass(&checks) {
                    break;
                }
                let filler;
                let fill = match &self.mode {
                    Mode::Write => {
                        filler = self.filler_for(&copy);
                        (&filler, "catalog facts")
                    }
                    Mode::Rewrite { original, .. } => (original, "the original"),
                };
                let mut notes = repair::repair(
                    self.kind,
                    &mut copy,
                    &checks,
                    Some(fill),
                    self.brand.emoji.max(),
                );
                // A missing required term (the brand's name) is appended the
                // way the catalog-only copy appends it, to copy that passes
                // everything else: nothing is invented.
                if checks.iter().filter(|c| !c.pass).all(|c| c.name == "required_terms") {
                    let before = copy.clone();
                    fallback::add_required(self.kind, &mut copy, &self.brand.required_terms);
                    if copy != before {
                        notes.push("added the brand's required terms".to_string());
                    }
                }
                if notes.is_empty() {
                    break;
                }
                repairs.extend(notes);
                checks = self.check(&copy);
            }
            if all_pass(&checks) {
                let key = copy.joined().to_lowercase();
                if self
                    .passed
                    .iter()
                    .any(|p| p.copy.joined().to_lowercase() == key)
                {
                    return;
                }
                self.passed.push(Passed {
                    copy,
                    seed,
                    mean_logprob,
                    repairs,
                    checks,
                });
            } else {
                self.rejected.push(Rejected {
                    seed,
                    attempt: self.attempt,
                    raw,
                    failed: checks.into_iter().filter(|c| !c.pass).collect(),
                });
            }
        }
    }

    /// The fallback's fields, each replaced by the store-wide angle's when it
    /// would repeat a field `copy` already has ("Still in your cart" twice).
    fn filler_for(&self, copy: &CopyFields) -> CopyFields {
        let have: Vec<Vec<String>> = copy.iter().map(|(_, t)| words(t)).collect();
        let mut out = self.fallback.clone();
        for spec in self.kind.fields() {
            let repeats = |t: &str| have.contains(&words(t));
            if out.get(spec.name).is_some_and(repeats) {
                if let Some(alt) = self.fallback_alt.get(spec.name).filter(|t| !repeats(t)) {
                    out.set(spec.name, alt.to_string());
                }
            }
        }
        out
    }

    fn fallback_copy(&self) -> CopyFields {
        match &self.mode {
            Mode::Write => self.fallback.clone(),
            Mode::Rewrite { op, original } => {
                rewrite::fallback(self.kind, *op, original, &self.plan.products)
            }
        }
    }

    fn finish(&mut self) -> WriteEvent {
        let t = Instant::now();
        let passed = std::mem::take(&mut self.passed);
        let mut alternatives: Vec<Alternative> = if passed.is_empty() {
            let copy = self.fallback_copy();
            let checks = self.check(&copy);
            if !all_pass(&checks) {
                let failed: Vec<String> = checks
                    .iter()
                    .filter(|c| !c.pass)
                    .map(|c| {
                        format!(
                            "{}{}",
                            c.name,
                            c.field
                                .as_ref()
                                .map(|f| format!(" ({f})"))
                                .unwrap_or_default()
                        )
                    })
                    .collect();
                self.warnings.push(Warning {
                    field: "fallback".into(),
                    message: format!("the catalog-only copy fails: {}", failed.join(", ")),
                });
            }
            let scored = score::rank(self.kind, &self.plan, &[(copy.clone(), None, 0)]);
            vec![Alternative {
                copy,
                source: Source::Fallback,
                seed: None,
                score: scored[0].1,
                checks,
                repairs: Vec::new(),
            }]
        } else {
            let inputs: Vec<(CopyFields, Option<f32>, usize)> = passed
                .iter()
                .map(|p| (p.copy.clone(), Some(p.mean_logprob), p.repairs.len()))
                .collect();
            let ranked = score::rank(self.kind, &self.plan, &inputs);
            let mut slots: Vec<Option<Passed>> = passed.into_iter().map(Some).collect();
            ranked
                .into_iter()
                .filter_map(|(i, s)| {
                    let p = slots[i].take()?;
                    Some(Alternative {
                        copy: p.copy,
                        source: Source::Model,
                        seed: Some(p.seed),
                        score: s,
                        checks: p.checks,
                        repairs: p.repairs,
                    })
                })
                .collect()
        };
        self.timings.optimize += ms(t);
        self.timings.total = ms(self.started);
        let best = alternatives.first().cloned();
        let (copy, source, checks) = match best {
            Some(b) => (b.copy, b.source, b.checks),
            None => (CopyFields::default(), Source::Fallback, Vec::new()),
        };
        alternatives.shrink_to_fit();
        WriteEvent::Done {
            result: Box::new(WriteResult {
                kind: self.kind,
                copy,
                source,
                personalized: self.plan.personalized,
                language: self.plan.language.clone(),
                plan: self.plan.clone(),
                checks,
                alternatives,
                rejected: std::mem::take(&mut self.rejected),
                seed: self.seed,
                attempts: self.attempt,
                timings_ms: self.timings,
                warnings: std::mem::take(&mut self.warnings),
            }),
        }
    }
}
