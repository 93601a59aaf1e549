//! The desktop app end to end: the real app in a real window (Xvfb), driven over WebDriver
//! (tauri-driver → WebKitWebDriver), one session at a time. Screenshots of every screen go
//! to `<target>/e2e-screenshots/`.
//!
//! Run: `xvfb-run -a -s "-screen 0 1280x800x24" cargo test -p keyhold-e2e --test desktop`
//! after building ui/ and the app (`cargo build -p keyhold-desktop`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

mod invitations;
mod secrets;
mod team;

use anyhow::{Context, Result, bail, ensure};
use harness::{App, Driver, Paths};
use keyhold_e2e::{OTHER_STRONG_PASSWORD, STRONG_PASSWORD, TestServer, oathtool, unique_email};
use keyhold_vault::clock::Clock;

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
    let asked = secrets::alone(app, server, ada).await?;
    let team = team::Team::assemble(server, ada).await?;
    let copied = secrets::approved(app, server, &team, &asked).await?;
    invitations::invite_then_revoke(app, server, ada).await?;
    two_approvers(app, server, ada, &team, &asked).await?;
    secrets::clipboard_cleared(app, copied).await?;
    Ok(())
}

/// Second launch: the session comes back from the OS keyring (another process reads what
/// the first one stored), then sign-out clears it.
async fn second_launch(app: &mut App) -> Result<()> {
    app.testid("topbar")
        .await
        .context("the saved session was not restored")?;
    app.testid("vault-page").await?;
    app.screenshot("session-restored-from-keyring").await?;
    sign_out(app).await?;
    Ok(())
}

async fn sign_up(app: &mut App, ada: &Person) -> Result<()> {
    app.click("mode-signup").await?;
    app.fill("display-name", "Ada Lovelace").await?;
    app.fill("email", &ada.email).await?;
    app.fill("password", &ada.password).await?;
    app.click("submit-auth").await?;
    app.testid("topbar")
        .await
        .context("sign-up did not reach the dashboard")?;
    let initials = app.testid("avatar-button").await?.text().await?;
    ensure!(
        initials.trim() == "AL",
        "avatar shows {initials:?}, expected AL"
    );
    app.testid("vault-page").await?;
    app.testid("factor-email").await?;
    app.testid("factor-mfa").await?;
    app.testid("factor-password").await?;
    // The server's score for a new account: only the strong password counts (30 of 100).
    app.wait_text("score-value", "30").await?;
    app.screenshot("security-vault").await?;
    Ok(())
}

/// "Verify email" sends the link; the test opens it as the person would.
async fn verify_email(app: &mut App, server: &TestServer, ada: &Person) -> Result<()> {
    app.click("verify-email-button").await?;
    app.testid("email-sent").await?;
    app.screenshot("email-verification-sent").await?;
    let token = server
        .mailed_token(&ada.email, "/verify-email")
        .context("no verification link in the outbox")?;
    server
        .client()
        .verify_email(&token)
        .await
        .context("the mailed link did not verify the address")?;
    Ok(())
}

async fn change_password(app: &mut App, ada: &mut Person) -> Result<()> {
    app.click("change-password-button").await?;
    app.testid("change-password-dialog").await?;
    app.fill("current-password", &ada.password).await?;
    app.fill("new-password", OTHER_STRONG_PASSWORD).await?;
    app.fill("repeat-password", OTHER_STRONG_PASSWORD).await?;
    wait_strong(app).await?;
    app.screenshot("change-password").await?;
    app.click("change-password-submit").await?;
    app.wait_gone("change-password-dialog").await?;
    ada.password = OTHER_STRONG_PASSWORD.to_owned();
    Ok(())
}

