//! The crate's one error type. Every variant has a stable machine-readable
//! `code()` and a message that stands on its own (a `JsError` keeps only the
//! message, so the message must name the field, key or byte that is wrong).

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The bytes are not a GGUF file, or its header contradicts itself.
    InvalidModel(String),
    /// The file ends before the header or a tensor says it should.
    TruncatedModel { needed: u64, available: u64 },
    /// `general.architecture` names a model family this crate cannot run.
    UnsupportedArchitecture(String),
    /// A metadata key the architecture needs is absent or has the wrong type.
    MissingMetadata(String),
    /// A tensor the architecture needs is absent or has the wrong shape.
    MissingTensor(String),
    /// A tensor is stored in a block format this crate cannot read.
    UnsupportedTensorType { tensor: String, ggml_type: u32 },
    /// The tokenizer could not be built from metadata, or failed on input.
    Tokenizer(String),
    /// The chat template could not be parsed or rendered.
    Template(String),
    /// A request (generation options, write request) is malformed; names the field.
    InvalidRequest { field: String, reason: String },
    /// Store or visitor data (catalog, brand, profile) is malformed; names the field.
    InvalidInput { field: String, reason: String },
    /// The prompt plus the requested tokens do not fit in the context window.
    ContextOverflow { needed: usize, limit: usize },
    /// The caller cancelled the operation.
    Cancelled,
    /// An invariant of this crate broke; a bug, reported instead of panicking.
    Internal(String),
}

impl Error {
    /// A stable identifier for programs (JS `error.name` is derived from it).
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidModel(_) => "invalid_model",
            Error::TruncatedModel { .. } => "truncated_model",
            Error::UnsupportedArchitecture(_) => "unsupported_architecture",
            Error::MissingMetadata(_) => "missing_metadata",
            Error::MissingTensor(_) => "missing_tensor",
            Error::UnsupportedTensorType { .. } => "unsupported_tensor_type",
            Error::Tokenizer(_) => "tokenizer",
            Error::Template(_) => "template",
            Error::InvalidRequest { .. } => "invalid_request",
            Error::InvalidInput { .. } => "invalid_input",
            Error::ContextOverflow { .. } => "context_overflow",
            Error::Cancelled => "cancelled",
            Error::Internal(_) => "internal",
        }
    }

    pub fn invalid_request(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidRequest { field: field.into(), reason: reason.into() }
    }

    pub fn invalid_input(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput { field: field.into(), reason: reason.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidModel(m) => write!(f, "invalid model file: {m}"),
            Error::TruncatedModel { needed, available } => write!(
                f,
                "truncated model file: needs at least {needed} bytes, has {available}"
            ),
            Error::UnsupportedArchitecture(a) => write!(
                f,
                "unsupported model architecture '{a}' (supported: {})",
                crate::model::SUPPORTED_ARCHITECTURES.join(", ")
            ),
            Error::MissingMetadata(k) => write!(f, "model metadata: {k}"),
            Error::MissingTensor(t) => write!(f, "model tensor: {t}"),
            Error::UnsupportedTensorType { tensor, ggml_type } => write!(
                f,
                "model tensor '{tensor}' uses ggml type {ggml_type}, which this build cannot read"
            ),
            Error::Tokenizer(m) => write!(f, "tokenizer: {m}"),
            Error::Template(m) => write!(f, "chat template: {m}"),
            Error::InvalidRequest { field, reason } => write!(f, "invalid request field '{field}': {reason}"),
            Error::InvalidInput { field, reason } => write!(f, "invalid input field '{field}': {reason}"),
            Error::ContextOverflow { needed, limit } => write!(
                f,
                "context overflow: {needed} tokens needed, the context window holds {limit}"
            ),
            Error::Cancelled => write!(f, "cancelled"),
            Error::Internal(m) => write!(f, "internal error (a bug in banneret): {m}"),
        }
    }
}

impl std::error::Error for Error {}
