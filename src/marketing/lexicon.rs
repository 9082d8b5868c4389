//! Which English words exist: a 41k-word list (SCOWL size 35, see
//! data/NOTICE) plus regular derivations ("packable", "re-", "-ness"). Used by the invented-word check
//! (checks.rs) to tell a garbled name ("Featheredle") or a made-up word
//! ("Fezeline") from plain English. Lower-case ASCII words only; anything
//! else is not judged here.

use std::collections::HashSet;
use std::sync::OnceLock;

const WORDS: &str = include_str!("data/english_words.txt");

/// The month names, lower case (the word list leaves them out; the facts
/// check reads "31 December" as a date, not a quantity).
pub const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Other words the list leaves out because it keeps only lower-case
/// entries: day and holiday names copy may use.
const CALENDAR: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "christmas",
    "xmas",
    "easter",
    "halloween",
    "thanksgiving",
    "valentine",
    "valentines",
    "hanukkah",
    "diwali",
    "ramadan",
    "eid",
    "english",
    "celsius",
    "fahrenheit",
    "email",
    "emails",
    "online",
    "website",
    "app",
    "ok",
    "okay",
    "eco",
    "wifi",
    "usb",
    "i",
];

fn set() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| WORDS.lines().chain(MONTHS.iter().chain(CALENDAR).copied()).collect())
}

fn listed(w: &str) -> bool {
    set().contains(w)
}

/// `base` or a regular spelling change of it is listed: "breath(e)",
/// "shipp(ing)" → "ship", "cozi(er)" → "cozy".
fn base_listed(base: &str) -> bool {
    if base.len() < 3 {
        return false;
    }
    if listed(base) || listed(&format!("{base}e")) {
        return true;
    }
    let b = base.as_bytes();
    if b.len() >= 4 && b[b.len() - 1] == b[b.len() - 2] && listed(&base[..base.len() - 1]) {
        return true;
    }
    base.strip_suffix('i')
        .is_some_and(|s| listed(&format!("{s}y")))
}

const SUFFIXES: &[&str] = &[
    "ability", "ably", "able", "ibly", "ible", "ness", "ment", "less", "ful", "ish", "ity", "ize",
    "ise", "ized", "ised", "ies", "ied", "ier", "iest", "ily", "ings", "ing", "ers", "er", "est",
    "ed", "es", "ly", "s", "y", "ie", "ist",
];

const PREFIXES: &[&str] = &[
    "un", "re", "pre", "non", "over", "under", "out", "multi", "ultra", "super", "all", "well",
    "self", "eco", "extra", "semi", "anti", "mini", "mid", "co",
];

/// Whether `word` (lower case) is English as far as this list can tell.
/// Words with digits or non-ASCII letters are not judged (true).
pub fn is_english(word: &str) -> bool {
    let w = word.trim_matches('\'');
    if w.is_empty() || !w.chars().all(|c| c.is_ascii_lowercase() || c == '\'') {
        return true;
    }
    // Contractions and possessives: "you're", "parka's", "don't".
    let w = ["'s", "'ll", "'re", "'ve", "'d", "'m", "n't", "s'"]
        .iter()
        .find_map(|s| w.strip_suffix(s).filter(|b| !b.is_empty()))
        .unwrap_or(w);
    if w.contains('\'') {
        return false;
    }
    known(w, 2)
}

fn known(w: &str, depth: u8) -> bool {
    if listed(w) {
        return true;
    }
    for s in SUFFIXES {
        if let Some(base) = w.strip_suffix(s) {
            if base_listed(base) {
                return true;
            }
        }
    }
    if depth == 0 {
        return false;
    }
    for p in PREFIXES {
        if let Some(rest) = w.strip_prefix(p) {
            if rest.len() >= 3 && known(rest, depth - 1) {
                return true;
            }
        }
    }
    // Closed compounds ("trailhead") are not split: "downseasoned" and
    // "wordonly" split just as well. The list has the common ones.
    false
}

/// Levenshtein distance, for naming the catalog word a garbled one is near.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let sub = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_words_and_derivations_pass() {
        for w in [
            "parka",
            "gear",
            "warmth",
            "packable",
            "breathable",
            "rewrap",
            "cozier",
            "shipping",
            "you're",
            "parka's",
            "don't",
            "december",
            "lightweight",
            "unbeatable",
        ] {
            assert!(is_english(w), "{w}");
        }
    }

    #[test]
    fn invented_and_garbled_words_fail() {
        for w in [
            "fezeline",
            "featheredle",
            "downseasoned",
            "wordonly",
            "trailhead",
            "ridgline",
            "stormshel",
        ] {
            assert!(!is_english(w), "{w}");
        }
        assert!(is_english("x200"), "digits are judged elsewhere");
        assert!(is_english("café"), "non-ASCII words are not judged");
        assert_eq!(edit_distance("featheredle", "featherlite"), 3);
    }
}
