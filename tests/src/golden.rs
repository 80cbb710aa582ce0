//! The golden values, contract version 2.
//!
//! Recorded with `SAMEBITS_RECORD_GOLDEN=1 cargo test -p samebits-tests --release --
//! --nocapture --include-ignored` on x86_64 Linux, and identical in debug builds, with
//! `-C target-cpu=native`, and for 1, 2, 3 and 7 threads. Each is a SHA-256 over f32 bit
//! patterns in little-endian order (NUMERICS.md §11) unless said otherwise.

/// `samebits::CONTRACT_VERSION` the values below belong to.
pub const CONTRACT_VERSION: u32 = 2;

// --- Randomness (NUMERICS.md §8) -------------------------------------------------------

/// SHA-256 of the first 4096 `next_u32` words of `seed_from_u64(42)`, little-endian bytes.
/// Also reproduced by an independent Python implementation of SplitMix64 + xoshiro128++.
pub const RNG_STREAM_SEED_42: &str = "7fbbe4c42d0d224585a5e935f17fe65e475add70d7611d24d83436d9f9b441fa";
/// The default run's first-epoch order of the 1500 digits training rows (as exact f32s):
/// Fisher–Yates on the shuffle stream of seed 42. Also reproduced by an independent Python
/// implementation of Lemire's method and Fisher–Yates.
pub const DIGITS_ORDER_EPOCH_1: &str = "9d342ade8898d857352d8498243a7d6899a902e0f4b6b7c47dfe788b3a9ae368";
/// Glorot-uniform 64×128 weights from `seed_from_u64(42)`.
pub const GLOROT_64X128_SEED_42: &str = "631539f3058d7322c22f2c045e719f99bde79477e84d51c49e488ebf829c8434";
/// He-uniform 64×128 weights drawn next from the same stream.
pub const HE_64X128_AFTER_GLOROT: &str = "9f47ae44ea687072d71af440b37dc726d93d049040d4901bd60bcf168df18c83";
/// `samebits_tests::uniform(7, 1000, 3.0)`, the generator of every test input below.
pub const UNIFORM_7_1000_3: &str = "dc6afe9bd4d8c8a920820c9d6348c9ef8693b02864a57fe304b37aa7a3bae1b7";

// --- Layers on fixed inputs (tests/tests/layers.rs; NUMERICS.md §5, §6) ------------------

pub const DENSE_FORWARD: &str = "61a9c229996fc8d1c07c13d2767e1d356056ce3d78cef68cc1ae74527d0d8539";
pub const DENSE_BACKWARD_PARAMS: &str = "f893aca9417364c423ca13f8120c1e764b470f1a9c58a1dd31caf66773aa9539";
pub const DENSE_BACKWARD_INPUT: &str = "40f31838f18259398af3235d3b69d0ad03c9b142542289bd0c701e2d7300b321";
pub const RELU_FORWARD: &str = "717b1c2db916a390cd57a9709497db7cff9448251cf2f3ff4291bb1ed3e4002a";
pub const RELU_BACKWARD: &str = "ded7d23b6282e8651d3423827c9b28668a43c998241dd093466cde2fcd4c1e8b";
pub const TANH_FORWARD: &str = "48f492f67322e7b00042e5fa40f673414fe284d096789efd05f46866cdfd4884";
pub const TANH_BACKWARD: &str = "3570528717b3a193d7b2227f9a054fa985cd8d00f04578894e5209e45a96ac87";
pub const SIGMOID_FORWARD: &str = "e7d97df1f7bdafa1ba0dcc70f7786883696875ae8206d7680db7f2083bc5f005";
pub const SIGMOID_BACKWARD: &str = "7c798b02a1e4e632772e408f74935aea737d3c6cbc5aa8f48d82b8efe70514f6";
pub const SOFTMAX_CE_LOSS: &str = "760efbfbbf060a592c970b727c614ec32ccc553912cd3c96689e984054a199f2";
pub const SOFTMAX_CE_GRADIENT: &str = "77bd5621f1a3c0ae6da443a23c6d0ecbc3b219b638b7ede2ef67a9bc3de67247";

// --- Training runs (tests/tests/training.rs; NUMERICS.md §9) ------------------------------

/// Parameter digests after the short runs defined in `tests/tests/training.rs`.
pub const SHORT_RUNS: [(&str, &str); 3] = [
    ("relu-sgd-b100", "8e18d9c4d310c175a46e0e040ea788c9e10a76519b446b6649d5bb9b3de2762d"),
    ("tanh-adam-b96", "b5ded0f2474b3770e1352728f42782b131008251d2947da363dcbbaf0d6dd7b5"),
    ("sigmoid-sgd-wd-he-b16", "538964b774e5996bb51e2e726257ba6ce2515f0a79cd9261dad2e0c657e52b5c"),
];

/// `samebits train` with every default (digits, 64-128-64-10 ReLU, SGD lr 0.05 momentum 0.9,
/// batch 32, 20 epochs, seed 42): test accuracy 92.93 % (276/297).
pub const DEFAULT_RUN: &str = "25cebe470b716d610f3567def1dad7cc869c1665863025f84445a2fe1a2609c9";

// --- The fixed-point path (NUMERICS.md §13) ------------------------------------------------

/// SHA-256 of the decimal debug text of the raw words of z, dW and dx for the dense layer of
/// `tests/tests/layers.rs` on the fixed path (contract v2: 16-bit product operands, §13.2).
pub const FIXED_DENSE: &str = "7553bbcac05bb98c0452c5528cba7796f5b39490a9cf3d8dc2b3821454b70123";
/// The same for every activation's forward output and backward gradient, in `Activation::ALL` order.
pub const FIXED_ACTIVATIONS: &str = "228c19851178b5f76a171561b4b79919e61a0684e42119bf45535adeea9f2530";
/// The same for the softmax cross-entropy row losses and gradients.
pub const FIXED_SOFTMAX_CE: &str = "fac96b031b2fa578e78104f0b1a422b750879b69ad66fe26f148db55d01a5bad";
/// The short runs of `tests/tests/training.rs` with `--path fixed`.
pub const SHORT_FIXED_RUNS: [(&str, &str); 3] = [
    ("relu-sgd-b100", "ea38871e6f01d4eed494a219e7f5f128a9e759846dd9296fdd8bae14be8f309c"),
    ("tanh-adam-b96", "b0025e5034fe03c0cc1ab7350b0c80946a32d52df41994633713daaef04befd0"),
    ("sigmoid-sgd-wd-he-b16", "9e8fef77e055d43faaa75a27d2d482653f9772d5c2032db7580f5ecc21797695"),
];
/// `samebits train --path fixed` with every other default: test accuracy 92.93 % (276/297),
/// as on the float path, with no saturation.
pub const DEFAULT_FIXED_RUN: &str = "aa9935cf845e1f58d11676d61ad8b899b7602c1e0ad6e52b5ad3e95b7c592d76";
