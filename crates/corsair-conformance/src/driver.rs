//! A small, blocking driver for the browsers Debian packages (Chromium,
//! Firefox ESR, WebKitGTK): start one, open pages, run JavaScript, read the
//! console, take screenshots.
//!
//! Each engine is driven by a Node script in `browser/` speaking the JSON
//! lines of `browser/protocol.mjs` on stdin/stdout: `driver.mjs`
//! (Chromium over the DevTools protocol, `playwright-core`) and
//! `driver-firefox.mjs` (Firefox over WebDriver BiDi, `puppeteer-core`),
//! both pinned in `browser/package-lock.json` (run `npm ci` there once), and
//! `driver-webkit.mjs` (WebKitGTK's `MiniBrowser` under its own `Xvfb`, over
//! W3C WebDriver with no dependency).
//! One [`Browser`] is one browser process with a fresh profile; it is
//! `Sync`, so several threads can use their own [`Page`]s at once.
//!
//! ```no_run
//! use corsair_conformance::driver::{Browser, Engine};
//! let browser = Browser::launch_engine(Engine::Firefox).expect("firefox");
//! let page = browser.new_page().expect("page");
//! page.goto("http://127.0.0.1:8080/").expect("goto");
//! let title: String = page.eval_as("document.title").expect("eval");
//! page.screenshot(std::path::Path::new("/tmp/page.png")).expect("screenshot");
//! # let _ = title;
//! ```

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

/// The environment variable that names the Chromium executable
/// (default `/usr/bin/chromium`).
pub const CHROMIUM_ENV: &str = "CORSAIR_CHROMIUM";
/// The environment variable that, set to `1`, skips every browser test.
pub const SKIP_ENV: &str = "CORSAIR_SKIP_BROWSER";

/// The environment variable that, set to `1`, makes a browser that cannot be
/// started fail its test instead of skipping it. `scripts/test.sh` (the
/// README's test command) sets it, so CI never passes without the browsers.
pub const REQUIRE_ENV: &str = "CORSAIR_REQUIRE_BROWSERS";

/// The environment variable that names the Firefox executable
/// (default `/usr/bin/firefox-esr`).
pub const FIREFOX_ENV: &str = "CORSAIR_FIREFOX";

/// The environment variable that names `WebKitWebDriver`
/// (default `/usr/bin/WebKitWebDriver`).
pub const WEBKIT_ENV: &str = "CORSAIR_WEBKIT_DRIVER";

/// Which engine a driver runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Debian's `chromium`, over the DevTools protocol (playwright-core).
    Chromium,
    /// Debian's `firefox-esr`, over WebDriver BiDi (puppeteer-core).
    Firefox,
    /// Debian's WebKitGTK `MiniBrowser` under `Xvfb`, over W3C WebDriver
    /// (`webkit2gtk-driver`). WebDriver gives no console log here.
    Webkit,
}

impl Engine {
    /// Every engine the suite runs, in report order.
    pub const ALL: [Engine; 3] = [Engine::Chromium, Engine::Firefox, Engine::Webkit];

    /// The engine's name, as reports write it.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Chromium => "Chromium",
            Engine::Firefox => "Firefox",
            Engine::Webkit => "WebKit",
        }
    }

    /// The browser model's profile for this engine.
    pub fn profile(self) -> corsair::browser::Profile {
        match self {
            Engine::Chromium => corsair::browser::Profile::Chromium,
            Engine::Firefox => corsair::browser::Profile::Firefox,
            Engine::Webkit => corsair::browser::Profile::Webkit,
        }
    }

    /// Whether the driver reads the engine's console (WebDriver gives no
    /// console log for WebKitGTK).
    pub fn logs_console(self) -> bool {
        self != Engine::Webkit
    }

    /// The file of `scenarios/` holding this engine's committed observations.
    pub fn snapshot(self) -> &'static str {
        match self {
            Engine::Chromium => "chromium-observations.jsonl",
            Engine::Firefox => "firefox-observations.jsonl",
            Engine::Webkit => "webkit-observations.jsonl",
        }
    }

    /// The driver script, the executable's variable and its default path,
    /// the package that provides it.
    fn driver(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Engine::Chromium => ("driver.mjs", CHROMIUM_ENV, "/usr/bin/chromium", "chromium"),
            Engine::Firefox => (
                "driver-firefox.mjs",
                FIREFOX_ENV,
                "/usr/bin/firefox-esr",
                "firefox-esr",
            ),
            Engine::Webkit => (
                "driver-webkit.mjs",
                WEBKIT_ENV,
                "/usr/bin/WebKitWebDriver",
                "webkit2gtk-driver",
            ),
        }
    }
}

/// How long one command may take before the driver is considered stuck.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// Why the browser could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// Node, the driver script, its dependencies or the browser are missing.
    #[error("cannot start the browser: {0}")]
    Launch(String),
    /// The driver answered a command with an error (a JavaScript exception,
    /// a navigation failure, ...).
    #[error("browser command failed: {0}")]
    Command(String),
    /// The driver process died or stopped answering.
    #[error("browser driver is gone: {0}")]
    Gone(String),
    /// A result did not have the expected shape.
    #[error("unexpected result: {0}")]
    Decode(#[from] serde_json::Error),
}

