//! Getting in and out: the first-run screen, sign-up, email verification, password
//! change with the live strength meter, sign-out and sign-in (with a TOTP code).

use anyhow::{Context, Result, ensure};
use keyhold_e2e::{OTHER_STRONG_PASSWORD, TestServer};

use crate::harness::App;
use crate::{Person, harness, next_code};

pub async fn sign_up(app: &mut App, ada: &Person) -> Result<()> {
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
pub async fn verify_email(app: &mut App, server: &TestServer, ada: &Person) -> Result<()> {
    app.click("verify-email-button").await?;
    app.testid("email-sent").await?;
    app.screenshot("email-verification-sent").await?;
    let token = server
        .mailed_token(&ada.email, "/verify-email")
        .await
        .context("no verification link in the outbox")?;
    server
        .client()
        .verify_email(&token)
        .await
        .context("the mailed link did not verify the address")?;
    Ok(())
}

pub async fn change_password(app: &mut App, ada: &mut Person) -> Result<()> {
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

pub async fn sign_out(app: &mut App) -> Result<()> {
    app.click("avatar-button").await?;
    app.click("menu-sign-out").await?;
    app.testid("first-run")
        .await
        .context("sign-out did not return to sign-in")?;
    Ok(())
}

pub async fn sign_in(app: &mut App, server: &TestServer, who: &Person) -> Result<()> {
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
pub async fn first_run_screen(app: &mut App, expected_server: &str) -> Result<()> {
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

/// "Forgot password?": the link is mailed (through the outbox), pasted whole with a new
/// password; 2FA is on, so the app asks for a code; then Ada signs in with the new one.
pub async fn forgot_password(app: &mut App, server: &TestServer, ada: &mut Person) -> Result<()> {
    let secret = ada.totp.clone().context("Ada has no 2FA")?;
    sign_out(app).await?;
    app.click("mode-signin").await?;
    app.click("forgot-password-link").await?;
    app.testid("forgot-password").await?;
    app.fill("reset-email", &ada.email).await?;
    app.click("reset-request").await?;
    app.testid("reset-mailed").await?;
    let link = server
        .mailed_link(&ada.email, "/reset-password")
        .await
        .context("no reset link in the outbox")?;
    app.fill("reset-token", &link).await?;
    app.fill("reset-password", keyhold_e2e::STRONG_PASSWORD)
        .await?;
    wait_strong(app).await?;
    app.screenshot("forgot-password-new-password").await?;
    app.click("reset-submit").await?;
    app.testid("reset-code-hint")
        .await
        .context("2FA is on, yet the reset did not ask for a code")?;
    app.fill("reset-code", &next_code(server, &secret)).await?;
    app.click("reset-submit").await?;
    app.testid("reset-done").await?;
    app.screenshot("forgot-password-done").await?;
    app.click("reset-back").await?;
    ada.password = keyhold_e2e::STRONG_PASSWORD.to_owned();
    sign_in(app, server, ada).await
}
