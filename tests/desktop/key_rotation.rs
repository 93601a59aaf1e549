//! An agent key's life after creation, in the window and over HTTP: its details show the
//! agent's requests and address; its expiry is edited (a past date refused on the field,
//! then the "Confirm it's you" step, then saved); it is rotated with an hour's overlap (the
//! new secret shown once, both keys working, then only the new one once the hour is past),
//! and rotated again with no overlap (the old key refused at once). The table still fits.

use anyhow::{Context, Result, ensure};
use keyhold_core::api::CreateKeyRequest;
use keyhold_core::path::SecretPath;
use keyhold_core::scope::Scope;
use keyhold_e2e::TestServer;
use keyhold_vault::clock::Clock;

use crate::harness::App;
use crate::keys::table_fits;
use crate::{Person, next_code};

const PATH: &str = "prod/rotation/TOKEN";
/// Long on purpose: the table must still fit.
const NAME: &str = "nightly-integration-billing-reconciliation-agent";

/// `GET /v1/secrets/{PATH}` with an agent key: the status.
async fn read_with(server: &TestServer, key: &str) -> Result<u16> {
    let r = reqwest::Client::new()
        .get(format!("{}/v1/secrets/{PATH}", server.url()))
        .bearer_auth(key)
        .send()
        .await?;
    Ok(r.status().as_u16())
}

/// Reload the Keys page (it lists keys when it opens).
async fn open_keys(app: &App) -> Result<()> {
    app.click("nav-vault").await?;
    app.testid("vault-page").await?;
    app.click("nav-keys").await?;
    app.testid("keys-page").await?;
    Ok(())
}

/// The "Confirm it's you" step with the next TOTP code.
async fn confirm_its_you(app: &mut App, server: &TestServer, secret: &str) -> Result<()> {
    app.testid("reauth-dialog")
        .await
        .context("a change past the sudo window did not ask to confirm it's you")?;
    app.fill("reauth-proof", &next_code(server, secret)).await?;
    app.click("reauth-submit").await?;
    app.wait_gone("reauth-dialog").await
}

/// The secret in the open show-once dialog; confirms and closes it.
async fn take_secret(app: &mut App, shot: &str) -> Result<String> {
    let secret = app
        .wait_text("show-once-secret", "kha_")
        .await?
        .trim()
        .to_owned();
    app.screenshot(shot).await?;
    app.click("show-once-confirm").await?;
    app.click("show-once-close").await?;
    app.wait_gone("show-once-dialog").await?;
    Ok(secret)
}

