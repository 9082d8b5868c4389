//! Fallback copy assembled from catalog facts alone: per kind and angle,
//! candidate templates filled with the featured product's name, its real
//! price and sale price, its features and the promotion text; the first
//! candidate that fits the field's limit and uses no banned phrase wins.
//! Used when no model variant passes, and as the few-shot example in prompts.
//! No emoji, no claim the catalog does not make.

use super::ideate::{Angle, FeaturedProduct, Plan};
use super::kinds::ContentKind;
use super::phrases;
use super::request::Tone;
use super::result::CopyFields;
use super::text::{perceived_len, trim_to_limit};

struct Facts<'a> {
    store: &'a str,
    p: Option<&'a FeaturedProduct>,
    promo: Option<&'a str>,
    promo_short: Option<String>,
    tone: Tone,
    angle: Angle,
}

impl Facts<'_> {
    fn name(&self) -> Option<&str> {
        self.p.map(|p| p.name.as_str())
    }
    fn price(&self) -> Option<&str> {
        self.p.map(|p| p.sale_price.as_deref().unwrap_or(&p.price))
    }
    /// The regular price, only when on sale.
    fn was(&self) -> Option<&str> {
        self.p
            .filter(|p| p.sale_price.is_some())
            .map(|p| p.price.as_str())
    }
    fn features(&self, n: usize) -> Option<String> {
        let f = &self.p?.features;
        let f: Vec<&str> = f.iter().take(n).map(String::as_str).collect();
        match f.len() {
            0 => None,
            1 => Some(f[0].to_string()),
            k => Some(format!("{} and {}", f[..k - 1].join(", "), f[k - 1])),
        }
    }
    fn formal(&self) -> bool {
        self.tone == Tone::Formal
    }
    fn casual(&self) -> bool {
        self.tone == Tone::Casual
    }
}

fn facts<'a>(plan: &'a Plan, store: &'a str) -> Facts<'a> {
    let promo = plan.promotion.as_ref().map(|p| p.text.as_str());
    let promo_short = promo.map(|t| t.split(':').next().unwrap_or(t).trim().to_string());
    Facts {
        store,
        p: plan.products.first(),
        promo,
        promo_short,
        tone: plan.tone,
        angle: plan.angle,
    }
}

/// The first candidate that fits and avoids banned phrases; else the first
/// clean candidate trimmed at a word boundary.
fn pick(cands: Vec<Option<String>>, max: usize, banned: &[String]) -> String {
    let clean: Vec<String> = cands
        .into_iter()
        .flatten()
        .filter(|c| {
            !c.trim().is_empty() && !banned.iter().any(|b| phrases::find(c, b, true).is_some())
        })
        .collect();
    clean
        .iter()
        .find(|c| perceived_len(c) <= max)
        .cloned()
        .or_else(|| clean.first().map(|c| trim_to_limit(c, max)))
        .unwrap_or_default()
}

