//! Create, for base models (no chat template, e.g. Gemma 3 270M): the plan as
//! a few-shot completion document instead of chat turns. A base model does
//! not follow instructions, it continues text, so the document is a page of
//! finished copy in the target language — a one-line header, two worked
//! examples (other in-stock catalog products, their copy built here from
//! catalog facts with per-language phrases, so a parroted example is still
//! true), then the task's fact sheet — and the writer opens the first field
//! ("Headline:") for the model to continue. Labels stay English so one
//! parser reads every language; fact keys and example copy are in the target
//! language, which is what steers the model into it. The visitor's own words
//! never appear. Languages without a phrase table get English examples.

use super::catalog::Catalog;
use super::ideate::{featured_product, FeaturedProduct, Plan};
use super::kinds::ContentKind;
use super::result::CopyFields;
use super::text::{perceived_len, trim_to_limit};

/// Examples shown before the task.
pub const EXAMPLES: usize = 2;

/// The words a document in one language is built from. `{}` marks where a
/// value goes.
#[derive(Debug)]
pub struct Phrases {
    pub language: &'static str,
    /// "{store}: ..." title line.
    pub header: &'static str,
    pub product: &'static str,
    pub price: &'static str,
    pub features: &'static str,
    /// Between a fact key and its value.
    pub colon: &'static str,
    /// Sale price line: "{sale}, was {price}".
    pub sale_line: &'static str,
    /// Current price in copy.
    pub now: &'static str,
    /// Regular price next to a sale price in copy.
    pub was: &'static str,
    /// Headline hook for a product on sale, and for one at full price.
    pub sale_hook: &'static str,
    pub plain_hook: &'static str,
    /// Closing sentence of longer copy.
    pub closing: &'static str,
    /// Two buttons.
    pub cta: [&'static str; 2],
    /// Clause separator and sentence end.
    pub comma: &'static str,
    pub stop: &'static str,
}

/// One table: the languages completion documents are written in.
pub const PHRASES: &[Phrases] = &[
    Phrases {
        language: "en",
        header: "{}: marketing copy",
        product: "Product",
        price: "Price",
        features: "Features",
        colon: ": ",
        sale_line: "{}, was {}",
        now: "now {}",
        was: "was {}",
        sale_hook: "on sale now",
        plain_hook: "made for you",
        closing: "Find yours at {}.",
        cta: ["Shop now", "See details"],
        comma: ", ",
        stop: ".",
    },
    Phrases {
        language: "zh",
        header: "{} 中文营销文案",
        product: "商品",
        price: "价格",
        features: "卖点",
        colon: "：",
        sale_line: "{}，原价 {}",
        now: "现价 {}",
        was: "原价 {}",
        sale_hook: "限时特惠",
        plain_hook: "为你精选",
        closing: "欢迎来 {} 选购。",
        cta: ["立即选购", "查看详情"],
        comma: "，",
        stop: "。",
    },
    Phrases {
        language: "de",
        header: "{}: Werbetexte auf Deutsch",
        product: "Produkt",
        price: "Preis",
        features: "Merkmale",
        colon: ": ",
        sale_line: "{}, statt {}",
        now: "jetzt nur {}",
        was: "statt {}",
        sale_hook: "jetzt im Angebot",
        plain_hook: "für dich ausgewählt",
        closing: "Jetzt bei {} entdecken.",
        cta: ["Jetzt kaufen", "Mehr erfahren"],
        comma: ", ",
        stop: ".",
    },
    Phrases {
        language: "fr",
        header: "{} : textes publicitaires en français",
        product: "Produit",
        price: "Prix",
        features: "Points forts",
        colon: " : ",
        sale_line: "{}, au lieu de {}",
        now: "maintenant à {}",
        was: "au lieu de {}",
        sale_hook: "en promotion",
        plain_hook: "choisi pour vous",
        closing: "À découvrir chez {}.",
        cta: ["Acheter", "Découvrir"],
        comma: ", ",
        stop: ".",
    },
    Phrases {
        language: "es",
        header: "{}: textos publicitarios en español",
        product: "Producto",
        price: "Precio",
        features: "Características",
        colon: ": ",
        sale_line: "{}, antes {}",
        now: "ahora {}",
        was: "antes {}",
        sale_hook: "ahora en oferta",
        plain_hook: "elegido para ti",
        closing: "Descúbrelo en {}.",
        cta: ["Comprar ahora", "Ver más"],
        comma: ", ",
        stop: ".",
    },
    Phrases {
        language: "ja",
        header: "{} 日本語の広告コピー",
        product: "商品",
        price: "価格",
        features: "特長",
        colon: "：",
        sale_line: "{}（通常価格 {}）",
        now: "今なら {}",
        was: "通常価格 {}",
        sale_hook: "セール中",
        plain_hook: "あなたにおすすめ",
        closing: "{} でお求めください。",
        cta: ["今すぐ購入", "詳しく見る"],
        comma: "、",
        stop: "。",
    },
];

/// The phrase table for `language`, English when there is none.
pub fn phrases(language: &str) -> &'static Phrases {
    PHRASES
        .iter()
        .find(|p| p.language == language)
        .unwrap_or(&PHRASES[0])
}

