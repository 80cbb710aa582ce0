//! The `samebits` command line: argument parsing, human and JSON output, exit codes.

use crate::checkpoint::Checkpoint;
use crate::config::{DataSource, DeviceKind, MathKind, OptimizerKind, PathKind, SimdChoice, TrainConfig, MAX_CLASSES};
use crate::data::{builtin_digits_split, load_csv_with_progress, split_test_fraction, CsvOptions, Dataset, LoadStage};
use crate::train::{self, EpochStats, Progress, RunResult};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use samebits::layers::Activation;
use samebits::model::Init;
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

/// Exit code for a run that failed (bad data, non-finite values).
pub const EXIT_FAILURE: i32 = 1;
/// Exit code for a command line that could not be understood.
pub const EXIT_USAGE: i32 = 2;

#[derive(Parser, Debug)]
#[command(name = "samebits", version, about = "Bit-reproducible neural-network training", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train an MLP (default: the built-in digits) and print its digest.
    Train(TrainArgs),
    /// Continue a run from its checkpoint directory (`train --checkpoint DIR`): it ends with
    /// exactly the digest of the uninterrupted run. Accepts the options of `train`: those that
    /// decide the bits must equal the checkpoint's (anything else is refused); --threads,
    /// --simd, --device cpu|opencl, --device-index, --json, --plot and --checkpoint-every may be
    /// chosen anew.
    Resume(ResumeArgs),
    /// List the OpenCL platforms and devices, and whether each can run the training step.
    Devices,
    /// Compare two traces of `samebits train --trace`: exit 0 when identical, 1 when they
    /// differ (first step, operation, tensor and element, then the header differences), 2 when
    /// one cannot be read.
    Compare(CompareArgs),
    /// Print the environment fingerprint: hardware, software and system settings, each entry
    /// marked if it can change the bits of a run (docs/ENV.md).
    Env(EnvArgs),
    /// Time training epochs (float and fixed, 1 and all threads) and the f32 product on every
    /// vector unit on this machine, optionally beside numpy and JAX (--peers PYTHON).
    Bench(crate::bench::BenchArgs),
}

#[derive(Args, Debug)]
struct ResumeArgs {
    /// The checkpoint directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    #[command(flatten)]
    train: TrainArgs,
}

#[derive(Args, Debug)]
struct EnvArgs {
    /// Print one JSON object instead of the human-readable sections.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct CompareArgs {
    /// The first trace.
    #[arg(value_name = "A")]
    a: PathBuf,
    /// The second trace.
    #[arg(value_name = "B")]
    b: PathBuf,
    /// Also draw both loss curves and the divergence per step (largest distance in ulps
    /// between the runs' parameters, log scale) as an SVG file.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Let --plot replace an existing file.
    #[arg(long, requires = "plot")]
    overwrite: bool,
}

