//! Money and numbers in text: formatting catalog amounts for copy, and
//! finding every amount, percentage and bare number a piece of copy states,
//! so facts.rs can hold each one against the catalog. Amounts are compared in
//! cents (integers); `$99`, `$99.00`, `99 USD`, `USD 99`, `€12,90`,
//! `12.90 €`, Chinese `59美元` / `现价59` and Japanese `59ドル` are all recognised.

/// Amount in the smallest unit we compare (hundredths).
pub fn to_cents(amount: f64) -> i64 {
    (amount * 100.0).round() as i64
}

/// Words and symbols that mark an amount in the given ISO 4217 currency.
pub fn markers(code: &str) -> Vec<String> {
    let extra: &[&str] = match code {
        "USD" => &["$", "us$", "dollar", "dollars", "bucks", "美元", "美金", "ドル"],
        "CAD" => &["$", "ca$", "c$", "dollar", "dollars"],
        "AUD" => &["$", "a$", "au$", "dollar", "dollars"],
        "NZD" => &["$", "nz$", "dollar", "dollars"],
        "EUR" => &["€", "euro", "euros", "欧元"],
        "GBP" => &["£", "pound", "pounds", "英镑"],
        "JPY" => &["¥", "円", "yen", "日元"],
        "CNY" => &["¥", "元", "rmb", "yuan", "cn¥", "人民币"],
        "CHF" => &["fr.", "franc", "francs"],
        "INR" => &["₹", "rupee", "rupees"],
        _ => &[],
    };
    let mut m: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    m.push(code.to_lowercase());
    m
}

fn no_minor_units(code: &str) -> bool {
    matches!(code, "JPY" | "KRW" | "CLP" | "ISK" | "VND")
}

/// Formats an amount the way copy in `language` would state it: `$99`,
/// `$12.90`, `€24.90` in English; `24,90 €` in languages that put the symbol
/// after; whole amounts without decimals.
pub fn format(cents: i64, code: &str, language: &str) -> String {
    let whole = cents % 100 == 0 || no_minor_units(code);
    let decimal_comma = matches!(
        language,
        "de" | "fr"
            | "es"
            | "it"
            | "nl"
            | "pt"
            | "pl"
            | "sv"
            | "da"
            | "fi"
            | "nb"
            | "cs"
            | "ru"
            | "tr"
    );
    let number = if whole {
        format!("{}", cents / 100)
    } else {
        let s = format!("{}.{:02}", cents / 100, (cents % 100).abs());
        if decimal_comma {
            s.replace('.', ",")
        } else {
            s
        }
    };
    let symbol = match code {
        "USD" => Some("$"),
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        "JPY" | "CNY" => Some("¥"),
        "INR" => Some("₹"),
        _ => None,
    };
    match symbol {
        Some(sym) if decimal_comma => format!("{number} {sym}"),
        Some(sym) => format!("{sym}{number}"),
        None => format!("{number} {code}"),
    }
}

/// What a span of copy states.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimKind {
    /// An amount of money; `marker` is the lower-cased symbol or word seen.
    Money { cents: i64, marker: String },
    /// A percentage; `up_to` when preceded by "up to".
    Percent { value: f64, up_to: bool },
    /// A number with no currency or percent sign.
    Number(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub kind: ClaimKind,
    /// The span of copy that states it, as written.
    pub text: String,
    /// Up to four words just before the span, lower case ("now on sale for").
    pub before: String,
}

/// The last four words of `lower[..end]` ("now on sale for", "99 down from").
fn word_before(lower: &[char], end: usize) -> String {
    let head: String = lower[..end].iter().collect();
    let words: Vec<&str> = head
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words[words.len().saturating_sub(4)..].join(" ")
}

/// End of the number starting at `start`: digits, with `,` or `.` between
/// digits ("1,299.00").
pub(crate) fn number_end(chars: &[char], start: usize) -> usize {
    let mut i = start;
    while i < chars.len()
        && (chars[i].is_ascii_digit()
            || (matches!(chars[i], ',' | '.') && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit())))
    {
        i += 1;
    }
    i
}

