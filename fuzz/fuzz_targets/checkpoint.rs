//! The checkpoint reader (`samebits_harness::checkpoint::Checkpoint::decode`) on arbitrary
//! bytes: it must return an error, never panic, on anything that is not a checkpoint.
//!
//! Each input is decoded twice. First as it is, which exercises the frame checks (magic,
//! versions, length, SHA-256 trailer). Random bytes almost never carry a matching checksum, so
//! the input is then also re-framed as a checkpoint whose checksum holds: bytes 32..len-32 are
//! taken as the body, behind a correct header (magic, format and contract versions, body
//! length) and before the body's SHA-256 — a real checkpoint comes out unchanged, and mutations
//! of its body reach the field decoder and the consistency checks behind the checksum.
//!
//! Whatever is accepted must survive a round trip: encoding it and decoding the result gives a
//! checkpoint that encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use samebits::digest::Sha256;
use samebits_harness::checkpoint::{Checkpoint, FORMAT_VERSION, MAGIC};

const HEADER_LEN: usize = 32;
const TRAILER_LEN: usize = 32;

fn round_trip(c: &Checkpoint) {
    let bytes = c.encode();
    let again =
        Checkpoint::decode(&bytes).unwrap_or_else(|e| panic!("an accepted checkpoint re-encodes to one refused: {e}"));
    assert!(again.encode() == bytes, "an accepted checkpoint does not round-trip");
}

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = Checkpoint::decode(data) {
        round_trip(&c);
    }
    if data.len() >= HEADER_LEN + TRAILER_LEN {
        let body = &data[HEADER_LEN..data.len() - TRAILER_LEN];
        let mut file = Vec::with_capacity(data.len());
        file.extend_from_slice(&MAGIC);
        file.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        file.extend_from_slice(&samebits::CONTRACT_VERSION.to_le_bytes());
        file.extend_from_slice(&(body.len() as u64).to_le_bytes());
        file.extend_from_slice(body);
        let mut sha = Sha256::new();
        sha.update(&file);
        file.extend_from_slice(&sha.finalize());
        if let Ok(c) = Checkpoint::decode(&file) {
            round_trip(&c);
        }
    }
});
