//! The page as people use it: Edit and Delete for a screen reader and for a finger, the old hash
//! addresses on an open page, many quick toggles on a slow server, a page's own deletions, and
//! the site's icon.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::titles;
use crate::helpers::{Backend, spawn_app};
use crate::helpers::{Browser, eventually, page_with, wait_for};

/// A TCP proxy in front of the app that holds back the answers to writes (`POST`, `PUT`, `PATCH`,
/// `DELETE`) by `delay`: a slow server, whose pages, reads and live stream still arrive at once.
/// Connections are kept alive and reused, so each request's method is read as it passes.
struct SlowWrites {
    address: String,
}

impl SlowWrites {
    async fn start(upstream: &str, delay: Duration) -> SlowWrites {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_owned();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    if let Ok(server) = tokio::net::TcpStream::connect(&upstream).await {
                        Self::relay(client, server, delay).await;
                    }
                });
            }
        });
        SlowWrites { address }
    }

    async fn relay(client: tokio::net::TcpStream, server: tokio::net::TcpStream, delay: Duration) {
        let (mut from_client, mut to_client) = client.into_split();
        let (mut from_server, mut to_server) = server.into_split();
        let writing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = writing.clone();
        tokio::spawn(async move {
            let mut chunk = vec![0_u8; 16384];
            loop {
                let read = match from_client.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(read) => read,
                };
                let request = &chunk[..read];
                let is_write = ["POST ", "PUT ", "PATCH ", "DELETE "]
                    .iter()
                    .any(|method| request.starts_with(method.as_bytes()));
                let is_request =
                    is_write || request.starts_with(b"GET ") || request.starts_with(b"HEAD ");
                if is_request {
                    seen.store(is_write, std::sync::atomic::Ordering::SeqCst);
                }
                if to_server.write_all(request).await.is_err() {
                    return;
                }
            }
        });
        let mut chunk = vec![0_u8; 16384];
        loop {
            let read = match from_server.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(read) => read,
            };
            if writing.load(std::sync::atomic::Ordering::SeqCst) {
                tokio::time::sleep(delay).await;
            }
            if to_client.write_all(&chunk[..read]).await.is_err() {
                return;
            }
        }
    }
}

/// Every announcement the page makes, from the moment this is called.
async fn record_announcements(b: &Browser) {
    b.run(
        "window.announced = [];
         new MutationObserver(() => {
           const text = document.querySelector('.announcer').textContent;
           if (text) { window.announced.push(text); }
         }).observe(document.querySelector('.announcer'),
           { childList: true, characterData: true, subtree: true });",
    )
    .await;
}

