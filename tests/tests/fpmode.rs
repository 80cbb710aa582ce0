//! Flush-to-zero and denormals-are-zero set behind the harness's back are undone before any of
//! its threads computes, so training keeps the contract's bits (NUMERICS.md §10).
//!
//! The case trains on the digits scaled into the subnormal range, so that the mode matters: the
//! kernel alone (no harness executor) on a thread in FTZ/DAZ mode gives a different digest, which
//! shows the test can fail. Then FTZ/DAZ is set on the calling thread and, through a section of
//! work, on the pool's worker; training through the harness's executor gives the IEEE digest.
#![cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]

use samebits::arith::Float;
use samebits::exec::{Executor, Sequential, WORTH_SPLITTING};
use samebits_harness::bench::EpochFixture;
use samebits_harness::config::TrainConfig;
use samebits_harness::data::builtin_digits_split;
use samebits_harness::executor::HostExecutor;
use samebits_harness::fpmode;
use std::sync::Barrier;

/// Puts the calling thread into flush-to-zero and denormals-are-zero mode.
fn set_flush_to_zero() {
    #[cfg(target_arch = "x86_64")]
    {
        let csr = samebits_harness::env::system::read_mxcsr() | 1 << 15 | 1 << 6;
        // SAFETY: loads this thread's own MXCSR with FTZ and DAZ set; masks and reserved bits are
        // unchanged. The mode is the test's subject, and the harness must undo it.
        unsafe { std::arch::asm!("ldmxcsr [{p}]", p = in(reg) std::ptr::addr_of!(csr), options(nostack, readonly)) };
    }
    #[cfg(target_arch = "aarch64")]
    {
        let fpcr = samebits_harness::env::system::read_fpcr() | 1 << 24;
        // SAFETY: writes this thread's own FPCR with FZ set; trap enables are unchanged.
        unsafe { std::arch::asm!("msr fpcr, {r}", r = in(reg) fpcr, options(nomem, nostack)) };
    }
}

/// Digest after one epoch of the fixture (from its initial parameters) on `exec`, with the
/// calling thread put into FTZ/DAZ mode just before if `flush` (after initialisation).
fn digest_after_epoch<E: Executor>(fixture: &mut EpochFixture<Float>, exec: &E, flush: bool) -> String {
    let mut epoch = fixture.epoch().unwrap();
    if flush {
        set_flush_to_zero();
    }
    epoch.run(exec).unwrap();
    let digest = epoch.trainer().digest().to_string();
    // Leave the test's thread as it found it.
    fpmode::ensure_ieee();
    digest
}

#[test]
fn flush_to_zero_set_on_training_threads_is_undone_and_the_bits_are_kept() {
    // A thread of its own: the mode set below must not leak into other tests.
    std::thread::spawn(|| {
        let (mut train, _test) = builtin_digits_split();
        // Features 0…1 times 2⁻¹²⁶ · 2⁻⁴: every nonzero input is subnormal.
        let scale = f32::MIN_POSITIVE / 16.0;
        train.features.iter_mut().for_each(|x| *x *= scale);
        let config = TrainConfig { batch: 256, epochs: 1, threads: 2, ..TrainConfig::default() };
        let mut fixture = EpochFixture::<Float>::new(config, train).unwrap();

        let ieee = digest_after_epoch(&mut fixture, &Sequential, false);
        let flushed = digest_after_epoch(&mut fixture, &Sequential, true);
        assert_ne!(flushed, ieee, "FTZ/DAZ should change this case's bits, or the test proves nothing");

        let exec = HostExecutor::new(2).unwrap();
        let before = fpmode::restorations();
        // The worker too: a section whose two blocks wait for each other runs on both threads.
        let both = Barrier::new(2);
        exec.for_each_row_block(&mut [0u8; 2], 1, WORTH_SPLITTING, &|_, _| {
            set_flush_to_zero();
            both.wait();
        });
        let guarded = digest_after_epoch(&mut fixture, &exec, true);
        assert_eq!(guarded, ieee, "training through the harness's executor kept the IEEE bits");
        assert!(fpmode::restorations() - before >= 2, "both threads were found in FTZ/DAZ mode and restored");
    })
    .join()
    .unwrap();
}
