//! Facts: every price, percentage, number, product name, offer and link in a
//! piece of copy is held against the catalog. The rules:
//!
//! - **Amounts** must be in the catalog currency and equal a regular price,
//!   sale price, saving (price − sale price) or an amount its features state,
//!   of a product *in scope* — the
//!   featured products plus any product the copy names — or an amount in an
//!   active promotion's text. "$79" on a trail-runner banner fails even though
//!   the yoga mat costs $79.
//!   "now $X", "on sale for $X" must be a current price; "was $X", "down
//!   from $X" a regular one.
//! - **Percentages** must equal the discount of an in-scope product on sale,
//!   rounded or rounded down (23.3 % → 23 %), or appear in promotion or
//!   product text. "up to N %" may also use the largest discount in the
//!   catalog. "half price" counts as 50 %.
//! - **Bare numbers** must appear in the text of an in-scope product (name,
//!   features, tags), of an active promotion (or its end date), the store
//!   name or the goal ("32 pages" fails even if something costs 32). "Sleeps 4" fails for the
//!   2-person tent even though the yoga mat is 4 mm thick.
//! - **Quantities**: a number with a unit after it ("12-day", "3 layers",
//!   "28 litres") must come with that unit in the same texts: the Winter
//!   Sale ending on the 12th does not make a "12-day sale".
//! - **Names**: a run of two or more capitalized words that ends like a
//!   product or an event ("… Jacket", "… Sale", "… Pro", "Black Friday") and
//!   holds a word the catalog does not know, or holds a model number, must be
//!   a phrase from a catalog name, category or promotion. A run naming the
//!   store or a word unique to one product ("Northwind Yoga Mat") must be a
//!   catalog phrase or a shortened real name ("Ridgeline Runner"). Letter-then-digit
//!   codes ("X200") must be catalog words. "Conquer Every Trail" passes;
//!   "Glacier Pro Jacket" does not.
//! - **Features**: a multi-word feature of a product outside the copy's
//!   scope ("Vibram outsole" on a tent banner) fails, unless an in-scope
//!   product has it too.
//! - **Claims** no catalog field can back ("best-seller", "award-winning",
//!   "limited time", "reviewed", "eco-friendly", "recycled") fail unless
//!   catalog text says them.
//! - **Events**: "Summer Sale", "Black Friday" must be the catalog's own.
//! - **Sale status**: copy about a product on sale must not deny the sale
//!   ("no longer on sale", "the sale has ended").
//! - **Offers**: "free …" must be followed by a word that follows "free" in
//!   the catalog ("free shipping"), and a promotion with an amount in it is
//!   stated with that amount ("free shipping" alone is more than "free
//!   shipping on orders over $75"); "buy one get one", "BOGO" and promotion
//!   codes ("SAVE20") must appear in the catalog.
//! - **Links**: URLs and domain names must be catalog product URLs.

use std::collections::{HashMap, HashSet};

use super::catalog::{Catalog, Product};
use super::date::Instant;
use super::lexicon;
use super::money::{self, ClaimKind};
use super::text::{is_common_word, is_stopword, is_word_char, stem, words};

/// One fact the copy gets wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// price, currency, percent, number, name, offer, link.
    pub rule: &'static str,
    /// The offending text as it appears in the copy.
    pub span: String,
    pub detail: String,
}

/// Word endings that make a capitalized run look like a product name.
const NAME_ENDINGS: &[&str] = &[
    "pro",
    "max",
    "plus",
    "ultra",
    "lite",
    "edition",
    "series",
    "collection",
    "model",
    "product",
    "products",
    "line",
    "kit",
    "set",
    "pack",
    "bundle",
];

/// Words that end the name of a sales event ("Summer Sale", "Black Friday").
const EVENT_ENDINGS: &[&str] = &[
    "sale",
    "sales",
    "event",
    "deal",
    "deals",
    "offer",
    "offers",
    "promotion",
    "friday",
    "monday",
    "days",
    "weekend",
];

/// Words that may precede an event word without naming an event ("Big Sale").
const GENERIC_EVENT_WORDS: &[&str] = &[
    "big",
    "great",
    "huge",
    "special",
    "new",
    "our",
    "the",
    "this",
    "your",
    "shop",
    "on",
    "a",
    "top",
    "best",
    "exclusive",
];

/// Claims no catalog field can back: social proof, awards, invented urgency.
/// Allowed only when catalog text says them.
// Spaces and hyphens match each other (phrases.rs), so "best seller" is
// covered by "best-seller".
const UNVERIFIABLE: &[&str] = &[
    "best-seller",
    "bestseller",
    "best-selling",
    "award-winning",
    "#1",
    "number one",
    "top-rated",
    "highly rated",
    // Also "reviews", "reviewed" (phrases.rs inflections).
    "review",
    "praised",
    "recommended by",
    "as seen on",
    "clinically",
    "certified",
    "limited-time",
    "today only",
    "ends tonight",
    "last chance",
    "selling fast",
    "almost gone",
    "only a few left",
    "limited-edition",
    "only one left",
    "last one",
    "one copy left",
    "only one copy",
    // Deadlines and durations: the prompt shows no dates, so any the copy
    // states ("has been on sale for a week", "buy it tomorrow") are invented.
    "tomorrow",
    "midnight",
    "this week only",
    "this weekend only",
    "for a week",
    "for a month",
    "days left",
    "hours left",
    "popular",
    "fan favorite",
    "fan favourite",
    "customers love",
    "everyone loves",
    "loved by",
    "highest quality",
    "highest-quality",
    "fastest",
    "newest",
    "brand-new",
    "most exciting",
    "5 stars",
    "five stars",
    "the best",
    "most reliable",
    "free returns",
    "no returns",
    "easy returns",
    "warranty",
    "money-back",
    // Environmental and sourcing claims (what the catalog does not say is
    // greenwashing).
    "eco-friendly",
    "environmentally friendly",
    "planet-friendly",
    "sustainable",
    "sustainably",
    "carbon-neutral",
    "climate-neutral",
    "net zero",
    "biodegradable",
    "compostable",
    "recycled",
    "recyclable",
    "organic",
    "non-toxic",
    "plastic-free",
    "zero-waste",
    "responsibly sourced",
    "ethically sourced",
    "fair trade",
    "handmade",
];

