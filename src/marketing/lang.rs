//! Which language the copy is written in, and the check that it is. The
//! language comes from the request's locale, else the profile's; one the
//! generator cannot write falls back to the writer's default, and the result
//! says so. The default check is script detection (enough for CJK, Cyrillic,
//! Greek, ...), plus for Latin-script languages a light function-word vote
//! (English copy asked for in German fails; product names, having no
//! function words, do not count); a finer detector plugs in through
//! [`LanguageCheck`].

use super::text::is_cjk;

/// Checks that `text` is in `language` (a primary subtag such as "en", "zh");
/// `Err` says why not.
pub type LanguageCheck = fn(text: &str, language: &str) -> Result<(), String>;

/// A BCP 47-shaped tag: a 2–3 letter language, then 1–8 alphanumeric subtags
/// ("en", "en-US", "zh-Hans-CN"); `_` is accepted for `-`.
pub fn is_language_tag(tag: &str) -> bool {
    tag.len() <= 35
        && tag.split(['-', '_']).enumerate().all(|(i, part)| {
            let n = part.len();
            if i == 0 {
                (2..=3).contains(&n) && part.bytes().all(|b| b.is_ascii_alphabetic())
            } else {
                (1..=8).contains(&n) && part.bytes().all(|b| b.is_ascii_alphanumeric())
            }
        })
}

/// Primary language subtag, lower case: "en-US" → "en".
pub fn primary(tag: &str) -> String {
    tag.split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Han,
    Hangul,
    Cyrillic,
    Greek,
    Arabic,
    Hebrew,
    Devanagari,
    Thai,
    Other,
}

fn script_of(c: char) -> Script {
    let u = c as u32;
    if is_cjk(c) {
        Script::Han
    } else if c.is_ascii_alphabetic()
        || (0xC0..=0x24F).contains(&u)
        || (0x1E00..=0x1EFF).contains(&u)
    {
        Script::Latin
    } else if (0xAC00..=0xD7AF).contains(&u) || (0x1100..=0x11FF).contains(&u) {
        Script::Hangul
    } else if (0x400..=0x4FF).contains(&u) {
        Script::Cyrillic
    } else if (0x370..=0x3FF).contains(&u) {
        Script::Greek
    } else if (0x600..=0x6FF).contains(&u) {
        Script::Arabic
    } else if (0x590..=0x5FF).contains(&u) {
        Script::Hebrew
    } else if (0x900..=0x97F).contains(&u) {
        Script::Devanagari
    } else if (0xE00..=0xE7F).contains(&u) {
        Script::Thai
    } else {
        Script::Other
    }
}

fn expected_script(language: &str) -> Script {
    match language {
        "zh" | "ja" => Script::Han,
        "ko" => Script::Hangul,
        "ru" | "uk" | "bg" | "sr" | "be" | "mk" | "kk" => Script::Cyrillic,
        "el" => Script::Greek,
        "ar" | "fa" | "ur" => Script::Arabic,
        "he" | "yi" => Script::Hebrew,
        "hi" | "mr" | "ne" => Script::Devanagari,
        "th" => Script::Thai,
        _ => Script::Latin,
    }
}

/// Function words that tell Latin-script languages apart: frequent in copy,
/// and each in one list only (words shared across them — "in", "de", "du",
/// "des", "es", "tu", "was", "on" — are left out).
const FUNCTION_WORDS: &[(&str, &[&str])] = &[
    (
        "en",
        &[
            "the", "and", "with", "for", "your", "you", "now", "our", "of", "to", "is", "at",
            "this", "just", "get", "from", "only",
        ],
    ),
    (
        "de",
        &[
            "und",
            "mit",
            "für",
            "dein",
            "deine",
            "dich",
            "jetzt",
            "nur",
            "der",
            "das",
            "ist",
            "auf",
            "bei",
            "von",
            "statt",
            "noch",
            "wir",
            "zum",
            "zur",
            "im",
            "ein",
            "eine",
            "entdecken",
        ],
    ),
    (
        "fr",
        &[
            "le",
            "les",
            "et",
            "avec",
            "pour",
            "votre",
            "vos",
            "maintenant",
            "au",
            "aux",
            "est",
            "une",
            "sur",
            "chez",
            "lieu",
            "à",
            "découvrir",
        ],
    ),
    (
        "es",
        &[
            "el", "los", "las", "y", "con", "para", "tus", "ahora", "del", "una", "por", "antes",
            "más", "ya",
        ],
    ),
];

