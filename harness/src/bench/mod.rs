//! `samebits bench`: how fast this machine trains, in one run, next to well-known peers.
//!
//! ```text
//! samebits bench                                        # the full report, a few seconds
//! samebits bench --quick                                # few repetitions: a rough figure
//! samebits bench --json                                 # one JSON object with every figure
//! samebits bench --simd sse2                            # epochs on one vector unit
//! samebits bench --peers target/peers-venv/bin/python   # with numpy and JAX beside ours
//! ```
//!
//! It prints the machine first (CPU, compiler, threads, the vector unit of the epochs), then:
//!
//! - **Epochs**: median milliseconds of one training epoch of the default model (MLP
//!   64-128-64-10 ReLU, SGD lr 0.05 momentum 0.9, the built-in digits' 1500 training rows) at
//!   batch 32 and 256, on 1 thread and on all (`std::thread::available_parallelism`), on the
//!   float and the fixed path. Each epoch starts from the run's fresh initial parameters, so it
//!   is exactly epoch 1 of `samebits train`; setting up is not timed. Then the speed-up of all
//!   threads over one and the fixed path's time over the float path's.
//! - **Products**: median GFLOP/s (2·m·k·n per product) of the f32 product `c = a·b` on one
//!   thread at 32×64×128 (rows × inputs × outputs), 256³ and 1024³, on every vector unit this
//!   processor has, so the table shows what each unit gives.
//! - **Peers** (`--peers PYTHON`): `PYTHON benches/peers/peers.py --threads 1` times numpy's
//!   sgemm and a jitted JAX epoch of the same model; the report puts them beside ours with the
//!   ratios. A peer that fails is one line of the report, never the end of it.
//!
//! Cases are measured in interleaved rounds, so that a noisy neighbour on a shared machine
//! slows them all alike and the ratios stay meaningful. The fixtures ([`fixture`]) are the
//! criterion benchmarks' too (`benches/`), so both time the same work.

pub mod fixture;
pub mod measure;
pub mod peers;
mod report;

pub use fixture::{path_kind, DenseCase, Epoch, EpochFixture};

use crate::config::SimdChoice;
use crate::executor::{available_vector_units, HostExecutor};
use clap::Args;
use measure::{EpochTimes, GemmRate};
use peers::PeerReport;
use samebits::linalg::VectorUnit;
use std::io::Write;
use std::path::PathBuf;

/// The options of `samebits bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Few repetitions: rough figures in a few seconds (for tests and a first look).
    #[arg(long)]
    pub quick: bool,
    /// Print one JSON object with every figure instead of the tables.
    #[arg(long)]
    pub json: bool,
    /// Vector unit of the epochs' products (default: the widest this processor has). The
    /// product table always shows every unit.
    #[arg(long, value_enum, default_value_t = SimdChoice::Auto)]
    pub simd: SimdChoice,
    /// Also time numpy's sgemm and a JAX epoch with this Python (`bash benches/peers/setup.sh`
    /// makes one: target/peers-venv/bin/python) and print them beside ours.
    #[arg(long, value_name = "PYTHON")]
    pub peers: Option<PathBuf>,
    /// The peer script (default: benches/peers/peers.py of the source tree this was built from).
    #[arg(long, value_name = "PATH", requires = "peers")]
    pub peers_script: Option<PathBuf>,
}

/// Everything one `samebits bench` run measured.
#[derive(Clone, Debug)]
pub struct Report {
    /// CPU model name.
    pub cpu: String,
    /// `rustc -V` of the compiler that built this binary.
    pub rustc: String,
    /// Whether this binary was built with optimisations (debug builds are far slower).
    pub optimized: bool,
    /// The thread count of the "all threads" epochs.
    pub threads: usize,
    /// The vector unit the epochs ran on.
    pub epoch_unit: VectorUnit,
    /// Every unit this processor runs, narrowest first (the columns of the product table).
    pub units: Vec<VectorUnit>,
    pub quick: bool,
    /// Timed rounds per epoch case, per product, and per product of over a GFLOP.
    pub epoch_rounds: usize,
    pub gemm_rounds: usize,
    pub big_gemm_rounds: usize,
    /// Both paths at every batch size, float before fixed.
    pub epochs: Vec<EpochTimes>,
    pub gemm: Vec<GemmRate>,
    /// `None` without `--peers`; the peers' figures, or why there are none.
    pub peers: Option<Result<PeerReport, String>>,
}

