//! Rewrite existing copy: `shorter`, `longer`, `more-formal`, `more-casual`.
//! Through the model with the usual checks plus three of its own (the
//! direction was followed, the text changed, no amount or percentage was
//! added); the deterministic fallback only shortens, appends a catalog
//! feature, or swaps contractions and exclamation marks — never new claims.

use super::ideate::FeaturedProduct;
use super::kinds::ContentKind;
use super::money::{self, ClaimKind};
use super::prompt::{render_copy, system_message, StoreVoice};
use super::request::RewriteOp;
use super::result::{Check, CopyFields};
use super::text::{
    collapse_ws, count_emoji, perceived_len, sentences, strip_emoji_beyond, trim_to_limit, words,
};
use crate::textgen::ChatMessage;

fn instruction(op: RewriteOp) -> &'static str {
    match op {
        RewriteOp::Shorter => "shorter: fewer words, same message",
        RewriteOp::Longer => "longer: add a detail from the facts below, within the limits",
        RewriteOp::MoreFormal => "more formal: polite and professional, no slang, no contractions",
        RewriteOp::MoreCasual => "more casual: relaxed and warm, like talking to a friend",
    }
}

/// Messages asking the model to rewrite `original`. `facts` are the named
/// products, listed so "longer" has true details to add.
pub fn messages(
    kind: ContentKind,
    op: RewriteOp,
    original: &CopyFields,
    facts: &[FeaturedProduct],
    store: &StoreVoice,
    language: &str,
) -> Vec<ChatMessage> {
    let mut lines = vec![format!(
        "Rewrite this to be {}. Keep every price and product name exactly as written; add none.",
        instruction(op)
    )];
    for p in facts {
        let price = match &p.sale_price {
            Some(s) => format!("{s}, was {}", p.price),
            None => p.price.clone(),
        };
        lines.push(format!(
            "Facts: {}, {price}; {}",
            p.name,
            p.features.join("; ")
        ));
    }
    lines.push(render_copy(kind, original));
    vec![
        system_message(
            kind,
            store.store,
            store.voice,
            store.emoji_max,
            &[],
            language,
        ),
        ChatMessage::user(lines.join("\n")),
    ]
}

const CONTRACTIONS: &[(&str, &str)] = &[
    ("it's", "it is"),
    ("you're", "you are"),
    ("we're", "we are"),
    ("they're", "they are"),
    ("don't", "do not"),
    ("doesn't", "does not"),
    ("can't", "cannot"),
    ("won't", "will not"),
    ("isn't", "is not"),
    ("aren't", "are not"),
    ("let's", "let us"),
    ("i'm", "I am"),
    ("you'll", "you will"),
    ("we'll", "we will"),
    ("that's", "that is"),
    ("there's", "there is"),
    ("here's", "here is"),
    ("what's", "what is"),
    ("you've", "you have"),
    ("we've", "we have"),
];

const CASUAL_WORDS: &[&str] = &[
    "hey", "grab", "awesome", "gonna", "wanna", "cool", "super", "yay", "folks", "stoked", "epic",
];

/// Contractions, exclamation marks, emoji and casual words: a crude but
/// honest measure of informality.
pub fn informality(text: &str) -> usize {
    let w = words(text);
    let contractions = w
        .iter()
        .filter(|x| CONTRACTIONS.iter().any(|(c, _)| c == *x))
        .count();
    let casual = w
        .iter()
        .filter(|x| CASUAL_WORDS.contains(&x.as_str()))
        .count();
    contractions + casual + text.matches('!').count() + count_emoji(text)
}

