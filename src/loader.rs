//! Streaming model loader: GGUF bytes arrive in chunks (a download, a file
//! read) and go straight into the weights' final form. The file itself is
//! never held in memory, so peak memory stays near the size of the weights.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::gguf::{self, Header, Metadata, Parse};
use crate::model::{self, Model};
use crate::quant::Matrix;

/// A finished load: the model and the metadata the tokenizer and chat
/// template are built from.
pub struct Loaded {
    pub metadata: Metadata,
    pub model: Model,
}

/// A tensor to keep: its absolute byte range in the file.
struct Slot {
    start: u64,
    end: u64,
    index: usize,
}

pub struct ModelLoader {
    total_len: Option<u64>,
    /// Bytes received; the absolute offset of the next byte.
    pos: u64,
    /// The file's first bytes, until the header parses.
    head: Vec<u8>,
    header: Option<Header>,
    slots: Vec<Slot>,
    next_slot: usize,
    current: Vec<u8>,
    tensors: HashMap<String, Matrix>,
    /// SHA-256 of every byte pushed, to check a download or a cached copy.
    hasher: Sha256,
}

impl ModelLoader {
    /// `total_len`: the file's size when known (e.g. `Content-Length`), which
    /// lets errors be reported before the whole file has arrived.
    pub fn new(total_len: Option<u64>) -> Self {
        Self {
            total_len,
            pos: 0,
            head: Vec::new(),
            header: None,
            slots: Vec::new(),
            next_slot: 0,
            current: Vec::new(),
            tensors: HashMap::new(),
            hasher: Sha256::new(),
        }
    }

    /// Lower-case hex SHA-256 of the bytes pushed so far.
    pub fn sha256(&self) -> String {
        self.hasher.clone().finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn received(&self) -> u64 {
        self.pos
    }

    /// The header, once enough bytes have arrived to parse it.
    pub fn header(&self) -> Option<&Header> {
        self.header.as_ref()
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<()> {
        if let Some(total) = self.total_len {
            if self.pos + chunk.len() as u64 > total {
                return Err(Error::InvalidModel(format!(
                    "received more than the declared {total} bytes"
                )));
            }
        }
        self.hasher.update(chunk);
        if self.header.is_some() {
            return self.route(chunk);
        }
        self.head.extend_from_slice(chunk);
        self.pos += chunk.len() as u64;
        match gguf::parse(&self.head, self.total_len)? {
            Parse::NeedMore(_) => Ok(()),
            Parse::Done(header) => {
                self.plan(header)?;
                // Bytes past the header already buffered are tensor data.
                let head = std::mem::take(&mut self.head);
                let data_start = self.header.as_ref().map_or(0, |h| h.data_offset) as usize;
                self.pos = data_start.min(head.len()) as u64;
                if head.len() > data_start {
                    self.route(&head[data_start..])?;
                }
                Ok(())
            }
        }
    }

    /// Checks the architecture and tensor table, and lists what to keep.
    fn plan(&mut self, header: Header) -> Result<()> {
        let specs = model::tensor_specs(&header.metadata)?;
        for spec in &specs {
            match header.tensor(&spec.name) {
                None if spec.optional => {}
                None => return Err(Error::MissingTensor(format!("'{}' is missing", spec.name))),
                Some(t) => {
                    let want = [spec.cols as u64, spec.rows as u64];
                    let got: &[u64] = &t.dims;
                    let matches = got == want || (spec.rows == 1 && got == [spec.cols as u64]);
                    if !matches {
                        return Err(Error::MissingTensor(format!(
                            "'{}' has dims {:?}, expected {:?}",
                            spec.name, t.dims, want
                        )));
                    }
                }
            }
        }
        let mut slots: Vec<Slot> = header
            .tensors
            .iter()
            .enumerate()
            .filter(|(_, t)| specs.iter().any(|s| s.name == t.name))
            .map(|(index, t)| Slot {
                start: header.data_offset + t.offset,
                end: header.data_offset + t.offset + t.size,
                index,
            })
            .collect();
        slots.sort_by_key(|s| s.start);
        self.slots = slots;
        self.header = Some(header);
        Ok(())
    }

    /// Copies tensor bytes of `chunk` (starting at `self.pos`) into place.
    fn route(&mut self, mut chunk: &[u8]) -> Result<()> {
        while !chunk.is_empty() {
            let Some(slot) = self.slots.get(self.next_slot) else {
                self.pos += chunk.len() as u64;
                return Ok(());
            };
            if self.pos < slot.start {
                let skip = (slot.start - self.pos).min(chunk.len() as u64) as usize;
                chunk = &chunk[skip..];
                self.pos += skip as u64;
                continue;
            }
            let (start, end, index) = (slot.start, slot.end, slot.index);
            if self.current.is_empty() {
                self.current.reserve_exact((end - start) as usize);
            }
            let take = (end - self.pos).min(chunk.len() as u64) as usize;
            self.current.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            self.pos += take as u64;
            if self.pos == end {
                let raw = std::mem::take(&mut self.current);
                let info = &self.header.as_ref().ok_or_else(|| Error::Internal("route before header".into()))?.tensors
                    [index];
                let matrix = Matrix::from_ggml(&info.name, info.ggml_type, &info.dims, &raw)?;
                self.tensors.insert(info.name.clone(), matrix);
                self.next_slot += 1;
            }
        }
        Ok(())
    }

    /// Builds the model once every byte has arrived.
    pub fn finish(self) -> Result<Loaded> {
        let Some(header) = self.header else {
            let needed = match gguf::parse(&self.head, Some(self.pos))? {
                Parse::NeedMore(n) => n,
                Parse::Done(h) => h.required_len,
            };
            return Err(Error::TruncatedModel { needed, available: self.pos });
        };
        if self.pos < header.required_len || self.next_slot < self.slots.len() {
            return Err(Error::TruncatedModel { needed: header.required_len, available: self.pos });
        }
        let model = Model::from_tensors(&header.metadata, self.tensors)?;
        Ok(Loaded { metadata: header.metadata, model })
    }
}

/// Loads a model from a complete file in memory.
pub fn load(bytes: &[u8]) -> Result<Loaded> {
    let mut loader = ModelLoader::new(Some(bytes.len() as u64));
    loader.push(bytes)?;
    loader.finish()
}
