//! Transformer architectures that run from GGUF weights.

/// Values of `general.architecture` this build can run.
pub const SUPPORTED_ARCHITECTURES: &[&str] = &["llama"];
