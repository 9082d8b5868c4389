//! The one structured object a request returns ([`WriteResult`]) and its
//! parts. Copy is plain text per field; a page puts it in with
//! `textContent`, never as HTML. `rejected` holds model output that failed
//! the checks: it is for inspection and must never be shown to visitors.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::ideate::Plan;
use super::input::Warning;
use super::kinds::ContentKind;

/// Field name → text, in the kind's field order (serialized as a JSON object).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyFields(pub Vec<(String, String)>);

impl CopyFields {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
    }

    pub fn set(&mut self, name: &str, text: String) {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some((_, t)) => *t = text,
            None => self.0.push((name.to_string(), text)),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, t)| (n.as_str(), t.as_str()))
    }

    /// All fields joined by newlines (for whole-copy checks and similarity).
    pub fn joined(&self) -> String {
        self.0
            .iter()
            .map(|(_, t)| t.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Orders fields as the kind lists them (unknown names last).
    pub fn in_kind_order(mut self, kind: ContentKind) -> Self {
        let pos = |n: &str| {
            kind.fields()
                .iter()
                .position(|f| f.name == n)
                .unwrap_or(usize::MAX)
        };
        self.0.sort_by_key(|(n, _)| pos(n));
        self
    }
}

impl Serialize for CopyFields {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// One check on one piece of copy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// complete, length, banned_phrases, required_terms, emoji, facts,
    /// markup, injection_echo, language, or a rewrite check.
    pub name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub pass: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Offending spans, for repair (not serialized).
    #[serde(skip)]
    pub spans: Vec<String>,
}

impl Check {
    pub fn pass(name: &'static str, field: Option<&str>) -> Check {
        Check {
            name,
            field: field.map(str::to_string),
            pass: true,
            detail: None,
            spans: Vec::new(),
        }
    }

    pub fn fail(
        name: &'static str,
        field: Option<&str>,
        detail: String,
        spans: Vec<String>,
    ) -> Check {
        Check {
            name,
            field: field.map(str::to_string),
            pass: false,
            detail: Some(detail),
            spans,
        }
    }
}

pub fn all_pass(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.pass)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Written by the model (possibly repaired), and passed every check.
    Model,
    /// Assembled from catalog facts by templates.
    Fallback,
}

/// How a passing variant was ranked; every part in 0..=1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Score {
    pub total: f32,
    /// Plan keywords and featured product mentioned.
    pub relevance: f32,
    /// The model's own mean token probability, rescaled.
    pub fluency: f32,
    /// How well each field's length fits its platform's sweet spot.
    pub length_fit: f32,
    /// How different from the other passing variants.
    pub distinctness: f32,
}

/// A passing variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alternative {
    pub copy: CopyFields,
    pub source: Source,
    /// Sampling seed (model variants only).
    pub seed: Option<u32>,
    pub score: Score,
    pub checks: Vec<Check>,
    /// Repairs applied to the model's text, in order.
    pub repairs: Vec<String>,
}

/// A model variant that failed the checks even after repair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    pub seed: u32,
    pub attempt: u32,
    /// The model's raw text.
    pub raw: String,
    /// The failed checks only.
    pub failed: Vec<Check>,
}

/// Milliseconds spent per stage (`create` is time inside the generator).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Timings {
    pub ideate: f64,
    pub create: f64,
    /// The part of `create` spent reading prompts (the rest draws tokens).
    pub prompt: f64,
    pub optimize: f64,
    pub total: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WriteResult {
    pub kind: ContentKind,
    /// The chosen copy, field → text.
    pub copy: CopyFields,
    pub source: Source,
    /// A personal signal shaped the copy.
    pub personalized: bool,
    /// Language the copy is written in (primary subtag).
    pub language: String,
    pub plan: Plan,
    /// Checks of the chosen copy.
    pub checks: Vec<Check>,
    /// Every passing variant, best first (the chosen copy is the first).
    pub alternatives: Vec<Alternative>,
    pub rejected: Vec<Rejected>,
    /// Base seed of the request.
    pub seed: u32,
    /// Generation rounds run (0 when the model was not reached).
    pub attempts: u32,
    pub timings_ms: Timings,
    /// What was cleaned from the inputs, and anything else worth knowing.
    pub warnings: Vec<Warning>,
}
