//! Digest of a model: SHA-256 over every parameter's bits, little-endian.
//!
//! Contract: NUMERICS.md §11. Hashing the bit patterns (not printed decimals) in a fixed byte
//! order makes the digest the same string on little- and big-endian hosts and on every
//! platform that computed the same bits.

mod sha256;

pub use sha256::{to_hex, Sha256};

use core::fmt;

/// A 32-byte SHA-256 digest; `Display` prints it as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest(pub [u8; 32]);

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = to_hex(&self.0);
        // `to_hex` writes ASCII only.
        f.write_str(core::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

/// The bits hashed for one value: its IEEE bits, except that every NaN hashes as the quiet
/// NaN 0x7fc00000, so a digest never depends on a NaN payload.
///
/// Contract: NUMERICS.md §11.
pub const fn canonical_bits(x: f32) -> u32 {
    if x.is_nan() {
        0x7fc0_0000
    } else {
        x.to_bits()
    }
}

/// SHA-256 of 32-bit words, each as 4 little-endian bytes: the digest of a fixed-point model
/// (words = raw parameter bits) or of a float one (words = [`canonical_bits`]).
///
/// Contract: NUMERICS.md §11.
pub fn digest_words(words: impl Iterator<Item = u32>) -> Digest {
    let mut hasher = Sha256::new();
    let mut bytes = [0u8; 256];
    let mut len = 0;
    for word in words {
        bytes[len..len + 4].copy_from_slice(&word.to_le_bytes());
        len += 4;
        if len == bytes.len() {
            hasher.update(&bytes);
            len = 0;
        }
    }
    hasher.update(&bytes[..len]);
    Digest(hasher.finalize())
}

/// SHA-256 of all parameters in their storage order (layer 1 weights, layer 1 biases, …).
///
/// Contract: NUMERICS.md §11.
pub fn digest_params(params: &[f32]) -> Digest {
    digest_words(params.iter().map(|p| canonical_bits(*p)))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn empty_parameters_hash_like_the_empty_message() {
        assert_eq!(digest_params(&[]).to_string(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn bytes_are_little_endian_bits() {
        // 1.0f32 = 0x3f800000, hashed as 00 00 80 3f.
        let mut h = Sha256::new();
        h.update(&[0x00, 0x00, 0x80, 0x3f]);
        assert_eq!(digest_params(&[1.0]), Digest(h.finalize()));
    }

    #[test]
    fn nan_payloads_do_not_matter_but_signed_zeros_do() {
        let a = digest_params(&[f32::from_bits(0x7fc0_0001), 2.0]);
        let b = digest_params(&[f32::from_bits(0xffc0_0000), 2.0]);
        assert_eq!(a, b);
        assert_ne!(digest_params(&[0.0]), digest_params(&[-0.0]));
    }

    #[test]
    fn words_hash_like_canonical_floats() {
        let n = if cfg!(miri) { 100 } else { 300 }; // fewer under miri, still over one buffer
        let v: std::vec::Vec<f32> = (0..n).map(|i| i as f32 - 7.5).collect();
        assert_eq!(digest_words(v.iter().map(|x| canonical_bits(*x))), digest_params(&v));
    }

    #[test]
    fn long_inputs_cross_block_boundaries() {
        // 100 values (400 bytes, more than the 256-byte buffer) are enough under miri.
        let n = if cfg!(miri) { 100 } else { 1000 };
        let v: std::vec::Vec<f32> = (0..n).map(|i| i as f32).collect();
        let mut h = Sha256::new();
        for x in &v {
            h.update(&x.to_bits().to_le_bytes());
        }
        assert_eq!(digest_params(&v), Digest(h.finalize()));
    }
}