/// The accessibility tree's names of the buttons and links that are not ignored.
async fn accessible_controls(b: &Browser) -> Vec<String> {
    let tree = b.devtools("Accessibility.getFullAXTree", json!({})).await;
    tree["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|node| node["ignored"] != json!(true))
        .filter(|node| {
            matches!(
                node["role"]["value"].as_str(),
                Some("button" | "link" | "checkbox")
            )
        })
        .filter_map(|node| node["name"]["value"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn edit_and_delete_are_in_the_accessibility_tree_without_hover_or_focus() {
    let app = spawn_app(Backend::Sqlite).await;
    for title in ["one", "two"] {
        app.create(json!({ "title": title })).await;
    }
    for javascript in [true, false] {
        let Some(b) = Browser::open_with(&app, "a11y_tree", javascript).await else {
            return;
        };
        // Focus and pointer are elsewhere: on the new-todo field, nowhere near the list.
        b.find(".new-todo").await.click().await.unwrap();
        let controls = accessible_controls(&b).await;
        for title in ["one", "two"] {
            for name in [format!("Delete “{title}”"), format!("Edit “{title}”")] {
                assert!(
                    controls.contains(&name),
                    "{name} is not in the accessibility tree (JavaScript {javascript}): {controls:?}"
                );
            }
        }
        b.close().await;
    }
}

impl Browser {
    /// A phone: 375 CSS px wide, touch input, no hover; the page loaded again under it.
    async fn as_phone(&self) {
        self.devtools(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 375, "height": 740, "deviceScaleFactor": 2, "mobile": true}),
        )
        .await;
        self.devtools(
            "Emulation.setTouchEmulationEnabled",
            json!({"enabled": true, "maxTouchPoints": 5}),
        )
        .await;
        self.devtools(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "hover", "value": "none"},
                                {"name": "any-hover", "value": "none"},
                                {"name": "pointer", "value": "coarse"}]}),
        )
        .await;
        self.reload().await;
    }

    /// The centre of the element matching `css` inside the todo titled `title` (or on the page,
    /// with no title), scrolled into view, in CSS px of the viewport.
    async fn centre(&self, title: Option<&str>, css: &str) -> (f64, f64, Value) {
        let rect = self
            .client
            .execute(
                "const [title, css] = arguments;
                 const scope = title === null ? document : [...document.querySelectorAll(
                   '.todo-list li')].find((li) => li.querySelector('label').textContent === title);
                 const el = scope && scope.querySelector(css);
                 if (!el) { return null; }
                 el.scrollIntoView({ block: 'center' });
                 const r = el.getBoundingClientRect();
                 const x = r.left + r.width / 2, y = r.top + r.height / 2;
                 return { x, y, width: r.width, height: r.height,
                          opacity: getComputedStyle(el).opacity,
                          onTop: el.contains(document.elementFromPoint(x, y)) };",
                vec![json!(title), json!(css)],
            )
            .await
            .expect("script runs");
        assert!(!rect.is_null(), "no {css} for {title:?}");
        (
            rect["x"].as_f64().unwrap(),
            rect["y"].as_f64().unwrap(),
            rect,
        )
    }

    /// A tap with one finger on the element (touch events only, no mouse, no hover).
    async fn tap(&self, title: Option<&str>, css: &str) {
        let (x, y, _) = self.centre(title, css).await;
        self.devtools(
            "Input.dispatchTouchEvent",
            json!({"type": "touchStart", "touchPoints": [{"x": x, "y": y}]}),
        )
        .await;
        self.devtools(
            "Input.dispatchTouchEvent",
            json!({"type": "touchEnd", "touchPoints": []}),
        )
        .await;
    }

    /// Types into whatever has the focus (the field a tap focused).
    async fn type_here(&self, text: &str) {
        self.client
            .active_element()
            .await
            .expect("a focused element")
            .send_keys(text)
            .await
            .expect("typing");
    }
}

#[tokio::test]
async fn on_a_phone_everything_is_done_by_tapping() {
    let Some((app, b)) = page_with("phone", &[]).await else {
        return;
    };
    b.as_phone().await;
    assert_eq!(
        b.run("return [innerWidth, matchMedia('(hover: none)').matches]")
            .await,
        json!([375, true])
    );
    for title in ["Buy milk", "Walk the dog", "Call mom"] {
        b.tap(None, ".new-todo").await;
        b.type_here(&format!("{title}{}", crate::helpers::ENTER))
            .await;
        eventually!(
            titles(&app.rows()).contains(&title),
            "{title:?} was not added"
        );
    }
    // Edit and Delete are seen and big enough to tap, on every todo, with nothing hovered.
    for title in ["Buy milk", "Walk the dog", "Call mom"] {
        for css in [".edit-link", ".destroy"] {
            let (_, _, rect) = b.centre(Some(title), css).await;
            assert_eq!(
                rect["opacity"], "1",
                "{css} of {title:?} is not seen: {rect}"
            );
            assert!(
                rect["width"].as_f64().unwrap() >= 44.0 && rect["height"].as_f64().unwrap() >= 44.0,
                "{css} of {title:?} is smaller than 44 x 44: {rect}"
            );
            assert_eq!(rect["onTop"], true, "{css} of {title:?} is covered: {rect}");
        }
    }
    // The footer's hint is for fingers.
    let hint = b
        .run("return [...document.querySelectorAll('.info p')].filter((p) => p.getClientRects().length).map((p) => p.textContent)")
        .await;
    assert!(
        hint.to_string().contains("Tap") && !hint.to_string().contains("Double-click"),
        "{hint}"
    );

    // Edit: tap Edit, retype, Enter.
    b.tap(Some("Walk the dog"), ".edit-link").await;
    eventually!(
        b.state().await["editing"] == 1,
        "no edit field after tapping Edit"
    );
    b.type_here(&format!(
        "{}Walk the cat{}",
        crate::helpers::SELECT_ALL_AND_DELETE,
        crate::helpers::ENTER
    ))
    .await;
    eventually!(
        titles(&app.rows()) == ["Buy milk", "Walk the cat", "Call mom"],
        "not renamed: {:?}",
        app.rows()
    );
    // Toggle.
    b.tap(Some("Buy milk"), ".toggle").await;
    eventually!(app.rows()[0].completed, "not completed");
    // Delete.
    b.tap(Some("Call mom"), ".destroy").await;
    eventually!(
        titles(&app.rows()) == ["Buy milk", "Walk the cat"],
        "not deleted: {:?}",
        app.rows()
    );
    // Clear completed.
    b.tap(None, ".clear-completed").await;
    eventually!(
        titles(&app.rows()) == ["Walk the cat"],
        "completed not cleared: {:?}",
        app.rows()
    );
    eventually!(
        b.state().await["visible"] == json!(["Walk the cat"]),
        "the page shows {}",
        b.state().await
    );
    b.close().await;
}

