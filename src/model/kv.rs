//! Key/value caches. A sequence's cache may start with a frozen prefix that
//! many sequences share (the prompt, read once), followed by positions of
//! its own; attention reads the two parts as one. Each key/value head's rows
//! are stored apart (`[position][head_dim]`), so attention over one head
//! streams contiguous memory instead of picking a third out of every row.

use std::rc::Rc;

/// Where each layer's heads sit: `layer * heads + head`.
#[derive(Debug, Clone, Copy, Default)]
struct Shape {
    layers: usize,
    heads: usize,
    head_dim: usize,
}

impl Shape {
    fn layer(&self, layer: usize) -> std::ops::Range<usize> {
        layer * self.heads..(layer + 1) * self.heads
    }
}

/// A read-only cache of `len` positions, shared by the sequences built on it.
#[derive(Debug, Default)]
pub struct Frozen {
    /// Per layer and key/value head, `[position][head_dim]` keys (after rotation).
    k: Vec<Vec<f32>>,
    /// Per layer and key/value head, `[position][head_dim]` values.
    v: Vec<Vec<f32>>,
    len: usize,
    shape: Shape,
}

impl Frozen {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn bytes(&self) -> usize {
        self.k.iter().chain(&self.v).map(|c| c.len() * 4).sum()
    }
}

/// One sequence's cache: the first `prefix_len` positions of a shared
/// prefix, then its own positions.
#[derive(Debug, Clone)]
pub struct State {
    prefix: Option<Rc<Frozen>>,
    prefix_len: usize,
    k: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    own: usize,
    shape: Shape,
}

/// One layer's keys and values as seen by attention, head by head.
#[derive(Clone, Copy)]
pub struct LayerView<'a> {
    prefix_k: &'a [Vec<f32>],
    prefix_v: &'a [Vec<f32>],
    prefix_rows: usize,
    own_k: &'a [Vec<f32>],
    own_v: &'a [Vec<f32>],
    head_dim: usize,
}

/// One key/value head's rows, `[position][head_dim]`: prefix then own rows.
pub struct HeadView<'a> {
    pub k: [&'a [f32]; 2],
    pub v: [&'a [f32]; 2],
}

impl<'a> LayerView<'a> {
    /// Key/value head `head` of this layer.
    pub fn head(&self, head: usize) -> HeadView<'a> {
        let n = self.prefix_rows * self.head_dim;
        let prefix = |p: &'a [Vec<f32>]| p.get(head).map_or(&[][..], |rows| &rows[..n]);
        HeadView { k: [prefix(self.prefix_k), &self.own_k[head]], v: [prefix(self.prefix_v), &self.own_v[head]] }
    }
}

impl State {
    /// An empty cache for `layers` layers of `heads` key/value heads.
    pub fn new(layers: usize, heads: usize, head_dim: usize) -> State {
        let shape = Shape { layers, heads, head_dim };
        let empty = vec![Vec::new(); layers * heads];
        State { prefix: None, prefix_len: 0, k: empty.clone(), v: empty, own: 0, shape }
    }

    /// A sequence that sees the first `len` positions of `prefix`.
    pub fn from_prefix(prefix: &Rc<Frozen>, len: usize) -> State {
        let mut state = State::new(prefix.shape.layers, prefix.shape.heads, prefix.shape.head_dim);
        state.prefix = Some(prefix.clone());
        state.prefix_len = len.min(prefix.len);
        state
    }

    /// Positions processed (shared and own).
    pub fn len(&self) -> usize {
        self.prefix_len + self.own
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets positions from `len` on.
    pub fn truncate(&mut self, len: usize) {
        if len <= self.prefix_len {
            self.prefix_len = len;
            self.own = 0;
        } else if len < self.len() {
            self.own = len - self.prefix_len;
        } else {
            return;
        }
        let keep = self.own * self.shape.head_dim;
        for (k, v) in self.k.iter_mut().zip(&mut self.v) {
            k.truncate(keep);
            v.truncate(keep);
        }
    }

    /// Appends one layer's rows for new positions (`[position][heads *
    /// head_dim]`, as the projections produce them); call for every layer,
    /// then [`State::advance`] once.
    pub fn append(&mut self, layer: usize, k: &[f32], v: &[f32]) {
        let (heads, hd) = (self.shape.heads, self.shape.head_dim);
        let range = self.shape.layer(layer);
        for (rows, cache) in [(k, &mut self.k[range.clone()]), (v, &mut self.v[range])] {
            for row in rows.chunks_exact(heads * hd) {
                for (head, cache) in cache.iter_mut().enumerate() {
                    cache.extend_from_slice(&row[head * hd..(head + 1) * hd]);
                }
            }
        }
    }

    pub fn advance(&mut self, positions: usize) {
        self.own += positions;
    }

    pub fn layer(&self, layer: usize) -> LayerView<'_> {
        let range = self.shape.layer(layer);
        let (prefix_k, prefix_v): (&[Vec<f32>], &[Vec<f32>]) = match &self.prefix {
            Some(p) => (&p.k[range.clone()], &p.v[range.clone()]),
            None => (&[], &[]),
        };
        LayerView {
            prefix_k,
            prefix_v,
            prefix_rows: self.prefix_len,
            own_k: &self.k[range.clone()],
            own_v: &self.v[range],
            head_dim: self.shape.head_dim,
        }
    }

    /// Copies everything visible into a shareable prefix.
    pub fn freeze(&self) -> Rc<Frozen> {
        let mut frozen = Frozen { k: Vec::new(), v: Vec::new(), len: self.len(), shape: self.shape };
        for layer in 0..self.shape.layers {
            let view = self.layer(layer);
            for head in 0..self.shape.heads {
                let rows = view.head(head);
                frozen.k.push([rows.k[0], rows.k[1]].concat());
                frozen.v.push([rows.v[0], rows.v[1]].concat());
            }
        }
        Rc::new(frozen)
    }

    /// Bytes of cache this sequence owns (the shared prefix not counted).
    pub fn own_bytes(&self) -> usize {
        self.k.iter().chain(&self.v).map(|c| c.capacity() * 4).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_and_own_rows_read_as_one_and_truncate_across_the_seam() {
        // Two heads of width 2: rows are [head 0 | head 1].
        let mut s = State::new(1, 2, 2);
        s.append(0, &[1.0, 1.0, 5.0, 5.0, 2.0, 2.0, 6.0, 6.0], &[0.0; 8]);
        s.advance(2);
        let frozen = s.freeze();
        let mut t = State::from_prefix(&frozen, 1);
        t.append(0, &[9.0, 9.0, 8.0, 8.0], &[0.0; 4]);
        t.advance(1);
        assert_eq!(t.len(), 2);
        let view = t.layer(0);
        let head = |h: usize| {
            let rows = view.head(h);
            [rows.k[0], rows.k[1]].concat()
        };
        assert_eq!(head(0), vec![1.0, 1.0, 9.0, 9.0]);
        assert_eq!(head(1), vec![5.0, 5.0, 8.0, 8.0]);
        t.truncate(1);
        assert_eq!(t.len(), 1);
        assert!(t.layer(0).head(1).k[1].is_empty());
        t.truncate(0);
        assert!(t.is_empty());
    }
}
