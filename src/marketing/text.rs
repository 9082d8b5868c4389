//! Text measures shared by the pipeline: length in user-perceived characters
//! (extended grapheme clusters, so "é", "👍🏽" and "瑜" each count one), word
//! splitting and a light stemmer for matching, trimming at a word boundary,
//! emoji detection. Pure functions, no allocation surprises on long input.

use unicode_segmentation::UnicodeSegmentation;

/// Length as a person counts it: extended grapheme clusters. Every character
/// limit in the pipeline is measured with this one function. CJK characters
/// count one each here; platforms that count them double would change it here.
pub fn perceived_len(s: &str) -> usize {
    s.graphemes(true).count()
}

/// Scripts written without spaces between words: a word boundary is assumed
/// around every character of them.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x20000..=0x2FA1F  // CJK Extensions B..F, Compatibility Supplement
    )
}

/// A character that continues a word: letters and digits of space-separated
/// scripts. CJK characters are words on their own.
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

/// Lower-cased word tokens: runs of word characters (apostrophes inside a word
/// are kept, so "you're" is one token), each CJK character on its own.
pub fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if is_word_char(c) {
            cur.extend(c.to_lowercase());
        } else if (c == '\'' || c == '’')
            && !cur.is_empty()
            && chars.get(i + 1).is_some_and(|n| is_word_char(*n))
        {
            cur.push('\'');
        } else {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            if is_cjk(c) {
                out.push(c.to_string());
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A deliberately small stemmer for matching visitor words against catalog
/// words: "hikes", "hiking" and "hike" all become "hik"; "shoes"/"shoe" "sho";
/// "running"/"runner" "run". Not linguistics, just enough for overlap.
pub fn stem(word: &str) -> String {
    let w = word.to_lowercase();
    if w.chars().count() <= 3 || !w.chars().all(|c| c.is_ascii_alphabetic()) {
        return w;
    }
    let mut s = w.clone();
    for suffix in ["ings", "ing", "ers", "er", "es", "ed", "s"] {
        if s.len() >= suffix.len() + 3 && s.ends_with(suffix) {
            s.truncate(s.len() - suffix.len());
            break;
        }
    }
    let b = s.as_bytes();
    if b.len() >= 4 && b[b.len() - 1] == b[b.len() - 2] && !b"aeiou".contains(&b[b.len() - 1]) {
        s.pop();
    }
    if s.len() >= 4 && s.ends_with('e') {
        s.pop();
    }
    s
}

/// Words that carry no topic (for keyword extraction and relevance).
pub const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is",
    "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "were", "who", "with",
    "your", "you", "my", "me", "our", "we", "i", "under", "over", "below", "less", "than", "more",
    "all", "any", "some", "what", "which", "how", "best", "good", "new", "get", "buy", "shop",
    "near",
];

pub fn is_stopword(w: &str) -> bool {
    STOPWORDS.contains(&w)
}

/// Common English words a headline may capitalize without naming a product:
/// used by the invented-name check (facts.rs) to tell "Conquer Every Trail"
/// from "Glacier Pro Jacket".
pub const COMMON_WORDS: &[&str] = &[
    "a",
    "about",
    "adventure",
    "adventures",
    "all",
    "always",
    "an",
    "and",
    "any",
    "are",
    "around",
    "at",
    "away",
    "awaits",
    "back",
    "be",
    "before",
    "best",
    "better",
    "big",
    "bold",
    "brand",
    "bright",
    "by",
    "can",
    "check",
    "choose",
    "cold",
    "come",
    "comfort",
    "comfy",
    "complete",
    "conquer",
    "cozy",
    "cosy",
    "day",
    "days",
    "deal",
    "deals",
    "discover",
    "do",
    "don't",
    "dream",
    "each",
    "easy",
    "every",
    "everyday",
    "explore",
    "favorite",
    "favourite",
    "feel",
    "find",
    "finish",
    "first",
    "fit",
    "for",
    "fresh",
    "from",
    "fun",
    "gear",
    "get",
    "gift",
    "gifts",
    "give",
    "go",
    "great",
    "grab",
    "happy",
    "here",
    "high",
    "hit",
    "holiday",
    "holidays",
    "home",
    "hot",
    "how",
    "in",
    "is",
    "it",
    "it's",
    "just",
    "keep",
    "last",
    "learn",
    "less",
    "let",
    "let's",
    "life",
    "light",
    "like",
    "limited",
    "little",
    "live",
    "look",
    "love",
    "made",
    "make",
    "meet",
    "mile",
    "miles",
    "more",
    "morning",
    "move",
    "my",
    "need",
    "new",
    "next",
    "night",
    "no",
    "not",
    "now",
    "of",
    "off",
    "on",
    "one",
    "only",
    "open",
    "or",
    "order",
    "our",
    "out",
    "outdoors",
    "perfect",
    "pick",
    "picks",
    "plan",
    "ready",
    "real",
    "save",
    "savings",
    "season",
    "see",
    "shop",
    "smart",
    "so",
    "special",
    "start",
    "stay",
    "step",
    "still",
    "style",
    "summer",
    "take",
    "that",
    "the",
    "their",
    "them",
    "this",
    "time",
    "to",
    "today",
    "together",
    "top",
    "treat",
    "try",
    "ultimate",
    "up",
    "upgrade",
    "us",
    "view",
    "waiting",
    "warm",
    "way",
    "we",
    "welcome",
    "what",
    "when",
    "where",
    "why",
    "wild",
    "with",
    "world",
    "yes",
    "you",
    "you're",
    "your",
    "yours",
    "weekend",
    "week",
    "journey",
    "run",
    "hike",
    "camp",
    "ride",
    "go-to",
    "dad",
    "mom",
    "friend",
    "friends",
    "family",
    "christmas",
    "cart",
    "sale",
    "offer",
    "spring",
    "autumn",
    "fall",
    "winter",
    "stock",
    "thanks",
    "thank",
    "hello",
    "hi",
    "hey",
    "ahead",
    "again",
    "enjoy",
    "shipping",
    "free",
    "quality",
    "premium",
    "essential",
    "essentials",
    "collection",
    "range",
];

pub fn is_common_word(w: &str) -> bool {
    COMMON_WORDS.contains(&w)
}

/// Jaccard similarity of two word sets (0 when both are empty).
pub fn jaccard(a: &[String], b: &[String]) -> f32 {
    use std::collections::HashSet;
    let sa: HashSet<&String> = a.iter().collect();
    let sb: HashSet<&String> = b.iter().collect();
    let union = sa.union(&sb).count();
    if union == 0 {
        return 0.0;
    }
    sa.intersection(&sb).count() as f32 / union as f32
}

/// Collapses runs of whitespace to one space and trims the ends.
pub fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Splits after sentence-ending punctuation followed by whitespace; each
/// piece keeps its punctuation. CJK full stops end a sentence too.
pub fn sentences(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        cur.push(c);
        let cjk_end = matches!(c, '。' | '！' | '？');
        let latin_end =
            matches!(c, '.' | '!' | '?') && chars.peek().is_none_or(|n| n.is_whitespace());
        if cjk_end || latin_end {
            while chars.peek().is_some_and(|n| matches!(n, '.' | '!' | '?')) {
                cur.extend(chars.next());
            }
            let t = cur.trim().to_string();
            if !t.is_empty() {
                out.push(t);
            }
            cur.clear();
        }
    }
    let t = cur.trim().to_string();
    if !t.is_empty() {
        out.push(t);
    }
    out
}

