//! The store's catalog (`catalog.json`): products with prices, sale prices,
//! features and tags, and promotions. Read tolerantly (unknown fields
//! ignored, a bad product or promotion dropped with a warning naming it), but
//! a catalog without a currency or without a single valid product is
//! rejected: every fact the copy may state comes from here.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::date::{self, Instant};
use super::input::{self, child, index, Warnings};
use super::sanitize::{strip_invisible, strip_markup};
use super::text::{collapse_ws, perceived_len, trim_to_limit};
use crate::error::{Error, Result};

pub const MAX_PRODUCTS: usize = 10_000;
pub const MAX_PROMOTIONS: usize = 100;
const MAX_NAME: usize = 120;
const MAX_SKU: usize = 64;
const MAX_LIST: usize = 20;
const MAX_ITEM_TEXT: usize = 160;
const MAX_PRICE: f64 = 1.0e9;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Product {
    pub sku: String,
    pub name: String,
    pub category: Option<String>,
    /// Regular price in cents of the catalog currency.
    pub price: i64,
    /// Sale price in cents, always below `price` when present.
    pub sale_price: Option<i64>,
    pub features: Vec<String>,
    pub tags: Vec<String>,
    /// Units in stock; `None` when the catalog does not say.
    pub stock: Option<u64>,
    pub url: Option<String>,
}

impl Product {
    /// What the visitor pays now.
    pub fn current_price(&self) -> i64 {
        self.sale_price.unwrap_or(self.price)
    }

    pub fn saving(&self) -> Option<i64> {
        self.sale_price.map(|s| self.price - s)
    }

    /// Exact discount in percent, when on sale.
    pub fn discount_percent(&self) -> Option<f64> {
        self.saving().map(|s| 100.0 * s as f64 / self.price as f64)
    }

