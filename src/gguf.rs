//! GGUF header parsing from a byte prefix (spec: ggml `docs/gguf.md`).
//!
//! The parser never trusts a count or a length: every read is checked against
//! the bytes at hand, and declared sizes are bounded by the file's total
//! length when it is known. A short prefix yields [`Parse::NeedMore`] so a
//! streaming loader can wait for more bytes instead of buffering the file.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

const MAGIC: &[u8; 4] = b"GGUF";
const DEFAULT_ALIGNMENT: u64 = 32;
/// No real header comes near this; it bounds what a lying file can make us buffer.
pub const MAX_HEADER_BYTES: u64 = 256 << 20;
const MAX_TENSORS: u64 = 1 << 16;
const MAX_DIMS: u32 = 4;
const MAX_ARRAY_DEPTH: usize = 4;

/// A metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    U64(u64),
    I64(i64),
    F32(f32),
    F64(f64),
    Bool(bool),
    String(String),
    Array(Vec<Value>),
}

impl Value {
    /// Any non-negative integer that fits in `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U8(v) => Some(v.into()),
            Value::U16(v) => Some(v.into()),
            Value::U32(v) => Some(v.into()),
            Value::U64(v) => Some(v),
            Value::I8(v) => u64::try_from(v).ok(),
            Value::I16(v) => u64::try_from(v).ok(),
            Value::I32(v) => u64::try_from(v).ok(),
            Value::I64(v) => u64::try_from(v).ok(),
            Value::Bool(_) | Value::F32(_) | Value::F64(_) | Value::String(_) | Value::Array(_) => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::I8(v) => Some(v.into()),
            Value::I16(v) => Some(v.into()),
            Value::I32(v) => Some(v.into()),
            Value::I64(v) => Some(v),
            _ => self.as_u64().and_then(|v| i64::try_from(v).ok()),
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F32(v) => Some(v.into()),
            Value::F64(v) => Some(v),
            _ => self.as_i64().map(|v| v as f64),
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Value::U8(_) => "u8",
            Value::I8(_) => "i8",
            Value::U16(_) => "u16",
            Value::I16(_) => "i16",
            Value::U32(_) => "u32",
            Value::I32(_) => "i32",
            Value::U64(_) => "u64",
            Value::I64(_) => "i64",
            Value::F32(_) => "f32",
            Value::F64(_) => "f64",
            Value::Bool(_) => "bool",
            Value::String(_) => "string",
            Value::Array(_) => "array",
        }
    }
}

/// Typed access to the key-value metadata, with errors naming the key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata(pub BTreeMap<String, Value>);

impl Metadata {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    fn require(&self, key: &str) -> Result<&Value> {
        self.0.get(key).ok_or_else(|| Error::MissingMetadata(format!("key '{key}' is missing")))
    }

    fn wrong(key: &str, want: &str, got: &Value) -> Error {
        Error::MissingMetadata(format!("key '{key}' should be {want}, is {}", got.type_name()))
    }

    pub fn u64(&self, key: &str) -> Result<u64> {
        let v = self.require(key)?;
        v.as_u64().ok_or_else(|| Self::wrong(key, "a non-negative integer", v))
    }

    /// An integer used as a size or count, bounded so arithmetic on it cannot overflow.
    pub fn usize_in(&self, key: &str, range: std::ops::RangeInclusive<usize>) -> Result<usize> {
        let v = self.u64(key)?;
        match usize::try_from(v) {
            Ok(v) if range.contains(&v) => Ok(v),
            _ => Err(Error::MissingMetadata(format!(
                "key '{key}' is {v}, outside {}..={}",
                range.start(),
                range.end()
            ))),
        }
    }

    pub fn f64(&self, key: &str) -> Result<f64> {
        let v = self.require(key)?;
        v.as_f64().ok_or_else(|| Self::wrong(key, "a number", v))
    }

    pub fn str(&self, key: &str) -> Result<&str> {
        let v = self.require(key)?;
        v.as_str().ok_or_else(|| Self::wrong(key, "a string", v))
    }

