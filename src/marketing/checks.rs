//! Optimize, part one: every hard check a piece of copy must pass. Per field:
//! `complete`, `length`, `banned_phrases`, `facts`, `invented_words` (English
//! copy: every word is English, catalog, store or goal text), `plan_claims`
//! (nothing the plan contradicts: "in your cart" with no cart, a price going
//! up), `voice` (the store speaks, not a chat assistant), `markup`,
//! `injection_echo`, `prompt_echo`, `language`. Over the whole copy: `distinct` (no field
//! only repeats another's words), `relevance` (it is about the plan), `required_terms`,
//! `emoji`. A check that fails carries the offending spans so repair.rs can
//! cut exactly those.

use std::collections::HashSet;

use super::brand::Brand;
use super::facts::FactSheet;
use super::kinds::ContentKind;
use super::ideate::{Angle, Plan};
use super::lang::LanguageCheck;
use super::lexicon;
use super::phrases;
use super::result::{Check, CopyFields};
use super::sanitize::strip_markup;
use super::text::{count_emoji, is_common_word, is_stopword, perceived_len, sentences, stem, words};

/// Material from the visitor's hostile strings (markup, chat tokens,
/// instructions) that copy must not repeat: rare words and word pairs that
/// the catalog does not use itself.
#[derive(Debug, Clone, Default)]
pub struct EchoGuard {
    words: HashSet<String>,
    pairs: HashSet<(String, String)>,
    /// Four-word runs of the prompt's own instructions (angle, structure,
    /// tone): a model that copies them into the copy is echoing its prompt.
    instructions: HashSet<Vec<String>>,
}

/// Length of the word runs compared for prompt echoes.
const ECHO_RUN: usize = 4;

impl EchoGuard {
    pub fn new(hostile: &[String], facts: &FactSheet) -> EchoGuard {
        let mut g = EchoGuard::default();
        for h in hostile {
            let raw: Vec<String> = words(h);
            for word in &raw {
                if word.chars().count() >= 4
                    && !facts.knows_word(word)
                    && !is_common_word(word)
                    && !is_stopword(word)
                {
                    g.words.insert(stem(word));
                }
            }
            for pair in raw.windows(2) {
                if !facts.knows_phrase(pair) && (!is_stopword(&pair[0]) || !is_stopword(&pair[1])) {
                    g.pairs.insert((stem(&pair[0]), stem(&pair[1])));
                }
            }
        }
        g
    }

    /// Adds instruction texts whose four-word runs the copy must not repeat.
    pub fn with_instructions<'a>(mut self, texts: impl IntoIterator<Item = &'a str>) -> Self {
        for t in texts {
            let w = words(t);
            // Runs of everyday words ("is now on sale") are fair copy.
            for run in w
                .windows(ECHO_RUN)
                .filter(|r| r.iter().any(|x| !is_common_word(x) && !is_stopword(x)))
            {
                self.instructions.insert(run.to_vec());
            }
        }
        self
    }

    /// The first run of prompt instructions `text` repeats, or a phrase of
    /// the prompt's scaffolding.
    pub fn find_instruction(&self, text: &str) -> Option<String> {
        let lower = text.to_lowercase();
        if let Some(m) = super::prompt::SCAFFOLD_MARKERS.iter().find(|m| lower.contains(*m)) {
            return Some(m.to_string());
        }
        // A field that opens with a fact-sheet label ("Price: $129, was $30").
        if let Some(l) = super::prompt::FACT_LABELS
            .iter()
            .find(|l| lower.trim_start().starts_with(&l.to_lowercase()))
        {
            return Some(l.to_string());
        }
        let w = words(text);
        w.windows(ECHO_RUN)
            .find(|run| self.instructions.contains(*run))
            .map(|run| run.join(" "))
    }

    /// The first echoed word or pair in `text`.
    pub fn find(&self, text: &str) -> Option<String> {
        let w: Vec<String> = words(text).iter().map(|w| stem(w)).collect();
        if let Some(hit) = w.iter().find(|x| self.words.contains(*x)) {
            return Some(hit.clone());
        }
        w.windows(2)
            .find(|p| self.pairs.contains(&(p[0].clone(), p[1].clone())))
            .map(|p| format!("{} {}", p[0], p[1]))
    }
}