/// Every page of the navigation; the audit log shows this session's own events and
/// exports them to a file.
async fn visit_pages(app: &mut App, driver: &Driver) -> Result<()> {
    app.click("nav-keys").await?;
    app.testid("keys-page").await?;
    app.screenshot("agent-keys").await?;
    app.click("nav-approvals").await?;
    app.testid("approvals-page").await?;
    app.screenshot("approvals").await?;
    app.click("nav-audit").await?;
    app.testid("audit-page").await?;
    app.wait_text("audit-table", "auth.login").await?;
    app.screenshot("audit-log").await?;
    app.click("audit-export-csv").await?;
    let saved = app.wait_text("audit-exported", "keyhold-audit").await?;
    let path = saved.trim_start_matches("Saved to").trim();
    ensure!(
        std::path::Path::new(path).starts_with(driver.home()),
        "export saved outside the app's home: {path}"
    );
    let csv = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    ensure!(
        csv.contains("auth.login"),
        "the exported CSV lacks the sign-in event"
    );
    Ok(())
}

async fn themes_and_menu(app: &mut App) -> Result<()> {
    app.click("nav-vault").await?;
    app.wait_text("score-value", "100").await?;
    app.click("avatar-button").await?;
    app.testid("account-menu").await?;
    app.testid("menu-security-vault").await?;
    app.screenshot("account-menu").await?;
    app.click("theme-dark").await?;
    app.click("avatar-button").await?;
    app.wait_gone("account-menu").await?;
    app.screenshot("security-vault-dark").await?;
    app.click("avatar-button").await?;
    app.click("theme-system").await?;
    app.click("menu-security-vault").await?;
    app.wait_gone("account-menu").await?;
    Ok(())
}

async fn sign_out(app: &mut App) -> Result<()> {
    app.click("avatar-button").await?;
    app.click("menu-sign-out").await?;
    app.testid("first-run")
        .await
        .context("sign-out did not return to sign-in")?;
    Ok(())
}

async fn sign_in(app: &mut App, server: &TestServer, who: &Person) -> Result<()> {
    app.click("mode-signin").await?;
    let email = app
        .testid("email")
        .await?
        .prop("value")
        .await?
        .unwrap_or_default();
    if email != who.email {
        app.fill("email", &who.email).await?;
    }
    app.fill("password", &who.password).await?;
    app.screenshot("sign-in").await?;
    app.click("submit-auth").await?;
    if let Some(secret) = &who.totp {
        app.testid("mfa-step")
            .await
            .context("2FA is on, yet sign-in did not ask for a code")?;
        app.fill("mfa-code", &next_code(server, secret)).await?;
        app.screenshot("sign-in-two-factor").await?;
        app.click("submit-mfa").await?;
    }
    app.testid("topbar")
        .await
        .with_context(|| format!("sign-in as {} failed", who.email))?;
    app.testid("vault-page").await?;
    Ok(())
}

