//! Text ⇄ token ids, built from a GGUF's own `tokenizer.ggml.*` metadata so
//! that [`Tokenizer::encode`] returns exactly what llama.cpp's
//! `llama_tokenize(vocab, text, add_special=false, parse_special)` returns and
//! [`Tokenizer::token_bytes`] exactly what `llama_token_to_piece(.., special=true)` does
//! (source of truth: llama.cpp `src/llama-vocab.cpp`, `src/unicode.cpp`).
//!
//! Pipeline: special-token partition (ours, as llama.cpp's `tokenizer_st_partition`),
//! then per raw-text fragment either byte-level BPE (`tokenizer.ggml.model = "gpt2"`:
//! the `tokenizers` crate's regex `Split`s + `ByteLevel` + `BPE`, with llama.cpp's
//! per-`tokenizer.ggml.pre` regex lists) or SentencePiece-style BPE
//! (`"llama"`: llama.cpp's score-driven bigram merge with `<0xAB>` byte fallback).
//! Invariant: every id this module hands out is `< vocab_size()`.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{
    Model, OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer, PreTokenizerWrapper,
    SplitDelimiterBehavior,
};

use crate::error::{Error, Result};
use crate::gguf::Metadata;

// Token attributes, bit for bit llama.cpp's `llama_token_attr`.
const ATTR_UNKNOWN: u16 = 1 << 0;
const ATTR_UNUSED: u16 = 1 << 1;
const ATTR_NORMAL: u16 = 1 << 2;
const ATTR_CONTROL: u16 = 1 << 3;
const ATTR_USER_DEFINED: u16 = 1 << 4;
const ATTR_BYTE: u16 = 1 << 5;
const ATTR_LSTRIP: u16 = 1 << 7;
const ATTR_RSTRIP: u16 = 1 << 8;

/// Tokens the special-token partition looks for (llama.cpp `cache_special_tokens`).
const ATTR_SPECIAL: u16 = ATTR_CONTROL | ATTR_USER_DEFINED | ATTR_UNKNOWN;

/// GPT-2's pre-tokenizer regex. llama.cpp writes it without the final `|\s+`
/// but its hand-written matcher (`unicode_regex_split_custom_gpt2`) implements it.
const RE_GPT2: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
const RE_LLAMA3: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const RE_QWEN2: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// One pre-tokenizer family of llama.cpp's `llm_tokenizer_bpe` constructor.
struct PreFamily {
    /// `tokenizer.ggml.pre` values llama.cpp maps to this family.
    names: &'static [&'static str],
    /// Applied in order, each splitting the pieces of the previous one.
    regexes: &'static [&'static str],
    /// A word that is itself a token is not merged (llama.cpp `ignore_merges`).
    ignore_merges: bool,
    /// llama.cpp's default for `add_bos` before `tokenizer.ggml.add_bos_token` overrides it.
    add_bos: bool,
}

/// The `tokenizer.ggml.pre` families this build reproduces. A GGUF without
/// `tokenizer.ggml.pre` gets `default`, as llama.cpp does (it warns that quality
/// degrades); any other unknown value is an error, as in llama.cpp.
const PRE_FAMILIES: &[PreFamily] = &[
    PreFamily {
        names: &["default"],
        regexes: &[
            r"[\p{P}\$\+<=>\^~\|]+",
            RE_GPT2,
            r"\p{N}+",
            "[0-9][0-9][0-9]",
        ],
        ignore_merges: false,
        add_bos: false,
    },
    PreFamily {
        names: &[
            "gpt-2",
            "phi-2",
            "jina-es",
            "jina-de",
            "gigachat",
            "jina-v2-es",
            "jina-v2-de",
            "a.x-4.0",
            "mellum",
            "modern-bert",
            "mpt",
            "olmo",
            "jais",
            "trillion",
            "granite-docling",
            "exaone4",
        ],
        regexes: &[RE_GPT2],
        ignore_merges: false,
        add_bos: false,
    },
    PreFamily {
        names: &[
            "smollm",
            "starcoder",
            "refact",
            "command-r",
            "codeshell",
            "exaone",
            "minerva-7b",
            "mellum2",
        ],
        regexes: &[r"\p{N}", RE_GPT2],
        ignore_merges: false,
        add_bos: false,
    },
    PreFamily {
        names: &[
            "llama3",
            "llama-v3",
            "llama-bpe",
            "falcon3",
            "falcon-h1",
            "pixtral",
            "midm-2.0",
            "lfm2",
            "jina-v5-nano",
        ],
        regexes: &[RE_LLAMA3],
        ignore_merges: true,
        add_bos: true,
    },
    PreFamily {
        names: &["dbrx", "smaug-bpe"],
        regexes: &[RE_LLAMA3],
        ignore_merges: false,
        add_bos: false,
    },
    PreFamily {
        names: &[
            "qwen2",
            "deepseek-r1-qwen",
            "kormo",
            "f2llmv2",
            "stablelm2",
            "hunyuan",
            "solar-open",
            "megrez",
        ],
        regexes: &[RE_QWEN2],
        ignore_merges: false,
        add_bos: false,
    },
];

