//! The Settings area in the real window: what an approver sees (read-only policy, their
//! own notifications), then Ada, an owner, changes a member's role and the approval policy
//! through the sudo prompt, and manages a webhook against a real receiver. Each change is
//! read back over the API or at the receiver.

use anyhow::{Context, Result, ensure};
use keyhold_e2e::TestServer;
use keyhold_e2e::receiver::Receiver;

use crate::account::{sign_in, sign_out};
use crate::harness::App;
use crate::keys::first_id;
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

/// Ada adds an endpoint (a real receiver that checks signatures with `standardwebhooks`):
/// the secret is shown once and closing without storing it asks first; a test arrives
/// signed with it; a 500 is retried from the log; the secret is rotated (both sign);
/// the endpoint is disabled, enabled and removed.
pub async fn webhooks(app: &mut App) -> Result<()> {
    let rx = Receiver::start();
    app.click("settings-tab-webhooks").await?;
    app.testid("webhooks-empty").await?;
    app.click("webhook-add-button").await?;
    app.fill("webhook-url", &rx.url("desktop")).await?;
    app.click("webhook-events-some").await?;
    app.click("webhook-event-approval.*").await?;
    app.fill("webhook-description", "On-call alerts").await?;
    app.screenshot("settings-webhook-add").await?;
    app.click("webhook-add-submit").await?;
    let secret = shown_once(app, "settings-webhook-secret-shown-once").await?;
    rx.set_secrets(&[&secret]);

    let id = first_id(app, "webhook-manage-").await?;
    app.click(&format!("webhook-manage-{id}")).await?;
    app.testid("deliveries-empty").await?;
    app.click("webhook-test").await?;
    let got = rx.wait_for(1).await;
    ensure!(
        got[0].verified_by == vec![0],
        "the test is not signed with the secret shown: {:?}",
        got[0]
    );
    let delivered = first_id(app, "delivery-status-").await?;
    app.wait_text(&format!("delivery-status-{delivered}"), "Delivered")
        .await?;
    app.screenshot("settings-webhook-deliveries").await?;

    // The receiver fails: the delivery stays pending with its answer; retry sends it again.
    rx.set_mode("500");
    app.click("webhook-test").await?;
    rx.wait_for(2).await;
    let failing = loop_until_new(app, &delivered).await?;
    app.wait_text(&format!("delivery-row-{failing}"), "HTTP 500")
        .await?;
    app.screenshot("settings-webhook-failed-delivery").await?;
    rx.set_mode("200");
    app.click(&format!("delivery-retry-{failing}")).await?;
    app.wait_text(&format!("delivery-status-{failing}"), "Delivered")
        .await?;

    app.click("webhook-rotate").await?;
    app.testid("webhook-rotate-dialog").await?;
    // Also lets the opening dialog settle: WebKit refuses a click on it mid-animation.
    app.screenshot("settings-webhook-rotate").await?;
    app.click("webhook-rotate-dialog-confirm").await?;
    let rotated = shown_once(app, "settings-webhook-rotated").await?;
    ensure!(rotated != secret, "rotation showed the old secret");
    rx.set_secrets(&[&secret, &rotated]);
    app.click("webhook-test").await?;
    let got = rx.wait_for(4).await;
    ensure!(
        got.last().is_some_and(|r| r.verified_by == vec![0, 1]),
        "during the rotation both secrets must sign: {:?}",
        got.last()
    );

    app.click("webhook-toggle").await?;
    app.wait_text("webhook-dialog-state", "Disabled").await?;
    app.click("webhook-toggle").await?;
    app.wait_text("webhook-dialog-state", "Enabled").await?;
    app.click("webhook-remove").await?;
    app.testid("webhook-remove-dialog").await?;
    app.settle().await?;
    app.click("webhook-remove-dialog-confirm").await?;
    app.wait_gone("webhook-dialog").await?;
    app.testid("webhooks-empty").await?;
    Ok(())
}

/// The show-once dialog: read the secret, try to close without storing it (the app asks),
/// go back, confirm, close.
async fn shown_once(app: &mut App, shot: &str) -> Result<String> {
    let secret = app.wait_text("show-once-secret", "whsec_").await?;
    app.screenshot(shot).await?;
    // This dialog's own close button (the endpoint's dialog may be open underneath).
    app.client
        .find(fantoccini::Locator::Css(
            "[data-testid=\"show-once-dialog\"] [data-testid=\"dialog-close\"]",
        ))
        .await?
        .click()
        .await
        .context("closing the show-once dialog")?;
    app.testid("show-once-leave").await?;
    app.click("show-once-back").await?;
    app.click("show-once-confirm").await?;
    app.click("show-once-close").await?;
    app.wait_gone("show-once-dialog").await?;
    Ok(secret.trim().to_owned())
}

/// The id of the delivery in the log that is not `old`, once the log shows it (the log
/// reloads after a test; deliveries made at the same instant come in any order).
async fn loop_until_new(app: &App, old: &str) -> Result<String> {
    let deadline = std::time::Instant::now() + crate::harness::WAIT;
    loop {
        let found = app
            .client
            .execute(
                "const r = [...document.querySelectorAll('[data-testid^=\"delivery-row-\"]')]\
                   .map((e) => e.dataset.testid.slice('delivery-row-'.length))\
                   .find((id) => id !== arguments[0]);\
                 return r ?? null;",
                vec![serde_json::Value::from(old)],
            )
            .await?;
        if let Some(id) = found.as_str() {
            return Ok(id.to_owned());
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "no new delivery in the log"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Carol lost her phone and backup codes: Ada turns her 2FA off from the Team tab with her
/// own current code.
pub async fn reset_member_2fa(
    app: &mut App,
    server: &TestServer,
    ada: &Person,
    team: &Team<'_>,
) -> Result<()> {
    let secret = ada.totp.as_deref().context("Ada has no 2FA")?;
    app.click("settings-tab-team").await?;
    let carol = member_id(app, &team.carol_email).await?;
    app.click(&format!("member-reset-mfa-{carol}")).await?;
    app.testid("member-reset-mfa-dialog").await?;
    app.fill("member-reset-mfa-code", &next_code(server, secret))
        .await?;
    app.screenshot("settings-member-reset-2fa").await?;
    app.click("member-reset-mfa-confirm").await?;
    app.wait_gone("member-reset-mfa-dialog").await?;
    app.wait_text(&format!("member-row-{carol}"), "Off").await?;
    let members = team.bob_api()?.members().await?;
    ensure!(
        members
            .iter()
            .any(|m| m.email == team.carol_email && !m.mfa_enabled),
        "Carol's 2FA is still on at the server"
    );
    Ok(())
}
