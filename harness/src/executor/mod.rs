//! Host executors for the kernel: one thread, or a pool of threads splitting rows.
//!
//! Every split the kernel allows is along independent outputs (NUMERICS.md §5), so the
//! thread count changes speed only, never bits.

use crate::config::SimdChoice;
use samebits::exec::{row_count, Executor, RowTask, Sequential};
use samebits::linalg::{UnitKind, VectorUnit};

mod pool;
use pool::Pool;

/// Estimated floating-point operations below which a task runs on the calling thread alone
/// (about 20 µs of product work on one core). A hand-off to the pool costs well under a
/// microsecond, but a split section's data must then move between the cores' caches, which on
/// the machines measured (docs/PERFORMANCE.md) cost more than smaller sections save.
pub const MIN_PARALLEL_WORK: usize = 1 << 20;

/// The vector units this processor runs, narrowest first: always the portable loops, then
/// every unit std's run-time feature detection confirms (SSE2, AVX2, AVX-512 F+BW on x86; NEON
/// on aarch64). All give the same bits; they differ in speed.
pub fn available_vector_units() -> Vec<VectorUnit> {
    let mut units = vec![VectorUnit::PORTABLE];
    for kind in UnitKind::ALL.into_iter().filter(|k| *k != UnitKind::Portable && k.has_code() && detected(*k)) {
        // SAFETY: `detected` has just confirmed, through std's CPUID/HWCAP query, that this
        // processor supports every instruction of `kind` (its requirement for soundness).
        units.push(unsafe { VectorUnit::new_unchecked(kind) });
    }
    units
}