/// Two-factor enrollment as a person does it: the QR code is read from a screenshot of
/// the window (`zbarimg`, Debian zbar-tools), the code computed by `oathtool`; the backup
/// codes are shown once, saved to a file, and never shown again.
async fn enroll_2fa(
    app: &mut App,
    server: &TestServer,
    driver: &Driver,
    ada: &mut Person,
) -> Result<()> {
    // Past the sudo window: enrolling first asks for the password (2FA is still off).
    server.clock.advance(chrono::Duration::minutes(11));
    app.click("enroll-mfa-button").await?;
    app.testid("mfa-enroll-dialog").await?;
    app.fill("reauth-proof", &ada.password).await?;
    app.click("reauth-submit").await?;
    app.wait_gone("reauth-dialog").await?;
    app.wait_image("mfa-qr").await?;
    let shot = app.screenshot("two-factor-scan-qr").await?;
    let uri = harness::zbarimg(&shot)?;
    ensure!(
        uri.starts_with("otpauth://totp/Keyhold:"),
        "the QR code holds {uri:?}"
    );
    let secret = uri
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("secret="))
        .context("no secret in the QR code's URI")?
        .to_owned();
    let manual = app.text("mfa-manual-key").await?.replace(' ', "");
    ensure!(
        manual == secret,
        "the manual key differs from the QR code's secret"
    );

    app.fill("mfa-confirm-code", &next_code(server, &secret))
        .await?;
    app.click("mfa-confirm-button").await?;
    app.testid("backup-codes-panel").await?;
    let mut codes = Vec::new();
    for el in app
        .client
        .find_all(fantoccini::Locator::Css(
            "[data-testid=\"backup-codes\"] code",
        ))
        .await?
    {
        codes.push(el.text().await?.trim().to_owned());
    }
    ensure!(codes.len() == 10, "{} backup codes shown", codes.len());
    ensure!(
        !app.testid("backup-codes-done").await?.is_enabled().await?,
        "the dialog closes before 'I saved them'"
    );
    app.click("backup-codes-download").await?;
    let saved = app
        .wait_text("backup-codes-download-saved", "keyhold-backup-codes")
        .await?;
    let path = saved.trim_start_matches("Saved to").trim();
    ensure!(
        std::path::Path::new(path).starts_with(driver.home()),
        "backup codes saved outside the app's home: {path}"
    );
    let file = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    ensure!(
        codes.iter().all(|c| file.contains(c.as_str())),
        "the downloaded file lacks codes"
    );
    app.screenshot("two-factor-backup-codes").await?;
    app.click("backup-codes-saved").await?;
    app.click("backup-codes-done").await?;
    app.wait_gone("mfa-enroll-dialog").await?;

    // Shown once: the 2FA dialog counts them and never shows them again.
    app.click("manage-mfa-button").await?;
    app.wait_text("backup-codes-remaining", "10").await?;
    let page = app.client.source().await?;
    ensure!(
        !codes.iter().any(|c| page.contains(c.as_str())),
        "a backup code is shown again"
    );
    app.screenshot("two-factor-manage").await?;
    app.click("dialog-close").await?;
    app.wait_gone("mfa-manage-dialog").await?;
    ada.totp = Some(secret);
    Ok(())
}

/// Verified email, 2FA and a strong password: the score reads "protected".
async fn score_protected(app: &mut App) -> Result<()> {
    app.wait_text("score-status", "Protected").await?;
    app.wait_text("score-value", "100").await?;
    app.screenshot("security-vault-protected").await?;
    Ok(())
}

/// The `data-testid` suffix of the first element whose id starts with `prefix`.
async fn first_id(app: &App, prefix: &str) -> Result<String> {
    let css = format!("[data-testid^=\"{prefix}\"]");
    let el = app
        .client
        .wait()
        .at_most(harness::WAIT)
        .for_element(fantoccini::Locator::Css(&css))
        .await
        .with_context(|| format!("nothing matches {css}"))?;
    let id = el.attr("data-testid").await?.unwrap_or_default();
    Ok(id.trim_start_matches(prefix).to_owned())
}