/// End-of-generation tokens llama.cpp recognises by text (`special_eog_ids`).
const EOG_TEXTS: &[&str] = &[
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<|return|>",
    "<|call|>",
    "<|flush|>",
    "<|calls|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "</s>",
    "<|eom_id|>",
    "<EOT>",
    "_<EOT>",
    "[EOT]",
    "[EOS]",
    "<|end_of_text|>",
    "<end_of_utterance>",
    "<eos>",
    "<turn|>",
    "<|tool_response>",
    "<｜end▁of▁sentence｜>",
    "[e~[",
];
/// End-of-turn candidates when `tokenizer.ggml.eot_token_id` is absent. llama.cpp
/// takes the first it meets in hash order; we take the first in this order.
const EOT_TEXTS: &[&str] = &[
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "<|end_of_text|>",
    "<EOT>",
    "_<EOT>",
    "[EOT]",
    "<｜end▁of▁sentence｜>",
    "<end_of_utterance>",
];
const EOM_TEXTS: &[&str] = &["<|eom_id|>"];
const FIM_PRE_TEXTS: &[&str] = &[
    "<|fim_prefix|>",
    "<fim-prefix>",
    "<fim_prefix>",
    "<｜fim▁begin｜>",
    "<PRE>",
    "▁<PRE>",
    "<|code_prefix|>",
    "<|prefix|>",
];
const FIM_SUF_TEXTS: &[&str] = &[
    "<|fim_suffix|>",
    "<fim-suffix>",
    "<fim_suffix>",
    "<｜fim▁hole｜>",
    "<SUF>",
    "▁<SUF>",
    "<|code_suffix|>",
    "<|suffix|>",
];
const FIM_MID_TEXTS: &[&str] = &[
    "<|fim_middle|>",
    "<fim-middle>",
    "<fim_middle>",
    "<｜fim▁end｜>",
    "<MID>",
    "▁<MID>",
    "<|code_middle|>",
    "<|middle|>",
];
const FIM_PAD_TEXTS: &[&str] = &["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"];
const FIM_REP_TEXTS: &[&str] = &[
    "<|fim_repo|>",
    "<|repo_name|>",
    "<fim-repo>",
    "<REPO>",
    "<reponame>",
];
const FIM_SEP_TEXTS: &[&str] = &["<|file_sep|>"];

/// Special token ids and flags, as llama.cpp resolves them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialTokens {
    pub bos: Option<u32>,
    pub eos: Option<u32>,
    /// End of turn (e.g. ChatML `<|im_end|>`), from metadata or recognised by text.
    pub eot: Option<u32>,
    /// Every token that ends generation, ascending.
    pub eog: Vec<u32>,
    /// Whether the model expects BOS at the start of a prompt (the engine adds it).
    pub add_bos: bool,
}

/// Byte-level BPE (GPT-2 style) or SentencePiece-style BPE.
enum Engine {
    ByteBpe { pre: Sequence, bpe: Box<BPE> },
    Spm { add_space_prefix: bool },
}

/// A tokenizer built from GGUF metadata. Cheap to share (`&self` everywhere).
pub struct Tokenizer {
    texts: Vec<String>,
    attrs: Vec<u16>,
    scores: Vec<f32>,
    by_text: HashMap<String, u32>,
    /// `llama_token_to_piece(id, special=true)` for every id.
    pieces: Vec<Vec<u8>>,
    /// Control, user-defined and unknown tokens, longest text first.
    special_order: Vec<u32>,
    specials: SpecialTokens,
    engine: Engine,
}

enum Fragment {
    Text(usize, usize),
    Token(u32),
}

