//! Approvals in the window: a critical request arrives live in two approvers' inboxes
//! and each approves it with a TOTP code; the second sees what the decision rests on (the
//! agent, its owner, the tier, the missing reason, the first vote's comment, what a yes
//! opens) and cannot deny without a reason.

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
    decision_context(app, &id).await?;
    deny_needs_a_reason(app, &id).await?;
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

/// Bob's dialog shows the request's context: Carol's agent, the critical tier, the read,
/// "No reason given" (the agent gave none), Ada's vote with her comment, and what a yes
/// opens for how long.
async fn decision_context(app: &mut App, id: &str) -> Result<()> {
    app.click(&format!("deny-{id}")).await?;
    app.testid("decide-dialog").await?;
    app.wait_text("decide-agent", "billing-agent").await?;
    app.wait_text("decide-owner", "Carol Cray").await?;
    // Shown in capitals by the stylesheet: the words are the DOM's.
    let tier = app.testid("decide-tier").await?.prop("textContent").await?;
    ensure!(
        tier.as_deref() == Some("critical"),
        "the dialog shows tier {tier:?}"
    );
    app.wait_text("decide-operation", "read").await?;
    app.wait_text("decide-reason", "No reason given").await?;
    let votes = app.wait_text("decide-votes", "Ada Lovelace").await?;
    ensure!(
        votes.contains("Rotation window, checked with the on-call."),
        "Ada's comment is not shown with her vote: {votes:?}"
    );
    let grant = app.wait_text("decide-grant", "opens for 1 hour").await?;
    ensure!(
        grant.contains("one read of prod/stripe") && grant.contains("after a delay of"),
        "the dialog does not say what a yes opens: {grant:?}"
    );
    Ok(())
}

/// Deny with the reason left empty: refused in the dialog, the field marked required and
/// invalid with the error tied to it, and the request still pending.
async fn deny_needs_a_reason(app: &mut App, id: &str) -> Result<()> {
    let field = app.testid("decide-text").await?;
    ensure!(
        field.attr("aria-required").await?.as_deref() == Some("true"),
        "the deny reason is not marked required"
    );
    app.click("decide-submit").await?;
    app.wait_text("decide-text-hint", "Say why you deny it")
        .await?;
    let field = app.testid("decide-text").await?;
    ensure!(
        field.attr("aria-invalid").await?.as_deref() == Some("true"),
        "the empty reason is not marked invalid"
    );
    let hint_id = app.testid("decide-text-hint").await?.attr("id").await?;
    ensure!(
        hint_id.is_some() && field.attr("aria-describedby").await? == hint_id,
        "the error is not tied to the field"
    );
    app.testid("decide-dialog").await?;
    app.screenshot("approvals-deny-needs-a-reason").await?;
    app.click("dialog-close").await?;
    app.wait_gone("decide-dialog").await?;
    app.wait_text(&format!("approval-count-{id}"), "1 of 2")
        .await?;
    Ok(())
}