/// What the checks compare against; built once per request.
pub struct CheckContext<'a> {
    pub kind: ContentKind,
    pub brand: &'a Brand,
    pub facts: &'a FactSheet,
    pub echo: &'a EchoGuard,
    pub language: &'a str,
    pub language_check: LanguageCheck,
    /// Word stems of which the copy must use at least one (the featured
    /// product's name words and the plan's keywords); empty skips the check.
    pub topic: &'a [String],
    /// What copy may say about the visitor.
    pub visitor: VisitorFacts,
}

/// What the plan knows about the visitor: copy claiming more ("still in
/// your cart", "you bought") is false for this visitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VisitorFacts {
    pub cart: bool,
    pub viewed: bool,
    pub purchased: bool,
    /// Has been here before (a first-time visitor is not welcomed back).
    pub returning: bool,
}

impl VisitorFacts {
    pub fn from_plan(plan: &Plan) -> VisitorFacts {
        let has = |kind: &str| plan.signals.iter().any(|s| s.personal && s.kind == kind);
        VisitorFacts {
            cart: plan.angle == Angle::CartReminder || has("cart"),
            viewed: matches!(plan.angle, Angle::SaleOnViewed | Angle::ViewedItem) || has("viewed"),
            purchased: has("purchased"),
            returning: plan.personalized && plan.angle != Angle::Welcome,
        }
    }

    /// Everything allowed: a rewrite keeps whatever its original claims.
    pub fn any() -> VisitorFacts {
        VisitorFacts {
            cart: true,
            viewed: true,
            purchased: true,
            returning: true,
        }
    }
}

/// Claims about the visitor, each allowed only when the plan knows it.
const CART_CLAIMS: &[&str] = &["your cart", "your basket", "you left", "left behind", "left it"];
const VIEWED_CLAIMS: &[&str] = &[
    "you viewed",
    "you looked at",
    "you were looking",
    "you checked out",
    "caught your eye",
    "recently viewed",
    "you browsed",
];
const PURCHASE_CLAIMS: &[&str] = &[
    "bought",
    "you purchased",
    "your purchase",
    "you ordered",
    "your recent order",
    "you already own",
];
const RETURNING_CLAIMS: &[&str] = &["welcome back", "good to see you again", "nice to see you again"];
/// Claims no plan backs: the catalog never raises a price, and nothing
/// featured is out of stock.
const NEVER_CLAIMS: &[&str] = &[
    "price increase",
    "price rise",
    "price hike",
    "prices rise",
    "price goes up",
    "prices go up",
    "up from",
    "higher price",
    "more expensive",
    "costs more",
    "sold out",
    "out of stock",
    "no longer available",
    "unavailable",
    "discontinued",
];

/// The plan-contradicting claims `text` makes.
pub fn plan_claims(text: &str, visitor: VisitorFacts) -> Vec<String> {
    let groups: [(&[&str], bool); 5] = [
        (CART_CLAIMS, visitor.cart),
        (VIEWED_CLAIMS, visitor.viewed),
        (PURCHASE_CLAIMS, visitor.purchased),
        (RETURNING_CLAIMS, visitor.returning),
        (NEVER_CLAIMS, false),
    ];
    groups
        .iter()
        .filter(|(_, allowed)| !allowed)
        .flat_map(|(list, _)| list.iter())
        .filter_map(|p| phrases::find_text(text, p, false))
        .collect()
}

/// First-person singular and chat-assistant phrasing: copy speaks for the
/// store ("we"), never as a chatbot ("I'm so glad you reached out").
const CHAT_PHRASES: &[&str] = &[
    "i",
    "i'm",
    "i've",
    "i'd",
    "i'll",
    "myself",
    "reached out",
    "you're welcome",
    "tell me",
    "let me know",
    "feel free",
    "happy to help",
    "glad you",
    "as an ai",
    "here is",
    "here's a",
    "here are",
    "hope this",
    "click here",
    "clicking here",
    "word count",
    "character count",
];

