//! A fixed pool of worker threads for the kernel's many short parallel sections.
//!
//! A training step hands out work about ten times, a few to a few hundred microseconds each. A
//! general-purpose pool queues every such hand-off, wakes sleeping threads and, entered from a
//! thread outside it, allocates queue blocks now and then; here a hand-off is one atomic word.
//! The calling thread takes part: with `threads` threads there are `threads − 1` workers. Workers
//! spin briefly between sections (a step's sections come microseconds apart) and then park.
//!
//! Nothing is allocated after [`Pool::new`]. Which thread runs which block never matters: the
//! kernel's blocks are independent (NUMERICS.md §5), so only speed depends on this module.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long an idle worker spins before parking: longer than the gap between a step's sections,
/// far shorter than anything a user would notice as a busy core.
const SPIN: Duration = Duration::from_micros(200);

/// A section's task: called once with every block index below the section's block count.
type Task<'t> = dyn Fn(usize) + Sync + 't;

/// What the caller and the workers share.
struct Shared {
    /// `generation << 32 | next unclaimed block` of the current section. A block is claimed by a
    /// compare-and-swap on the whole word, so a worker that read a finished section's task can
    /// never claim a block of the next one.
    word: AtomicU64,
    /// Blocks in the current section (written before the section is published).
    blocks: AtomicUsize,
    /// Blocks of the current section not finished yet.
    remaining: AtomicUsize,
    /// Where the current section's task reference lives (on the stack of [`Pool::run`]); valid
    /// while a block of that section is claimed and unfinished, which keeps `run` waiting.
    task: AtomicPtr<&'static Task<'static>>,
    /// Whether a block panicked (re-raised on the calling thread).
    panicked: AtomicBool,
    stop: AtomicBool,
}

/// `threads − 1` parked-or-spinning workers plus the calling thread.
pub struct Pool {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
    /// Serialises sections started from different threads (the executor is `Sync`).
    entry: std::sync::Mutex<()>,
}

impl Pool {
    /// A pool of `threads` threads in all (the caller and `threads − 1` workers).
    pub fn new(threads: usize) -> Result<Self, String> {
        let shared = Arc::new(Shared {
            word: AtomicU64::new(0),
            blocks: AtomicUsize::new(0),
            remaining: AtomicUsize::new(0),
            task: AtomicPtr::new(std::ptr::null_mut()),
            panicked: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });
        let mut workers = Vec::with_capacity(threads.saturating_sub(1));
        for i in 1..threads.max(1) {
            let shared = Arc::clone(&shared);
            let worker = thread::Builder::new()
                .name(format!("samebits-worker-{i}"))
                .spawn(move || worker_loop(&shared))
                .map_err(|e| format!("cannot start {threads} worker threads: {e}"))?;
            workers.push(worker);
        }
        Ok(Self { shared, workers, entry: std::sync::Mutex::new(()) })
    }

    /// Runs `task(0) … task(blocks − 1)`, each exactly once, on the caller and the workers;
    /// returns when all have finished. A panic in a block is re-raised here.
    pub fn run(&self, blocks: usize, task: &Task<'_>) {
        if blocks == 0 {
            return;
        }
        let _entry = self.entry.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let s = &*self.shared;
        // SAFETY: the lifetime is extended only for the duration of this call: a worker calls the
        // task only for a block it has claimed of this section, every block finishes
        // (`remaining` reaches 0) before `run` returns, and after that no block of this section
        // can be claimed (`word` says every block is taken). So no call outlives `task`.
        let task: &'static Task<'static> = unsafe { std::mem::transmute::<&Task<'_>, &'static Task<'static>>(task) };
        let slot = task;
        s.task.store((&slot as *const &'static Task<'static>).cast_mut(), Ordering::Relaxed);
        s.blocks.store(blocks, Ordering::Relaxed);
        s.remaining.store(blocks, Ordering::Relaxed);
        let generation = (s.word.load(Ordering::Relaxed) >> 32).wrapping_add(1) & 0xFFFF_FFFF;
        s.word.store(generation << 32, Ordering::Release);
        for worker in &self.workers {
            worker.thread().unpark();
        }
        run_blocks(s, generation, blocks);
        // Wait for blocks other threads claimed.
        let start = Instant::now();
        while s.remaining.load(Ordering::Acquire) != 0 {
            if start.elapsed() < SPIN {
                std::hint::spin_loop();
            } else {
                thread::yield_now();
            }
        }
        s.task.store(std::ptr::null_mut(), Ordering::Relaxed);
        if s.panicked.swap(false, Ordering::Relaxed) {
            panic!("a worker thread panicked while running a block");
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        for worker in self.workers.drain(..) {
            worker.thread().unpark();
            let _ = worker.join();
        }
    }
}

/// Claims and runs blocks of section `generation` until none is left.
fn run_blocks(s: &Shared, generation: u64, blocks: usize) {
    let mut word = s.word.load(Ordering::Acquire);
    loop {
        let block = (word & 0xFFFF_FFFF) as usize;
        if word >> 32 != generation || block >= blocks {
            return;
        }
        match s.word.compare_exchange_weak(word, word + 1, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => {
                // SAFETY: this thread holds an unfinished block of section `generation`, so that
                // section's `run` is still waiting and its task slot (published with `word`, whose
                // Acquire load/CAS above saw this generation) is alive and unchanged.
                let task: &Task<'_> = unsafe { *s.task.load(Ordering::Acquire) };
                if catch_unwind(AssertUnwindSafe(|| task(block))).is_err() {
                    s.panicked.store(true, Ordering::Relaxed);
                }
                s.remaining.fetch_sub(1, Ordering::Release);
                word = s.word.load(Ordering::Acquire);
            }
            Err(current) => word = current,
        }
    }
}

fn worker_loop(s: &Shared) {
    let mut idle_since = Instant::now();
    let mut done_generation = 0u64;
    loop {
        if s.stop.load(Ordering::Acquire) {
            return;
        }
        let word = s.word.load(Ordering::Acquire);
        let generation = word >> 32;
        let blocks = s.blocks.load(Ordering::Relaxed);
        if generation != done_generation && ((word & 0xFFFF_FFFF) as usize) < blocks {
            // A block may have left this thread out of IEEE mode (NUMERICS.md §10): undo it.
            crate::fpmode::ensure_ieee();
            run_blocks(s, generation, blocks);
            done_generation = generation;
            idle_since = Instant::now();
        } else if idle_since.elapsed() < SPIN {
            std::hint::spin_loop();
        } else {
            thread::park_timeout(Duration::from_millis(50));
        }
    }
}
