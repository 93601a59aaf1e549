//! The desktop app end to end: the real app in a real window (Xvfb), driven over WebDriver
//! (tauri-driver → WebKitWebDriver), one session at a time. Screenshots of every screen go
//! to `<target>/e2e-screenshots/`.
//!
//! Run: `xvfb-run -a -s "-screen 0 1280x800x24" cargo test -p keyhold-e2e --test desktop`
//! after building ui/ and the app (`cargo build -p keyhold-desktop`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod account;
mod alerts;
mod approvals;
mod audit;
mod axe;
mod harness;
mod invitations;
mod key_rotation;
mod keys;
mod pages;
mod resilience;
mod secrets;
mod settings;
mod team;
mod tray;
mod two_factor;

use anyhow::{Context, Result};
use keyhold_e2e::{STRONG_PASSWORD, TestServer, oathtool, unique_email};
use keyhold_vault::clock::Clock;

use account::{change_password, first_run_screen, sign_in, sign_out, sign_up, verify_email};
use approvals::two_approvers;
use harness::{App, Driver, Paths};
use keys::{agent_key_shown_once, first_id};
use pages::{score_protected, themes_and_menu, visit_pages};
use two_factor::enroll_2fa;

/// Who signs in to the app.
pub struct Person {
    pub email: String,
    pub password: String,
    /// The TOTP secret once 2FA is on (read from the QR code, or set up over the API).
    pub totp: Option<String>,
}

/// The code for the next TOTP step. The server accepts each step once per person, so the
/// test clock moves one step on before every code: no waiting, no replay.
pub fn next_code(server: &TestServer, secret: &str) -> String {
    server.clock.advance(chrono::Duration::seconds(30));
    oathtool(secret, server.clock.now())
}

/// First launch of the app: first run, sign-up, every screen, password change, theme,
/// sign-out and sign-in again.
async fn first_launch(
    app: &mut App,
    server: &TestServer,
    driver: &Driver,
    desktop: &tray::DesktopSession,
    ada: &mut Person,
) -> Result<()> {
    first_run_screen(app, &server.url()).await?;
    sign_up(app, ada).await?;
    verify_email(app, server, ada).await?;
    enroll_2fa(app, server, driver, ada).await?;
    change_password(app, ada).await?;
    score_protected(app).await?;
    agent_key_shown_once(app).await?;
    visit_pages(app, driver).await?;
    themes_and_menu(app).await?;
    sign_out(app).await?;
    sign_in(app, server, ada).await?;
    let secret = ada.totp.clone().context("Ada has no 2FA")?;
    keys::create_after_sudo_lapsed(app, server, &secret).await?;
    alerts::suspended_key(app, server, ada).await?;
    key_rotation::rotate_and_edit(app, server, ada).await?;
    let asked = secrets::alone(app, server, ada).await?;
    let team = team::Team::assemble(server, ada).await?;
    let copied = secrets::approved(app, server, &team, &asked).await?;
    invitations::invite_then_revoke(app, server, ada).await?;
    resilience::revoked_mid_comment(app, server, ada, &team).await?;
    two_approvers(app, server, ada, &team, &asked).await?;
    tray::closed_window_still_notifies(app, desktop, driver.home(), &team).await?;
    // Signed in as Bob now; the clipboard check waits for 30 s after the copy, so these
    // steps take no extra time.
    settings::as_approver(app, &team).await?;
    settings::notifications(app, &team).await?;
    settings::as_owner(app, server, ada, &team).await?;
    settings::reset_member_2fa(app, server, ada, &team).await?;
    settings::webhooks(app).await?;
    secrets::clipboard_cleared(app, copied).await?;
    account::forgot_password(app, server, ada).await?;
    Ok(())
}