/// Create a key: it is shown once, closing asks for confirmation, then it is gone from
/// the app for good; revoking it marks it revoked.
async fn agent_key_shown_once(app: &mut App) -> Result<()> {
    app.click("nav-keys").await?;
    app.testid("keys-page").await?;
    app.click("create-key-button").await?;
    app.testid("create-key-dialog").await?;
    app.fill("key-name", "deploy-bot").await?;
    app.fill("key-scope-pattern", "production/deploy/*").await?;
    app.wait_text("scope-hint", "production/deploy/").await?;
    app.click("add-scope").await?;
    app.wait_text("key-scopes", "production/deploy/*").await?;
    app.click("expiry-720h").await?;
    app.screenshot("agent-key-create").await?;
    app.click("create-key-submit").await?;
    app.testid("show-once-dialog").await?;
    // The dialog can be up a frame before the value is in it: wait for the value itself.
    let secret = app
        .wait_text("show-once-secret", "kha_")
        .await?
        .trim()
        .to_owned();
    ensure!(
        secret.len() > 20,
        "the new key reads {} characters",
        secret.len()
    );
    ensure!(
        !app.testid("show-once-close").await?.is_enabled().await?,
        "the key dialog closes without confirmation"
    );
    app.screenshot("agent-key-shown-once").await?;
    app.click("show-once-confirm").await?;
    app.click("show-once-close").await?;
    app.wait_gone("show-once-dialog").await?;
    let id = first_id(app, "key-row-").await?;
    let page = app.client.source().await?;
    ensure!(
        !page.contains(&secret),
        "the key is shown again after closing"
    );

    app.click(&format!("revoke-{id}")).await?;
    app.testid("revoke-dialog").await?;
    app.screenshot("agent-key-revoke").await?;
    app.click("confirm-revoke").await?;
    app.wait_gone("revoke-dialog").await?;
    app.wait_text(&format!("key-row-{id}"), "Revoked").await?;
    app.wait_gone(&format!("revoke-{id}")).await?;
    app.screenshot("agent-key-revoked").await?;
    Ok(())
}

/// An agent asks for a critical secret; the request appears live in the inbox of Ada and
/// of Bob (signed in after Ada in the same app); both approve with a TOTP code; after the
/// critical delay the agent reads the secret, once. Bob's history also shows Ada's own
/// request (`asked`, approved on the Secrets page) as a person's: "requested by Ada".
async fn two_approvers(
    app: &mut App,
    server: &TestServer,
    ada: &Person,
    team: &team::Team<'_>,
    asked: &str,
) -> Result<()> {
    app.click("nav-approvals").await?;
    app.testid("approvals-page").await?;
    app.wait_text("approvals-live", "Live").await?;

    let id = team.agent_asks().await?;
    // Live: no reload, no navigation.
    app.testid(&format!("approval-{id}"))
        .await
        .context("the request did not reach Ada's inbox")?;
    app.wait_text("approvals-badge", "1").await?;
    let shown = app
        .testid(&format!("approval-path-{id}"))
        .await?
        .prop("textContent")
        .await?
        .unwrap_or_default();
    ensure!(
        shown.trim() == team::SECRET_PATH,
        "the inbox shows path {shown:?}"
    );
    app.screenshot("approvals-inbox-live").await?;
    approve(app, server, ada, &id).await?;
    app.wait_text(&format!("approval-count-{id}"), "1 of 2")
        .await?;
    app.wait_gone("approvals-badge").await?;
    app.screenshot("approvals-first-approval").await?;

    sign_out(app).await?;
    sign_in(app, server, &team.bob).await?;
    app.wait_text("approvals-badge", "1").await?;
    app.click("nav-approvals").await?;
    app.wait_text(&format!("approval-count-{id}"), "1 of 2")
        .await?;
    app.screenshot("approvals-second-approver").await?;
    approve(app, server, &team.bob, &id).await?;
    app.wait_gone(&format!("approval-{id}")).await?;
    app.click("approvals-tab-history").await?;
    app.wait_text(&format!("approval-{id}"), "approved").await?;
    app.wait_text(&format!("approval-who-{id}"), "billing-agent")
        .await?;
    app.wait_text(
        &format!("approval-who-{asked}"),
        "Requested by Ada Lovelace",
    )
    .await?;
    app.wait_text(&format!("approval-operation-{asked}"), "read")
        .await?;
    app.screenshot("approvals-history").await?;

    team.agent_reads(&id).await
}

async fn approve(app: &mut App, server: &TestServer, who: &Person, id: &str) -> Result<()> {
    let Some(secret) = &who.totp else {
        bail!("{} has no 2FA for a critical approval", who.email)
    };
    app.click(&format!("approve-{id}")).await?;
    app.testid("decide-dialog").await?;
    app.fill("decide-text", "Rotation window, checked with the on-call.")
        .await?;
    app.fill("approval-code", &next_code(server, secret))
        .await?;
    app.screenshot("approvals-approve-with-code").await?;
    app.click("decide-submit").await?;
    app.wait_gone("decide-dialog").await
}

