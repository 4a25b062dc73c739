//! The harness of the browser tests: the real `gusu demo` serving on a free port, Debian's
//! chromedriver driving headless Chromium, and screenshots saved where a reader can look at them.
//!
//! `scripts/test` installs chromium, chromium-driver and fonts-noto-cjk when they are missing;
//! without them these tests fail with that instruction rather than pass unseen.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

pub const DEMO_PASSWORD: &str = "Gusu-Demo-2026!";

/// A child process killed when dropped.
pub struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something listens on the port (or the process has died).
fn wait_for_port(port: u16, what: &str, child: &mut Child, timeout: Duration) {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before listening: {status}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not listen on port {port} within {timeout:?}");
}

/// The demo city, built by the real binary and served by it.
pub struct Demo {
    pub url: String,
    pub dir: tempfile::TempDir,
    port: u16,
    server: Process,
}

impl Demo {
    /// `gusu demo` with a smaller city than the default, so a debug build starts it quickly; the
    /// pages are the same.
    pub fn start(enterprises: usize) -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_gusu"))
            .current_dir(dir.path())
            .args([
                "demo",
                "--enterprises",
                &enterprises.to_string(),
                "--addr",
                &format!("127.0.0.1:{port}"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start gusu demo");
        wait_for_port(port, "gusu demo", &mut child, Duration::from_secs(300));
        Demo {
            url: format!("http://127.0.0.1:{port}"),
            dir,
            port,
            server: Process(child),
        }
    }

    /// Runs a `gusu` command on the demo database (while the server runs: SQLite's WAL lets
    /// both work), feeding `stdin`; panics with its output when it fails.
    pub fn gusu(&self, args: &[&str], stdin: &str) -> String {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_gusu"))
            .current_dir(self.dir.path())
            .arg("--db")
            .arg(self.db())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "gusu {args:?}: {text}");
        text
    }

    /// Stops the server and serves the same database again on the same port, with extra
    /// environment (sessions are in memory: everyone signs in again).
    pub fn restart(&mut self, env: &[(&str, &str)]) {
        let _ = self.server.0.kill();
        let _ = self.server.0.wait();
        let mut child = Command::new(env!("CARGO_BIN_EXE_gusu"))
            .current_dir(self.dir.path())
            .arg("--db")
            .arg(self.db())
            .args([
                "serve",
                "--insecure-cookies",
                "--addr",
                &format!("127.0.0.1:{}", self.port),
            ])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start gusu serve");
        wait_for_port(self.port, "gusu serve", &mut child, Duration::from_secs(60));
        self.server = Process(child);
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("gusu-demo.db")
    }
}

/// chromedriver, started once per test.
pub struct Driver {
    port: u16,
    _process: Process,
    profiles: tempfile::TempDir,
}

const INSTALL: &str = "browser tests need Debian's chromium, chromium-driver and fonts-noto-cjk \
                       (scripts/test installs them: apt-get install chromium chromium-driver fonts-noto-cjk)";

impl Driver {
    pub fn start() -> Driver {
        for path in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            assert!(Path::new(path).exists(), "{path} missing: {INSTALL}");
        }
        let port = free_port();
        let mut child = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(INSTALL);
        wait_for_port(port, "chromedriver", &mut child, Duration::from_secs(30));
        Driver {
            port,
            _process: Process(child),
            profiles: tempfile::tempdir().unwrap(),
        }
    }

    /// A new headless browser with an empty profile (no cookies: a new person at the door).
    pub async fn browser(&self) -> Client {
        let profile = tempfile::tempdir_in(self.profiles.path()).unwrap().keep();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    // The machine's network is closed: no background calls home.
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-quic",
                    "--no-first-run",
                    "--window-size=1280,1400",
                    "--lang=zh-CN",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Browsers a failed test left open: each runs with a profile under this driver's own
        // temporary directory, so the path names exactly them.
        let _ = Command::new("pkill")
            .arg("-f")
            .arg(self.profiles.path())
            .status();
    }
}

/// Where screenshots go: `<target dir>/e2e-screenshots`, kept after the run.
pub fn screenshot_dir() -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_gusu"));
    // <target>/debug/gusu → <target>/e2e-screenshots
    let dir = exe.parent().and_then(Path::parent).map_or_else(
        || PathBuf::from("e2e-screenshots"),
        |t| t.join("e2e-screenshots"),
    );
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub async fn screenshot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
}

/// The page's visible text.
pub async fn text(browser: &Client) -> String {
    browser
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

pub async fn path(browser: &Client) -> String {
    let url = browser.current_url().await.unwrap();
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// Waits (up to 10 s) until the browser is at a path and query that satisfies `ok`.
pub async fn wait_for_path(browser: &Client, ok: impl Fn(&str) -> bool) {
    let start = Instant::now();
    loop {
        let p = path(browser).await;
        if ok(&p) {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "still at {p}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Signs in through the form, as a person would.
pub async fn sign_in(browser: &Client, base: &str, user: &str) {
    browser.goto(&format!("{base}/login")).await.unwrap();
    browser
        .find(Locator::Css("#username"))
        .await
        .unwrap()
        .send_keys(user)
        .await
        .unwrap();
    browser
        .find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(DEMO_PASSWORD)
        .await
        .unwrap();
    browser
        .find(Locator::Css("form.login button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait()
        .for_element(Locator::Css("header form[action='/logout']"))
        .await
        .unwrap_or_else(|e| panic!("{user} signed in: {e}"));
}

/// Types into a field (after clearing it).
pub async fn fill(browser: &Client, css: &str, text: &str) {
    let field = browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

pub async fn select(browser: &Client, css: &str, value: &str) {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("{css} = {value}: {e}"));
}

/// An attribute of the first element matching `css`.
pub async fn attr(browser: &Client, css: &str, name: &str) -> String {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .attr(name)
        .await
        .unwrap()
        .unwrap_or_default()
}

pub async fn click(browser: &Client, css: &str) {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Fetches a URL from inside the page (with its cookies) and returns status, content type and
/// size: how a test sees a download without a download folder.
pub async fn fetch(browser: &Client, url: &str) -> (u16, String, u64) {
    let v = browser
        .execute_async(
            r#"const [url, done] = arguments;
               fetch(url).then(async r => done([r.status, r.headers.get('content-type') || '', (await r.arrayBuffer()).byteLength]))
                         .catch(e => done([0, String(e), 0]));"#,
            vec![serde_json::Value::String(url.to_string())],
        )
        .await
        .unwrap();
    (
        v[0].as_u64().unwrap() as u16,
        v[1].as_str().unwrap().to_string(),
        v[2].as_u64().unwrap(),
    )
}

/// Fetches JSON from inside the page (with its session).
pub async fn fetch_json(browser: &Client, url: &str) -> serde_json::Value {
    browser
        .execute_async(
            r#"const [url, done] = arguments;
               fetch(url).then(r => r.json()).then(done).catch(e => done({ error: String(e) }));"#,
            vec![serde_json::Value::String(url.to_string())],
        )
        .await
        .unwrap()
}