#[derive(Args, Debug)]
struct TrainArgs {
    /// Arithmetic: IEEE f32, or fixed point (integer operations only).
    #[arg(long, value_enum, default_value_t = PathKind::Float)]
    path: PathKind,
    /// Where the float path's exp, ln and tanh come from: portable (the contract's, the same
    /// bits everywhere) or platform (the C library's, to see digests differ between platforms;
    /// float path on the CPU only).
    #[arg(long, value_enum, default_value_t = MathKind::Portable)]
    math: MathKind,
    /// Number of passes over the training data.
    #[arg(long, default_value_t = 20)]
    epochs: u32,
    /// Rows per mini-batch.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 0.05, allow_negative_numbers = true)]
    lr: f32,
    /// SGD momentum.
    #[arg(long, default_value_t = 0.9, allow_negative_numbers = true)]
    momentum: f32,
    /// L2 weight decay.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    weight_decay: f32,
    /// Optimizer.
    #[arg(long, value_enum, default_value_t = OptimizerKind::Sgd)]
    optimizer: OptimizerKind,
    /// Hidden layer widths, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "128,64")]
    hidden: Vec<usize>,
    /// Activation after each hidden layer: relu, tanh or sigmoid.
    #[arg(long, default_value = "relu", value_parser = parse_activation)]
    activation: Activation,
    /// Weight initialisation: glorot or he.
    #[arg(long, default_value = "glorot", value_parser = parse_init)]
    init: Init,
    /// Random seed for initialisation and data order.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Worker threads (default: all cores). The digest is the same for every value.
    #[arg(long)]
    threads: Option<usize>,
    /// Vector unit of the CPU's matrix products (default: the widest this processor has).
    /// The digest is the same for every value.
    #[arg(long, value_enum, default_value_t = SimdChoice::Auto)]
    simd: SimdChoice,
    /// Train on a CSV file: numeric feature columns, then an integer label column.
    #[arg(long, value_name = "FILE.csv")]
    data: Option<PathBuf>,
    /// The CSV file's first line is a header.
    #[arg(long, requires = "data")]
    header: bool,
    /// Number of classes (default: largest label + 1).
    #[arg(long, requires = "data")]
    classes: Option<usize>,
    /// Fraction of the CSV's rows, taken from its end, held out for testing.
    #[arg(long, requires = "data", default_value_t = 0.2, allow_negative_numbers = true)]
    test_fraction: f64,
    /// Where the training steps run: cpu; opencl (every step on an OpenCL device, the test
    /// accuracy evaluated on the CPU from the device's parameters after each epoch); or both
    /// (CPU and OpenCL side by side, the parameter digests compared after every step, stopping
    /// at the first difference). The digest is the same on every device.
    #[arg(long, value_enum, default_value_t = DeviceKind::Cpu)]
    device: DeviceKind,
    /// The OpenCL device to use, numbered as `samebits devices` lists them (default: the
    /// first usable one).
    #[arg(long, value_name = "N")]
    device_index: Option<usize>,
    /// Print one JSON object instead of the human-readable report.
    #[arg(long)]
    json: bool,
    /// Write a trace of the run (docs/TRACE.md): a header, then one record per step with the
    /// loss and a digest of every parameter tensor, flushed as it goes. `samebits compare`
    /// compares two.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// What the trace records: steps, or ops (also every layer operation's digest; CPU only).
    #[arg(long, value_enum, default_value_t = crate::trace::Level::Steps, requires = "trace")]
    trace_level: crate::trace::Level,
    /// Also record every parameter's bits every N steps (they are always recorded after each
    /// epoch's last step), so that `compare` can name the element and its distance in ulps.
    #[arg(long, value_name = "N", default_value_t = 0, requires = "trace")]
    trace_values: u64,
    /// After training, draw the mean training loss and the test accuracy per epoch, in two
    /// panels, as an SVG file. An existing file is refused and left as it was (exit 1, after
    /// the run's report) unless --overwrite is given.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Let --plot and --trace replace an existing file (without it, an existing file is
    /// refused and left as it was).
    #[arg(long)]
    overwrite: bool,
    /// Write checkpoints into DIR (created when missing; one that already holds a checkpoint
    /// is refused): every --checkpoint-every steps and after the last step, each written
    /// atomically. `samebits resume DIR` continues a run stopped at any moment with exactly
    /// its bits (on the CPU or an OpenCL device, whichever started it). Not with --device both
    /// or --trace.
    #[arg(long, value_name = "DIR")]
    checkpoint: Option<PathBuf>,
    /// Steps between checkpoints (default: the steps of one epoch).
    #[arg(long, value_name = "N")]
    checkpoint_every: Option<u64>,
}

fn parse_activation(s: &str) -> Result<Activation, String> {
    Activation::from_name(s).ok_or_else(|| format!("unknown activation '{s}' (expected relu, tanh or sigmoid)"))
}

fn parse_init(s: &str) -> Result<Init, String> {
    Init::from_name(s).ok_or_else(|| format!("unknown initialisation '{s}' (expected glorot or he)"))
}

impl TrainArgs {
    /// The trace's options, with the file to write and whether it may replace one.
    fn trace(&self) -> Option<(PathBuf, crate::trace::TraceOptions, bool)> {
        let options =
            crate::trace::TraceOptions { level: self.trace_level, values_every: self.trace_values, fault: None };
        self.trace.clone().map(|path| (path, options, self.overwrite))
    }

    /// Checkpoints: the interval needs a directory (except at `resume`), and both need the CPU
    /// without a trace.
    fn check_checkpoint(&self, config: &TrainConfig, resuming: bool) -> Result<(), String> {
        if self.checkpoint_every == Some(0) {
            return Err("--checkpoint-every must be at least 1".into());
        }
        if !(resuming || self.checkpoint.is_some()) {
            return match self.checkpoint_every {
                Some(_) => Err("--checkpoint-every needs --checkpoint DIR".into()),
                None => Ok(()),
            };
        }
        if config.device == DeviceKind::Both {
            return Err("checkpoints need --device cpu or opencl, not both".into());
        }
        if self.trace.is_some() {
            return Err("--trace cannot be combined with checkpoints (a trace is not continued across a resume)".into());
        }
        Ok(())
    }

