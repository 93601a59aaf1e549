//! The Team page in the real window: Ada invites someone past the sudo window (she
//! confirms it's her with a code), the pending invitation shows up in the list at once,
//! and she revokes it behind the app's own confirmation.

use anyhow::{Context, Result};
use keyhold_e2e::{TestServer, unique_email};

use crate::harness::App;
use crate::{Person, first_id, next_code};

pub async fn invite_then_revoke(app: &mut App, server: &TestServer, ada: &Person) -> Result<()> {
    let secret = ada.totp.as_deref().context("Ada has no 2FA")?;
    let email = unique_email("erin");
    app.click("nav-settings").await?;
    app.click("settings-tab-team").await?;
    app.testid("invitations-empty").await?;
    app.click("team-invite-button").await?;
    app.fill("invite-email", &email).await?;
    app.choose("invite-role", "member").await?;
    server.clock.advance(chrono::Duration::minutes(11));
    app.click("invite-submit").await?;
    app.fill("reauth-proof", &next_code(server, secret)).await?;
    app.click("reauth-submit").await?;
    app.testid("invite-sent").await?;
    app.click("invite-done").await?;
    app.wait_gone("invite-dialog").await?;

    let id = first_id(app, "invitation-row-").await?;
    let row = format!("invitation-row-{id}");
    app.wait_text(&row, &email).await?;
    app.wait_text(&row, "Ada Lovelace").await?;
    app.screenshot("team-pending-invitation").await?;
    app.click(&format!("revoke-invitation-{id}")).await?;
    app.testid("revoke-invitation-dialog").await?;
    // Also lets the opening dialog settle: WebKit refuses a click on it mid-animation.
    app.screenshot("team-revoke-invitation").await?;
    app.click("confirm-revoke-invitation").await?;
    app.wait_gone("revoke-invitation-dialog").await?;
    app.wait_gone(&row).await?;
    app.testid("invitations-empty").await?;
    Ok(())
}