/// Second launch: the session comes back from the OS keyring (another process reads what
/// the first one stored). It stays there for the third launch, which signs out.
async fn second_launch(app: &mut App) -> Result<()> {
    app.testid("topbar")
        .await
        .context("the saved session was not restored")?;
    app.testid("vault-page").await?;
    app.screenshot("session-restored-from-keyring").await?;
    Ok(())
}

/// Third launch, with the server down (see `resilience`); sign-out then clears the
/// saved session. Gives the server back, running.
async fn third_launch(
    app: &mut App,
    paused: resilience::Paused,
    ada: &Person,
) -> Result<TestServer> {
    let server = resilience::third_launch(app, paused, ada).await?;
    sign_out(app).await?;
    Ok(server)
}

/// Screenshot a failure, then close the session (which quits the app) whatever happened.
async fn finish(mut app: App, outcome: &Result<()>) -> Result<u32> {
    if outcome.is_err() {
        app.failure_screenshot().await;
    }
    let accessible = app.accessible();
    let shots = app.shots();
    app.client
        .close()
        .await
        .context("closing the WebDriver session")?;
    accessible?;
    Ok(shots)
}

async fn run(paths: Paths) -> Result<()> {
    // The test clock starts at the wall clock so the app's "asked just now" and "24h
    // left" read as people would see them; the test still moves it (TOTP steps, delays).
    // Webhooks go to a receiver on this computer, so private addresses are allowed.
    let server = TestServer::start_at(
        keyhold_vault::clock::SystemClock.now(),
        resilience::configure,
    )
    .await;
    // A session bus with a real notification daemon: the app's notifications are shown,
    // and clicked, for real (tray.rs).
    let desktop = tray::DesktopSession::start().await?;
    let driver = Driver::start(&[
        ("KEYHOLD_URL", server.url()),
        ("DBUS_SESSION_BUS_ADDRESS", desktop.bus_address.clone()),
        // The debug build offers this short auto-lock time (resilience::auto_lock).
        ("KEYHOLD_DEBUG_LOCK_SECS", resilience::LOCK_SECS.to_string()),
    ])
    .await?;
    let mut ada = Person {
        email: unique_email("ada"),
        password: STRONG_PASSWORD.to_owned(),
        totp: None,
    };

    let mut app = App::new(
        driver.session(&paths.app).await?,
        paths.screenshots.clone(),
        0,
    );
    let outcome = first_launch(&mut app, &server, &driver, &desktop, &mut ada).await;
    let shots = finish(app, &outcome).await;
    outcome.context("first launch")?;
    let shots = shots?;

    let mut app = App::new(
        driver.session(&paths.app).await?,
        paths.screenshots.clone(),
        shots,
    );
    let outcome = second_launch(&mut app).await;
    let closed = finish(app, &outcome).await;
    outcome.context("second launch")?;
    let shots = closed?;

    let paused = resilience::Paused::stop(server).await?;
    let mut app = App::new(
        driver.session(&paths.app).await?,
        paths.screenshots.clone(),
        shots,
    );
    let outcome = third_launch(&mut app, paused, &ada).await;
    let done: Result<()> = match &outcome {
        Ok(_) => Ok(()),
        Err(e) => Err(anyhow::anyhow!("{e:#}")),
    };
    let closed = finish(app, &done).await;
    let server = outcome.context("third launch")?;
    closed?;

    drop(driver);
    server.stop().await;
    eprintln!(
        "desktop e2e: screenshots in {}",
        paths.screenshots.display()
    );
    Ok(())
}

// Named `desktop::end_to_end` so that `cargo test --workspace -- --skip desktop::` leaves it
// to `make test-desktop`, which runs it under Xvfb.
mod desktop {
    use super::{harness, run};

    #[test]
    fn end_to_end() {
        let paths = match harness::prerequisites() {
            Ok(p) => p,
            Err(e) => panic!("{e:#}"),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        if let Err(e) = runtime.block_on(run(paths)) {
            panic!("desktop end-to-end failed: {e:#}");
        }
    }
}
