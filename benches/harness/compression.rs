//! Compressed reads: the page and the list (100 todos) with `Accept-Encoding: br` against the same
//! reads without it, and with `gzip` against nginx serving the same gzip bytes precompressed
//! (`gzip_static`); and the sizes of each form.

use crate::http::http_with;
use crate::row::Row;
use crate::scenarios::Bench;
use crate::wrk::{lua, lua_with_headers, wrk};

/// What was measured: rows for the results table, the sizes, and the targets' lines.
pub struct Compression {
    pub rows: Vec<Row>,
    pub sizes: Vec<String>,
    pub targets: Vec<String>,
}

/// The body `path` answers with `accept` (`None`: no `Accept-Encoding`), checked to be in that
/// coding.
fn body(bench: &Bench, path: &str, accept: Option<&str>) -> Vec<u8> {
    let header = accept.map_or(String::new(), |coding| {
        format!("Accept-Encoding: {coding}\r\n")
    });
    let (status, head, body) =
        http_with(bench.server.port, "GET", path, &header, None).expect("a read");
    assert_eq!(status, 200, "GET {path}");
    let coded = head.to_lowercase().contains("content-encoding:");
    assert_eq!(
        coded,
        accept.is_some(),
        "GET {path} with {accept:?}:\n{head}"
    );
    body
}

/// The scenarios, on the server's 100 todos (seeded by `reads`); `identity` holds the list's and
/// the page's plain reads of this run.
pub fn scenarios(bench: &Bench, identity: [&Row; 2]) -> Compression {
    let mut out = Compression {
        rows: Vec::new(),
        sizes: vec![
            "| answer (100 todos) | identity | br | gzip | br / identity |".to_owned(),
            "|---|---:|---:|---:|---:|".to_owned(),
        ],
        targets: Vec::new(),
    };
    for ((name, path, file), plain) in [
        ("GET /todos/", "/todos/", "todos-100"),
        ("GET /", "/", "page"),
    ]
    .into_iter()
    .zip(identity)
    {
        let sizes = [None, Some("br"), Some("gzip")].map(|accept| body(bench, path, accept).len());
        let share = sizes[1] as f64 / sizes[0] as f64;
        out.sizes.push(format!(
            "| `{name}` | {} B | {} B | {} B | {:.1}% |",
            sizes[0],
            sizes[1],
            sizes[2],
            100.0 * share
        ));
        if path == "/" {
            out.targets.push(format!(
                "- the page with 100 todos in brotli: {:.1}% of its identity size (target at most 15%): {}",
                100.0 * share,
                crate::row::met(share <= 0.15)
            ));
        }
        for coding in ["br", "gzip"] {
            let scenario = format!("2z. {name} (100 todos), Accept-Encoding: {coding}");
            eprintln!("{scenario}");
            let script = lua(
                bench.scripts,
                &format!("accept-{coding}-{file}.lua"),
                &lua_with_headers("GET", &[("Accept-Encoding", coding.to_owned())], None),
            );
            let load = wrk(
                &bench.server.url(path),
                Some(&script),
                bench.seconds,
                bench.pid(),
            );
            let row = if coding == "br" {
                Row::new(scenario, load)
                    .against("identity, this run", plain.app.requests_per_second)
                    .target(0.8)
            } else {
                let gzipped = body(bench, path, Some("gzip"));
                let url = bench
                    .nginx
                    .serve_gzip(file, &body(bench, path, None), &gzipped);
                let ceiling = wrk(&url, Some(&script), bench.seconds, None);
                Row::new(scenario, load)
                    .against("nginx gzip_static, same bytes", ceiling.requests_per_second)
                    .target(0.6)
            };
            out.rows.push(row);
        }
    }
    out
}
