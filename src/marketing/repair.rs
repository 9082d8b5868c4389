//! Optimize, part two: mend a failing variant without inventing anything.
//! Repairs only remove or shorten — strip markup, drop the sentence or clause
//! that holds a violation, trim at a word boundary within the limit, drop
//! emoji beyond the policy — with one exception: when a minority of fields is
//! missing, they are filled from the catalog-only copy (listed in `repairs`);
//! and job.rs appends a missing required term as the catalog-only copy does. Facts are never rewritten ("$79" is not
//! turned into "$99"); the clause goes instead.

use super::kinds::ContentKind;
use super::result::{Check, CopyFields};
use super::sanitize::strip_markup;
use super::text::{
    collapse_ws, perceived_len, sentences, stem, strip_emoji_beyond, trim_to_limit, words,
};

/// Whether `text` holds `span`, literally or as the same word stems.
fn holds(text: &str, span: &str) -> bool {
    if span.is_empty() {
        return false;
    }
    if text.to_lowercase().contains(&span.to_lowercase()) {
        return true;
    }
    let t: Vec<String> = words(text).iter().map(|w| stem(w)).collect();
    let s: Vec<String> = words(span).iter().map(|w| stem(w)).collect();
    !s.is_empty() && t.windows(s.len()).any(|w| w == s.as_slice())
}

/// Splits a sentence into clauses at commas, dashes and colons.
fn clauses(sentence: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = sentence.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let sep = matches!(c, ',' | ';' | ':' | '—' | '–')
            || (c == '-' && i > 0 && chars[i - 1] == ' ' && chars.get(i + 1) == Some(&' '));
        if sep {
            if !cur.trim().is_empty() {
                out.push(cur.trim().to_string());
            }
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// What of `span` to look for clause by clause: the span, or, when no clause
/// holds it whole and it ends in an amount, the amount. A price claim's span
/// is the words before the amount gathered across punctuation ("ridgeline
/// trail runner now $129" of "Ridgeline Trail Runner, now $129"): the clause
/// that states the amount is the one to go.
fn clause_part<'a>(clauses: &[String], span: &'a str) -> &'a str {
    if clauses.iter().any(|c| holds(c, span)) {
        return span;
    }
    match span.rsplit(' ').next() {
        Some(last) if last != span && last.chars().any(|c| c.is_ascii_digit()) => last,
        _ => span,
    }
}

/// Removes the sentences (else clauses) holding any of `spans`. `None` when
/// nothing usable would remain.
fn drop_offending(text: &str, spans: &[String], min: usize) -> Option<String> {
    let bad = |s: &str| spans.iter().any(|sp| holds(s, sp));
    let kept: Vec<String> = sentences(text).into_iter().filter(|s| !bad(s)).collect();
    let joined = collapse_ws(&kept.join(" "));
    if !joined.is_empty() && perceived_len(&joined) >= min {
        return Some(joined);
    }
    // One sentence: keep its clean clauses, ending with the sentence's mark.
    let end_mark = text
        .trim_end()
        .chars()
        .last()
        .filter(|c| matches!(c, '.' | '!' | '?'));
    let parts = clauses(text);
    let in_clauses: Vec<&str> = spans.iter().map(|sp| clause_part(&parts, sp)).collect();
    let bad_clause = |c: &str| in_clauses.iter().any(|sp| holds(c, sp));
    let kept: Vec<String> = parts.into_iter().filter(|c| !bad_clause(c)).collect();
    let mut joined = kept.join(", ");
    joined = joined.trim_end_matches(['.', '!', '?']).trim().to_string();
    if let Some(m) = end_mark {
        if !joined.is_empty() {
            joined.push(m);
        }
    }
    (!joined.is_empty() && perceived_len(&joined) >= min).then_some(joined)
}