/// The chat-assistant phrases `text` uses.
pub fn chat_voice(text: &str) -> Vec<String> {
    CHAT_PHRASES
        .iter()
        .filter_map(|p| phrases::find_text(text, p, false))
        .collect()
}

/// Words of English copy that are neither English (lexicon.rs), nor catalog,
/// store or goal words, nor in `known` texts; each with the catalog word it
/// is near, if any ("Featheredle" → "featherlite").
pub fn invented_words(text: &str, facts: &FactSheet, known: &[&str]) -> Vec<(String, Option<String>)> {
    let known: HashSet<String> = known.iter().flat_map(|t| words(t)).collect();
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for raw in text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’')) {
        let raw = raw.trim_matches(['\'', '’']);
        if raw.chars().count() < 3 || raw.chars().any(|c| c.is_ascii_digit()) {
            continue;
        }
        let w = raw.to_lowercase().replace('’', "'");
        let bare = w.split('\'').next().unwrap_or(&w);
        if facts.knows_word(&w)
            || facts.knows_word(bare)
            || known.contains(&w)
            || is_common_word(&w)
            || is_stopword(&w)
            || lexicon::is_english(&w)
            || out.iter().any(|(o, _)| o == raw)
        {
            continue;
        }
        out.push((raw.to_string(), facts.nearest_word(bare)));
    }
    out
}

/// The stems a plan's copy must touch: the featured products' name words,
/// their categories, the plan's keywords, the promotion's words, and for
/// store-wide angles (generic, welcome, campaign) the store's name.
pub fn topic_stems(plan: &super::ideate::Plan, store: &str) -> Vec<String> {
    use super::ideate::Angle;
    let mut out: Vec<String> = Vec::new();
    let store_wide = matches!(
        plan.angle,
        Angle::Generic | Angle::Welcome | Angle::Campaign
    );
    let texts = plan
        .products
        .iter()
        .flat_map(|p| std::iter::once(p.name.as_str()).chain(p.category.as_deref()))
        .chain(plan.keywords.iter().map(String::as_str))
        .chain(plan.promotion.iter().map(|p| p.text.as_str()))
        .chain(store_wide.then_some(store));
    for t in texts {
        for w in words(t) {
            let s = stem(&w);
            if w.chars().count() >= 3
                && !is_stopword(&w)
                && !is_common_word(&w)
                && !out.contains(&s)
            {
                out.push(s);
            }
        }
    }
    out
}

/// Markup the copy must not carry: tags, chat markers, entities, script URLs.
pub fn markup_in(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    for needle in [
        "<|",
        "|>",
        "javascript:",
        "&lt;",
        "&gt;",
        "&#",
        "[inst]",
        "<<sys>>",
    ] {
        if lower.contains(needle) {
            return Some(needle.to_string());
        }
    }
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c == '<'
            && chars
                .get(i + 1)
                .is_some_and(|n| n.is_alphabetic() || matches!(n, '/' | '!' | '?'))
        {
            let end = chars[i..]
                .iter()
                .position(|&x| x == '>')
                .map_or(chars.len(), |p| i + p + 1);
            return Some(chars[i..end.min(i + 40)].iter().collect());
        }
    }
    if strip_markup(text).1 && (text.contains('<') || text.contains('>')) {
        return Some("<".into());
    }
    None
}

