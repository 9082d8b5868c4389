//! A small pool of helper threads for the matrix products, attention and a
//! prompt's row-wise work ([`rows_mut`]): the caller splits
//! a job into parts, and the caller and the helpers claim parts one by one
//! until none is left. Built for many short jobs (a decoded token runs ~200
//! products of 10–100 µs each): an idle helper spins for a while before it
//! sleeps, so a job usually starts on every thread within a microsecond, and
//! a late or sleeping helper costs nothing, since the caller claims the parts
//! it did not take.
//!
//! Invariants: one job runs at a time (a caller that finds the pool busy runs
//! its job alone); `run` returns only after every part ran and no helper
//! still looks at the job, so a job may borrow from the caller's stack.
//!
//! Helpers come from std threads natively (`BANNERET_THREADS`, default: the
//! available cores, at most [`MAX_THREADS`]), and from Web Workers sharing the
//! wasm memory in the threaded wasm build (`src/threads.js` starts them; each
//! enters [`helper`]). Single-threaded wasm builds run every job in the caller.

use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering::*};
#[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
use std::sync::{Condvar, Mutex};

/// Most threads (the caller included) a job is split across: the default
/// model's products stop scaling well beyond this, and each extra helper
/// spins a core between products.
pub const MAX_THREADS: usize = 4;

/// Spins an idle helper makes before it sleeps, about a millisecond: longer
/// than the gaps between products within a token (norms, attention,
/// sampling), shorter than a page would notice as a busy core.
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
const SPINS: u32 = 1 << 20;
/// Natively each spin is a `pause` (tens of nanoseconds).
#[cfg(not(target_arch = "wasm32"))]
const SPINS: u32 = 1 << 15;

/// Parts per thread a job is split into: helpers claim parts one at a
/// time, so a thread that starts late or runs slow gets fewer of them.
pub const PARTS_PER_THREAD: usize = 4;

/// An output written by several threads at once: each writes only its own
/// elements (disjoint ranges, e.g. its rows of every token's row of a matrix
/// product, or its rows of a prompt's activations), which no `&mut` slice
/// split can express.
pub struct SharedOutput<'a, T = f32> {
    ptr: *mut T,
    len: usize,
    _out: std::marker::PhantomData<&'a mut [T]>,
}

// SAFETY: threads touch disjoint elements (each user splits its output so),
// and `run` returns (with release/acquire on the pool's counters) before the
// output is used again.
unsafe impl<T: Send> Sync for SharedOutput<'_, T> {}

impl<'a, T> SharedOutput<'a, T> {
    pub fn new(out: &'a mut [T]) -> Self {
        SharedOutput { ptr: out.as_mut_ptr(), len: out.len(), _out: std::marker::PhantomData }
    }

    /// Writes `values` at `start`; no other thread may touch these elements
    /// during the job.
    #[inline]
    pub fn write(&self, start: usize, values: &[T])
    where
        T: Copy,
    {
        assert!(start + values.len() <= self.len, "shared output written out of bounds");
        // SAFETY: in bounds (asserted), and callers write disjoint elements.
        unsafe { std::ptr::copy_nonoverlapping(values.as_ptr(), self.ptr.add(start), values.len()) }
    }

    /// The elements in `range`, to work on in place.
    ///
    /// # Safety
    /// No other thread may touch these elements while the slice lives.
    #[inline]
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn slice_mut(&self, range: std::ops::Range<usize>) -> &mut [T] {
        assert!(range.start <= range.end && range.end <= self.len, "shared output sliced out of bounds");
        // SAFETY: in bounds (asserted); the caller keeps the elements to itself.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(range.start), range.len()) }
    }
}

/// Part `p` of `0..n` cut into `parts` contiguous pieces whose sizes differ
/// by at most one (how every job here splits its work).
pub fn part_range(p: usize, parts: usize, n: usize) -> std::ops::Range<usize> {
    p * n / parts..(p + 1) * n / parts
}

/// What the threads share for one job, on the caller's stack.
struct Job<'a> {
    parts: usize,
    next: AtomicUsize,
    work: &'a (dyn Fn(usize) + Sync),
}

impl Job<'_> {
    /// Claims and runs parts until none is left.
    fn work(&self) {
        loop {
            let part = self.next.fetch_add(1, Relaxed);
            if part >= self.parts {
                return;
            }
            (self.work)(part);
        }
    }
}

struct Pool {
    /// Threads a job is split across, the caller included.
    threads: AtomicUsize,
    /// Helpers that have entered [`helper`].
    helpers: AtomicUsize,
    /// Held by the thread running a job.
    in_use: AtomicBool,
    /// Bumped for every job; helpers wait for it to change.
    epoch: AtomicU32,
    /// The current job is still open to helpers.
    open: AtomicBool,
    /// Helpers inside the current job (the caller waits for 0).
    busy: AtomicUsize,
    /// The current job, valid while `open` or `busy > 0`.
    job: AtomicPtr<Job<'static>>,
    /// Helpers asleep on `wake` (the caller notifies only when there are some).
    sleepers: AtomicUsize,
    #[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
    lock: Mutex<()>,
    #[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
    wake: Condvar,
}

