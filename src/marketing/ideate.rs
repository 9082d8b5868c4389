//! Ideate: decide what to say. Every in-stock product is scored from the
//! visitor's signals (cart, views, interests, searches, budget, campaign,
//! purchases, time of day) and the store's (sale, goal, stock); the best one
//! is featured, the angle and story frame follow from the signals that won,
//! and the plan records those signals with their weights and a plain-language
//! `why`. Deterministic: the same inputs give the same plan (ties go to
//! catalog order). Without consent only store signals exist.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::catalog::{Catalog, Product, Promotion};
use super::date::Instant;
use super::kinds::ContentKind;
use super::money::{self, ClaimKind};
use super::profile::{Device, Profile};
use super::request::Tone;
use super::sanitize::quote;
use super::text::{is_stopword, stem, words};

/// Signal weights, in one place. A product's score is the sum of its signals.
pub mod weights {
    /// In the cart (the strongest intent).
    pub const CART: f32 = 3.0;
    /// Extra when the cart item was added more than an hour before "now".
    pub const CART_ABANDONED: f32 = 0.5;
    /// A viewed product: base plus per view (up to 5 views), decayed by age.
    pub const VIEW_BASE: f32 = 0.6;
    pub const VIEW_EACH: f32 = 0.2;
    /// Half-life of view recency, in days.
    pub const VIEW_HALF_LIFE_DAYS: f64 = 14.0;
    /// Interest whose topic is the product's category, times the interest weight.
    pub const INTEREST_CATEGORY: f32 = 1.5;
    /// Interest matching product words partially, times weight and overlap.
    pub const INTEREST_WORDS: f32 = 1.0;
    /// Search overlap with product words (fraction of search words).
    pub const SEARCH: f32 = 1.2;
    /// Price within a budget stated in a search ("under $50").
    pub const BUDGET: f32 = 0.4;
    /// Referrer campaign words matching the product.
    pub const CAMPAIGN: f32 = 1.0;
    /// The request's goal matching the product (store signal).
    pub const GOAL: f32 = 1.0;
    /// On sale, scaled by discount / 25 % (capped at 1.5×) (store signal).
    pub const SALE: f32 = 0.4;
    /// On sale while the goal or campaign asks for a sale.
    pub const SALE_INTENT: f32 = 0.3;
    /// Stock as a best-seller proxy: this times log10(stock + 1) / 3.
    pub const STOCK: f32 = 0.1;
    /// Bought within `RECENT_PURCHASE_DAYS` (or undated): do not push it again.
    pub const PURCHASED_RECENTLY: f32 = -4.0;
    pub const PURCHASED: f32 = -1.5;
    pub const RECENT_PURCHASE_DAYS: f64 = 90.0;
    /// Evening or night visit and a product tagged for the night.
    pub const DAYPART: f32 = 0.3;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Angle {
    /// The featured item waits in the visitor's cart.
    CartReminder,
    /// A product the visitor viewed is on sale.
    SaleOnViewed,
    /// A product the visitor viewed.
    ViewedItem,
    /// The visitor is shopping for a gift.
    GiftIdea,
    /// Matches the visitor's interests or searches.
    InterestMatch,
    /// The visitor arrived through a campaign the store runs.
    Campaign,
    /// A first visit: welcome, store-wide offer.
    Welcome,
    /// No personal signal: store-wide promotion and best item.
    Generic,
    /// Rewriting existing copy.
    Rewrite,
}

impl Angle {
    /// The instruction the prompt gives for this angle.
    pub fn brief(self) -> &'static str {
        match self {
            Angle::CartReminder => "remind the visitor that this item is still in their cart",
            Angle::SaleOnViewed => "the visitor looked at this item and it is now on sale",
            Angle::ViewedItem => "the visitor looked at this item; invite them back to it",
            Angle::GiftIdea => "suggest this item as a gift",
            Angle::InterestMatch => "this item matches what the visitor likes",
            Angle::Campaign => "welcome the visitor to the store's current promotion",
            Angle::Welcome => "welcome a first-time visitor to the store",
            Angle::Generic => "introduce the store's current offer",
            Angle::Rewrite => "rewrite the copy",
        }
    }
}

