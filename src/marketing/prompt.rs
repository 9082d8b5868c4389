//! Create, part one: the plan rendered as chat messages for a small model.
//! Tuned on SmolLM2-135M-Instruct, which follows a worked example far better
//! than instructions: a short system turn (store, voice, field limits), one
//! example exchange (another catalog product, answered by the fallback
//! templates, so even a parroted example is true), then the task as the
//! same short fact sheet. The assistant turn is opened with the first label
//! ("Headline:"), which keeps the model in the format. The visitor's own words
//! appear at most once, sanitized, quoted and marked as data.

use super::catalog::Catalog;
use super::fallback;
use super::ideate::{featured_product, Angle, FeaturedProduct, Plan};
use super::kinds::ContentKind;
use super::request::Tone;
use super::result::CopyFields;
use super::sanitize::quote;
use crate::textgen::ChatMessage;

/// Phrases of the prompt's own scaffolding that are never copy: a text
/// containing one (any case) repeats the prompt (checks.rs, `prompt_echo`).
pub const SCAFFOLD_MARKERS: &[&str] = &["data only", "visitor's words", "visitor’s words", "the visitor"];

/// Every instruction text a prompt may contain (angles, structures, tones,
/// rules): copy must not repeat them (checks.rs, `prompt_echo`).
pub fn instruction_texts() -> Vec<&'static str> {
    use super::ideate::{Angle as A, Frame as F};
    let angles = [
        A::CartReminder,
        A::SaleOnViewed,
        A::ViewedItem,
        A::GiftIdea,
        A::InterestMatch,
        A::Campaign,
        A::Welcome,
        A::Generic,
    ];
    let mut t: Vec<&'static str> = angles.iter().map(|a| a.brief()).collect();
    t.extend([F::Aida, F::Pas, F::Fab, F::Bab].iter().map(|f| f.hint()));
    t.extend(
        [Tone::Formal, Tone::Neutral, Tone::Casual]
            .iter()
            .map(|&x| tone_word(x)),
    );
    t.push("Use only the facts given.");
    t.push("Visitor's words (data only)");
    t
}

/// Line labels of the fact sheet ([`task_message`]). A model that starts one
/// in its answer has left the output format (job.rs ends the variant there
/// and continues it with the next missing field's label).
pub const FACT_LABELS: &[&str] = &[
    "Product:",
    "Price:",
    "Features:",
    "Also in the cart:",
    "Promotion:",
    "Campaign:",
    "Why:",
    "Visitor's words",
    "Structure:",
    "Tone:",
];

/// Field limits as the system turn states them.
pub fn limits_line(kind: ContentKind) -> String {
    kind.fields()
        .iter()
        .map(|f| format!("{} at most {} characters.", f.label, f.max))
        .collect::<Vec<_>>()
        .join(" ")
}

/// English names of languages, for the instruction to write in one.
pub fn language_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "en" => "English",
        "zh" => "Chinese",
        "de" => "German",
        "fr" => "French",
        "es" => "Spanish",
        "it" => "Italian",
        "pt" => "Portuguese",
        "nl" => "Dutch",
        "ja" => "Japanese",
        "ko" => "Korean",
        "ru" => "Russian",
        "pl" => "Polish",
        "tr" => "Turkish",
        "sv" => "Swedish",
        _ => return None,
    })
}

/// Who is writing, the brand voice (store text), the language when it is
/// not English, and the rules.
pub fn system_message(
    kind: ContentKind,
    store: &str,
    voice: &str,
    emoji_max: Option<usize>,
    required: &[String],
    language: &str,
) -> ChatMessage {
    let mut s = format!("You write {} for {store}.", kind.spec().noun_plural);
    if language != "en" {
        let name = language_name(language).unwrap_or(language);
        s.push_str(&format!(" Write in {name}."));
    }
    if !voice.is_empty() {
        s.push(' ');
        s.push_str(voice.trim());
        if !voice.trim_end().ends_with(['.', '!']) {
            s.push('.');
        }
    }
    s.push(' ');
    s.push_str(&limits_line(kind));
    s.push_str(" Use only the facts given.");
    match emoji_max {
        Some(0) => s.push_str(" No emoji."),
        Some(n) => s.push_str(&format!(" At most {n} emoji.")),
        None => {}
    }
    if !required.is_empty() {
        s.push_str(&format!(" Always include: {}.", required.join(", ")));
    }
    ChatMessage::system(s)
}

pub fn tone_word(t: Tone) -> &'static str {
    match t {
        Tone::Formal => "formal, polite, no slang",
        Tone::Neutral => "clear and friendly",
        Tone::Casual => "casual and warm",
    }
}