const SYMBOLS: &[char] = &['$', '€', '£', '¥', '₹', '円', '元'];
const WORD_MARKERS: &[&str] = &[
    "usd", "eur", "gbp", "jpy", "cny", "chf", "cad", "aud", "nzd", "inr", "rmb", "dollars",
    "dollar", "euros", "euro", "pounds", "pound", "bucks", "yen", "yuan", "francs", "franc",
    "rupees", "rupee", "美元", "美金", "欧元", "英镑", "日元", "人民币", "ドル",
];

/// A word marker is matched as a whole word; CJK ones need no boundary
/// (Chinese writes "59美元的" without spaces).
fn word_boundary(marker: &str, next: Option<char>) -> bool {
    !marker.is_ascii() || next.is_none_or(|c| !c.is_alphanumeric())
}

pub(crate) fn parse_number(raw: &str) -> Option<f64> {
    let commas = raw.matches(',').count();
    let dots = raw.matches('.').count();
    let normalized = match (commas, dots) {
        (0, 0) => raw.to_string(),
        (0, 1) => raw.to_string(),
        (0, _) => raw.replace('.', ""),
        (1, 0) => {
            let after = raw.len() - raw.find(',')? - 1;
            if after <= 2 {
                raw.replace(',', ".")
            } else {
                raw.replace(',', "")
            }
        }
        (_, 0) => raw.replace(',', ""),
        _ => {
            if raw.rfind(',')? > raw.rfind('.')? {
                raw.replace('.', "").replace(',', ".")
            } else {
                raw.replace(',', "")
            }
        }
    };
    normalized.parse().ok()
}

