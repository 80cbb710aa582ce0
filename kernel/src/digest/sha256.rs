/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* origin: NIST FIPS 180-4, "Secure Hash Standard (SHS)", August 2015,
 * §4.1.2 (functions), §4.2.2 (constants), §5.1.1 (padding), §5.3.3
 * (initial hash value) and §6.2 (SHA-256 computation). Written from the
 * standard; no code was copied. */

//! Streaming SHA-256, for digests of parameters, gradients and data.
//!
//! Contract: NUMERICS.md §11. A digest is the FIPS 180-4 SHA-256 of
//! the exact bytes fed in; identical bits anywhere give identical
//! digests, and `sha256sum` over the same bytes agrees.

/// SHA-256 round constants K₀..K₆₃: the first 32 bits of the fractional
/// parts of the cube roots of the first 64 primes (FIPS 180-4 §4.2.2).
/// Checked against that definition, in exact integer arithmetic, by the
/// tests.
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
];

/// Initial hash value H⁽⁰⁾: the first 32 bits of the fractional parts of
/// the square roots of the first 8 primes (FIPS 180-4 §5.3.3).
const H0: [u32; 8] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// Bytes per message block.
const BLOCK: usize = 64;

/// A streaming SHA-256 hasher (FIPS 180-4).
///
/// Contract: NUMERICS.md §11. The digest depends only on the
/// concatenation of the bytes passed to [`update`](Self::update), never on
/// how they were split between calls.
///
/// Fixed size (about 112 bytes), no allocation, no `unsafe`. Messages are
/// limited by the standard to under 2^64 bits (2 EiB); the length counter
/// wraps beyond that, as in most implementations.
///
/// `Clone` snapshots a running hash, e.g. to digest a common prefix once.
#[derive(Clone, Debug)]
pub struct Sha256 {
    /// The intermediate hash value H⁽ⁱ⁾.
    h: [u32; 8],
    /// Bytes of the current, incomplete block. Only `buf[..buf_len]` is
    /// meaningful.
    buf: [u8; BLOCK],
    /// Always `< BLOCK`: a full block is compressed at once.
    buf_len: usize,
    /// Message length so far in bytes, modulo 2^64.
    len: u64,
}

impl Default for Sha256 {
    fn default() -> Self {
        Self::new()
    }
}

impl Sha256 {
    /// A hasher for the empty message so far.
    ///
    /// Contract: NUMERICS.md §11.
    pub const fn new() -> Self {
        Self { h: H0, buf: [0; BLOCK], buf_len: 0, len: 0 }
    }

    /// Appends `data` to the message.
    ///
    /// Contract: NUMERICS.md §11. Any split of a message into `update`
    /// calls, including empty ones, gives the same digest.
    pub fn update(&mut self, data: &[u8]) {
        // Bytes, not bits: the ×8 is done once in `finalize`, so the
        // counter overflows only after 2^64 bytes, not 2^61.
        self.len = self.len.wrapping_add(data.len() as u64);

        let mut data = data;
        // Top up a partial block first.
        if self.buf_len > 0 {
            let take = (BLOCK - self.buf_len).min(data.len());
            let (head, rest) = data.split_at(take);
            self.buf[self.buf_len..self.buf_len + take].copy_from_slice(head);
            self.buf_len += take;
            data = rest;
            if self.buf_len < BLOCK {
                return; // data exhausted, block still incomplete
            }
            compress(&mut self.h, &self.buf);
            self.buf_len = 0;
        }
        // Whole blocks straight from the input, without copying.
        let mut blocks = data.chunks_exact(BLOCK);
        for block in &mut blocks {
            // chunks_exact guarantees the length, so this never fails.
            let block: &[u8; BLOCK] = block.try_into().expect("64-byte chunk");
            compress(&mut self.h, block);
        }
        // Keep the tail (< 64 bytes) for later.
        let tail = blocks.remainder();
        self.buf[..tail.len()].copy_from_slice(tail);
        self.buf_len = tail.len();
    }

