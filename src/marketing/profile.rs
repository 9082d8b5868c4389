//! The visitor profile (fixture format), read tolerantly and cleaned: wrong
//! types dropped, counts and weights clamped, bad dates cleared, unknown SKUs
//! dropped, lists capped (keeping the most recent), free text sanitized —
//! each change reported as a warning naming the field. Without consent only
//! `locale` is read (it picks the language, as the browser's own
//! Accept-Language header already does); nothing personal is looked at.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::catalog::Catalog;
use super::date::{self, Instant};
use super::input::{self, child, index, Warnings};
use super::sanitize::{self, preview};
use crate::error::{Error, Result};

pub const MAX_TEXT: usize = 100;
pub const MAX_INTERESTS: usize = 50;
pub const MAX_VIEWED: usize = 500;
pub const MAX_CART: usize = 100;
pub const MAX_PURCHASED: usize = 500;
pub const MAX_SEARCHES: usize = 50;
pub const MAX_COUNT: f64 = 10_000.0;
const MAX_HOSTILE: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Device {
    Mobile,
    Tablet,
    Desktop,
}

/// A cleaned string from the profile and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Text {
    pub text: String,
    /// Field path, e.g. `profile.searches[1]`.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interest {
    pub topic: Text,
    /// 0..=1.
    pub weight: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Viewed {
    pub sku: String,
    pub count: u32,
    #[serde(skip)]
    pub last: Option<Instant>,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CartItem {
    pub sku: String,
    pub qty: u32,
    #[serde(skip)]
    pub added: Option<Instant>,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Purchase {
    pub sku: String,
    #[serde(skip)]
    pub date: Option<Instant>,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Referrer {
    pub source: Option<Text>,
    pub medium: Option<Text>,
    pub campaign: Option<Text>,
}

/// A cleaned profile. Every string in it is safe to quote in a prompt.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Profile {
    pub consent: bool,
    pub locale: Option<String>,
    pub interests: Vec<Interest>,
    pub viewed: Vec<Viewed>,
    pub cart: Vec<CartItem>,
    pub purchased: Vec<Purchase>,
    pub searches: Vec<Text>,
    pub visit_count: Option<u32>,
    pub referrer: Option<Referrer>,
    #[serde(skip)]
    pub local_time: Option<Instant>,
    pub device: Option<Device>,
    /// Raw strings that carried markup, chat tokens or instructions: material
    /// the copy must never echo.
    #[serde(skip)]
    pub hostile: Vec<String>,
}

impl Profile {
    /// Whether anything personal is known (consent given and some signal present).
    pub fn has_signals(&self) -> bool {
        self.consent
            && (!self.interests.is_empty()
                || !self.viewed.is_empty()
                || !self.cart.is_empty()
                || !self.purchased.is_empty()
                || !self.searches.is_empty()
                || self.visit_count.is_some()
                || self.referrer.is_some())
    }

    /// The latest moment the profile mentions: "now" when nothing better is known.
    pub fn latest_instant(&self) -> Option<Instant> {
        let all = self
            .viewed
            .iter()
            .filter_map(|v| v.last)
            .chain(self.cart.iter().filter_map(|c| c.added))
            .chain(self.purchased.iter().filter_map(|p| p.date))
            .chain(self.local_time);
        all.fold(None, |acc: Option<Instant>, t| {
            Some(acc.map_or(t, |a| if t.0 > a.0 { t } else { a }))
        })
    }

    /// Reads and cleans a profile. `None` or `{}` is an empty profile.
    pub fn from_value(
        value: Option<&Value>,
        catalog: &Catalog,
        w: &mut Warnings,
    ) -> Result<Profile> {
        let empty = Map::new();
        let obj = match value {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(o)) => o,
            Some(other) => {
                return Err(Error::invalid_input(
                    "profile",
                    format!("expected an object, got {}", input::type_name(other)),
                ))
            }
        };
        let mut reader = Reader {
            catalog,
            w,
            hostile: Vec::new(),
        };
        let mut p = Profile {
            consent: reader.consent(obj),
            locale: reader.locale(obj),
            ..Profile::default()
        };
        if !p.consent {
            let personal = obj
                .keys()
                .any(|k| !matches!(k.as_str(), "id" | "consent" | "locale"));
            if personal {
                reader.w.push(
                    "profile.consent.personalization",
                    "not given: personal fields are not read",
                );
            }
            return Ok(p);
        }
        p.interests = reader.interests(obj);
        p.viewed = reader.viewed(obj);
        p.cart = reader.cart(obj);
        p.purchased = reader.purchased(obj);
        p.searches = reader.searches(obj);
        p.visit_count = reader.visits(obj);
        p.referrer = reader.referrer(obj);
        if let Some(ctx) = input::object(obj, "context", "profile", reader.w) {
            p.local_time = reader.date(ctx, "local_time", "profile.context");
            p.device = match input::string(ctx, "device", "profile.context", reader.w) {
                None => None,
                Some(d) => match d.trim().to_lowercase().as_str() {
                    "mobile" | "phone" => Some(Device::Mobile),
                    "tablet" => Some(Device::Tablet),
                    "desktop" | "laptop" => Some(Device::Desktop),
                    _ => {
                        reader.w.push(
                            "profile.context.device",
                            format!("{} is not mobile, tablet or desktop; ignored", preview(&d)),
                        );
                        None
                    }
                },
            };
        }
        p.hostile = reader.hostile;
        Ok(p)
    }
}

struct Reader<'a> {
    catalog: &'a Catalog,
    w: &'a mut Warnings,
    hostile: Vec<String>,
}