/// Story frame the copy follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Frame {
    /// Attention, Interest, Desire, Action.
    #[serde(rename = "AIDA")]
    Aida,
    /// Problem, Agitate, Solution.
    #[serde(rename = "PAS")]
    Pas,
    /// Features, Advantages, Benefits.
    #[serde(rename = "FAB")]
    Fab,
    /// Before, After, Bridge.
    #[serde(rename = "BAB")]
    Bab,
}

impl Frame {
    /// A one-line structure hint short enough for a small model.
    pub fn hint(self) -> &'static str {
        match self {
            Frame::Aida => "grab attention, spark interest, end with a clear call to action",
            Frame::Pas => "name the visitor's need, then offer this item as the answer",
            Frame::Fab => "name a feature, then the benefit it brings",
            Frame::Bab => "picture life after getting it, then show how to get there",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    /// cart, viewed, interest, search, budget, campaign, purchased, visits,
    /// daypart, device, goal, sale, stock.
    pub kind: &'static str,
    /// Where it came from: a profile field path, `request.goal` or `catalog`.
    pub source: String,
    /// What it says, for people.
    pub detail: String,
    /// The product it scored, if any.
    pub sku: Option<String>,
    /// Its contribution to that product's score.
    pub weight: f32,
    /// Read from the visitor's data (false for store signals).
    pub personal: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeaturedProduct {
    pub sku: String,
    pub name: String,
    pub category: Option<String>,
    /// Formatted in the catalog currency.
    pub price: String,
    pub sale_price: Option<String>,
    /// Rounded discount in percent, when on sale.
    pub discount_percent: Option<u32>,
    pub features: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanPromotion {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    pub sku: String,
    pub score: f32,
}

/// What to say and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// A personal signal shaped this plan.
    pub personalized: bool,
    pub angle: Angle,
    pub frame: Frame,
    /// Featured SKUs, most important first.
    pub featured: Vec<String>,
    pub products: Vec<FeaturedProduct>,
    pub promotion: Option<PlanPromotion>,
    /// Catalog and goal words the copy should use.
    pub keywords: Vec<String>,
    /// Signals behind the featured items and angle, strongest first.
    pub signals: Vec<Signal>,
    /// The best-scoring products (up to 3).
    pub ranking: Vec<Ranked>,
    /// One sentence for a "why you see this" panel.
    pub why: String,
    /// One sanitized phrase of the visitor's own (a search or interest), quoted
    /// in the prompt as data.
    pub visitor_phrase: Option<String>,
    pub goal: Option<String>,
    pub tone: Tone,
    pub language: String,
    /// Prefer shorter copy (small screen).
    pub prefer_short: bool,
}

/// What ideation reads besides the profile.
pub struct IdeateInput<'a> {
    pub catalog: &'a Catalog,
    pub profile: &'a Profile,
    pub goal: Option<&'a str>,
    pub today: Option<Instant>,
    pub kind: ContentKind,
    pub tone: Tone,
    pub language: &'a str,
}

/// Words that ask for a discount rather than a topic.
const SALE_WORDS: &[&str] = &[
    "sale",
    "deal",
    "deals",
    "discount",
    "discounts",
    "offer",
    "offers",
    "markdown",
    "clearance",
    "promo",
];

fn content_stems(text: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    words(text)
        .into_iter()
        .filter(|w| !is_stopword(w) && !SALE_WORDS.contains(&w.as_str()))
        .map(|w| stem(&w))
        .filter(|s| seen.insert(s.clone()))
        .collect()
}

fn asks_for_sale(text: &str) -> bool {
    words(text).iter().any(|w| SALE_WORDS.contains(&w.as_str()))
}

/// A product's matchable words: stems of name, category and tags, mapped to
/// the catalog's own spelling (for keywords).
struct ProductWords {
    stems: HashMap<String, String>,
    category: String,
    gift: bool,
    night: bool,
}

fn product_words(p: &Product) -> ProductWords {
    let mut stems = HashMap::new();
    let sources = std::iter::once(p.name.as_str())
        .chain(p.category.as_deref())
        .chain(p.tags.iter().map(String::as_str));
    for text in sources {
        for w in words(text) {
            if !is_stopword(&w) && w.chars().any(char::is_alphabetic) {
                stems.entry(stem(&w)).or_insert(w);
            }
        }
    }
    let gift = stems.contains_key(&stem("gift"));
    let night = p.tags.iter().any(|t| words(t).iter().any(|w| w == "night"));
    ProductWords {
        stems,
        category: p
            .category
            .as_deref()
            .map(normalize_topic)
            .unwrap_or_default(),
        gift,
        night,
    }
}

fn normalize_topic(s: &str) -> String {
    words(s).join(" ")
}

/// Fraction of `query` stems found in the product, and the matched catalog words.
fn overlap(query: &[String], pw: &ProductWords) -> (f32, Vec<String>) {
    if query.is_empty() {
        return (0.0, Vec::new());
    }
    let hits: Vec<String> = query
        .iter()
        .filter_map(|q| pw.stems.get(q).cloned())
        .collect();
    (hits.len() as f32 / query.len() as f32, hits)
}

/// A budget a search states: "under $50", "below 40 euros", "less than $30".
fn budget(search: &str) -> Option<i64> {
    let lower = search.to_lowercase();
    let claims = money::extract(search);
    for c in claims {
        if let ClaimKind::Money { cents, .. } = c.kind {
            let at = lower.find(&c.text.to_lowercase())?;
            let before = lower[..at].trim_end();
            if ["under", "below", "less than", "max", "up to", "within", "<"]
                .iter()
                .any(|w| before.ends_with(w))
            {
                return Some(cents);
            }
        }
    }
    None
}

fn daypart(t: Instant) -> &'static str {
    match t.hour() {
        5..=11 => "morning",
        12..=17 => "afternoon",
        18..=21 => "evening",
        _ => "night",
    }
}