static POOL: Pool = Pool::new();

/// Threads a job is split across (1: everything runs in the caller).
pub fn threads() -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    native::start();
    POOL.threads.load(Relaxed).max(1)
}

/// Helpers that have started ([`threads`] - 1 once they all have).
pub fn helpers() -> usize {
    POOL.helpers.load(Relaxed)
}

/// Runs `work(part)` for every part in `0..parts`, on the caller and the
/// helpers; returns when all are done. Parts must be independent.
pub fn run(parts: usize, work: &(dyn Fn(usize) + Sync)) {
    if threads() > 1 {
        POOL.run(parts, work)
    } else {
        (0..parts).for_each(work)
    }
}

/// Row-wise work (norms, activation quantization, SwiGLU, rotation) on at
/// least this many rows is split across the threads: a prompt's rows are,
/// a decoded step's one to four are not.
pub const MIN_PARALLEL_ROWS: usize = 8;

/// Runs `work(first_row, chunk)` over `data` cut into contiguous chunks of
/// whole rows (`row_len` elements each), split across the threads when there
/// are at least [`MIN_PARALLEL_ROWS`] rows. Each row is handed to exactly
/// one call, so work that treats rows independently computes the same bits
/// however they are split.
pub fn rows_mut<T: Send>(data: &mut [T], row_len: usize, work: &(dyn Fn(usize, &mut [T]) + Sync)) {
    let rows = data.len() / row_len.max(1);
    if threads() == 1 || rows < MIN_PARALLEL_ROWS {
        work(0, data);
        return;
    }
    let parts = (threads() * PARTS_PER_THREAD).min(rows);
    let shared = SharedOutput::new(data);
    run(parts, &|p| {
        let rows = part_range(p, parts, rows);
        // SAFETY: the parts' row ranges are disjoint.
        let chunk = unsafe { shared.slice_mut(rows.start * row_len..rows.end * row_len) };
        work(rows.start, chunk);
    });
}

/// A helper thread's life in the shared pool: wait for a job, work on it,
/// repeat. Never returns.
#[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
pub fn helper() -> ! {
    POOL.helper()
}

/// Sets the number of threads jobs are split across (the caller included),
/// at most [`MAX_THREADS`]; the helpers themselves are started by the
/// platform (Web Workers in the threaded wasm build). Returns the number set.
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
pub fn set_threads(n: usize) -> usize {
    let n = n.clamp(1, MAX_THREADS);
    POOL.threads.store(n, SeqCst);
    n
}

impl Pool {
    const fn new() -> Pool {
        Pool {
            threads: AtomicUsize::new(0),
            helpers: AtomicUsize::new(0),
            in_use: AtomicBool::new(false),
            epoch: AtomicU32::new(0),
            open: AtomicBool::new(false),
            busy: AtomicUsize::new(0),
            job: AtomicPtr::new(std::ptr::null_mut()),
            sleepers: AtomicUsize::new(0),
            #[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
            lock: Mutex::new(()),
            #[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
            wake: Condvar::new(),
        }
    }

