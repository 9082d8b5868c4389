//! Reading the model's text into fields. Forgiving of form — markdown bold,
//! quotes, list numbering, label variants ("Title:", "Call to action:"),
//! missing labels, chatter like "Sure! Here is your banner:", a trailing
//! "(38 characters)" — and never of content: words are not changed here, so
//! every fact still goes through the checks.

use super::kinds::{ContentKind, FieldSpec};
use super::result::CopyFields;
use super::sanitize::is_invisible;
use super::text::collapse_ws;

/// Lines that talk about the copy instead of being copy.
const CHATTER: &[&str] = &[
    "sure",
    "here is",
    "here's",
    "here are",
    "certainly",
    "of course",
    "i hope",
    "let me know",
    "note:",
    "(note",
    "feel free",
    "this banner",
    "this ad",
    "this post",
    "this subject",
    "absolutely",
    "okay",
    "ok,",
    "great!",
    "i've",
    "i have written",
    "as requested",
    "below is",
    "output:",
    "answer:",
];

fn is_chatter(line: &str) -> bool {
    let l = line.trim().to_lowercase();
    CHATTER.iter().any(|c| l.starts_with(c))
        || (l.ends_with(':') && !l.contains(' ') && l.len() > 12)
}

/// Keys of the prompt's fact sheet; a line starting with one is the model
/// echoing its input.
const PROMPT_KEYS: &[&str] = &[
    "product:",
    "price:",
    "features:",
    "promotion:",
    "campaign:",
    "why:",
    "tone:",
    "structure:",
    "visitor's words",
    "also in the cart:",
    "facts:",
    "rules:",
    "keywords:",
    "angle:",
];

fn echoes_prompt(line: &str) -> bool {
    let l = line.trim().to_lowercase();
    PROMPT_KEYS.iter().any(|k| l.starts_with(k))
}

/// "Word: ..." or "Two Words: ..." with a capitalized label.
fn unknown_label(line: &str) -> bool {
    match line.split_once([':', '：']) {
        Some((label, _)) => {
            let words = label.split_whitespace().count();
            (1..=3).contains(&words) && label.trim().chars().next().is_some_and(char::is_uppercase)
        }
        None => false,
    }
}