#[tokio::test]
async fn a_hash_address_on_an_open_page_picks_the_filter() {
    let Some((_app, b)) = page_with(
        "hash_routes",
        &[
            json!({"title": "active one"}),
            json!({"title": "done one", "completed": true}),
        ],
    )
    .await
    else {
        return;
    };
    // Typed into the address bar of the open page: only the hash changes.
    b.goto("/#/active").await;
    eventually!(
        b.state().await["visible"] == json!(["active one"]),
        "#/active did nothing: {}",
        b.state().await
    );
    assert_eq!(b.state().await["selected"], json!(["Active"]));
    assert_eq!(
        b.current_path().await,
        "/active",
        "the address is the filter's own"
    );
    b.run("location.hash = '#/completed'").await;
    eventually!(
        b.state().await["visible"] == json!(["done one"]),
        "#/completed did nothing"
    );
    assert_eq!(b.current_path().await, "/completed");
    b.run("location.hash = '#/'").await;
    eventually!(
        b.state().await["visible"] == json!(["active one", "done one"]),
        "#/ did nothing"
    );
    assert_eq!(b.state().await["selected"], json!(["All"]));
    assert_eq!(b.current_path().await, "/");
    assert_eq!(
        b.run("return performance.getEntriesByType('navigation').length")
            .await,
        json!(1),
        "the page was not loaded again"
    );
    b.close().await;
}

#[tokio::test]
async fn toggle_all_ten_times_on_a_slow_server_ends_as_the_page_shows() {
    let app = spawn_app(Backend::Sqlite).await;
    let todos = ["a", "b", "c"];
    for title in todos {
        app.create(json!({ "title": title })).await;
    }
    let proxy = SlowWrites::start(&app.address, Duration::from_millis(300)).await;
    let Some(b) = Browser::open_at(&app, "toggle_all_race", &proxy.address).await else {
        return;
    };
    // A browser without Web Locks (Safari before 15.4), which cannot tell this page's own saved
    // changes from those of a page that has gone.
    b.devtools(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({"source": "delete Navigator.prototype.locks;"}),
    )
    .await;
    b.reload().await;
    eventually!(
        b.state().await["visible"].as_array().map_or(0, Vec::len) == todos.len(),
        "the page did not load"
    );
    // And a busy machine, whose IndexedDB reads take a while: a look for such changes that began
    // before an answer came ends after it.
    b.run(
        "const load = app.Store.prototype.load;
         app.Store.prototype.load = function () {
           return load.call(this).then((kept) => new Promise((done) => setTimeout(() => done(kept), 300)));
         };",
    )
    .await;
    // Ten clicks: two quick ones (the second waits for the first's answer), the connection coming
    // back meanwhile (`online`: the queue looks for changes a gone page left), one more once the
    // second is saved, and seven quick ones.
    b.run(
        "const click = () => document.querySelector('.toggle-all').click();
         const pause = (ms) => new Promise((done) => setTimeout(done, ms));
         return (async () => {
           click();
           await pause(50);
           click();
           await pause(50);
           window.dispatchEvent(new Event('online'));
           await pause(550);
           click();
           for (let i = 0; i < 7; i++) {
             await pause(50);
             click();
           }
         })();",
    )
    .await;
    // Ten times from all active: all active again, as the page shows at once.
    assert_eq!(b.state().await["completed"], json!([]));
    wait_for!(
        20_000,
        b.state().await["pending"] == json!([]) && b.state().await["status"].is_null(),
        "the queue never emptied: {}",
        b.state().await
    );
    let shown = b.state().await["completed"].clone();
    let server = app.get_json("/todos/").await;
    let on_server: Vec<&str> = server
        .as_array()
        .unwrap()
        .iter()
        .filter(|todo| todo["completed"] == json!(true))
        .map(|todo| todo["title"].as_str().unwrap())
        .collect();
    assert_eq!(shown, json!(on_server), "the page and the server disagree");
    assert_eq!(on_server, Vec::<&str>::new());
    b.reload().await;
    eventually!(
        b.state().await["visible"].as_array().map_or(0, Vec::len) == todos.len(),
        "the page did not load"
    );
    assert_eq!(b.state().await["completed"], json!([]), "after a reload");
    b.close().await;
}