struct Scored {
    index: usize,
    score: f32,
    signals: Vec<Signal>,
    keywords: Vec<String>,
    gift_match: bool,
    best_phrase: Option<(f32, String)>,
}

impl Scored {
    fn add(&mut self, s: Signal) {
        self.score += s.weight;
        self.signals.push(s);
    }
}

pub fn ideate(input: &IdeateInput) -> Plan {
    let IdeateInput {
        catalog,
        profile,
        goal,
        today,
        kind,
        tone,
        language,
    } = *input;
    let personal = profile.consent;
    let now = today.or_else(|| {
        if personal {
            profile.latest_instant()
        } else {
            None
        }
    });
    let goal_stems = goal.map(content_stems).unwrap_or_default();
    let goal_sale = goal.is_some_and(asks_for_sale);

    let campaign = profile
        .referrer
        .as_ref()
        .and_then(|r| r.campaign.as_ref())
        .filter(|_| personal);
    let campaign_stems = campaign.map(|c| content_stems(&c.text)).unwrap_or_default();
    let campaign_sale = campaign.is_some_and(|c| asks_for_sale(&c.text));
    let interests: Vec<_> = profile
        .interests
        .iter()
        .map(|i| {
            (
                i,
                normalize_topic(&i.topic.text),
                content_stems(&i.topic.text),
            )
        })
        .collect();
    let searches: Vec<_> = profile
        .searches
        .iter()
        .map(|s| (s, content_stems(&s.text), budget(&s.text)))
        .collect();
    let gift_intent = interests
        .iter()
        .any(|(_, _, st)| st.contains(&stem("gift")))
        || searches.iter().any(|(_, st, _)| st.contains(&stem("gift")));
    let viewed: HashMap<&str, _> = profile.viewed.iter().map(|v| (v.sku.as_str(), v)).collect();
    let cart: HashMap<&str, _> = profile.cart.iter().map(|c| (c.sku.as_str(), c)).collect();
    let purchased: HashMap<&str, _> = profile
        .purchased
        .iter()
        .map(|p| (p.sku.as_str(), p))
        .collect();
    let part = if personal {
        profile.local_time.map(daypart)
    } else {
        None
    };

    let mut scored: Vec<Scored> = Vec::new();
    for (index, p) in catalog.products.iter().enumerate() {
        if !p.in_stock() {
            continue;
        }
        let pw = product_words(p);
        let mut s = Scored {
            index,
            score: 0.0,
            signals: Vec::new(),
            keywords: Vec::new(),
            gift_match: false,
            best_phrase: None,
        };
        let sku = Some(p.sku.clone());
        let sig = |kind, source: String, detail: String, weight: f32, personal: bool| Signal {
            kind,
            source,
            detail,
            sku: sku.clone(),
            weight,
            personal,
        };

        // Store signals.
        if let Some(d) = p.discount_percent() {
            let w = weights::SALE * ((d / 25.0) as f32).min(1.5);
            s.add(sig(
                "sale",
                "catalog".into(),
                format!("on sale, {}% off", d.round()),
                w,
                false,
            ));
            if goal_sale || campaign_sale {
                s.add(sig(
                    "sale",
                    if goal_sale {
                        "request.goal".into()
                    } else {
                        "profile.referrer.campaign".into()
                    },
                    "a sale was asked for".into(),
                    weights::SALE_INTENT,
                    !goal_sale,
                ));
            }
        }
        if let Some(stock) = p.stock {
            s.score += weights::STOCK * ((stock as f32 + 1.0).log10() / 3.0);
        }
        let (g, hits) = overlap(&goal_stems, &pw);
        if g > 0.0 {
            s.add(sig(
                "goal",
                "request.goal".into(),
                format!("matches the goal ({})", hits.join(", ")),
                weights::GOAL * g,
                false,
            ));
            s.keywords.extend(hits);
        }
        if personal {
            if let Some(c) = cart.get(p.sku.as_str()) {
                let abandoned = match (c.added, now) {
                    (Some(added), Some(now)) => added.days_until(now) > 1.0 / 24.0,
                    _ => false,
                };
                let w = weights::CART
                    + if abandoned {
                        weights::CART_ABANDONED
                    } else {
                        0.0
                    };
                s.add(sig(
                    "cart",
                    c.source.clone(),
                    if abandoned {
                        "left in the cart".into()
                    } else {
                        "in the cart".into()
                    },
                    w,
                    true,
                ));
            }
            if let Some(v) = viewed.get(p.sku.as_str()) {
                if v.count > 0 {
                    let age = match (v.last, now) {
                        (Some(last), Some(now)) => last.days_until(now).max(0.0),
                        _ => 0.0,
                    };
                    let decay = 0.5f64.powf(age / weights::VIEW_HALF_LIFE_DAYS).max(0.25) as f32;
                    let w =
                        (weights::VIEW_BASE + weights::VIEW_EACH * v.count.min(5) as f32) * decay;
                    let times = if v.count == 1 {
                        "once".to_string()
                    } else {
                        format!("{} times", v.count)
                    };
                    s.add(sig(
                        "viewed",
                        v.source.clone(),
                        format!("viewed {times}"),
                        w,
                        true,
                    ));
                }
            }
            if let Some(b) = purchased.get(p.sku.as_str()) {
                let recent = match (b.date, now) {
                    (Some(d), Some(now)) => d.days_until(now) <= weights::RECENT_PURCHASE_DAYS,
                    _ => true,
                };
                let w = if recent {
                    weights::PURCHASED_RECENTLY
                } else {
                    weights::PURCHASED
                };
                s.add(sig(
                    "purchased",
                    b.source.clone(),
                    "already bought".into(),
                    w,
                    true,
                ));
            }
            for (interest, topic, stems) in &interests {
                let (w, hits) = if !pw.category.is_empty() && *topic == pw.category {
                    (
                        weights::INTEREST_CATEGORY * interest.weight as f32,
                        vec![p.category.clone().unwrap_or_default()],
                    )
                } else {
                    let (o, hits) = overlap(stems, &pw);
                    (weights::INTEREST_WORDS * interest.weight as f32 * o, hits)
                };
                if w > 0.0 {
                    if pw.gift && stems.contains(&stem("gift")) {
                        s.gift_match = true;
                    }
                    s.add(sig(
                        "interest",
                        interest.topic.source.clone(),
                        format!("interested in {}", quote(&interest.topic.text)),
                        w,
                        true,
                    ));
                    s.keywords.extend(hits);
                    if s.best_phrase.as_ref().is_none_or(|(bw, _)| w > *bw) {
                        s.best_phrase = Some((w, interest.topic.text.clone()));
                    }
                }
            }
            for (search, stems, budget_cents) in &searches {
                let (o, hits) = overlap(stems, &pw);
                if o > 0.0 {
                    let w = weights::SEARCH * o;
                    if pw.gift && stems.contains(&stem("gift")) {
                        s.gift_match = true;
                    }
                    s.add(sig(
                        "search",
                        search.source.clone(),
                        format!("searched for {}", quote(&search.text)),
                        w,
                        true,
                    ));
                    s.keywords.extend(hits);
                    if s.best_phrase.as_ref().is_none_or(|(bw, _)| w > *bw) {
                        s.best_phrase = Some((w, search.text.clone()));
                    }
                }
                if let Some(b) = budget_cents {
                    if p.current_price() <= *b {
                        let detail = format!("within the budget in {}", quote(&search.text));
                        s.add(sig(
                            "budget",
                            search.source.clone(),
                            detail,
                            weights::BUDGET,
                            true,
                        ));
                    }
                }
            }
            let (c, hits) = overlap(&campaign_stems, &pw);
            if c > 0.0 {
                if let Some(camp) = campaign {
                    s.add(sig(
                        "campaign",
                        camp.source.clone(),
                        format!("arrived from the {} campaign", quote(&camp.text)),
                        weights::CAMPAIGN * c,
                        true,
                    ));
                    s.keywords.extend(hits);
                }
            }
            if matches!(part, Some("evening" | "night")) && pw.night {
                s.add(sig(
                    "daypart",
                    "profile.context.local_time".into(),
                    format!("visiting in the {}", part.unwrap_or("night")),
                    weights::DAYPART,
                    true,
                ));
            }
        }
        scored.push(s);
    }
    // Highest score first; ties keep catalog order (stable sort).
    scored.sort_by(|a, b| b.score.total_cmp(&a.score));

    let ranking: Vec<Ranked> = scored
        .iter()
        .take(3)
        .map(|s| Ranked {
            sku: catalog.products[s.index].sku.clone(),
            score: round2(s.score),
        })
        .collect();
    let Some(primary) = scored.first() else {
        // Every product is out of stock: nothing to feature.
        return empty_plan(input, ranking);
    };
    let p = &catalog.products[primary.index];
    let personal_signal = primary.signals.iter().any(|s| s.personal && s.weight > 0.0);
    let in_cart = personal && cart.contains_key(p.sku.as_str());
    let was_viewed = personal && viewed.contains_key(p.sku.as_str());
    let matched = primary
        .signals
        .iter()
        .any(|s| matches!(s.kind, "interest" | "search") && s.weight > 0.0);
    let campaign_hit = primary.signals.iter().any(|s| s.kind == "campaign");
    let first_visit = personal && profile.visit_count.is_some_and(|c| c <= 1);

    let angle = if in_cart {
        Angle::CartReminder
    } else if gift_intent && primary.gift_match {
        Angle::GiftIdea
    } else if was_viewed && p.sale_price.is_some() {
        Angle::SaleOnViewed
    } else if was_viewed {
        Angle::ViewedItem
    } else if matched {
        Angle::InterestMatch
    } else if campaign_hit || (campaign.is_some() && personal_signal) {
        Angle::Campaign
    } else if first_visit {
        Angle::Welcome
    } else {
        Angle::Generic
    };
    let frame = if kind == ContentKind::ProductBlurb {
        Frame::Fab
    } else {
        match angle {
            Angle::CartReminder
            | Angle::Campaign
            | Angle::Welcome
            | Angle::Generic
            | Angle::Rewrite => Frame::Aida,
            Angle::SaleOnViewed => Frame::Pas,
            Angle::ViewedItem | Angle::InterestMatch => Frame::Fab,
            Angle::GiftIdea => Frame::Bab,
        }
    };

    let mut featured = vec![primary];
    if angle == Angle::CartReminder {
        if let Some(second) = scored
            .iter()
            .skip(1)
            .find(|s| cart.contains_key(catalog.products[s.index].sku.as_str()))
        {
            featured.push(second);
        }
    }
    let promotion = choose_promotion(
        catalog,
        today.or(now),
        &goal_stems,
        &campaign_stems,
        p,
        angle,
    );

    let mut signals: Vec<Signal> = featured
        .iter()
        .flat_map(|s| s.signals.iter().cloned())
        .collect();
    if first_visit {
        signals.push(Signal {
            kind: "visits",
            source: "profile.visits.count".into(),
            detail: "first visit".into(),
            sku: None,
            weight: 0.0,
            personal: true,
        });
    }
    let prefer_short = personal && profile.device == Some(Device::Mobile);
    if prefer_short {
        signals.push(Signal {
            kind: "device",
            source: "profile.context.device".into(),
            detail: "on a phone: shorter copy preferred".into(),
            sku: None,
            weight: 0.0,
            personal: true,
        });
    }
    signals.sort_by(|a, b| b.weight.abs().total_cmp(&a.weight.abs()));
    for s in &mut signals {
        s.weight = round2(s.weight);
    }
    let personalized = personal
        && (personal_signal || first_visit || campaign.is_some() && angle == Angle::Campaign);

    let mut keywords: Vec<String> = Vec::new();
    let mut push_kw = |w: &str| {
        let w = w.to_lowercase();
        if !w.is_empty() && !keywords.contains(&w) && keywords.len() < 5 {
            keywords.push(w);
        }
    };
    if let Some(goal) = goal {
        for w in words(goal).iter().filter(|w| !is_stopword(w)) {
            push_kw(w);
        }
    }
    for k in &primary.keywords {
        push_kw(k);
    }
    for t in &p.tags {
        push_kw(t);
    }

    let visitor_phrase = if personalized {
        primary.best_phrase.as_ref().map(|(_, t)| t.clone())
    } else {
        None
    };
    let products: Vec<FeaturedProduct> = featured
        .iter()
        .map(|s| featured_product(&catalog.products[s.index], catalog, language))
        .collect();
    let why = explain(
        &products[0],
        angle,
        &signals,
        personal,
        profile.has_signals(),
        goal,
    );
    Plan {
        personalized,
        angle,
        frame,
        featured: products.iter().map(|f| f.sku.clone()).collect(),
        products,
        promotion,
        keywords,
        signals,
        ranking,
        why,
        visitor_phrase,
        goal: goal.map(str::to_string),
        tone,
        language: language.to_string(),
        prefer_short,
    }
}

