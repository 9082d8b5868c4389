//! banneret: personalized marketing copy written on the visitor's device.
//!
//! Layers, each knowing only the ones above it in this list:
//! - [`error`], [`textgen`]: the error type and the text-generation contract.
//! - [`gguf`], [`quant`], [`model`]: model files, weight formats and the
//!   transformer forward pass.
//! - [`tokenizer`], [`chat`], [`sampling`], [`engine`]: text in, tokens,
//!   sampling, and the generation loop behind [`textgen::TextGenerator`].
//! - `marketing`: visitor profile, catalog, brand, ideate → create → optimize
//!   (knows only [`textgen`]).
//! - `wasm` (wasm32 only): the JavaScript boundary.

pub mod error;
pub mod gguf;
pub mod marketing;
pub mod model;
pub mod textgen;

pub use error::{Error, Result};