/// Fields that only repeat an earlier one, each with the label of the one
/// it repeats: a field whose words (stop words aside, stemmed) all appear in a field above
/// it, e.g. the subline "The Ridgeline Trail Runner." under the headline
/// "Ridgeline Trail Runner" (often what is left once a false price is cut).
/// A headline that the subline repeats and extends is fine, and so is a
/// call to action that echoes the line above it ("Shop the sale") unless it
/// repeats a field word for word.
fn repeated_fields(kind: ContentKind, copy: &CopyFields) -> Vec<(&'static str, &'static str)> {
    let fields: Vec<_> = kind
        .fields()
        .iter()
        .filter_map(|spec| copy.get(spec.name).map(|text| (spec, words(text))))
        .collect();
    let content = |w: &[String]| -> HashSet<String> { w.iter().filter(|w| !is_stopword(w)).map(|w| stem(w)).collect() };
    fields
        .iter()
        .enumerate()
        .filter_map(|(i, (spec, mine))| {
            let repeats = |theirs: &Vec<String>| match spec.is_call_to_action() {
                true => mine == theirs,
                false => {
                    let own = content(mine);
                    !own.is_empty() && own.is_subset(&content(theirs))
                }
            };
            fields[..i].iter().find(|(_, theirs)| repeats(theirs)).map(|(other, _)| (spec.name, other.label))
        })
        .collect()
}

/// Sentences of a multi-sentence field that say only what the call to
/// action below says ("Take a look. The Featherlite Down Parka, now $299."
/// over the button "Take a look"), with their fields. A field that is the
/// call to action word for word is [`repeated_fields`]' case.
fn sentences_repeating_the_call_to_action(kind: ContentKind, copy: &CopyFields) -> Vec<(&'static str, String)> {
    let Some(cta) = kind.fields().iter().find(|s| s.is_call_to_action()).and_then(|s| copy.get(s.name)) else {
        return Vec::new();
    };
    let cta = words(cta);
    let mut out = Vec::new();
    for spec in kind.fields().iter().filter(|s| !s.is_call_to_action()) {
        let Some(text) = copy.get(spec.name) else { continue };
        let parts = sentences(text);
        if cta.is_empty() || parts.len() < 2 {
            continue;
        }
        out.extend(parts.into_iter().filter(|p| words(p) == cta).map(|p| (spec.name, p.trim().to_string())));
    }
    out
}