fn fill(template: &str, values: &[&str]) -> String {
    let mut out = String::new();
    let mut rest = template;
    for v in values {
        match rest.split_once("{}") {
            Some((head, tail)) => {
                out.push_str(head);
                out.push_str(v);
                rest = tail;
            }
            None => break,
        }
    }
    out.push_str(rest);
    out
}

/// Strings the generator stops at: the blank line after a block, or the
/// next block's first fact key (the model starting another example).
pub fn stop_strings(language: &str) -> Vec<String> {
    let ph = phrases(language);
    vec![
        "\n\n".into(),
        format!("\n{}{}", ph.product, ph.colon.trim_end()),
    ]
}

/// The fact sheet of one product, in the document's language.
fn fact_block(p: Option<&FeaturedProduct>, store: &str, ph: &Phrases) -> String {
    let Some(p) = p else {
        return format!("{}{}{store}\n", ph.product, ph.colon);
    };
    let price = match &p.sale_price {
        Some(sale) => fill(ph.sale_line, &[sale, &p.price]),
        None => p.price.clone(),
    };
    let mut s = format!(
        "{}{}{}\n{}{}{}\n",
        ph.product, ph.colon, p.name, ph.price, ph.colon, price
    );
    if !p.features.is_empty() {
        s.push_str(&format!(
            "{}{}{}\n",
            ph.features,
            ph.colon,
            p.features.join("; ")
        ));
    }
    s
}

/// Example copy for one product, built from its catalog facts alone.
pub fn example_copy(
    kind: ContentKind,
    p: &FeaturedProduct,
    store: &str,
    ph: &Phrases,
) -> CopyFields {
    let price = p.sale_price.as_deref().unwrap_or(&p.price);
    let now = fill(ph.now, &[price]);
    let price_phrase = match &p.sale_price {
        Some(_) => format!("{now}{}{}", ph.comma, fill(ph.was, &[&p.price])),
        None => now.clone(),
    };
    let hook = if p.sale_price.is_some() {
        ph.sale_hook
    } else {
        ph.plain_hook
    };
    let sentence = |s: String| format!("{}{}", capitalize(&s), ph.stop);
    let headline = format!("{}{}{hook}", p.name, ph.comma);
    let short_headline = if perceived_len(&headline) <= SEARCH_HEADLINE_MAX {
        headline.clone()
    } else {
        capitalize(hook)
    };
    let subline = sentence(format!("{}{}{price_phrase}", p.name, ph.comma));
    let closing = fill(ph.closing, &[store]);
    let long = format!(
        "{}{}{}",
        sentence(format!("{}{}{hook}", p.name, ph.comma)),
        sep(ph),
        sentence(price_phrase.clone())
    );
    let mut copy = CopyFields::default();
    for f in kind.fields() {
        let text = match (kind, f.name) {
            (ContentKind::Banner, "headline") => headline.clone(),
            (ContentKind::Banner, "subline") => subline.clone(),
            (ContentKind::Banner, "cta") => ph.cta[0].to_string(),
            (ContentKind::SearchAd, "headline_1") => short_headline.clone(),
            (ContentKind::SearchAd, "headline_2") => capitalize(&now),
            (ContentKind::SearchAd, "headline_3") => ph.cta[0].to_string(),
            (ContentKind::SearchAd, "description_1") => subline.clone(),
            (ContentKind::SearchAd, "description_2") => {
                sentence(format!("{hook}{}{}", ph.comma, ph.cta[1]))
            }
            (ContentKind::EmailSubject, _) => format!("{headline}{}{now}", ph.comma),
            _ => format!("{long}{}{closing}", sep(ph)),
        };
        copy.set(f.name, trim_to_limit(&text, f.max));
    }
    copy
}

/// Search-ad headlines are the shortest headlines (kinds.rs).
const SEARCH_HEADLINE_MAX: usize = 30;