    /// Layer operations are observed in the CPU's step only; --overwrite needs a file to apply to.
    fn check_trace(&self, config: &TrainConfig) -> Result<(), String> {
        if self.overwrite && self.plot.is_none() && self.trace.is_none() {
            return Err("--overwrite needs --plot or --trace (the files it may replace)".into());
        }
        if self.trace_level == crate::trace::Level::Ops && config.device != DeviceKind::Cpu {
            return Err("--trace-level ops needs --device cpu (the OpenCL step is not observed layer by layer)".into());
        }
        Ok(())
    }

    fn config(&self) -> TrainConfig {
        let threads = self.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let data = match &self.data {
            None => DataSource::Digits,
            Some(path) => DataSource::Csv {
                path: path.clone(),
                header: self.header,
                classes: self.classes,
                test_fraction: self.test_fraction,
            },
        };
        TrainConfig {
            path: self.path,
            math: self.math,
            data,
            hidden: self.hidden.clone(),
            activation: self.activation,
            init: self.init,
            optimizer: self.optimizer,
            lr: self.lr,
            momentum: self.momentum,
            weight_decay: self.weight_decay,
            batch: self.batch,
            epochs: self.epochs,
            seed: self.seed,
            threads,
            simd: self.simd,
            device: self.device,
            device_index: self.device_index,
        }
    }
}

/// Loads the training and test sets a configuration names.
pub fn load_data(config: &TrainConfig) -> Result<(Dataset, Dataset), String> {
    load_data_shown(config, None)
}

/// [`load_data`], showing the loading of a CSV file: a bar on stderr while it loads (drawn only
/// when stderr is a terminal), then, when `report` is given, one line on it with the rows,
/// features and seconds taken.
pub fn load_data_shown(config: &TrainConfig, report: Option<&mut dyn Write>) -> Result<(Dataset, Dataset), String> {
    match &config.data {
        DataSource::Digits => Ok(builtin_digits_split()),
        DataSource::Csv { path, header, classes, test_fraction } => {
            let opts = CsvOptions { header: *header, n_classes: *classes };
            let start = std::time::Instant::now();
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            let template = "{msg}: {decimal_bytes} / {decimal_total_bytes} {bar:30} {elapsed}";
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            let mut shown = None;
            let data = load_csv_with_progress(path, &opts, &mut |stage, done, total| {
                if shown != Some(stage) {
                    shown = Some(stage);
                    let verb = if stage == LoadStage::Scanning { "scanning" } else { "loading" };
                    bar.set_length(total);
                    bar.set_message(format!("{verb} {}", path.display()));
                }
                bar.set_position(done);
            });
            bar.finish_and_clear();
            let data = data.map_err(|e| e.to_string())?;
            let (rows, features, seconds) = (data.rows(), data.n_features, start.elapsed().as_secs_f64());
            check_class_count(&data, path, *header)?;
            if config.path == PathKind::Fixed {
                check_fixed_range(&data, path, *header)?;
            }
            let split = split_test_fraction(data, *test_fraction).map_err(|e| e.to_string())?;
            // Only once the data is accepted: a data error leaves stdout empty.
            if let Some(out) = report {
                writeln!(out, "loaded {}: {rows} rows × {features} features in {seconds:.1} s", path.display())
                    .map_err(io)?;
            }
            Ok(split)
        }
    }
}

/// Refuses feature values the fixed path cannot represent (NUMERICS.md §13.1), naming the
/// first one's file, line and column instead of clamping it.
fn check_fixed_range(data: &Dataset, path: &std::path::Path, header: bool) -> Result<(), String> {
    let Err((row, col, value)) = train::features_for::<samebits::arith::Fixed>(data).map(drop) else {
        return Ok(());
    };
    // Blank lines are rejected by the loader, so data row i is on line i + 1 (+ 1 for a header).
    let line = row + 1 + usize::from(header);
    Err(format!(
        "{}:{line}:{}: value {value} is outside the fixed path's input range [-32, 32)",
        path.display(),
        col + 1
    ))
}