    /// Pads the message and returns its 32-byte digest.
    ///
    /// Contract: NUMERICS.md §11. Padding per FIPS 180-4 §5.1.1: a 1
    /// bit, zeros up to 56 bytes mod 64, then the length in bits as a
    /// big-endian 64-bit integer. The digest is H₀..H₇ big-endian.
    pub fn finalize(mut self) -> [u8; 32] {
        let bit_len = self.len.wrapping_mul(8);

        // buf_len < 64, so the 0x80 byte always fits.
        self.buf[self.buf_len] = 0x80;
        self.buf_len += 1;
        // No room for the 8 length bytes: pad this block out and start
        // another. Happens when 56..=63 message bytes were pending.
        if self.buf_len > BLOCK - 8 {
            self.buf[self.buf_len..].fill(0);
            compress(&mut self.h, &self.buf);
            self.buf_len = 0;
        }
        self.buf[self.buf_len..BLOCK - 8].fill(0);
        self.buf[BLOCK - 8..].copy_from_slice(&bit_len.to_be_bytes());
        compress(&mut self.h, &self.buf);

        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(4).zip(self.h) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }
}

/// The SHA-256 compression function: absorbs one 512-bit block into `h`
/// (FIPS 180-4 §6.2.2, steps 1–4).
fn compress(h: &mut [u32; 8], block: &[u8; BLOCK]) {
    // Step 1: the message schedule W₀..W₆₃. The block is 16 big-endian
    // words; the rest mix earlier words with the small sigmas (§4.1.2).
    let mut w = [0u32; 64];
    for (wt, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
        *wt = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    for t in 16..64 {
        let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
        let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16].wrapping_add(s0).wrapping_add(w[t - 7]).wrapping_add(s1);
    }

    // Steps 2–3: 64 rounds on the working variables a..h. All additions
    // are modulo 2^32 (§3.2).
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = *h;
    for (&kt, &wt) in K.iter().zip(w.iter()) {
        let big_s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
        let ch = (e & f) ^ (!e & g);
        let t1 = hh.wrapping_add(big_s1).wrapping_add(ch).wrapping_add(kt).wrapping_add(wt);
        let big_s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
        let maj = (a & b) ^ (a & c) ^ (b & c);
        let t2 = big_s0.wrapping_add(maj);
        hh = g;
        g = f;
        f = e;
        e = d.wrapping_add(t1);
        d = c;
        c = b;
        b = a;
        a = t1.wrapping_add(t2);
    }

    // Step 4: the next intermediate hash value.
    for (hi, v) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
        *hi = hi.wrapping_add(v);
    }
}