    pub fn in_stock(&self) -> bool {
        self.stock != Some(0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Promotion {
    pub id: String,
    pub text: String,
    /// Last day the promotion runs (inclusive), as written.
    pub ends: Option<String>,
    #[serde(skip)]
    pub ends_at: Option<Instant>,
}

impl Promotion {
    /// Whether it still runs on `today` (unknown dates count as running).
    pub fn active(&self, today: Option<Instant>) -> bool {
        match (self.ends_at, today) {
            (Some(end), Some(now)) => now.0 < end.0 + 86_400.0,
            _ => true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Catalog {
    pub store: String,
    /// ISO 4217 code, upper case.
    pub currency: String,
    pub products: Vec<Product>,
    pub promotions: Vec<Promotion>,
    #[serde(skip)]
    by_sku: HashMap<String, usize>,
}

/// Store-owned text: invisible characters and markup removed, capped.
pub(crate) fn store_text(raw: &str, max: usize, path: &str, w: &mut Warnings) -> String {
    let (t, invisible) = strip_invisible(raw);
    let (t, markup) = strip_markup(&t);
    let mut t = collapse_ws(&t);
    if invisible || markup {
        w.push(path, "invisible characters or markup removed");
    }
    if perceived_len(&t) > max {
        t = trim_to_limit(&t, max);
        w.push(path, format!("longer than {max} characters; shortened"));
    }
    t
}

fn text_list(obj: &Map<String, Value>, key: &str, path: &str, w: &mut Warnings) -> Vec<String> {
    let items = input::strings(obj, key, path, w);
    let list_path = child(path, key);
    if items.len() > MAX_LIST {
        w.push(
            &list_path,
            format!("{} entries; kept the first {MAX_LIST}", items.len()),
        );
    }
    items
        .into_iter()
        .take(MAX_LIST)
        .map(|(i, s)| store_text(&s, MAX_ITEM_TEXT, &index(&list_path, i), w))
        .filter(|s| !s.is_empty())
        .collect()
}

fn price(obj: &Map<String, Value>, key: &str, path: &str, w: &mut Warnings) -> Option<i64> {
    let v = input::number(obj, key, path, w)?;
    if v <= 0.0 || v > MAX_PRICE {
        w.push(
            child(path, key),
            format!("{v} is not a price (must be above 0 and at most {MAX_PRICE})"),
        );
        return None;
    }
    Some(super::money::to_cents(v))
}

fn product(v: &Value, path: &str, w: &mut Warnings) -> Option<Product> {
    let Value::Object(obj) = v else {
        w.push(
            path,
            format!("expected an object, got {}; dropped", input::type_name(v)),
        );
        return None;
    };
    let sku = input::string(obj, "sku", path, w)
        .map(|s| collapse_ws(&strip_invisible(&s).0))
        .unwrap_or_default();
    if sku.is_empty() || sku.chars().count() > MAX_SKU || sku.contains(char::is_whitespace) {
        w.push(
            child(path, "sku"),
            "missing, empty, too long or containing spaces; product dropped",
        );
        return None;
    }
    let name = input::string(obj, "name", path, w)
        .map(|s| store_text(&s, MAX_NAME, &child(path, "name"), w))
        .unwrap_or_default();
    if name.is_empty() {
        w.push(child(path, "name"), "missing or empty; product dropped");
        return None;
    }
    let Some(regular) = price(obj, "price", path, w) else {
        w.push(child(path, "price"), "no valid price; product dropped");
        return None;
    };
    let sale_price = price(obj, "sale_price", path, w).and_then(|s| {
        if s >= regular {
            w.push(
                child(path, "sale_price"),
                "not below the regular price; ignored",
            );
            None
        } else {
            Some(s)
        }
    });
    let stock = input::number(obj, "stock", path, w).map(|s| {
        if s < 0.0 {
            w.push(
                child(path, "stock"),
                format!("{s} is negative; treated as 0"),
            );
            0
        } else {
            s.floor() as u64
        }
    });
    Some(Product {
        sku,
        category: input::string(obj, "category", path, w)
            .map(|s| store_text(&s, MAX_NAME, &child(path, "category"), w))
            .filter(|s| !s.is_empty()),
        name,
        price: regular,
        sale_price,
        features: text_list(obj, "features", path, w),
        tags: text_list(obj, "tags", path, w),
        stock,
        url: input::string(obj, "url", path, w).map(|s| collapse_ws(&strip_invisible(&s).0)),
    })
}

fn promotion(v: &Value, path: &str, w: &mut Warnings) -> Option<Promotion> {
    let Value::Object(obj) = v else {
        w.push(
            path,
            format!("expected an object, got {}; dropped", input::type_name(v)),
        );
        return None;
    };
    let text = input::string(obj, "text", path, w)
        .map(|s| store_text(&s, 200, &child(path, "text"), w))
        .unwrap_or_default();
    if text.is_empty() {
        w.push(child(path, "text"), "missing or empty; promotion dropped");
        return None;
    }
    let id = input::string(obj, "id", path, w)
        .map(|s| collapse_ws(&strip_invisible(&s).0))
        .unwrap_or_default();
    let ends = input::string(obj, "ends", path, w);
    let ends_at = match &ends {
        Some(e) => match date::parse(e) {
            Ok(t) => Some(t),
            Err(why) => {
                // An end date we cannot read could mean the promotion is over.
                w.push(child(path, "ends"), format!("{why}; promotion dropped"));
                return None;
            }
        },
        None => None,
    };
    Some(Promotion {
        id,
        text,
        ends,
        ends_at,
    })
}

impl Catalog {
    pub fn from_value(v: &Value, w: &mut Warnings) -> Result<Catalog> {
        let Value::Object(obj) = v else {
            return Err(Error::invalid_input(
                "catalog",
                format!("expected an object, got {}", input::type_name(v)),
            ));
        };
        let path = "catalog";
        let currency = input::string(obj, "currency", path, w)
            .unwrap_or_default()
            .trim()
            .to_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(Error::invalid_input(
                "catalog.currency",
                "required: a three-letter ISO 4217 code such as \"USD\"",
            ));
        }
        let store = input::string(obj, "store", path, w)
            .map(|s| store_text(&s, MAX_NAME, "catalog.store", w))
            .unwrap_or_default();
        let Some(items) = input::array(obj, "products", path, w) else {
            return Err(Error::invalid_input(
                "catalog.products",
                "required: a list of products",
            ));
        };
        if items.len() > MAX_PRODUCTS {
            return Err(Error::invalid_input(
                "catalog.products",
                format!(
                    "{} products is more than the {MAX_PRODUCTS} supported",
                    items.len()
                ),
            ));
        }
        let mut products = Vec::with_capacity(items.len());
        let mut by_sku = HashMap::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let p_path = index("catalog.products", i);
            if let Some(p) = product(item, &p_path, w) {
                if by_sku.contains_key(&p.sku) {
                    w.push(
                        child(&p_path, "sku"),
                        format!("duplicate SKU '{}'; product dropped", p.sku),
                    );
                    continue;
                }
                by_sku.insert(p.sku.clone(), products.len());
                products.push(p);
            }
        }
        if products.is_empty() {
            return Err(Error::invalid_input("catalog.products", "no valid product"));
        }
        let mut promotions = Vec::new();
        if let Some(items) = input::array(obj, "promotions", path, w) {
            if items.len() > MAX_PROMOTIONS {
                w.push(
                    "catalog.promotions",
                    format!("{} entries; kept the first {MAX_PROMOTIONS}", items.len()),
                );
            }
            for (i, item) in items.iter().take(MAX_PROMOTIONS).enumerate() {
                promotions.extend(promotion(item, &index("catalog.promotions", i), w));
            }
        }
        Ok(Catalog {
            store,
            currency,
            products,
            promotions,
            by_sku,
        })
    }

    pub fn product(&self, sku: &str) -> Option<&Product> {
        self.by_sku.get(sku).map(|&i| &self.products[i])
    }

    pub fn format_price(&self, cents: i64, language: &str) -> String {
        super::money::format(cents, &self.currency, language)
    }
}