/// Refuses labels that would make an absurdly wide output layer, naming the first such line.
fn check_class_count(data: &Dataset, path: &std::path::Path, header: bool) -> Result<(), String> {
    if data.n_classes <= MAX_CLASSES {
        return Ok(());
    }
    // Blank lines are rejected by the loader, so data row i is on line i + 1 (+ 1 for a header).
    let row = data.labels.iter().position(|&l| l as usize >= MAX_CLASSES).unwrap_or(0);
    let line = row + 1 + usize::from(header);
    Err(format!(
        "{}:{line}: label {} implies {} classes; at most {MAX_CLASSES} are supported (is the last column the label?)",
        path.display(),
        data.labels[row],
        data.n_classes
    ))
}

/// Runs the command line `args` (program name first), writing reports to `out` and errors
/// to `err`; returns the process exit code. Never panics on user input.
pub fn run(args: impl IntoIterator<Item = OsString>, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let args: Vec<OsString> = args.into_iter().collect();
    // Where a usage error sends the user: the help of the command given, if it is one.
    let command = args.get(1).and_then(|a| a.to_str()).filter(|a| Cli::command().find_subcommand(a).is_some());
    let help = command.map_or_else(|| "samebits --help".to_string(), |c| format!("samebits {c} --help"));
    let matches = match Cli::command().try_get_matches_from(&args) {
        Ok(matches) => matches,
        Err(e) => return usage_error(e, &help, out, err),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => return usage_error(e, &help, out, err),
    };
    let (args, config, plan) = match cli.command {
        Command::Train(args) => {
            let config = args.config();
            let checked = config
                .validate()
                .and_then(|()| args.check_trace(&config))
                .and_then(|()| args.check_checkpoint(&config, false));
            if let Err(message) = checked {
                let _ = writeln!(err, "samebits: error: {message}");
                return EXIT_USAGE;
            }
            let plan =
                args.checkpoint.clone().map(|dir| CheckpointPlan { dir, every: args.checkpoint_every, resume: None });
            (args, config, plan)
        }
        Command::Resume(resume) => {
            let given = matches.subcommand_matches("resume").unwrap_or(&matches);
            match resume_plan(&resume, given) {
                Ok((config, plan)) => (resume.train, config, Some(plan)),
                Err((code, message)) => {
                    let _ = writeln!(err, "samebits: error: {message}");
                    return code;
                }
            }
        }
        Command::Devices => return devices_command(out, err),
        Command::Compare(args) => {
            let plot = args.plot.as_deref().map(|p| (p, args.overwrite));
            return crate::trace::compare_command(&args.a, &args.b, plot, out, err);
        }
        Command::Env(args) => return env_command(&args, out),
        Command::Bench(args) => return crate::bench::command(&args, out, err),
    };
    // A valid command line this run cannot carry out, like a missing OpenCL device.
    let runnable = config.check_math().and_then(|()| crate::executor::resolve_vector_unit(config.simd).map(|_| ()));
    if let Err(message) = runnable {
        let _ = writeln!(err, "samebits: error: {message}");
        return EXIT_FAILURE;
    }
    // A new run's directory is checked before anything is loaded; an existing checkpoint in it
    // is refused and kept.
    if let Some(CheckpointPlan { dir, resume: None, .. }) = &plan {
        if let Err(message) = crate::checkpoint::prepare_dir(dir) {
            let _ = writeln!(err, "samebits: error: {message}");
            return EXIT_FAILURE;
        }
    }
    match train_command(&config, args.json, args.trace(), plan, out) {
        Ok(result) => match &args.plot {
            None => 0,
            Some(path) => plot_command(path, args.overwrite, &config, &result, args.json, out, err),
        },
        Err(message) => {
            let _ = writeln!(err, "samebits: error: {message}");
            EXIT_FAILURE
        }
    }
}

/// Parses and checks a command line as [`run`] does before it starts any work, without
/// running it: the entry point of the command-line fuzz target (fuzz/).
pub fn check_command_line(args: impl IntoIterator<Item = OsString>) -> Result<(), String> {
    let cli = Cli::try_parse_from(args).map_err(|e| one_line(&e.to_string()))?;
    match cli.command {
        Command::Train(args) => {
            let config = args.config();
            config
                .validate()
                .and_then(|()| args.check_trace(&config))
                .and_then(|()| args.check_checkpoint(&config, false))
        }
        Command::Resume(resume) => resume.train.check_checkpoint(&resume.train.config(), true),
        _ => Ok(()),
    }
}