    pub fn array(&self, key: &str) -> Result<&[Value]> {
        let v = self.require(key)?;
        v.as_array().ok_or_else(|| Self::wrong(key, "an array", v))
    }

    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.as_bool().map(Some).ok_or_else(|| Self::wrong(key, "a bool", v)),
        }
    }

    pub fn opt_u64(&self, key: &str) -> Result<Option<u64>> {
        match self.get(key) {
            None => Ok(None),
            Some(_) => self.u64(key).map(Some),
        }
    }

    pub fn opt_f64(&self, key: &str) -> Result<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(_) => self.f64(key).map(Some),
        }
    }

    pub fn opt_str(&self, key: &str) -> Result<Option<&str>> {
        match self.get(key) {
            None => Ok(None),
            Some(_) => self.str(key).map(Some),
        }
    }

    /// An array of strings (e.g. `tokenizer.ggml.tokens`).
    pub fn strings(&self, key: &str) -> Result<Vec<&str>> {
        self.array(key)?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().ok_or_else(|| {
                    Error::MissingMetadata(format!("key '{key}'[{i}] should be a string, is {}", v.type_name()))
                })
            })
            .collect()
    }

    /// An array of integers (e.g. `tokenizer.ggml.token_type`).
    pub fn integers(&self, key: &str) -> Result<Vec<i64>> {
        self.array(key)?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_i64().ok_or_else(|| {
                    Error::MissingMetadata(format!("key '{key}'[{i}] should be an integer, is {}", v.type_name()))
                })
            })
            .collect()
    }

    /// An array of floats (e.g. `tokenizer.ggml.scores`).
    pub fn floats(&self, key: &str) -> Result<Vec<f32>> {
        self.array(key)?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_f64().map(|f| f as f32).ok_or_else(|| {
                    Error::MissingMetadata(format!("key '{key}'[{i}] should be a number, is {}", v.type_name()))
                })
            })
            .collect()
    }
}

/// One tensor's description; `offset` is relative to the data section.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    /// ggml order: `dims[0]` is the contiguous (row) dimension.
    pub dims: Vec<u64>,
    pub ggml_type: u32,
    pub offset: u64,
    /// Bytes of tensor data, derived from type and dims.
    pub size: u64,
}

impl TensorInfo {
    pub fn elements(&self) -> u64 {
        self.dims.iter().product()
    }
}

/// A parsed header: metadata, tensor table and where tensor data starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub version: u32,
    pub metadata: Metadata,
    pub tensors: Vec<TensorInfo>,
    /// Absolute byte offset of the (aligned) tensor data section.
    pub data_offset: u64,
    /// Bytes from the start of the file to the end of the last tensor.
    pub required_len: u64,
}

impl Header {
    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }

    pub fn architecture(&self) -> Result<&str> {
        self.metadata.str("general.architecture")
    }
}

/// Outcome of parsing a prefix of the file.
#[derive(Debug)]
pub enum Parse {
    Done(Header),
    /// The prefix ends inside the header; try again with at least this many bytes.
    NeedMore(u64),
}

/// A ggml tensor type: id in the file, name, elements per block, bytes per block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GgmlType {
    pub id: u32,
    pub name: &'static str,
    pub block: u64,
    pub block_bytes: u64,
}

/// The ggml types a GGUF tensor may use here (ids from ggml.h).
pub const GGML_TYPES: &[GgmlType] = &[
    GgmlType { id: 0, name: "F32", block: 1, block_bytes: 4 },
    GgmlType { id: 1, name: "F16", block: 1, block_bytes: 2 },
    GgmlType { id: 2, name: "Q4_0", block: 32, block_bytes: 18 },
    GgmlType { id: 3, name: "Q4_1", block: 32, block_bytes: 20 },
    GgmlType { id: 6, name: "Q5_0", block: 32, block_bytes: 22 },
    GgmlType { id: 7, name: "Q5_1", block: 32, block_bytes: 24 },
    GgmlType { id: 8, name: "Q8_0", block: 32, block_bytes: 34 },
    GgmlType { id: 9, name: "Q8_1", block: 32, block_bytes: 36 },
    GgmlType { id: 10, name: "Q2_K", block: 256, block_bytes: 84 },
    GgmlType { id: 11, name: "Q3_K", block: 256, block_bytes: 110 },
    GgmlType { id: 12, name: "Q4_K", block: 256, block_bytes: 144 },
    GgmlType { id: 13, name: "Q5_K", block: 256, block_bytes: 176 },
    GgmlType { id: 14, name: "Q6_K", block: 256, block_bytes: 210 },
    GgmlType { id: 15, name: "Q8_K", block: 256, block_bytes: 292 },
    GgmlType { id: 30, name: "BF16", block: 1, block_bytes: 2 },
];

