//! When things go wrong around the app: the server is down at launch (the can't-reach
//! screen retries by itself, then the saved session comes back), the server goes away and
//! comes back while signed in (the banner, then the page again), the session is signed out
//! from elsewhere while a deny reason is half-written (the sign-in dialog over the kept
//! dialog), the person's sessions and "Sign out everywhere else", and auto-lock.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use keyhold_e2e::{StoppedServer, TestServer};
use keyhold_server::config::Config;
use keyhold_vault::clock::Clock;

use crate::harness::App;
use crate::team::{Team, sign_in_with_2fa};
use crate::{Person, next_code};

/// The short auto-lock time the debug build offers when `KEYHOLD_DEBUG_LOCK_SECS` is set.
pub const LOCK_SECS: u64 = 4;

/// Ada starts to deny a request, giving her reason; meanwhile her sessions elsewhere are
/// signed out (her own API session ends the others, the app's among them). Sending the
/// deny finds the session gone: the sign-in dialog opens over the decision dialog, which
/// keeps the reason; after the password and a code, the same deny goes through.
pub async fn revoked_mid_comment(
    app: &mut App,
    server: &TestServer,
    ada: &Person,
    team: &Team<'_>,
) -> Result<()> {
    app.click("nav-approvals").await?;
    app.testid("approvals-page").await?;
    app.wait_text("approvals-live", "Live").await?;
    let id = team.agent_asks().await?;
    app.click(&format!("deny-{id}")).await?;
    app.testid("decide-dialog").await?;
    let reason = "Not during the release freeze; ask again on Monday";
    app.fill("decide-text", reason).await?;

    let elsewhere = sign_in_with_2fa(server, ada).await?;
    let ended = elsewhere.end_other_sessions().await?.ended;
    ensure!(ended >= 1, "ending Ada's other sessions ended none");

    app.click("decide-submit").await?;
    app.testid("session-expired-dialog")
        .await
        .context("a revoked session did not bring up the sign-in dialog")?;
    let kept = app.testid("decide-text").await?.prop("value").await?;
    ensure!(
        kept.as_deref() == Some(reason),
        "the half-written reason was lost: {kept:?}"
    );
    app.screenshot("session-ended-sign-in-again").await?;
    app.fill("expired-password", &ada.password).await?;
    app.click("expired-submit").await?;
    let secret = ada.totp.as_deref().context("Ada has no 2FA")?;
    app.fill("expired-code", &next_code(server, secret)).await?;
    app.screenshot("session-ended-two-factor").await?;
    app.click("expired-submit").await?;
    app.wait_gone("session-expired-dialog").await?;

    let kept = app.testid("decide-text").await?.prop("value").await?;
    ensure!(
        kept.as_deref() == Some(reason),
        "the reason did not survive signing in again: {kept:?}"
    );
    app.click("decide-submit").await?;
    app.wait_gone("decide-dialog").await?;
    app.wait_gone(&format!("approval-{id}")).await?;
    let denied = team.bob_api()?.approval(&id).await?;
    ensure!(
        denied.status == keyhold_core::api::ApprovalStatus::Denied,
        "the request is {:?} after the deny",
        denied.status
    );
    Ok(())
}

/// How the test's server is set up, at first and at every restart (same port, same data).
pub fn configure(c: &mut Config) {
    c.allow_private_webhooks = true;
    c.outbox_poll_ms = 50;
    // The alerts step plays an agent behind a proxy, inside and outside its allowlist.
    c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("a network")];
}

/// A stopped server and what it takes to bring it back as it was.
pub struct Paused {
    stopped: StoppedServer,
    now: chrono::DateTime<chrono::Utc>,
    listen: std::net::SocketAddr,
}

impl Paused {
    /// Stop the server, keeping its data, port and clock for [`Self::resume`].
    pub async fn stop(server: TestServer) -> Result<Self> {
        let listen = server.server.state.config.listen;
        let listen = if listen.port() == 0 {
            let url = server.url();
            let port = url.rsplit(':').next().context("no port in the URL")?;
            std::net::SocketAddr::new(listen.ip(), port.trim_end_matches('/').parse()?)
        } else {
            listen
        };
        let now = server.clock.now();
        Ok(Self {
            stopped: server.stop_keeping_data().await,
            now,
            listen,
        })
    }

    pub async fn resume(self) -> TestServer {
        let listen = self.listen;
        self.stopped
            .start_at(self.now, |c| {
                configure(c);
                c.listen = listen;
            })
            .await
    }
}

/// Third launch, with the server down: the can't-reach screen counts down and retries by
/// itself; once the server is back (same port, same data) the saved session is restored.
/// Then, signed in: the server goes away (banner) and comes back (the page again); the
/// sessions list and "Sign out everywhere else"; auto-lock and unlock. Returns the server.
pub async fn third_launch(app: &mut App, paused: Paused, ada: &Person) -> Result<TestServer> {
    app.testid("connect-screen")
        .await
        .context("a server down at launch did not show the can't-reach screen")?;
    app.wait_text("connect-countdown", "Trying again in")
        .await?;
    app.screenshot("cant-reach-server").await?;
    let server = paused.resume().await;
    // By itself: no click. The backoff is 2, 4, 8, 16 s, so it is back within ~30 s.
    wait_for(app, "vault-page", Duration::from_secs(45))
        .await
        .context("the app did not reconnect by itself once the server was back")?;
    app.testid("topbar").await?;

    let server = offline_and_back(app, server).await?;
    sessions(app, &server, ada).await?;
    auto_lock(app, &server, ada).await?;
    Ok(server)
}

