//! Background mode in the real window: an approver closes the window, the app stays
//! running with its live feed, a new request raises a real notification, and the
//! notification's click brings the window back on that request.
//!
//! What runs here, all from Debian's packages: a private D-Bus session bus
//! (`dbus-daemon`), a real notification daemon on it (`dunst`, which shows the
//! notification on the Xvfb screen and clicks it for us: `dunstctl action`), and, for the
//! close itself, a real window manager (`openbox`) asked to close the window by `wmctrl`,
//! which sends the window the same WM_DELETE_WINDOW request a title bar's close button
//! does. What stands in: there is no tray host (Debian's trays are panels of whole desktop
//! sessions), so the tray icon's menu is not clicked; the notification's click is the way
//! back that is tested.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

use crate::harness::{App, ProcessGroup, WAIT};
use crate::team::Team;

/// The app's window title (tauri.conf.json), as the window manager lists it.
const TITLE: &str = "Keyhold";

/// A session bus with a notification daemon on it, for the whole run.
pub struct DesktopSession {
    pub bus_address: String,
    dir: tempfile::TempDir,
    _dunst: ProcessGroup,
    _bus: ProcessGroup,
}

impl DesktopSession {
    pub async fn start() -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let socket = dir.path().join("bus");
        let bus_address = format!("unix:path={}", socket.display());
        let mut bus = Command::new("dbus-daemon");
        bus.args(["--session", "--nofork", &format!("--address={bus_address}")])
            .stdout(Stdio::null());
        let bus = ProcessGroup::spawn("dbus-daemon", bus)?;
        wait_until("the session bus", || socket.exists()).await?;

        let mut dunst = Command::new("dunst");
        dunst
            .env("DBUS_SESSION_BUS_ADDRESS", &bus_address)
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let dunst = ProcessGroup::spawn("dunst", dunst)?;
        let session = Self {
            bus_address,
            dir,
            _dunst: dunst,
            _bus: bus,
        };
        wait_until("dunst on the session bus", || {
            session.dunstctl(&["is-paused"]).is_ok()
        })
        .await?;
        Ok(session)
    }

    /// How many notifications are on screen.
    pub fn displayed(&self) -> Result<u32> {
        let n = self.dunstctl(&["count", "displayed"])?;
        n.trim()
            .parse()
            .with_context(|| format!("dunstctl count said {n:?}"))
    }

    /// Dismiss every notification on screen, topmost first.
    pub async fn dismiss_all(&self) -> Result<()> {
        wait_until("no notification on screen", || {
            self.displayed()
                .is_ok_and(|n| n == 0 || self.dunstctl(&["close"]).is_err())
        })
        .await
    }

    /// `dunstctl …` on this bus; its output.
    pub fn dunstctl(&self, args: &[&str]) -> Result<String> {
        run_tool(
            Command::new("dunstctl")
                .args(args)
                .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
                .env("HOME", self.dir.path()),
        )
    }
}

fn run_tool(command: &mut Command) -> Result<String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {command:?}"))?;
    ensure!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

async fn wait_until(what: &str, mut ready: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    while !ready() {
        if Instant::now() > deadline {
            bail!("{what} was not ready within {WAIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Is the app's window on screen (mapped)? Asked of the X server, not of the app.
fn window_visible() -> bool {
    Command::new("xdotool")
        .args(["search", "--onlyvisible", "--name", TITLE])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Close the window as a person does: through a window manager's close request.
async fn close_window_like_a_person(home: &Path) -> Result<()> {
    let mut wm = Command::new("openbox");
    wm.args(["--sm-disable"])
        .env("HOME", home)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _wm = ProcessGroup::spawn("openbox", wm)?;
    wait_until("the window manager", || {
        run_tool(Command::new("wmctrl").arg("-m")).is_ok()
    })
    .await?;
    wait_until("the window under the window manager", || {
        run_tool(Command::new("wmctrl").arg("-l")).is_ok_and(|l| l.contains(TITLE))
    })
    .await?;
    run_tool(Command::new("wmctrl").args(["-c", TITLE]))?;
    wait_until("the window to hide", || !window_visible()).await?;
    Ok(())
}

/// Signed in as Bob (an approver: background mode is on by default for him).
pub async fn closed_window_still_notifies(
    app: &mut App,
    desktop: &DesktopSession,
    home: &Path,
    team: &Team<'_>,
) -> Result<()> {
    app.click("nav-settings").await?;
    app.click("settings-tab-notifications").await?;
    let toggle = app.testid("background-mode").await?;
    ensure!(
        toggle.prop("checked").await?.as_deref() == Some("true"),
        "background mode is not on by default for an approver"
    );
    let hint = app.text("background-hint").await?;
    ensure!(
        hint.contains("click it to open the request"),
        "the tray is not available: {hint}"
    );
    app.screenshot("settings-background-mode").await?;
    app.click("nav-vault").await?;

    ensure!(
        window_visible(),
        "the window is not on screen to begin with"
    );
    // Earlier steps' notifications (a critical alert stays until dismissed, and sorts
    // first) are dismissed, so that the one on screen next is this request's.
    desktop.dismiss_all().await?;
    close_window_like_a_person(home).await?;
    // Closed, yet running: a new request from Carol's agent reaches Bob as a
    // notification, through the app's live feed.
    let id = team.agent_asks().await?;
    wait_until("the notification", || {
        desktop.displayed().is_ok_and(|n| n == 1)
    })
    .await?;
    ensure!(!window_visible(), "the window came back before the click");
    desktop.dunstctl(&["action", "0"])?;

    wait_until("the window to come back", window_visible).await?;
    let card = format!("approval-{id}");
    app.wait_text(&card, "billing-agent").await?;
    let opened = app
        .client
        .execute(
            "const c = document.querySelector(`[data-testid=\"${arguments[0]}\"]`); \
             return !!c && c.classList.contains('approval-opened') && document.activeElement === c;",
            vec![serde_json::json!(card)],
        )
        .await?;
    ensure!(
        opened == serde_json::json!(true),
        "the clicked request is not the one opened and focused"
    );
    app.screenshot("approval-opened-from-notification").await?;
    // What the daemon showed, read back from its history once clicked: the request, no value.
    let history = desktop.dunstctl(&["history"])?;
    ensure!(
        history.contains("Approval needed: critical secret")
            && history.contains(crate::team::SECRET_PATH),
        "the notification did not say what asks: {history}"
    );
    team.bob_api()?
        .deny(&id, "Not now: tested the notification.")
        .await?;
    Ok(())
}
