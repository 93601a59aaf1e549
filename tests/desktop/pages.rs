//! The rest of the app once signed in: every page of the navigation, the audit export,
//! themes and the menu, and the security score reading "protected".

use anyhow::{Context, Result, ensure};

use crate::harness::{App, Driver};

/// Every page of the navigation; the audit log shows this session's own events and
/// exports them to a file.
pub async fn visit_pages(app: &mut App, driver: &Driver) -> Result<()> {
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
    crate::audit::filters_and_export(app, driver).await
}

pub async fn themes_and_menu(app: &mut App) -> Result<()> {
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

/// Verified email, 2FA and a strong password: the score reads "protected".
pub async fn score_protected(app: &mut App) -> Result<()> {
    app.wait_text("score-status", "Protected").await?;
    app.wait_text("score-value", "100").await?;
    app.screenshot("security-vault-protected").await?;
    Ok(())
}
