//! Which languages each model family writes copy in: the one table, keyed by
//! GGUF `general.architecture`. The engine reports it (`ModelInfo::languages`,
//! [`crate::textgen::TextGenerator::languages`]) and the writer resolves a
//! visitor's locale against it. A language is listed only once the family's
//! copy in it passed every check on the Northwind fixtures (README,
//! "Languages"); an architecture not listed writes [`DEFAULT`].

/// (architecture, primary language subtags it writes; the first is its best).
pub const TABLE: &[(&str, &[&str])] = &[
    // SmolLM2 (llama architecture) was trained on English text only.
    ("llama", &["en"]),
    // Gemma 3 270M (base): 140+ languages in pre-training; these are the ones
    // whose Northwind copy passed every check (`banneret eval --locale`).
    ("gemma3", &["en", "zh", "de", "fr", "es", "ja"]),
];

/// Languages of an architecture the table does not know.
pub const DEFAULT: &[&str] = &["en"];

/// The languages a model of `architecture` writes.
pub fn for_architecture(architecture: &str) -> &'static [&'static str] {
    TABLE
        .iter()
        .find(|(a, _)| *a == architecture)
        .map_or(DEFAULT, |(_, langs)| langs)
}

/// [`DEFAULT`] as owned strings.
pub fn default_languages() -> Vec<String> {
    DEFAULT.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_architectures() {
        assert_eq!(for_architecture("llama"), &["en"]);
        assert!(for_architecture("gemma3").contains(&"zh"));
        assert_eq!(for_architecture("mamba"), DEFAULT);
    }
}