/// What a run does about checkpoints (`train --checkpoint`, `resume`).
struct CheckpointPlan {
    dir: PathBuf,
    /// Steps between checkpoints; `None`: one epoch's steps.
    every: Option<u64>,
    /// The checkpoint to continue from.
    resume: Option<Checkpoint>,
}

/// `samebits resume DIR [options]`: the checkpoint's configuration, with the settings that
/// cannot change a bit taken from the command line, and the plan to continue it. Options that
/// decide the bits are refused when they differ from the checkpoint's.
fn resume_plan(resume: &ResumeArgs, matches: &ArgMatches) -> Result<(TrainConfig, CheckpointPlan), (i32, String)> {
    let args = &resume.train;
    let given = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    let usage = |message: &str| (EXIT_USAGE, message.to_string());
    if given("trace") || given("trace_level") || given("trace_values") {
        return Err(usage("resume writes no trace: a trace is not continued across a resume"));
    }
    if given("checkpoint") {
        return Err(usage("resume writes its checkpoints into its DIR; --checkpoint is for 'samebits train'"));
    }
    let from_args = args.config();
    from_args.validate().map_err(|m| usage(&m))?;
    args.check_checkpoint(&from_args, true).map_err(|m| usage(&m))?;
    let checkpoint = crate::checkpoint::load(&resume.dir).map_err(|m| (EXIT_FAILURE, m))?;
    let stored = &checkpoint.config;

    let mut conflicts = Vec::new();
    let mut check = |id: &str, differs: bool, given_value: String, stored_value: String| {
        if given(id) && differs {
            conflicts.push(format!("--{} {given_value} (the checkpoint has {stored_value})", id.replace('_', "-")));
        }
    };
    let (a, s) = (&from_args, stored);
    check("path", a.path != s.path, value_name(&a.path), value_name(&s.path));
    check("math", a.math != s.math, value_name(&a.math), value_name(&s.math));
    check("optimizer", a.optimizer != s.optimizer, value_name(&a.optimizer), value_name(&s.optimizer));
    check("epochs", a.epochs != s.epochs, a.epochs.to_string(), s.epochs.to_string());
    check("batch", a.batch != s.batch, a.batch.to_string(), s.batch.to_string());
    check("seed", a.seed != s.seed, a.seed.to_string(), s.seed.to_string());
    for (id, x, y) in
        [("lr", a.lr, s.lr), ("momentum", a.momentum, s.momentum), ("weight_decay", a.weight_decay, s.weight_decay)]
    {
        check(id, x.to_bits() != y.to_bits(), x.to_string(), y.to_string());
    }
    let widths = |h: &[usize]| h.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(",");
    check("hidden", a.hidden != s.hidden, widths(&a.hidden), widths(&s.hidden));
    check("activation", a.activation != s.activation, a.activation.name().into(), s.activation.name().into());
    check("init", a.init != s.init, a.init.name().into(), s.init.name().into());
    let data = match (&s.data, &a.data) {
        (DataSource::Digits, DataSource::Csv { path, .. }) => {
            check("data", true, path.display().to_string(), "the built-in digits".into());
            s.data.clone()
        }
        (DataSource::Csv { path, header, classes, test_fraction }, given_data) => {
            if let DataSource::Csv { header: h, classes: c, test_fraction: t, .. } = given_data {
                check("header", h != header, h.to_string(), header.to_string());
                let classes_text = |c: &Option<usize>| c.map_or("none".into(), |c| c.to_string());
                check("classes", c != classes, classes_text(c), classes_text(classes));
                check(
                    "test_fraction",
                    t.to_bits() != test_fraction.to_bits(),
                    t.to_string(),
                    test_fraction.to_string(),
                );
            }
            // The file may have moved: --data names where it is now; its content is checked
            // against the checkpoint's data digest before training.
            let path = match given_data {
                DataSource::Csv { path, .. } if given("data") => path.clone(),
                _ => path.clone(),
            };
            DataSource::Csv { path, header: *header, classes: *classes, test_fraction: *test_fraction }
        }
        (DataSource::Digits, DataSource::Digits) => DataSource::Digits,
    };
    if !conflicts.is_empty() {
        let file = resume.dir.join(crate::checkpoint::FILE_NAME);
        return Err((
            EXIT_USAGE,
            format!(
                "{} conflicts with the checkpoint {}: a resumed run keeps the configuration it started with",
                conflicts.join(", "),
                file.display()
            ),
        ));
    }
    let config = TrainConfig {
        data,
        threads: from_args.threads,
        simd: from_args.simd,
        // A run may continue on another device than the one it started on: same bits.
        device: from_args.device,
        device_index: from_args.device_index,
        ..stored.clone()
    };
    let every = Some(args.checkpoint_every.unwrap_or(checkpoint.every));
    Ok((config, CheckpointPlan { dir: resume.dir.clone(), every, resume: Some(checkpoint) }))
}

