//! The Secrets page in the real window: Ada writes a critical secret (the sudo prompt),
//! reads it and is told approval was requested; while she is alone the page says the
//! team is too small; once Bob and Carol have joined and approved (over the API, each
//! with a fresh TOTP code) and the critical delay has passed, the value opens once:
//! masked, revealed on request, copied through the system clipboard, which is cleared
//! 30 s later.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use fantoccini::key::Key;
use keyhold_e2e::TestServer;

use crate::harness::App;
use crate::team::Team;
use crate::{Person, next_code};

pub const PATH: &str = "prod/payments/signing-key";
const VALUE: &str = "whsec_e2e_only_9f8e7d6c5b4a";

/// What the copy step leaves for the check that the clipboard was cleared.
pub struct Copied {
    at: Instant,
}

/// The approval request the read opened: its id, from the progress panel.
async fn request_id(app: &App) -> Result<String> {
    let id = app
        .testid("approval-progress")
        .await?
        .attr("data-approval-id")
        .await?
        .unwrap_or_default();
    ensure!(!id.is_empty(), "the progress panel names no request");
    Ok(id)
}

/// Ada, alone in her team: a critical secret written past the sudo window asks her to
/// confirm it's her; reading it opens a request the page follows, and says nobody can
/// approve it yet.
pub async fn alone(app: &mut App, server: &TestServer, ada: &Person) -> Result<String> {
    let secret = ada.totp.as_deref().context("Ada has no 2FA")?;
    app.click("nav-secrets").await?;
    app.testid("secrets-page").await?;
    app.click("new-secret-button").await?;
    app.testid("write-secret-dialog").await?;
    app.fill("secret-path", PATH).await?;
    app.choose("secret-kind", "api_key").await?;
    app.choose("secret-tier", "critical").await?;
    app.fill("secret-value-input", VALUE).await?;
    app.screenshot("secrets-new-critical").await?;
    // The sign-in was more than 10 minutes ago: the write needs the sudo window.
    server.clock.advance(chrono::Duration::minutes(11));
    app.click("write-secret-submit").await?;
    app.testid("reauth-dialog")
        .await
        .context("a critical write past the sudo window did not ask to confirm it's you")?;
    app.fill("reauth-proof", &next_code(server, secret)).await?;
    app.screenshot("secrets-sudo-prompt").await?;
    app.click("reauth-submit").await?;
    app.wait_gone("reauth-dialog").await?;
    app.wait_gone("write-secret-dialog").await?;
    app.wait_text("secret-detail-path", PATH).await?;
    app.wait_text("secret-detail-tier", "CRITICAL").await?;
    app.wait_text("secret-version-1", "You").await?;
    app.testid(&format!("secret-row-{PATH}")).await?;

    app.click("read-secret").await?;
    app.wait_text("approval-progress-title", "Approval requested to read")
        .await?;
    app.wait_text("approval-progress-count", "0 of 2 approvals")
        .await?;
    app.wait_text(
        "too-few-approvers-text",
        "This needs 2 approvers; your team has 0.",
    )
    .await?;
    app.screenshot("secrets-too-few-approvers").await?;
    app.click("invite-from-approval").await?;
    app.testid("invite-dialog").await?;
    app.screenshot("secrets-invite").await?;
    app.click("dialog-close").await?;
    app.wait_gone("invite-dialog").await?;
    let page = app.client.source().await?;
    ensure!(
        !page.contains(VALUE),
        "the value is in the page before approval"
    );
    request_id(app).await
}

/// With Bob and Carol in the team: the warning goes, their approvals show up live, and
/// after the critical delay the value opens masked; Reveal shows it; Copy puts it on the
/// system clipboard (pasted back into a field to check).
pub async fn approved(
    app: &mut App,
    server: &TestServer,
    team: &Team<'_>,
    id: &str,
) -> Result<Copied> {
    // Two people may approve now: the progress panel stops saying the team is too small.
    app.wait_gone("too-few-approvers").await?;
    team.approve(0, id).await?;
    app.wait_text("approval-progress-count", "1 of 2 approvals (Bob Babbage)")
        .await?;
    app.screenshot("secrets-approval-progress").await?;
    team.approve(1, id).await?;
    app.wait_text("approval-progress-count", "2 of 2 approvals")
        .await?;
    app.testid("approval-complete").await?;
    app.screenshot("secrets-approved-waiting-delay").await?;
    // Past the critical delay (10 minutes) by the server's clock.
    server.clock.advance(chrono::Duration::minutes(11));
    app.click("approval-complete").await?;
    let shown = app.testid("secret-value").await?;
    ensure!(
        shown.attr("data-masked").await?.as_deref() == Some("true"),
        "the value is not masked before Reveal"
    );
    ensure!(
        !app.client.source().await?.contains(VALUE),
        "the value is in the page before Reveal"
    );
    app.screenshot("secrets-value-masked").await?;
    app.click("reveal-secret").await?;
    app.wait_text("secret-value", VALUE).await?;
    app.screenshot("secrets-value-revealed").await?;
    app.click("copy-secret").await?;
    app.testid("copy-done").await?;
    let at = Instant::now();
    ensure!(
        pasted(app).await? == VALUE,
        "the clipboard does not hold the value after Copy"
    );
    Ok(Copied { at })
}

/// What the system clipboard holds, pasted (Ctrl+V) into the new-secret dialog's value
/// field, which is then closed unsaved.
async fn pasted(app: &mut App) -> Result<String> {
    app.click("nav-secrets").await?;
    app.click("new-secret-button").await?;
    let paste = format!("{}v{}", char::from(Key::Control), char::from(Key::Null));
    // A dialog that is still opening can refuse the first keystrokes (WebKit answers with
    // an empty error): look the field up again and retry, as `App::fill` does.
    let deadline = Instant::now() + crate::harness::WAIT;
    let text = loop {
        let field = app.testid("secret-value-input").await?;
        match field.send_keys(&paste).await {
            Ok(()) => {
                tokio::time::sleep(Duration::from_millis(300)).await;
                break field.prop("value").await?.unwrap_or_default();
            }
            Err(e) if Instant::now() > deadline => {
                return Err(e).context("pasting into the value field");
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    app.click("dialog-close").await?;
    app.wait_gone("write-secret-dialog").await?;
    Ok(text)
}

/// 30 s after the copy, the clipboard no longer holds the value.
pub async fn clipboard_cleared(app: &mut App, copied: Copied) -> Result<()> {
    let wait = Duration::from_secs(31).saturating_sub(copied.at.elapsed());
    tokio::time::sleep(wait).await;
    let text = pasted(app).await?;
    ensure!(
        text != VALUE,
        "the value is still on the clipboard 30 s after Copy"
    );
    Ok(())
}