impl Tokenizer {
    /// Builds the tokenizer `tokenizer.ggml.model` names: `gpt2` (byte-level BPE,
    /// with a supported `tokenizer.ggml.pre`) or `llama` (SentencePiece-style).
    pub fn from_metadata(md: &Metadata) -> Result<Tokenizer> {
        let model = md.str("tokenizer.ggml.model")?;
        let pre_name = md.opt_str("tokenizer.ggml.pre")?;
        let texts = read_tokens(md)?;
        let n = texts.len();
        let mut attrs = read_attrs(md, n)?;
        let scores = match md.get("tokenizer.ggml.scores") {
            None => vec![0.0; n],
            Some(_) => {
                let s = md.floats("tokenizer.ggml.scores")?;
                if s.len() < n {
                    return Err(Error::Tokenizer(format!(
                        "tokenizer.ggml.scores has {} entries for {n} tokens",
                        s.len()
                    )));
                }
                s
            }
        };
        let mut by_text = HashMap::with_capacity(n);
        for (i, t) in texts.iter().enumerate() {
            if let Some(prev) = by_text.insert(t.clone(), i as u32) {
                return Err(Error::Tokenizer(format!(
                    "duplicate token in tokenizer.ggml.tokens: {t:?} has ids {prev} and {i}"
                )));
            }
        }

        // llama.cpp's per-model defaults, before metadata overrides them.
        let (mut bos, mut eos, mut add_bos, engine) = match model {
            "gpt2" => {
                let family = match pre_name {
                    None => &PRE_FAMILIES[0],
                    Some(p) => PRE_FAMILIES
                        .iter()
                        .find(|f| f.names.contains(&p))
                        .ok_or_else(|| {
                            Error::Tokenizer(format!(
                                "unsupported tokenizer.ggml.pre '{p}' (supported: {})",
                                PRE_FAMILIES
                                    .iter()
                                    .flat_map(|f| f.names.iter().copied())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ))
                        })?,
                };
                let engine = byte_bpe(md, &texts, &by_text, family)?;
                (Some(11), Some(11), family.add_bos, engine)
            }
            "llama" => {
                let add_space_prefix = md
                    .opt_bool("tokenizer.ggml.add_space_prefix")?
                    .unwrap_or(true);
                (Some(1), Some(2), true, Engine::Spm { add_space_prefix })
            }
            other => {
                return Err(Error::Tokenizer(format!(
                    "unsupported tokenizer.ggml.model '{other}' (supported: gpt2, llama)"
                )))
            }
        };
        let in_vocab = |id: Option<u32>| id.filter(|&i| (i as usize) < n);
        bos = in_vocab(bos);
        eos = in_vocab(eos);
        let key_id = |key: &str, default: Option<u32>| -> Result<Option<u32>> {
            // An out-of-range id in metadata keeps the default, as in llama.cpp.
            Ok(match md.opt_u64(key)? {
                Some(v) if v < n as u64 => Some(v as u32),
                _ => default,
            })
        };
        bos = key_id("tokenizer.ggml.bos_token_id", bos)?;
        eos = key_id("tokenizer.ggml.eos_token_id", eos)?;
        let mut eot = key_id("tokenizer.ggml.eot_token_id", None)?;
        let mut eom = key_id("tokenizer.ggml.eom_token_id", None)?;
        let mut fim_pre = key_id("tokenizer.ggml.prefix_token_id", None)?;
        fim_pre = key_id("tokenizer.ggml.fim_pre_token_id", fim_pre)?;
        let mut fim_suf = key_id("tokenizer.ggml.suffix_token_id", None)?;
        fim_suf = key_id("tokenizer.ggml.fim_suf_token_id", fim_suf)?;
        let mut fim_mid = key_id("tokenizer.ggml.middle_token_id", None)?;
        fim_mid = key_id("tokenizer.ggml.fim_mid_token_id", fim_mid)?;
        let mut fim_pad = key_id("tokenizer.ggml.fim_pad_token_id", None)?;
        let mut fim_rep = key_id("tokenizer.ggml.fim_rep_token_id", None)?;
        let mut fim_sep = key_id("tokenizer.ggml.fim_sep_token_id", None)?;
        if let Some(b) = md.opt_bool("tokenizer.ggml.add_bos_token")? {
            add_bos = b;
        }
        if add_bos && bos.is_none() {
            return Err(Error::Tokenizer(
                "tokenizer.ggml.add_bos_token is true, but tokenizer.ggml.bos_token_id is not set"
                    .into(),
            ));
        }

        // Recognise special tokens by text, forcing them to CONTROL (llama.cpp does the same).
        let mut by_list = |slot: &mut Option<u32>, list: &[&str]| {
            if slot.is_none() {
                *slot = list.iter().find_map(|t| by_text.get(*t).copied());
                if let Some(id) = *slot {
                    attrs[id as usize] |= ATTR_CONTROL;
                }
            }
        };
        by_list(&mut eot, EOT_TEXTS);
        by_list(&mut eom, EOM_TEXTS);
        by_list(&mut fim_pre, FIM_PRE_TEXTS);
        by_list(&mut fim_suf, FIM_SUF_TEXTS);
        by_list(&mut fim_mid, FIM_MID_TEXTS);
        by_list(&mut fim_pad, FIM_PAD_TEXTS);
        by_list(&mut fim_rep, FIM_REP_TEXTS);
        by_list(&mut fim_sep, FIM_SEP_TEXTS);
        // FIM prefix/suffix/middle only matter for the CONTROL attribute just forced.
        let _ = (fim_pre, fim_suf, fim_mid);

        let mut eog: Vec<u32> = [fim_pad, fim_rep, fim_sep].into_iter().flatten().collect();
        for t in EOG_TEXTS {
            if let Some(&id) = by_text.get(*t) {
                eog.push(id);
                attrs[id as usize] |= ATTR_CONTROL;
            }
        }
        // gpt-oss: these markers always render (llama.cpp "quick hack").
        for t in ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"] {
            if let Some(&id) = by_text.get(t) {
                attrs[id as usize] = ATTR_USER_DEFINED;
            }
        }
        eog.extend([eos, eot, eom].into_iter().flatten());
        eog.sort_unstable();
        eog.dedup();
        let text_of = |id: &u32| texts[*id as usize].as_str();
        let has = |eog: &[u32], t: &str| eog.iter().any(|id| text_of(id) == t);
        // o200k_harmony / solar-open: `<|end|>` ends a message, not generation.
        if has(&eog, "<|end|>")
            && ((has(&eog, "<|return|>") && (has(&eog, "<|call|>") || has(&eog, "<|calls|>")))
                || ((has(&eog, "<|call|>") || has(&eog, "<|calls|>")) && has(&eog, "<|flush|>")))
        {
            if let Some(pos) = eog.iter().position(|id| text_of(id) == "<|end|>") {
                attrs[eog.remove(pos) as usize] = ATTR_USER_DEFINED;
            }
        }
        // gemma4 / paddleocr: `</s>` is not an end of generation next to `<|tool_response>`.
        if has(&eog, "<|tool_response>") {
            if let Some(pos) = eog.iter().position(|id| text_of(id) == "</s>") {
                attrs[eog.remove(pos) as usize] = ATTR_NORMAL;
            }
        }