/// Words a trimmed text must not end on: the cut would leave a dangling phrase.
const DANGLING: &[&str] = &[
    "a",
    "an",
    "and",
    "as",
    "at",
    "but",
    "by",
    "for",
    "from",
    "in",
    "into",
    "is",
    "of",
    "on",
    "or",
    "the",
    "to",
    "with",
    "your",
    "our",
    "its",
    "that",
    "&",
    "-",
    "–",
    "—",
    "+",
    "over",
    "under",
    "than",
    "up",
    "down",
    "so",
    "just",
    "only",
    "very",
    "more",
    "less",
    "now",
    "available",
    "are",
    "was",
    "will",
    "be",
    "has",
    "have",
    "can",
    "not",
    "this",
    "their",
    "while",
    "until",
    "because",
    "since",
    "when",
    "if",
    "unless",
    "after",
    "before",
    "about",
    "without",
    "within",
    "through",
    "during",
    "per",
    "via",
];

/// Shortens `s` to at most `max` perceived characters, cutting at a word
/// boundary, never leaving a dangling connector or trailing comma. Prefers the
/// end of a sentence, then of a clause, when that keeps at least half the
/// limit. Text without
/// spaces (CJK, one long word) is cut at a grapheme boundary.
pub fn trim_to_limit(s: &str, max: usize) -> String {
    let s = collapse_ws(s);
    if perceived_len(&s) <= max {
        return s;
    }
    let head: String = s.graphemes(true).take(max).collect();
    // A whole sentence that fits and keeps at least half the limit.
    let mut kept = String::new();
    for sentence in sentences(&s) {
        let candidate = if kept.is_empty() {
            sentence.clone()
        } else {
            format!("{kept} {sentence}")
        };
        if perceived_len(&candidate) > max {
            break;
        }
        kept = candidate;
    }
    if !kept.is_empty() && perceived_len(&kept) * 2 >= max {
        return kept;
    }
    // Else the end of a clause (before ", " ": " "; " " - "), same condition.
    let clause_end = head
        .char_indices()
        .filter(|&(i, c)| {
            matches!(c, ',' | ':' | ';')
                || (c == '-' && head[..i].ends_with(' ') && head[i + 1..].starts_with(' '))
        })
        .map(|(i, _)| i)
        .rfind(|&i| s[i..].chars().nth(1).is_some_and(char::is_whitespace));
    if let Some(i) = clause_end {
        let clause = head[..i].trim_end();
        if perceived_len(clause) * 2 >= max {
            return clause.to_string();
        }
    }
    // Cut before the first word that does not fit completely.
    let next_is_space = s
        .graphemes(true)
        .nth(max)
        .is_some_and(|g| g.chars().all(char::is_whitespace));
    let mut cut = if next_is_space {
        head.clone()
    } else {
        match head.rfind(char::is_whitespace) {
            Some(i) => head[..i].to_string(),
            None => return head.trim().to_string(),
        }
    };
    loop {
        let trimmed = cut.trim_end_matches(|c: char| {
            c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-' | '–' | '—' | '(' | '/')
        });
        let last = trimmed.rsplit(char::is_whitespace).next().unwrap_or("");
        if DANGLING.contains(&last.to_lowercase().as_str()) && trimmed.len() > last.len() {
            cut = trimmed[..trimmed.len() - last.len()].to_string();
            continue;
        }
        cut = trimmed.to_string();
        break;
    }
    if cut.is_empty() {
        head.trim().to_string()
    } else {
        cut
    }
}

/// Emoji: a grapheme cluster holding a pictographic character or a regional
/// indicator (flags). Ranges follow Unicode's Extended_Pictographic blocks;
/// ©, ® and ™ are treated as text symbols.
pub fn is_pictographic(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF   // mahjong .. symbols and pictographs extended-A
        | 0x2600..=0x27BF   // misc symbols, dingbats
        | 0x2B00..=0x2BFF   // arrows, stars (⭐)
        | 0x231A..=0x231B | 0x23E9..=0x23FA | 0x2934..=0x2935
        | 0x3030 | 0x303D | 0x3297 | 0x3299
    )
}

