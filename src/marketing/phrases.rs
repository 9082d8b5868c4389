//! Finding a brand phrase in copy the way a marketer means it.
//!
//! The rule: matching ignores case; a space or hyphen in the phrase matches
//! any run of spaces and hyphens ("best in the world" finds
//! "best-in-the-world"); the phrase must start at a word boundary ("cheap" is
//! not found in "scheap") but "dirt-cheap" is found; and it may end inside a
//! longer word only through an English inflection: -s, -es, -ed, -d, -er,
//! -ers, -est, -ly, -ness, -ing, -'s, with a doubled final consonant
//! ("hotter") or y→i ("easier"). So banning "cheap" also bans "cheaper",
//! "cheapest" and "cheaply", but not "cheapskate", which is a different word
//! (list it if the brand wants it gone too). CJK phrases match anywhere:
//! those scripts have no spaces to mark words.

use super::text::is_word_char;

const INFLECTIONS: &[&str] = &[
    "s", "es", "ed", "d", "er", "ers", "est", "ly", "ness", "ing", "ings", "'s", "’s",
];

fn fold(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

fn is_sep(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '‐' | '–' | '—')
}

/// Matches `phrase` at `text[start..]`; returns the end of the match.
fn match_at(text: &[char], start: usize, phrase: &[char]) -> Option<usize> {
    let mut i = start;
    let mut j = 0;
    while j < phrase.len() {
        if is_sep(phrase[j]) {
            while j < phrase.len() && is_sep(phrase[j]) {
                j += 1;
            }
            if i >= text.len() || !is_sep(text[i]) {
                return None;
            }
            while i < text.len() && is_sep(text[i]) {
                i += 1;
            }
            continue;
        }
        if i >= text.len() || fold(text[i]) != phrase[j] {
            return None;
        }
        i += 1;
        j += 1;
    }
    Some(i)
}

fn inflection_ok(rest: &str, last: char) -> bool {
    if INFLECTIONS.contains(&rest) {
        return true;
    }
    // Doubled final consonant: hot → hotter, hottest, hotted, hotting.
    let mut chars = rest.chars();
    if let Some(first) = chars.next() {
        let tail: String = chars.collect();
        if first == last
            && !"aeiouy".contains(last)
            && ["er", "est", "ed", "ing"].contains(&tail.as_str())
        {
            return true;
        }
    }
    false
}

/// Byte-free position of the first match of `phrase` in `text`, as a char
/// range, or `None`. `inflect` allows the inflections described above.
pub fn find(text: &str, phrase: &str, inflect: bool) -> Option<(usize, usize)> {
    let phrase: Vec<char> = phrase.trim().chars().map(fold).collect();
    if phrase.is_empty() {
        return None;
    }
    let text: Vec<char> = text.chars().collect();
    let first_is_word = is_word_char(phrase[0]);
    let last = *phrase.last()?;
    let last_is_word = is_word_char(last);
    // y → i variant of the phrase ("easy" → "easi" + "er").
    let y_variant: Option<Vec<char>> = (last == 'y').then(|| {
        phrase[..phrase.len() - 1]
            .iter()
            .copied()
            .chain(std::iter::once('i'))
            .collect()
    });
    for start in 0..text.len() {
        if first_is_word && start > 0 && is_word_char(text[start - 1]) {
            continue;
        }
        let candidates =
            std::iter::once((&phrase, false)).chain(y_variant.as_ref().map(|v| (v, true)));
        for (p, is_y) in candidates {
            let Some(end) = match_at(&text, start, p) else {
                continue;
            };
            if !last_is_word {
                return Some((start, end));
            }
            let word_end = (end..text.len())
                .find(|&k| !(is_word_char(text[k]) || matches!(text[k], '\'' | '’')))
                .unwrap_or(text.len());
            let rest: String = text[end..word_end].iter().map(|c| fold(*c)).collect();
            let rest = rest.trim_end_matches(['\'', '’']);
            if is_y {
                if inflect && ["er", "est", "ly", "ness", "es", "ed"].contains(&rest) {
                    return Some((start, word_end));
                }
                continue;
            }
            if rest.is_empty() {
                return Some((start, end));
            }
            if inflect && inflection_ok(rest, last) {
                return Some((start, word_end));
            }
        }
    }
    None
}

/// The matched text of the first occurrence, for messages.
pub fn find_text(text: &str, phrase: &str, inflect: bool) -> Option<String> {
    find(text, phrase, inflect).map(|(s, e)| text.chars().skip(s).take(e - s).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cheap_rule() {
        for hit in [
            "So cheap!",
            "CHEAPER than ever",
            "the cheapest tent",
            "cheaply made",
            "dirt-cheap",
            "Cheap's",
        ] {
            assert!(find(hit, "cheap", true).is_some(), "{hit}");
        }
        for miss in ["cheapskate", "scheap", "inexpensive"] {
            assert!(find(miss, "cheap", true).is_none(), "{miss}");
        }
        assert!(find("cheaper", "cheap", false).is_none());
    }

    #[test]
    fn phrases_and_scripts() {
        assert!(find("The best-in-the-world tent", "best in the world", true).is_some());
        assert!(find("Best  in the World", "best in the world", true).is_some());
        assert!(find("It is 100% waterproof.", "100% waterproof", true).is_some());
        assert!(find("Guaranteed fun", "guaranteed", true).is_some());
        assert!(find("a miracle", "miracle", true).is_some());
        assert!(find("miracles happen", "miracle", true).is_some());
        assert!(find("easier than ever", "easy", true).is_some());
        assert!(find("hotter days", "hot", true).is_some());
        assert!(find("hotel", "hot", true).is_none());
        assert!(find("这是最便宜的瑜伽垫", "最便宜", true).is_some());
    }
}