/// Every amount, percentage and number stated in `text`, in order. "half
/// price" and "half off" count as 50 %.
pub fn extract(text: &str) -> Vec<Claim> {
    let chars: Vec<char> = text.chars().collect();
    let lower: Vec<char> = chars
        .iter()
        .map(|c| c.to_lowercase().next().unwrap_or(*c))
        .collect();
    let lower_str: String = lower.iter().collect();
    let mut claims = Vec::new();
    for phrase in ["half price", "half-price", "half off"] {
        if lower_str.contains(phrase) {
            claims.push(Claim {
                kind: ClaimKind::Percent {
                    value: 50.0,
                    up_to: false,
                },
                text: phrase.to_string(),
                before: String::new(),
            });
        }
    }
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // Digits glued to the end of a word ("X200") are a model code, not a
        // number; digits before letters ("3L") are a number. CJK characters
        // are words of their own: "现价59" states 59.
        if i > 0 && chars[i - 1].is_alphabetic() && !super::text::is_cjk(chars[i - 1]) {
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            continue;
        }
        let start = i;
        i = number_end(&chars, i);
        let end = i;
        let raw: String = chars[start..end].iter().collect();
        let Some(value) = parse_number(&raw) else {
            continue;
        };

        // Prefix: symbol, optionally separated by one space; or a code word.
        let mut span_start = start;
        let mut marker = None;
        let mut j = start;
        if j > 0 && chars[j - 1] == ' ' {
            j -= 1;
        }
        if j > 0 && SYMBOLS.contains(&chars[j - 1]) {
            let mut k = j - 1;
            let mut m = chars[k].to_string();
            while k > 0 && lower[k - 1].is_ascii_alphabetic() && start - k < 5 {
                k -= 1;
                m.insert(0, lower[k]);
            }
            marker = Some(m);
            span_start = k;
        } else {
            let before: String = lower[..j].iter().collect();
            if let Some(w) = WORD_MARKERS.iter().find(|w| {
                before.ends_with(*w)
                    && word_boundary(w, before[..before.len() - w.len()].chars().last())
            }) {
                marker = Some(w.to_string());
                span_start = j - w.chars().count();
            }
        }
        // Suffix: %, "percent", a symbol or a currency word.
        let mut span_end = end;
        let mut k = end;
        if k < chars.len() && chars[k] == ' ' {
            k += 1;
        }
        let after: String = lower[k.min(lower.len())..].iter().take(12).collect();
        let mut percent = false;
        if after.starts_with('%') {
            percent = true;
            span_end = k + 1;
        } else if after.starts_with("percent") || after.starts_with("per cent") {
            percent = true;
            span_end = k + if after.starts_with("percent") { 7 } else { 8 };
        } else if marker.is_none() {
            if k < chars.len() && SYMBOLS.contains(&chars[k]) {
                marker = Some(chars[k].to_string());
                span_end = k + 1;
            } else if let Some(w) = WORD_MARKERS.iter().find(|w| {
                after.starts_with(*w) && word_boundary(w, after[w.len()..].chars().next())
            }) {
                marker = Some(w.to_string());
                span_end = k + w.chars().count();
            }
        }
        let kind = if percent {
            let before: String = lower[start.saturating_sub(8)..start].iter().collect();
            ClaimKind::Percent {
                value,
                up_to: before.trim_end().ends_with("up to"),
            }
        } else if let Some(marker) = marker {
            ClaimKind::Money {
                cents: to_cents(value),
                marker,
            }
        } else {
            ClaimKind::Number(value)
        };
        claims.push(Claim {
            kind,
            text: chars[span_start..span_end].iter().collect(),
            before: word_before(&lower, span_start),
        });
        i = span_end.max(end);
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(t: &str) -> Vec<ClaimKind> {
        extract(t).into_iter().map(|c| c.kind).collect()
    }

    #[test]
    fn finds_amounts() {
        let m = |cents, marker: &str| ClaimKind::Money {
            cents,
            marker: marker.into(),
        };
        assert_eq!(
            kinds("Now $99, was $129.00."),
            vec![m(9900, "$"), m(12900, "$")]
        );
        assert_eq!(kinds("only 99 USD"), vec![m(9900, "usd")]);
        assert_eq!(kinds("EUR 12,90 today"), vec![m(1290, "eur")]);
        assert_eq!(kinds("12.90 € each"), vec![m(1290, "€")]);
        assert_eq!(kinds("€ 1.299,00"), vec![m(129900, "€")]);
        assert_eq!(kinds("a US$5 gift"), vec![m(500, "us$")]);
        assert_eq!(kinds("save 30 dollars"), vec![m(3000, "dollars")]);
        assert_eq!(kinds("现价59美元，原价$79"), vec![m(5900, "美元"), m(7900, "$")]);
        assert_eq!(kinds("仅需49元"), vec![m(4900, "元")]);
        assert_eq!(kinds("今なら59ドル"), vec![m(5900, "ドル")]);
        assert_eq!(kinds("直降25%"), vec![ClaimKind::Percent { value: 25.0, up_to: false }]);
    }

    #[test]
    fn finds_percent_and_numbers() {
        assert_eq!(
            kinds("Save 23% on 2-person tents, up to 25 % off"),
            vec![
                ClaimKind::Percent {
                    value: 23.0,
                    up_to: false
                },
                ClaimKind::Number(2.0),
                ClaimKind::Percent {
                    value: 25.0,
                    up_to: true
                }
            ]
        );
        assert_eq!(
            kinds("half price!"),
            vec![ClaimKind::Percent {
                value: 50.0,
                up_to: false
            }]
        );
        assert_eq!(
            kinds("Stormshell 3L, 1.9 kg"),
            vec![ClaimKind::Number(3.0), ClaimKind::Number(1.9)]
        );
        assert_eq!(kinds("model X200"), vec![]);
    }

    #[test]
    fn formats() {
        assert_eq!(format(9900, "USD", "en"), "$99");
        assert_eq!(format(1290, "EUR", "en"), "€12.90");
        assert_eq!(format(1290, "EUR", "de"), "12,90 €");
        assert_eq!(format(5000, "SEK", "en"), "50 SEK");
    }
}