/// Signed in, the server stops: the next page shows the offline banner; once the server
/// is back the banner goes and the page loads.
async fn offline_and_back(app: &mut App, server: TestServer) -> Result<TestServer> {
    let paused = Paused::stop(server).await?;
    app.click("nav-keys").await?;
    app.testid("offline-banner")
        .await
        .context("no offline banner with the server down")?;
    app.screenshot("server-gone-while-signed-in").await?;
    let server = paused.resume().await;
    app.wait_gone("offline-banner").await?;
    app.testid("keys-page").await?;
    Ok(server)
}

/// Account menu → Sessions and lock: this device and Ada's API session; "Sign out
/// everywhere else" (confirmed in the app, then "Confirm it's you" past the sudo window)
/// ends the API session, which the server then refuses.
async fn sessions(app: &mut App, server: &TestServer, ada: &Person) -> Result<()> {
    let elsewhere = sign_in_with_2fa(server, ada).await?;
    app.click("avatar-button").await?;
    app.click("menu-sessions").await?;
    app.testid("sessions-table").await?;
    app.wait_text("session-row-current", "This device").await?;
    app.testid("session-row").await?;
    app.screenshot("sessions").await?;
    app.click("end-other-sessions").await?;
    app.testid("end-other-sessions-dialog").await?;
    app.screenshot("sign-out-everywhere-else").await?;
    // Past the sudo window, whenever the last sign-in was: the server asks first.
    server.clock.advance(chrono::Duration::minutes(11));
    app.click("confirm-end-other-sessions").await?;
    let secret = ada.totp.as_deref().context("Ada has no 2FA")?;
    app.testid("reauth-dialog").await?;
    app.fill("reauth-proof", &next_code(server, secret)).await?;
    app.click("reauth-submit").await?;
    app.wait_text("toasts", "Signed out").await?;
    app.wait_gone("session-row").await?;
    match elsewhere.me().await {
        Ok(_) => bail!("the API session still works after Sign out everywhere else"),
        Err(e) => ensure!(
            e.code() == Some(keyhold_core::ErrorCode::Unauthenticated),
            "the ended session got {e:?}"
        ),
    }
    Ok(())
}

/// Auto-lock after the test build's short idle time: the lock screen hides everything,
/// the app's commands refuse to run (the web view cannot skip the lock), and a code
/// unlocks it without signing in again.
async fn auto_lock(app: &mut App, server: &TestServer, ada: &Person) -> Result<()> {
    app.choose("autolock-time", &LOCK_SECS.to_string()).await?;
    wait_for(app, "lock-screen", Duration::from_secs(LOCK_SECS + 15))
        .await
        .context("the app did not lock when idle")?;
    let shell_hidden = app
        .client
        .execute(
            "return document.querySelector('[data-testid=\"shell\"]').hidden;",
            vec![],
        )
        .await?;
    ensure!(
        shell_hidden == serde_json::Value::Bool(true),
        "the screen under the lock is not hidden"
    );
    app.screenshot("locked").await?;
    let refused = invoke(app, "list_keys").await?;
    ensure!(refused == "locked", "a command ran while locked: {refused}");
    let secret = ada.totp.as_deref().context("Ada has no 2FA")?;
    app.fill("unlock-proof", "000000").await?;
    app.click("unlock-submit").await?;
    app.testid("unlock-error").await?;
    app.testid("lock-screen").await?;
    app.fill("unlock-proof", &next_code(server, secret)).await?;
    app.click("unlock-submit").await?;
    app.wait_gone("lock-screen").await?;
    app.testid("sessions-panel").await?;
    let ran = invoke(app, "list_keys").await?;
    ensure!(ran == "ok", "after unlocking, a command answered {ran}");
    // Off again: the rest of the run must not lock.
    app.choose("autolock-time", "0").await?;
    Ok(())
}

/// Run an app command straight from the web view, past its UI: "ok" or the error's kind.
async fn invoke(app: &App, command: &str) -> Result<String> {
    let answer = app
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             window.__TAURI_INTERNALS__.invoke(arguments[0], {})\
               .then(() => done('ok'), (e) => done(e && e.kind ? e.kind : String(e)));",
            vec![serde_json::Value::from(command)],
        )
        .await?;
    Ok(answer.as_str().unwrap_or_default().to_owned())
}

/// Wait longer than the harness's usual wait for an element.
async fn wait_for(app: &App, id: &str, within: Duration) -> Result<()> {
    let css = format!("[data-testid=\"{id}\"]");
    let deadline = Instant::now() + within;
    loop {
        if !app
            .client
            .find_all(fantoccini::Locator::Css(&css))
            .await?
            .is_empty()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("no {id} within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
