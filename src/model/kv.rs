//! Key/value caches. A sequence's cache may start with a frozen prefix that
//! many sequences share (the prompt, read once), followed by positions of
//! its own; attention reads the parts as one. A frozen prefix may itself
//! start with the first positions of an older one (a visitor's prompt on
//! the warmed-up beginning it extends, which may extend another), so a
//! prompt's cache holds only the positions it read, not a copy of the ones
//! it reused (up to [`PARTS`] parts in all). Each key/value
//! head's rows are stored apart (`[position][head_dim]`), so attention over
//! one head streams contiguous memory instead of picking a third out of
//! every row.

use std::rc::Rc;

/// A sequence's own rows grow by at least this many positions, and by a
/// quarter of what they hold, at a time: a decoded sequence adds one
/// position per step, and doubling would leave up to half of its rows
/// unused (a banner variant of 43 positions would hold 64).
const GROWTH_POSITIONS: usize = 16;

/// Parts a sequence's cache may be read in: up to `PARTS - 1` frozen
/// prefixes, each starting with the one before, then the sequence's own
/// rows. Freezing on a chain already that long copies one link's rows
/// instead of adding a link.
pub const PARTS: usize = 4;

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

/// A read-only cache of `len` positions, shared by the sequences built on
/// it: the first `base_len` positions of `base` (itself a chain of at most
/// `PARTS - 2` links), then rows of its own.
#[derive(Debug, Default)]
pub struct Frozen {
    base: Option<Rc<Frozen>>,
    base_len: usize,
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

    /// Bytes of the rows this cache holds itself (its base not counted).
    pub fn bytes(&self) -> usize {
        self.k.iter().chain(&self.v).map(|c| c.capacity() * 4).sum()
    }

    /// The cache this one starts with, if any.
    pub fn base(&self) -> Option<&Rc<Frozen>> {
        self.base.as_ref()
    }

    /// Frozen caches in the chain that ends with this one.
    fn links(&self) -> usize {
        1 + self.base.as_ref().map_or(0, |b| b.links())
    }

    /// Writes the parts holding this cache's first `len` positions, oldest
    /// first, into `parts`; returns how many.
    fn parts<'a>(&'a self, len: usize, layer: std::ops::Range<usize>, parts: &mut [Part<'a>; PARTS]) -> usize {
        let from_base = len.min(self.base_len);
        let i = match &self.base {
            Some(b) => b.parts(from_base, layer.clone(), parts),
            None => 0,
        };
        parts[i] = Part::of(&self.k, &self.v, layer, len - from_base);
        i + 1
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

/// One layer's rows of one part of a view: a layer's heads, and how many
/// positions of each are visible (at most as many as they hold).
#[derive(Clone, Copy)]
struct Part<'a> {
    k: &'a [Vec<f32>],
    v: &'a [Vec<f32>],
    rows: usize,
}

impl<'a> Part<'a> {
    const EMPTY: Part<'static> = Part { k: &[], v: &[], rows: 0 };

    fn of(k: &'a [Vec<f32>], v: &'a [Vec<f32>], layer: std::ops::Range<usize>, rows: usize) -> Part<'a> {
        Part { k: &k[layer.clone()], v: &v[layer], rows }
    }

    fn head(&self, head: usize, head_dim: usize) -> (&'a [f32], &'a [f32]) {
        match (self.k.get(head), self.v.get(head)) {
            (Some(k), Some(v)) => {
                let n = self.rows.saturating_mul(head_dim).min(k.len());
                (&k[..n], &v[..n])
            }
            _ => (&[], &[]),
        }
    }
}

/// One layer's keys and values as seen by attention, head by head: the
/// frozen prefixes' rows, oldest first, then the sequence's own rows.
#[derive(Clone, Copy)]
pub struct LayerView<'a> {
    parts: [Part<'a>; PARTS],
    head_dim: usize,
}