/// Spellings of one unit, so "28 litres" matches the catalog's "28L".
const UNIT_ALIASES: &[(&str, &[&str])] = &[
    ("l", &["l", "liter", "liters", "litre", "litres", "ltr"]),
    (
        "ml",
        &[
            "ml",
            "milliliter",
            "milliliters",
            "millilitre",
            "millilitres",
        ],
    ),
    (
        "kg",
        &["kg", "kgs", "kilo", "kilos", "kilogram", "kilograms"],
    ),
    ("g", &["g", "gram", "grams"]),
    (
        "mm",
        &[
            "mm",
            "millimeter",
            "millimeters",
            "millimetre",
            "millimetres",
        ],
    ),
    (
        "cm",
        &[
            "cm",
            "centimeter",
            "centimeters",
            "centimetre",
            "centimetres",
        ],
    ),
    ("h", &["h", "hr", "hrs", "hour", "hours"]),
    ("c", &["c", "celsius"]),
];

/// Words after a number that are not its unit ("2 for 1", "31 Dec"; the
/// full month names are [`lexicon::MONTHS`]).
const NOT_UNITS: &[&str] = &[
    "off",
    "percent",
    "x",
    "st",
    "nd",
    "rd",
    "th",
    "am",
    "pm",
    "and",
    "or",
    "to",
    "for",
    "of",
    "in",
    "on",
    "at",
    "by",
    "with",
    "from",
    "now",
    "only",
    "just",
    "today",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
];

fn unit_key(word: &str) -> String {
    let w = word.to_lowercase();
    UNIT_ALIASES
        .iter()
        .find(|(_, all)| all.contains(&w.as_str()))
        .map_or_else(|| stem(&w), |(k, _)| k.to_string())
}

/// Every number followed by a unit word ("12-day", "3 layers", "28L") in
/// `t`: (number ×100, unit key, the span as written). Amounts, percentages
/// and digits glued to the end of a word ("X200") are not quantities.
fn quantities(t: &str) -> Vec<(i64, String, String)> {
    let chars: Vec<char> = t.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let glued = i > 0 && chars[i - 1].is_alphanumeric();
        let mut b = i;
        while b > 0 && chars[b - 1] == ' ' {
            b -= 1;
        }
        let money = b > 0 && matches!(chars[b - 1], '$' | '€' | '£' | '¥' | '₹');
        let start = i;
        i = money::number_end(&chars, i);
        if glued || money {
            continue;
        }
        let number: String = chars[start..i].iter().collect();
        let mut j = i;
        if j < chars.len() && matches!(chars[j], ' ' | '-') {
            j += 1;
        }
        let unit_start = j;
        while j < chars.len() && chars[j].is_alphabetic() {
            j += 1;
        }
        // "3L" and "3 layers", but not "3rd-party" glued to more word.
        if j == unit_start || chars.get(j).is_some_and(|c| c.is_ascii_digit()) {
            continue;
        }
        let unit: String = chars[unit_start..j].iter().collect();
        let lower = unit.to_lowercase();
        if NOT_UNITS.contains(&lower.as_str()) || lexicon::MONTHS.contains(&lower.as_str()) || is_stopword(&lower) {
            continue;
        }
        let Some(n) = money::parse_number(&number) else {
            continue;
        };
        out.push((
            number_key(n),
            unit_key(&unit),
            chars[start..j].iter().collect(),
        ));
    }
    out
}

/// Phrases that deny a sale (lower case, whole words): false in copy whose
/// product is on sale ([`FactSheet::check`], rule "sale").
const SALE_DENIALS: &[&str] = &[
    "no longer on sale",
    "not on sale",
    "no longer discounted",
    "sale has ended",
    "sale is over",
    "sale ended",
];

#[derive(Debug, Clone)]
struct ProductFacts {
    name_lower: String,
    name_words: Vec<String>,
    /// Multi-word features, lower case ("vibram outsole").
    features: Vec<String>,
    /// What it costs now, and its regular price (cents).
    current: i64,
    regular: i64,
    /// Numbers its name, category, features and tags state (×100).
    numbers: HashSet<i64>,
    /// (number, unit) pairs those texts state.
    quantities: HashSet<(i64, String)>,
    prices: Vec<i64>,
    discounts: Vec<f64>,
    text_percents: Vec<f64>,
}

/// Everything the fact check needs, built once per request.
#[derive(Debug, Clone)]
pub struct FactSheet {
    currency: String,
    markers: Vec<String>,
    products: Vec<ProductFacts>,
    /// Word → products whose name holds it (to find named products).
    name_index: HashMap<String, Vec<usize>>,
    /// First word of each multi-word feature → (product, feature index).
    feature_index: HashMap<String, Vec<(usize, usize)>>,
    /// Words of the store's name ("northwind", "outfitters").
    store_words: HashSet<String>,
    /// Name words that belong to exactly one product ("ridgeline").
    distinctive: HashMap<String, usize>,
    in_scope: Vec<usize>,
    promo_amounts: HashSet<i64>,
    /// The word before each promotion amount in its promotion ("over" in
    /// "orders over $75"): the amount is the promotion's only in that role.
    promo_amount_words: HashMap<i64, HashSet<String>>,
    promo_percents: Vec<f64>,
    max_discount: Option<f64>,
    /// Numbers (×100) the store name, active promotions (and their end
    /// dates) and the goal state; product numbers live per product.
    numbers: HashSet<i64>,
    /// (number, unit) pairs the store name, promotions and goal state.
    quantities: HashSet<(i64, String)>,
    /// Lower-case words the catalog, store and goal use.
    vocab: HashSet<String>,
    vocab_stems: HashSet<String>,
    /// Contiguous word sequences (2+) of catalog names, categories, promotions.
    phrases: HashSet<String>,
    /// Stems of words that end a product name or category ("tent", "jacket").
    product_nouns: HashSet<String>,
    free_followers: HashSet<String>,
    promo_codes: HashSet<String>,
    /// Offers with a money condition: the promotion's first two words and the
    /// amount ("free shipping", $75 of "Free shipping on orders over $75").
    conditional_offers: Vec<(String, i64, String)>,
    catalog_text_lower: String,
    urls: Vec<String>,
}