/// "the Basecamp 2 Tent", but "The Glass Orchard" stays as it is.
fn the(name: &str, capital: bool) -> String {
    let lower = name.to_lowercase();
    if lower.starts_with("the ") || lower.starts_with("a ") || lower.starts_with("an ") {
        name.to_string()
    } else if capital {
        format!("The {name}")
    } else {
        format!("the {name}")
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The standard call to action for a plan.
pub fn cta(plan: &Plan) -> String {
    match (plan.angle, plan.tone) {
        (Angle::CartReminder, Tone::Formal) => "Complete your order",
        (Angle::CartReminder, Tone::Neutral) => "Go to your cart",
        (Angle::CartReminder, Tone::Casual) => "Back to your cart",
        (Angle::GiftIdea, Tone::Formal) => "View gift ideas",
        (Angle::GiftIdea, _) => "Shop gifts",
        (_, Tone::Formal) => "View details",
        (_, Tone::Neutral) => "Shop now",
        (_, Tone::Casual) => "Take a look",
    }
    .to_string()
}

fn headline(f: &Facts) -> Vec<Option<String>> {
    let name = f.name().map(str::to_string);
    let on_sale = f.was().is_some();
    let mut c = match f.angle {
        Angle::CartReminder => vec![Some(
            if f.casual() {
                "Still thinking it over?"
            } else if f.formal() {
                "Your cart has been saved"
            } else {
                "Your cart is waiting"
            }
            .to_string(),
        )],
        Angle::SaleOnViewed => vec![
            f.name()
                .zip(f.price())
                .map(|(n, p)| format!("{n}, now {p}")),
            f.price().map(|p| format!("Now on sale: {p}")),
        ],
        Angle::ViewedItem => vec![Some(
            if f.formal() {
                "Take a second look"
            } else {
                "Take another look"
            }
            .to_string(),
        )],
        Angle::GiftIdea => vec![Some(
            if f.casual() {
                "A gift they'll actually use"
            } else if f.formal() {
                "A thoughtful gift"
            } else {
                "A gift worth giving"
            }
            .to_string(),
        )],
        Angle::InterestMatch => vec![
            f.name().map(|n| format!("Meet {}", the(n, false))),
            name.clone(),
            Some("Picked for you".to_string()),
        ],
        Angle::Campaign | Angle::Generic | Angle::Rewrite => vec![f.promo_short.clone()],
        Angle::Welcome => vec![
            Some(format!("Welcome to {}", f.store)),
            Some("Welcome".to_string()),
        ],
    };
    if on_sale {
        c.push(
            f.name()
                .zip(f.price())
                .map(|(n, p)| format!("{n}, now {p}")),
        );
    }
    c.push(name);
    c.push(Some(f.store.to_string()));
    c
}

fn product_line(f: &Facts) -> Vec<Option<String>> {
    let (Some(name), Some(price)) = (f.name(), f.price()) else {
        return vec![f.promo.map(|p| format!("{p}."))];
    };
    let mut c = Vec::new();
    if f.angle == Angle::CartReminder {
        if let Some(was) = f.was() {
            c.push(Some(format!(
                "{} is still in your cart, now {price} (was {was}).",
                the(name, true)
            )));
        }
        c.push(Some(format!(
            "{} is still in your cart at {price}.",
            the(name, true)
        )));
    }
    if matches!(f.angle, Angle::Generic | Angle::Welcome | Angle::Campaign) {
        // The headline states the promotion's name; the subline its details.
        if let Some((_, rest)) = f.promo.and_then(|p| p.split_once(':')) {
            let rest = capitalize(rest.trim().trim_end_matches('.'));
            let price = if f.was().is_some() {
                format!("now {price}")
            } else {
                price.to_string()
            };
            if !rest.is_empty() {
                c.push(Some(format!("{rest}. {}, {price}.", the(name, true))));
            }
        }
    }
    if let Some(was) = f.was() {
        c.push(Some(format!(
            "{}: now {price}, down from {was}.",
            the(name, true)
        )));
    }
    if let Some(feat) = f.features(2) {
        c.push(Some(format!("{}: {feat}. {price}.", the(name, true))));
    }
    c.push(Some(format!("{}, {price}.", the(name, true))));
    c
}

/// Copy for `kind` from catalog facts; `required` terms appended where they fit.
pub fn compose(
    kind: ContentKind,
    plan: &Plan,
    store: &str,
    banned: &[String],
    required: &[String],
) -> CopyFields {
    let f = facts(plan, store);
    let mut copy = CopyFields::default();
    let max = |name: &str| kind.field(name).map_or(0, |s| s.max);
    match kind {
        ContentKind::Banner => {
            copy.set("headline", pick(headline(&f), max("headline"), banned));
            copy.set("subline", pick(product_line(&f), max("subline"), banned));
            copy.set("cta", pick(vec![Some(cta(plan))], max("cta"), banned));
        }
        ContentKind::SearchAd => {
            let h1 = vec![
                f.name().map(str::to_string),
                f.p.and_then(|p| p.category.clone()),
                Some(store.to_string()),
            ];
            let h2 = vec![
                f.price()
                    .zip(f.was())
                    .map(|(p, w)| format!("Now {p}, was {w}")),
                f.was().and(f.price()).map(|p| format!("Now {p}")),
                f.p.and_then(|p| p.features.first()).map(|x| capitalize(x)),
                f.price().map(|p| format!("Just {p}")),
            ];
            // The third headline carries the plan's angle, so two visitors
            // with different angles never get the same ad.
            let mut h3 = angle_line(&f);
            h3.extend([Some(store.to_string()), f.promo_short.clone()]);
            let d1 = vec![
                f.name()
                    .zip(f.features(3))
                    .map(|(n, x)| format!("{}: {x}.", the(n, true))),
                f.name()
                    .zip(f.features(2))
                    .map(|(n, x)| format!("{}: {x}.", the(n, true))),
                f.name()
                    .zip(f.features(1))
                    .map(|(n, x)| format!("{}: {x}.", the(n, true))),
                f.name().map(|n| format!("{} from {store}.", the(n, true))),
            ];
            let mut d2 = angle_sentence(&f);
            d2.extend([
                f.price()
                    .zip(f.was())
                    .map(|(p, w)| format!("Now {p}, down from {w}. Shop {store}.")),
                f.price()
                    .zip(f.was())
                    .map(|(p, w)| format!("Now {p}, down from {w}.")),
                f.promo.map(|p| format!("{p}.")),
                f.p.and_then(|p| p.category.clone())
                    .map(|c| format!("Shop {c} at {store}.")),
                Some(format!("Shop now at {store}.")),
            ]);
            copy.set("headline_1", pick(h1, max("headline_1"), banned));
            copy.set("headline_2", pick(h2, max("headline_2"), banned));
            copy.set("headline_3", pick(h3, max("headline_3"), banned));
            copy.set("description_1", pick(d1, max("description_1"), banned));
            copy.set("description_2", pick(d2, max("description_2"), banned));
        }
        ContentKind::SocialPost => {
            copy.set("post", pick(vec![Some(post(&f))], max("post"), banned))
        }
        ContentKind::EmailSubject => copy.set("subject", pick(subject(&f), max("subject"), banned)),
        ContentKind::ProductBlurb => {
            copy.set("blurb", pick(vec![Some(blurb(&f))], max("blurb"), banned))
        }
    }
    add_required(kind, &mut copy, required);
    copy
}

/// A short headline (search-ad size) saying the plan's angle.
fn angle_line(f: &Facts) -> Vec<Option<String>> {
    match f.angle {
        Angle::CartReminder => vec![Some("Still in your cart".into())],
        Angle::SaleOnViewed => vec![Some("Now on sale".into())],
        Angle::ViewedItem => vec![Some("Take another look".into())],
        Angle::GiftIdea => vec![Some("A gift idea".into())],
        Angle::InterestMatch => vec![Some("Picked for you".into())],
        Angle::Welcome => vec![
            Some(format!("Welcome to {}", f.store)),
            Some("New here? Welcome".into()),
        ],
        Angle::Campaign | Angle::Generic | Angle::Rewrite => vec![f.promo_short.clone()],
    }
}

/// A description sentence saying the plan's angle with the product's facts.
fn angle_sentence(f: &Facts) -> Vec<Option<String>> {
    let name = f.name();
    let price = f.price();
    match f.angle {
        Angle::CartReminder => vec![
            name.zip(price)
                .map(|(n, p)| format!("{} is still in your cart at {p}.", the(n, true))),
            Some("Your cart is waiting for you.".into()),
        ],
        Angle::SaleOnViewed => vec![name.zip(price).zip(f.was()).map(|((n, p), w)| {
            format!("You looked at {}: now {p}, down from {w}.", the(n, false))
        })],
        Angle::ViewedItem => vec![name
            .zip(price)
            .map(|(n, p)| format!("Take another look at {}, {p}.", the(n, false)))],
        Angle::GiftIdea => vec![name
            .zip(price)
            .map(|(n, p)| format!("A gift idea from {}: {}, {p}.", f.store, the(n, false)))],
        Angle::InterestMatch => vec![name
            .zip(price)
            .map(|(n, p)| format!("Picked for you: {}, {p}.", the(n, false)))],
        Angle::Welcome => vec![
            f.promo.map(|p| format!("Welcome to {}. {p}.", f.store)),
            Some(format!("Welcome to {}.", f.store)),
        ],
        Angle::Campaign | Angle::Generic | Angle::Rewrite => vec![f.promo.map(|p| format!("{p}."))],
    }
}

fn hook(f: &Facts) -> Option<String> {
    let formal = f.formal();
    Some(match f.angle {
        Angle::CartReminder => "Still thinking it over?".to_string(),
        Angle::SaleOnViewed => if formal {
            "Good news: it is now on sale."
        } else {
            "Good news: it's on sale."
        }
        .to_string(),
        Angle::ViewedItem => "Still on your mind?".to_string(),
        Angle::GiftIdea => "Looking for a gift?".to_string(),
        Angle::InterestMatch => "Picked for you.".to_string(),
        Angle::Campaign | Angle::Generic | Angle::Rewrite => {
            return f.promo.map(|p| format!("{p}."))
        }
        Angle::Welcome => format!("Welcome to {}.", f.store),
    })
}

fn post(f: &Facts) -> String {
    let mut parts: Vec<String> = Vec::new();
    parts.extend(hook(f));
    if let Some(name) = f.name() {
        match f.features(3) {
            Some(x) => parts.push(format!("{}: {x}.", the(name, true))),
            None => parts.push(format!("{}.", the(name, true))),
        }
    }
    match (f.price(), f.was()) {
        (Some(p), Some(w)) => parts.push(format!("Now {p}, down from {w}.")),
        (Some(p), None) => parts.push(format!("{p}.")),
        _ => {}
    }
    if !matches!(f.angle, Angle::Campaign | Angle::Generic) {
        parts.extend(f.promo.map(|p| format!("{p}.")));
    }
    if parts.is_empty() {
        parts.push(format!("{}.", f.store));
    }
    // Whole sentences only, up to the limit.
    let mut out = String::new();
    for p in parts {
        let next = if out.is_empty() {
            p.clone()
        } else {
            format!("{out} {p}")
        };
        if perceived_len(&next) > ContentKind::SocialPost.fields()[0].max {
            break;
        }
        out = next;
    }
    out
}

fn subject(f: &Facts) -> Vec<Option<String>> {
    let name = f.name();
    let mut c = match f.angle {
        Angle::CartReminder => vec![
            name.map(|n| format!("Your {n} is still in your cart")),
            name.map(|n| format!("Still in your cart: {n}")),
            Some("Your cart is waiting".into()),
        ],
        Angle::SaleOnViewed => vec![
            name.zip(f.price()).map(|(n, p)| format!("{n}, now {p}")),
            f.price().map(|p| format!("Now {p}: the one you looked at")),
        ],
        Angle::ViewedItem => vec![
            name.map(|n| format!("Take another look at {}", the(n, false))),
            Some("Take another look".into()),
        ],
        Angle::GiftIdea => vec![
            name.map(|n| format!("Gift idea: {}", the(n, false))),
            Some("A gift idea for you".into()),
        ],
        Angle::InterestMatch => vec![
            name.map(|n| format!("{}, picked for you", the(n, true))),
            Some("Picked for you".into()),
        ],
        Angle::Campaign | Angle::Generic | Angle::Rewrite => vec![
            f.promo_short
                .as_ref()
                .map(|p| format!("{p} at {}", f.store)),
            f.promo_short.clone(),
        ],
        Angle::Welcome => vec![
            Some(format!("Welcome to {}", f.store)),
            Some("Welcome".into()),
        ],
    };
    c.push(name.map(str::to_string));
    c.push(Some(format!("News from {}", f.store)));
    c
}

fn blurb(f: &Facts) -> String {
    let mut parts = Vec::new();
    // The angle opens the blurb; store-wide angles state the promotion last.
    if !matches!(f.angle, Angle::Campaign | Angle::Generic | Angle::Rewrite) {
        parts.extend(hook(f));
    }
    if let Some(name) = f.name() {
        match f.features(3) {
            Some(x) => parts.push(format!("{} brings {x}.", the(name, true))),
            None => parts.push(format!("{}.", the(name, true))),
        }
    }
    match (f.price(), f.was()) {
        (Some(p), Some(w)) => parts.push(format!("Now {p}, down from {w}.")),
        (Some(p), None) => parts.push(format!("{p}.")),
        _ => {}
    }
    parts.extend(f.promo.map(|p| format!("{p}.")));
    if parts.is_empty() {
        parts.push(format!("{}.", f.store));
    }
    parts.join(" ")
}

/// Appends each missing required term to the roomiest text field (also a
/// repair of model copy, job.rs).
pub fn add_required(kind: ContentKind, copy: &mut CopyFields, required: &[String]) {
    // Longer, descriptive fields first; a headline or CTA only as a last resort.
    const PREFERENCE: &[&str] = &[
        "post",
        "blurb",
        "subject",
        "subline",
        "description_2",
        "description_1",
        "headline_3",
        "headline",
    ];
    for term in required {
        if phrases::find(&copy.joined(), term, true).is_some() {
            continue;
        }
        for name in PREFERENCE.iter().filter(|n| kind.field(n).is_some()) {
            let (Some(text), Some(spec)) = (copy.get(name), kind.field(name)) else {
                continue;
            };
            let trimmed = text.trim_end();
            let appended = match trimmed.strip_suffix('.') {
                Some(body) => format!("{body} – {term}."),
                None => format!("{trimmed} – {term}"),
            };
            if perceived_len(&appended) <= spec.max {
                copy.set(name, appended);
                break;
            }
        }
    }
}