/// Replaces whole words case-insensitively, keeping a capital first letter.
fn replace_word(text: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // ASCII folding keeps byte offsets; the words replaced are ASCII.
    let lower = text.to_ascii_lowercase();
    let mut i = 0;
    while let Some(rel) = lower[i..].find(from) {
        let start = i + rel;
        let end = start + from.len();
        let before_ok = lower[..start]
            .chars()
            .last()
            .is_none_or(|c| !c.is_alphanumeric());
        let after_ok = lower[end..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        out.push_str(&text[i..start]);
        if before_ok && after_ok {
            let capital = text[start..].chars().next().is_some_and(char::is_uppercase);
            if capital {
                let mut c = to.chars();
                out.extend(c.next().map(|f| f.to_uppercase().collect::<String>()));
                out.push_str(c.as_str());
            } else {
                out.push_str(to);
            }
        } else {
            out.push_str(&text[start..end]);
        }
        i = end;
    }
    out.push_str(&text[i..]);
    out
}

fn formalize(text: &str) -> String {
    let mut t = text.replace('’', "'");
    for (c, full) in CONTRACTIONS {
        t = replace_word(&t, c, full);
    }
    t = replace_word(&t, "grab", "get");
    t = replace_word(&t, "hey", "hello");
    t = t.replace('!', ".").replace("..", ".");
    collapse_ws(&strip_emoji_beyond(&t, 0, 0))
}

/// Contractions, and the first line ends with an exclamation mark.
fn casualize(text: &str, exclaim: bool) -> String {
    let mut t = text.to_string();
    for (c, full) in CONTRACTIONS {
        if *full != "I am" {
            t = replace_word(&t, full, c);
        }
    }
    if exclaim {
        if let Some(stripped) = t.strip_suffix('.') {
            if !stripped.ends_with('.') {
                t = format!("{stripped}!");
            }
        } else if t.ends_with(|c: char| c.is_alphanumeric()) {
            t.push('!');
        }
    }
    t
}

/// The deterministic rewrite used when no model variant passes.
pub fn fallback(
    kind: ContentKind,
    op: RewriteOp,
    original: &CopyFields,
    facts: &[FeaturedProduct],
) -> CopyFields {
    let mut out = CopyFields::default();
    let mut added = false;
    for spec in kind.fields() {
        let text = original.get(spec.name).unwrap_or("").to_string();
        let new = match op {
            RewriteOp::Shorter => {
                let s = sentences(&text);
                if s.len() > 1 {
                    s[..s.len() - 1].join(" ")
                } else {
                    let target = (perceived_len(&text) * 3 / 4).max(spec.min);
                    trim_to_limit(&text, target)
                }
            }
            RewriteOp::Longer if !added && spec.name != "cta" => {
                let extra = facts
                    .iter()
                    .flat_map(|p| p.features.iter())
                    .map(|f| format!("{}.", capitalize(f)));
                let mut chosen = text.clone();
                for e in extra {
                    if text
                        .to_lowercase()
                        .contains(&e.trim_end_matches('.').to_lowercase())
                    {
                        continue;
                    }
                    let base = if text.ends_with(['.', '!', '?']) {
                        text.clone()
                    } else {
                        format!("{text}.")
                    };
                    let candidate = format!("{base} {e}");
                    if perceived_len(&candidate) <= spec.max {
                        chosen = candidate;
                        added = true;
                        break;
                    }
                }
                chosen
            }
            RewriteOp::Longer => text,
            RewriteOp::MoreFormal => trim_to_limit(&formalize(&text), spec.max),
            RewriteOp::MoreCasual => {
                let first = kind.fields().first().is_some_and(|f| f.name == spec.name);
                trim_to_limit(&casualize(&text, first), spec.max)
            }
        };
        out.set(spec.name, new);
    }
    out
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn amounts(text: &str) -> Vec<String> {
    money::extract(text)
        .into_iter()
        .filter_map(|c| match c.kind {
            ClaimKind::Money { cents, .. } => Some(format!("money:{cents}")),
            ClaimKind::Percent { value, .. } => Some(format!("percent:{value}")),
            ClaimKind::Number(_) => None,
        })
        .collect()
}

/// The rewrite's own checks.
pub fn checks(op: RewriteOp, original: &CopyFields, new: &CopyFields) -> Vec<Check> {
    let (a, b) = (original.joined(), new.joined());
    let mut out = Vec::new();
    let before = amounts(&a);
    let added: Vec<String> = amounts(&b)
        .into_iter()
        .filter(|x| !before.contains(x))
        .collect();
    out.push(if added.is_empty() {
        Check::pass("rewrite_facts_kept", None)
    } else {
        Check::fail(
            "rewrite_facts_kept",
            None,
            "states an amount or percentage the original did not".into(),
            Vec::new(),
        )
    });
    let changed = collapse_ws(&a).to_lowercase() != collapse_ws(&b).to_lowercase();
    out.push(if changed {
        Check::pass("rewrite_changed", None)
    } else {
        Check::fail(
            "rewrite_changed",
            None,
            "identical to the original".into(),
            Vec::new(),
        )
    });
    let (la, lb) = (perceived_len(&a), perceived_len(&b));
    let (ia, ib) = (informality(&a), informality(&b));
    let direction = match op {
        RewriteOp::Shorter => (lb < la)
            .then_some(())
            .ok_or(format!("{lb} characters is not shorter than {la}")),
        RewriteOp::Longer => (lb > la)
            .then_some(())
            .ok_or(format!("{lb} characters is not longer than {la}")),
        RewriteOp::MoreFormal => (ib <= ia && (ib < ia || changed))
            .then_some(())
            .ok_or(format!("informality went from {ia} to {ib}")),
        RewriteOp::MoreCasual => (ib >= ia && (ib > ia || changed))
            .then_some(())
            .ok_or(format!("informality went from {ia} to {ib}")),
    };
    out.push(match direction {
        Ok(()) => Check::pass("rewrite_direction", None),
        Err(why) => Check::fail("rewrite_direction", None, why, Vec::new()),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formal_and_casual_swaps() {
        assert_eq!(
            formalize("It's here! Grab yours 🎁"),
            "It is here. Get yours"
        );
        assert_eq!(
            casualize("You are ready. It is on sale.", true),
            "You're ready. It's on sale!"
        );
        assert_eq!(
            casualize("Your tent is waiting", true),
            "Your tent is waiting!"
        );
        assert!(informality("It's here!") > informality("It is here."));
    }
}