#[tokio::test]
async fn a_pages_own_deletions_are_never_announced_as_made_elsewhere() {
    let app = spawn_app(Backend::Sqlite).await;
    for (title, completed) in [
        ("Alpha", false),
        ("Bravo", true),
        ("Charlie", true),
        ("Delta", false),
    ] {
        app.create(json!({ "title": title, "completed": completed }))
            .await;
    }
    // Writes are answered late; the live stream's deletions arrive first.
    let proxy = SlowWrites::start(&app.address, Duration::from_millis(1500)).await;
    let Some(b) = Browser::open_at(&app, "own_deletions", &proxy.address).await else {
        return;
    };
    // The stream is open: a change from elsewhere shows.
    app.create(json!({"title": "Echo"})).await;
    eventually!(
        b.state().await["visible"].to_string().contains("Echo"),
        "the live stream is not open"
    );
    record_announcements(&b).await;
    b.find(".clear-completed").await.click().await.unwrap();
    b.delete("Delta").await;
    eventually!(
        titles(&app.rows()) == ["Alpha", "Echo"],
        "not deleted: {:?}",
        app.rows()
    );
    wait_for!(
        10_000,
        b.state().await["pending"] == json!([]) && b.state().await["status"].is_null(),
        "the answers never came"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let announced = b.run("return window.announced").await;
    assert!(
        !announced.to_string().contains("deleted elsewhere"),
        "the page's own deletions were announced as someone else's: {announced}"
    );
    // Someone else's deletion still is announced.
    let other = app.get_json("/todos/").await;
    let id = other[0]["id"].as_i64().unwrap();
    let gone = app
        .client
        .delete(app.url(&format!("/todos/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    eventually!(
        b.run("return window.announced")
            .await
            .to_string()
            .contains("“Alpha” was deleted elsewhere"),
        "another's deletion was not announced: {}",
        b.run("return window.announced").await
    );
    b.close().await;
}

#[tokio::test]
async fn the_site_has_an_icon() {
    let app = spawn_app(Backend::Sqlite).await;
    let icon = app
        .anonymous
        .get(app.url("/favicon.ico"))
        .send()
        .await
        .unwrap();
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/x-icon");
    let bytes = icon.bytes().await.unwrap();
    assert_eq!(&bytes[..4], [0, 0, 1, 0], "an ICO file");
    let Some(b) = Browser::open(&app, "favicon").await else {
        return;
    };
    // The page names it, and the browser gets it from where the page says.
    let fetched = b
        .run(
            "return (async () => {
               const href = document.querySelector('link[rel=icon]').getAttribute('href');
               const response = await fetch(href);
               return [href, response.status, response.headers.get('content-type')];
             })();",
        )
        .await;
    assert_eq!(fetched, json!(["/favicon.ico", 200, "image/x-icon"]));
    b.close().await;
}
