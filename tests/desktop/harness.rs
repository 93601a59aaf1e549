//! The machinery behind the desktop end-to-end tests: prerequisites, tauri-driver, one
//! WebDriver session on the real app, screenshots, and cleanup that runs even when a step
//! fails.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

/// How long to wait for an element or a state before failing.
pub const WAIT: Duration = Duration::from_secs(20);

/// Where things are: the built app and the screenshot folder.
pub struct Paths {
    pub app: PathBuf,
    pub screenshots: PathBuf,
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// The target dir this test binary was built into: `<target>/debug/deps/desktop-…`.
fn target_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .ok_or_else(|| anyhow!("cannot find the target dir from {}", exe.display()))
}

/// Check everything the test needs and say exactly what is missing.
pub fn prerequisites() -> Result<Paths> {
    let mut missing = Vec::new();
    if std::env::var_os("DISPLAY").is_none() {
        missing.push(
            "DISPLAY is not set: run under Xvfb, e.g. `xvfb-run -a -s \"-screen 0 1280x800x24\" cargo test -p keyhold-e2e --test desktop`"
                .to_owned(),
        );
    }
    if on_path("tauri-driver").is_none() {
        missing.push(
            "tauri-driver is not on PATH: `cargo install tauri-driver --version '^2' --locked` (or scripts/install-deps.sh)"
                .to_owned(),
        );
    }
    if on_path("WebKitWebDriver").is_none() {
        missing.push(
            "WebKitWebDriver is not on PATH: `apt-get install webkit2gtk-driver` (or scripts/install-deps.sh)".to_owned(),
        );
    }
    // The background-mode step (tray.rs): a session bus, a notification daemon, a window
    // manager to close the window, and X tools to see it and ask it.
    for (tool, package) in [
        ("zbarimg", "zbar-tools"),
        ("oathtool", "oathtool"),
        ("dbus-daemon", "dbus-daemon"),
        ("dunst", "dunst"),
        ("dunstctl", "dunst"),
        ("openbox", "openbox"),
        ("wmctrl", "wmctrl"),
        ("xdotool", "xdotool"),
    ] {
        if on_path(tool).is_none() {
            missing.push(format!(
                "{tool} is not on PATH: `apt-get install {package}` (or scripts/install-deps.sh)"
            ));
        }
    }
    let target_dir = target_dir()?;
    let app = match std::env::var_os("KEYHOLD_DESKTOP_APP") {
        Some(p) => PathBuf::from(p),
        None => target_dir.join("debug").join("keyhold-desktop"),
    };
    if !crate::axe::source_path().is_file() {
        missing.push(format!(
            "axe-core is not installed at {}: `(cd ui && npm ci)` (or scripts/install-deps.sh)",
            crate::axe::source_path().display()
        ));
    }
    if !app.is_file() {
        missing.push(format!(
            "the app is not built at {}: `(cd ui && npm ci && npm run build) && cargo build -p keyhold-desktop` (same CARGO_TARGET_DIR as this test)",
            app.display()
        ));
    }
    if !missing.is_empty() {
        bail!(
            "the desktop end-to-end test cannot run:\n  - {}",
            missing.join("\n  - ")
        );
    }
    let screenshots = target_dir.join("e2e-screenshots");
    std::fs::create_dir_all(&screenshots)?;
    // The folder shows this run only (screenshots and their axe reports).
    for entry in std::fs::read_dir(&screenshots)?.flatten() {
        if entry
            .path()
            .extension()
            .is_some_and(|e| e == "png" || e == "json")
        {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(Paths { app, screenshots })
}

/// The text of the one QR code in a PNG, decoded by `zbarimg` (Debian zbar-tools): an
/// independent reader, so the test sees what a phone's camera would.
pub fn zbarimg(png: &Path) -> Result<String> {
    let out = Command::new("zbarimg")
        .args(["--quiet", "--raw"])
        .arg(png)
        .output()
        .context("running zbarimg")?;
    if !out.status.success() {
        bail!(
            "zbarimg found no QR code in {} ({})",
            png.display(),
            out.status
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// A free loopback port (bound, then released for the child to take).
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A child process killed with its whole process group when dropped (tauri-driver starts
/// WebKitWebDriver, which starts the app).
pub struct ProcessGroup {
    name: &'static str,
    child: Child,
}

impl ProcessGroup {
    pub fn spawn(name: &'static str, mut command: Command) -> Result<Self> {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        Ok(Self { name, child })
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn signal_group(&self, signal: &str) {
        let pgid = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args([signal, "--", &pgid])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.signal_group("-TERM");
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if !self.is_running() {
                // The leader is gone; make sure nothing in its group lingers.
                self.signal_group("-KILL");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("{} did not stop on SIGTERM; killing it", self.name);
        self.signal_group("-KILL");
        let _ = self.child.wait();
    }
}

/// tauri-driver on free ports, plus the isolated home the app runs in.
pub struct Driver {
    pub url: String,
    _process: ProcessGroup,
    /// The app's HOME (config, data, downloads); removed when the driver is dropped.
    home: tempfile::TempDir,
}

impl Driver {
    /// Start tauri-driver and wait until `/status` answers. `app_env` reaches the app
    /// (tauri-driver → WebKitWebDriver → app inherit the environment).
    pub async fn start(app_env: &[(&str, String)]) -> Result<Self> {
        let port = free_port()?;
        let native_port = free_port()?;
        let home = tempfile::tempdir()?;
        let mut command = Command::new("tauri-driver");
        command
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            // No desktop session: the app must use the kernel keyring.
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env("KEYHOLD_KEYRING", "keyutils")
            .stdin(Stdio::null());
        for (k, v) in app_env {
            command.env(k, v);
        }
        let mut process = ProcessGroup::spawn("tauri-driver", command)?;
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + WAIT;
        loop {
            if !process.is_running() {
                bail!("tauri-driver exited before answering on {url}");
            }
            if let Ok(r) = http.get(format!("{url}/status")).send().await
                && r.status().is_success()
            {
                break;
            }
            if Instant::now() > deadline {
                bail!("tauri-driver did not answer {url}/status within {WAIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Self {
            url,
            _process: process,
            home,
        })
    }

    /// The app's HOME: files it saves for the person land here.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// Open the one WebDriver session (WebKitGTK allows one at a time): this launches the app.
    pub async fn session(&self, app: &Path) -> Result<Client> {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".to_owned(),
            serde_json::json!({ "application": app }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .context("cannot open a WebDriver session on the app")?;
        Ok(client)
    }
}

/// Test-side helpers on a session.
pub struct App {
    pub client: Client,
    screenshots: PathBuf,
    shot: u32,
    /// Serious and critical accessibility violations found so far (see `axe`), each
    /// with the screenshot it goes with; the run fails on any at its end.
    axe_failures: Vec<String>,
}

impl App {
    /// `first_shot`: screenshots are numbered on from here (they continue across app restarts).
    pub fn new(client: Client, screenshots: PathBuf, first_shot: u32) -> Self {
        Self {
            client,
            screenshots,
            shot: first_shot,
            axe_failures: Vec::new(),
        }
    }

    /// The number of the last screenshot taken.
    pub fn shots(&self) -> u32 {
        self.shot
    }

    /// Click an element once it is enabled. A dialog that is still opening can refuse the
    /// click (WebKit answers with an empty error, and nothing was clicked): look the
    /// element up again and retry for a short while.
    pub async fn click(&self, id: &str) -> Result<()> {
        let el = self.testid(id).await?;
        let deadline = Instant::now() + WAIT;
        while !el.is_enabled().await? {
            if Instant::now() > deadline {
                bail!("{id} stayed disabled for {WAIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let refused_until = Instant::now() + Duration::from_secs(2);
        let mut el = el;
        loop {
            match el.click().await {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() > refused_until => {
                    return Err(e).with_context(|| format!("clicking {id}"));
                }
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(150)).await;
                    el = self.testid(id).await?;
                }
            }
        }
    }

    /// Replace the text of an input. A dialog that is still opening can refuse the first
    /// keystrokes (WebKit answers with an empty error): look the input up again and retry
    /// until the wait runs out.
    pub async fn fill(&self, id: &str, text: &str) -> Result<()> {
        let deadline = Instant::now() + WAIT;
        loop {
            let el = self.testid(id).await?;
            let typed = async {
                el.clear().await?;
                el.send_keys(text).await?;
                el.prop("value").await
            }
            .await;
            match typed {
                Ok(Some(v)) if v == text => return Ok(()),
                Ok(v) if Instant::now() > deadline => {
                    bail!("typing into {id} left {:?}", v.map(|v| v.len()))
                }
                Err(e) if Instant::now() > deadline => {
                    return Err(e).with_context(|| format!("typing into {id}"));
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Choose an option of a `<select>` by value. WebKitWebDriver cannot click a select's
    /// options (they live in a native popup), so the value is set and a `change` event
    /// sent, as a choice in that popup does.
    pub async fn choose(&self, id: &str, value: &str) -> Result<()> {
        self.testid(id).await?;
        let script = format!(
            "const s = document.querySelector('[data-testid=\"{id}\"]');\
             s.value = arguments[0];\
             s.dispatchEvent(new Event('change', {{ bubbles: true }}));\
             return s.value;"
        );
        let chosen = self
            .client
            .execute(&script, vec![serde_json::Value::from(value)])
            .await?;
        if chosen.as_str() != Some(value) {
            bail!("{id} has no option {value:?}");
        }
        Ok(())
    }

    pub async fn text(&self, id: &str) -> Result<String> {
        Ok(self.testid(id).await?.text().await?)
    }

    /// Wait until the element's text contains `needle`.
    pub async fn wait_text(&self, id: &str, needle: &str) -> Result<String> {
        let deadline = Instant::now() + WAIT;
        loop {
            // A re-render can replace the element between finding and reading it (WebKit
            // then answers "node not found"): look it up again rather than fail.
            let seen = match self.text(id).await {
                Ok(text) if text.contains(needle) => return Ok(text),
                Ok(text) => format!("says {text:?}"),
                Err(e) => format!("could not be read ({e})"),
            };
            if Instant::now() > deadline {
                bail!("{id} {seen}, waited {WAIT:?} for {needle:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Wait until no element has this `data-testid`.
    pub async fn wait_gone(&self, id: &str) -> Result<()> {
        let deadline = Instant::now() + WAIT;
        let css = format!("[data-testid=\"{id}\"]");
        while !self.client.find_all(Locator::Css(&css)).await?.is_empty() {
            if Instant::now() > deadline {
                bail!("{id} still shown after {WAIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Wait until the image is decoded and has a size (so a screenshot shows it).
    pub async fn wait_image(&self, id: &str) -> Result<()> {
        let deadline = Instant::now() + WAIT;
        let script = format!(
            "const i = document.querySelector('[data-testid=\"{id}\"]');\
             return !!(i && i.complete && i.naturalWidth > 0);"
        );
        while self.client.execute(&script, vec![]).await? != serde_json::Value::Bool(true) {
            if Instant::now() > deadline {
                bail!("image {id} not loaded after {WAIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Wait for an element by `data-testid`.
    pub async fn testid(&self, id: &str) -> Result<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(&format!("[data-testid=\"{id}\"]")))
            .await
            .with_context(|| format!("no element with data-testid={id} within {WAIT:?}"))
    }

    /// Save a numbered screenshot of the window's content, and check what it shows with
    /// axe-core in both themes (the report beside it, `NN-name.axe.json`): every screen
    /// and dialog the test visits is screenshotted, so every one is checked.
    pub async fn screenshot(&mut self, name: &str) -> Result<PathBuf> {
        let path = self.shoot(name).await?;
        let report = path.with_extension("axe.json");
        for v in crate::axe::check(&self.client, &report).await? {
            self.axe_failures
                .push(format!("{:02}-{name}: {v}", self.shot));
        }
        Ok(path)
    }

    async fn shoot(&mut self, name: &str) -> Result<PathBuf> {
        self.shot += 1;
        self.settle().await?;
        let png = self.client.screenshot().await?;
        let path = self
            .screenshots
            .join(format!("{:02}-{name}.png", self.shot));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Fails with every serious or critical accessibility violation found, if any.
    pub fn accessible(&self) -> Result<()> {
        if self.axe_failures.is_empty() {
            return Ok(());
        }
        bail!(
            "axe-core found {} serious or critical violations:\n  {}",
            self.axe_failures.len(),
            self.axe_failures.join("\n  ")
        )
    }

    /// Let the web view paint what the DOM now says (WebKit's snapshot shows the last
    /// painted frame): wait for two animation frames and a short pause.
    pub async fn settle(&self) -> Result<()> {
        self.client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await?;
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        Ok(())
    }

    /// Best effort: a screenshot named after the failure, for the CI artifacts.
    pub async fn failure_screenshot(&mut self) {
        match self.shoot("FAILED").await {
            Ok(p) => eprintln!("screenshot of the failure: {}", p.display()),
            Err(e) => eprintln!("no failure screenshot: {e}"),
        }
    }
}
