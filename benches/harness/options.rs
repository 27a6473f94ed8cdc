//! What a run measures and where it writes: the full run, or `--quick` (CI's smoke run).

use std::fs;
use std::path::PathBuf;

pub struct Options {
    pub seconds: u64,
    /// How long idle streams are watched for their CPU use.
    pub idle_seconds: u64,
    /// Writes whose fan-out is timed.
    pub fan_out_writes: usize,
    pub list_sizes: Vec<usize>,
    /// Lists in the database for the "many lists" reads.
    pub many_lists: usize,
    pub report: PathBuf,
    pub plot: PathBuf,
}

pub fn options() -> Options {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if std::env::args().any(|arg| arg == "--quick") {
        let out = root.join("target/bench-quick");
        fs::create_dir_all(&out).expect("target/bench-quick");
        Options {
            seconds: 1,
            idle_seconds: 2,
            fan_out_writes: 5,
            list_sizes: vec![1000],
            many_lists: 1_000,
            report: out.join("BENCHMARKS.md"),
            plot: out.join("benchmark.svg"),
        }
    } else {
        Options {
            seconds: 10,
            idle_seconds: 10,
            fan_out_writes: 30,
            list_sizes: vec![1000, 10_000, 100_000],
            many_lists: 10_000,
            report: root.join("BENCHMARKS.md"),
            plot: root.join("docs/benchmark.svg"),
        }
    }
}

/// Says that a part could not be measured, and why. Under `CI=true` that is a failure: the
/// smoke run must measure every part it reports.
pub fn unmeasured(why: &str) {
    let ci = std::env::var("CI").is_ok_and(|ci| ci == "true");
    assert!(
        !ci,
        "under CI=true every part must be measured; not measured: {why}"
    );
    eprintln!("*** not measured: {why}");
}
