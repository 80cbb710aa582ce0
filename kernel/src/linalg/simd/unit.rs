//! Which vector instructions the matrix products may use.
//!
//! Every unit computes the same sums in the same order (NUMERICS.md §5.1), so the choice
//! changes speed, never a bit. What it must never do is name instructions the processor lacks:
//! that would be undefined behaviour. A [`VectorUnit`] is therefore only made safely for what
//! the compile target guarantees ([`VectorUnit::baseline`]); anything wider is vouched for by
//! the caller ([`VectorUnit::new_unchecked`]) — on a host, after std's run-time feature
//! detection (the harness's `executor::detect_vector_unit`).

use core::fmt;

/// The families of vector code the products have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnitKind {
    /// Plain Rust loops (the compiler vectorises what the target's baseline allows).
    Portable,
    /// x86 SSE2: 4 f32 lanes (x86-64's baseline).
    Sse2,
    /// x86 AVX2: 8 f32 lanes.
    Avx2,
    /// x86 AVX-512 (F and BW): 16 f32 lanes.
    Avx512,
    /// Arm NEON (AdvSIMD): 4 f32 lanes (aarch64's baseline).
    Neon,
}

impl UnitKind {
    /// Every kind, narrowest first within each architecture.
    pub const ALL: [UnitKind; 5] =
        [UnitKind::Portable, UnitKind::Sse2, UnitKind::Avx2, UnitKind::Avx512, UnitKind::Neon];

    /// Lower-case name, as the harness's `--simd` option spells it.
    pub const fn name(self) -> &'static str {
        match self {
            UnitKind::Portable => "portable",
            UnitKind::Sse2 => "sse2",
            UnitKind::Avx2 => "avx2",
            UnitKind::Avx512 => "avx512",
            UnitKind::Neon => "neon",
        }
    }

    /// The kind named `name` ([`UnitKind::name`]).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// f32 lanes per register.
    pub const fn lanes(self) -> usize {
        match self {
            UnitKind::Portable => 1,
            UnitKind::Sse2 | UnitKind::Neon => 4,
            UnitKind::Avx2 => 8,
            UnitKind::Avx512 => 16,
        }
    }

    /// Whether this build has code for the kind (x86 kinds on x86, NEON on aarch64). A unit of
    /// a kind without code runs the portable loops.
    pub const fn has_code(self) -> bool {
        match self {
            UnitKind::Portable => true,
            UnitKind::Sse2 | UnitKind::Avx2 | UnitKind::Avx512 => {
                cfg!(any(target_arch = "x86_64", target_arch = "x86"))
            }
            UnitKind::Neon => cfg!(target_arch = "aarch64"),
        }
    }
}

impl fmt::Display for UnitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A vector unit the running processor is known to have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VectorUnit(UnitKind);

impl VectorUnit {
    /// No vector code of our own: the plain loops. Always safe.
    pub const PORTABLE: VectorUnit = VectorUnit(UnitKind::Portable);

    /// The widest unit the compile target itself guarantees (`-C target-feature` /
    /// `target-cpu`): SSE2 on x86-64 and i686, NEON on aarch64, AVX2 or AVX-512 when the
    /// build enables them, otherwise [`VectorUnit::PORTABLE`].
    pub const fn baseline() -> VectorUnit {
        if cfg!(all(
            any(target_arch = "x86_64", target_arch = "x86"),
            target_feature = "avx512f",
            target_feature = "avx512bw"
        )) {
            VectorUnit(UnitKind::Avx512)
        } else if cfg!(all(any(target_arch = "x86_64", target_arch = "x86"), target_feature = "avx2")) {
            VectorUnit(UnitKind::Avx2)
        } else if cfg!(all(any(target_arch = "x86_64", target_arch = "x86"), target_feature = "sse2")) {
            VectorUnit(UnitKind::Sse2)
        } else if cfg!(all(target_arch = "aarch64", target_feature = "neon")) {
            VectorUnit(UnitKind::Neon)
        } else {
            VectorUnit::PORTABLE
        }
    }

    /// A unit of `kind`, without checking that the processor has it.
    ///
    /// # Safety
    /// The processor that runs the products must support every instruction of `kind`: SSE2,
    /// AVX2 (with AVX), AVX-512 F and BW, or NEON, as the kind's name says. Kinds whose code is
    /// not in this build ([`UnitKind::has_code`]) run the portable loops and are always safe.
    pub const unsafe fn new_unchecked(kind: UnitKind) -> VectorUnit {
        VectorUnit(kind)
    }

    /// The kind of vector code this unit runs.
    pub const fn kind(self) -> UnitKind {
        self.0
    }
}

impl Default for VectorUnit {
    fn default() -> Self {
        Self::baseline()
    }
}

impl fmt::Display for VectorUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