/// A choice as it is written on the command line (`float`, `adam`, …).
fn value_name<T: ValueEnum>(value: &T) -> String {
    value.to_possible_value().map_or_else(|| "?".into(), |p| p.get_name().to_string())
}

/// Help and version go to `out` with exit 0; anything else is one line on `err`, exit 2,
/// pointing at `help` (the command's own help).
fn usage_error(e: clap::Error, help: &str, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = write!(out, "{e}");
            0
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand => {
            let _ = writeln!(err, "samebits: error: no command given (try 'samebits train', or 'samebits --help')");
            EXIT_USAGE
        }
        _ => {
            let _ = writeln!(err, "samebits: error: {} (see '{help}')", one_line(&e.to_string()));
            EXIT_USAGE
        }
    }
}

/// clap's message without its usage section, folded onto one line: the first line says what
/// is wrong and the indented lines after it name the arguments or the possible values.
fn one_line(message: &str) -> String {
    let text: Vec<&str> = message
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let text = text.join(" ");
    let text = text.strip_prefix("error: ").unwrap_or(&text).to_string();
    if text.is_empty() {
        "invalid arguments".to_string()
    } else {
        text
    }
}

/// `samebits devices`: every OpenCL device with what decides whether it can train (exit 0);
/// without OpenCL, or without a device, one line on `err` and exit 1.
fn devices_command(out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let devices = match crate::opencl::list_devices() {
        Ok(d) if d.is_empty() => Err(crate::opencl::OpenClError::NoDevice),
        other => other,
    };
    let devices = match devices {
        Ok(d) => d,
        Err(e) => {
            let _ = writeln!(err, "samebits: error: {e}");
            return EXIT_FAILURE;
        }
    };
    let yes = |b: bool| if b { "yes" } else { "no" };
    for (info, _) in devices {
        let usable = match info.missing() {
            None => "yes".to_string(),
            Some(missing) => format!("no ({missing})"),
        };
        let text = format!(
            "device {}: {} ({})\n  platform {}, vendor {}\n  version {}, driver {}, {} compute units\n  denormals {}, correctly rounded divide/sqrt {}\n  usable: {usable}",
            info.index,
            info.name,
            info.platform,
            info.platform,
            info.vendor,
            info.version,
            info.driver,
            info.compute_units,
            yes(info.denormals),
            yes(info.correctly_rounded_divide_sqrt),
        );
        if writeln!(out, "{text}").is_err() {
            return EXIT_FAILURE;
        }
    }
    0
}

/// `samebits env`: the environment fingerprint, as sections or one JSON object. Exit 0 even
/// where something cannot be read (it says so); 1 only if the output cannot be written.
fn env_command(args: &EnvArgs, out: &mut dyn Write) -> i32 {
    let fingerprint = crate::env::Fingerprint::collect();
    let written = if args.json {
        writeln!(out, "{}", fingerprint.to_json_string())
    } else {
        write!(out, "{}", fingerprint.to_text())
    };
    if written.is_err() {
        return EXIT_FAILURE;
    }
    0
}