fn round2(x: f32) -> f32 {
    (x * 100.0).round() / 100.0
}

pub fn featured_product(p: &Product, catalog: &Catalog, language: &str) -> FeaturedProduct {
    FeaturedProduct {
        sku: p.sku.clone(),
        name: p.name.clone(),
        category: p.category.clone(),
        price: catalog.format_price(p.price, language),
        sale_price: p.sale_price.map(|s| catalog.format_price(s, language)),
        discount_percent: p.discount_percent().map(|d| d.round() as u32),
        features: p.features.iter().take(3).cloned().collect(),
    }
}

fn choose_promotion(
    catalog: &Catalog,
    today: Option<Instant>,
    goal: &[String],
    campaign: &[String],
    featured: &Product,
    angle: Angle,
) -> Option<PlanPromotion> {
    let active: Vec<&Promotion> = catalog
        .promotions
        .iter()
        .filter(|p| p.active(today))
        .collect();
    let score = |p: &Promotion| {
        let stems: HashSet<String> = words(&format!("{} {}", p.text, p.id))
            .iter()
            .map(|w| stem(w))
            .collect();
        let hit = |q: &[String]| q.iter().filter(|w| stems.contains(*w)).count() as f32;
        let threshold_met = money::extract(&p.text).iter().any(|c| matches!(c.kind, ClaimKind::Money { cents, .. } if featured.current_price() >= cents));
        2.0 * hit(goal) + 1.5 * hit(campaign) + if threshold_met { 0.5 } else { 0.0 }
    };
    let best = active.iter().map(|p| (score(p), *p)).fold(
        None,
        |acc: Option<(f32, &Promotion)>, (s, p)| match acc {
            Some((bs, _)) if bs >= s => acc,
            _ => Some((s, p)),
        },
    );
    let store_wide = matches!(angle, Angle::Generic | Angle::Welcome | Angle::Campaign);
    match best {
        Some((s, p)) if s > 0.0 || store_wide => Some(PlanPromotion {
            id: p.id.clone(),
            text: p.text.clone(),
        }),
        _ => None,
    }
}

