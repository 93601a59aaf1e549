//! Approvals in the window: a critical request arrives live in two approvers' inboxes
//! and each approves it with a TOTP code.

use anyhow::{Context, Result, bail, ensure};
use keyhold_e2e::TestServer;

use crate::account::{sign_in, sign_out};
use crate::harness::App;
use crate::{Person, next_code, team};

/// An agent asks for a critical secret; the request appears live in the inbox of Ada and
/// of Bob (signed in after Ada in the same app); both approve with a TOTP code; after the
/// critical delay the agent reads the secret, once. Bob's history also shows Ada's own
/// request (`asked`, approved on the Secrets page) as a person's: "requested by Ada".
pub async fn two_approvers(
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
