//! The TodoMVC page in real headless Chromium, driven over WebDriver against the real server.
//!
//! Needs Debian's `chromium` and `chromium-driver` (or CHROMIUM / CHROMEDRIVER naming the binaries).
//! Without them these tests skip with a message, except under CI=true, where they fail.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::helpers::{Backend, TestApp, spawn_app};

const ENTER: &str = "\u{E007}";
const ESCAPE: &str = "\u{E00C}";
/// Ctrl+A, then Backspace: empties a field the way a person does. (WebDriver's own clear also
/// blurs the field, which saves the edit.)
const SELECT_ALL_AND_DELETE: &str = "\u{E009}a\u{E009}\u{E003}";

/// Waits up to five seconds for a condition that may contain `.await`.
macro_rules! eventually {
    ($cond:expr, $($msg:tt)+) => {
        wait_for!(5000, $cond, $($msg)+)
    };
}

/// Waits up to `$millis` for a condition that may contain `.await`, checking every 25 ms.
macro_rules! wait_for {
    ($millis:expr, $cond:expr, $($msg:tt)+) => {{
        let deadline = Instant::now() + Duration::from_millis($millis);
        loop {
            if $cond {
                break;
            }
            if Instant::now() > deadline {
                panic!($($msg)+);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }};
}

fn binary(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// Chromium and ChromeDriver, or `None` (with a loud message) where they are missing outside CI.
fn browser_binaries(test: &str) -> Option<(PathBuf, PathBuf)> {
    let chromium = binary("CHROMIUM", "/usr/bin/chromium");
    let driver = binary("CHROMEDRIVER", "/usr/bin/chromedriver");
    if chromium.exists() && driver.exists() {
        return Some((chromium, driver));
    }
    let message = format!(
        "browser test {test} needs {} and {}: install them with \
         `apt-get install chromium chromium-driver`, or set CHROMIUM and CHROMEDRIVER",
        chromium.display(),
        driver.display()
    );
    crate::helpers::skip(&message);
    None
}

/// ChromeDriver in a process group of its own, so that dropping it also ends the browser it
/// started, even when a test panics.
struct Driver {
    process: Child,
    port: u16,
}

impl Driver {
    fn start(path: &PathBuf) -> Driver {
        use std::os::unix::process::CommandExt;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("free port")
            .port();
        let process = Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Driver { process, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.process.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.process.wait();
    }
}

/// ChromeDriver's endpoint for Chrome DevTools Protocol commands.
#[derive(Debug)]
struct DevTools {
    body: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

pub struct Browser {
    client: Client,
    base: String,
    _driver: Driver,
    _profile: TempDir,
}

impl Browser {
    /// A fresh headless Chromium on the app's page, or `None` where there is no browser.
    async fn open(app: &TestApp, test: &str) -> Option<Browser> {
        Self::open_with(app, test, true).await
    }

    /// A browser signed in as the app's user, on the page at `base` (a proxy in front of the app).
    async fn open_at(app: &TestApp, test: &str, base: &str) -> Option<Browser> {
        Self::open(&app.at(base), test).await
    }

    async fn open_with(app: &TestApp, test: &str, javascript: bool) -> Option<Browser> {
        Self::start(app, test, javascript, false).await
    }

    /// JavaScript on, but the pages' own scripts never load: the pages exactly as a browser
    /// without JavaScript shows them, with scripts left for the test to run (axe, say).
    async fn open_without_page_scripts(app: &TestApp, test: &str) -> Option<Browser> {
        Self::start(app, test, true, true).await
    }

    async fn start(
        app: &TestApp,
        test: &str,
        javascript: bool,
        block_scripts: bool,
    ) -> Option<Browser> {
        let (chromium, driver_path) = browser_binaries(test)?;
        let driver = Driver::start(&driver_path);
        let profile = tempfile::tempdir().expect("profile dir");
        let mut options = json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                "--window-size=1000,800",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        });
        if !javascript {
            options["prefs"] = json!({"profile.managed_default_content_settings.javascript": 2});
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .expect("a WebDriver session");
        let browser = Browser {
            client,
            base: app.address.clone(),
            _driver: driver,
            _profile: profile,
        };
        if block_scripts {
            browser.devtools("Network.enable", json!({})).await;
            browser
                .devtools("Network.setBlockedURLs", json!({"urls": ["*.js"]}))
                .await;
        }
        // Signed in as the app's test user, through the sign-in form as a person would.
        if app.user.is_some() {
            browser.goto("/login").await;
            browser
                .submit_account_form("alice", crate::helpers::PASSWORD)
                .await;
            eventually!(browser.current_path().await == "/", "alice did not get in");
            return Some(browser);
        }
        browser.goto("/").await;
        Some(browser)
    }

    /// A fresh browser with no session, on the sign-in page.
    async fn signed_out(app: &TestApp, test: &str) -> Option<Browser> {
        Self::open(&app.signed_out(), test).await
    }

    /// A Chrome DevTools Protocol command, through ChromeDriver.
    async fn devtools(&self, command: &str, params: Value) -> Value {
        self.client
            .issue_cmd(DevTools {
                body: json!({"cmd": command, "params": params}),
            })
            .await
            .unwrap_or_else(|err| panic!("{command}: {err}"))
    }

    async fn current_path(&self) -> String {
        let url = self.client.current_url().await.expect("url");
        let mut path = url.path().to_owned();
        if let Some(query) = url.query() {
            path = format!("{path}?{query}");
        }
        if let Some(fragment) = url.fragment() {
            path = format!("{path}#{fragment}");
        }
        path
    }

    /// Fills in a sign-in or sign-up form and submits it with Enter.
    async fn submit_account_form(&self, username: &str, password: &str) {
        self.find("#username")
            .await
            .send_keys(username)
            .await
            .expect("typing");
        self.find("#password")
            .await
            .send_keys(&format!("{password}{ENTER}"))
            .await
            .expect("typing");
    }

    async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("page loads");
    }

    async fn reload(&self) {
        self.client.refresh().await.expect("reload");
    }

    async fn find(&self, css: &str) -> Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|err| panic!("no {css}: {err}"))
    }

    async fn run(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .expect("script runs")
    }

    /// What the page shows, read in one go.
    async fn state(&self) -> Value {
        self.run(
            r#"
            const q = (s) => document.querySelector(s);
            const shown = (el) => !!el && el.getClientRects().length > 0;
            const items = [...document.querySelectorAll('.todo-list li')];
            return {
              visible: items.filter(shown).map((li) => li.querySelector('label').textContent),
              completed: items.filter((li) => li.classList.contains('completed'))
                .map((li) => li.querySelector('label').textContent),
              editing: items.filter((li) => li.classList.contains('editing')).length,
              count: shown(q('.todo-count')) ? q('.todo-count').innerHTML : null,
              main: shown(q('.main')),
              footer: shown(q('.footer')),
              toggleAll: q('.toggle-all').getAttribute('aria-checked') === 'true',
              clearCompleted: shown(q('.clear-completed')),
              selected: [...document.querySelectorAll('.filters a.selected')].map((a) => a.textContent),
              error: shown(q('.sync-error')) ? q('.sync-error-message').textContent : null,
              newTodo: q('.new-todo').value,
              focused: document.activeElement && document.activeElement.className,
              pending: items.filter((li) => li.classList.contains('pending'))
                .map((li) => li.querySelector('label').textContent),
              status: shown(q('.sync-status')) ? q('.sync-status').textContent : null,
              conflicts: [...document.querySelectorAll('.conflict')].filter(shown).map((c) => ({
                mine: c.querySelector('.conflict-mine .conflict-text').textContent,
                theirs: c.querySelector('.conflict-theirs .conflict-text').textContent,
              })),
            };
            "#,
        )
        .await
    }

    /// Adds a todo and waits until the server has it (the page shows it as saved).
    async fn add(&self, title: &str) {
        self.add_offline(title).await;
        eventually!(
            self.state().await["pending"] == json!([]),
            "{title:?} was never saved: {}",
            self.state().await
        );
    }

    /// Adds a todo and waits until the page shows it, saved or not.
    async fn add_offline(&self, title: &str) {
        let before = self.state().await["visible"].as_array().map_or(0, Vec::len);
        let input = self.find(".new-todo").await;
        input
            .send_keys(&format!("{title}{ENTER}"))
            .await
            .expect("typing");
        eventually!(
            self.state().await["visible"].as_array().map_or(0, Vec::len) > before,
            "{title:?} never appeared"
        );
    }

    /// The `<li>` whose label is `title` (titles in these tests have no quotes).
    async fn item(&self, title: &str) -> Element {
        let xpath = format!("//ul[@class='todo-list']/li[.//label[text()='{title}']]");
        self.client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|err| panic!("no todo titled {title:?}: {err}"))
    }

    /// Clicks the checkbox of the todo titled `title`. Every save redraws the item, so a click
    /// that lands on an element just replaced is tried again on the new one.
    async fn toggle(&self, title: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let xpath = format!("//ul[@class='todo-list']/li[.//label[text()='{title}']]");
        loop {
            // The item itself gone: an earlier click went through and took the page elsewhere
            // (to the sign-in page, say).
            let Ok(item) = self.client.find(Locator::XPath(&xpath)).await else {
                return;
            };
            let clicked = match item.find(Locator::Css(".toggle")).await {
                Ok(toggle) => toggle.click().await.is_ok(),
                Err(_) => false,
            };
            if clicked {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "could not click the checkbox of {title:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Real pointer input: moves onto `element` (hovering it) and clicks `clicks` times.
    async fn pointer(&self, element: &Element, clicks: usize) {
        let mut mouse = MouseActions::new("mouse".into()).then(PointerAction::MoveToElement {
            element: element.clone(),
            duration: None,
            x: 0.0,
            y: 0.0,
        });
        for _ in 0..clicks {
            mouse = mouse
                .then(PointerAction::Down {
                    button: MOUSE_BUTTON_LEFT,
                })
                .then(PointerAction::Up {
                    button: MOUSE_BUTTON_LEFT,
                });
        }
        self.client.perform_actions(mouse).await.expect("pointer");
        self.client.release_actions().await.expect("release");
    }

    async fn double_click_title(&self, title: &str) -> Element {
        let li = self.item(title).await;
        let label = li.find(Locator::Css("label")).await.unwrap();
        self.pointer(&label, 2).await;
        eventually!(
            self.state().await["editing"] == 1,
            "{title:?} did not go into editing"
        );
        li.find(Locator::Css(".edit")).await.unwrap()
    }

    /// Renames a todo the way a person does: double-click, retype, Enter.
    async fn rename(&self, title: &str, new_title: &str) {
        let field = self.double_click_title(title).await;
        field
            .send_keys(&format!("{SELECT_ALL_AND_DELETE}{new_title}{ENTER}"))
            .await
            .expect("typing");
        eventually!(
            self.state().await["editing"] == 0,
            "{title:?} stayed in editing"
        );
    }

    /// Deletes a todo with its destroy button (which shows on hover).
    async fn delete(&self, title: &str) {
        let li = self.item(title).await;
        self.pointer(&li, 0).await;
        let destroy = li.find(Locator::Css(".destroy")).await.expect("a button");
        self.pointer(&destroy, 1).await;
        eventually!(
            !self.state().await["visible"]
                .as_array()
                .is_some_and(|titles| titles.iter().any(|shown| shown == title)),
            "{title:?} was not deleted"
        );
    }

    /// Waits until the service worker controls the page and has kept the page for offline use.
    async fn kept_for_offline(&self) {
        eventually!(
            self.run(
                "return (async () => !!navigator.serviceWorker.controller
                   && !!(await caches.match('/'))
                   && !!(await caches.match('/static/js/app.js')))();"
            )
            .await
                == json!(true),
            "the service worker did not keep the page"
        );
    }

    /// The count of XHR requests the page has made, by URL.
    async fn xhr_requests(&self) -> Vec<String> {
        let entries = self
            .run(
                "return performance.getEntriesByType('resource')
                   .filter((e) => e.initiatorType === 'xmlhttprequest').map((e) => e.name);",
            )
            .await;
        serde_json::from_value(entries).unwrap()
    }

    async fn close(self) {
        let _ = self.client.close().await;
    }
}

fn titles(rows: &[crate::helpers::Row]) -> Vec<&str> {
    rows.iter().map(|row| row.title.as_str()).collect()
}

#[tokio::test]
async fn new_todo_on_enter_trimmed_and_saved() {
    let app = spawn_app(Backend::Sqlite).await;
    let Some(browser) = Browser::open(&app, "new_todo_on_enter").await else {
        return;
    };
    let state = browser.state().await;
    assert_eq!(state["focused"], "new-todo", "the input has focus on load");
    assert_eq!(
        (state["main"].clone(), state["footer"].clone()),
        (json!(false), json!(false))
    );

    browser.add("  Buy milk  ").await;
    let state = browser.state().await;
    assert_eq!(state["visible"], json!(["Buy milk"]));
    assert_eq!(state["newTodo"], "", "input cleared");
    assert_eq!(
        (state["main"].clone(), state["footer"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(titles(&app.rows()), ["Buy milk"]);

    // Blank input: nothing is sent or shown.
    let input = browser.find(".new-todo").await;
    input.send_keys(&format!("   {ENTER}")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(browser.state().await["visible"], json!(["Buy milk"]));
    assert_eq!(app.rows().len(), 1);

    browser.add("Walk the dog").await;
    assert_eq!(
        browser.state().await["visible"],
        json!(["Buy milk", "Walk the dog"])
    );
    assert_eq!(titles(&app.rows()), ["Buy milk", "Walk the dog"]);
    browser.close().await;
}

#[tokio::test]
async fn toggle_one_and_the_counter() {
    let app = spawn_app(Backend::Sqlite).await;
    let Some(browser) = Browser::open(&app, "toggle_one").await else {
        return;
    };
    assert_eq!(browser.state().await["footer"], false);
    browser.add("one").await;
    assert_eq!(
        browser.state().await["count"],
        "<strong>1</strong> item left"
    );
    browser.add("two").await;
    let state = browser.state().await;
    assert_eq!(state["count"], "<strong>2</strong> items left");
    assert_eq!(state["clearCompleted"], false);

    browser.toggle("one").await;
    eventually!(app.rows()[0].completed, "toggle not saved");
    let state = browser.state().await;
    assert_eq!(state["completed"], json!(["one"]));
    assert_eq!(state["count"], "<strong>1</strong> item left");
    assert_eq!(state["clearCompleted"], true);

    browser.toggle("two").await;
    eventually!(app.rows()[1].completed, "toggle not saved");
    assert_eq!(
        browser.state().await["count"],
        "<strong>0</strong> items left"
    );

    // Each save redraws the item, so find the checkbox again.
    browser.toggle("two").await;
    eventually!(!app.rows()[1].completed, "untoggle not saved");
    assert_eq!(browser.state().await["completed"], json!(["one"]));
    browser.close().await;
}

#[tokio::test]
async fn toggle_all_and_its_checkbox_tracks_the_state() {
    let app = spawn_app(Backend::Sqlite).await;
    for title in ["a", "b", "c"] {
        app.create(json!({"title": title})).await;
    }
    let Some(browser) = Browser::open(&app, "toggle_all").await else {
        return;
    };
    assert_eq!(browser.state().await["toggleAll"], false);
    let label = browser.find(".toggle-all + label").await;
    label.click().await.unwrap();
    eventually!(
        app.rows().iter().all(|row| row.completed),
        "not all completed"
    );
    let state = browser.state().await;
    assert_eq!(state["completed"], json!(["a", "b", "c"]));
    assert_eq!(state["toggleAll"], true);
    assert_eq!(state["count"], "<strong>0</strong> items left");

    // Un-completing one clears the checkbox; toggling all again completes just that one.
    browser.toggle("b").await;
    eventually!(
        browser.state().await["toggleAll"] == false,
        "checkbox stayed checked"
    );
    eventually!(!app.rows()[1].completed, "b not saved as active");
    label.click().await.unwrap();
    eventually!(
        app.rows().iter().all(|row| row.completed),
        "b not completed again"
    );
    assert_eq!(browser.state().await["toggleAll"], true);

    label.click().await.unwrap();
    eventually!(
        app.rows().iter().all(|row| !row.completed),
        "not all active"
    );
    assert_eq!(browser.state().await["completed"], json!([]));
    browser.close().await;
}

#[tokio::test]
async fn edit_saves_on_enter_and_blur_and_escape_cancels() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create(json!({"title": "first"})).await;
    app.create(json!({"title": "second"})).await;
    let Some(browser) = Browser::open(&app, "edit").await else {
        return;
    };

    let edit = browser.double_click_title("first").await;
    assert_eq!(edit.prop("value").await.unwrap().as_deref(), Some("first"));
    edit.send_keys(&format!("{SELECT_ALL_AND_DELETE}  renamed  {ENTER}"))
        .await
        .unwrap();
    eventually!(app.rows()[0].title == "renamed", "Enter did not save");
    let state = browser.state().await;
    assert_eq!(state["visible"], json!(["renamed", "second"]));
    assert_eq!(state["editing"], 0);

    // Blur saves.
    let edit = browser.double_click_title("second").await;
    edit.send_keys(" too").await.unwrap();
    browser.find(".new-todo").await.click().await.unwrap();
    eventually!(app.rows()[1].title == "second too", "blur did not save");
    assert_eq!(
        browser.state().await["visible"],
        json!(["renamed", "second too"])
    );

    // Escape cancels and restores the title; nothing is sent.
    let edit = browser.double_click_title("renamed").await;
    edit.send_keys(&format!(" not this{ESCAPE}")).await.unwrap();
    eventually!(
        browser.state().await["editing"] == 0,
        "Escape did not leave editing"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        browser.state().await["visible"],
        json!(["renamed", "second too"])
    );
    assert_eq!(app.rows()[0].title, "renamed");
    let edit = browser.double_click_title("renamed").await;
    assert_eq!(
        edit.prop("value").await.unwrap().as_deref(),
        Some("renamed")
    );
    edit.send_keys(ESCAPE).await.unwrap();

    // Emptying the title deletes the todo.
    let edit = browser.double_click_title("second too").await;
    edit.send_keys(&format!("{SELECT_ALL_AND_DELETE}   {ENTER}"))
        .await
        .unwrap();
    eventually!(app.rows().len() == 1, "empty title did not delete");
    assert_eq!(browser.state().await["visible"], json!(["renamed"]));
    browser.close().await;
}

#[tokio::test]
async fn destroy_button_and_last_todo_hides_main_and_footer() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create(json!({"title": "doomed"})).await;
    let Some(browser) = Browser::open(&app, "destroy").await else {
        return;
    };
    let li = browser.item("doomed").await;
    browser.pointer(&li, 0).await; // hover shows the button
    let destroy = li.find(Locator::Css(".destroy")).await.unwrap();
    browser.pointer(&destroy, 1).await;
    eventually!(app.rows().is_empty(), "not deleted on the server");
    let state = browser.state().await;
    assert_eq!(state["visible"], json!([]));
    assert_eq!(
        (state["main"].clone(), state["footer"].clone()),
        (json!(false), json!(false))
    );
    browser.close().await;
}

#[tokio::test]
async fn clear_completed_is_one_request() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create(json!({"title": "keep"})).await;
    app.create(json!({"title": "done 1", "completed": true}))
        .await;
    app.create(json!({"title": "done 2", "completed": true}))
        .await;
    let Some(browser) = Browser::open(&app, "clear_completed").await else {
        return;
    };
    assert_eq!(
        browser.xhr_requests().await,
        Vec::<String>::new(),
        "no fetch on load"
    );
    assert_eq!(browser.state().await["clearCompleted"], true);
    browser
        .find(".clear-completed")
        .await
        .click()
        .await
        .unwrap();
    eventually!(app.rows().len() == 1, "completed todos still on the server");
    assert_eq!(titles(&app.rows()), ["keep"]);
    eventually!(
        browser.state().await["visible"] == json!(["keep"]),
        "the page still shows the cleared todos"
    );
    assert_eq!(browser.state().await["clearCompleted"], false);
    let requests = browser.xhr_requests().await;
    assert_eq!(requests, [format!("{}/todos/?completed=true", app.address)]);
    browser.close().await;
}

#[tokio::test]
async fn routing_filters_and_they_survive_reload() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create(json!({"title": "active one"})).await;
    app.create(json!({"title": "done one", "completed": true}))
        .await;
    let Some(browser) = Browser::open(&app, "routing").await else {
        return;
    };
    assert_eq!(browser.state().await["selected"], json!(["All"]));

    browser
        .find(r#".filters a[href="/active"]"#)
        .await
        .click()
        .await
        .unwrap();
    eventually!(
        browser.state().await["visible"] == json!(["active one"]),
        "active filter"
    );
    assert_eq!(browser.state().await["selected"], json!(["Active"]));
    assert_eq!(browser.current_path().await, "/active");
    assert_eq!(
        browser
            .run("return performance.getEntriesByType('navigation').length")
            .await,
        json!(1),
        "the filter reloaded the page"
    );

    browser
        .find(r#".filters a[href="/completed"]"#)
        .await
        .click()
        .await
        .unwrap();
    eventually!(
        browser.state().await["visible"] == json!(["done one"]),
        "completed filter"
    );

    // A todo completed under the Active filter leaves the view.
    browser
        .find(r#".filters a[href="/active"]"#)
        .await
        .click()
        .await
        .unwrap();
    eventually!(
        browser.state().await["visible"] == json!(["active one"]),
        "active filter again"
    );
    browser.toggle("active one").await;
    eventually!(
        browser.state().await["visible"] == json!([]),
        "completed todo still shown"
    );

    // An old #/ link is taken to the same view at its path; the path survives a reload.
    browser.goto("/#/completed").await;
    eventually!(
        browser.current_path().await == "/completed",
        "the old link was not taken to /completed: {}",
        browser.current_path().await
    );
    browser.reload().await;
    let state = browser.state().await;
    assert_eq!(state["visible"], json!(["active one", "done one"]));
    assert_eq!(state["selected"], json!(["Completed"]));

    browser
        .find(r#".filters a[href="/"]"#)
        .await
        .click()
        .await
        .unwrap();
    eventually!(
        browser.state().await["selected"] == json!(["All"]),
        "all filter"
    );
    assert_eq!(browser.current_path().await, "/");
    browser.close().await;
}

#[tokio::test]
async fn reload_shows_what_the_server_holds_and_two_tabs_meet() {
    let app = spawn_app(Backend::Sqlite).await;
    let Some(first) = Browser::open(&app, "two_tabs").await else {
        return;
    };
    let Some(second) = Browser::open(&app, "two_tabs").await else {
        return;
    };
    first.add("from the first tab").await;
    second.add("from the second tab").await;
    first.reload().await;
    second.reload().await;
    let expected = json!(["from the first tab", "from the second tab"]);
    assert_eq!(first.state().await["visible"], expected);
    assert_eq!(second.state().await["visible"], expected);

    // A change made elsewhere (here through the API) shows after a reload.
    app.client
        .patch(app.url(&format!("/todos/{}", app.rows()[0].id)))
        .json(&json!({"completed": true}))
        .send()
        .await
        .unwrap();
    first.reload().await;
    assert_eq!(
        first.state().await["completed"],
        json!(["from the first tab"]),
        "{}",
        first.state().await
    );
    first.close().await;
    second.close().await;
}

#[tokio::test]
async fn a_failed_save_is_shown_and_the_view_resyncs() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create(json!({"title": "stale"})).await;
    app.create(json!({"title": "fine"})).await;
    let Some(browser) = Browser::open(&app, "failed_save").await else {
        return;
    };
    // The page is editing the todo when another client deletes it: the pushed deletion waits for
    // the edit, and the save that ends it is refused.
    let field = browser.double_click_title("stale").await;
    app.client
        .delete(app.url(&format!("/todos/{}", app.rows()[0].id)))
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    field
        .send_keys(&format!("{SELECT_ALL_AND_DELETE}saved too late{ENTER}"))
        .await
        .unwrap();
    eventually!(!browser.state().await["error"].is_null(), "no error shown");
    let message = browser.state().await["error"].as_str().unwrap().to_owned();
    assert!(
        message.contains("not saved") && message.contains("no todo"),
        "{message}"
    );
    eventually!(
        browser.state().await["visible"] == json!(["fine"]),
        "view not resynced"
    );

    browser
        .find(".sync-error-dismiss")
        .await
        .click()
        .await
        .unwrap();
    eventually!(
        browser.state().await["error"].is_null(),
        "error not dismissed"
    );

    // A title the server refuses is given back to the user with the reason.
    let input = browser.find(".new-todo").await;
    browser
        .run("document.querySelector('.new-todo').removeAttribute('maxlength')")
        .await;
    let long = "x".repeat(todomvc::models::MAX_TITLE_CHARS + 1);
    input.send_keys(&format!("{long}{ENTER}")).await.unwrap();
    eventually!(
        !browser.state().await["error"].is_null(),
        "no error for a long title"
    );
    let state = browser.state().await;
    assert!(
        state["error"]
            .as_str()
            .unwrap()
            .contains(&format!("{} characters", todomvc::models::MAX_TITLE_CHARS)),
        "{state}"
    );
    assert_eq!(state["newTodo"], long.as_str());
    assert_eq!(state["visible"], json!(["fine"]));
    assert_eq!(app.rows().len(), 1);
    browser.close().await;
}

#[tokio::test]
async fn markup_in_a_title_is_shown_as_text() {
    let app = spawn_app(Backend::Sqlite).await;
    let Some(browser) = Browser::open(&app, "markup_title").await else {
        return;
    };
    let hostile = r#"<b>bold</b><img src=x onerror="document.title='owned'">"#;
    browser.add(hostile).await;
    for round in ["typed", "reloaded"] {
        let state = browser.state().await;
        assert_eq!(state["visible"], json!([hostile]), "{round}");
        let injected = browser
            .run("return document.querySelectorAll('.todo-list b, .todo-list img').length")
            .await;
        assert_eq!(injected, 0, "{round}");
        assert_ne!(
            browser.run("return document.title").await,
            "owned",
            "{round}"
        );
        browser.reload().await;
    }
    browser.close().await;
}

#[tokio::test]
async fn the_list_is_readable_with_javascript_off() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create(json!({"title": "read me"})).await;
    app.create(json!({"title": "done", "completed": true}))
        .await;
    let Some(browser) = Browser::open_with(&app, "javascript_off", false).await else {
        return;
    };
    let text = browser.find(".todoapp").await.text().await.unwrap();
    assert!(text.contains("read me") && text.contains("done"), "{text}");
    assert!(text.contains("1 item left"), "{text}");
    let completed = browser
        .find("li.completed label")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(completed, "done");
    browser.close().await;
}

/// Saves a picture of the page with a few todos; SCREENSHOT_PATH names where (docs/screenshot.png
/// in the README comes from `SCREENSHOT_PATH=docs/screenshot.png cargo test screenshot`).
#[tokio::test]
async fn screenshot() {
    let app = spawn_app(Backend::Sqlite).await;
    for (title, completed) in [
        ("Port the server to Rust", true),
        ("Keep every acknowledged write", false),
        ("Render the page on the server", true),
        ("Measure it against nginx", false),
    ] {
        app.create(json!({"title": title, "completed": completed}))
            .await;
    }
    let Some(browser) = Browser::open(&app, "screenshot").await else {
        return;
    };
    let png = browser.client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    if let Some(path) = std::env::var_os("SCREENSHOT_PATH") {
        std::fs::write(path, &png).unwrap();
    }
    browser.close().await;
}

#[tokio::test]
async fn two_tabs_editing_one_todo_cannot_overwrite_each_other() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create(json!({"title": "shared"})).await;
    let Some(first) = Browser::open(&app, "two_tabs_editing").await else {
        return;
    };
    let Some(second) = Browser::open(&app, "two_tabs_editing").await else {
        return;
    };

    // Both tabs start editing; the first saves.
    let second_edit = second.double_click_title("shared").await;
    let edit = first.double_click_title("shared").await;
    edit.send_keys(&format!("{SELECT_ALL_AND_DELETE}first tab wins{ENTER}"))
        .await
        .unwrap();
    eventually!(
        app.rows()[0].title == "first tab wins",
        "first edit not saved"
    );

    // The second tab was editing the old title (the pushed change waits for its edit) and saves
    // it: the server refuses, the tab shows both versions, and the user takes the saved one.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let edit = second_edit;
    edit.send_keys(&format!("{SELECT_ALL_AND_DELETE}second tab loses{ENTER}"))
        .await
        .unwrap();
    eventually!(
        second.state().await["conflicts"]
            == json!([{"mine": "“second tab loses”, not completed",
                       "theirs": "“first tab wins”, not completed"}]),
        "no conflict in the second tab: {}",
        second.state().await
    );
    assert_eq!(app.rows()[0].title, "first tab wins");
    second
        .find(".conflict-take-theirs")
        .await
        .click()
        .await
        .unwrap();
    eventually!(
        second.state().await["visible"] == json!(["first tab wins"]),
        "the second tab does not show the saved title"
    );
    assert_eq!(second.state().await["conflicts"], json!([]));
    assert_eq!(app.rows()[0].title, "first tab wins");

    // Quick successive edits in one tab never refuse each other.
    for _ in 0..3 {
        second.toggle("first tab wins").await;
    }
    eventually!(
        app.rows()[0].completed,
        "three toggles should leave it completed"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let state = second.state().await;
    assert_eq!(state["completed"], json!(["first tab wins"]));
    assert!(state["error"].is_null(), "an error appeared: {state}");
    assert_eq!(state["conflicts"], json!([]));
    first.close().await;
    second.close().await;
}

#[tokio::test]
async fn the_content_security_policy_blocks_injected_inline_script() {
    let app = spawn_app(Backend::Sqlite).await;
    let Some(browser) = Browser::open(&app, "csp").await else {
        return;
    };
    // As markup that found its way into the page would: an inline script element.
    browser
        .run(
            "const s = document.createElement('script');
             s.textContent = 'window.injected = true';
             document.body.appendChild(s);",
        )
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(browser.run("return window.injected === true").await, false);
    // The app's own scripts, all files, run under the same policy.
    browser.add("still works").await;
    assert_eq!(titles(&app.rows()), ["still works"]);
    browser.close().await;
}

#[tokio::test]
async fn each_user_sees_only_their_own_list() {
    let app = spawn_app(Backend::Sqlite).await;
    let Some(browser) = Browser::signed_out(&app, "accounts").await else {
        return;
    };
    // Not signed in: the page sends the browser to sign in; from there to the sign-up form.
    assert_eq!(browser.current_path().await, "/login");
    browser
        .find(".account-switch a")
        .await
        .click()
        .await
        .expect("click");
    eventually!(
        browser.current_path().await == "/signup",
        "on the sign-up page"
    );
    browser
        .submit_account_form("carol", "carol's password")
        .await;
    eventually!(browser.current_path().await == "/", "carol on the list");
    let signed_in = browser.find(".account-name").await.text().await.unwrap();
    assert_eq!(signed_in, "Signed in as carol");
    browser.add("carol one").await;
    browser.add("carol two").await;

    // Sign out: back to the sign-in page; dave signs up and sees an empty list.
    browser
        .find(".sign-out")
        .await
        .click()
        .await
        .expect("click");
    eventually!(browser.current_path().await == "/login", "signed out");
    browser.goto("/signup").await;
    browser.submit_account_form("dave", "dave's password").await;
    eventually!(browser.current_path().await == "/", "dave on the list");
    assert_eq!(browser.state().await["visible"], json!([]));
    browser.add("dave's own").await;
    browser
        .find(".sign-out")
        .await
        .click()
        .await
        .expect("click");
    eventually!(browser.current_path().await == "/login", "signed out");

    // A wrong password shows the form again, with the name kept.
    browser
        .submit_account_form("carol", "not carol's password")
        .await;
    eventually!(
        browser
            .run("return document.querySelector('.account-message') !== null")
            .await
            == json!(true),
        "no message for a wrong password"
    );
    let kept = browser
        .run("return document.querySelector('#username').value")
        .await;
    assert_eq!(kept, json!("carol"));
    browser
        .find("#password")
        .await
        .send_keys(&format!("carol's password{ENTER}"))
        .await
        .unwrap();
    eventually!(browser.current_path().await == "/", "carol is back");
    assert_eq!(
        browser.state().await["visible"],
        json!(["carol one", "carol two"])
    );
    let owners: Vec<crate::helpers::Name> = app.database.load(
        "SELECT users.username || ':' || todos.title AS name FROM todos \
         JOIN users ON users.id = todos.user_id ORDER BY todos.id",
    );
    let owners: Vec<String> = owners.into_iter().map(|row| row.name).collect();
    assert_eq!(
        owners,
        ["carol:carol one", "carol:carol two", "dave:dave's own"]
    );

    // The session ends behind the page's back: the next save sends the user to sign in, and
    // signing in brings them back to the list.
    app.database.execute("DELETE FROM sessions");
    browser.toggle("carol one").await;
    eventually!(
        browser.current_path().await.starts_with("/login?next="),
        "not sent to sign in after a 401"
    );
    browser
        .submit_account_form("carol", "carol's password")
        .await;
    eventually!(browser.current_path().await == "/", "back on the list");
    assert_eq!(
        browser.state().await["visible"],
        json!(["carol one", "carol two"])
    );
    browser.close().await;
}

/// A TCP proxy in front of the app whose connections the test can cut, and which can refuse new
/// ones for a while (the server stays up, but the browser cannot reach it), or pass requests on
/// and lose the answers (the server applies a write, the browser never hears of it).
struct CuttableProxy {
    address: String,
    connections: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    mode: std::sync::Arc<std::sync::atomic::AtomicU8>,
}

const FORWARD: u8 = 0;
const REFUSE: u8 = 1;
const LOSE_ANSWERS: u8 = 2;

impl CuttableProxy {
    async fn start(upstream: &str) -> CuttableProxy {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let connections = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mode = std::sync::Arc::new(std::sync::atomic::AtomicU8::new(FORWARD));
        let (kept, current) = (connections.clone(), mode.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let mode = current.load(Ordering::SeqCst);
                if mode == REFUSE {
                    continue; // dropped: the browser sees the connection fail
                }
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(server) = tokio::net::TcpStream::connect(&upstream).await {
                        Self::relay(client, server, mode == LOSE_ANSWERS).await;
                    }
                });
                kept.lock().unwrap().push(task);
            }
        });
        CuttableProxy {
            address,
            connections,
            mode,
        }
    }

    /// Copies both ways; losing answers, it reads the server's answer and closes the client's
    /// connection without a byte of it.
    async fn relay(
        mut client: tokio::net::TcpStream,
        mut server: tokio::net::TcpStream,
        lose: bool,
    ) {
        use tokio::io::AsyncReadExt;
        if !lose {
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            return;
        }
        let (mut from_client, _to_client) = client.into_split();
        let (mut from_server, mut to_server) = server.into_split();
        tokio::spawn(async move {
            let _ = tokio::io::copy(&mut from_client, &mut to_server).await;
        });
        let mut answer = [0_u8; 4096];
        // The first bytes of the answer mean the server has finished the request: drop it all.
        let _ = from_server.read(&mut answer).await;
    }

    fn switch(&self, mode: u8) {
        self.mode.store(mode, std::sync::atomic::Ordering::SeqCst);
        for task in self.connections.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// Cuts every open connection, and refuses new ones until `restore`.
    fn cut(&self) {
        self.switch(REFUSE);
    }

    /// Cuts every open connection; new ones carry requests to the server but lose its answers.
    fn lose_answers(&self) {
        self.switch(LOSE_ANSWERS);
    }

    /// Back to passing everything on (connections made meanwhile are cut).
    fn restore(&self) {
        self.switch(FORWARD);
    }
}

/// Waits up to one second: a pushed change must show that fast.
macro_rules! within_a_second {
    ($cond:expr, $($msg:tt)+) => {
        wait_for!(1000, $cond, $($msg)+)
    };
}

#[tokio::test]
async fn changes_in_one_page_appear_in_another_within_a_second() {
    let app = spawn_app(Backend::Sqlite).await;
    let Some(a) = Browser::open(&app, "live_a").await else {
        return;
    };
    let Some(b) = Browser::open(&app, "live_b").await else {
        return;
    };
    a.add("pushed").await;
    within_a_second!(
        b.state().await["visible"] == json!(["pushed"]),
        "add did not arrive"
    );
    a.add("second").await;
    within_a_second!(
        b.state().await["visible"] == json!(["pushed", "second"]),
        "second add did not arrive"
    );
    a.toggle("pushed").await;
    within_a_second!(
        b.state().await["completed"] == json!(["pushed"]),
        "toggle did not arrive"
    );
    assert_eq!(b.state().await["count"], "<strong>1</strong> item left");

    // An edit.
    let field = a.double_click_title("second").await;
    field
        .send_keys(&format!("{SELECT_ALL_AND_DELETE}second, edited{ENTER}"))
        .await
        .unwrap();
    within_a_second!(
        b.state().await["visible"] == json!(["pushed", "second, edited"]),
        "edit did not arrive"
    );

    // Toggle all, then clear completed.
    a.find(".toggle-all-label").await.click().await.unwrap();
    within_a_second!(
        b.state().await["completed"] == json!(["pushed", "second, edited"]),
        "toggle all did not arrive"
    );
    within_a_second!(
        b.state().await["toggleAll"] == json!(true),
        "toggle-all state"
    );
    within_a_second!(
        b.state().await["clearCompleted"] == json!(true),
        "clear button"
    );
    a.find(".clear-completed").await.click().await.unwrap();
    within_a_second!(
        b.state().await["visible"] == json!([]),
        "clear completed did not arrive"
    );
    within_a_second!(b.state().await["main"] == json!(false), "main hidden");

    // A delete.
    a.add("to delete").await;
    within_a_second!(b.state().await["visible"] == json!(["to delete"]), "add");
    let li = a.item("to delete").await;
    a.pointer(&li, 0).await; // hover shows the button
    let destroy = li.find(Locator::Css(".destroy")).await.unwrap();
    a.pointer(&destroy, 1).await;
    within_a_second!(
        b.state().await["visible"] == json!([]),
        "delete did not arrive"
    );

    // Neither page reloaded: each still has its first document.
    assert_eq!(
        b.run("return performance.getEntriesByType('navigation').length")
            .await,
        json!(1)
    );
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn a_pushed_change_never_clobbers_an_edit_in_progress() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create(json!({"title": "shared"})).await;
    let Some(b) = Browser::open(&app, "edit_in_progress").await else {
        return;
    };
    let field = b.double_click_title("shared").await;
    field
        .send_keys(&format!("{SELECT_ALL_AND_DELETE}typing in b"))
        .await
        .unwrap();
    // Another client renames it meanwhile.
    let id = app.rows()[0].id;
    let response = app
        .client
        .patch(app.url(&format!("/todos/{id}")))
        .json(&json!({"title": "renamed elsewhere"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let typed = b
        .run("return document.querySelector('.editing .edit').value")
        .await;
    assert_eq!(
        typed,
        json!("typing in b"),
        "the edit field was changed under the cursor"
    );
    // Cancelling shows the new title.
    b.find(".editing .edit")
        .await
        .send_keys(ESCAPE)
        .await
        .unwrap();
    within_a_second!(
        b.state().await["visible"] == json!(["renamed elsewhere"]),
        "cancel did not show the pushed title"
    );

    // Saving over a pushed change meets the conflict answer, not a silent overwrite.
    let field = b.double_click_title("renamed elsewhere").await;
    app.client
        .patch(app.url(&format!("/todos/{id}")))
        .json(&json!({"title": "renamed again"}))
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    field
        .send_keys(&format!("{SELECT_ALL_AND_DELETE}b's title{ENTER}"))
        .await
        .unwrap();
    eventually!(
        b.state().await["conflicts"]
            == json!([{"mine": "“b's title”, not completed",
                       "theirs": "“renamed again”, not completed"}]),
        "no conflict shown: {}",
        b.state().await
    );
    assert_eq!(
        app.rows()[0].title,
        "renamed again",
        "b's stale save was refused"
    );
    // Keeping b's version saves it over the other one, knowingly.
    b.find(".conflict-keep-mine").await.click().await.unwrap();
    eventually!(
        app.rows()[0].title == "b's title",
        "keeping b's version did not save it"
    );
    eventually!(
        b.state().await["conflicts"] == json!([]) && b.state().await["pending"] == json!([]),
        "the conflict stayed: {}",
        b.state().await
    );
    assert_eq!(b.state().await["visible"], json!(["b's title"]));
    b.close().await;
}

#[tokio::test]
async fn after_the_stream_is_cut_and_restored_the_page_matches_the_server() {
    let app = spawn_app(Backend::Sqlite).await;
    let proxy = CuttableProxy::start(&app.address).await;
    let Some(b) = Browser::open_at(&app, "stream_cut", &proxy.address).await else {
        return;
    };
    b.add("before the cut").await;
    proxy.cut();
    eventually!(
        b.run("return !document.querySelector('.live-status').hidden")
            .await
            == json!(true),
        "no reconnecting status shown"
    );
    // Changes while the page is cut off.
    app.create(json!({"title": "made while cut"})).await;
    let first = app.rows()[0].id;
    app.client
        .patch(app.url(&format!("/todos/{first}")))
        .json(&json!({"completed": true}))
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.restore();
    let expected: Value = app.get_json("/todos/").await;
    let titles: Vec<&str> = expected
        .as_array()
        .unwrap()
        .iter()
        .map(|todo| todo["title"].as_str().unwrap())
        .collect();
    eventually!(
        b.state().await["visible"] == json!(titles),
        "the page never caught up: {}",
        b.state().await
    );
    eventually!(
        b.state().await["completed"] == json!(["before the cut"]),
        "the toggle made while cut did not arrive"
    );
    eventually!(
        b.run("return document.querySelector('.live-status').hidden")
            .await
            == json!(true),
        "the status still says reconnecting"
    );
    assert_eq!(
        b.run("return performance.getEntriesByType('navigation').length")
            .await,
        json!(1)
    );
    b.close().await;
}

mod accessible;
mod hardening;
mod offline;
mod without_javascript;
