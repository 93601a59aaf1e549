//! The Settings area in the real window: what an approver sees (read-only policy, their
//! own notifications), then Ada, an owner, changes a member's role and the approval policy
//! through the sudo prompt. Each change is read back over the API.

use anyhow::{Context, Result, ensure};
use keyhold_e2e::TestServer;

use crate::account::{sign_in, sign_out};
use crate::harness::App;
use crate::{Person, next_code, team::Team};

/// The `data-testid` suffix of the member row whose email is `email`.
async fn member_id(app: &App, email: &str) -> Result<String> {
    app.testid("members-table").await?;
    let id = app
        .client
        .execute(
            "const r = [...document.querySelectorAll('[data-email]')]\
               .find((e) => e.dataset.email === arguments[0] && e.dataset.testid.startsWith('member-row-'));\
             return r ? r.dataset.testid.slice('member-row-'.length) : null;",
            vec![serde_json::Value::from(email)],
        )
        .await?;
    id.as_str()
        .map(str::to_owned)
        .with_context(|| format!("no member row for {email}"))
}

/// Past the sudo window: the prompt asks who it is; a fresh TOTP code answers.
async fn confirm_its_me(app: &mut App, server: &TestServer, who: &Person) -> Result<()> {
    let secret = who.totp.as_deref().context("2FA is not on")?;
    app.testid("reauth-dialog").await?;
    app.fill("reauth-proof", &next_code(server, secret)).await?;
    app.click("reauth-submit").await?;
    app.wait_gone("reauth-dialog").await
}

/// Bob, an approver: the members without the buttons that change them, the policy
/// read-only.
pub async fn as_approver(app: &mut App, team: &Team<'_>) -> Result<()> {
    app.click("nav-settings").await?;
    app.testid("settings-page").await?;
    member_id(app, &team.bob.email).await?;
    ensure!(
        app.client
            .find_all(fantoccini::Locator::Css(
                "[data-testid^=\"member-change-role-\"]"
            ))
            .await?
            .is_empty(),
        "an approver is offered role changes"
    );
    app.click("settings-tab-policy").await?;
    app.testid("policy-read-only").await?;
    app.screenshot("settings-policy-read-only").await?;
    Ok(())
}

/// Bob turns his own approval mail off.
pub async fn notifications(app: &mut App, team: &Team<'_>) -> Result<()> {
    app.click("nav-settings").await?;
    app.click("settings-tab-notifications").await?;
    let mail = app.testid("notifications-approval-mail").await?;
    ensure!(mail.is_selected().await?, "approval mail starts off");
    mail.click().await?;
    app.wait_text("notifications-saved", "off").await?;
    app.screenshot("settings-notifications").await?;
    let prefs = team.bob_api()?.notification_prefs().await?;
    ensure!(!prefs.approval_mail, "the switch did not reach the server");
    Ok(())
}

/// Ada, an owner: makes Bob an admin and raises the critical quorum, each past the sudo
/// window, with the prompt.
pub async fn as_owner(
    app: &mut App,
    server: &TestServer,
    ada: &Person,
    team: &Team<'_>,
) -> Result<()> {
    sign_out(app).await?;
    sign_in(app, server, ada).await?;
    app.click("nav-settings").await?;
    let bob = member_id(app, &team.bob.email).await?;
    app.wait_text(&format!("member-role-{bob}"), "approver")
        .await?;
    app.screenshot("settings-team").await?;
    app.click(&format!("member-change-role-{bob}")).await?;
    app.testid("member-role-dialog").await?;
    app.choose("member-role-select", "admin").await?;
    server.clock.advance(chrono::Duration::minutes(11));
    app.click("member-role-save").await?;
    confirm_its_me(app, server, ada).await?;
    app.wait_gone("member-role-dialog").await?;
    app.wait_text(&format!("member-role-{bob}"), "admin")
        .await?;

    app.click("settings-tab-policy").await?;
    app.testid("policy-form").await?;
    app.fill("policy-critical", "3").await?;
    app.fill("policy-critical-delay", "5").await?;
    app.screenshot("settings-approval-policy").await?;
    server.clock.advance(chrono::Duration::minutes(11));
    app.click("policy-save").await?;
    confirm_its_me(app, server, ada).await?;
    app.testid("policy-saved").await?;
    let kept = team.admin_api()?.tenant_settings().await?;
    ensure!(
        kept.approvals.critical == 3 && kept.approvals.critical_delay == "5m",
        "the server keeps {:?}",
        kept.approvals
    );
    Ok(())
}