/// Removes chat markers that leaked as text ("<|im_end|>"), which are format,
/// not content.
fn strip_chat_markers(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("<|") {
        out.push_str(&rest[..i]);
        match rest[i..].find("|>") {
            Some(j) => rest = &rest[i + j + 2..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Strips list markers, markdown emphasis and heading marks from a line.
fn clean_line(line: &str) -> String {
    let mut l = line.trim();
    l = l.trim_start_matches('#').trim_start();
    for marker in ["- ", "* ", "• ", "– ", "> "] {
        if let Some(rest) = l.strip_prefix(marker) {
            l = rest.trim_start();
        }
    }
    // "1. " / "1) " numbering (but not "1.9 kg").
    let digits = l.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits > 0 && digits <= 2 {
        let after = &l[digits..];
        if let Some(rest) = after
            .strip_prefix(". ")
            .or_else(|| after.strip_prefix(") "))
        {
            l = rest.trim_start();
        }
    }
    l.replace("**", "")
        .replace("__", "")
        .replace('`', "")
        .trim()
        .to_string()
}

/// Strips wrapping quotes and a trailing character-count note from a value.
fn clean_value(v: &str) -> String {
    let mut v = v.trim().to_string();
    // "(38 characters)", "[30 chars]".
    if let Some(open) = v.rfind(['(', '[']) {
        let tail = v[open..].to_lowercase();
        if tail.contains("char") && tail.chars().any(|c| c.is_ascii_digit()) {
            v.truncate(open);
        }
    }
    let mut v = v.trim().to_string();
    loop {
        let t = v.trim();
        let stripped = [('"', '"'), ('“', '”'), ('\'', '\''), ('*', '*'), ('_', '_')]
            .iter()
            .find_map(|(a, b)| {
                t.strip_prefix(*a)
                    .and_then(|x| x.strip_suffix(*b))
                    .filter(|x| !x.is_empty())
            });
        match stripped {
            Some(inner) => v = inner.trim().to_string(),
            None => break,
        }
    }
    collapse_ws(&v)
}

/// A label at the start of a line: (group alias matched, position, value).
fn split_label<'a>(
    line: &'a str,
    fields: &[FieldSpec],
) -> Option<(&'static str, Option<u8>, &'a str)> {
    let colon = line.find([':', '：'])?;
    let label = line[..colon]
        .trim()
        .trim_matches(|c: char| matches!(c, '*' | '_' | '"' | '#' | '[' | ']'))
        .trim()
        .to_lowercase();
    if label.is_empty() || label.chars().count() > 30 {
        return None;
    }
    let value = line[colon..].trim_start_matches([':', '：']).trim();
    // Trailing position: "headline 2", "headline #2", "description2".
    let digits: String = label
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let base = label[..label.len() - digits.len()]
        .trim()
        .trim_end_matches('#')
        .trim();
    let position = digits.parse::<u8>().ok();
    for f in fields {
        if let Some(alias) = f
            .aliases
            .iter()
            .find(|a| **a == base || format!("{a}s") == base)
        {
            return Some((alias, position, value));
        }
    }
    None
}

/// Fields of the same group (same aliases) in order.
fn group_of<'a>(fields: &'a [FieldSpec], alias: &str) -> Vec<&'a FieldSpec> {
    fields
        .iter()
        .filter(|f| f.aliases.contains(&alias))
        .collect()
}

/// Parses model text into the kind's fields. Fields not found are absent.
pub fn parse(kind: ContentKind, raw: &str) -> CopyFields {
    let fields = kind.fields();
    // Invisible characters are formatting, never copy (the zero-width joiner
    // inside emoji sequences like 👨‍👩‍👧 stays).
    let text: String = strip_chat_markers(raw)
        .chars()
        .filter(|&c| c == '\u{200D}' || !is_invisible(c) || matches!(c, '\n' | '\t' | '\r'))
        .collect();
    let lines: Vec<String> = text
        .lines()
        .map(clean_line)
        .filter(|l| !l.is_empty())
        .collect();
    let multi_line = fields.len() == 1;
    let mut copy = CopyFields::default();
    let mut leftovers: Vec<String> = Vec::new();
    let mut current: Option<&'static str> = None;
    let mut any_label = false;

    for line in &lines {
        if let Some((alias, position, value)) = split_label(line, fields) {
            any_label = true;
            let group = group_of(fields, alias);
            // A field of this group: by position, else the first still empty.
            let target = match position {
                Some(p) => group
                    .iter()
                    .find(|f| f.position == Some(p))
                    .or_else(|| group.iter().find(|f| copy.get(f.name).is_none())),
                None => group.iter().find(|f| copy.get(f.name).is_none()),
            };
            let Some(target) = target else {
                current = None;
                continue;
            };
            let value = clean_value(value);
            if value.is_empty() {
                current = Some(target.name);
                continue;
            }
            copy.set(target.name, value);
            current = multi_line.then_some(target.name);
            continue;
        }
        if is_chatter(line) || echoes_prompt(line) {
            current = None;
            continue;
        }
        // After real labels, another "Label: ..." line in a multi-field kind
        // is an invented field ("Tone: casual", "Hashtags: ..."): not copy.
        if any_label && !multi_line && unknown_label(line) {
            current = None;
            continue;
        }
        let value = clean_value(line);
        match current {
            // A label with an empty value takes the next line; single-field
            // kinds take following lines as continuation.
            Some(name) => {
                let joined = match copy.get(name) {
                    Some(prev) if !prev.is_empty() => format!("{prev} {value}"),
                    _ => value,
                };
                copy.set(name, joined);
                if !multi_line {
                    current = None;
                }
            }
            None => leftovers.push(value),
        }
    }
    if multi_line {
        if !any_label && !leftovers.is_empty() {
            copy.set(fields[0].name, collapse_ws(&leftovers.join(" ")));
        }
    } else {
        // Unlabeled lines fill the fields still missing, in order.
        let mut rest = leftovers.into_iter();
        for f in fields {
            if copy.get(f.name).is_none() {
                match rest.next() {
                    Some(v) => copy.set(f.name, v),
                    None => break,
                }
            }
        }
    }
    copy.0.retain(|(_, t)| !t.trim().is_empty());
    copy.in_kind_order(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(c: &CopyFields, f: &str) -> String {
        c.get(f).unwrap_or("<none>").to_string()
    }

    #[test]
    fn plain_labels() {
        let c = parse(ContentKind::Banner, "Headline: Trail-ready for less\nSubline: The Ridgeline Trail Runner, now $99.\nCTA: Shop now");
        assert_eq!(get(&c, "headline"), "Trail-ready for less");
        assert_eq!(get(&c, "subline"), "The Ridgeline Trail Runner, now $99.");
        assert_eq!(get(&c, "cta"), "Shop now");
    }

    #[test]
    fn markdown_quotes_chatter_numbering() {
        let raw = "Sure! Here is your banner:\n\n1. **Headline:** \"Trail-ready for less\" (20 characters)\n2. **Subline**: *Now $99.*\n3. **Call to action:** Shop now\n\nI hope this helps!";
        let c = parse(ContentKind::Banner, raw);
        assert_eq!(get(&c, "headline"), "Trail-ready for less");
        assert_eq!(get(&c, "subline"), "Now $99.");
        assert_eq!(get(&c, "cta"), "Shop now");
    }

    #[test]
    fn missing_labels_fill_in_order() {
        let c = parse(
            ContentKind::Banner,
            "Trail-ready for less\nThe Ridgeline Trail Runner, now $99.\nShop now",
        );
        assert_eq!(get(&c, "headline"), "Trail-ready for less");
        assert_eq!(get(&c, "cta"), "Shop now");
        let c = parse(ContentKind::Banner, "Headline: Only a headline");
        assert_eq!(c.0.len(), 1);
    }

    #[test]
    fn search_ad_groups() {
        let raw = "Headline 1: Ridgeline Trail Runner\nHeadline 2: Now $99\nHeadline 3: Northwind Outfitters\nDescription 1: Vibram outsole and rock plate.\nDescription 2: Free shipping on orders over $75.";
        let c = parse(ContentKind::SearchAd, raw);
        assert_eq!(get(&c, "headline_2"), "Now $99");
        assert_eq!(
            get(&c, "description_2"),
            "Free shipping on orders over $75."
        );
        let raw = "Headlines:\n- Trail shoes\n- Now $99\n- Northwind\nDescription: One.\nDescription: Two.";
        let c = parse(ContentKind::SearchAd, raw);
        assert_eq!(get(&c, "headline_1"), "Trail shoes");
        assert_eq!(get(&c, "headline_3"), "Northwind");
        assert_eq!(get(&c, "description_2"), "Two.");
    }

    #[test]
    fn echoed_prompt_and_invented_fields_are_dropped() {
        let raw = "Headline: Stay dry\nSubline: The Stormshell 3L Jacket, now $199.\nTone: casual\nCOOKIES: yes";
        let c = parse(ContentKind::Banner, raw);
        assert_eq!(c.0.len(), 2, "{c:?}");
        assert!(c.get("cta").is_none());
        let c = parse(
            ContentKind::SocialPost,
            "Post: Winter Sale: marked-down gear.\nWhy: it matches",
        );
        assert_eq!(get(&c, "post"), "Winter Sale: marked-down gear.");
    }

    #[test]
    fn single_field_kinds_join_lines() {
        let c = parse(
            ContentKind::SocialPost,
            "Post: Morning miles feel better.\nThe Ridgeline Trail Runner is $99.<|im_end|>",
        );
        assert_eq!(
            get(&c, "post"),
            "Morning miles feel better. The Ridgeline Trail Runner is $99."
        );
        let c = parse(
            ContentKind::EmailSubject,
            "Here's a subject line:\n\"Your tent is waiting\"",
        );
        assert_eq!(get(&c, "subject"), "Your tent is waiting");
        assert!(parse(ContentKind::EmailSubject, "").0.is_empty());
    }
}