/// Wait until the live meter rates the typed password strong (zxcvbn 3 or 4).
async fn wait_strong(app: &App) -> Result<()> {
    let deadline = std::time::Instant::now() + harness::WAIT;
    loop {
        // Looked up afresh each time: the meter re-renders as the password is typed.
        let s = match app.testid("password-score").await?.attr("data-score").await {
            Ok(v) => v.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if s == "3" || s == "4" {
            return Ok(());
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "the meter shows score {s:?} for a strong passphrase"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// First run: the server address (defaulting as configured), the sign-in / sign-up
/// choice and its button are there, and the address is validated in Rust as it is typed.
async fn first_run_screen(app: &mut App, expected_server: &str) -> Result<()> {
    app.testid("first-run").await?;
    let server = app.testid("server-url").await?;
    let value = server.prop("value").await?.unwrap_or_default();
    ensure!(
        value == expected_server,
        "server field shows {value:?}, expected {expected_server:?}"
    );
    let title = app.client.title().await?;
    ensure!(
        title == "Keyhold — Security Vault",
        "window title is {title:?}"
    );

    // A fresh install starts on "Create account"; switch to sign-in and check its button.
    app.click("mode-signin").await?;
    let submit = app.testid("submit-auth").await?;
    ensure!(
        submit.text().await?.trim() == "Sign in",
        "the submit button does not say Sign in"
    );
    app.testid("email").await?;
    app.testid("password").await?;
    app.screenshot("first-run-sign-in").await?;

    // Plain http to a remote host is refused with a sentence, and the button disables.
    server.clear().await?;
    server.send_keys("http://vault.example.com").await?;
    let hint = app.testid("server-url-hint").await?;
    wait_for_text(app, &hint, "https://").await?;
    ensure!(
        !submit.is_enabled().await?,
        "sign-in stays enabled with an insecure server address"
    );
    app.screenshot("first-run-insecure-server").await?;

    // Back to the expected address: accepted.
    server.clear().await?;
    server.send_keys(expected_server).await?;
    wait_for_text(app, &hint, "this computer").await?;
    ensure!(
        submit.is_enabled().await?,
        "sign-in is disabled for a loopback server"
    );

    // The live password meter (Rust zxcvbn) on the sign-up form.
    app.click("mode-signup").await?;
    app.fill("password", "violet anchor quietly juggles seven kites")
        .await?;
    wait_strong(app).await?;
    app.screenshot("first-run-create-account").await?;
    Ok(())
}

async fn wait_for_text(app: &App, el: &fantoccini::elements::Element, needle: &str) -> Result<()> {
    let deadline = std::time::Instant::now() + harness::WAIT;
    loop {
        let text = el.text().await?;
        if text.contains(needle) {
            return Ok(());
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "waited for {needle:?}, element says {text:?}"
        );
        let _ = app;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Screenshot a failure, then close the session (which quits the app) whatever happened.
async fn finish(mut app: App, outcome: &Result<()>) -> Result<u32> {
    if outcome.is_err() {
        app.failure_screenshot().await;
    }
    let shots = app.shots();
    app.client
        .close()
        .await
        .context("closing the WebDriver session")?;
    Ok(shots)
}

async fn run(paths: Paths) -> Result<()> {
    // The test clock starts at the wall clock so the app's "asked just now" and "24h
    // left" read as people would see them; the test still moves it (TOTP steps, delays).
    let server = TestServer::start_at(keyhold_vault::clock::SystemClock.now(), |_| {}).await;
    let driver = Driver::start(&[("KEYHOLD_URL", server.url())]).await?;
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
    let outcome = first_launch(&mut app, &server, &driver, &mut ada).await;
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