        let mut special_order: Vec<u32> = (0..n as u32)
            .filter(|&id| attrs[id as usize] & ATTR_SPECIAL != 0)
            .collect();
        // llama.cpp uses an unstable sort by length; ties fall back to id here.
        special_order.sort_by(|&a, &b| {
            texts[b as usize]
                .len()
                .cmp(&texts[a as usize].len())
                .then(a.cmp(&b))
        });

        let spm = matches!(engine, Engine::Spm { .. });
        let pieces = (0..n).map(|i| piece(&texts[i], attrs[i], spm)).collect();

        // Phi-3 (by model name): special tokens swallow the whitespace after them.
        let name = md.opt_str("general.name")?.unwrap_or("").to_lowercase();
        if name.contains("phi-3") || name.contains("phi3") {
            for &id in &special_order {
                attrs[id as usize] |= ATTR_RSTRIP;
            }
            if let Some(&id) = by_text.get("</s>") {
                attrs[id as usize] |= ATTR_RSTRIP;
            }
            for t in ["<unk>", "<s>", "<|endoftext|>"] {
                if let Some(&id) = by_text.get(t) {
                    attrs[id as usize] &= !ATTR_RSTRIP;
                }
            }
        }

        Ok(Tokenizer {
            texts,
            attrs,
            scores,
            by_text,
            pieces,
            special_order,
            specials: SpecialTokens {
                bos,
                eos,
                eot,
                eog,
                add_bos,
            },
            engine,
        })
    }

    /// Token ids for `text`, no BOS/EOS added. With `parse_special`, the text of
    /// control tokens (e.g. `<|im_start|>`) becomes their id; user-defined tokens
    /// are matched either way, as in llama.cpp.
    pub fn encode(&self, text: &str, parse_special: bool) -> Result<Vec<u32>> {
        let mut out = Vec::with_capacity(text.len() / 3 + 1);
        if text.is_empty() {
            return Ok(out);
        }
        let fragments = self.partition(text, parse_special);
        let mut prev_special = true;
        for f in fragments {
            match f {
                Fragment::Token(id) => {
                    out.push(id);
                    prev_special = true;
                }
                Fragment::Text(s, e) => {
                    self.encode_fragment(&text[s..e], prev_special, &mut out)?;
                    prev_special = false;
                }
            }
        }
        Ok(out)
    }

    pub fn vocab_size(&self) -> usize {
        self.texts.len()
    }

    pub fn specials(&self) -> &SpecialTokens {
        &self.specials
    }

    pub fn is_eog(&self, id: u32) -> bool {
        self.specials.eog.binary_search(&id).is_ok()
    }

    /// The bytes a token stands for when detokenized with special=true
    /// (`llama_token_to_piece`); empty for unused/undefined tokens.
    pub fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        self.pieces.get(id as usize).map(Vec::as_slice)
    }

    /// Concatenated token bytes as text (invalid UTF-8 replaced by U+FFFD).
    /// Ids outside the vocabulary contribute nothing.
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut bytes = Vec::new();
        for &id in ids {
            if let Some(b) = self.token_bytes(id) {
                bytes.extend_from_slice(b);
            }
        }
        match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }

    /// The id of the token whose vocabulary text is exactly `text`.
    pub fn token_id(&self, text: &str) -> Option<u32> {
        self.by_text.get(text).copied()
    }

    /// The vocabulary text of a token (byte-level or `▁`-escaped form).
    pub fn token_text(&self, id: u32) -> Option<&str> {
        self.texts.get(id as usize).map(String::as_str)
    }

    /// Texts of control/special tokens, so sanitizers can strip them from untrusted text.
    pub fn special_token_texts(&self) -> Vec<&str> {
        self.special_order
            .iter()
            .map(|&id| self.texts[id as usize].as_str())
            .collect()
    }

    /// Splits `text` around special-token occurrences, longest token first
    /// (llama.cpp `tokenizer_st_partition`). CONTROL and UNKNOWN tokens are only
    /// matched with `parse_special`; LSTRIP/RSTRIP eat ASCII whitespace beside them.
    fn partition(&self, text: &str, parse_special: bool) -> Vec<Fragment> {
        let bytes = text.as_bytes();
        let mut frags = vec![Fragment::Text(0, text.len())];
        for &id in &self.special_order {
            let attr = self.attrs[id as usize];
            if !parse_special && attr & (ATTR_CONTROL | ATTR_UNKNOWN) != 0 {
                continue;
            }
            let needle = self.texts[id as usize].as_str();
            if !text.contains(needle) {
                continue;
            }
            let mut next = Vec::with_capacity(frags.len() + 2);
            for f in frags {
                let Fragment::Text(mut start, end) = f else {
                    next.push(f);
                    continue;
                };
                while let Some(rel) = text[start..end].find(needle) {
                    let m = start + rel;
                    let mut left_end = m;
                    if attr & ATTR_LSTRIP != 0 {
                        while left_end > start && is_c_space(bytes[left_end - 1]) {
                            left_end -= 1;
                        }
                    }
                    if left_end > start {
                        next.push(Fragment::Text(start, left_end));
                    }
                    next.push(Fragment::Token(id));
                    start = m + needle.len();
                    if attr & ATTR_RSTRIP != 0 {
                        while start < end && is_c_space(bytes[start]) {
                            start += 1;
                        }
                    }
                }
                if start < end {
                    next.push(Fragment::Text(start, end));
                }
            }
            frags = next;
        }
        frags
    }

    fn encode_fragment(&self, text: &str, prev_special: bool, out: &mut Vec<u32>) -> Result<()> {
        match &self.engine {
            Engine::ByteBpe { pre, bpe } => {
                let err =
                    |e: Box<dyn std::error::Error + Send + Sync>| Error::Tokenizer(e.to_string());
                let mut pts = PreTokenizedString::from(text);
                pre.pre_tokenize(&mut pts).map_err(err)?;
                for (word, _, _) in pts.get_splits(OffsetReferential::Original, OffsetType::None) {
                    out.extend(bpe.tokenize(word).map_err(err)?.into_iter().map(|t| t.id));
                }
                Ok(())
            }
            Engine::Spm { add_space_prefix } => {
                let mut s = String::with_capacity(text.len() + 4);
                if *add_space_prefix && prev_special {
                    s.push(' ');
                }
                s.push_str(text);
                self.spm_tokenize(&s.replace(' ', "\u{2581}"), out)
            }
        }
    }

    /// llama.cpp `llm_tokenizer_spm_session::tokenize`: repeatedly merge the
    /// adjacent pair whose concatenation is the highest-scoring token (leftmost
    /// on ties); characters that end up in no token fall back to `<0xAB>` bytes.
    fn spm_tokenize(&self, text: &str, out: &mut Vec<u32>) -> Result<()> {
        let mut syms: Vec<SpmSymbol> = Vec::with_capacity(text.len());
        for (i, (start, c)) in text.char_indices().enumerate() {
            let end = start + c.len_utf8();
            syms.push(SpmSymbol {
                start,
                len: c.len_utf8(),
                prev: i as isize - 1,
                next: if end == text.len() {
                    -1
                } else {
                    i as isize + 1
                },
            });
        }
        if syms.is_empty() {
            return Ok(());
        }
        let mut queue = BinaryHeap::new();
        let mut rev_merge: HashMap<&str, (usize, usize)> = HashMap::new();
        for i in 1..syms.len() {
            self.spm_try_add(
                text,
                &syms,
                i as isize - 1,
                i as isize,
                &mut queue,
                &mut rev_merge,
            );
        }
        while let Some(b) = queue.pop() {
            let (l, r) = (b.left, b.right);
            if syms[l].len == 0 || syms[r].len == 0 || syms[l].len + syms[r].len != b.size {
                continue;
            }
            syms[l].len += syms[r].len;
            syms[r].len = 0;
            syms[l].next = syms[r].next;
            if syms[r].next >= 0 {
                let nx = syms[r].next as usize;
                syms[nx].prev = l as isize;
            }
            let (p, nx) = (syms[l].prev, syms[l].next);
            self.spm_try_add(text, &syms, p, l as isize, &mut queue, &mut rev_merge);
            self.spm_try_add(text, &syms, l as isize, nx, &mut queue, &mut rev_merge);
        }
        let mut i = 0isize;
        while i != -1 {
            let mut stack = vec![i as usize];
            while let Some(s) = stack.pop() {
                let piece = &text[syms[s].start..syms[s].start + syms[s].len];
                if let Some(&id) = self.by_text.get(piece) {
                    out.push(id);
                } else if let Some(&(a, b)) = rev_merge.get(piece) {
                    stack.push(b);
                    stack.push(a);
                } else {
                    for &byte in piece.as_bytes() {
                        out.push(self.spm_byte_token(byte)?);
                    }
                }
            }
            i = syms[i as usize].next;
        }
        Ok(())
    }

    /// Queues the pair (l, r) if their concatenation is a token (llama.cpp `try_add_bigram`).
    fn spm_try_add<'t>(
        &self,
        text: &'t str,
        syms: &[SpmSymbol],
        l: isize,
        r: isize,
        queue: &mut BinaryHeap<SpmBigram>,
        rev_merge: &mut HashMap<&'t str, (usize, usize)>,
    ) {
        if l < 0 || r < 0 {
            return;
        }
        let (l, r) = (l as usize, r as usize);
        let piece = &text[syms[l].start..syms[l].start + syms[l].len + syms[r].len];
        if let Some(&id) = self.by_text.get(piece) {
            queue.push(SpmBigram {
                score: self.scores[id as usize],
                left: l,
                right: r,
                size: piece.len(),
            });
            rev_merge.insert(piece, (l, r));
        }
    }

    /// llama.cpp `byte_to_token` for SentencePiece vocabularies.
    fn spm_byte_token(&self, byte: u8) -> Result<u32> {
        let hex = format!("<0x{byte:02X}>");
        if let Some(&id) = self.by_text.get(&hex) {
            return Ok(id);
        }
        let raw = [byte];
        std::str::from_utf8(&raw)
            .ok()
            .and_then(|s| self.by_text.get(s).copied())
            .ok_or_else(|| {
                Error::Tokenizer(format!(
                    "vocabulary has no byte token {hex} for byte fallback"
                ))
            })
    }
}

