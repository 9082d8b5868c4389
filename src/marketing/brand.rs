//! The store's brand rules (`brand.json`): voice, default tone, audience,
//! banned phrases, required terms and the emoji policy, which brands write as
//! prose ("at most one", "none") and which is parsed here into a number.

use serde::Serialize;
use serde_json::Value;

use super::catalog::store_text;
use super::input::{self, child, Warnings};
use super::request::Tone;
use crate::error::{Error, Result};

const MAX_PHRASES: usize = 100;

/// How many emoji one piece of copy (all fields together) may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmojiPolicy {
    AtMost(u32),
    Unlimited,
}

impl EmojiPolicy {
    pub fn max(self) -> Option<usize> {
        match self {
            EmojiPolicy::AtMost(n) => Some(n as usize),
            EmojiPolicy::Unlimited => None,
        }
    }

    /// Reads the policy from prose: "none", "no emoji", "never" → 0; "at most
    /// one", "up to 2", "max 3", "one" → that number; "any", "unlimited",
    /// "allowed" → no limit. `None` when the text says nothing we understand.
    pub fn parse(text: &str) -> Option<EmojiPolicy> {
        let t = text.trim().to_lowercase();
        const NUMBERS: &[&str] = &[
            "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        ];
        let words: Vec<&str> = t
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let number = words.iter().find_map(|w| {
            w.parse::<u32>()
                .ok()
                .or_else(|| NUMBERS.iter().position(|n| n == w).map(|p| p as u32))
        });
        if let Some(n) = number {
            return Some(EmojiPolicy::AtMost(n));
        }
        let has = |w: &str| words.contains(&w);
        if has("none")
            || has("no")
            || has("never")
            || has("not")
            || has("forbidden")
            || has("avoid")
        {
            return Some(EmojiPolicy::AtMost(0));
        }
        if has("single") || has("an") || has("a") {
            return Some(EmojiPolicy::AtMost(1));
        }
        if has("any")
            || has("unlimited")
            || has("allowed")
            || has("yes")
            || has("ok")
            || has("fine")
        {
            return Some(EmojiPolicy::Unlimited);
        }
        None
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Brand {
    pub name: String,
    pub voice: String,
    pub tone: Option<Tone>,
    pub audience: String,
    pub banned_phrases: Vec<String>,
    pub required_terms: Vec<String>,
    pub emoji: EmojiPolicy,
    pub claims_policy: String,
}

fn phrase_list(obj: &serde_json::Map<String, Value>, key: &str, w: &mut Warnings) -> Vec<String> {
    let items = input::strings(obj, key, "brand", w);
    let path = child("brand", key);
    if items.len() > MAX_PHRASES {
        w.push(
            &path,
            format!("{} entries; kept the first {MAX_PHRASES}", items.len()),
        );
    }
    items
        .into_iter()
        .take(MAX_PHRASES)
        .map(|(i, s)| store_text(&s, 80, &input::index(&path, i), w))
        .filter(|s| !s.trim().is_empty())
        .collect()
}

impl Brand {
    pub fn from_value(v: &Value, w: &mut Warnings) -> Result<Brand> {
        let Value::Object(obj) = v else {
            return Err(Error::invalid_input(
                "brand",
                format!("expected an object, got {}", input::type_name(v)),
            ));
        };
        let text = |key: &str, max: usize, w: &mut Warnings| {
            input::string(obj, key, "brand", w)
                .map(|s| store_text(&s, max, &child("brand", key), w))
                .unwrap_or_default()
        };
        let tone = match input::string(obj, "tone", "brand", w) {
            Some(t) => match Tone::parse(&t) {
                Some(tone) => Some(tone),
                None => {
                    w.push(
                        "brand.tone",
                        format!(
                            "'{}' is not formal, neutral or casual; ignored",
                            t.chars().take(30).collect::<String>()
                        ),
                    );
                    None
                }
            },
            None => None,
        };
        let emoji = match input::member(obj, "emoji") {
            None => EmojiPolicy::Unlimited,
            Some(Value::Bool(true)) => EmojiPolicy::Unlimited,
            Some(Value::Bool(false)) => EmojiPolicy::AtMost(0),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(n) => EmojiPolicy::AtMost(n.min(100) as u32),
                None => {
                    w.push(
                        "brand.emoji",
                        format!("{n} is not a count; no emoji allowed"),
                    );
                    EmojiPolicy::AtMost(0)
                }
            },
            Some(Value::String(s)) => EmojiPolicy::parse(s).unwrap_or_else(|| {
                w.push(
                    "brand.emoji",
                    format!(
                        "cannot read '{}' as an emoji policy; no emoji allowed",
                        s.chars().take(40).collect::<String>()
                    ),
                );
                EmojiPolicy::AtMost(0)
            }),
            Some(other) => {
                w.push(
                    "brand.emoji",
                    format!(
                        "expected text, got {}; no emoji allowed",
                        input::type_name(other)
                    ),
                );
                EmojiPolicy::AtMost(0)
            }
        };
        Ok(Brand {
            name: text("name", 120, w),
            voice: text("voice", 300, w),
            tone,
            audience: text("audience", 200, w),
            banned_phrases: phrase_list(obj, "banned_phrases", w),
            required_terms: phrase_list(obj, "required_terms", w),
            emoji,
            claims_policy: text("claims_policy", 300, w),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::EmojiPolicy::{self, *};

    #[test]
    fn reads_emoji_prose() {
        assert_eq!(EmojiPolicy::parse("at most one"), Some(AtMost(1)));
        assert_eq!(EmojiPolicy::parse("none"), Some(AtMost(0)));
        assert_eq!(EmojiPolicy::parse("No emoji, ever."), Some(AtMost(0)));
        assert_eq!(EmojiPolicy::parse("up to 3"), Some(AtMost(3)));
        assert_eq!(
            EmojiPolicy::parse("a single emoji is fine"),
            Some(AtMost(1))
        );
        assert_eq!(EmojiPolicy::parse("any"), Some(Unlimited));
        assert_eq!(EmojiPolicy::parse("purple"), None);
    }
}