type Reply = Result<Value, String>;
type Pending = Arc<Mutex<HashMap<u64, Sender<Reply>>>>;

/// One headless browser with a fresh, temporary profile. Dropping it closes
/// the browser and deletes the profile.
pub struct Browser {
    child: Mutex<Child>,
    stdin: Mutex<ChildStdin>,
    pending: Pending,
    next_id: AtomicU64,
    version: String,
    profile: PathBuf,
}

/// Whether browser tests should be skipped outright: [`SKIP_ENV`] is `1`.
pub fn skip_requested() -> bool {
    std::env::var(SKIP_ENV).is_ok_and(|v| v == "1")
}

/// Whether a browser that cannot be started fails the test: [`REQUIRE_ENV`]
/// is `1`.
pub fn browsers_required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1")
}

/// The browser for a test: `None` when [`skip_requested`] (the test then
/// returns early, saying so), else a launched Chromium.
///
/// # Panics
/// As [`launch_engine_for_test`].
pub fn launch_for_test(test: &str) -> Option<Browser> {
    launch_engine_for_test(Engine::Chromium, test)
}

/// [`launch_for_test`] for any engine. A browser that cannot be started
/// skips the test with a line on stderr naming the test, the engine and why,
/// unless [`browsers_required`].
///
/// # Panics
/// When the browser cannot be launched and [`browsers_required`]: the
/// README's test command must never pass without its browsers. The message
/// says how to install them.
pub fn launch_engine_for_test(engine: Engine, test: &str) -> Option<Browser> {
    if skip_requested() {
        skipped(&format!(
            "{SKIP_ENV}=1: skipping {test} in {}",
            engine.name()
        ));
        return None;
    }
    match Browser::launch_engine(engine) {
        Ok(browser) => Some(browser),
        Err(e) if browsers_required() => panic!(
            "{test} in {}: {e}\n(run `bash scripts/test.sh`, which installs the browsers and the \
             driver; {SKIP_ENV}=1 skips browser tests explicitly)",
            engine.name()
        ),
        Err(e) => {
            skipped(&format!(
                "SKIPPED {test} in {}: {e} (`bash scripts/test.sh` installs the browsers and \
                 requires them)",
                engine.name()
            ));
            None
        }
    }
}

/// Says a test was skipped where `cargo test` shows it: writing to the
/// stderr handle directly is not captured by the test harness, unlike
/// `eprintln!`.
fn skipped(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The directory holding `driver.mjs` and its `package.json`.
pub fn driver_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("browser")
}

impl Browser {
    /// Starts the driver and the browser, and waits until it is ready.
    pub fn launch() -> Result<Browser, DriverError> {
        Self::launch_engine(Engine::Chromium)
    }

    /// Starts `engine`'s driver and browser, and waits until it is ready.
    pub fn launch_engine(engine: Engine) -> Result<Browser, DriverError> {
        let (script, env_var, default_path, package) = engine.driver();
        let dir = driver_dir();
        if !dir.join("node_modules/playwright-core").is_dir() {
            return Err(DriverError::Launch(format!(
                "{} has no node_modules: run `npm ci` there (scripts/test.sh does)",
                dir.display()
            )));
        }
        let executable = std::env::var(env_var).unwrap_or_else(|_| default_path.to_string());
        if !Path::new(&executable).exists() {
            return Err(DriverError::Launch(format!(
                "{executable} does not exist: install Debian's `{package}` package or set {env_var}"
            )));
        }
        let profile = std::env::temp_dir().join(format!(
            "corsair-browser-{}-{}",
            std::process::id(),
            PROFILE_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile)
            .map_err(|e| DriverError::Launch(format!("profile {}: {e}", profile.display())))?;
        let mut child = Command::new("node")
            .arg(dir.join(script))
            .current_dir(&dir)
            .env(env_var, &executable)
            .env("CORSAIR_USER_DATA_DIR", &profile)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| DriverError::Launch(format!("node: {e}")))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(DriverError::Launch("no pipes to the driver".into()));
        };
        let mut lines = BufReader::new(stdout).lines();
        let first = match lines.next() {
            Some(Ok(line)) => line,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(DriverError::Launch(format!(
                    "the driver exited before it was ready ({other:?})"
                )));
            }
        };
        let hello: Value = serde_json::from_str(&first)
            .map_err(|e| DriverError::Launch(format!("driver said {first:?}: {e}")))?;
        if let Some(fatal) = hello.get("fatal") {
            let _ = child.wait();
            return Err(DriverError::Launch(fatal.to_string()));
        }
        let version = hello
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string();
        let pending: Pending = Arc::default();
        let reader_pending = Arc::clone(&pending);
        std::thread::spawn(move || read_replies(lines, reader_pending));
        Ok(Browser {
            child: Mutex::new(child),
            stdin: Mutex::new(stdin),
            pending,
            next_id: AtomicU64::new(1),
            version,
            profile,
        })
    }

    /// The browser's version, e.g. `156.0.8078.79`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Opens a new tab (all tabs share the profile, cookies and caches).
    pub fn new_page(&self) -> Result<Page<'_>, DriverError> {
        #[derive(Deserialize)]
        struct Opened {
            page: u64,
        }
        let opened: Opened = serde_json::from_value(self.call("newPage", json!({}))?)?;
        Ok(Page {
            browser: self,
            id: opened.page,
        })
    }

    fn call(&self, cmd: &str, mut args: Value) -> Result<Value, DriverError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx): (Sender<Reply>, Receiver<Reply>) = mpsc::channel();
        lock(&self.pending).insert(id, tx);
        if let Value::Object(map) = &mut args {
            map.insert("id".into(), json!(id));
            map.insert("cmd".into(), json!(cmd));
        }
        let line = format!("{args}\n");
        {
            let mut stdin = lock(&self.stdin);
            stdin
                .write_all(line.as_bytes())
                .and_then(|()| stdin.flush())
                .map_err(|e| DriverError::Gone(e.to_string()))?;
        }
        match rx.recv_timeout(COMMAND_TIMEOUT) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(message)) => Err(DriverError::Command(message)),
            Err(e) => {
                lock(&self.pending).remove(&id);
                Err(DriverError::Gone(format!("no answer to `{cmd}`: {e}")))
            }
        }
    }
}