struct SpmSymbol {
    start: usize,
    /// Bytes; 0 once merged into its left neighbour.
    len: usize,
    prev: isize,
    next: isize,
}

/// A candidate merge; the heap pops the highest score, leftmost on ties.
#[derive(PartialEq)]
struct SpmBigram {
    score: f32,
    left: usize,
    right: usize,
    size: usize,
}

impl Eq for SpmBigram {}

impl Ord for SpmBigram {
    fn cmp(&self, o: &Self) -> Ordering {
        self.score.total_cmp(&o.score).then(o.left.cmp(&self.left))
    }
}

impl PartialOrd for SpmBigram {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("vocab_size", &self.texts.len())
            .field(
                "engine",
                &match self.engine {
                    Engine::ByteBpe { .. } => "byte-level BPE",
                    Engine::Spm { .. } => "SentencePiece BPE",
                },
            )
            .field("specials", &self.specials)
            .finish()
    }
}

/// C `isspace` in the "C" locale, which llama.cpp's LSTRIP/RSTRIP use.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn read_tokens(md: &Metadata) -> Result<Vec<String>> {
    let raw = md.strings("tokenizer.ggml.tokens")?;
    if raw.is_empty() {
        return Err(Error::Tokenizer("tokenizer.ggml.tokens is empty".into()));
    }
    if raw.len() > u32::MAX as usize / 2 {
        return Err(Error::Tokenizer(format!(
            "tokenizer.ggml.tokens has {} entries",
            raw.len()
        )));
    }
    // llama.cpp renames empty tokens so they stay addressable.
    Ok(raw
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if t.is_empty() {
                format!("[EMPTY_{i}]")
            } else {
                (*t).to_owned()
            }
        })
        .collect())
}