/// The light check for Latin-script languages: fails when another listed
/// language's function words outnumber the requested one's, at least two.
fn function_word_check(text: &str, language: &str) -> Result<(), String> {
    let Some((_, own)) = FUNCTION_WORDS.iter().find(|(l, _)| *l == language) else {
        return Ok(());
    };
    let words = super::text::words(text);
    let hits = |list: &[&str]| words.iter().filter(|w| list.contains(&w.as_str())).count();
    let mine = hits(own);
    match FUNCTION_WORDS
        .iter()
        .filter(|(l, _)| *l != language)
        .map(|(l, list)| (*l, hits(list)))
        .max_by_key(|&(_, n)| n)
    {
        Some((other, n)) if n >= 2 && n > mine => Err(format!(
            "reads as '{other}', not '{language}' ({n} '{other}' function words, {mine} '{language}')"
        )),
        _ => Ok(()),
    }
}

/// The default [`LanguageCheck`]: most words must be in the language's
/// script — half for scripts that mix in Latin product names, 80 % for
/// Latin. Words, not letters, are counted: each CJK character is a word, so
/// "瑜伽垫 Grounded Yoga Mat" is 5 Chinese words against 3 Latin ones.
pub fn script_check(text: &str, language: &str) -> Result<(), String> {
    let want = expected_script(language);
    let scripts: Vec<Script> = super::text::words(text)
        .iter()
        .filter_map(|w| w.chars().find(|c| c.is_alphabetic()).map(script_of))
        .collect();
    if scripts.len() < 2 {
        return Ok(());
    }
    let share = scripts.iter().filter(|s| **s == want).count() as f32 / scripts.len() as f32;
    let needed = if want == Script::Latin { 0.8 } else { 0.5 };
    if share >= needed {
        if want == Script::Latin {
            function_word_check(text, language)
        } else {
            Ok(())
        }
    } else {
        Err(format!(
            "only {:.0}% of the words are in the script of '{language}'",
            share * 100.0
        ))
    }
}

/// Picks the copy language: `requested` (a locale) if the generator writes
/// it, else `default`. Returns the language and, when it fell back, why.
pub fn resolve(
    requested: Option<&str>,
    supported: &[String],
    default: &str,
) -> (String, Option<String>) {
    match requested.map(primary) {
        None => (default.to_string(), None),
        Some(lang) if supported.iter().any(|s| primary(s) == lang) => (lang, None),
        Some(lang) => (
            default.to_string(),
            Some(format!(
                "the model writes {}, not '{lang}'; copy is in '{default}'",
                supported.join(", ")
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts() {
        assert!(script_check("Trail shoes, now $99", "en").is_ok());
        assert!(script_check("瑜伽垫，天然橡胶，仅需 $59", "zh").is_ok());
        assert!(script_check("Trail shoes, now $99", "zh").is_err());
        assert!(script_check("瑜伽垫天然橡胶", "en").is_err());
        assert!(script_check("瑜伽垫 Grounded Yoga Mat，现价 $59", "zh").is_ok());
        assert!(script_check("Grounded Yoga Mat, now $59 瑜伽", "zh").is_err());
    }

    #[test]
    fn latin_languages_by_function_words() {
        assert!(script_check("Ridgeline Trail Runner, jetzt nur 99 $, statt 129 $.", "de").is_ok());
        assert!(script_check(
            "Ridgeline Trail Runner, now just $99 for your next run",
            "de"
        )
        .is_err());
        assert!(script_check("Grounded Yoga Mat", "de").is_ok());
        assert!(script_check(
            "Ridgeline Trail Runner, maintenant à 99 $, au lieu de 129 $.",
            "fr"
        )
        .is_ok());
        assert!(script_check(
            "Ridgeline Trail Runner, jetzt nur 99 $ und mit Rabatt",
            "en"
        )
        .is_err());
        assert!(script_check("Ridgeline Trail Runner, ahora 99 $, antes 129 $.", "es").is_ok());
    }

    #[test]
    fn resolves() {
        let en = vec!["en".to_string()];
        assert_eq!(resolve(Some("en-GB"), &en, "en"), ("en".into(), None));
        let (l, why) = resolve(Some("zh-CN"), &en, "en");
        assert_eq!(l, "en");
        assert!(why.unwrap().contains("zh"));
    }
}
