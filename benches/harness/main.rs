//! The benchmark: the release server under wrk, next to what this machine can do at best (nginx
//! serving the same bytes; diesel doing the same writes directly), written to BENCHMARKS.md.
//!
//! Run it with `benches/run.sh` (which installs wrk and nginx and builds the release binary), or
//! `benches/run.sh --quick` for the one-second smoke run that CI does.
//!
//! Each concern has its file: `options` (what a run measures), `http` (plain requests), `processes`
//! (the server, nginx, memory), `wrk` (the load and its Lua scripts in `benches/lua/`), `ceilings`
//! (diesel alone), `scenarios`, `streams` and `lists` (what is measured), `report` and `plot` (the
//! output).

mod caldav;
mod ceilings;
mod cluster;
mod compression;
#[path = "../../tests/api/helpers/follow.rs"]
mod follow;
mod http;
mod lists;
mod memory;
mod options;
mod plot;
mod postgres;
mod processes;
mod report;
mod row;
mod scenarios;
mod streams;
mod wrk;

use std::path::PathBuf;

use processes::{Nginx, Server};
use report::{Memory, Report};
use scenarios::Bench;

fn main() {
    let options = options::options();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let binary = root.join("target/release/todomvc");
    assert!(binary.exists(), "build it first: cargo build --release");
    let scripts = tempfile::tempdir().expect("temp dir");
    if run_one_part(&binary, scripts.path(), &options) {
        return;
    }
    let startup = scenarios::startup(&binary);
    let (server, _) = Server::start(&binary);
    let idle_kib = server.rss_kib();
    let nginx = Nginx::start();
    let bench = Bench {
        binary: &binary,
        server: &server,
        nginx: &nginx,
        scripts: scripts.path(),
        seconds: options.seconds,
    };
    let reads = scenarios::reads(&bench);
    let compression = compression::scenarios(&bench, [&reads.list, &reads.page]);
    let writes = scenarios::writes(&bench);
    let sessions = scenarios::sessions(&bench);
    let signed_in =
        scenarios::signed_in(&binary, scripts.path(), options.seconds, (&reads, &writes));
    let mut live_targets = Vec::new();
    let live = streams::scenarios(&binary, scripts.path(), &options, &mut live_targets);
    let mut lists_targets = Vec::new();
    let lists = lists::scenarios(&binary, scripts.path(), &options, &mut lists_targets);
    let mut postgres_targets = Vec::new();
    let postgres = postgres::scenarios(&binary, &nginx, options.seconds, &mut postgres_targets);
    let mut cluster_targets = Vec::new();
    let cluster = cluster::scenarios(scripts.path(), &options, &mut cluster_targets);
    let mut caldav_targets = Vec::new();
    let caldav = caldav::scenarios(
        &binary,
        scripts.path(),
        options.seconds,
        &mut caldav_targets,
    );
    let growth = scenarios::growth(&bench, &options.list_sizes, &reads);
    let report = Report {
        seconds: options.seconds,
        startup,
        reads,
        writes,
        sessions,
        signed_in,
        growth,
        memory: Memory {
            idle_kib,
            after_kib: server.rss_kib(),
        },
        live,
        live_targets,
        lists,
        lists_targets,
        caldav,
        caldav_targets,
        compression,
        postgres,
        postgres_targets,
        cluster,
        cluster_targets,
    };
    drop(nginx);
    report::write(&report, &root, &options);
}

/// `--caldav-only`, `--postgres-only`, `--compression-only`, `--streams-only` or `--cluster-only`:
/// that part alone, printed; false when none is asked for.
fn run_one_part(
    binary: &std::path::Path,
    scripts: &std::path::Path,
    options: &options::Options,
) -> bool {
    if std::env::args().any(|arg| arg == "--caldav-only") {
        let mut notes = Vec::new();
        let table = caldav::scenarios(binary, scripts, options.seconds, &mut notes);
        println!("{}\n\n{}", table.join("\n"), notes.join("\n"));
        return true;
    }

    if std::env::args().any(|arg| arg == "--cluster-only") {
        let mut notes = Vec::new();
        let table = cluster::scenarios(scripts, options, &mut notes);
        println!("{}\n\n{}", table.join("\n"), notes.join("\n"));
        return true;
    }
    if std::env::args().any(|arg| arg == "--streams-only") {
        let mut notes = Vec::new();
        let table = streams::scenarios(binary, scripts, options, &mut notes);
        println!("{}\n\n{}", table.join("\n"), notes.join("\n"));
        return true;
    }
    if std::env::args().any(|arg| arg == "--postgres-only") {
        let nginx = Nginx::start();
        let mut notes = Vec::new();
        let lines = postgres::scenarios(binary, &nginx, options.seconds, &mut notes);
        println!("{}\n\n{}", lines.join("\n"), notes.join("\n"));
        return true;
    }
    if std::env::args().any(|arg| arg == "--compression-only") {
        let (server, _) = Server::start(binary);
        let nginx = Nginx::start();
        let bench = Bench {
            binary,
            server: &server,
            nginx: &nginx,
            scripts,
            seconds: options.seconds,
        };
        let reads = scenarios::reads(&bench);
        let compression = compression::scenarios(&bench, [&reads.list, &reads.page]);
        for row in [&reads.list, &reads.page]
            .into_iter()
            .chain(&compression.rows)
        {
            println!(
                "{}: {:.0}/s (p99 {:.2} ms), {:.0}% of {}",
                row.scenario,
                row.app.requests_per_second,
                row.app.p99_ms,
                100.0 * row.ratio(),
                row.ceiling.as_ref().map_or("", |(name, _)| name.as_str())
            );
        }
        println!(
            "{}\n{}",
            compression.sizes.join("\n"),
            compression.targets.join("\n")
        );
        return true;
    }
    false
}
