//! Chat prompts from the model's own Jinja chat template (`tokenizer.chat_template`),
//! rendered with minijinja the way Hugging Face and llama.cpp render them
//! (`trim_blocks`, `lstrip_blocks`, Python string methods, `raise_exception`).
//!
//! Templates come from model files and are untrusted: size, fuel (instructions
//! and memory), recursion and output are bounded by [`LIMITS`], and every failure
//! is an [`Error::Template`], never a panic.

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Value;
use minijinja::{context, Environment, ErrorKind};

use crate::error::{Error, Result};
use crate::gguf::Metadata;
use crate::textgen::ChatMessage;
use crate::tokenizer::Tokenizer;

/// Bounds on untrusted templates, in one place.
pub struct TemplateLimits {
    /// Largest accepted template source.
    pub max_template_bytes: usize,
    /// minijinja fuel per render: roughly instructions, and memory at ~64 bytes a unit.
    pub fuel: u64,
    /// minijinja recursion depth (macros, includes, nested blocks).
    pub recursion: usize,
    /// Largest accepted rendered prompt.
    pub max_rendered_bytes: usize,
}

pub const LIMITS: TemplateLimits = TemplateLimits {
    max_template_bytes: 256 << 10,
    fuel: 1_000_000,
    recursion: 64,
    max_rendered_bytes: 4 << 20,
};

const TEMPLATE_NAME: &str = "tokenizer.chat_template";

/// ChatML, used only when the GGUF has no template but its vocabulary has the
/// ChatML markers (what llama.cpp's `chatml` fallback renders).
const CHATML: &str = "{% for message in messages %}\
{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}\
{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/// A compiled chat template plus the special-token texts it may refer to.
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
    /// True when the GGUF had no template and ChatML was assumed.
    pub is_fallback: bool,
}

impl std::fmt::Debug for ChatTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatTemplate")
            .field("is_fallback", &self.is_fallback)
            .finish_non_exhaustive()
    }
}

impl ChatTemplate {
    /// Compiles `tokenizer.chat_template`. Without one, falls back to ChatML
    /// only if the vocabulary has both `<|im_start|>` and `<|im_end|>`;
    /// otherwise returns `Error::Template` (no guessing at another format).
    pub fn from_metadata(md: &Metadata, tokenizer: &Tokenizer) -> Result<ChatTemplate> {
        let (source, is_fallback) = match md.opt_str(TEMPLATE_NAME)? {
            Some(s) => (s.to_owned(), false),
            None if tokenizer.token_id("<|im_start|>").is_some()
                && tokenizer.token_id("<|im_end|>").is_some() =>
            {
                (CHATML.to_owned(), true)
            }
            None => {
                return Err(Error::Template(format!(
                    "the model has no {TEMPLATE_NAME} and its vocabulary has no ChatML markers \
                     (<|im_start|>, <|im_end|>) to fall back on"
                )))
            }
        };
        let text = |id: Option<u32>| {
            id.and_then(|i| tokenizer.token_text(i))
                .unwrap_or("")
                .to_owned()
        };
        let specials = tokenizer.specials();
        Self::new(source, text(specials.bos), text(specials.eos), is_fallback)
    }

    /// Compiles a template from source (e.g. a template supplied by the caller).
    pub fn from_source(source: &str, bos_token: &str, eos_token: &str) -> Result<ChatTemplate> {
        Self::new(
            source.to_owned(),
            bos_token.to_owned(),
            eos_token.to_owned(),
            false,
        )
    }

