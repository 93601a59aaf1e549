//! Agent keys in the window: shown once, then gone; the table fits the window; details;
//! revoked on request (from the details, in the app's own confirmation), then found under
//! the Revoked filter. Rotation and editing are in `key_rotation`.

use anyhow::{Context, Result, ensure};

use crate::harness::{self, App};

/// The `data-testid` suffix of the first element whose id starts with `prefix`.
pub async fn first_id(app: &App, prefix: &str) -> Result<String> {
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
pub async fn agent_key_shown_once(app: &mut App) -> Result<()> {
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

    table_fits(app).await?;
    app.screenshot("agent-keys-table").await?;

    app.click(&format!("key-details-{id}")).await?;
    app.testid("key-details-dialog").await?;
    app.wait_text("key-usage-24h", "0").await?;
    app.testid("key-ips-none").await?;
    app.screenshot("agent-key-details").await?;
    app.click(&format!("revoke-{id}")).await?;
    app.testid("revoke-dialog").await?;
    // The safe choice has the focus in a destructive dialog (once the dialog has opened).
    let mut focused = serde_json::Value::Null;
    for _ in 0..30 {
        focused = app
            .client
            .execute(
                "const a = document.activeElement; return a ? a.getAttribute('data-testid') : null;",
                vec![],
            )
            .await?;
        if focused.as_str() == Some("keep-key") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    ensure!(
        focused.as_str() == Some("keep-key"),
        "the revoke dialog opened with focus on {focused}"
    );
    app.screenshot("agent-key-revoke").await?;
    app.click("confirm-revoke").await?;
    app.wait_gone("revoke-dialog").await?;
    // A completed action says so, in the one toast area (role="status").
    app.wait_text("toasts", "Key \"deploy-bot\" revoked.")
        .await?;
    // Revoked keys leave the default (Active) view and wait under Revoked.
    app.wait_gone(&format!("key-row-{id}")).await?;
    app.click("keys-filter-revoked").await?;
    app.wait_text(&format!("key-row-{id}"), "Revoked").await?;
    app.click(&format!("key-details-{id}")).await?;
    app.testid("key-details-dialog").await?;
    app.wait_gone(&format!("revoke-{id}")).await?;
    app.wait_gone("key-rotate").await?;
    app.click("key-details-close").await?;
    app.wait_gone("key-details-dialog").await?;
    app.screenshot("agent-key-revoked").await?;
    app.click("keys-filter-active").await?;
    Ok(())
}

/// The keys table is no wider than its card, nor the page than the window (1200 px with
/// the sidebar): compared in the web view itself.
pub async fn table_fits(app: &App) -> Result<()> {
    let sizes = app
        .client
        .execute(
            "const w = document.querySelector('[data-testid=\"keys-table-wrap\"]');\
             const c = document.querySelector('.content');\
             return [w.scrollWidth, w.clientWidth, c.scrollWidth, c.clientWidth, window.innerWidth];",
            vec![],
        )
        .await?;
    let n: Vec<i64> = serde_json::from_value(sizes)?;
    ensure!(n.len() == 5, "no sizes: {n:?}");
    ensure!(
        n[0] <= n[1] && n[2] <= n[3],
        "the keys table overflows at a {} px window: table {} > {} or page {} > {}",
        n[4],
        n[0],
        n[1],
        n[2],
        n[3]
    );
    Ok(())
}

/// A key created more than 10 minutes after sign-in: the server answers `reauth_required`,
/// the app's one "Confirm it's you" step asks for a code, then creates the key (no dead
/// end). The step is the same for every command (ui/src/lib/reauth.ts).
pub async fn create_after_sudo_lapsed(
    app: &mut App,
    server: &keyhold_e2e::TestServer,
    totp_secret: &str,
) -> Result<()> {
    app.click("nav-keys").await?;
    app.testid("keys-page").await?;
    app.click("create-key-button").await?;
    app.testid("create-key-dialog").await?;
    app.fill("key-name", "nightly-bot").await?;
    app.fill("key-scope-pattern", "production/nightly/*")
        .await?;
    app.click("add-scope").await?;
    app.wait_text("key-scopes", "production/nightly/*").await?;
    server.clock.advance(chrono::Duration::minutes(11));
    app.click("create-key-submit").await?;
    app.testid("reauth-dialog")
        .await
        .context("a key creation past the sudo window did not ask to confirm it's you")?;
    app.fill("reauth-proof", &crate::next_code(server, totp_secret))
        .await?;
    app.screenshot("agent-key-sudo-prompt").await?;
    app.click("reauth-submit").await?;
    app.wait_gone("reauth-dialog").await?;
    app.wait_text("show-once-secret", "kha_").await?;
    app.click("show-once-confirm").await?;
    app.click("show-once-close").await?;
    app.wait_gone("show-once-dialog").await?;
    app.wait_gone("create-key-dialog").await
}