fn train_command(
    config: &TrainConfig,
    json: bool,
    trace: Option<(PathBuf, crate::trace::TraceOptions, bool)>,
    plan: Option<CheckpointPlan>,
    out: &mut dyn Write,
) -> Result<RunResult, String> {
    let (train_set, test_set) = load_data_shown(config, if json { None } else { Some(&mut *out) })?;
    let mut tracer = match trace {
        None => None,
        Some((path, options, overwrite)) => {
            Some(crate::trace::Tracer::create(&path, options, overwrite, config, &train_set, &test_set)?)
        }
    };
    let epoch_steps = train_set.rows().div_ceil(config.batch).max(1) as u64;
    let checkpoints =
        plan.map(|p| train::Checkpoints { every: p.every.unwrap_or(epoch_steps), dir: p.dir, resume: p.resume });
    let resumed_from = checkpoints.as_ref().and_then(|c| c.resume.as_ref()).map(|c| c.steps);
    let mut run = |progress: &mut dyn Progress| match (tracer.as_mut(), &checkpoints) {
        (Some(tracer), _) => train::run_traced(config, &train_set, &test_set, progress, tracer),
        (None, Some(checkpoints)) => train::run_checkpointed(config, &train_set, &test_set, progress, checkpoints),
        (None, None) => train::run(config, &train_set, &test_set, progress),
    };
    let describe = describe_run(config, &train_set, &test_set);
    let restorations_before = crate::fpmode::restorations();
    let total_steps = config.epochs as u64 * train_set.rows().div_ceil(config.batch) as u64;
    let result = if json {
        run(&mut train::Quiet).map_err(|e| e.to_string())?
    } else {
        let unit = crate::executor::resolve_vector_unit(config.simd)?;
        writeln!(out, "{} · products on {unit}", crate::env::summary(config.threads)).map_err(io)?;
        writeln!(out, "{describe}").map_err(io)?;
        if let Some(c) = &checkpoints {
            match resumed_from {
                Some(steps) => writeln!(
                    out,
                    "resuming from {} at step {steps} of {total_steps}",
                    c.dir.join(crate::checkpoint::FILE_NAME).display()
                ),
                None => writeln!(out, "checkpoints every {} steps into {}", c.every, c.dir.display()),
            }
            .map_err(io)?;
        }
        let mut progress = HumanProgress::new(total_steps, config.epochs, out);
        progress.bar.set_position(resumed_from.unwrap_or(0));
        let result = run(&mut progress);
        progress.bar.finish_and_clear();
        progress.failed.map_or(Ok(()), Err)?;
        result.map_err(|e| e.to_string())?
    };
    // Threads found out of IEEE mode during the run and restored (crate::fpmode).
    let restorations = crate::fpmode::restorations() - restorations_before;
    if json {
        let mut report = json_report(config, &result);
        report["fpu_restorations"] = restorations.into();
        report["resumed_from_step"] = resumed_from.into();
        writeln!(out, "{report}").map_err(io)?;
    } else {
        if result.test_rows == 0 {
            writeln!(out, "test accuracy n/a (no test rows)").map_err(io)?;
        } else {
            let (accuracy, correct, rows) = (100.0 * result.test_accuracy(), result.test_correct, result.test_rows);
            writeln!(out, "test accuracy {accuracy:.2}% ({correct}/{rows})").map_err(io)?;
        }
        if config.path == PathKind::Fixed {
            writeln!(out, "fixed-point saturations {}", result.saturations).map_err(io)?;
        }
        writeln!(out, "{}", device_line(config, &result)).map_err(io)?;
        if restorations > 0 {
            writeln!(
                out,
                "floating-point mode: {restorations} time(s) a training thread was found flushing subnormals or not rounding to nearest, and put back to IEEE mode before it computed (NUMERICS.md §10)"
            )
            .map_err(io)?;
        }
        if config.math == MathKind::Platform {
            writeln!(
                out,
                "math: platform (the C library's exp, ln, tanh): this digest is not the portable one and differs between platforms"
            )
            .map_err(io)?;
        }
        writeln!(out, "digest {}", result.digest).map_err(io)?;
    }
    Ok(result)
}

/// `train --plot FILE.svg`: drawn after the report, so that a plot that cannot be written
/// costs nothing of the run's result; then one line on `err` and exit 1.
fn plot_command(
    path: &std::path::Path,
    overwrite: bool,
    config: &TrainConfig,
    result: &RunResult,
    json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let digest = result.digest.to_string();
    let title = format!("samebits train · seed {} · digest {}…", config.seed, &digest[..digest.len().min(16)]);
    let figure = crate::plot::training_figure(&title, &result.epochs);
    if let Err(e) = crate::plot::save(path, &crate::plot::render_figure_svg(&figure), overwrite) {
        let _ = writeln!(err, "samebits: error: {}", crate::plot::save_error(path, &e));
        return EXIT_FAILURE;
    }
    // --json keeps stdout one JSON object.
    if !json && writeln!(out, "plot written to {}", path.display()).is_err() {
        return EXIT_FAILURE;
    }
    0
}

