//! What a page or the command line asks for: [`WriteRequest`] and
//! [`RewriteRequest`]. Requests reject unknown fields (a typo such as
//! `temprature` fails loudly); the visitor profile inside a request is raw
//! JSON, read tolerantly by profile.rs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::kinds::ContentKind;
use crate::error::{Error, Result};
use crate::textgen::GenerationOptions;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    Formal,
    Neutral,
    Casual,
}

impl Tone {
    pub fn parse(s: &str) -> Option<Tone> {
        match s.trim().to_lowercase().as_str() {
            "formal" => Some(Tone::Formal),
            "neutral" => Some(Tone::Neutral),
            "casual" => Some(Tone::Casual),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Tone::Formal => "formal",
            Tone::Neutral => "neutral",
            Tone::Casual => "casual",
        }
    }
}

/// Generation settings a request may override; anything left out keeps the
/// pipeline's per-kind default. `seed` and `num_return_sequences` are
/// request-level fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenerationOverrides {
    pub max_new_tokens: Option<u32>,
    pub temperature: Option<f32>,
    pub top_k: Option<u32>,
    pub top_p: Option<f32>,
    pub min_p: Option<f32>,
    pub repetition_penalty: Option<f32>,
    pub stop: Option<Vec<String>>,
}

impl GenerationOverrides {
    pub fn apply(&self, base: &mut GenerationOptions) {
        if let Some(v) = self.max_new_tokens {
            base.max_new_tokens = v;
        }
        if let Some(v) = self.temperature {
            base.temperature = v;
        }
        if let Some(v) = self.top_k {
            base.top_k = v;
        }
        if let Some(v) = self.top_p {
            base.top_p = v;
        }
        if let Some(v) = self.min_p {
            base.min_p = v;
        }
        if let Some(v) = self.repetition_penalty {
            base.repetition_penalty = v;
        }
        if let Some(v) = &self.stop {
            base.stop = v.clone();
        }
    }
}

/// Most variants one request may draw per attempt.
pub const MAX_VARIANTS: u32 = 8;
/// Longest accepted goal, in perceived characters.
pub const MAX_GOAL_CHARS: usize = 120;

/// One piece of copy to write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteRequest {
    pub kind: ContentKind,
    /// The marketer's goal, e.g. "winter sale".
    #[serde(default)]
    pub goal: Option<String>,
    /// Defaults to the brand's tone, else neutral.
    #[serde(default)]
    pub tone: Option<Tone>,
    /// BCP 47 language tag of the page; defaults to the profile's locale.
    #[serde(default)]
    pub locale: Option<String>,
    /// The current local date (`YYYY-MM-DD`), to skip ended promotions;
    /// defaults to the profile's local time when personalization is allowed.
    #[serde(default)]
    pub date: Option<String>,
    /// Variants drawn per attempt (Hugging Face's name; `variants` also accepted).
    #[serde(default = "default_variants", alias = "variants")]
    pub num_return_sequences: u32,
    /// Base seed: variant `i` of attempt `a` samples with `seed + a * n + i`.
    /// Left out, a seed is derived from the plan, so a reload shows the same copy.
    #[serde(default)]
    pub seed: Option<u32>,
    /// Regeneration rounds after the first when no variant passes.
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    #[serde(default)]
    pub options: GenerationOverrides,
    /// The visitor profile in fixture format (read tolerantly); absent means
    /// an empty profile.
    #[serde(default)]
    pub profile: Option<serde_json::Value>,
}

fn default_variants() -> u32 {
    3
}

fn default_retries() -> u32 {
    2
}

/// Most regeneration rounds a request may ask for.
pub const MAX_RETRIES: u32 = 5;

impl WriteRequest {
    pub fn new(kind: ContentKind) -> Self {
        WriteRequest {
            kind,
            goal: None,
            tone: None,
            locale: None,
            date: None,
            num_return_sequences: default_variants(),
            seed: None,
            max_retries: default_retries(),
            options: GenerationOverrides::default(),
            profile: None,
        }
    }

    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| Error::invalid_request("request", e.to_string()))
    }

    pub fn from_value(value: serde_json::Value) -> Result<Self> {
        serde_json::from_value(value).map_err(|e| Error::invalid_request("request", e.to_string()))
    }

    /// Checks the request-level fields (options are validated once merged).
    pub fn validate(&self) -> Result<()> {
        validate_common(
            self.num_return_sequences,
            self.max_retries,
            self.locale.as_deref(),
        )?;
        if let Some(goal) = &self.goal {
            if super::text::perceived_len(goal) > MAX_GOAL_CHARS {
                return Err(Error::invalid_request(
                    "goal",
                    format!("at most {MAX_GOAL_CHARS} characters"),
                ));
            }
        }
        Ok(())
    }
}

fn validate_common(variants: u32, retries: u32, locale: Option<&str>) -> Result<()> {
    if let Some(l) = locale {
        if !super::lang::is_language_tag(l) {
            return Err(Error::invalid_request(
                "locale",
                "not a language tag such as en-US",
            ));
        }
    }
    if variants == 0 || variants > MAX_VARIANTS {
        return Err(Error::invalid_request(
            "num_return_sequences",
            format!("must be 1..={MAX_VARIANTS}, got {variants}"),
        ));
    }
    if retries > MAX_RETRIES {
        return Err(Error::invalid_request(
            "max_retries",
            format!("must be 0..={MAX_RETRIES}, got {retries}"),
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RewriteOp {
    Shorter,
    Longer,
    MoreFormal,
    MoreCasual,
}

impl RewriteOp {
    pub fn name(self) -> &'static str {
        match self {
            RewriteOp::Shorter => "shorter",
            RewriteOp::Longer => "longer",
            RewriteOp::MoreFormal => "more-formal",
            RewriteOp::MoreCasual => "more-casual",
        }
    }
}

/// Existing copy to rewrite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewriteRequest {
    pub kind: ContentKind,
    /// Field name → text, the fields of `kind` (e.g. headline, subline, cta).
    pub copy: BTreeMap<String, String>,
    pub operation: RewriteOp,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default = "default_variants", alias = "variants")]
    pub num_return_sequences: u32,
    #[serde(default)]
    pub seed: Option<u32>,
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    #[serde(default)]
    pub options: GenerationOverrides,
}

impl RewriteRequest {
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| Error::invalid_request("request", e.to_string()))
    }

    pub fn from_value(value: serde_json::Value) -> Result<Self> {
        serde_json::from_value(value).map_err(|e| Error::invalid_request("request", e.to_string()))
    }

    pub fn validate(&self) -> Result<()> {
        validate_common(
            self.num_return_sequences,
            self.max_retries,
            self.locale.as_deref(),
        )?;
        for name in self.copy.keys() {
            if self.kind.field(name).is_none() {
                return Err(Error::invalid_request(
                    format!("copy.{name}"),
                    format!(
                        "not a field of {} (fields: {})",
                        self.kind.name(),
                        self.kind
                            .fields()
                            .iter()
                            .map(|f| f.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        for f in self.kind.fields() {
            let text = self.copy.get(f.name).map(|s| s.trim()).unwrap_or("");
            if text.is_empty() {
                return Err(Error::invalid_request(
                    format!("copy.{}", f.name),
                    "missing or empty",
                ));
            }
            if super::text::perceived_len(text) > 4 * f.max {
                return Err(Error::invalid_request(
                    format!("copy.{}", f.name),
                    format!("far longer than the {} characters allowed", f.max),
                ));
            }
        }
        Ok(())
    }
}