pub fn ggml_type(id: u32) -> Option<&'static GgmlType> {
    GGML_TYPES.iter().find(|t| t.id == id)
}

/// Name of a ggml type, for messages.
pub fn type_name(id: u32) -> &'static str {
    ggml_type(id).map_or("unknown", |t| t.name)
}

/// Reads from `bytes` (a prefix of the file). `total_len` is the full file
/// length when known; declared sizes beyond it are errors, not `NeedMore`.
pub fn parse(bytes: &[u8], total_len: Option<u64>) -> Result<Parse> {
    let mut r = Reader { bytes, pos: 0, total_len };
    match r.header() {
        Ok(h) => Ok(Parse::Done(h)),
        Err(Stop::NeedMore(n)) => Ok(Parse::NeedMore(n)),
        Err(Stop::Fail(e)) => Err(e),
    }
}

/// Parses a whole file held in memory and checks its tensor data is all there.
pub fn parse_complete(bytes: &[u8]) -> Result<Header> {
    let available = bytes.len() as u64;
    match parse(bytes, Some(available))? {
        Parse::Done(h) if h.required_len <= available => Ok(h),
        Parse::Done(h) => Err(Error::TruncatedModel { needed: h.required_len, available }),
        Parse::NeedMore(needed) => Err(Error::TruncatedModel { needed, available }),
    }
}

enum Stop {
    NeedMore(u64),
    Fail(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Fail(e)
    }
}

type R<T> = std::result::Result<T, Stop>;

fn invalid(msg: String) -> Stop {
    Stop::Fail(Error::InvalidModel(msg))
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    total_len: Option<u64>,
}

impl<'a> Reader<'a> {
    /// Makes sure `n` more bytes are present, or says why not.
    fn need(&self, n: u64, what: &str) -> R<()> {
        let end = (self.pos as u64).checked_add(n).ok_or_else(|| invalid(format!("{what}: size overflows")))?;
        if end > MAX_HEADER_BYTES {
            return Err(invalid(format!(
                "{what} at byte {} declares {n} bytes; the header would exceed {} MiB",
                self.pos,
                MAX_HEADER_BYTES >> 20
            )));
        }
        if let Some(total) = self.total_len {
            if end > total {
                return Err(Stop::Fail(Error::TruncatedModel { needed: end, available: total }));
            }
        }
        if end > self.bytes.len() as u64 {
            return Err(Stop::NeedMore(end));
        }
        Ok(())
    }