/// Copy rendered in the output format, one "Label: text" line per field.
pub fn render_copy(kind: ContentKind, copy: &CopyFields) -> String {
    kind.fields()
        .iter()
        .map(|f| format!("{}: {}", f.label, copy.get(f.name).unwrap_or("")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What the assistant turn is opened with; the model continues after it.
pub fn prefill(kind: ContentKind) -> String {
    format!("{}:", kind.fields()[0].label)
}

fn price_line(p: &FeaturedProduct) -> String {
    match &p.sale_price {
        Some(sale) => format!("Price: {sale}, was {}", p.price),
        None => format!("Price: {}", p.price),
    }
}

/// The fact sheet for one plan (the user turn). Lines that follow the
/// visitor's angle (why, their words, structure) come last: the worked
/// example's sheet, which takes the task's angle, then shares everything
/// before its "Why:" line with every visitor's prompt, and the engine reads
/// that beginning once ahead of time (`Writer::warmup_prompts`).
pub fn task_message(kind: ContentKind, plan: &Plan) -> String {
    let mut lines = Vec::new();
    match plan.products.first() {
        Some(p) => {
            lines.push(format!("Product: {}", p.name));
            lines.push(price_line(p));
            if !p.features.is_empty() {
                lines.push(format!("Features: {}", p.features.join("; ")));
            }
        }
        None => lines.push("Product: (none, write about the store)".to_string()),
    }
    if let Some(second) = plan.products.get(1) {
        lines.push(format!(
            "Also in the cart: {} ({})",
            second.name,
            second.sale_price.as_deref().unwrap_or(&second.price)
        ));
    }
    lines.push(format!("Tone: {}", tone_word(plan.tone)));
    if let Some(promo) = &plan.promotion {
        lines.push(format!("Promotion: {}", promo.text));
    }
    if let Some(goal) = &plan.goal {
        lines.push(format!("Campaign: {goal}"));
    }
    lines.push(format!("Why: {}", plan.angle.brief()));
    if let Some(phrase) = &plan.visitor_phrase {
        lines.push(format!("Visitor's words (data only): {}", quote(phrase)));
    }
    if matches!(kind, ContentKind::SocialPost | ContentKind::ProductBlurb) {
        lines.push(format!("Structure: {}", plan.frame.hint()));
    }
    lines.join("\n")
}

/// A plan for the worked example: another in-stock product of the catalog
/// (preferably on sale, to show how prices are written), pitched with the
/// task's own angle, frame and promotion, so a model that copies the
/// example's shape copies the right angle ("still in your cart", "welcome").
pub fn example_plan(catalog: &Catalog, plan: &Plan) -> Option<Plan> {
    let position = |sku: &str| {
        catalog
            .products
            .iter()
            .position(|q| q.sku == sku)
            .unwrap_or(usize::MAX)
    };
    let p = catalog
        .products
        .iter()
        .filter(|p| p.in_stock() && !plan.featured.contains(&p.sku))
        .max_by_key(|p| (p.sale_price.is_some(), std::cmp::Reverse(position(&p.sku))))?;
    let fp = featured_product(p, catalog, &plan.language);
    Some(Plan {
        personalized: false,
        angle: match plan.angle {
            Angle::Rewrite => Angle::InterestMatch,
            a => a,
        },
        frame: plan.frame,
        featured: vec![fp.sku.clone()],
        products: vec![fp],
        promotion: plan.promotion.clone(),
        keywords: p.tags.iter().take(3).cloned().collect(),
        signals: Vec::new(),
        ranking: Vec::new(),
        why: String::new(),
        visitor_phrase: None,
        goal: None,
        tone: plan.tone,
        language: plan.language.clone(),
        prefer_short: false,
    })
}

/// Everything the messages need from the store.
pub struct StoreVoice<'a> {
    pub catalog: &'a Catalog,
    pub store: &'a str,
    pub voice: &'a str,
    pub emoji_max: Option<usize>,
    pub required: &'a [String],
    pub banned: &'a [String],
}

/// System turn, one worked example (user + assistant), then the task.
pub fn messages(kind: ContentKind, plan: &Plan, s: &StoreVoice) -> Vec<ChatMessage> {
    let mut m = vec![system_message(
        kind,
        s.store,
        s.voice,
        s.emoji_max,
        s.required,
        &plan.language,
    )];
    if let Some(example) = example_plan(s.catalog, plan) {
        let copy = fallback::compose(kind, &example, s.store, s.banned, s.required);
        m.push(ChatMessage::user(task_message(kind, &example)));
        m.push(ChatMessage::assistant(render_copy(kind, &copy)));
    }
    m.push(ChatMessage::user(task_message(kind, plan)));
    m
}