fn explain(
    p: &FeaturedProduct,
    angle: Angle,
    signals: &[Signal],
    consent: bool,
    has_signals: bool,
    goal: Option<&str>,
) -> String {
    if !consent {
        return format!(
            "General copy featuring the {}: personalization is off, so nothing about you was used.",
            p.name
        );
    }
    let mut reasons: Vec<String> = Vec::new();
    for s in signals
        .iter()
        .filter(|s| s.personal && s.weight >= 0.0 && s.sku.as_deref().is_none_or(|k| k == p.sku))
    {
        let r = match s.kind {
            "cart" => "it is in your cart".to_string(),
            "viewed" => format!("you {}", s.detail.replace("viewed", "viewed it")),
            "interest" => format!("you are {}", s.detail),
            "search" | "campaign" => format!("you {}", s.detail),
            "budget" => "it fits the budget you searched for".to_string(),
            "visits" => "this is your first visit".to_string(),
            "daypart" => format!("you are {}", s.detail),
            _ => continue,
        };
        if !reasons.contains(&r) {
            reasons.push(r);
        }
        if reasons.len() == 3 {
            break;
        }
    }
    if let Some(d) = p.discount_percent {
        if reasons.len() < 4 && angle != Angle::Generic {
            reasons.push(format!("it is on sale ({d}% off)"));
        }
    }
    if reasons.is_empty() {
        let base = if has_signals {
            "nothing in your visit pointed elsewhere"
        } else {
            "we know nothing about you yet"
        };
        return match goal {
            Some(g) => format!(
                "General copy featuring the {} for the store's {}: {base}.",
                p.name,
                quote(g)
            ),
            None => format!("General copy featuring the {}: {base}.", p.name),
        };
    }
    let list = match reasons.len() {
        1 => reasons[0].clone(),
        n => format!("{} and {}", reasons[..n - 1].join(", "), reasons[n - 1]),
    };
    format!("You see the {} because {list}.", p.name)
}

fn empty_plan(input: &IdeateInput, ranking: Vec<Ranked>) -> Plan {
    Plan {
        personalized: false,
        angle: Angle::Generic,
        frame: Frame::Aida,
        featured: Vec::new(),
        products: Vec::new(),
        promotion: input
            .catalog
            .promotions
            .iter()
            .find(|p| p.active(input.today))
            .map(|p| PlanPromotion {
                id: p.id.clone(),
                text: p.text.clone(),
            }),
        keywords: Vec::new(),
        signals: Vec::new(),
        ranking,
        why: "General store copy: no product is in stock.".into(),
        visitor_phrase: None,
        goal: input.goal.map(str::to_string),
        tone: input.tone,
        language: input.language.to_string(),
        prefer_short: false,
    }
}