/// `tokenizer.ggml.token_type` (llama.cpp `LLAMA_TOKEN_TYPE_*`) as attributes;
/// without it every token is NORMAL.
fn read_attrs(md: &Metadata, n: usize) -> Result<Vec<u16>> {
    if md.get("tokenizer.ggml.token_type").is_none() {
        return Ok(vec![ATTR_NORMAL; n]);
    }
    let types = md.integers("tokenizer.ggml.token_type")?;
    if types.len() < n {
        return Err(Error::Tokenizer(format!(
            "tokenizer.ggml.token_type has {} entries for {n} tokens",
            types.len()
        )));
    }
    Ok(types[..n]
        .iter()
        .map(|t| match t {
            1 => ATTR_NORMAL,
            2 => ATTR_UNKNOWN,
            3 => ATTR_CONTROL,
            4 => ATTR_USER_DEFINED,
            5 => ATTR_UNUSED,
            6 => ATTR_BYTE,
            _ => 0,
        })
        .collect())
}

fn byte_bpe(
    md: &Metadata,
    texts: &[String],
    by_text: &HashMap<String, u32>,
    family: &PreFamily,
) -> Result<Engine> {
    let raw = md.strings("tokenizer.ggml.merges")?;
    // llama.cpp splits each merge at the first space after its first byte and
    // keeps the first rank of a repeated pair. The `tokenizers` BPE also needs
    // both halves and their concatenation in the vocabulary; merges that are
    // not (none in real GGUFs) are dropped.
    let mut seen = std::collections::HashSet::with_capacity(raw.len());
    let mut merges = Vec::with_capacity(raw.len());
    let mut joined = String::new();
    for m in raw {
        let Some(pos) = m.bytes().skip(1).position(|b| b == b' ').map(|p| p + 1) else {
            continue;
        };
        let (a, b) = (&m[..pos], &m[pos + 1..]);
        joined.clear();
        joined.push_str(a);
        joined.push_str(b);
        if by_text.contains_key(a)
            && by_text.contains_key(b)
            && by_text.contains_key(&joined)
            && seen.insert((a, b))
        {
            merges.push((a.to_owned(), b.to_owned()));
        }
    }
    let vocab: tokenizers::models::bpe::Vocab = texts
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as u32))
        .collect();
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .ignore_merges(family.ignore_merges)
        .build()
        .map_err(|e| Error::Tokenizer(format!("building BPE from tokenizer.ggml.merges: {e}")))?;
    let mut steps = Vec::with_capacity(family.regexes.len() + 1);
    for re in family.regexes {
        let split = Split::new(
            SplitPattern::Regex((*re).to_owned()),
            SplitDelimiterBehavior::Isolated,
            false,
        )
        .map_err(|e| Error::Internal(format!("pre-tokenizer regex {re:?}: {e}")))?;
        steps.push(PreTokenizerWrapper::Split(split));
    }
    steps.push(PreTokenizerWrapper::ByteLevel(ByteLevel::new(
        false, false, false,
    )));
    Ok(Engine::ByteBpe {
        pre: Sequence::new(steps),
        bpe: Box::new(bpe),
    })
}

/// GPT-2's byte ↔ printable-character table (llama.cpp `unicode_byte_to_utf8_map`).
fn byte_level_char_to_byte() -> HashMap<char, u8> {
    let mut map = HashMap::with_capacity(256);
    let mut n = 0u32;
    for b in 0..=255u8 {
        let printable = matches!(b, 0x21..=0x7e | 0xa1..=0xac | 0xae..=0xff);
        let c = if printable {
            char::from(b)
        } else {
            n += 1;
            char::from_u32(255 + n).unwrap_or('\u{fffd}')
        };
        map.insert(c, b);
    }
    map
}