/// One key/value head's rows, `[position][head_dim]`, in consecutive parts
/// (any may be empty).
pub struct HeadView<'a> {
    pub k: [&'a [f32]; PARTS],
    pub v: [&'a [f32]; PARTS],
}

impl<'a> LayerView<'a> {
    /// Key/value head `head` of this layer.
    pub fn head(&self, head: usize) -> HeadView<'a> {
        let rows = self.parts.map(|p| p.head(head, self.head_dim));
        HeadView { k: rows.map(|r| r.0), v: rows.map(|r| r.1) }
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

    /// Makes room for `positions` more positions of its own at once (a
    /// prompt's length is known before it is read), instead of growing the
    /// rows by doubling, which can leave up to half of them unused.
    pub fn reserve(&mut self, positions: usize) {
        let n = positions * self.shape.head_dim;
        for rows in self.k.iter_mut().chain(&mut self.v) {
            rows.reserve_exact(n);
        }
    }

    /// Appends one layer's rows for new positions (`[position][heads *
    /// head_dim]`, as the projections produce them); call for every layer,
    /// then [`State::advance`] once.
    pub fn append(&mut self, layer: usize, k: &[f32], v: &[f32]) {
        let (heads, hd) = (self.shape.heads, self.shape.head_dim);
        let range = self.shape.layer(layer);
        let needed = k.len() / heads;
        for (rows, cache) in [(k, &mut self.k[range.clone()]), (v, &mut self.v[range])] {
            for cache in cache.iter_mut() {
                make_room(cache, needed, hd);
            }
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

    /// Whether this cache and `other` see the same shared prefix and hold
    /// as many positions of their own (after the same tokens, the same rows).
    pub fn holds_the_same_positions_as(&self, other: &State) -> bool {
        let same_prefix = match (&self.prefix, &other.prefix) {
            (Some(a), Some(b)) => Rc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        same_prefix && self.prefix_len == other.prefix_len && self.own == other.own
    }

    /// Takes the positions `ahead` holds beyond this cache's own: `ahead` is
    /// a sequence that read the same tokens as this one (see
    /// [`State::holds_the_same_positions_as`]) and then more, whose rows
    /// this sequence would have computed itself.
    pub fn catch_up(&mut self, ahead: &State) {
        assert!(
            ahead.own >= self.own && ahead.prefix_len == self.prefix_len,
            "catch_up from a cache that is not ahead of this one"
        );
        let (from, to) = (self.own * self.shape.head_dim, ahead.own * self.shape.head_dim);
        for (mine, theirs) in self.k.iter_mut().zip(&ahead.k).chain(self.v.iter_mut().zip(&ahead.v)) {
            make_room(mine, to - from, self.shape.head_dim);
            mine.extend_from_slice(&theirs[from..to]);
        }
        self.own = ahead.own;
    }

    pub fn layer(&self, layer: usize) -> LayerView<'_> {
        let range = self.shape.layer(layer);
        let mut parts = [Part::EMPTY; PARTS];
        let i = match &self.prefix {
            Some(p) => p.parts(self.prefix_len, range.clone(), &mut parts),
            None => 0,
        };
        // Every own row, including those a forward pass appended before it
        // advances the positions (its attention reads them).
        parts[i] = Part::of(&self.k, &self.v, range, usize::MAX);
        LayerView { parts, head_dim: self.shape.head_dim }
    }

    /// Turns this cache into a shareable prefix. Its own rows move over
    /// without a copy; the positions it reused from a frozen prefix stay
    /// there (the new prefix starts with them). On a chain already
    /// `PARTS - 1` links long, the last link's visible rows are copied in
    /// front of this cache's instead, so the chain does not grow.
    pub fn freeze(self) -> Rc<Frozen> {
        let len = self.len();
        let State { prefix, prefix_len, mut k, mut v, own: _, shape } = self;
        // The shortest chain that holds the reused positions.
        let mut prefix = prefix.filter(|_| prefix_len > 0);
        while let Some(b) = prefix.as_ref().filter(|p| prefix_len <= p.base_len).and_then(|p| p.base.clone()) {
            prefix = Some(b);
        }
        let (base, base_len) = match prefix {
            Some(p) if p.links() < PARTS - 1 => (Some(p), prefix_len),
            Some(p) => {
                let from_base = prefix_len.min(p.base_len);
                let copied = (prefix_len - from_base) * shape.head_dim;
                // One head's rows at a time, each to exactly its size.
                for (rows, older) in k.iter_mut().zip(&p.k).chain(v.iter_mut().zip(&p.v)) {
                    *rows = older[..copied].iter().chain(rows.iter()).copied().collect();
                }
                (p.base.clone(), from_base)
            }
            None => (None, 0),
        };
        Rc::new(Frozen { base, base_len, k, v, len, shape })
    }

    /// Bytes of cache this sequence owns (the shared prefix not counted).
    pub fn own_bytes(&self) -> usize {
        self.k.iter().chain(&self.v).map(|c| c.capacity() * 4).sum()
    }
}

/// Room in one head's rows for `needed` more values: they grow by at least
/// [`GROWTH_POSITIONS`] positions and a quarter of what they hold at a time.
fn make_room(rows: &mut Vec<f32>, needed: usize, head_dim: usize) {
    if rows.capacity() - rows.len() < needed {
        rows.reserve_exact(needed.max(GROWTH_POSITIONS * head_dim).max(rows.len() / 4));
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
            rows.k.concat()
        };
        assert_eq!(head(0), vec![1.0, 1.0, 9.0, 9.0]);
        assert_eq!(head(1), vec![5.0, 5.0, 8.0, 8.0]);
        t.truncate(1);
        assert_eq!(t.len(), 1);
        assert!(t.layer(0).head(1).k[2].is_empty());
        t.truncate(0);
        assert!(t.is_empty());
    }

    /// Appends `rows` to one head of width 1, key = value = position.
    fn positions(state: &mut State, rows: std::ops::Range<usize>) {
        let k: Vec<f32> = rows.clone().map(|p| p as f32).collect();
        state.append(0, &k, &k);
        state.advance(rows.len());
    }

    fn keys(state: &State) -> Vec<f32> {
        state.layer(0).head(0).k.concat()
    }

    #[test]
    fn a_prefix_built_on_a_prefix_keeps_its_own_rows_only_and_reads_the_same() {
        let mut warm = State::new(1, 1, 1);
        warm.reserve(4);
        positions(&mut warm, 0..4);
        let warm = warm.freeze();
        assert_eq!((warm.len(), warm.bytes()), (4, 2 * 4 * 4));

        // A prompt that reused 3 of the warmed positions and read 3 more.
        let mut prompt = State::from_prefix(&warm, 3);
        prompt.reserve(3);
        positions(&mut prompt, 3..6);
        let prompt = prompt.freeze();
        assert_eq!(prompt.len(), 6);
        assert_eq!(prompt.bytes(), 2 * 3 * 4, "the reused positions are not copied");
        assert!(Rc::ptr_eq(prompt.base().unwrap(), &warm));

        let mut sequence = State::from_prefix(&prompt, 6);
        positions(&mut sequence, 6..7);
        assert_eq!(keys(&sequence), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let mut shorter = State::from_prefix(&prompt, 2);
        positions(&mut shorter, 2..3);
        assert_eq!(keys(&shorter), [0.0, 1.0, 2.0]);

        // Frozen again within the older prefix: it starts with that one.
        let within = State::from_prefix(&prompt, 2).freeze();
        assert!(Rc::ptr_eq(within.base().unwrap(), &warm));
        assert_eq!((within.len(), within.bytes()), (2, 0));
        // Past it: a third link, no copy.
        let mut past = State::from_prefix(&prompt, 5);
        past.reserve(3);
        positions(&mut past, 5..8);
        let past = past.freeze();
        assert!(Rc::ptr_eq(past.base().unwrap(), &prompt));
        assert_eq!((past.len(), past.bytes()), (8, 2 * 3 * 4));
        assert_eq!(keys(&State::from_prefix(&past, 8)), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        // On a chain of PARTS - 1 links: the last link's visible rows are
        // copied in front of the new ones, and the chain stays that long.
        let mut deeper = State::from_prefix(&past, 7);
        deeper.reserve(2);
        positions(&mut deeper, 7..9);
        let deeper = deeper.freeze();
        assert!(Rc::ptr_eq(deeper.base().unwrap(), &prompt));
        assert_eq!((deeper.len(), deeper.bytes()), (9, 2 * 4 * 4), "2 rows copied, 2 read");
        let mut sequence = State::from_prefix(&deeper, 9);
        positions(&mut sequence, 9..10);
        assert_eq!(keys(&sequence), (0..10).map(|p| p as f32).collect::<Vec<_>>());
    }

    #[test]
    fn decoded_positions_grow_the_rows_by_small_steps() {
        let mut s = State::new(1, 1, 1);
        for p in 0..43 {
            positions(&mut s, p..p + 1);
        }
        // 16, 32, 48 positions: not 64, as doubling would hold.
        assert_eq!(s.own_bytes(), 2 * 48 * 4);
        assert_eq!(keys(&s), (0..43).map(|p| p as f32).collect::<Vec<_>>());
    }
}