/// Upper-cases the first letter (a no-op for scripts without case).
fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Catalog-only copy in the plan's language, for languages other than
/// English that have a phrase table (English has fallback.rs, which knows
/// angles, tones and promotions): the writer's fallback, so a visitor who
/// asked for Chinese never gets English.
pub fn localized_fallback(kind: ContentKind, plan: &Plan, store: &str) -> Option<CopyFields> {
    let ph = PHRASES
        .iter()
        .find(|p| p.language == plan.language && p.language != "en")?;
    plan.products
        .first()
        .map(|p| example_copy(kind, p, store, ph))
}

/// Space between sentences (none in Chinese and Japanese).
fn sep(ph: &Phrases) -> &'static str {
    if ph.stop == "。" {
        ""
    } else {
        " "
    }
}

/// Catalog products for the examples: in stock, not featured, on sale when
/// the task's product is (and not when it is not: a base model copies the
/// examples' "on sale" hook whether or not it is true), then catalog order.
fn example_products(catalog: &Catalog, plan: &Plan) -> Vec<FeaturedProduct> {
    let mut candidates: Vec<(usize, &super::catalog::Product)> = catalog
        .products
        .iter()
        .enumerate()
        .filter(|(_, p)| p.in_stock() && !plan.featured.contains(&p.sku))
        .collect();
    let on_sale = plan
        .products
        .first()
        .is_some_and(|p| p.sale_price.is_some());
    candidates.sort_by_key(|(i, p)| (p.sale_price.is_some() != on_sale, *i));
    candidates
        .into_iter()
        .take(EXAMPLES)
        .map(|(_, p)| featured_product(p, catalog, &plan.language))
        .collect()
}

/// The completion document for `plan`, ending where the copy's first label
/// goes (the writer appends it, see [`super::prompt::prefill`]).
pub fn document(kind: ContentKind, plan: &Plan, catalog: &Catalog, store: &str) -> String {
    let ph = phrases(&plan.language);
    let mut doc = fill(ph.header, &[store]);
    doc.push_str("\n\n");
    for p in example_products(catalog, plan) {
        doc.push_str(&fact_block(Some(&p), store, ph));
        doc.push_str(&super::prompt::render_copy(
            kind,
            &example_copy(kind, &p, store, ph),
        ));
        doc.push_str("\n\n");
    }
    doc.push_str(&fact_block(plan.products.first(), store, ph));
    doc
}

/// The part of every document for `language` that no plan changes.
pub fn document_header(language: &str, store: &str) -> String {
    fill(phrases(language).header, &[store]) + "\n\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mat(sale: bool) -> FeaturedProduct {
        FeaturedProduct {
            sku: "NW-YG-710".into(),
            name: "Grounded Yoga Mat".into(),
            category: Some("Fitness".into()),
            price: "$79".into(),
            sale_price: sale.then(|| "$59".into()),
            discount_percent: sale.then_some(25),
            features: vec!["natural rubber".into()],
        }
    }

    #[test]
    fn chinese_example_copy() {
        let c = example_copy(ContentKind::Banner, &mat(true), "Northwind", phrases("zh"));
        assert_eq!(c.get("headline"), Some("Grounded Yoga Mat，限时特惠"));
        assert_eq!(
            c.get("subline"),
            Some("Grounded Yoga Mat，现价 $59，原价 $79。")
        );
        assert_eq!(c.get("cta"), Some("立即选购"));
        let c = example_copy(
            ContentKind::EmailSubject,
            &mat(false),
            "Northwind",
            phrases("zh"),
        );
        assert_eq!(
            c.get("subject"),
            Some("Grounded Yoga Mat，为你精选，现价 $79")
        );
    }

    #[test]
    fn every_field_is_filled_within_its_limit() {
        for ph in PHRASES {
            for spec in super::super::kinds::KINDS {
                let c = example_copy(spec.kind, &mat(true), "Northwind Outfitters", ph);
                for f in spec.fields {
                    let t = c.get(f.name).unwrap();
                    let n = super::super::text::perceived_len(t);
                    assert!(
                        n >= f.min && n <= f.max,
                        "{} {} {}: {t}",
                        ph.language,
                        spec.name,
                        f.name
                    );
                }
            }
        }
    }

    #[test]
    fn fills_placeholders_in_order() {
        assert_eq!(fill("{}, was {}", &["$59", "$79"]), "$59, was $79");
        assert_eq!(fill("no slot", &["x"]), "no slot");
    }
}
