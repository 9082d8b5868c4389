//! The marketing pipeline: from a visitor profile, a store's catalog and its
//! brand rules to copy a marketer would ship — ideate (what to say and why),
//! create (prompt the model, draw variants), optimize (check limits, brand
//! rules and every fact against the catalog; repair, regenerate, fall back;
//! score and rank). Knows the model only through [`crate::textgen`].
//!
//! Entry points: [`Store`] (catalog + brand), [`Writer`] with
//! [`Writer::start`] → [`WriteJob::step`] → [`WriteEvent::Done`] for
//! step-wise use, [`Writer::write`] / [`Writer::rewrite`] to run to the end.

pub mod brand;
pub mod catalog;
pub mod checks;
pub mod completion;
pub mod date;
pub mod eval;
pub mod facts;
pub mod fallback;
pub mod ideate;
pub mod input;
pub mod job;
pub mod kinds;
pub mod lang;
pub mod lexicon;
pub mod money;
pub mod parse;
pub mod phrases;
pub mod profile;
pub mod prompt;
pub mod repair;
pub mod request;
pub mod result;
pub mod rewrite;
pub mod sanitize;
pub mod score;
pub mod store;
pub mod text;

pub use brand::{Brand, EmojiPolicy};
pub use catalog::{Catalog, Product, Promotion};
pub use eval::{evaluate, EvalReport, EvalRow};
pub use ideate::{Angle, Frame, Plan, Signal};
pub use input::Warning;
pub use job::{write, WriteEvent, WriteJob, Writer, WriterConfig};
pub use kinds::{ContentKind, FieldSpec, KindSpec, KINDS};
pub use profile::Profile;
pub use request::{GenerationOverrides, RewriteOp, RewriteRequest, Tone, WriteRequest};
pub use result::{Alternative, Check, CopyFields, Rejected, Score, Source, Timings, WriteResult};
pub use store::Store;
