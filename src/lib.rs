//! banneret: personalized marketing copy written on the visitor's device.
//!
//! Layers, each knowing only the ones above it in this list:
//! - [`error`], [`textgen`]: the error type and the text-generation contract.
//! - [`gguf`], [`quant`], [`threads`], [`model`], [`loader`]: model files,
//!   weight formats and their kernels (split across threads), the
//!   transformer forward pass, streaming load.
//! - [`tokenizer`], [`chat`], [`sampling`], [`engine`]: text to tokens and
//!   back, chat templates, sampling, and the generation loop behind
//!   [`textgen::TextGenerator`]; [`languages`], which languages each model
//!   family writes.
//! - `marketing`: visitor profile, catalog, brand, ideate → create → optimize
//!   (knows only [`textgen`]).
//! - `cli` (native) and `wasm` (browser): the two front doors.

pub mod chat;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod engine;
pub mod error;
pub mod gguf;
#[cfg(target_arch = "wasm32")]
pub mod heap;
pub mod languages;
pub mod loader;
pub mod marketing;
pub mod model;
pub mod quant;
pub mod sampling;
pub mod textgen;
pub mod threads;
pub mod tokenizer;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use error::{Error, Result};

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: heap::CountingAllocator = heap::CountingAllocator;
