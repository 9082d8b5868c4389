//! The one table of content kinds: their fields, each field's character limit
//! (perceived characters, DESIGN.md's platform conventions), the labels the
//! prompt asks for and the parser accepts, and the token budget per kind.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentKind {
    Banner,
    SearchAd,
    SocialPost,
    EmailSubject,
    ProductBlurb,
}

/// One field of a kind's copy.
#[derive(Debug)]
pub struct FieldSpec {
    /// Key in the result's `copy` object.
    pub name: &'static str,
    /// Label in the prompt's output format ("Headline 1").
    pub label: &'static str,
    /// Labels the parser maps to this field's group (lower case, no number).
    pub aliases: &'static [&'static str],
    /// For repeated fields (search-ad headlines): 1-based position in the group.
    pub position: Option<u8>,
    /// Hard limit in perceived characters.
    pub max: usize,
    /// Below this many perceived characters the field is not real copy.
    pub min: usize,
    /// Share of `max` that reads best (length-fit score is 1 inside it).
    pub ideal: (f32, f32),
}

impl FieldSpec {
    /// A button label ("CTA"), which may echo the copy around it.
    pub fn is_call_to_action(&self) -> bool {
        self.aliases == CTA
    }
}

#[derive(Debug)]
pub struct KindSpec {
    pub kind: ContentKind,
    /// Name in requests and results.
    pub name: &'static str,
    /// How the prompt names the thing to write.
    pub noun: &'static str,
    /// The same, plural, for the system turn.
    pub noun_plural: &'static str,
    pub fields: &'static [FieldSpec],
    /// Token budget for one variant (the output format's labels included).
    pub max_new_tokens: u32,
}

const HEADLINE: &[&str] = &["headline", "title", "heading", "header"];
const SUBLINE: &[&str] = &[
    "subline",
    "subheadline",
    "sub-headline",
    "subheading",
    "subtitle",
    "tagline",
    "body",
    "text",
    "description",
];
const CTA: &[&str] = &[
    "cta",
    "call to action",
    "call-to-action",
    "button",
    "button text",
];
const DESCRIPTION: &[&str] = &["description", "desc", "body", "text"];
const POST: &[&str] = &["post", "social post", "text", "tweet", "caption"];
const SUBJECT: &[&str] = &["subject", "subject line", "email subject", "title"];
const BLURB: &[&str] = &[
    "blurb",
    "product blurb",
    "description",
    "product description",
    "text",
];

const fn field(
    name: &'static str,
    label: &'static str,
    aliases: &'static [&'static str],
    position: Option<u8>,
    max: usize,
    min: usize,
    ideal: (f32, f32),
) -> FieldSpec {
    FieldSpec {
        name,
        label,
        aliases,
        position,
        max,
        min,
        ideal,
    }
}

pub const KINDS: &[KindSpec] = &[
    KindSpec {
        kind: ContentKind::Banner,
        name: "banner",
        noun: "a web banner",
        noun_plural: "web banners",
        fields: &[
            field("headline", "Headline", HEADLINE, None, 40, 3, (0.45, 1.0)),
            field("subline", "Subline", SUBLINE, None, 90, 10, (0.4, 1.0)),
            field("cta", "CTA", CTA, None, 20, 2, (0.25, 0.9)),
        ],
        max_new_tokens: 64,
    },
    KindSpec {
        kind: ContentKind::SearchAd,
        name: "search_ad",
        noun: "a search ad",
        noun_plural: "search ads",
        fields: &[
            field(
                "headline_1",
                "Headline 1",
                HEADLINE,
                Some(1),
                30,
                3,
                (0.5, 1.0),
            ),
            field(
                "headline_2",
                "Headline 2",
                HEADLINE,
                Some(2),
                30,
                3,
                (0.5, 1.0),
            ),
            field(
                "headline_3",
                "Headline 3",
                HEADLINE,
                Some(3),
                30,
                3,
                (0.5, 1.0),
            ),
            field(
                "description_1",
                "Description 1",
                DESCRIPTION,
                Some(1),
                90,
                10,
                (0.5, 1.0),
            ),
            field(
                "description_2",
                "Description 2",
                DESCRIPTION,
                Some(2),
                90,
                10,
                (0.5, 1.0),
            ),
        ],
        max_new_tokens: 128,
    },
    KindSpec {
        kind: ContentKind::SocialPost,
        name: "social_post",
        noun: "a social media post",
        noun_plural: "social media posts",
        fields: &[field("post", "Post", POST, None, 280, 20, (0.3, 0.85))],
        max_new_tokens: 96,
    },
    KindSpec {
        kind: ContentKind::EmailSubject,
        name: "email_subject",
        noun: "an email subject line",
        noun_plural: "email subject lines",
        fields: &[field(
            "subject",
            "Subject",
            SUBJECT,
            None,
            60,
            5,
            (0.4, 1.0),
        )],
        max_new_tokens: 32,
    },
    KindSpec {
        kind: ContentKind::ProductBlurb,
        name: "product_blurb",
        noun: "a short product description",
        noun_plural: "short product descriptions",
        fields: &[field("blurb", "Blurb", BLURB, None, 300, 30, (0.35, 0.9))],
        max_new_tokens: 112,
    },
];

impl ContentKind {
    pub fn spec(self) -> &'static KindSpec {
        // KINDS lists every variant once; the index is the variant's position.
        &KINDS[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn fields(self) -> &'static [FieldSpec] {
        self.spec().fields
    }

    pub fn field(self, name: &str) -> Option<&'static FieldSpec> {
        self.fields().iter().find(|f| f.name == name)
    }

    /// Parses a kind name as a request or the command line spells it.
    pub fn parse(s: &str) -> Result<Self> {
        let norm = s.trim().to_lowercase().replace('-', "_");
        KINDS
            .iter()
            .find(|k| k.name == norm)
            .map(|k| k.kind)
            .ok_or_else(|| {
                Error::invalid_request(
                    "kind",
                    format!(
                        "unknown content kind '{s}' (expected one of: {})",
                        KINDS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
                    ),
                )
            })
    }

    pub fn all() -> impl Iterator<Item = ContentKind> {
        KINDS.iter().map(|k| k.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_variant() {
        for (i, k) in KINDS.iter().enumerate() {
            assert_eq!(k.kind as usize, i);
            assert_eq!(ContentKind::parse(k.name).unwrap(), k.kind);
        }
        assert_eq!(ContentKind::Banner.field("headline").unwrap().max, 40);
        assert_eq!(ContentKind::Banner.field("subline").unwrap().max, 90);
        assert_eq!(ContentKind::Banner.field("cta").unwrap().max, 20);
        assert_eq!(ContentKind::SearchAd.field("headline_3").unwrap().max, 30);
        assert_eq!(
            ContentKind::SearchAd.field("description_2").unwrap().max,
            90
        );
        assert_eq!(ContentKind::SocialPost.field("post").unwrap().max, 280);
        assert_eq!(ContentKind::EmailSubject.field("subject").unwrap().max, 60);
        assert_eq!(ContentKind::ProductBlurb.field("blurb").unwrap().max, 300);
        assert!(ContentKind::parse("banners").is_err());
        assert_eq!(
            ContentKind::parse("search-ad").unwrap(),
            ContentKind::SearchAd
        );
    }
}
