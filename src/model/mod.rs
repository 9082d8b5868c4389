//! Transformer architectures that run from GGUF weights, behind one `Model`
//! type: the loader asks it which tensors to keep, the engine asks it for logits.

pub mod llama;

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::gguf::Metadata;
use crate::quant::Matrix;

/// Values of `general.architecture` this build can run.
pub const SUPPORTED_ARCHITECTURES: &[&str] = &["llama"];

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
}

/// Per-sequence state (KV cache and buffers) of a [`Model`].
pub type State = llama::State;

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
    let config = llama::Config::from_metadata(md, &arch, MAX_CONTEXT)?;
    let mut specs: Vec<TensorSpec> = config
        .tensor_shapes()
        .into_iter()
        .map(|(name, cols, rows)| TensorSpec { name, cols, rows, optional: false })
        .collect();
    specs.push(TensorSpec { name: "output.weight".into(), cols: config.dim, rows: config.vocab_size, optional: true });
    Ok(specs)
}

impl Model {
    pub fn from_tensors(md: &Metadata, tensors: HashMap<String, Matrix>) -> Result<Model> {
        let arch = architecture(md)?;
        let config = llama::Config::from_metadata(md, &arch, MAX_CONTEXT)?;
        Ok(Model::Llama(llama::Llama::new(config, tensors)?))
    }

    pub fn config(&self) -> &llama::Config {
        match self {
            Model::Llama(m) => &m.config,
        }
    }

    pub fn new_state(&self) -> State {
        match self {
            Model::Llama(m) => m.new_state(),
        }
    }

    /// Logits for the last of `tokens` (or for each, when `all_logits`).
    pub fn forward(&self, tokens: &[u32], state: &mut State, all_logits: bool) -> Result<Vec<f32>> {
        match self {
            Model::Llama(m) => m.forward(tokens, state, all_logits),
        }
    }

    /// Drops cached positions from `len` on.
    pub fn truncate(&self, state: &mut State, len: usize) {
        match self {
            Model::Llama(m) => state.truncate(len, m.kv_dim()),
        }
    }

    pub fn memory_bytes(&self) -> usize {
        match self {
            Model::Llama(m) => m.memory_bytes(),
        }
    }
}