impl Reader<'_> {
    fn consent(&mut self, obj: &Map<String, Value>) -> bool {
        input::object(obj, "consent", "profile", self.w)
            .and_then(|c| input::boolean(c, "personalization", "profile.consent", self.w))
            .unwrap_or(false)
    }

    fn locale(&mut self, obj: &Map<String, Value>) -> Option<String> {
        let raw = input::string(obj, "locale", "profile", self.w)?;
        if super::lang::is_language_tag(&raw) {
            Some(raw.replace('_', "-"))
        } else {
            self.w.push(
                "profile.locale",
                format!(
                    "{} is not a language tag such as en-US; ignored",
                    preview(&raw)
                ),
            );
            None
        }
    }

    /// Cleans free text; hostile raw strings are remembered, injection text dropped.
    fn text(&mut self, raw: &str, path: &str) -> Option<Text> {
        let cleaned = sanitize::clean(raw, MAX_TEXT);
        for note in &cleaned.notes {
            self.w.push(path, *note);
        }
        if cleaned.hostile && self.hostile.len() < MAX_HOSTILE {
            self.hostile.push(raw.chars().take(500).collect());
        }
        (!cleaned.text.is_empty()).then(|| Text {
            text: cleaned.text,
            source: path.to_string(),
        })
    }

    fn date(&mut self, obj: &Map<String, Value>, key: &str, path: &str) -> Option<Instant> {
        let raw = input::string(obj, key, path, self.w)?;
        match date::parse(&raw) {
            Ok(t) => Some(t),
            Err(why) => {
                self.w.push(child(path, key), format!("{why}; ignored"));
                None
            }
        }
    }

    /// A count: negative → 0, fractional → rounded down, huge → capped.
    fn count(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: &str,
        default: u32,
    ) -> Option<u32> {
        if input::member(obj, key).is_none() {
            return Some(default);
        }
        let v = input::number(obj, key, path, self.w)?;
        let field = child(path, key);
        if v < 0.0 {
            self.w.push(field, format!("{v} is negative; clamped to 0"));
            return Some(0);
        }
        if v > MAX_COUNT {
            self.w.push(
                field,
                format!("{v} is implausibly large; clamped to {MAX_COUNT}"),
            );
            return Some(MAX_COUNT as u32);
        }
        if v.fract() != 0.0 {
            self.w
                .push(field, format!("{v} is not a whole number; rounded down"));
        }
        Some(v.floor() as u32)
    }

    /// A SKU that exists in the catalog; anything else is dropped with a warning.
    fn sku(&mut self, obj: &Map<String, Value>, path: &str) -> Option<String> {
        let Some(raw) = input::string(obj, "sku", path, self.w) else {
            self.w.push(child(path, "sku"), "missing; entry dropped");
            return None;
        };
        let sku = raw.trim();
        if self.catalog.product(sku).is_some() {
            Some(sku.to_string())
        } else {
            self.w.push(
                child(path, "sku"),
                format!("{} is not in the catalog; entry dropped", preview(&raw)),
            );
            None
        }
    }

    fn items<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        key: &str,
    ) -> Vec<(usize, String, &'v Map<String, Value>)> {
        let Some(items) = input::array(obj, key, "profile", self.w) else {
            return Vec::new();
        };
        let list = child("profile", key);
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let path = index(&list, i);
            match item {
                Value::Object(o) => out.push((i, path, o)),
                Value::Null => {}
                other => self.w.push(
                    path,
                    format!(
                        "expected an object, got {}; dropped",
                        input::type_name(other)
                    ),
                ),
            }
        }
        out
    }

    fn interests(&mut self, obj: &Map<String, Value>) -> Vec<Interest> {
        let mut out = Vec::new();
        for (_, path, item) in self.items(obj, "interests") {
            let Some(raw) = input::string(item, "topic", &path, self.w) else {
                self.w.push(child(&path, "topic"), "missing; entry dropped");
                continue;
            };
            let Some(topic) = self.text(&raw, &child(&path, "topic")) else {
                continue;
            };
            let weight = match input::number(item, "weight", &path, self.w) {
                None => 0.5,
                Some(v) if !(0.0..=1.0).contains(&v) => {
                    let c = v.clamp(0.0, 1.0);
                    self.w.push(
                        child(&path, "weight"),
                        format!("{v} is outside 0..1; clamped to {c}"),
                    );
                    c
                }
                Some(v) => v,
            };
            out.push(Interest { topic, weight });
        }
        if out.len() > MAX_INTERESTS {
            self.w.push(
                "profile.interests",
                format!("{} entries; kept the {MAX_INTERESTS} strongest", out.len()),
            );
            out.sort_by(|a, b| b.weight.total_cmp(&a.weight));
            out.truncate(MAX_INTERESTS);
        }
        out
    }

    fn viewed(&mut self, obj: &Map<String, Value>) -> Vec<Viewed> {
        let mut merged: Vec<Viewed> = Vec::new();
        let mut at: HashMap<String, usize> = HashMap::new();
        let mut entries = 0usize;
        for (_, path, item) in self.items(obj, "viewed") {
            let Some(sku) = self.sku(item, &path) else {
                continue;
            };
            let Some(count) = self.count(item, "count", &path, 1) else {
                continue;
            };
            let last = self.date(item, "last", &path);
            entries += 1;
            match at.get(&sku) {
                Some(&i) => {
                    let v = &mut merged[i];
                    v.count = v.count.saturating_add(count).min(MAX_COUNT as u32);
                    if last.is_some_and(|l| v.last.is_none_or(|o| l.0 > o.0)) {
                        v.last = last;
                        v.source = path;
                    }
                }
                None => {
                    at.insert(sku.clone(), merged.len());
                    merged.push(Viewed {
                        sku,
                        count,
                        last,
                        source: path,
                    });
                }
            }
        }
        if entries > merged.len() {
            self.w.push(
                "profile.viewed",
                format!(
                    "{entries} entries for {} products; repeated SKUs merged",
                    merged.len()
                ),
            );
        }
        if merged.len() > MAX_VIEWED {
            self.w.push(
                "profile.viewed",
                format!(
                    "{} products; kept the {MAX_VIEWED} most recent",
                    merged.len()
                ),
            );
            merged.sort_by(|a, b| {
                b.last
                    .map_or(f64::MIN, |t| t.0)
                    .total_cmp(&a.last.map_or(f64::MIN, |t| t.0))
            });
            merged.truncate(MAX_VIEWED);
        }
        merged
    }

    fn cart(&mut self, obj: &Map<String, Value>) -> Vec<CartItem> {
        let mut out: Vec<CartItem> = Vec::new();
        for (_, path, item) in self.items(obj, "cart") {
            let Some(sku) = self.sku(item, &path) else {
                continue;
            };
            let Some(qty) = self.count(item, "qty", &path, 1) else {
                continue;
            };
            if qty == 0 {
                self.w.push(child(&path, "qty"), "0 items; entry dropped");
                continue;
            }
            let added = self.date(item, "added", &path);
            if out.iter().any(|c| c.sku == sku) {
                self.w
                    .push(child(&path, "sku"), "already in the cart; entry merged");
                continue;
            }
            out.push(CartItem {
                sku,
                qty,
                added,
                source: path,
            });
        }
        if out.len() > MAX_CART {
            self.w.push(
                "profile.cart",
                format!("{} entries; kept the first {MAX_CART}", out.len()),
            );
            out.truncate(MAX_CART);
        }
        out
    }

    fn purchased(&mut self, obj: &Map<String, Value>) -> Vec<Purchase> {
        let mut out = Vec::new();
        for (_, path, item) in self.items(obj, "purchased") {
            let Some(sku) = self.sku(item, &path) else {
                continue;
            };
            let date = self.date(item, "date", &path);
            out.push(Purchase {
                sku,
                date,
                source: path,
            });
        }
        if out.len() > MAX_PURCHASED {
            self.w.push(
                "profile.purchased",
                format!(
                    "{} entries; kept the {MAX_PURCHASED} most recent",
                    out.len()
                ),
            );
            out.sort_by(|a, b| {
                b.date
                    .map_or(f64::MIN, |t| t.0)
                    .total_cmp(&a.date.map_or(f64::MIN, |t| t.0))
            });
            out.truncate(MAX_PURCHASED);
        }
        out
    }

    fn searches(&mut self, obj: &Map<String, Value>) -> Vec<Text> {
        let all = input::strings(obj, "searches", "profile", self.w);
        let skip = all.len().saturating_sub(MAX_SEARCHES);
        if skip > 0 {
            self.w.push(
                "profile.searches",
                format!(
                    "{} entries; kept the {MAX_SEARCHES} most recent (last)",
                    all.len()
                ),
            );
        }
        let mut out = Vec::new();
        for (i, raw) in all.into_iter().skip(skip) {
            let path = index("profile.searches", i);
            if let Some(t) = self.text(&raw, &path) {
                if !out
                    .iter()
                    .any(|o: &Text| o.text.eq_ignore_ascii_case(&t.text))
                {
                    out.push(t);
                }
            }
        }
        out
    }

    fn visits(&mut self, obj: &Map<String, Value>) -> Option<u32> {
        let v = input::object(obj, "visits", "profile", self.w)?;
        self.date(v, "first", "profile.visits");
        self.date(v, "last", "profile.visits");
        input::member(v, "count")?;
        self.count(v, "count", "profile.visits", 0)
    }

    fn referrer(&mut self, obj: &Map<String, Value>) -> Option<Referrer> {
        let r = input::object(obj, "referrer", "profile", self.w)?;
        let field = |key: &str, this: &mut Self| {
            let raw = input::string(r, key, "profile.referrer", this.w)?;
            this.text(&raw, &child("profile.referrer", key))
        };
        let source = field("source", self);
        let medium = field("medium", self);
        let campaign = field("campaign", self);
        (source.is_some() || medium.is_some() || campaign.is_some()).then_some(Referrer {
            source,
            medium,
            campaign,
        })
    }
}