fn number_key(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

/// Every number a text states, including digits glued to letters ("3L", "WINTER25").
fn text_numbers(t: &str) -> Vec<i64> {
    let mut out: Vec<i64> = money::extract(t)
        .into_iter()
        .filter_map(|c| match c.kind {
            ClaimKind::Number(n) | ClaimKind::Percent { value: n, .. } => Some(number_key(n)),
            ClaimKind::Money { .. } => None,
        })
        .collect();
    // Separators stay with their digits: "8,000" is 8000, never 8.
    for part in t.split(|c: char| !c.is_ascii_digit() && c != '.' && c != ',') {
        if let Some(n) = money::parse_number(part.trim_matches(['.', ','])) {
            out.push(number_key(n));
        }
    }
    out
}

fn add_ngrams(text: &str, out: &mut HashSet<String>) {
    let w = words(text);
    for n in 2..=w.len().min(6) {
        for win in w.windows(n) {
            out.insert(win.join(" "));
        }
    }
}

fn product_facts(p: &Product) -> ProductFacts {
    let mut prices = vec![p.price];
    prices.extend(p.sale_price);
    prices.extend(p.saving());
    // Amounts the product's own text states ("any amount from €10").
    for t in p.features.iter().chain(std::iter::once(&p.name)) {
        for c in money::extract(t) {
            if let ClaimKind::Money { cents, .. } = c.kind {
                prices.push(cents);
            }
        }
    }
    let discounts = p.discount_percent().into_iter().collect();
    let text_percents = p
        .features
        .iter()
        .chain(std::iter::once(&p.name))
        .flat_map(|t| money::extract(t))
        .filter_map(|c| match c.kind {
            ClaimKind::Percent { value, .. } => Some(value),
            _ => None,
        })
        .collect();
    let numbers = std::iter::once(&p.name)
        .chain(p.category.iter())
        .chain(p.features.iter())
        .chain(p.tags.iter())
        .flat_map(|t| text_numbers(t))
        .collect();
    let quantities = std::iter::once(&p.name)
        .chain(p.category.iter())
        .chain(p.features.iter())
        .chain(p.tags.iter())
        .flat_map(|t| quantities(t))
        .map(|(n, u, _)| (n, u))
        .collect();
    ProductFacts {
        quantities,
        name_lower: p.name.to_lowercase(),
        name_words: words(&p.name),
        features: p
            .features
            .iter()
            .map(|f| words(f).join(" "))
            .filter(|f| f.contains(' ') && f.chars().count() >= 6)
            .collect(),
        current: p.current_price(),
        regular: p.price,
        numbers,
        prices,
        discounts,
        text_percents,
    }
}

impl FactSheet {
    /// `featured`: SKUs whose facts the copy may state without naming them.
    /// `extra_text`: store-approved text whose words and numbers count as
    /// known (the store and brand names, the goal).
    pub fn new(
        catalog: &Catalog,
        featured: &[String],
        today: Option<Instant>,
        extra_text: &[&str],
    ) -> FactSheet {
        let products: Vec<ProductFacts> = catalog.products.iter().map(product_facts).collect();
        let mut name_index: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in catalog.products.iter().enumerate() {
            let mut seen = HashSet::new();
            for w in words(&p.name) {
                if seen.insert(w.clone()) {
                    name_index.entry(w).or_default().push(i);
                }
            }
        }
        let distinctive = name_index
            .iter()
            .filter(|(w, ps)| {
                ps.len() == 1
                    && w.chars().count() >= 4
                    && !is_common_word(w)
                    && !is_stopword(w)
                    && w.chars().any(char::is_alphabetic)
            })
            .map(|(w, ps)| (w.clone(), ps[0]))
            .collect();
        let in_scope = featured
            .iter()
            .filter_map(|sku| catalog.products.iter().position(|p| &p.sku == sku))
            .collect();

        let active: Vec<_> = catalog
            .promotions
            .iter()
            .filter(|p| p.active(today))
            .collect();
        let mut promo_amounts = HashSet::new();
        let mut promo_amount_words: HashMap<i64, HashSet<String>> = HashMap::new();
        let mut promo_percents = Vec::new();
        let mut numbers = HashSet::new();
        let mut vocab = HashSet::new();
        let mut phrases = HashSet::new();
        let mut product_nouns: HashSet<String> = NAME_ENDINGS
            .iter()
            .chain(EVENT_ENDINGS)
            .map(|w| stem(w))
            .collect();
        let mut free_followers = HashSet::new();
        let mut promo_codes = HashSet::new();
        let mut conditional_offers = Vec::new();
        let mut catalog_text = String::new();
        let mut urls = Vec::new();

        let mut texts: Vec<&str> = vec![&catalog.store];
        for p in &catalog.products {
            texts.push(&p.name);
            texts.push(&p.sku);
            texts.extend(p.category.as_deref());
            texts.extend(p.features.iter().map(String::as_str));
            texts.extend(p.tags.iter().map(String::as_str));
            if let Some(last) = words(&p.name).last() {
                if last.chars().all(char::is_alphabetic) {
                    product_nouns.insert(stem(last));
                }
            }
            if let Some(c) = &p.category {
                for w in words(c) {
                    product_nouns.insert(stem(&w));
                }
            }
            urls.extend(p.url.clone());
        }
        for promo in &active {
            texts.push(&promo.text);
            texts.push(&promo.id);
            for c in money::extract(&promo.text) {
                match c.kind {
                    ClaimKind::Money { cents, .. } => {
                        promo_amounts.insert(cents);
                        if let Some(w) = words(&c.before).pop() {
                            promo_amount_words.entry(cents).or_default().insert(w);
                        }
                    }
                    ClaimKind::Percent { value, .. } => promo_percents.push(value),
                    ClaimKind::Number(_) => {}
                }
            }
            if let Some(ends) = &promo.ends {
                for part in ends
                    .split(|c: char| !c.is_ascii_digit())
                    .filter(|s| !s.is_empty())
                {
                    if let Ok(n) = part.parse::<f64>() {
                        numbers.insert(number_key(n));
                    }
                }
            }
            if !promo.id.is_empty() {
                promo_codes.insert(promo.id.to_uppercase());
            }
            let head: Vec<String> = words(&promo.text).into_iter().take(2).collect();
            let amount = money::extract(&promo.text)
                .into_iter()
                .find_map(|c| match c.kind {
                    ClaimKind::Money { cents, .. } => Some(cents),
                    _ => None,
                });
            if let (2, Some(cents)) = (head.len(), amount) {
                conditional_offers.push((head.join(" "), cents, promo.text.clone()));
            }
        }
        texts.extend(extra_text.iter().copied());
        // Numbers any copy may state: the store's, the promotions', the goal's.
        let shared = std::iter::once(catalog.store.as_str())
            .chain(active.iter().flat_map(|p| [p.text.as_str(), p.id.as_str()]))
            .chain(extra_text.iter().copied());
        let mut shared_quantities = HashSet::new();
        for t in shared {
            numbers.extend(text_numbers(t));
            shared_quantities.extend(quantities(t).into_iter().map(|(n, u, _)| (n, u)));
        }
        for t in &texts {
            for w in words(t) {
                vocab_insert(&mut vocab, &w);
            }
            add_ngrams(t, &mut phrases);
            let lw = words(t);
            for pair in lw.windows(2) {
                if pair[0] == "free" {
                    free_followers.insert(stem(&pair[1]));
                }
            }
            catalog_text.push_str(&t.to_lowercase());
            catalog_text.push('\n');
        }
        let vocab_stems = vocab.iter().map(|w| stem(w)).collect();
        let max_discount = catalog
            .products
            .iter()
            .filter_map(Product::discount_percent)
            .fold(None, |m: Option<f64>, d| Some(m.map_or(d, |m| m.max(d))));
        let mut feature_index: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        for (i, p) in products.iter().enumerate() {
            for (fi, f) in p.features.iter().enumerate() {
                if let Some(first) = f.split(' ').next() {
                    feature_index
                        .entry(first.to_string())
                        .or_default()
                        .push((i, fi));
                }
            }
        }
        let store_words = words(&catalog.store)
            .into_iter()
            .filter(|w| !is_common_word(w) && !is_stopword(w))
            .collect();
        FactSheet {
            feature_index,
            store_words,
            currency: catalog.currency.clone(),
            markers: money::markers(&catalog.currency),
            products,
            name_index,
            distinctive,
            in_scope,
            promo_amounts,
            promo_amount_words,
            promo_percents,
            max_discount,
            numbers,
            quantities: shared_quantities,
            vocab,
            vocab_stems,
            phrases,
            product_nouns,
            free_followers,
            promo_codes,
            conditional_offers,
            catalog_text_lower: catalog_text,
            urls,
        }
    }

    /// Whether the catalog, store or goal uses this word (or its stem).
    pub fn knows_word(&self, w: &str) -> bool {
        let w = w.to_lowercase();
        self.vocab.contains(&w) || self.vocab_stems.contains(&stem(&w))
    }

    /// Whether this word sequence occurs in catalog or store text.
    pub fn knows_phrase(&self, words_lower: &[String]) -> bool {
        self.phrases.contains(&words_lower.join(" "))
    }

    /// The catalog name word `w` is a near miss of ("featheredle" →
    /// "featherlite"): within one edit per three letters.
    pub fn nearest_word(&self, w: &str) -> Option<String> {
        let w = w.to_lowercase();
        self.name_index
            .keys()
            .chain(self.store_words.iter())
            .filter(|n| n.chars().count() >= 4 && **n != w)
            .map(|n| (lexicon::edit_distance(&w, n), n))
            .filter(|(d, n)| d * 3 <= w.chars().count().max(n.chars().count()))
            .min()
            .map(|(_, n)| n.clone())
    }

    /// Indices of products the text names (full name, or a word only that
    /// product's name has).
    fn named(&self, text: &str) -> Vec<usize> {
        let lower = text.to_lowercase();
        let mut out = Vec::new();
        for w in words(text) {
            if let Some(&i) = self.distinctive.get(&w) {
                if !out.contains(&i) {
                    out.push(i);
                }
            }
            for &i in self.name_index.get(&w).map(Vec::as_slice).unwrap_or(&[]) {
                if !out.contains(&i) && lower.contains(&self.products[i].name_lower) {
                    out.push(i);
                }
            }
        }
        out
    }

    /// Products named anywhere in `texts` plus the featured ones.
    pub fn scope_for(&self, texts: &[&str]) -> Vec<usize> {
        let mut scope = self.in_scope.clone();
        for t in texts {
            for i in self.named(t) {
                if !scope.contains(&i) {
                    scope.push(i);
                }
            }
        }
        scope
    }

    fn describe_amounts(&self, scope: &[usize]) -> String {
        let mut all: Vec<i64> = scope
            .iter()
            .flat_map(|&i| self.products[i].prices.clone())
            .chain(self.promo_amounts.iter().copied())
            .collect();
        all.sort_unstable();
        all.dedup();
        let list: Vec<String> = all
            .iter()
            .take(8)
            .map(|c| money::format(*c, &self.currency, "en"))
            .collect();
        if list.is_empty() {
            "none".into()
        } else {
            list.join(", ")
        }
    }

    /// Every fact `text` gets wrong; `scope` from [`FactSheet::scope_for`].
    pub fn check(&self, text: &str, scope: &[usize]) -> Vec<Violation> {
        let mut out = Vec::new();
        let prices: HashSet<i64> = scope
            .iter()
            .flat_map(|&i| self.products[i].prices.iter().copied())
            .collect();
        let mut percents: Vec<f64> = self.promo_percents.clone();
        for &i in scope {
            for d in &self.products[i].discounts {
                percents.push(d.round());
                percents.push(d.floor());
            }
            percents.extend(self.products[i].text_percents.iter().copied());
        }
        for claim in money::extract(text) {
            match claim.kind {
                ClaimKind::Money { cents, marker } => {
                    if !self.markers.contains(&marker) {
                        out.push(Violation {
                            rule: "currency",
                            span: claim.text.clone(),
                            detail: format!(
                                "'{}' is not in the catalog currency ({})",
                                claim.text, self.currency
                            ),
                        });
                    } else if !prices.contains(&cents) && !self.promo_amounts.contains(&cents) {
                        out.push(Violation {
                            rule: "price",
                            span: claim.text.clone(),
                            detail: format!(
                                "'{}' is not a price, sale price or saving of the products in this copy (allowed: {})",
                                claim.text,
                                self.describe_amounts(scope)
                            ),
                        });
                    } else if let Some(v) =
                        self.promo_amount_misused(&claim.before, cents, &claim.text, &prices)
                    {
                        out.push(v);
                    } else if let Some(v) = self.misplaced(&claim.before, cents, &claim.text, scope)
                    {
                        out.push(v);
                    }
                }
                ClaimKind::Percent { value, up_to } => {
                    let ok = percents.iter().any(|p| (p - value).abs() < 1e-6)
                        || (up_to
                            && self
                                .max_discount
                                .is_some_and(|m| value == m.round() || value == m.floor()));
                    if !ok {
                        let allowed: Vec<String> =
                            percents.iter().map(|p| format!("{p}%")).collect();
                        out.push(Violation {
                            rule: "percent",
                            span: claim.text.clone(),
                            detail: format!(
                                "'{}' is not a discount the catalog gives here (allowed: {})",
                                claim.text,
                                if allowed.is_empty() {
                                    "none".to_string()
                                } else {
                                    allowed.join(", ")
                                }
                            ),
                        });
                    }
                }
                ClaimKind::Number(n) => {
                    let key = number_key(n);
                    let in_text = self.numbers.contains(&key)
                        || scope
                            .iter()
                            .any(|&i| self.products[i].numbers.contains(&key));
                    if !in_text {
                        out.push(Violation {
                            rule: "number",
                            span: claim.text.clone(),
                            detail: format!(
                                "the number '{}' is not in the catalog text of the products in this copy",
                                claim.text
                            ),
                        });
                    }
                }
            }
        }
        let lower = text.to_lowercase();
        for claim in UNVERIFIABLE {
            if super::phrases::find(&lower, claim, true).is_some()
                && !self.catalog_text_lower.contains(claim)
            {
                out.push(Violation {
                    rule: "claim",
                    span: claim.to_string(),
                    detail: format!("'{claim}' is a claim the catalog does not make"),
                });
            }
        }
        for (n, unit, span) in quantities(text) {
            let number_known = self.numbers.contains(&n)
                || scope.iter().any(|&i| self.products[i].numbers.contains(&n));
            let pair = (n, unit);
            let stated = self.quantities.contains(&pair)
                || scope
                    .iter()
                    .any(|&i| self.products[i].quantities.contains(&pair));
            // An unknown number is reported once, as a number.
            if number_known && !stated {
                out.push(Violation {
                    rule: "quantity",
                    detail: format!(
                        "'{span}' is not a quantity the catalog states for the products in this copy"
                    ),
                    span,
                });
            }
        }
        self.check_price_pairs(text, scope, &mut out);
        self.check_names(text, &mut out);
        self.check_features(text, scope, &mut out);
        self.check_offers(text, &mut out);
        self.check_sale_denials(text, scope, &mut out);
        self.check_sale_claims(text, scope, &mut out);
        self.check_links(text, &mut out);
        out
    }

    /// Whether a product in `scope` costs less now than its regular price.
    fn any_on_sale(&self, scope: &[usize]) -> bool {
        scope.iter().any(|&i| self.products[i].current < self.products[i].regular)
    }

    /// "No longer on sale" about copy whose product is on sale.
    fn check_sale_denials(&self, text: &str, scope: &[usize], out: &mut Vec<Violation>) {
        if !self.any_on_sale(scope) {
            return;
        }
        let text_words = format!(" {} ", words(text).join(" "));
        for phrase in SALE_DENIALS {
            if text_words.contains(&format!(" {phrase} ")) {
                out.push(Violation {
                    rule: "sale",
                    span: phrase.to_string(),
                    detail: format!("'{phrase}', but the product in this copy is on sale"),
                });
            }
        }
    }

    /// "On sale" about copy whose products have no sale price, where no
    /// promotion takes a percentage off either ("the parka has been on
    /// sale"); "not on sale" is true there.
    fn check_sale_claims(&self, text: &str, scope: &[usize], out: &mut Vec<Violation>) {
        if scope.is_empty() || self.any_on_sale(scope) || !self.promo_percents.is_empty() {
            return;
        }
        let w = words(text);
        let claimed = (0..w.len().saturating_sub(1)).any(|i| {
            w[i] == "on" && w[i + 1] == "sale" && !(i > 0 && matches!(w[i - 1].as_str(), "not" | "longer" | "never"))
        });
        if claimed {
            out.push(Violation {
                rule: "sale",
                span: "on sale".to_string(),
                detail: "'on sale', but no product in this copy has a sale price".to_string(),
            });
        }
    }

    /// "now $189 (was $349)": a current and a regular price stated together
    /// must be one product's, not the sleeping bag's price and the tent's.
    fn check_price_pairs(&self, text: &str, scope: &[usize], out: &mut Vec<Violation>) {
        let amounts: Vec<(i64, Option<PriceRole>, String)> = money::extract(text)
            .into_iter()
            .filter_map(|c| match c.kind {
                ClaimKind::Money { cents, .. } => Some((cents, price_role(&c.before), c.text)),
                _ => None,
            })
            .collect();
        for pair in amounts.windows(2) {
            let (current, regular) = match (&pair[0], &pair[1]) {
                ((a, Some(PriceRole::Current), _), (b, Some(PriceRole::Regular), _))
                | ((b, Some(PriceRole::Regular), _), (a, Some(PriceRole::Current), _)) => (*a, *b),
                _ => continue,
            };
            let one_product = scope.iter().any(|&i| {
                self.products[i].current == current && self.products[i].regular == regular
            });
            // Each in its role on its own (else reported as misplaced already).
            let is_current = scope.iter().any(|&i| self.products[i].current == current);
            let is_regular = scope.iter().any(|&i| self.products[i].regular == regular);
            if !one_product && is_current && is_regular {
                out.push(Violation {
                    rule: "price",
                    detail: format!(
                        "'{}' and '{}' are not the current and regular price of one product",
                        pair[0].2, pair[1].2
                    ),
                    span: pair[1].2.clone(),
                });
            }
        }
    }

    /// A promotion's amount stated as something else: "$75" of "free shipping
    /// on orders over $75" may follow "over", not "tents at" or "down from".
    fn promo_amount_misused(
        &self,
        before: &str,
        cents: i64,
        span: &str,
        prices: &HashSet<i64>,
    ) -> Option<Violation> {
        let roles = self.promo_amount_words.get(&cents)?;
        if prices.contains(&cents) {
            return None;
        }
        let last = words(before).pop().unwrap_or_default();
        (!roles.contains(&last)).then(|| Violation {
            rule: "price",
            span: format!("{before} {span}").trim().to_string(),
            detail: format!(
                "'{span}' is the promotion's amount ({}), not what '{before}' says",
                roles
                    .iter()
                    .map(|w| format!("{w} {span}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    }

    /// A real amount in the wrong role: "now $129" or "on sale for $129"
    /// when $129 is the price before the sale, "was $99" or "down from $99"
    /// when $99 is the sale price. `before` holds the words before the amount.
    fn misplaced(
        &self,
        before: &str,
        cents: i64,
        span: &str,
        scope: &[usize],
    ) -> Option<Violation> {
        let saving = scope.iter().any(|&i| {
            self.products[i].prices.len() > 1
                && self.products[i].regular - self.products[i].current == cents
        });
        let role = price_role(before);
        let regular_role = role == Some(PriceRole::Regular);
        let current_role = role == Some(PriceRole::Current);
        // A saving may be stated as one ("save $30"), never as "was $30".
        if self.promo_amounts.contains(&cents) || (saving && !regular_role) {
            return None;
        }
        let last = before.split(' ').rfind(|w| !w.is_empty()).unwrap_or("");
        let (ok, role) = if regular_role {
            (
                scope.iter().any(|&i| {
                    self.products[i].regular == cents
                        && (self.products[i].current != cents || last != "from")
                }),
                "a regular price",
            )
        } else if current_role {
            (
                scope.iter().any(|&i| self.products[i].current == cents),
                "the current price",
            )
        } else {
            return None;
        };
        (!ok).then(|| Violation {
            rule: "price",
            span: format!("{before} {span}"),
            detail: format!("'{before} {span}' says {span} is {role}, which it is not"),
        })
    }

    fn check_names(&self, text: &str, out: &mut Vec<Violation>) {
        struct Tok {
            raw: String,
            lower: String,
            breaks_after: bool,
        }
        let mut toks: Vec<Tok> = Vec::new();
        for raw in text.split_whitespace() {
            // Amounts and percentages are checked as numbers, never as names.
            if raw.contains(['$', '€', '£', '¥', '%', '₹']) {
                toks.push(Tok {
                    raw: String::new(),
                    lower: String::new(),
                    breaks_after: true,
                });
                continue;
            }
            let trimmed = raw.trim_matches(|c: char| !c.is_alphanumeric());
            let breaks_after = raw.ends_with(|c: char| {
                matches!(c, '.' | ',' | '!' | '?' | ':' | ';' | ')' | '"' | '”')
            }) || raw.starts_with(['(', '"', '“']);
            if trimmed.is_empty() {
                toks.push(Tok {
                    raw: String::new(),
                    lower: String::new(),
                    breaks_after: true,
                });
                continue;
            }
            toks.push(Tok {
                raw: trimmed.to_string(),
                lower: trimmed.to_lowercase(),
                breaks_after,
            });
        }
        let is_cap = |t: &Tok| {
            let first = t.raw.chars().next();
            let alnum_only = t.raw.chars().all(|c| c.is_alphanumeric() || c == '-');
            alnum_only
                && (first.is_some_and(char::is_uppercase)
                    || (first.is_some_and(|c| c.is_ascii_digit())
                        && t.raw.chars().all(|c| c.is_ascii_alphanumeric())))
        };
        let has_digit = |t: &Tok| t.raw.chars().any(|c| c.is_ascii_digit());
        let unknown = |t: &Tok| {
            let parts: Vec<String> = words(&t.raw);
            !parts.iter().all(|w| {
                self.knows_word(w)
                    || is_common_word(w)
                    || is_common_word(&stem(w))
                    || is_stopword(w)
            })
        };
        // Letter-then-digit model codes ("X200", "TR-5") must be catalog words.
        for t in &toks {
            // (Chinese runs on without spaces: "现价59美元" is no model code.)
            let starts_alpha = t.raw.chars().next().is_some_and(|c| c.is_alphabetic() && !super::text::is_cjk(c));
            // All-caps codes with three or more letters are promotion codes (check_offers).
            let caps = t.raw.chars().filter(|c| c.is_ascii_uppercase()).count();
            let promo_like = caps >= 3
                && t.raw
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
            if starts_alpha
                && has_digit(t)
                && !self.knows_word(&t.lower)
                && !self.promo_codes.contains(&t.raw.to_uppercase())
                && !promo_like
            {
                out.push(Violation {
                    rule: "name",
                    span: t.raw.clone(),
                    detail: format!(
                        "'{}' looks like a model name the catalog does not have",
                        t.raw
                    ),
                });
            }
        }
        let mut i = 0;
        while i < toks.len() {
            if !is_cap(&toks[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < toks.len() && is_cap(&toks[i]) {
                i += 1;
                if toks[i - 1].breaks_after {
                    break;
                }
            }
            let mut run = &toks[start..i];
            // "Summer Sale", "Black Friday": a named event must be the catalog's.
            if let [.., prev, last] = run {
                let event = EVENT_ENDINGS.contains(&last.lower.as_str());
                if event && !GENERIC_EVENT_WORDS.contains(&prev.lower.as_str()) && !has_digit(prev)
                {
                    let pair = vec![prev.lower.clone(), last.lower.clone()];
                    if !self.knows_phrase(&pair) {
                        let span = format!("{} {}", prev.raw, last.raw);
                        out.push(Violation {
                            rule: "name",
                            detail: format!(
                                "'{span}' names a sales event the catalog does not run"
                            ),
                            span,
                        });
                        continue;
                    }
                }
            }
            let common =
                |t: &Tok| (is_common_word(&t.lower) || is_stopword(&t.lower)) && !has_digit(t);
            // A bare number may sit inside a name ("Basecamp 2 Tent") but not start or end one.
            let number = |t: &Tok| t.raw.chars().all(|c| c.is_ascii_digit());
            while run.first().is_some_and(|t| common(t) || number(t)) {
                run = &run[1..];
            }
            while run.last().is_some_and(|t| {
                (common(t) && !self.product_nouns.contains(&stem(&t.lower))) || number(t)
            }) {
                run = &run[..run.len() - 1];
            }
            if run.len() < 2 {
                continue;
            }
            let ends_like_name = run
                .last()
                .is_some_and(|t| self.product_nouns.contains(&stem(&t.lower)));
            let any_unknown = run.iter().any(unknown);
            let any_digit = run.iter().any(has_digit);
            let lower: Vec<String> = run.iter().flat_map(|t| words(&t.raw)).collect();
            // The store's name or a word only one product's name has: a claim to a name.
            let brandish = lower.iter().any(|w| {
                (self.distinctive.contains_key(w) && !self.product_nouns.contains(&stem(w)))
                    || self.store_words.contains(w)
            });
            let name_like = (ends_like_name && (any_unknown || any_digit || brandish))
                || (any_digit && any_unknown)
                || brandish;
            if !name_like {
                continue;
            }
            // A shortened real name ("Ridgeline Runner") is fine; a new one is not.
            let shortened = !any_unknown && !any_digit && self.is_name_subsequence(&lower);
            if !self.knows_phrase(&lower) && !shortened {
                let span = run
                    .iter()
                    .map(|t| t.raw.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                out.push(Violation {
                    rule: "name",
                    detail: format!(
                        "'{span}' looks like a product or event name that is not in the catalog"
                    ),
                    span,
                });
            }
        }
    }

    /// Whether `run` appears, in order, among the words of one product name.
    fn is_name_subsequence(&self, run: &[String]) -> bool {
        self.products.iter().any(|p| {
            let mut it = p.name_words.iter();
            run.iter().all(|w| it.any(|n| n == w))
        })
    }

    /// Features of products outside the copy's scope that the copy claims.
    fn check_features(&self, text: &str, scope: &[usize], out: &mut Vec<Violation>) {
        let text_words = words(text);
        let joined = format!(" {} ", text_words.join(" "));
        let in_scope = |f: &str| {
            scope
                .iter()
                .any(|&i| self.products[i].features.iter().any(|g| g == f))
        };
        let mut seen = HashSet::new();
        for w in &text_words {
            for &(i, fi) in self.feature_index.get(w).map(Vec::as_slice).unwrap_or(&[]) {
                let f = &self.products[i].features[fi];
                if scope.contains(&i)
                    || in_scope(f)
                    || !seen.insert(f.clone())
                    || !joined.contains(&format!(" {f} "))
                {
                    continue;
                }
                out.push(Violation {
                    rule: "feature",
                    span: f.clone(),
                    detail: format!(
                        "'{f}' is a feature of another product, not of the products in this copy"
                    ),
                });
            }
        }
    }

    fn check_offers(&self, text: &str, out: &mut Vec<Violation>) {
        // "Free shipping" without its "over $75" is a bigger offer than the store's.
        let text_words = format!(" {} ", words(text).join(" "));
        for (head, cents, promo) in &self.conditional_offers {
            let stated = money::extract(text)
                .iter()
                .any(|c| matches!(c.kind, ClaimKind::Money { cents: x, .. } if x == *cents));
            if text_words.contains(&format!(" {head} ")) && !stated {
                out.push(Violation {
                    rule: "offer",
                    span: head.clone(),
                    detail: format!("'{head}' leaves out the promotion's condition ('{promo}')"),
                });
            }
        }
        let lower = text.to_lowercase();
        let chars: Vec<char> = lower.chars().collect();
        let target: Vec<char> = "free".chars().collect();
        let mut k = 0;
        while k + target.len() <= chars.len() {
            let end = k + target.len();
            let at_word = chars[k..end] == target[..]
                && (k == 0 || !is_word_char(chars[k - 1]))
                && chars.get(end).is_none_or(|c| !is_word_char(*c));
            // "leak-free", "hands-free": a compound, not an offer.
            if !at_word || (k > 0 && chars[k - 1] == '-') {
                k += 1;
                continue;
            }
            let rest: String = chars[end..].iter().collect();
            let next = words(&rest).into_iter().next();
            if !next
                .as_ref()
                .is_some_and(|n| self.free_followers.contains(&stem(n)))
            {
                let span = match &next {
                    Some(n) => format!("free {n}"),
                    None => "free".to_string(),
                };
                out.push(Violation {
                    rule: "offer",
                    detail: format!("'{span}' is not an offer in the catalog"),
                    span,
                });
            }
            k = end;
        }
        for phrase in [
            "buy one get one",
            "buy 1 get 1",
            "bogo",
            "2 for 1",
            "two for one",
            "2-for-1",
        ] {
            if lower.contains(phrase) && !self.catalog_text_lower.contains(phrase) {
                out.push(Violation {
                    rule: "offer",
                    span: phrase.into(),
                    detail: format!("'{phrase}' is not an offer in the catalog"),
                });
            }
        }
        // Promotion codes: all-caps tokens mixing letters and digits.
        for raw in text.split(|c: char| !c.is_alphanumeric()) {
            let letters = raw.chars().filter(|c| c.is_ascii_uppercase()).count();
            let digits = raw.chars().filter(|c| c.is_ascii_digit()).count();
            if letters >= 3
                && digits >= 1
                && letters + digits == raw.chars().count()
                && !self.promo_codes.contains(raw)
                && !self.knows_word(raw)
            {
                out.push(Violation {
                    rule: "offer",
                    span: raw.into(),
                    detail: format!(
                        "'{raw}' looks like a promotion code the catalog does not have"
                    ),
                });
            }
        }
    }

    fn check_links(&self, text: &str, out: &mut Vec<Violation>) {
        const TLDS: &[&str] = &[
            "com", "net", "org", "io", "shop", "store", "co", "uk", "de", "cn", "fr", "eu", "info",
            "biz", "ly", "me", "app",
        ];
        for raw in text.split_whitespace() {
            let t = raw.trim_matches(|c: char| {
                matches!(
                    c,
                    '.' | ',' | '!' | '?' | ')' | '(' | '"' | '\'' | ';' | ':'
                )
            });
            let lower = t.to_lowercase();
            let is_url = lower.starts_with("http://")
                || lower.starts_with("https://")
                || lower.starts_with("www.")
                || lower.contains("://")
                || lower.rsplit_once('.').is_some_and(|(host, tld)| {
                    !host.is_empty()
                        && host
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
                        && TLDS.contains(&tld)
                        && host.chars().any(|c| c.is_ascii_alphabetic())
                });
            if is_url && !self.urls.iter().any(|u| u.to_lowercase().contains(&lower)) {
                out.push(Violation {
                    rule: "link",
                    span: t.to_string(),
                    detail: format!("the link '{t}' is not in the catalog"),
                });
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PriceRole {
    /// "now $99", "on sale for $99".
    Current,
    /// "was $129", "down from $129".
    Regular,
}

/// The role the words before an amount give it (lower case, as
/// [`money::Claim::before`] holds them).
fn price_role(before: &str) -> Option<PriceRole> {
    // With German, French, Spanish, Chinese and Japanese role words as
    // completion.rs's examples write them ("statt", "au lieu de", "antes",
    // "原价"; "jetzt nur", "现价"); CJK runs on, so its words end the last token.
    const CURRENT: &[&str] = &[
        "now",
        "only",
        "just",
        "today",
        "sale",
        "discounted",
        "discount",
        "deal",
        "offer",
        "jetzt",
        "nur",
        "maintenant",
        "seulement",
        "ahora",
        "solo",
    ];
    const CURRENT_CJK: &[&str] = &["现价", "仅需", "只需", "特价", "今なら"];
    const REGULAR_CJK: &[&str] = &["原价", "通常価格"];
    let words: Vec<&str> = before.split(' ').filter(|w| !w.is_empty()).collect();
    let last = words.last().copied().unwrap_or("");
    if before.ends_with("down from")
        || before.ends_with("reduced from")
        || before.ends_with("au lieu de")
        || REGULAR_CJK.iter().any(|w| last.ends_with(w))
        || matches!(
            last,
            "was" | "regular" | "regularly" | "originally" | "usually" | "statt" | "antes"
        )
    {
        Some(PriceRole::Regular)
    } else if words.iter().any(|w| CURRENT.contains(w))
        || CURRENT_CJK.iter().any(|w| last.ends_with(w))
    {
        Some(PriceRole::Current)
    } else {
        None
    }
}

fn vocab_insert(vocab: &mut HashSet<String>, w: &str) {
    vocab.insert(w.to_string());
    for part in w.split('-') {
        if !part.is_empty() {
            vocab.insert(part.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::quantities;

    #[test]
    fn dates_and_offers_are_not_quantities_but_units_are() {
        assert_eq!(quantities("Ends 31 December or 2 Jan, 2 for 1, 10 percent off"), Vec::new());
        let spans: Vec<String> = quantities("A 12-day trek, 3 layers, a 1,299.5 mm rise").into_iter().map(|q| q.2).collect();
        assert_eq!(spans.len(), 3, "{spans:?}");
        assert!(spans[2].starts_with("1,299.5"), "{spans:?}");
    }
}