/// Formats a digest as 64 lowercase hexadecimal ASCII digits, the form
/// `sha256sum` prints.
///
/// Contract: NUMERICS.md §11. Byte `i` becomes characters `2i` (high
/// nibble) and `2i + 1` (low nibble). The result is ASCII, so
/// `core::str::from_utf8` on it always succeeds.
pub fn to_hex(digest: &[u8; 32]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (pair, &byte) in out.chunks_exact_mut(2).zip(digest) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
    out
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::vec::Vec;

    use super::{to_hex, Sha256, H0, K};

    fn sha256(data: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(data);
        h.finalize()
    }

    fn hex(d: [u8; 32]) -> std::string::String {
        std::string::String::from_utf8(to_hex(&d).to_vec()).unwrap()
    }

    // --- FIPS 180-4 / NIST CSRC example vectors ("SHA256.pdf",
    // --- https://csrc.nist.gov/projects/cryptographic-standards-and-guidelines/example-values)

    #[test]
    fn nist_empty() {
        assert_eq!(hex(sha256(b"")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn nist_abc() {
        assert_eq!(hex(sha256(b"abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    /// 448 bits: exactly 56 bytes, so the length does not fit after the 0x80
    /// byte and padding spills into a second block.
    #[test]
    fn nist_448_bits() {
        let m = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        assert_eq!(m.len(), 56);
        assert_eq!(hex(sha256(m)), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    }

    /// 896 bits (112 bytes): two message blocks.
    #[test]
    fn nist_896_bits() {
        let m = b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
        assert_eq!(m.len(), 112);
        assert_eq!(hex(sha256(m)), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    }

    const MILLION_A: &str = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

    /// One million 'a', fed as 1000 updates of 1000 bytes (not a multiple
    /// of 64, so most updates start and end mid-block).
    #[test]
    #[cfg_attr(miri, ignore)] // 15 625 blocks; the shorter vectors cover the same code under miri.
    fn nist_million_a() {
        let chunk = [b'a'; 1000];
        let mut h = Sha256::new();
        for _ in 0..1000 {
            h.update(&chunk);
        }
        assert_eq!(hex(h.finalize()), MILLION_A);
    }

    /// The same, one shot, and in 7-byte pieces.
    #[test]
    #[cfg_attr(miri, ignore)] // 1 MB through the compression function, twice.
    fn nist_million_a_other_splits() {
        let m = std::vec![b'a'; 1_000_000];
        assert_eq!(hex(sha256(&m)), MILLION_A);
        let mut h = Sha256::new();
        for piece in m.chunks(7) {
            h.update(piece);
        }
        assert_eq!(hex(h.finalize()), MILLION_A);
    }

    // --- Padding boundaries. Expected values were computed in a shell with
    // --- `head -c N /dev/zero | tr '\0' 'a' | sha256sum` (GNU coreutils).

    /// 55 bytes is the longest message whose padding fits in one block;
    /// 56..=63 spill the length into a second block; 64 is one full block
    /// plus a block of padding alone; 119/120 are the same edge one block on.
    #[test]
    fn padding_boundaries_sha256sum() {
        let lens = [55, 56, 63, 64, 65, 119, 120];
        let digests = [
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
            "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
            "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0",
            "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb",
            "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c",
        ];
        for (n, want) in lens.into_iter().zip(digests) {
            assert_eq!(hex(sha256(&std::vec![b'a'; n])), want, "{n} x 'a'");
        }
    }

    /// Computed with `printf 'The quick brown fox jumps over the lazy dog'
    /// | sha256sum` and `printf samebits | sha256sum`.
    #[test]
    fn text_sha256sum() {
        assert_eq!(
            hex(sha256(b"The quick brown fox jumps over the lazy dog")),
            "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"
        );
        assert_eq!(hex(sha256(b"samebits")), "abdbe5c52de0499dbd3bb3a07798815e13b39c2b1ecb658c76781e7949f7f17f");
    }

    // --- Streaming.

    /// 131 bytes: two full blocks and a 3-byte tail, all byte values
    /// different from their neighbours. Byte i is (37·i + 11) mod 256.
    fn msg131() -> [u8; 131] {
        core::array::from_fn(|i| (37 * i + 11) as u8)
    }

    /// Computed by writing `msg131` to a file with
    /// `python3 -c "import sys; sys.stdout.buffer.write(bytes((i*37+11)%256
    /// for i in range(131)))" > m131.bin` and running `sha256sum m131.bin`.
    const MSG131: &str = "59af9661a687e63d741474741e090bc7af5eeca69f4312482a7b4b1a3d3607d9";

    #[test]
    fn msg131_one_shot() {
        let m = msg131();
        assert_eq!(&m[..4], &[0x0b, 0x30, 0x55, 0x7a]); // matches `xxd m131.bin`
        assert_eq!(hex(sha256(&m)), MSG131);
    }

    #[test]
    fn split_at_every_offset() {
        let m = msg131();
        // Under miri, which interprets every operation, the cuts around the block edges only.
        let cuts: Vec<usize> = if cfg!(miri) { std::vec![0, 1, 63, 64, 65, 128, 131] } else { (0..=m.len()).collect() };
        for cut in cuts {
            let mut h = Sha256::new();
            h.update(&m[..cut]);
            h.update(&m[cut..]);
            assert_eq!(hex(h.finalize()), MSG131, "cut at {cut}");
        }
    }

    /// Every way of cutting the message into three pieces (8 778 ways),
    /// which covers top-up that stays partial, top-up that completes a
    /// block, and whole blocks after a top-up.
    #[test]
    #[cfg_attr(miri, ignore)]
    fn split_three_ways() {
        let m = msg131();
        let want = sha256(&m);
        for i in 0..=m.len() {
            for j in i..=m.len() {
                let mut h = Sha256::new();
                h.update(&m[..i]);
                h.update(&m[i..j]);
                h.update(&m[j..]);
                assert_eq!(h.finalize(), want, "cuts at {i}, {j}");
            }
        }
    }

    #[test]
    fn byte_at_a_time_and_empty_updates() {
        let m = msg131();
        let mut h = Sha256::new();
        h.update(&[]);
        for b in m {
            h.update(&[b]);
            h.update(&[]);
        }
        assert_eq!(hex(h.finalize()), MSG131);
    }

    /// Cloning mid-stream gives an independent hasher with the same prefix.
    #[test]
    fn clone_snapshots_prefix() {
        let m = msg131();
        let mut prefix = Sha256::new();
        prefix.update(&m[..70]);
        let mut a = prefix.clone();
        a.update(&m[70..]);
        assert_eq!(hex(a.finalize()), MSG131);
        let mut b = prefix;
        b.update(b"abc");
        assert_ne!(hex(b.finalize()), MSG131);
    }

    #[test]
    fn default_is_new() {
        assert_eq!(Sha256::default().finalize(), Sha256::new().finalize());
        const _: Sha256 = Sha256::new(); // usable in const context
    }

    /// Inputs of every length 0..=200 differ in digest (no collisions
    /// between lengths, which a padding bug could cause, e.g. by not
    /// encoding the length).
    #[test]
    #[cfg_attr(miri, ignore)] // 201 messages; under miri the padding boundaries above check these lengths.
    fn lengths_distinct() {
        let mut seen: Vec<[u8; 32]> = (0..=200).map(|n| sha256(&std::vec![0u8; n])).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 201);
    }

    // --- Constants, checked against their definitions in exact integers.

    fn first_primes(n: usize) -> Vec<u128> {
        let mut ps: Vec<u128> = Vec::new();
        let mut k = 2u128;
        while ps.len() < n {
            if ps.iter().all(|p| !k.is_multiple_of(*p)) {
                ps.push(k);
            }
            k += 1;
        }
        ps
    }

    /// K[t] is the low 32 bits of c = floor(cbrt(p)·2^32), where c is the
    /// unique integer with c³ ≤ p·2^96 < (c+1)³. We rebuild c from K[t]
    /// and the integer part of cbrt(p), then check both inequalities.
    #[test]
    fn round_constants_are_cube_roots() {
        for (p, &k) in first_primes(64).iter().zip(K.iter()) {
            let int_part = (1u128..).take_while(|i| i * i * i <= *p).last().unwrap();
            let c = (int_part << 32) | u128::from(k);
            let target = p << 96;
            assert!(c * c * c <= target && target < (c + 1) * (c + 1) * (c + 1), "p = {p}");
        }
    }

    /// Likewise H0[i] is the low 32 bits of s = floor(sqrt(p)·2^32).
    #[test]
    fn initial_hash_is_square_roots() {
        for (p, &h) in first_primes(8).iter().zip(H0.iter()) {
            let int_part = (1u128..).take_while(|i| i * i <= *p).last().unwrap();
            let s = (int_part << 32) | u128::from(h);
            let target = p << 64;
            assert!(s * s <= target && target < (s + 1) * (s + 1), "p = {p}");
        }
    }

    // --- to_hex.

    #[test]
    fn to_hex_every_nibble_lowercase() {
        let d: [u8; 32] = core::array::from_fn(|i| (i as u8).wrapping_mul(0x11) ^ 0x0f);
        let h = to_hex(&d);
        for (i, &byte) in d.iter().enumerate() {
            let s = core::str::from_utf8(&h[2 * i..2 * i + 2]).unwrap();
            assert_eq!(s, std::format!("{byte:02x}"));
        }
        assert!(h.iter().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c)));
        assert_eq!(to_hex(&[0; 32]), [b'0'; 64]);
        assert_eq!(to_hex(&[0xff; 32]), [b'f'; 64]);
    }
}
