//! Runs the samebits kernel on host CPUs.
//!
//! Layers, from the command line down: [`cli`] (arguments, output, exit codes) →
//! [`train`] (epochs, data order, evaluation) → [`executor`] (threads) → the `samebits`
//! kernel. [`data`] loads the built-in digits and user CSV files; [`config`] holds a run's
//! settings; [`env`] describes the machine; [`platform_math`] is the float path with the C
//! library's functions, to show what the contract avoids; [`plot`] draws line charts as
//! standalone SVG files; [`trace`] records a run step by step and compares two records;
//! [`bench`] times training and the products on this machine (`samebits bench`).

pub mod bench;
pub mod buffers;
pub mod checkpoint;
pub mod cli;
pub mod config;
pub mod data;
pub mod env;
pub mod executor;
pub mod fpmode;
pub mod opencl;
pub mod platform_math;
pub mod plot;
pub mod trace;
pub mod train;