    fn new(
        source: String,
        bos_token: String,
        eos_token: String,
        is_fallback: bool,
    ) -> Result<ChatTemplate> {
        if source.len() > LIMITS.max_template_bytes {
            return Err(Error::Template(format!(
                "{TEMPLATE_NAME} is {} bytes, more than the {} accepted",
                source.len(),
                LIMITS.max_template_bytes
            )));
        }
        let mut env = Environment::new();
        let syntax = SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| Error::Internal(format!("template syntax config: {e}")))?;
        env.set_syntax(syntax);
        env.set_fuel(Some(LIMITS.fuel));
        env.set_recursion_limit(LIMITS.recursion);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", raise_exception);
        env.add_function("strftime_now", strftime_now);
        env.add_template_owned(TEMPLATE_NAME, source).map_err(|e| {
            Error::Template(format!(
                "{TEMPLATE_NAME} does not compile: {}",
                describe(&e)
            ))
        })?;
        Ok(ChatTemplate {
            env,
            bos_token,
            eos_token,
            is_fallback,
        })
    }

    /// Renders the conversation; with `add_generation_prompt` the result ends
    /// with the opening of the assistant's turn.
    pub fn render(&self, messages: &[ChatMessage], add_generation_prompt: bool) -> Result<String> {
        let tmpl = self
            .env
            .get_template(TEMPLATE_NAME)
            .map_err(|e| Error::Internal(format!("compiled template missing: {e}")))?;
        let ctx = context! {
            messages => Value::from(minijinja::value::Serde(messages)),
            add_generation_prompt => add_generation_prompt,
            bos_token => self.bos_token.as_str(),
            eos_token => self.eos_token.as_str(),
        };
        let out = tmpl
            .render(ctx)
            .map_err(|e| Error::Template(format!("rendering failed: {}", describe(&e))))?;
        if out.len() > LIMITS.max_rendered_bytes {
            return Err(Error::Template(format!(
                "rendered prompt is {} bytes, more than the {} accepted",
                out.len(),
                LIMITS.max_rendered_bytes
            )));
        }
        Ok(out)
    }
}

/// minijinja's message plus, for our own errors, what the template asked for.
fn describe(e: &minijinja::Error) -> String {
    match e.kind() {
        ErrorKind::OutOfFuel => format!(
            "{e} (the template exceeds its budget of {} steps)",
            LIMITS.fuel
        ),
        _ => e.to_string(),
    }
}

/// `raise_exception(message)`, as Hugging Face templates use it to reject a conversation.
fn raise_exception(message: String) -> std::result::Result<Value, minijinja::Error> {
    Err(minijinja::Error::new(
        ErrorKind::InvalidOperation,
        format!("template raised an exception: {message}"),
    ))
}

/// `strftime_now(format)`: the current UTC time, for templates that print today's
/// date (Llama 3.x). Supports %Y %y %m %d %e %H %I %M %S %p %j %a %A %b %B %%.
fn strftime_now(format: String) -> String {
    let secs = web_time::SystemTime::now()
        .duration_since(web_time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    strftime(secs, &format)
}

fn strftime(unix_secs: i64, format: &str) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const DAYS: [&str; 7] = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (secs / 3600, secs / 60 % 60, secs % 60);
    let weekday = DAYS[(days + 4).rem_euclid(7) as usize];
    let month = MONTHS[(m - 1) as usize];
    let is_leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let cumulative = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let yday = cumulative[(m - 1) as usize] + d as i64 + i64::from(is_leap && m > 2);
    let mut out = String::with_capacity(format.len() + 16);
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&y.to_string()),
            Some('y') => out.push_str(&format!("{:02}", y.rem_euclid(100))),
            Some('m') => out.push_str(&format!("{m:02}")),
            Some('d') => out.push_str(&format!("{d:02}")),
            Some('e') => out.push_str(&format!("{d:>2}")),
            Some('H') => out.push_str(&format!("{hh:02}")),
            Some('I') => out.push_str(&format!("{:02}", (hh + 11) % 12 + 1)),
            Some('M') => out.push_str(&format!("{mm:02}")),
            Some('S') => out.push_str(&format!("{ss:02}")),
            Some('p') => out.push_str(if hh < 12 { "AM" } else { "PM" }),
            Some('j') => out.push_str(&format!("{yday:03}")),
            Some('a') => out.push_str(&weekday[..3]),
            Some('A') => out.push_str(weekday),
            Some('b') => out.push_str(&month[..3]),
            Some('B') => out.push_str(month),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01
