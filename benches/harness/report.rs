//! The report: every figure of a run, typed, and BENCHMARKS.md written from it.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::Duration;

use crate::row::Row;
use crate::scenarios::{Growth, Reads, Sessions, SignedIn, Writes};
use crate::wrk::{CONNECTIONS, THREADS};

impl Row {
    fn table_line(&self) -> String {
        let (ceiling_name, ceiling_rate) = self
            .ceiling
            .as_ref()
            .map_or((String::new(), String::new()), |(name, rate)| {
                (name.clone(), format!("{rate:.0}"))
            });
        let ratio = if self.ceiling.is_some() {
            format!("{:.0}%", self.ratio() * 100.0)
        } else {
            String::new()
        };
        let target = self.target.map_or(String::new(), |target| {
            format!("{:.0}%: {}", target * 100.0, met(self.ratio() >= target))
        });
        format!(
            "| {} | {:.0} | {:.2} | {:.2} | {} | {} | {ceiling_name} | {ceiling_rate} | {ratio} | {target} |",
            self.scenario,
            self.app.requests_per_second,
            self.app.p50_ms,
            self.app.p99_ms,
            self.app.non_2xx,
            self.app.errors,
        )
    }
}

pub use crate::row::met;

/// Memory of the server over the run.
pub struct Memory {
    pub idle_kib: u64,
    pub after_kib: u64,
}

/// Everything one run measured.
pub struct Report {
    pub seconds: u64,
    pub startup: Duration,
    pub reads: Reads,
    pub writes: Writes,
    pub sessions: Sessions,
    pub signed_in: SignedIn,
    pub growth: Growth,
    pub memory: Memory,
    /// The live-update section's lines (see `streams`), and its targets.
    pub live: Vec<String>,
    pub live_targets: Vec<String>,
    /// The lists section's lines (see `lists`), and its targets.
    pub lists: Vec<String>,
    pub lists_targets: Vec<String>,
    /// The CalDAV section's lines (see `caldav`), and its targets.
    pub caldav: Vec<String>,
    pub caldav_targets: Vec<String>,
    /// Compressed reads (rows of the results table), the sizes, and their targets.
    pub compression: crate::compression::Compression,
    /// Reads on PostgreSQL (see `postgres`), and their targets.
    pub postgres: Vec<String>,
    pub postgres_targets: Vec<String>,
    /// The cluster (see `cluster`): a rolling deploy under load, fan-out over its instances.
    pub cluster: Vec<String>,
    pub cluster_targets: Vec<String>,
}

impl Report {
    fn rows(&self) -> Vec<&Row> {
        let mut rows = vec![
            &self.reads.list,
            &self.reads.page,
            &self.writes.post,
            &self.writes.put,
            &self.sessions.plain,
            &self.sessions.keyed,
            &self.signed_in.cookie_read,
            &self.signed_in.bearer_read,
            &self.signed_in.cookie_post,
            &self.signed_in.sign_ins,
        ];
        rows.extend(&self.compression.rows);
        rows.extend(&self.growth.rows);
        rows
    }

