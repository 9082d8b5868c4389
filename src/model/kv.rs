//! Key/value caches. A sequence's cache may start with a frozen prefix that
//! many sequences share (the prompt, read once), followed by positions of
//! its own; attention reads the two parts as one.

use std::rc::Rc;

/// A read-only cache of `len` positions, shared by the sequences built on it.
#[derive(Debug, Default)]
pub struct Frozen {
    /// Per layer, `[position][kv_dim]` keys (after rotation).
    k: Vec<Vec<f32>>,
    /// Per layer, `[position][kv_dim]` values.
    v: Vec<Vec<f32>>,
    len: usize,
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
    kv_dim: usize,
}

/// One layer's keys and values as seen by attention: prefix then own rows.
pub struct LayerView<'a> {
    pub k: [&'a [f32]; 2],
    pub v: [&'a [f32]; 2],
}

impl State {
    pub fn new(layers: usize, kv_dim: usize) -> State {
        State { prefix: None, prefix_len: 0, k: vec![Vec::new(); layers], v: vec![Vec::new(); layers], own: 0, kv_dim }
    }

    /// A sequence that sees the first `len` positions of `prefix`.
    pub fn from_prefix(prefix: &Rc<Frozen>, len: usize, kv_dim: usize) -> State {
        let layers = prefix.k.len();
        State {
            prefix: Some(prefix.clone()),
            prefix_len: len.min(prefix.len),
            k: vec![Vec::new(); layers],
            v: vec![Vec::new(); layers],
            own: 0,
            kv_dim,
        }
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
        let keep = self.own * self.kv_dim;
        for (k, v) in self.k.iter_mut().zip(&mut self.v) {
            k.truncate(keep);
            v.truncate(keep);
        }
    }

    /// Appends one layer's rows for new positions; call for every layer,
    /// then [`State::advance`] once.
    pub fn append(&mut self, layer: usize, k: &[f32], v: &[f32]) {
        self.k[layer].extend_from_slice(k);
        self.v[layer].extend_from_slice(v);
    }

    pub fn advance(&mut self, positions: usize) {
        self.own += positions;
    }

    pub fn layer(&self, layer: usize) -> LayerView<'_> {
        let n = self.prefix_len * self.kv_dim;
        let (pk, pv): (&[f32], &[f32]) = match &self.prefix {
            Some(p) => (&p.k[layer][..n], &p.v[layer][..n]),
            None => (&[], &[]),
        };
        LayerView { k: [pk, &self.k[layer]], v: [pv, &self.v[layer]] }
    }

    /// Copies everything visible into a shareable prefix.
    pub fn freeze(&self) -> Rc<Frozen> {
        let layers = self.k.len();
        let mut frozen = Frozen { k: Vec::with_capacity(layers), v: Vec::with_capacity(layers), len: self.len() };
        for layer in 0..layers {
            let view = self.layer(layer);
            frozen.k.push([view.k[0], view.k[1]].concat());
            frozen.v.push([view.v[0], view.v[1]].concat());
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
        let mut s = State::new(1, 2);
        s.append(0, &[1.0, 1.0, 2.0, 2.0], &[0.0; 4]);
        s.advance(2);
        let frozen = s.freeze();
        let mut t = State::from_prefix(&frozen, 1, 2);
        t.append(0, &[9.0, 9.0], &[0.0; 2]);
        t.advance(1);
        assert_eq!(t.len(), 2);
        let view = t.layer(0);
        assert_eq!([view.k[0], view.k[1]].concat(), vec![1.0, 1.0, 9.0, 9.0]);
        t.truncate(1);
        assert_eq!(t.len(), 1);
        assert!(t.layer(0).k[1].is_empty());
        t.truncate(0);
        assert!(t.is_empty());
    }
}