    fn run(&self, parts: usize, work: &(dyn Fn(usize) + Sync)) {
        if parts <= 1 || self.in_use.swap(true, Acquire) {
            (0..parts).for_each(work);
            return;
        }
        let job = Job { parts, next: AtomicUsize::new(0), work };
        // Lifetime: helpers reach the job only through `self.job` while `open`
        // or counted in `busy`; this function returns only after closing the
        // job and seeing `busy == 0`, so the job outlives every use.
        self.job.store(&job as *const Job as *mut Job<'static>, SeqCst);
        self.open.store(true, SeqCst);
        self.epoch.fetch_add(1, SeqCst);
        if self.sleepers.load(SeqCst) > 0 {
            self.wake_all();
        }
        job.work();
        // Parts a helper claimed finish inside its `busy` window.
        self.open.store(false, SeqCst);
        let mut spins = 0u32;
        while self.busy.load(SeqCst) != 0 {
            spins = spins.saturating_add(1);
            // A helper the OS took off its core holds its part until it runs
            // again: on a busy machine, give it our core rather than spin
            // (natively; wasm has no yield).
            if cfg!(not(target_arch = "wasm32")) && spins > 1 << 10 {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        self.job.store(std::ptr::null_mut(), SeqCst);
        self.in_use.store(false, Release);
    }

    #[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
    fn helper(&self) -> ! {
        self.helpers.fetch_add(1, SeqCst);
        let mut seen = self.epoch.load(SeqCst);
        loop {
            let mut spins = 0;
            while self.epoch.load(Acquire) == seen {
                if spins < SPINS {
                    spins += 1;
                    std::hint::spin_loop();
                } else {
                    self.sleep_while(seen);
                }
            }
            seen = self.epoch.load(SeqCst);
            // Entering `busy` before looking at `open` pairs with the caller's
            // close-then-check-busy: either it waits for us, or we see it closed.
            self.busy.fetch_add(1, SeqCst);
            if self.open.load(SeqCst) {
                // SAFETY: the job is open and we are counted in `busy`, so the
                // caller has not returned from `run` (see there).
                if let Some(job) = unsafe { self.job.load(SeqCst).as_ref() } {
                    job.work();
                }
            }
            self.busy.fetch_sub(1, SeqCst);
        }
    }

    #[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
    fn sleep_while(&self, seen: u32) {
        let mut guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.sleepers.fetch_add(1, SeqCst);
        // `run` bumps `epoch`, then reads `sleepers`: either it sees us here
        // and notifies under the lock, or we see the new epoch.
        while self.epoch.load(SeqCst) == seen {
            guard = self.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
        self.sleepers.fetch_sub(1, SeqCst);
    }

    fn wake_all(&self) {
        #[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
        {
            let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            self.wake.notify_all();
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::*;
    use std::sync::Once;

    /// Starts the helpers on first use: `BANNERET_THREADS` threads in all,
    /// else the available cores, at most [`MAX_THREADS`].
    pub(super) fn start() {
        static START: Once = Once::new();
        START.call_once(|| {
            let wanted = std::env::var("BANNERET_THREADS")
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
                .clamp(1, MAX_THREADS);
            let mut started = 1;
            for i in 1..wanted {
                let spawned = std::thread::Builder::new().name(format!("banneret-helper-{i}")).spawn(|| helper());
                if spawned.is_ok() {
                    started += 1;
                }
            }
            POOL.threads.store(started, SeqCst);
        });
    }
}

// Helpers are std threads here: native only (and threaded wasm, where the
// tests would need Web Workers to run).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;
    use std::time::{Duration, Instant};

    /// A pool of its own with `helpers` helper threads (the shared one may
    /// be busy with other tests, whose jobs then run alone).
    fn pool(helpers: usize) -> &'static Pool {
        let pool: &'static Pool = Box::leak(Box::new(Pool::new()));
        pool.threads.store(helpers + 1, SeqCst);
        for _ in 0..helpers {
            std::thread::spawn(move || pool.helper());
        }
        pool
    }

    #[test]
    fn every_part_runs_exactly_once() {
        let pool = pool(2);
        for parts in [0, 1, 2, 3, 17, 256] {
            let hits: Vec<AtomicU64> = (0..parts).map(|_| AtomicU64::new(0)).collect();
            for _ in 0..50 {
                pool.run(parts, &|p| {
                    hits[p].fetch_add(1, Relaxed);
                });
            }
            assert!(hits.iter().all(|h| h.load(Relaxed) == 50), "{parts} parts: {hits:?}");
        }
    }

    #[test]
    fn rows_mut_hands_each_row_to_one_call_with_its_index() {
        for rows in [0, 1, MIN_PARALLEL_ROWS - 1, MIN_PARALLEL_ROWS, 37, 200] {
            let mut data = vec![0usize; rows * 3];
            let calls = AtomicU64::new(0);
            rows_mut(&mut data, 3, &|first, chunk| {
                calls.fetch_add(1, Relaxed);
                for (i, row) in chunk.chunks_exact_mut(3).enumerate() {
                    row.iter_mut().for_each(|v| *v += first + i + 1);
                }
            });
            let want: Vec<usize> = (0..rows).flat_map(|r| [r + 1; 3]).collect();
            assert_eq!(data, want, "{rows} rows");
            if threads() > 1 && rows >= MIN_PARALLEL_ROWS {
                assert!(calls.load(Relaxed) > 1, "{rows} rows ran as one part");
            }
        }
    }

    #[test]
    fn helpers_take_parts_even_after_sleeping() {
        let pool = pool(1);
        let caller = std::thread::current().id();
        let on_helper = AtomicU64::new(0);
        let busy_part = |_| {
            let t0 = Instant::now();
            while t0.elapsed() < Duration::from_micros(500) {
                std::hint::spin_loop();
            }
            if std::thread::current().id() != caller {
                on_helper.fetch_add(1, Relaxed);
            }
        };
        for round in 0..3 {
            // Long enough that the helper spins out and sleeps in between.
            std::thread::sleep(Duration::from_millis(50));
            on_helper.store(0, Relaxed);
            for _ in 0..10 {
                pool.run(8, &busy_part);
            }
            assert!(on_helper.load(Relaxed) > 0, "round {round}: no part ran on the helper in 10 jobs");
        }
    }
}