/// The whole scenario; Ada (2FA on) is signed in to the app.
pub async fn rotate_and_edit(app: &mut App, server: &TestServer, ada: &Person) -> Result<()> {
    let totp = ada.totp.clone().context("Ada has no 2FA")?;
    let api = crate::team::sign_in_with_2fa(server, ada).await?;
    api.put_secret(&SecretPath::parse(PATH)?, "rotation-value", None, None)
        .await?;
    let created = api
        .create_key(&CreateKeyRequest {
            name: NAME.into(),
            scopes: vec![
                Scope::parse("secrets:read:prod/rotation/*")?,
                Scope::parse("secrets:write:prod/rotation/*")?,
                Scope::parse("secrets:read:prod/shared/*")?,
            ],
            expires_in: None,
            ip_allowlist: None,
            public_key: None,
        })
        .await?;
    let first = created.secret.expose().clone();
    let id = created.key.id.clone();
    ensure!(
        read_with(server, &first).await? == 200,
        "the new key does not read"
    );

    // The table fits with a long name and three scopes; the details show the agent's use.
    open_keys(app).await?;
    app.testid(&format!("key-row-{id}")).await?;
    table_fits(app).await?;
    app.click(&format!("key-details-{id}")).await?;
    app.wait_text("key-usage-24h", "1").await?;
    app.wait_text("key-ips", "127.0.0.1").await?;
    app.screenshot("agent-key-details-used").await?;

    // Edit: a past date is refused on its field, nothing sent; then 90 days, after the
    // "Confirm it's you" step (the sudo window has lapsed).
    server.clock.advance(chrono::Duration::minutes(11));
    app.click("key-edit").await?;
    app.testid("edit-key-dialog").await?;
    app.fill("edit-key-expiry", "2001-01-01").await?;
    app.click("edit-key-submit").await?;
    app.wait_text("edit-key-expiry-hint", "future").await?;
    let invalid = app
        .testid("edit-key-expiry")
        .await?
        .attr("aria-invalid")
        .await?;
    ensure!(
        invalid.as_deref() == Some("true"),
        "the refused expiry is not marked invalid"
    );
    app.screenshot("agent-key-edit-refused").await?;
    app.click("edit-expiry-90d").await?;
    app.click("edit-key-submit").await?;
    confirm_its_you(app, server, &totp).await?;
    app.wait_gone("edit-key-dialog").await?;
    app.wait_text("toasts", "updated.").await?;
    let d = api.key(&id).await?;
    let days = d
        .key
        .expires_at
        .map(|t| (t - server.clock.now()).num_days())
        .context("the edited key has no expiry on the server")?;
    ensure!(
        (89..=90).contains(&days),
        "the key now expires in {days} days"
    );
    app.testid("key-details-dialog").await?;
    app.screenshot("agent-key-edited").await?;

    // Rotate, an hour's overlap (the default): both keys work, then only the new one.
    app.click("key-rotate").await?;
    app.testid("rotate-dialog").await?;
    app.screenshot("agent-key-rotate").await?;
    app.click("rotate-submit").await?;
    let second = take_secret(app, "agent-key-rotated-shown-once").await?;
    app.wait_text("toasts", "rotated.").await?;
    ensure!(second != first, "the rotation gave the same secret");
    ensure!(
        !app.client.source().await?.contains(&second),
        "the new key is shown again"
    );
    ensure!(
        read_with(server, &second).await? == 200,
        "the new key does not read"
    );
    ensure!(
        read_with(server, &first).await? == 200,
        "the old key stopped within its overlap"
    );
    server.clock.advance(chrono::Duration::minutes(61));
    ensure!(
        read_with(server, &first).await? == 401,
        "the old key works after its overlap"
    );
    ensure!(
        read_with(server, &second).await? == 200,
        "the new key stopped"
    );

    // Rotate the new key with no overlap: the one before it is refused at once.
    open_keys(app).await?;
    let second_id = api
        .list_keys(None, None)
        .await?
        .items
        .into_iter()
        .find(|k| k.name == NAME && k.id != id && k.revoked_at.is_none())
        .context("the rotated key is not listed")?
        .id;
    app.click(&format!("key-details-{second_id}")).await?;
    app.click("key-rotate").await?;
    app.click("overlap-0s").await?;
    app.wait_text("overlap-hint", "at once").await?;
    app.click("rotate-submit").await?;
    confirm_its_you(app, server, &totp).await?;
    let third = take_secret(app, "agent-key-rotated-now").await?;
    ensure!(
        read_with(server, &second).await? == 401,
        "the key rotated with no overlap still works"
    );
    ensure!(
        read_with(server, &third).await? == 200,
        "the newest key does not read"
    );

    // The old keys: one past its overlap (still under Active: not revoked), one revoked
    // (under Revoked). The app reads expiry with this computer's clock, which the test
    // server's has left behind, so only the server is asked which of them still works.
    app.testid(&format!("key-row-{id}")).await?;
    table_fits(app).await?;
    app.screenshot("agent-keys-after-rotation").await?;
    app.click("keys-filter-revoked").await?;
    app.wait_text(&format!("key-status-{second_id}"), "Revoked")
        .await?;
    app.screenshot("agent-keys-revoked-filter").await?;
    app.click("keys-filter-active").await?;
    // Leave the Secrets page as the next steps expect it (their own secrets only).
    api.delete_secret(&SecretPath::parse(PATH)?).await?;
    Ok(())
}
