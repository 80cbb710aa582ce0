//! Access to an OpenCL device for the tests of the OpenCL path.
//!
//! The tests need an OpenCL device (PoCL on CPUs is enough). Without one they print why and
//! pass, so that `cargo test` works anywhere; the README's test command installs PoCL and sets
//! `SAMEBITS_REQUIRE_OPENCL=1`, under which a missing device fails the test instead.

use samebits_harness::opencl::Gpu;

/// The first suitable OpenCL device, or `None` (after saying why) when there is none and
/// `SAMEBITS_REQUIRE_OPENCL` is unset.
///
/// # Panics
/// When no device can be opened and `SAMEBITS_REQUIRE_OPENCL` is set.
pub fn gpu() -> Option<Gpu> {
    match Gpu::open(None) {
        Ok(gpu) => Some(gpu),
        Err(e) if std::env::var_os("SAMEBITS_REQUIRE_OPENCL").is_none() => {
            eprintln!("skipped: {e}");
            None
        }
        Err(e) => panic!("SAMEBITS_REQUIRE_OPENCL is set but: {e}"),
    }
}

/// `n` f32 bit patterns spread over all 2^32: `i · step` for a `step` odd and close to
/// 2^32 / n, so every sign, exponent and mantissa region is visited.
pub fn spread_u32(n: usize) -> impl Iterator<Item = u32> {
    let step = ((1u64 << 32) / n as u64) as u32 | 1;
    (0..n as u32).map(move |i| i.wrapping_mul(step))
}