/// Runs every check on `copy`. `extra_scope` names more texts whose products
/// are in scope for facts (the original copy of a rewrite).
pub fn run(copy: &CopyFields, ctx: &CheckContext, extra_scope: &[&str]) -> Vec<Check> {
    let mut out = Vec::new();
    let all_texts: Vec<&str> = copy
        .iter()
        .map(|(_, t)| t)
        .chain(extra_scope.iter().copied())
        .collect();
    let scope = ctx.facts.scope_for(&all_texts);
    for spec in ctx.kind.fields() {
        let field = Some(spec.name);
        let Some(text) = copy.get(spec.name) else {
            out.push(Check::fail(
                "complete",
                field,
                format!("no {} was written", spec.name),
                Vec::new(),
            ));
            continue;
        };
        let len = perceived_len(text);
        if len < spec.min {
            out.push(Check::fail(
                "complete",
                field,
                format!("{len} characters is too short to be a {}", spec.name),
                Vec::new(),
            ));
        } else {
            out.push(Check::pass("complete", field));
        }
        if len > spec.max {
            out.push(Check::fail(
                "length",
                field,
                format!("{len} characters, limit {}", spec.max),
                Vec::new(),
            ));
        } else {
            out.push(Check::pass("length", field));
        }
        let banned: Vec<String> = ctx
            .brand
            .banned_phrases
            .iter()
            .filter_map(|p| phrases::find_text(text, p, true))
            .collect();
        if banned.is_empty() {
            out.push(Check::pass("banned_phrases", field));
        } else {
            out.push(Check::fail(
                "banned_phrases",
                field,
                format!("uses banned {}", quote_list(&banned)),
                banned,
            ));
        }
        let violations = ctx.facts.check(text, &scope);
        if violations.is_empty() {
            out.push(Check::pass("facts", field));
        } else {
            let detail = violations
                .iter()
                .map(|v| v.detail.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            out.push(Check::fail(
                "facts",
                field,
                detail,
                violations.into_iter().map(|v| v.span).collect(),
            ));
        }
        let invented = if ctx.language == "en" {
            invented_words(text, ctx.facts, extra_scope)
        } else {
            Vec::new()
        };
        if invented.is_empty() {
            out.push(Check::pass("invented_words", field));
        } else {
            let detail = invented
                .iter()
                .map(|(w, near)| match near {
                    Some(n) => format!("'{w}' is not a word (near the catalog's '{n}')"),
                    None => format!("'{w}' is neither English nor in the catalog"),
                })
                .collect::<Vec<_>>()
                .join("; ");
            out.push(Check::fail(
                "invented_words",
                field,
                detail,
                invented.into_iter().map(|(w, _)| w).collect(),
            ));
        }
        let claims = plan_claims(text, ctx.visitor);
        if claims.is_empty() {
            out.push(Check::pass("plan_claims", field));
        } else {
            out.push(Check::fail(
                "plan_claims",
                field,
                format!("claims {} , which the plan does not back", quote_list(&claims)).replace(" ,", ","),
                claims,
            ));
        }
        let chat = if ctx.language == "en" { chat_voice(text) } else { Vec::new() };
        if chat.is_empty() {
            out.push(Check::pass("voice", field));
        } else {
            out.push(Check::fail(
                "voice",
                field,
                format!("speaks as a chat assistant ({})", quote_list(&chat)),
                chat,
            ));
        }
        match markup_in(text) {
            None => out.push(Check::pass("markup", field)),
            Some(m) => out.push(Check::fail(
                "markup",
                field,
                format!("contains markup '{m}'"),
                vec![m],
            )),
        }
        match ctx.echo.find(text) {
            None => out.push(Check::pass("injection_echo", field)),
            Some(hit) => out.push(Check::fail(
                "injection_echo",
                field,
                format!("repeats '{hit}' from untrusted visitor text"),
                vec![hit],
            )),
        }
        match ctx.echo.find_instruction(text) {
            None => out.push(Check::pass("prompt_echo", field)),
            Some(run) => out.push(Check::fail(
                "prompt_echo",
                field,
                format!("repeats the prompt's instruction '{run}'"),
                vec![run],
            )),
        }
        match (ctx.language_check)(text, ctx.language) {
            Ok(()) => out.push(Check::pass("language", field)),
            Err(why) => out.push(Check::fail("language", field, why, Vec::new())),
        }
    }
    if ctx.kind.fields().len() > 1 {
        let failed = repeated_fields(ctx.kind, copy);
        for (name, other) in &failed {
            out.push(Check::fail(
                "distinct",
                Some(name),
                format!("adds nothing to the {}: every word of it is there", other.to_lowercase()),
                Vec::new(),
            ));
        }
        let echoes = sentences_repeating_the_call_to_action(ctx.kind, copy);
        for (name, sentence) in &echoes {
            out.push(Check::fail(
                "distinct",
                Some(name),
                format!("'{sentence}' only repeats the call to action"),
                vec![sentence.clone()],
            ));
        }
        if failed.is_empty() && echoes.is_empty() {
            out.push(Check::pass("distinct", None));
        }
    }
    let joined = copy.joined();
    if !ctx.topic.is_empty() {
        let stems: Vec<String> = words(&joined).iter().map(|w| stem(w)).collect();
        if ctx.topic.iter().any(|t| stems.contains(t)) {
            out.push(Check::pass("relevance", None));
        } else {
            out.push(Check::fail(
                "relevance",
                None,
                format!(
                    "mentions neither the featured product nor a plan keyword ({})",
                    ctx.topic.join(", ")
                ),
                Vec::new(),
            ));
        }
    }
    let missing: Vec<String> = ctx
        .brand
        .required_terms
        .iter()
        .filter(|t| phrases::find(&joined, t, true).is_none())
        .cloned()
        .collect();
    if missing.is_empty() {
        out.push(Check::pass("required_terms", None));
    } else {
        out.push(Check::fail(
            "required_terms",
            None,
            format!("missing required {}", quote_list(&missing)),
            Vec::new(),
        ));
    }
    let emoji = count_emoji(&joined);
    match ctx.brand.emoji.max() {
        Some(max) if emoji > max => out.push(Check::fail(
            "emoji",
            None,
            format!("{emoji} emoji, the brand allows {max}"),
            Vec::new(),
        )),
        _ => out.push(Check::pass("emoji", None)),
    }
    out
}

fn quote_list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}