/// (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gguf::Value as GValue;

    fn tokenizer(tokens: &[&str]) -> Tokenizer {
        let md = Metadata(
            [
                ("tokenizer.ggml.model", GValue::String("gpt2".into())),
                ("tokenizer.ggml.pre", GValue::String("gpt-2".into())),
                (
                    "tokenizer.ggml.tokens",
                    GValue::Array(tokens.iter().map(|t| GValue::String((*t).into())).collect()),
                ),
                ("tokenizer.ggml.merges", GValue::Array(vec![])),
                ("tokenizer.ggml.eos_token_id", GValue::U32(0)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        );
        Tokenizer::from_metadata(&md).unwrap()
    }

    #[test]
    fn falls_back_to_chatml_only_with_chatml_markers() {
        let tok = tokenizer(&["<|im_end|>", "<|im_start|>", "a"]);
        let t = ChatTemplate::from_metadata(&Metadata::default(), &tok).unwrap();
        assert!(t.is_fallback);
        let out = t.render(&[ChatMessage::user("hi")], true).unwrap();
        assert_eq!(
            out,
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
        );

        let tok = tokenizer(&["</s>", "a"]);
        let e = ChatTemplate::from_metadata(&Metadata::default(), &tok).unwrap_err();
        assert_eq!(e.code(), "template");
        assert!(e.to_string().contains("no tokenizer.chat_template"), "{e}");
    }

    #[test]
    fn syntax_errors_and_raised_exceptions_are_clear() {
        let e =
            ChatTemplate::from_source("{% for m in messages %}{{ m.content }", "", "").unwrap_err();
        assert_eq!(e.code(), "template");
        assert!(
            e.to_string().contains("does not compile") && e.to_string().contains("syntax error"),
            "{e}"
        );

        let t = ChatTemplate::from_source(
            "{% if messages[0].role != 'system' %}{{ raise_exception('System first, please') }}{% endif %}",
            "",
            "",
        )
        .unwrap();
        let e = t.render(&[ChatMessage::user("x")], false).unwrap_err();
        assert!(e.to_string().contains("System first, please"), "{e}");
    }

    #[test]
    fn hostile_templates_stop_on_their_budget() {
        let hostile = [
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
            "{% set s = namespace(v='x') %}{% for i in range(64) %}{% set s.v = s.v ~ s.v %}{% endfor %}{{ s.v }}",
            "{{ 'x' * 1000000000 }}",
        ];
        for src in hostile {
            let t = ChatTemplate::from_source(src, "", "").unwrap();
            let e = t.render(&[ChatMessage::user("x")], true).unwrap_err();
            assert_eq!(e.code(), "template", "{src}: {e}");
        }
        let big = "x".repeat(LIMITS.max_template_bytes + 1);
        assert!(ChatTemplate::from_source(&big, "", "").is_err());
    }

    #[test]
    fn python_string_methods_bos_and_dates() {
        let t = ChatTemplate::from_source(
            "{{ bos_token }}{% for m in messages %}[{{ m.role | upper }}] {{ m.content.strip() }}\
             {% if m.content.startswith(' ') %}!{% endif %}{% endfor %}{{ eos_token }}",
            "<s>",
            "</s>",
        )
        .unwrap();
        assert_eq!(
            t.render(&[ChatMessage::user("  hello  ")], false).unwrap(),
            "<s>[USER] hello!</s>"
        );
        assert_eq!(
            strftime(0, "%d %b %Y %H:%M:%S %A %j"),
            "01 Jan 1970 00:00:00 Thursday 001"
        );
        assert_eq!(
            strftime(1_795_868_214, "%Y-%m-%d %B %a %I%p"),
            "2026-11-28 November Sat 12PM"
        );
        assert_eq!(strftime(951_782_400, "%d/%m/%y day %j"), "29/02/00 day 060");
    }
}