    /// BENCHMARKS.md; `plot_link` is where it finds the chart, `analysis` is appended.
    pub fn markdown(&self, plot_link: &str, analysis: Option<&str>) -> String {
        let mut report = String::new();
        let _ = writeln!(report, "# Benchmarks\n");
        let _ = writeln!(
            report,
            "Written by `benches/run.sh` ({} s per scenario, wrk with {THREADS} threads and \
             {CONNECTIONS} connections, server and wrk sharing the machine). Each result is also \
             given as a ratio to a ceiling measured in the same run on the same machine: nginx \
             serving the same bytes from files, or the same writes done straight through diesel, \
             one transaction each (the server commits the writes that arrive together in one \
             transaction, so it can pass that ceiling).\n",
            self.seconds
        );
        let _ = writeln!(report, "## Machine\n\n{}", machine());
        let _ = writeln!(report, "## Results\n");
        let _ = writeln!(
            report,
            "| scenario | requests/s | p50 ms | p99 ms | non-2xx | errors | ceiling | ceiling/s | ratio | target |"
        );
        let _ = writeln!(report, "|---|---:|---:|---:|---:|---:|---|---:|---:|---|");
        for row in self.rows() {
            let _ = writeln!(report, "{}", row.table_line());
        }
        let _ = writeln!(
            report,
            "\n## Memory and start-up\n\n{}",
            self.memory_table()
        );
        let _ = writeln!(report, "## Live updates\n\n{}\n", self.live.join("\n"));
        let _ = writeln!(
            report,
            "## Lists and sharing\n\n{}\n",
            self.lists.join("\n")
        );
        let _ = writeln!(
            report,
            "## CalDAV against Radicale\n\n{}\n",
            self.caldav.join("\n")
        );
        let _ = writeln!(
            report,
            "## Reads on PostgreSQL\n\n{}\n",
            self.postgres.join("\n")
        );
        let _ = writeln!(
            report,
            "## A cluster: a rolling deploy, and fan-out over the instances\n\n`scripts/cluster` \
             (PostgreSQL, the instances, nginx), driven as the README's \"A rolling deploy\" \
             describes.\n\n{}\n",
            self.cluster.join("\n")
        );
        let _ = writeln!(
            report,
            "## Compression\n\nThe same answers in each coding, as the server sends them (the \
             rows `2z.` above are their requests/s):\n\n{}\n",
            self.compression.sizes.join("\n")
        );
        let _ = writeln!(report, "## Targets\n\n{}\n", self.targets().join("\n"));
        let _ = writeln!(report, "## Throughput against list size\n");
        let _ = writeln!(
            report,
            "![requests/s against list size, server and nginx]({plot_link})\n"
        );
        let _ = writeln!(
            report,
            "| todos | `GET /todos/` | nginx | ratio | `GET /` | nginx | ratio |"
        );
        let _ = writeln!(report, "|---:|---:|---:|---:|---:|---:|---:|");
        for (size, [(list, list_ceiling), (page, page_ceiling)]) in &self.growth.points {
            let _ = writeln!(
                report,
                "| {size} | {list:.0} | {list_ceiling:.0} | {:.0}% | {page:.0} | {page_ceiling:.0} | {:.0}% |",
                100.0 * list / list_ceiling,
                100.0 * page / page_ceiling
            );
        }
        if let Some(analysis) = analysis {
            let _ = writeln!(report, "\n{}", analysis.trim_end());
        }
        report
    }

    fn memory_table(&self) -> String {
        let mib = |kib: u64| kib as f64 / 1024.0;
        let peak = self
            .rows()
            .iter()
            .map(|row| row.app.peak_rss_kib)
            .max()
            .unwrap_or(0);
        let mut table = String::from("| | |\n|---|---|\n");
        let _ = writeln!(
            table,
            "| RSS idle (fresh start) | {:.1} MiB |",
            mib(self.memory.idle_kib)
        );
        let _ = writeln!(table, "| RSS peak (all scenarios) | {:.1} MiB |", mib(peak));
        if let Some(rss) = self.growth.rss_at_10k {
            let _ = writeln!(
                table,
                "| RSS peak, `GET /todos/` with 10,000 todos | {:.1} MiB |",
                mib(rss)
            );
        }
        let _ = writeln!(
            table,
            "| RSS after the run | {:.1} MiB |",
            mib(self.memory.after_kib)
        );
        let _ = writeln!(
            table,
            "| start-up to first 200 (median of 5, fresh database) | {:.1} ms |",
            self.startup.as_secs_f64() * 1000.0
        );
        table
    }