/// llama.cpp `token_to_piece(id, special=true)` for one token.
fn piece(text: &str, attr: u16, spm: bool) -> Vec<u8> {
    thread_local! {
        static CHAR_TO_BYTE: HashMap<char, u8> = byte_level_char_to_byte();
    }
    if attr & (ATTR_UNKNOWN | ATTR_CONTROL | ATTR_USER_DEFINED) != 0 {
        return text.as_bytes().to_vec();
    }
    if attr & ATTR_NORMAL != 0 {
        if spm {
            return text.replace('\u{2581}', " ").into_bytes();
        }
        return CHAR_TO_BYTE.with(|map| {
            let mut out = Vec::with_capacity(text.len());
            for c in text.chars() {
                match map.get(&c) {
                    Some(&b) => out.push(b),
                    None => {
                        // llama.cpp `llama_decode_text` writes this marker for a
                        // character outside the byte-level alphabet.
                        out.extend_from_slice(b"[UNK_BYTE_0x");
                        let mut buf = [0u8; 4];
                        for b in c.encode_utf8(&mut buf).bytes() {
                            out.extend_from_slice(format!("{b:02x}").as_bytes());
                        }
                        out.extend_from_slice(text.as_bytes());
                        out.push(b']');
                    }
                }
            }
            out
        });
    }
    if attr & ATTR_BYTE != 0 {
        // llama.cpp `token_to_byte`: strtol(text[3..5], 16) of "<0xAB>".
        let hex = text.get(3..5).unwrap_or("");
        let digits: String = hex.chars().take_while(char::is_ascii_hexdigit).collect();
        return vec![u8::from_str_radix(&digits, 16).unwrap_or(0)];
    }
    Vec::new()
}

/// UTF-8-safe streaming detokenizer: push ids, get back only complete characters.
#[derive(Debug, Default, Clone)]
pub struct StreamDecoder {
    pending: Vec<u8>,
}

