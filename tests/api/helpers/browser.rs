//! The browser harness: headless Chromium driven over WebDriver (ChromeDriver in a process group
//! of its own), the page's state read in one script, the user's gestures, and the fixture most
//! browser tests start from.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tempfile::TempDir;

use super::{Backend, TestApp, spawn_app};

pub const ENTER: &str = "\u{E007}";
pub const ESCAPE: &str = "\u{E00C}";
/// Ctrl+A, then Backspace: empties a field the way a person does. (WebDriver's own clear also
/// blurs the field, which saves the edit.)
pub const SELECT_ALL_AND_DELETE: &str = "\u{E009}a\u{E009}\u{E003}";

/// Waits up to five seconds for a condition that may contain `.await`.
macro_rules! eventually {
    ($cond:expr, $($msg:tt)+) => {
        $crate::helpers::wait_for!(5000, $cond, $($msg)+)
    };
}
pub(crate) use eventually;

/// Waits up to `$millis` for a condition that may contain `.await`, checking every 25 ms.
macro_rules! wait_for {
    ($millis:expr, $cond:expr, $($msg:tt)+) => {{
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis($millis);
        loop {
            if $cond {
                break;
            }
            if std::time::Instant::now() > deadline {
                panic!($($msg)+);
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }};
}
pub(crate) use wait_for;

fn binary(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// Chromium and ChromeDriver, or `None` (with a loud message) where they are missing outside CI.
pub fn browser_binaries(test: &str) -> Option<(PathBuf, PathBuf)> {
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
    pub fn start(path: &PathBuf) -> Driver {
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
    pub client: Client,
    base: String,
    _driver: Driver,
    _profile: TempDir,
}

impl Browser {
    /// A fresh headless Chromium on the app's page, or `None` where there is no browser.
    pub async fn open(app: &TestApp, test: &str) -> Option<Browser> {
        Self::open_with(app, test, true).await
    }

    /// A browser signed in as the app's user, on the page at `base` (a proxy in front of the app).
    pub async fn open_at(app: &TestApp, test: &str, base: &str) -> Option<Browser> {
        Self::open(&app.at(base), test).await
    }

    pub async fn open_with(app: &TestApp, test: &str, javascript: bool) -> Option<Browser> {
        Self::start(app, test, javascript, false).await
    }

    /// A browser signed in as `username` (with the test password), JavaScript on or off.
    pub async fn open_as(
        app: &TestApp,
        test: &str,
        username: &str,
        javascript: bool,
    ) -> Option<Browser> {
        let browser = Self::start(&app.signed_out(), test, javascript, false).await?;
        browser.goto("/login").await;
        browser
            .submit_account_form(username, crate::helpers::PASSWORD)
            .await;
        eventually!(
            browser.current_path().await == "/",
            "{username} did not get in"
        );
        Some(browser)
    }

    /// JavaScript on, but the pages' own scripts never load: the pages exactly as a browser
    /// without JavaScript shows them, with scripts left for the test to run (axe, say).
    pub async fn open_without_page_scripts(app: &TestApp, test: &str) -> Option<Browser> {
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
    pub async fn signed_out(app: &TestApp, test: &str) -> Option<Browser> {
        Self::open(&app.signed_out(), test).await
    }

    /// A Chrome DevTools Protocol command, through ChromeDriver.
    pub async fn devtools(&self, command: &str, params: Value) -> Value {
        self.client
            .issue_cmd(DevTools {
                body: json!({"cmd": command, "params": params}),
            })
            .await
            .unwrap_or_else(|err| panic!("{command}: {err}"))
    }

    pub async fn current_path(&self) -> String {
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
    pub async fn submit_account_form(&self, username: &str, password: &str) {
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

    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("page loads");
    }

    pub async fn reload(&self) {
        self.client.refresh().await.expect("reload");
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|err| panic!("no {css}: {err}"))
    }

    pub async fn run(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .expect("script runs")
    }

    /// What the page shows, read in one go.
    pub async fn state(&self) -> Value {
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
              toggleAll: !!q('.toggle-all') && q('.toggle-all').getAttribute('aria-checked') === 'true',
              clearCompleted: shown(q('.clear-completed')),
              selected: [...document.querySelectorAll('.filters a.selected')].map((a) => a.textContent),
              error: shown(q('.sync-error')) ? q('.sync-error-message').textContent : null,
              newTodo: q('.new-todo') ? q('.new-todo').value : null,
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
    pub async fn add(&self, title: &str) {
        self.add_offline(title).await;
        eventually!(
            self.state().await["pending"] == json!([]),
            "{title:?} was never saved: {}",
            self.state().await
        );
    }

    /// Adds a todo and waits until the page shows it, saved or not.
    pub async fn add_offline(&self, title: &str) {
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
    pub async fn item(&self, title: &str) -> Element {
        let xpath = format!("//ul[@class='todo-list']/li[.//label[text()='{title}']]");
        self.client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|err| panic!("no todo titled {title:?}: {err}"))
    }

    /// Clicks the checkbox of the todo titled `title`. Every save redraws the item, so a click
    /// that lands on an element just replaced is tried again on the new one.
    pub async fn toggle(&self, title: &str) {
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
    pub async fn pointer(&self, element: &Element, clicks: usize) {
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

    pub async fn double_click_title(&self, title: &str) -> Element {
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
    pub async fn rename(&self, title: &str, new_title: &str) {
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
    pub async fn delete(&self, title: &str) {
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
    pub async fn kept_for_offline(&self) {
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
    pub async fn xhr_requests(&self) -> Vec<String> {
        let entries = self
            .run(
                "return performance.getEntriesByType('resource')
                   .filter((e) => e.initiatorType === 'xmlhttprequest').map((e) => e.name);",
            )
            .await;
        serde_json::from_value(entries).unwrap()
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// The usual start of a browser test, in one call: the app on SQLite, `todos` created through
/// the API in order, and a browser on its page. `None` where there is no browser (see `skip`).
pub async fn page_with(test: &str, todos: &[Value]) -> Option<(TestApp, Browser)> {
    let app = spawn_app(Backend::Sqlite).await;
    for todo in todos {
        app.create(todo.clone()).await;
    }
    let browser = Browser::open(&app, test).await?;
    Some((app, browser))
}