    /// Each target of the run that is not a row's ratio, with whether it was met.
    fn targets(&self) -> Vec<String> {
        let (plain, keyed) = (&self.sessions.plain.app, &self.sessions.keyed.app);
        let list = &self.reads.list.app;
        let sign_ins = &self.signed_in.sign_ins.app;
        let mut lines = vec![
            format!(
                "- Backbone session with an `Idempotency-Key` on every write: {:.0}% of the plain \
                 session's requests/s (target at most 15% fewer): {}",
                100.0 * self.sessions.keyed.ratio(),
                met(keyed.requests_per_second >= 0.85 * plain.requests_per_second)
            ),
            format!(
                "- sign-ins (`POST /login`, Argon2id verification each): {:.0}/s, p50 {:.0} ms, \
                 with {} non-2xx/3xx",
                sign_ins.requests_per_second, sign_ins.p50_ms, sign_ins.non_2xx
            ),
            format!(
                "- one Argon2id verification (m=19 MiB, t=2, p=1), median of 15: {:.1} ms",
                self.signed_in.argon2.as_secs_f64() * 1000.0
            ),
        ];
        for row in [&self.signed_in.cookie_read, &self.signed_in.bearer_read] {
            lines.push(format!(
                "- {}: {:.0}% of open mode (target 85%): {}",
                row.scenario,
                100.0 * row.ratio(),
                met(row.ratio() >= 0.85)
            ));
        }
        lines.extend(self.live_targets.iter().cloned());
        lines.extend(self.lists_targets.iter().cloned());
        lines.extend(self.caldav_targets.iter().cloned());
        lines.extend(self.compression.targets.iter().cloned());
        lines.extend(self.postgres_targets.iter().cloned());
        lines.extend(self.cluster_targets.iter().cloned());
        lines.push(format!(
            "- `GET /todos/` p99: {:.2} ms (target below 5 ms): {}",
            list.p99_ms,
            met(list.p99_ms < 5.0)
        ));
        lines.push(format!(
            "- `GET /todos/` p99 / p50 = {:.1} (target under 10): {}",
            list.p99_ms / list.p50_ms,
            met(list.p99_ms < 10.0 * list.p50_ms)
        ));
        lines.push(format!(
            "- POST and PUT without non-2xx: {}",
            met(self.writes.post.app.non_2xx == 0 && self.writes.put.app.non_2xx == 0)
        ));
        if let Some(rss) = self.growth.rss_at_10k {
            lines.push(format!(
                "- RSS at 10,000 todos under load: {:.1} MiB (target under 30): {}",
                rss as f64 / 1024.0,
                met(rss < 30 * 1024)
            ));
        }
        lines.push(format!(
            "- start-up to first 200 on a fresh database, migrations included: {:.1} ms (target \
             under 100): {}",
            self.startup.as_secs_f64() * 1000.0,
            met(self.startup < Duration::from_millis(100))
        ));
        lines
    }
}

/// The machine's table: date, CPU, memory, commit and the versions of the tools.
fn machine() -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|model| model.trim().to_owned())
        })
        .unwrap_or_default();
    let memory = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .next()
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<u64>().ok())
        })
        .map_or_else(String::new, |kib| {
            format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0)
        });
    let cores = thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let lines = [
        (
            "date",
            command_version("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        ),
        ("CPU", format!("{cores} x {cpu}")),
        ("memory", memory),
        (
            "commit",
            command_version("git", &["rev-parse", "--short", "HEAD"]),
        ),
        ("rustc", command_version("rustc", &["--version"])),
        ("wrk", command_version("wrk", &["-v"])),
        ("nginx", command_version("/usr/sbin/nginx", &["-v"])),
        (
            "SQLite",
            "WAL, synchronous=NORMAL; the API's writes that arrive together share one immediate \
             transaction (group commit)"
                .to_owned(),
        ),
    ];
    let mut table = String::from("| | |\n|---|---|\n");
    for (name, value) in lines {
        let _ = writeln!(table, "| {name} | {value} |");
    }
    table
}

/// The first line a command prints about its version ("not found" without it).
fn command_version(command: &str, args: &[&str]) -> String {
    Command::new(command)
        .args(args)
        .output()
        .map(|out| {
            let text = if out.stdout.is_empty() {
                out.stderr
            } else {
                out.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_owned()
        })
        .unwrap_or_else(|_| "not found".into())
}

/// Writes the report and the chart where `options` says.
pub fn write(report: &Report, root: &Path, options: &crate::options::Options) {
    let plot_name = options
        .plot
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("benchmark.svg");
    let plot_link = if options.report.parent() == Some(root) {
        format!("docs/{plot_name}")
    } else {
        plot_name.to_owned()
    };
    let analysis = fs::read_to_string(root.join("benches/ANALYSIS.md")).ok();
    let text = report.markdown(&plot_link, analysis.as_deref());
    fs::write(&options.report, &text).expect("write the report");
    fs::write(&options.plot, crate::plot::plot(&report.growth.points)).expect("write the plot");
    println!("{text}");
    eprintln!(
        "wrote {} and {}",
        options.report.display(),
        options.plot.display()
    );
}