fn is_emoji_grapheme(g: &str) -> bool {
    g.chars()
        .any(|c| is_pictographic(c) || (0x1F1E6..=0x1F1FF).contains(&(c as u32)))
}

pub fn count_emoji(s: &str) -> usize {
    s.graphemes(true).filter(|g| is_emoji_grapheme(g)).count()
}

/// Removes every emoji after the first `keep` ones (counted from `already`
/// emoji seen in earlier fields), collapsing the whitespace left behind.
pub fn strip_emoji_beyond(s: &str, keep: usize, already: usize) -> String {
    let mut seen = already;
    let mut out = String::with_capacity(s.len());
    for g in s.graphemes(true) {
        if is_emoji_grapheme(g) {
            seen += 1;
            if seen > keep {
                continue;
            }
        }
        out.push_str(g);
    }
    collapse_ws(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_graphemes() {
        assert_eq!(perceived_len("é"), 1);
        assert_eq!(perceived_len("e\u{301}"), 1);
        assert_eq!(perceived_len("👍🏽"), 1);
        assert_eq!(perceived_len("瑜伽垫"), 3);
        assert_eq!(perceived_len("👨‍👩‍👧"), 1);
    }

    #[test]
    fn stems_meet() {
        assert_eq!(stem("hikes"), stem("hiking"));
        assert_eq!(stem("hike"), stem("hiking"));
        assert_eq!(stem("shoes"), stem("shoe"));
        assert_eq!(stem("running"), stem("runner"));
        assert_eq!(stem("tents"), "tent");
    }

    #[test]
    fn trims_at_word_boundary() {
        let t = trim_to_limit("Your Basecamp 2 Tent is waiting for you tonight", 34);
        assert_eq!(t, "Your Basecamp 2 Tent is waiting");
        assert!(perceived_len(&t) <= 34);
        assert_eq!(trim_to_limit("Short.", 40), "Short.");
        let t = trim_to_limit(
            "First sentence here. Second sentence is far too long to fit.",
            30,
        );
        assert_eq!(t, "First sentence here.");
        assert_eq!(trim_to_limit("瑜伽垫天然橡胶超级舒适", 4), "瑜伽垫天");
        // A promotion cut before "stock lasts" does not end on "while".
        assert_eq!(
            trim_to_limit("Winter Sale: marked-down gear while stock lasts", 40),
            "Winter Sale: marked-down gear"
        );
        // The next word ends exactly at the limit: keep it.
        assert_eq!(
            trim_to_limit("Hello big world again", 15),
            "Hello big world"
        );
    }

    #[test]
    fn emoji_counting_and_stripping() {
        assert_eq!(count_emoji("Go 🏃‍♀️ now 🇺🇸!"), 2);
        assert_eq!(count_emoji("Northwind™ ©"), 0);
        assert_eq!(strip_emoji_beyond("A 🎁 B 🎄 C", 1, 0), "A 🎁 B C");
        assert_eq!(strip_emoji_beyond("A 🎁", 1, 1), "A");
    }
}