impl StreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a token's bytes and returns every character now complete.
    /// Bytes that can never become valid UTF-8 come out as U+FFFD.
    pub fn push(&mut self, tokenizer: &Tokenizer, id: u32) -> String {
        if let Some(b) = tokenizer.token_bytes(id) {
            self.pending.extend_from_slice(b);
        }
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(s) => {
                    out.push_str(s);
                    self.pending.clear();
                    return out;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    out.push_str(std::str::from_utf8(&self.pending[..valid]).unwrap_or_default());
                    match e.error_len() {
                        Some(bad) => {
                            out.push('\u{fffd}');
                            self.pending.drain(..valid + bad);
                        }
                        None => {
                            self.pending.drain(..valid);
                            return out;
                        }
                    }
                }
            }
        }
    }

    /// Flushes what is left (an incomplete sequence becomes U+FFFD).
    pub fn finish(&mut self) -> String {
        let s = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gguf::Value;

    fn strs(v: &[&str]) -> Value {
        Value::Array(v.iter().map(|s| Value::String((*s).into())).collect())
    }

    fn md(pairs: Vec<(&str, Value)>) -> Metadata {
        Metadata(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    /// A tiny SentencePiece vocabulary: scores favour "▁he" + "llo".
    fn spm() -> Tokenizer {
        let mut tokens = vec!["<unk>", "<s>", "</s>"];
        let mut types = vec![2, 3, 3];
        let bytes: Vec<String> = (0..=255u8).map(|b| format!("<0x{b:02X}>")).collect();
        for b in &bytes {
            tokens.push(b);
            types.push(6);
        }
        let normal = ["▁", "h", "e", "l", "o", "▁h", "▁he", "ll", "llo", "lo"];
        for t in normal {
            tokens.push(t);
            types.push(1);
        }
        let n = tokens.len();
        let mut scores = vec![0.0f32; n];
        for (i, t) in tokens.iter().enumerate() {
            scores[i] = match *t {
                "▁h" => -1.0,
                "▁he" => -2.0,
                "ll" => -1.5,
                "llo" => -3.0,
                "lo" => -0.5,
                _ => -10.0,
            };
        }
        let m = md(vec![
            ("tokenizer.ggml.model", Value::String("llama".into())),
            ("tokenizer.ggml.tokens", strs(&tokens)),
            (
                "tokenizer.ggml.token_type",
                Value::Array(types.into_iter().map(Value::I32).collect()),
            ),
            (
                "tokenizer.ggml.scores",
                Value::Array(scores.into_iter().map(Value::F32).collect()),
            ),
        ]);
        Tokenizer::from_metadata(&m).unwrap()
    }

    #[test]
    fn spm_merges_by_score_with_space_prefix_and_byte_fallback() {
        let t = spm();
        let ids = t.encode("hello", false).unwrap();
        // "lo" (-0.5) first, then "▁h" (-1.0); the stale "ll" (-1.5) is skipped;
        // then "▁he" (-2.0) and finally "l"+"lo" as "llo" (-3.0).
        let texts: Vec<&str> = ids.iter().map(|&i| t.token_text(i).unwrap()).collect();
        assert_eq!(texts, ["▁he", "llo"]);
        assert_eq!(t.decode(&ids), " hello");
        let ids = t.encode("hé", false).unwrap();
        let texts: Vec<&str> = ids.iter().map(|&i| t.token_text(i).unwrap()).collect();
        assert_eq!(texts, ["▁h", "<0xC3>", "<0xA9>"]);
        assert_eq!(t.decode(&ids), " hé");
        // After a special token a space is prefixed again; before it, not.
        let ids = t.encode("h</s>h", true).unwrap();
        let texts: Vec<&str> = ids.iter().map(|&i| t.token_text(i).unwrap()).collect();
        assert_eq!(texts, ["▁h", "</s>", "▁h"]);
        assert_eq!(t.specials().bos, Some(1));
        assert!(t.specials().add_bos);
        assert!(t.is_eog(2));
    }

    #[test]
    fn unknown_model_and_pre_are_named() {
        let base = |model: &str, pre: Option<&str>| {
            let mut v = vec![
                ("tokenizer.ggml.model", Value::String(model.into())),
                ("tokenizer.ggml.tokens", strs(&["a", "b", "ab"])),
                ("tokenizer.ggml.merges", strs(&["a b"])),
            ];
            if let Some(p) = pre {
                v.push(("tokenizer.ggml.pre", Value::String(p.into())));
            }
            md(v)
        };
        let e = Tokenizer::from_metadata(&base("bert", None)).unwrap_err();
        assert!(e.to_string().contains("'bert'"), "{e}");
        let e = Tokenizer::from_metadata(&base("gpt2", Some("klingon"))).unwrap_err();
        assert!(e.to_string().contains("'klingon'"), "{e}");
        // No `pre` at all falls back to llama.cpp's "default" pre-tokenizer.
        let t = Tokenizer::from_metadata(&base("gpt2", None)).unwrap();
        assert_eq!(t.encode("ab", false).unwrap(), vec![2]);
    }

    #[test]
    fn malformed_metadata_is_an_error_naming_the_key() {
        let good = || {
            vec![
                ("tokenizer.ggml.model", Value::String("gpt2".into())),
                ("tokenizer.ggml.pre", Value::String("smollm".into())),
                ("tokenizer.ggml.tokens", strs(&["a", "b", "ab"])),
                ("tokenizer.ggml.merges", strs(&["a b"])),
            ]
        };
        let with = |key: &'static str, v: Value| {
            let mut m = good();
            m.retain(|(k, _)| *k != key);
            m.push((key, v));
            Tokenizer::from_metadata(&md(m))
        };
        let cases = [
            (
                "tokenizer.ggml.tokens",
                Value::U32(3),
                "tokenizer.ggml.tokens",
            ),
            (
                "tokenizer.ggml.tokens",
                strs(&[]),
                "tokenizer.ggml.tokens is empty",
            ),
            (
                "tokenizer.ggml.tokens",
                strs(&["a", "a"]),
                "duplicate token",
            ),
            (
                "tokenizer.ggml.merges",
                Value::Array(vec![Value::U8(1)]),
                "tokenizer.ggml.merges",
            ),
            (
                "tokenizer.ggml.token_type",
                Value::Array(vec![Value::I32(1)]),
                "token_type has 1 entries",
            ),
            (
                "tokenizer.ggml.scores",
                Value::Array(vec![Value::String("x".into())]),
                "tokenizer.ggml.scores",
            ),
            (
                "tokenizer.ggml.add_bos_token",
                Value::Bool(true),
                "bos_token_id is not set",
            ),
            (
                "tokenizer.ggml.model",
                Value::String("rwkv".into()),
                "'rwkv'",
            ),
        ];
        for (key, value, needle) in cases {
            let e = with(key, value).unwrap_err();
            assert!(e.to_string().contains(needle), "{key}: {e}");
        }
        // Merges naming pieces outside the vocabulary are dropped, not fatal.
        let t = with("tokenizer.ggml.merges", strs(&["a b", "x y", "nospace"])).unwrap();
        assert_eq!(t.encode("ab", false).unwrap(), vec![2]);
        // Out-of-range special ids in metadata are ignored, as in llama.cpp.
        let t = with("tokenizer.ggml.eos_token_id", Value::U32(99)).unwrap();
        assert_eq!(t.specials().eos, None);
        assert!(t.specials().eog.is_empty());
    }

    #[test]
    fn stream_decoder_replaces_only_impossible_bytes() {
        let m = md(vec![
            ("tokenizer.ggml.model", Value::String("gpt2".into())),
            ("tokenizer.ggml.pre", Value::String("gpt-2".into())),
            // byte-level chars: "Ã" = 0xC3, "©" = 0xA9, "Â" = 0xC2
            ("tokenizer.ggml.tokens", strs(&["Ã", "©", "a", "Â"])),
            ("tokenizer.ggml.merges", strs(&[])),
        ]);
        let t = Tokenizer::from_metadata(&m).unwrap();
        let mut d = StreamDecoder::new();
        assert_eq!(d.push(&t, 0), "");
        assert_eq!(d.push(&t, 1), "é");
        assert_eq!(d.push(&t, 1), "\u{fffd}");
        assert_eq!(d.push(&t, 3), "");
        assert_eq!(d.push(&t, 2), "\u{fffd}a");
        assert_eq!(d.push(&t, 0), "");
        assert_eq!(d.finish(), "\u{fffd}");
    }
}
