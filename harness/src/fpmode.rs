//! Keeping the floating-point unit in IEEE mode on every thread that trains.
//!
//! The contract (NUMERICS.md §10) keeps subnormal numbers and rounds to nearest. A process can
//! switch its CPU into flush-to-zero or denormals-are-zero mode (x86 MXCSR.FTZ and DAZ, AArch64
//! FPCR.FZ) or another rounding mode, per thread — libraries built with fast-math do so when
//! they are loaded, and a callback can do so at any time. The kernel cannot see that register
//! (it is `no_std` and has no assembly); the harness checks it on the calling thread and on each
//! pool worker before every section of work, and puts IEEE mode back: these are its own
//! threads for the duration of training. Each restoration is counted, and `samebits train`
//! reports them. Checking costs one register read per section.

use std::sync::atomic::{AtomicU64, Ordering};

/// Threads found out of IEEE mode and restored, since the process started.
static RESTORED: AtomicU64 = AtomicU64::new(0);

/// Puts the calling thread's floating-point unit back in IEEE mode (subnormals kept, round to
/// nearest, ties to even) if it was not; returns whether it had to.
#[inline]
pub fn ensure_ieee() -> bool {
    let restored = restore_if_needed();
    if restored {
        RESTORED.fetch_add(1, Ordering::Relaxed);
    }
    restored
}

/// How many times a thread has been found out of IEEE mode and restored in this process.
pub fn restorations() -> u64 {
    RESTORED.load(Ordering::Relaxed)
}

#[cfg(any(target_arch = "x86_64", all(target_arch = "x86", target_feature = "sse")))]
fn restore_if_needed() -> bool {
    /// MXCSR.FTZ (bit 15), MXCSR.DAZ (bit 6) and the rounding-control field RC (bits 13–14).
    const NOT_IEEE: u32 = 1 << 15 | 1 << 6 | 3 << 13;
    let csr = crate::env::system::read_mxcsr();
    if csr & NOT_IEEE == 0 {
        return false;
    }
    let ieee = csr & !NOT_IEEE;
    // SAFETY: `ldmxcsr` loads the 4 bytes at the address given, a live u32, into MXCSR. The value
    // is the thread's own MXCSR with FTZ and DAZ cleared and rounding to nearest: exception
    // masks and reserved bits are kept as they were, so no exception is unmasked and no
    // reserved bit set (which would fault).
    unsafe {
        std::arch::asm!("ldmxcsr [{p}]", p = in(reg) std::ptr::addr_of!(ieee), options(nostack, preserves_flags, readonly));
    }
    true
}

#[cfg(target_arch = "aarch64")]
fn restore_if_needed() -> bool {
    /// FPCR.FZ (bit 24), RMode (bits 22–23), FZ16 (bit 19), and FEAT_AFP's AH and FIZ (bits 1
    /// and 0, which read as zero where the feature is absent).
    const NOT_IEEE: u64 = 1 << 24 | 3 << 22 | 1 << 19 | 1 << 1 | 1;
    let fpcr = crate::env::system::read_fpcr();
    if fpcr & NOT_IEEE == 0 {
        return false;
    }
    let ieee = fpcr & !NOT_IEEE;
    // SAFETY: `msr fpcr` writes the thread's own FPCR with only the mode bits above cleared; the
    // trap-enable bits are kept, so no floating-point exception starts trapping.
    unsafe {
        std::arch::asm!("msr fpcr, {r}", r = in(reg) ieee, options(nomem, nostack, preserves_flags));
    }
    true
}

/// WebAssembly has no such mode (it always keeps subnormals and rounds to nearest); other targets'
/// registers are not read.
#[cfg(not(any(target_arch = "x86_64", all(target_arch = "x86", target_feature = "sse"), target_arch = "aarch64")))]
fn restore_if_needed() -> bool {
    false
}