/// Whether the running processor has the instructions of `kind`.
fn detected(kind: UnitKind) -> bool {
    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    {
        match kind {
            UnitKind::Sse2 => std::arch::is_x86_feature_detected!("sse2"),
            UnitKind::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            UnitKind::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512bw")
            }
            _ => false,
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        kind == UnitKind::Neon && std::arch::is_aarch64_feature_detected!("neon")
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64")))]
    {
        let _ = kind;
        false
    }
}

/// The unit `choice` names: the widest available for `auto`, or the named one if this processor
/// has it (a one-line error naming the available ones otherwise).
pub fn resolve_vector_unit(choice: SimdChoice) -> Result<VectorUnit, String> {
    let units = available_vector_units();
    let Some(kind) = choice.kind() else {
        return Ok(*units.last().expect("portable is always available"));
    };
    units.iter().copied().find(|u| u.kind() == kind).ok_or_else(|| {
        let names: Vec<&str> = units.iter().map(|u| u.kind().name()).collect();
        format!("--simd {kind}: this processor or build has no {kind} code to run (available: {})", names.join(", "))
    })
}

/// Runs the kernel's row blocks on `threads` threads (the calling thread alone for 1), with the
/// products on one vector unit.
pub struct HostExecutor {
    threads: usize,
    unit: VectorUnit,
    pool: Option<Pool>,
}

impl HostExecutor {
    /// An executor with `threads` worker threads (at least 1) and the widest vector unit this
    /// processor has.
    pub fn new(threads: usize) -> Result<Self, String> {
        Self::with_simd(threads, SimdChoice::Auto)
    }

    /// An executor with `threads` worker threads (at least 1) and the vector unit `simd` names.
    pub fn with_simd(threads: usize, simd: SimdChoice) -> Result<Self, String> {
        let unit = resolve_vector_unit(simd)?;
        let threads = threads.max(1);
        // WebAssembly without the atomics feature (wasm32-wasip1) cannot start a thread.
        if threads > 1 && cfg!(all(target_family = "wasm", not(target_feature = "atomics"))) {
            return Err(format!(
                "--threads {threads}: threads are not available on this platform ({}); use --threads 1",
                std::env::consts::ARCH
            ));
        }
        let pool = if threads == 1 { None } else { Some(Pool::new(threads)?) };
        Ok(Self { threads, unit, pool })
    }

    /// The vector unit the products run on.
    pub fn unit(&self) -> VectorUnit {
        self.unit
    }

    /// Number of threads work is split across.
    pub fn threads(&self) -> usize {
        self.threads
    }
}

impl Executor for HostExecutor {
    fn vector_unit(&self) -> VectorUnit {
        self.unit
    }

    fn parallelism(&self) -> usize {
        self.threads
    }

    fn for_each_row_block2<A: Send, B: Send>(
        &self,
        a: &mut [A],
        a_row: usize,
        b: &mut [B],
        b_row: usize,
        work_per_row: usize,
        task: &RowTask<'_, A, B>,
    ) {
        let rows = row_count(a, a_row, b, b_row);
        // Whatever switched this thread out of IEEE mode since the last section, undo it (the
        // workers do the same before their blocks).
        crate::fpmode::ensure_ieee();
        // Below this much work one thread is faster (see MIN_PARALLEL_WORK). Where the work is
        // cut never changes a result, so this only affects speed.
        let worth_splitting = rows > 1 && rows.saturating_mul(work_per_row) >= MIN_PARALLEL_WORK;
        let Some(pool) = self.pool.as_ref().filter(|_| worth_splitting) else {
            return Sequential.for_each_row_block2(a, a_row, b, b_row, work_per_row, task);
        };
        // One block per thread, cut by rows only: the blocks are equal, so handing out smaller
        // pieces would add only hand-offs.
        let per_block = rows.div_ceil(self.threads);
        let blocks = rows.div_ceil(per_block);
        let (a_ptr, b_ptr) = (SendPtr(a.as_mut_ptr()), SendPtr(b.as_mut_ptr()));
        pool.run(blocks, &|block| {
            let first = block * per_block;
            let n = per_block.min(rows - first);
            // SAFETY: `Pool::run` calls this once per block index below `blocks`, so the row
            // ranges `first..first + n` of different calls are disjoint and inside `a` (and `b`,
            // which has the same rows): each call gets exclusive access to its rows of both, for
            // no longer than `run`, which borrows `a` and `b` mutably throughout. `A` and `B`
            // are `Send`, so their blocks may be used on another thread.
            let (a_block, b_block) = unsafe {
                (
                    std::slice::from_raw_parts_mut(a_ptr.get().add(first * a_row), n * a_row),
                    std::slice::from_raw_parts_mut(b_ptr.get().add(first * b_row), n * b_row),
                )
            };
            task(first, a_block, b_block);
        });
    }
}

/// A raw pointer that may cross to a pool thread: what it points to is handed out in disjoint
/// blocks (see `for_each_row_block2`).
struct SendPtr<T>(*mut T);

impl<T> Clone for SendPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for SendPtr<T> {}

impl<T> SendPtr<T> {
    /// The pointer (a method, so that closures capture the whole `Send` wrapper).
    fn get(self) -> *mut T {
        self.0
    }
}

// SAFETY: only used to give each pool thread exclusive access to its own block of `Send`
// elements, for the duration of one `Pool::run`.
unsafe impl<T: Send> Send for SendPtr<T> {}
// SAFETY: as above; sharing the wrapper only shares the address, and each block derived from
// it is used by one thread.
unsafe impl<T: Send> Sync for SendPtr<T> {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn every_row_is_covered_exactly_once() {
        for threads in [1, 2, 3, 7] {
            let exec = HostExecutor::new(threads).unwrap();
            for rows in [1, 2, 5, 16, 33, 3000] {
                let mut a = vec![0u32; rows * 3];
                let mut b = vec![0u8; rows];
                let calls = AtomicUsize::new(0);
                exec.for_each_row_block2(&mut a, 3, &mut b, 1, MIN_PARALLEL_WORK, &|first, a, b| {
                    calls.fetch_add(1, Ordering::Relaxed);
                    assert_eq!(a.len() / 3, b.len());
                    for (i, row) in a.chunks_mut(3).enumerate() {
                        row.iter_mut().for_each(|v| *v += (first + i) as u32 + 1);
                    }
                    b.iter_mut().for_each(|v| *v += 1);
                });
                let want: Vec<u32> = (0..rows).flat_map(|r| [r as u32 + 1; 3]).collect();
                assert_eq!(a, want, "threads {threads}, rows {rows}");
                assert!(b.iter().all(|v| *v == 1));
                assert!(calls.into_inner() <= threads.max(1));
            }
        }
    }

    #[test]
    fn small_work_stays_on_the_calling_thread() {
        let exec = HostExecutor::new(2).unwrap();
        let caller = std::thread::current().id();
        let calls = AtomicUsize::new(0);
        exec.for_each_row_block(&mut [0u8; 64], 1, 100, &|_, _| {
            calls.fetch_add(1, Ordering::Relaxed);
            assert_eq!(std::thread::current().id(), caller);
        });
        assert_eq!(calls.into_inner(), 1);
    }

    #[test]
    fn single_output_form() {
        let exec = HostExecutor::new(3).unwrap();
        let mut a = vec![0usize; 10];
        exec.for_each_row_block(&mut a, 1, MIN_PARALLEL_WORK, &|first, a| {
            a.iter_mut().enumerate().for_each(|(i, v)| *v = first + i)
        });
        assert_eq!(a, (0..10).collect::<Vec<_>>());
    }
}