    fn take(&mut self, n: usize, what: &str) -> R<&'a [u8]> {
        self.need(n as u64, what)?;
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &str) -> R<[u8; N]> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn u32(&mut self, what: &str) -> R<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &str) -> R<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    fn string(&mut self, what: &str) -> R<String> {
        let len = self.u64(what)?;
        let len = usize::try_from(len).map_err(|_| invalid(format!("{what}: length {len} too large")))?;
        let raw = self.take(len, what)?;
        // llama.cpp stores some vocabularies with invalid UTF-8 pieces; keep them lossily.
        Ok(String::from_utf8_lossy(raw).into_owned())
    }

    fn value(&mut self, ty: u32, key: &str, depth: usize) -> R<Value> {
        Ok(match ty {
            0 => Value::U8(self.array::<1>(key)?[0]),
            1 => Value::I8(self.array::<1>(key)?[0] as i8),
            2 => Value::U16(u16::from_le_bytes(self.array(key)?)),
            3 => Value::I16(i16::from_le_bytes(self.array(key)?)),
            4 => Value::U32(self.u32(key)?),
            5 => Value::I32(i32::from_le_bytes(self.array(key)?)),
            6 => Value::F32(f32::from_le_bytes(self.array(key)?)),
            7 => match self.array::<1>(key)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => return Err(invalid(format!("metadata '{key}': bool byte is {b}"))),
            },
            8 => Value::String(self.string(key)?),
            9 => {
                if depth >= MAX_ARRAY_DEPTH {
                    return Err(invalid(format!("metadata '{key}': arrays nested deeper than {MAX_ARRAY_DEPTH}")));
                }
                let item_ty = self.u32(key)?;
                let len = self.u64(key)?;
                let min_item = match item_ty {
                    0 | 1 | 7 => 1,
                    2 | 3 => 2,
                    4..=6 => 4,
                    8 | 10 | 11 | 12 => 8,
                    9 => 12,
                    t => return Err(invalid(format!("metadata '{key}': unknown array item type {t}"))),
                };
                // Every item needs at least `min_item` bytes: bounds the allocation by the input.
                self.need(len.saturating_mul(min_item), key)?;
                let mut items = Vec::with_capacity(len as usize);
                for _ in 0..len {
                    items.push(self.value(item_ty, key, depth + 1)?);
                }
                Value::Array(items)
            }
            10 => Value::U64(self.u64(key)?),
            11 => Value::I64(i64::from_le_bytes(self.array(key)?)),
            12 => Value::F64(f64::from_le_bytes(self.array(key)?)),
            t => return Err(invalid(format!("metadata '{key}': unknown value type {t}"))),
        })
    }

    fn header(&mut self) -> R<Header> {
        let magic = self.array::<4>("magic")?;
        if &magic != MAGIC {
            return Err(invalid(format!(
                "not a GGUF file (starts with {:02x?}, expected \"GGUF\")",
                magic
            )));
        }
        let version = self.u32("version")?;
        if !(2..=3).contains(&version) {
            return Err(invalid(format!("GGUF version {version} is not supported (2 and 3 are)")));
        }
        let n_tensors = self.u64("tensor count")?;
        let n_kv = self.u64("metadata count")?;
        if n_tensors > MAX_TENSORS {
            return Err(invalid(format!("tensor count {n_tensors} exceeds {MAX_TENSORS}")));
        }
        // Each key-value pair needs at least 12 bytes (key length + type).
        self.need(n_kv.saturating_mul(12), "metadata count")?;

        let mut metadata = BTreeMap::new();
        for _ in 0..n_kv {
            let key = self.string("metadata key")?;
            let ty = self.u32(&key)?;
            let value = self.value(ty, &key, 0)?;
            if metadata.insert(key.clone(), value).is_some() {
                return Err(invalid(format!("metadata key '{key}' appears twice")));
            }
        }
        let metadata = Metadata(metadata);

        // Each tensor info needs at least 8 + 4 + 8 + 4 + 8 bytes.
        self.need(n_tensors.saturating_mul(32), "tensor count")?;
        let mut tensors: Vec<TensorInfo> = Vec::with_capacity(n_tensors as usize);
        for i in 0..n_tensors {
            let name = self.string(&format!("tensor #{i} name"))?;
            let n_dims = self.u32(&name)?;
            if n_dims == 0 || n_dims > MAX_DIMS {
                return Err(invalid(format!("tensor '{name}' has {n_dims} dimensions (1..={MAX_DIMS} allowed)")));
            }
            let mut dims = Vec::with_capacity(n_dims as usize);
            for _ in 0..n_dims {
                dims.push(self.u64(&name)?);
            }
            let ggml_type = self.u32(&name)?;
            let offset = self.u64(&name)?;
            let &GgmlType { block, block_bytes, .. } = self::ggml_type(ggml_type).ok_or_else(|| {
                Stop::Fail(Error::UnsupportedTensorType { tensor: name.clone(), ggml_type })
            })?;
            let elements = dims
                .iter()
                .try_fold(1u64, |acc, &d| acc.checked_mul(d))
                .filter(|&e| e > 0 && e < (1 << 40))
                .ok_or_else(|| invalid(format!("tensor '{name}' has dimensions {dims:?}")))?;
            if dims[0] % block != 0 {
                return Err(invalid(format!(
                    "tensor '{name}': row length {} is not a multiple of the {} block size {block}",
                    dims[0],
                    type_name(ggml_type)
                )));
            }
            let size = elements / block * block_bytes;
            if tensors.iter().any(|t| t.name == name) {
                return Err(invalid(format!("tensor '{name}' appears twice")));
            }
            tensors.push(TensorInfo { name, dims, ggml_type, offset, size });
        }

        let alignment = match metadata.get("general.alignment") {
            None => DEFAULT_ALIGNMENT,
            Some(v) => match v.as_u64() {
                Some(a) if a.is_power_of_two() && a <= 1 << 16 => a,
                _ => return Err(invalid(format!("general.alignment is {v:?}, not a power of two"))),
            },
        };
        let data_offset = (self.pos as u64).div_ceil(alignment) * alignment;
        let mut required_len = data_offset;
        let mut spans: Vec<(u64, u64, &str)> = Vec::with_capacity(tensors.len());
        for t in &tensors {
            if t.offset % alignment != 0 {
                return Err(invalid(format!("tensor '{}' offset {} is not {alignment}-aligned", t.name, t.offset)));
            }
            let end = data_offset
                .checked_add(t.offset)
                .and_then(|s| s.checked_add(t.size))
                .ok_or_else(|| invalid(format!("tensor '{}' offset {} overflows", t.name, t.offset)))?;
            required_len = required_len.max(end);
            spans.push((t.offset, t.offset + t.size, &t.name));
        }
        spans.sort_unstable();
        for w in spans.windows(2) {
            if w[1].0 < w[0].1 {
                return Err(invalid(format!("tensors '{}' and '{}' overlap", w[0].2, w[1].2)));
            }
        }
        if let Some(total) = self.total_len {
            if required_len > total {
                return Err(Stop::Fail(Error::TruncatedModel { needed: required_len, available: total }));
            }
        }
        Ok(Header { version, metadata, tensors, data_offset, required_len })
    }
}

