//! Compressed answers: the kept list (JSON and page) and static text files in brotli or gzip for
//! clients that accept them, each form with its own ETag and 304, `Vary: Accept-Encoding`;
//! identity answers as before; live streams never compressed.

use std::io::Read as _;

use serde_json::json;

use crate::helpers::{Backend, TestApp, on_both_engines, spawn_app};

fn decode(coding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "br" => brotli::Decompressor::new(body, 4096)
            .read_to_end(&mut out)
            .expect("brotli"),
        "gzip" => flate2::read::GzDecoder::new(body)
            .read_to_end(&mut out)
            .expect("gzip"),
        other => panic!("no such coding {other}"),
    };
    out
}

struct Got {
    status: u16,
    coding: Option<String>,
    etag: String,
    vary: String,
    body: Vec<u8>,
}

async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Got {
    let mut request = app.client.get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
    };
    Got {
        status: response.status().as_u16(),
        coding: header("content-encoding"),
        etag: header("etag").unwrap_or_default(),
        vary: header("vary").unwrap_or_default(),
        body: response.bytes().await.unwrap().to_vec(),
    }
}

/// `path` in each coding: the same bytes as identity, a tag of its own, and its own 304.
async fn each_coding_is_the_same_representation(app: &TestApp, path: &str) {
    let identity = get(app, path, &[]).await;
    assert_eq!(identity.status, 200);
    assert_eq!(identity.coding, None);
    assert!(
        identity.vary.contains("Accept-Encoding"),
        "{}",
        identity.vary
    );
    for (coding, suffix) in [("br", "-br\""), ("gzip", "-gz\"")] {
        let accept = format!("{coding}, deflate");
        let got = get(app, path, &[("accept-encoding", &accept)]).await;
        assert_eq!(got.status, 200, "{path} {coding}");
        assert_eq!(got.coding.as_deref(), Some(coding));
        assert!(got.vary.contains("Accept-Encoding"), "{}", got.vary);
        assert!(got.etag.ends_with(suffix), "{path} {coding}: {}", got.etag);
        assert_ne!(got.etag, identity.etag);
        if path.starts_with("/todos/") || path == "/" {
            // A kept list's forms are tagged from its own tag.
            assert_eq!(
                got.etag,
                format!("{}{suffix}", identity.etag.trim_end_matches('"')),
                "{path} {coding}"
            );
        }
        assert!(got.body.len() < identity.body.len());
        assert_eq!(decode(coding, &got.body), identity.body, "{path} {coding}");
        let again = get(
            app,
            path,
            &[("accept-encoding", &accept), ("if-none-match", &got.etag)],
        )
        .await;
        assert_eq!(again.status, 304, "{path} {coding}");
        assert_eq!(again.etag, got.etag);
        // The identity tag names another representation: the whole body again.
        let other = get(
            app,
            path,
            &[
                ("accept-encoding", &accept),
                ("if-none-match", &identity.etag),
            ],
        )
        .await;
        assert_eq!(other.status, 200, "{path} {coding}");
    }
}

async fn the_kept_list_goes_compressed_to_clients_that_accept_it(backend: Backend) {
    let app = spawn_app(backend).await;
    for n in 0..30 {
        app.create(json!({"title": format!("Todo number {n}"), "completed": n % 3 == 0}))
            .await;
    }
    each_coding_is_the_same_representation(&app, "/todos/").await;
    each_coding_is_the_same_representation(&app, "/").await;

    // A change makes new forms of the new list.
    let before = get(&app, "/todos/", &[("accept-encoding", "br")]).await;
    app.create(json!({"title": "One more"})).await;
    let after = get(&app, "/todos/", &[("accept-encoding", "br")]).await;
    assert_ne!(after.etag, before.etag);
    let list: serde_json::Value = serde_json::from_slice(&decode("br", &after.body)).unwrap();
    assert_eq!(list.as_array().map(Vec::len), Some(31));

    // Without the header, or refusing both codings, the answer is what it always was.
    let refused = get(&app, "/todos/", &[("accept-encoding", "br;q=0, gzip;q=0")]).await;
    assert_eq!(refused.coding, None);
    assert_eq!(refused.body, get(&app, "/todos/", &[]).await.body);
}

async fn static_text_files_go_compressed_and_others_as_they_are(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in [
        "/static/js/app.js",
        "/static/css/app.css",
        "/static/vendor/backbone-1.6.1/backbone.js",
    ] {
        each_coding_is_the_same_representation(&app, path).await;
        let file = std::fs::read(format!("{}{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert_eq!(get(&app, path, &[]).await.body, file, "{path}");
    }
    let vendor = app
        .client
        .get(app.url("/static/vendor/backbone-1.6.1/backbone.js"))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(
        vendor.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let icon = get(&app, "/favicon.ico", &[("accept-encoding", "br, gzip")]).await;
    assert_eq!((icon.status, icon.coding), (200, None));
    let missing = get(&app, "/static/js/nothing.js", &[("accept-encoding", "br")]).await;
    assert_eq!(missing.status, 404);
}

async fn live_streams_are_never_compressed(backend: Backend) {
    let app = spawn_app(backend).await;
    let stream = app
        .client
        .get(app.url("/todos/events"))
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers().get("content-encoding"), None);
}

on_both_engines!(
    the_kept_list_goes_compressed_to_clients_that_accept_it,
    static_text_files_go_compressed_and_others_as_they_are,
    live_streams_are_never_compressed,
);