/// Applies the repairs the failed checks allow; returns notes on what was
/// done (empty when nothing could be repaired).
pub fn repair(
    kind: ContentKind,
    copy: &mut CopyFields,
    checks: &[Check],
    fill: Option<(&CopyFields, &str)>,
    emoji_max: Option<usize>,
) -> Vec<String> {
    let mut notes = Vec::new();
    for c in checks.iter().filter(|c| !c.pass && c.name == "distinct") {
        // (A field already removed by another repeat check stays removed.)
        let Some(field) = c.field.as_deref().filter(|f| copy.get(f).is_some()) else { continue };
        // A sentence that repeats the call to action goes; the field goes
        // when nothing else of it is left, or when all of it is a repeat.
        let min = kind.fields().iter().find(|s| s.name == field).map_or(1, |s| s.min.max(1));
        let rest = copy.get(field).filter(|_| !c.spans.is_empty()).map(|text| {
            let repeat: Vec<Vec<String>> = c.spans.iter().map(|s| words(s)).collect();
            let kept: Vec<String> = sentences(text).into_iter().filter(|s| !repeat.contains(&words(s))).collect();
            collapse_ws(&kept.join(" "))
        });
        match rest {
            Some(rest) if perceived_len(&rest) >= min => {
                copy.set(field, rest);
                notes.push(format!("{field}: dropped a sentence repeating the call to action"));
            }
            _ => {
                copy.0.retain(|(n, _)| n != field);
                notes.push(format!("{field}: repeated another field; removed"));
            }
        }
    }
    // A minority of fields missing: take them from `fill` (the catalog-only
    // copy, or a rewrite's original), so one dropped line does not waste a
    // variant. A majority missing is not the model's copy any more.
    let missing: Vec<&str> = kind
        .fields()
        .iter()
        .map(|s| s.name)
        .filter(|n| copy.get(n).is_none())
        .collect();
    if let Some((source, what)) = fill {
        if !missing.is_empty() && missing.len() * 2 <= kind.fields().len() {
            for name in missing {
                if let Some(text) = source.get(name) {
                    copy.set(name, text.to_string());
                    notes.push(format!("{name}: missing; filled from {what}"));
                }
            }
        }
    }
    for spec in kind.fields() {
        let failed = |name: &str| {
            checks
                .iter()
                .filter(|c| !c.pass && c.name == name && c.field.as_deref() == Some(spec.name))
                .collect::<Vec<_>>()
        };
        if copy.get(spec.name).is_none() {
            continue;
        }
        let mut text = copy.get(spec.name).unwrap_or_default().to_string();
        if !failed("markup").is_empty() {
            text = collapse_ws(&strip_markup(&text).0);
            notes.push(format!("{}: markup removed", spec.name));
        }
        let mut spans: Vec<String> = Vec::new();
        for name in [
            "banned_phrases",
            "facts",
            "invented_words",
            "plan_claims",
            "voice",
            "injection_echo",
            "prompt_echo",
        ] {
            for c in failed(name) {
                spans.extend(c.spans.iter().cloned());
            }
        }
        if !spans.is_empty() {
            match drop_offending(&text, &spans, spec.min) {
                Some(t) => {
                    notes.push(format!(
                        "{}: dropped the part stating {}",
                        spec.name,
                        spans
                            .iter()
                            .map(|s| format!("'{s}'"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                    text = t;
                }
                None => continue,
            }
        }
        if perceived_len(&text) > spec.max {
            text = trim_to_limit(&text, spec.max);
            notes.push(format!(
                "{}: trimmed to {} characters at a word boundary",
                spec.name, spec.max
            ));
        }
        copy.set(spec.name, text);
    }
    if let Some(max) = emoji_max {
        if checks.iter().any(|c| !c.pass && c.name == "emoji") {
            let mut seen = 0;
            for (_, text) in copy.0.iter_mut() {
                let stripped = strip_emoji_beyond(text, max, seen);
                seen += super::text::count_emoji(&stripped);
                *text = stripped;
            }
            notes.push(format!("emoji beyond the brand's {max} removed"));
        }
    }
    copy.0.retain(|(_, t)| !t.trim().is_empty());
    *copy = std::mem::take(copy).in_kind_order(kind);
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_the_bad_sentence_or_clause() {
        let spans = vec!["$79".to_string()];
        assert_eq!(
            drop_offending("Now $99. Was $79 last week.", &spans, 3).unwrap(),
            "Now $99."
        );
        assert_eq!(
            drop_offending("Grab it now, only $79!", &spans, 3).unwrap(),
            "Grab it now!"
        );
        assert!(drop_offending("$79!", &spans, 3).is_none());
        // A price claim's span runs across the comma: the amount's clause goes.
        let spans = vec!["ridgeline trail runner now $129".to_string()];
        assert_eq!(
            drop_offending("Ridgeline Trail Runner, now $129", &spans, 3).unwrap(),
            "Ridgeline Trail Runner"
        );
        assert_eq!(
            drop_offending("The Ridgeline Trail Runner: now $129, with a rock plate.", &spans, 10).unwrap(),
            "The Ridgeline Trail Runner, with a rock plate."
        );
        assert!(holds("FREE TENTS for all", "free tent"));
    }
}