/// Serializes a GGUF file: the inverse of [`parse`], used to build small test
/// models and to check the parser. `tensors` carry their raw ggml bytes.
pub fn write(metadata: &[(&str, Value)], tensors: &[(&str, Vec<u64>, u32, &[u8])]) -> Vec<u8> {
    fn put_str(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u64).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    fn type_id(v: &Value) -> u32 {
        match v {
            Value::U8(_) => 0,
            Value::I8(_) => 1,
            Value::U16(_) => 2,
            Value::I16(_) => 3,
            Value::U32(_) => 4,
            Value::I32(_) => 5,
            Value::F32(_) => 6,
            Value::Bool(_) => 7,
            Value::String(_) => 8,
            Value::Array(_) => 9,
            Value::U64(_) => 10,
            Value::I64(_) => 11,
            Value::F64(_) => 12,
        }
    }
    fn put_value(out: &mut Vec<u8>, v: &Value) {
        match v {
            Value::U8(x) => out.push(*x),
            Value::I8(x) => out.push(*x as u8),
            Value::U16(x) => out.extend_from_slice(&x.to_le_bytes()),
            Value::I16(x) => out.extend_from_slice(&x.to_le_bytes()),
            Value::U32(x) => out.extend_from_slice(&x.to_le_bytes()),
            Value::I32(x) => out.extend_from_slice(&x.to_le_bytes()),
            Value::U64(x) => out.extend_from_slice(&x.to_le_bytes()),
            Value::I64(x) => out.extend_from_slice(&x.to_le_bytes()),
            Value::F32(x) => out.extend_from_slice(&x.to_le_bytes()),
            Value::F64(x) => out.extend_from_slice(&x.to_le_bytes()),
            Value::Bool(x) => out.push(u8::from(*x)),
            Value::String(s) => put_str(out, s),
            Value::Array(items) => {
                let item_ty = items.first().map(type_id).unwrap_or(0);
                out.extend_from_slice(&item_ty.to_le_bytes());
                out.extend_from_slice(&(items.len() as u64).to_le_bytes());
                for item in items {
                    put_value(out, item);
                }
            }
        }
    }
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&(tensors.len() as u64).to_le_bytes());
    out.extend_from_slice(&(metadata.len() as u64).to_le_bytes());
    for (k, v) in metadata {
        put_str(&mut out, k);
        out.extend_from_slice(&type_id(v).to_le_bytes());
        put_value(&mut out, v);
    }
    let mut offset = 0u64;
    let mut offsets = Vec::with_capacity(tensors.len());
    for (name, dims, ty, data) in tensors {
        put_str(&mut out, name);
        out.extend_from_slice(&(dims.len() as u32).to_le_bytes());
        for d in dims {
            out.extend_from_slice(&d.to_le_bytes());
        }
        out.extend_from_slice(&ty.to_le_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
        offsets.push(offset);
        offset = (offset + data.len() as u64).div_ceil(DEFAULT_ALIGNMENT) * DEFAULT_ALIGNMENT;
    }
    let data_start = (out.len() as u64).div_ceil(DEFAULT_ALIGNMENT) * DEFAULT_ALIGNMENT;
    out.resize(data_start as usize, 0);
    for ((_, _, _, data), off) in tensors.iter().zip(offsets) {
        out.resize((data_start + off) as usize, 0);
        out.extend_from_slice(data);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let data = [0u8; 4 * 8];
        write(
            &[
                ("general.architecture", Value::String("llama".into())),
                ("n", Value::U32(7)),
                ("list", Value::Array(vec![Value::String("a".into()), Value::String("b".into())])),
            ],
            &[("t", vec![8], 0, &data)],
        )
    }

    #[test]
    fn round_trips_metadata_and_tensors() {
        let bytes = sample();
        let h = parse_complete(&bytes).unwrap();
        assert_eq!(h.architecture().unwrap(), "llama");
        assert_eq!(h.metadata.u64("n").unwrap(), 7);
        assert_eq!(h.metadata.strings("list").unwrap(), vec!["a", "b"]);
        assert_eq!(h.tensors[0].size, 32);
        assert_eq!(h.required_len, bytes.len() as u64);
    }

    #[test]
    fn every_prefix_needs_more_or_is_truncated_never_panics() {
        let bytes = sample();
        for n in 0..bytes.len() {
            match parse(&bytes[..n], None).unwrap() {
                Parse::NeedMore(need) => assert!(need > n as u64),
                Parse::Done(h) => assert!(h.required_len > n as u64),
            }
            let err = parse_complete(&bytes[..n]).unwrap_err();
            assert_eq!(err.code(), "truncated_model", "prefix {n}: {err}");
        }
    }

    #[test]
    fn rejects_non_gguf_and_names_it() {
        let err = parse_complete(b"PK\x03\x04 this is a zip").unwrap_err();
        assert!(err.to_string().contains("not a GGUF file"), "{err}");
    }

    #[test]
    fn huge_declared_lengths_fail_without_allocating() {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(b"GGUF");
        bytes.extend_from_slice(&3u32.to_le_bytes());
        bytes.extend_from_slice(&0u64.to_le_bytes());
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        let err = parse(&bytes, None).unwrap_err();
        assert_eq!(err.code(), "invalid_model", "{err}");
    }

    #[test]
    fn missing_metadata_names_the_key() {
        let h = parse_complete(&sample()).unwrap();
        let err = h.metadata.u64("llama.block_count").unwrap_err();
        assert!(err.to_string().contains("llama.block_count"));
        let err = h.metadata.u64("general.architecture").unwrap_err();
        assert!(err.to_string().contains("should be a non-negative integer, is string"), "{err}");
    }
}
