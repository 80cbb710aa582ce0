//! Deterministic random numbers.
//!
//! Contract: NUMERICS.md §8.1 to §8.4. (§8.5, weight initialisation, and
//! the choice of the run's two streams, `init` = `seed_from_u64(s)` and
//! `shuffle` = `seed_from_u64(s ^ 0x5348_5546_464C_4521)`, are the
//! callers' business; this module supplies the pieces they are built from.)
//!
//! Everything random in a samebits run (weight initialisation, data order)
//! must be a pure function of one `u64` seed, on every
//! platform, with every compiler, forever. That rules out `rand`'s
//! convenience layers, whose algorithms may change between releases and
//! which are free to consume the underlying stream differently. This module
//! therefore pins down *every* step from seed to value:
//!
//! 1. **Seeding.** A `u64` seed goes through [`SplitMix64`] (two outputs,
//!    low word first) to give the 128-bit state of a
//!    [`Xoshiro128PlusPlus`]; see
//!    [`Xoshiro128PlusPlus::seed_from_u64`](rand_core::SeedableRng::seed_from_u64).
//!    We override `rand_core`'s default seeding on purpose: its algorithm
//!    is `rand_core`'s to change, ours is ours.
//! 2. **Generation.** The one source of randomness is xoshiro128++ 1.0
//!    (Blackman & Vigna), bit-for-bit equal to the public-domain reference C
//!    code. `next_u64` is two `next_u32` draws, low word first;
//!    `fill_bytes` follows `rand_core::impls::fill_bytes_via_next`
//!    (little-endian, and a short tail still consumes a whole word).
//! 3. **Derived values.** Only the functions here turn raw words into
//!    values, each with a fixed number of draws per call:
//!    - [`unit_f32`](fn@unit_f32): one word -> a float in `[0, 1)`, exactly a multiple
//!      of 2^-24, no rounding anywhere.
//!    - [`bounded_u32`](fn@bounded_u32): an unbiased integer in `[0, n)` by Lemire's
//!      method; one word per call, plus one more per rejection.
//!    - [`shuffle`](fn@shuffle): Fisher–Yates from the end, one [`bounded_u32`](fn@bounded_u32) per
//!      position.
//!
//! Changing any observable output of this module (a value, or how many
//! words a call consumes) changes every downstream digest and is a breaking
//! change of the numerical contract. The tests pin each rule to golden
//! values that were cross-checked against independent reference code.
//!
//! None of this is cryptographic. Do not use it for secrets.

mod bounded_u32;
mod shuffle;
mod splitmix64;
mod unit_f32;
mod xoshiro128pp;

pub use self::bounded_u32::bounded_u32;
pub use self::shuffle::shuffle;
pub use self::splitmix64::SplitMix64;
pub use self::unit_f32::unit_f32;
pub use self::xoshiro128pp::Xoshiro128PlusPlus;