static PROFILE_COUNTER: AtomicU64 = AtomicU64::new(0);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn read_replies(lines: std::io::Lines<BufReader<std::process::ChildStdout>>, pending: Pending) {
    for line in lines {
        let Ok(line) = line else { break };
        let Ok(reply) = serde_json::from_str::<Value>(&line) else {
            eprintln!("browser driver: {line}");
            continue;
        };
        let Some(id) = reply.get("id").and_then(Value::as_u64) else {
            eprintln!("browser driver: {line}");
            continue;
        };
        let result = if reply.get("ok") == Some(&Value::Bool(true)) {
            Ok(reply.get("result").cloned().unwrap_or(Value::Null))
        } else {
            Err(reply
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("unknown error")
                .to_string())
        };
        if let Some(tx) = lock(&pending).remove(&id) {
            let _ = tx.send(result);
        }
    }
    // The driver is gone: wake every waiting caller.
    for (_, tx) in lock(&pending).drain() {
        let _ = tx.send(Err("the driver exited".into()));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let _ = writeln!(lock(&self.stdin), "{}", json!({"id": id, "cmd": "quit"}));
        let mut child = lock(&self.child);
        for _ in 0..50 {
            if let Ok(Some(_)) = child.try_wait() {
                let _ = std::fs::remove_dir_all(&self.profile);
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// A message the page printed to the console, including the browser's own
/// errors (CORS failures, `net::ERR_FAILED`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct ConsoleMessage {
    /// `error`, `warning`, `log`, ... or `pageerror` for uncaught exceptions.
    #[serde(rename = "type")]
    pub kind: String,
    /// The message text.
    pub text: String,
    /// The URL the message is attributed to (the resource, or the page).
    pub url: String,
}

/// One tab. Closed when dropped.
pub struct Page<'b> {
    browser: &'b Browser,
    id: u64,
}

impl Page<'_> {
    /// Navigates and waits for the `load` event; returns the HTTP status of
    /// the document (if any).
    pub fn goto(&self, url: &str) -> Result<Option<u16>, DriverError> {
        let status = self
            .browser
            .call("goto", json!({"page": self.id, "url": url}))?;
        Ok(status.as_u64().and_then(|s| u16::try_from(s).ok()))
    }

    /// Evaluates a JavaScript expression in the page and returns its value
    /// as JSON; a promise is awaited. Exceptions become
    /// [`DriverError::Command`].
    pub fn eval(&self, expression: &str) -> Result<Value, DriverError> {
        self.browser
            .call("eval", json!({"page": self.id, "js": expression}))
    }

    /// [`Page::eval`], decoded into `T`.
    pub fn eval_as<T: DeserializeOwned>(&self, expression: &str) -> Result<T, DriverError> {
        Ok(serde_json::from_value(self.eval(expression)?)?)
    }

    /// Saves a full-page PNG screenshot.
    pub fn screenshot(&self, path: &Path) -> Result<(), DriverError> {
        self.browser
            .call("screenshot", json!({"page": self.id, "path": path}))?;
        Ok(())
    }

    /// The console messages printed since the last call.
    pub fn take_console(&self) -> Result<Vec<ConsoleMessage>, DriverError> {
        Ok(serde_json::from_value(
            self.browser.call("console", json!({"page": self.id}))?,
        )?)
    }
}

impl Drop for Page<'_> {
    fn drop(&mut self) {
        let _ = self.browser.call("closePage", json!({"page": self.id}));
    }
}
