//! Transformer architectures that run from GGUF weights, behind one `Model`
//! type: the loader asks it which tensors to keep, the engine asks it for logits.

pub mod gemma3;
pub mod kv;
pub mod llama;
pub mod ops;
pub mod rope;

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::gguf::Metadata;
use crate::quant::Matrix;

/// Values of `general.architecture` this build can run.
pub const SUPPORTED_ARCHITECTURES: &[&str] = &["llama", "gemma3"];

/// Longest context any model instance accepts, whatever its metadata says:
/// bounds KV-cache memory (SmolLM2: 46 KiB per position in f32).
pub const MAX_CONTEXT: usize = 4096;

/// A tensor the architecture reads: name, ggml shape (cols, rows), whether optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    pub name: String,
    pub cols: usize,
    pub rows: usize,
    pub optional: bool,
}

#[derive(Debug, Clone)]
pub enum Model {
    Llama(llama::Llama),
    Gemma3(gemma3::Gemma3),
}

/// The sizes every architecture has, for the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub vocab_size: usize,
    /// Longest sequence this instance accepts (positions).
    pub context_length: usize,
    pub layers: usize,
}

pub use kv::{Frozen, State};
pub use llama::{Scratch, Segment};

/// Which architecture a file declares, checked against what this build runs.
pub fn architecture(md: &Metadata) -> Result<String> {
    let arch = md.str("general.architecture")?;
    if !SUPPORTED_ARCHITECTURES.contains(&arch) {
        return Err(Error::UnsupportedArchitecture(arch.to_string()));
    }
    Ok(arch.to_string())
}

/// The tensors a file of this architecture must (or may) provide.
pub fn tensor_specs(md: &Metadata) -> Result<Vec<TensorSpec>> {
    let arch = architecture(md)?;
    let (shapes, dim, vocab) = match arch.as_str() {
        "gemma3" => {
            let c = gemma3::Config::from_metadata(md, MAX_CONTEXT)?;
            (c.tensor_shapes(), c.dim, c.vocab_size)
        }
        _ => {
            let c = llama::Config::from_metadata(md, &arch, MAX_CONTEXT)?;
            (c.tensor_shapes(), c.dim, c.vocab_size)
        }
    };
    let mut specs: Vec<TensorSpec> =
        shapes.into_iter().map(|(name, cols, rows)| TensorSpec { name, cols, rows, optional: false }).collect();
    // Absent means tied to the embedding.
    specs.push(TensorSpec { name: "output.weight".into(), cols: dim, rows: vocab, optional: true });
    Ok(specs)
}

impl Model {
    pub fn from_tensors(md: &Metadata, tensors: HashMap<String, Matrix>) -> Result<Model> {
        let arch = architecture(md)?;
        Ok(match arch.as_str() {
            "gemma3" => Model::Gemma3(gemma3::Gemma3::new(gemma3::Config::from_metadata(md, MAX_CONTEXT)?, tensors)?),
            _ => Model::Llama(llama::Llama::new(llama::Config::from_metadata(md, &arch, MAX_CONTEXT)?, tensors)?),
        })
    }

    pub fn shape(&self) -> Shape {
        match self {
            Model::Llama(m) => Shape {
                vocab_size: m.config.vocab_size,
                context_length: m.config.context_length,
                layers: m.config.n_layer,
            },
            Model::Gemma3(m) => Shape {
                vocab_size: m.config.vocab_size,
                context_length: m.config.context_length,
                layers: m.config.n_layer,
            },
        }
    }

    pub fn new_state(&self) -> State {
        match self {
            Model::Llama(m) => m.new_state(),
            Model::Gemma3(m) => m.new_state(),
        }
    }

    /// One sequence: logits for the last of `tokens` (or for each, when
    /// `all_logits`). Allocates its own scratch; loops use [`Model::forward_batch`].
    pub fn forward(&self, tokens: &[u32], state: &mut State, all_logits: bool) -> Result<Vec<f32>> {
        self.forward_batch(&mut [Segment { tokens, state }], &mut Scratch::default(), all_logits)
    }

    /// Several sequences in one pass (see [`llama::Llama::forward`]).
    pub fn forward_batch(&self, segments: &mut [Segment], scratch: &mut Scratch, all_logits: bool) -> Result<Vec<f32>> {
        match self {
            Model::Llama(m) => m.forward(segments, scratch, all_logits),
            Model::Gemma3(m) => m.forward(segments, scratch, all_logits),
        }
    }

    /// A state that starts from the first `len` positions of a shared prefix.
    pub fn state_from(&self, prefix: &std::rc::Rc<Frozen>, len: usize) -> State {
        State::from_prefix(prefix, len)
    }

    pub fn memory_bytes(&self) -> usize {
        match self {
            Model::Llama(m) => m.memory_bytes(),
            Model::Gemma3(m) => m.memory_bytes(),
        }
    }
}