/// Which device ran the steps, for the human report.
fn device_line(config: &TrainConfig, r: &RunResult) -> String {
    let opencl = r.opencl_device.as_deref().unwrap_or("?");
    match config.device {
        DeviceKind::Cpu => format!("trained on the CPU ({} threads)", config.threads),
        DeviceKind::Opencl => format!("trained on OpenCL device {opencl} (test accuracy evaluated on the CPU)"),
        DeviceKind::Both => format!(
            "trained on the CPU ({} threads) and OpenCL device {opencl}: parameter digests equal after every step",
            config.threads
        ),
    }
}

fn io(e: std::io::Error) -> String {
    format!("cannot write output: {e}")
}

fn describe_run(config: &TrainConfig, train: &Dataset, test: &Dataset) -> String {
    let data = match &config.data {
        DataSource::Digits => "built-in digits".to_string(),
        DataSource::Csv { path, .. } => path.display().to_string(),
    };
    let widths: Vec<String> = std::iter::once(train.n_features)
        .chain(config.hidden.iter().copied())
        .chain(std::iter::once(train.n_classes))
        .map(|w| w.to_string())
        .collect();
    let optimizer = match config.optimizer {
        OptimizerKind::Sgd => format!("sgd lr {} momentum {}", config.lr, config.momentum),
        OptimizerKind::Adam => format!("adam lr {}", config.lr),
    };
    format!(
        "data {data}: {} train / {} test rows · {} · model {} {} · {optimizer} · batch {} · {} epochs · seed {}",
        train.rows(),
        test.rows(),
        match (config.path, config.math) {
            (PathKind::Float, MathKind::Portable) => "float path",
            (PathKind::Float, MathKind::Platform) => "float path with platform math",
            (PathKind::Fixed, _) => "fixed path",
        },
        widths.join("-"),
        config.activation.name(),
        config.batch,
        config.epochs,
        config.seed
    )
}

fn json_report(config: &TrainConfig, r: &RunResult) -> serde_json::Value {
    serde_json::json!({
        "samebits_version": env!("CARGO_PKG_VERSION"),
        "contract_version": samebits::CONTRACT_VERSION,
        "digest": r.digest.to_string(),
        "test_accuracy": r.test_accuracy(),
        "test_correct": r.test_correct,
        "test_rows": r.test_rows,
        "final_loss": r.final_loss(),
        "epochs": r.epochs.len(),
        "steps": r.steps,
        "params": r.params,
        "threads": config.threads,
        "vector_unit": crate::executor::resolve_vector_unit(config.simd).map(|u| u.kind().name()).ok(),
        "path": config.path,
        "math": config.math,
        "device": config.device,
        "opencl_device": r.opencl_device,
        "saturations": r.saturations,
        "config": config,
        "history": r.epochs,
    })
}

/// Progress bar on stderr (only when it is a terminal) and one line per epoch on `out`.
struct HumanProgress<'o> {
    bar: ProgressBar,
    epochs: u32,
    out: &'o mut dyn Write,
    failed: Option<String>,
}

impl<'o> HumanProgress<'o> {
    fn new(total_steps: u64, epochs: u32, out: &'o mut dyn Write) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total_steps), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} steps {elapsed_precise}") {
            bar.set_style(style);
        }
        Self { bar, epochs, out, failed: None }
    }
}

impl Progress for HumanProgress<'_> {
    fn step(&mut self, done: u64) {
        self.bar.set_position(done);
    }

    fn epoch(&mut self, s: &EpochStats) {
        let accuracy =
            if s.test_accuracy.is_nan() { "n/a".to_string() } else { format!("{:.2}%", 100.0 * s.test_accuracy) };
        let width = self.epochs.to_string().len();
        let line =
            format!("epoch {:>width$}/{}  loss {:.6}  test accuracy {accuracy}", s.epoch, self.epochs, s.train_loss);
        let out = &mut self.out;
        if let Err(e) = self.bar.suspend(|| writeln!(out, "{line}")) {
            self.failed.get_or_insert(io(e));
        }
    }
}