impl Report {
    /// The epoch times of `path` (`"float"`, `"fixed"`) at `batch`.
    pub fn epoch(&self, path: &str, batch: usize) -> Option<&EpochTimes> {
        self.epochs.iter().find(|e| e.path == path && e.batch == batch)
    }

    /// GFLOP/s of `unit` at `shape`.
    pub fn gflops(&self, shape: (usize, usize, usize), unit: VectorUnit) -> Option<f64> {
        let rate = self.gemm.iter().find(|r| r.shape == shape)?;
        rate.gflops.iter().find(|(u, _)| *u == unit).map(|(_, g)| *g)
    }

    /// The report as the human-readable tables.
    pub fn to_text(&self) -> String {
        report::text(self)
    }

    /// The report as one JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        report::json(self)
    }
}

/// Timed rounds of each measurement.
struct Rounds {
    epochs: usize,
    gemm: usize,
    big_gemm: usize,
    /// Operations per timed product sample (short products repeat up to this).
    sample_flop: f64,
}

impl Rounds {
    fn new(quick: bool) -> Self {
        if quick {
            Self { epochs: 3, gemm: 3, big_gemm: 1, sample_flop: 1e7 }
        } else {
            Self { epochs: 21, gemm: 11, big_gemm: 4, sample_flop: 1e8 }
        }
    }
}

/// Products of more operations than this get fewer rounds: one 1024³ product on the portable
/// loops takes about a second.
const BIG_PRODUCT_FLOP: f64 = 1e9;

/// Measures everything `args` asks for. Errors are one line: a `--simd` unit this processor
/// lacks, a thread pool that cannot start.
pub fn measure(args: &BenchArgs, err: &mut dyn Write) -> Result<Report, String> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let one = HostExecutor::with_simd(1, args.simd)?;
    let all = HostExecutor::with_simd(threads, args.simd)?;
    let rounds = Rounds::new(args.quick);
    let units = available_vector_units();
    let epochs = measure::epochs(&one, &all, rounds.epochs)?;
    let mut gemm = Vec::new();
    for shape in measure::GEMM_SHAPES {
        let flop = 2.0 * (shape.0 * shape.1 * shape.2) as f64;
        let reps = if flop > BIG_PRODUCT_FLOP { rounds.big_gemm } else { rounds.gemm };
        gemm.extend(measure::gemm(&[shape], &units, reps, rounds.sample_flop));
    }
    let peers = args.peers.as_ref().map(|python| {
        let script = args.peers_script.clone().unwrap_or_else(peers::default_script);
        let _ = writeln!(err, "samebits bench: running {} {} --threads 1 …", python.display(), script.display());
        peers::run(python, &script, args.quick)
    });
    let (_vendor, cpu) = crate::env::hardware::cpu_vendor_model();
    Ok(Report {
        cpu,
        rustc: crate::env::software::RUSTC_VERSION.to_string(),
        optimized: !cfg!(debug_assertions),
        threads,
        epoch_unit: one.unit(),
        units,
        quick: args.quick,
        epoch_rounds: rounds.epochs,
        gemm_rounds: rounds.gemm,
        big_gemm_rounds: rounds.big_gemm,
        epochs,
        gemm,
        peers,
    })
}

/// `samebits bench`: the report on `out` (exit 0, also when a peer fails); a measurement that
/// cannot run is one line on `err` (exit 1).
pub fn command(args: &BenchArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let report = match measure(args, err) {
        Ok(report) => report,
        Err(message) => {
            let _ = writeln!(err, "samebits: error: {message}");
            return crate::cli::EXIT_FAILURE;
        }
    };
    let written = if args.json { writeln!(out, "{}", report.to_json()) } else { write!(out, "{}", report.to_text()) };
    if written.is_err() {
        return crate::cli::EXIT_FAILURE;
    }
    0
}
