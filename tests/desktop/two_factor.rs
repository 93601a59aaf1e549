//! Turning 2FA on in the window, as a person does it: QR code, code, backup codes.

use anyhow::{Context, Result, ensure};
use keyhold_e2e::TestServer;

use crate::harness::{App, Driver};
use crate::{Person, harness, next_code};

/// Two-factor enrollment as a person does it: the QR code is read from a screenshot of
/// the window (`zbarimg`, Debian zbar-tools), the code computed by `oathtool`; the backup
/// codes are shown once, saved to a file, and never shown again.
pub async fn enroll_2fa(
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
