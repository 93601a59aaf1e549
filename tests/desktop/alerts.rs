//! Detection on the Security Vault: an agent key used from outside its IP allowlist is
//! suspended by the server and its critical alert arrives in the open app's alerts panel
//! without a reload; Ada acknowledges it, sees the key marked suspended on the Keys page,
//! reinstates it there, and the key reads again over HTTP.

use anyhow::{Context, Result, ensure};
use fantoccini::Locator;
use keyhold_core::api::{AlertQuery, CreateKeyRequest};
use keyhold_core::path::SecretPath;
use keyhold_core::scope::Scope;
use keyhold_e2e::TestServer;

use crate::Person;
use crate::harness::App;

/// Inside and outside the key's allowlist, as the server sees the agent: the test server
/// trusts `X-Forwarded-For` from this computer (`trusted_proxies`), as behind a proxy.
const INSIDE: &str = "10.1.2.3";
const OUTSIDE: &str = "203.0.113.5";
const PATH: &str = "prod/alerts/probe";

/// `GET /v1/secrets/{PATH}` with the agent key, from `ip`: the status and error code.
async fn read_from(server: &TestServer, key: &str, ip: &str) -> Result<(u16, String)> {
    let r = reqwest::Client::new()
        .get(format!("{}/v1/secrets/{PATH}", server.url()))
        .bearer_auth(key)
        .header("x-forwarded-for", ip)
        .send()
        .await?;
    let status = r.status().as_u16();
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok((status, code))
}

/// The whole scenario; Ada is signed in to the app, within her sudo window.
pub async fn suspended_key(app: &mut App, server: &TestServer, ada: &Person) -> Result<()> {
    // Ada's own API session sets the stage, as her agent's deployment would.
    let api = crate::team::sign_in_with_2fa(server, ada).await?;
    api.put_secret(&SecretPath::parse(PATH)?, "probe-value", None, None)
        .await?;
    let created = api
        .create_key(&CreateKeyRequest {
            name: "edge-agent".into(),
            scopes: vec![Scope::parse("secrets:read:prod/alerts/*")?],
            expires_in: Some("720h".into()),
            ip_allowlist: Some(vec!["10.0.0.0/8".into()]),
            public_key: None,
        })
        .await?;
    let key = created.secret.expose().clone();
    let key_id = created.key.id.clone();
    ensure!(
        read_from(server, &key, INSIDE).await?.0 == 200,
        "the key does not read from inside its allowlist"
    );

    app.click("nav-vault").await?;
    app.testid("alerts-panel")
        .await
        .context("an owner's Security Vault has no alerts panel")?;
    app.testid("alerts-live")
        .await
        .context("the alerts feed did not connect")?;
    // The score as it was before: its reasons below can only come from a reload.
    app.testid("score-status").await?;
    ensure!(
        app.client
            .find_all(Locator::Css("[data-testid=\"rec-key_suspended\"]"))
            .await?
            .is_empty(),
        "a key is suspended before the test suspends one"
    );
    let before = api
        .alerts(&AlertQuery::default())
        .await?
        .items
        .iter()
        .map(|a| a.id.clone())
        .collect::<Vec<_>>();

    // The key is used from outside its allowlist: refused, suspended, alerted.
    let (status, _) = read_from(server, &key, OUTSIDE).await?;
    ensure!(
        status == 403,
        "a read from outside the allowlist got {status}"
    );
    let raised = api.alerts(&AlertQuery::default()).await?.items;
    let alert = raised
        .iter()
        .find(|a| a.rule == "outside_allowlist" && !before.contains(&a.id))
        .context("the server raised no outside_allowlist alert")?;

    // It arrives in the open panel by itself (the page is not reloaded or revisited).
    let row = format!("alert-row-{}", alert.id);
    let text = app
        .wait_text(&row, OUTSIDE)
        .await
        .context("the alert did not arrive in the open panel")?;
    ensure!(text.contains("Critical"), "the alert row reads {text:?}");
    app.wait_text(&format!("alert-response-{}", alert.id), "Key suspended")
        .await?;
    app.testid("alerts-badge")
        .await
        .context("no open-alerts badge in the sidebar")?;
    // The score says why it dropped, with the server's reasons.
    for reason in ["rec-acknowledge_alerts", "rec-key_suspended"] {
        app.testid(reason)
            .await
            .with_context(|| format!("the Security Vault does not show {reason}"))?;
    }
    app.screenshot("alert-arrived").await?;

    app.click(&format!("ack-alert-{}", alert.id)).await?;
    app.wait_gone(&row).await?;
    app.wait_text("toasts", "Alert acknowledged.").await?;
    let still_open = api.alerts(&AlertQuery::default()).await?.items;
    ensure!(
        !still_open.iter().any(|a| a.id == alert.id),
        "the acknowledged alert is still open on the server"
    );
    app.screenshot("alert-acknowledged").await?;

    // The key is marked suspended; reinstating it from the Keys page makes it work again.
    let (status, code) = read_from(server, &key, INSIDE).await?;
    ensure!(
        (status, code.as_str()) == (401, "key_suspended"),
        "the suspended key answered {status} {code}"
    );
    app.click("nav-keys").await?;
    app.wait_text(&format!("key-status-{key_id}"), "Suspended")
        .await
        .context("the Keys page does not mark the key suspended")?;
    app.screenshot("key-suspended").await?;
    // Reinstate is in the key's details, beside Revoke.
    app.click(&format!("key-details-{key_id}")).await?;
    app.testid("key-details-dialog").await?;
    app.click(&format!("reinstate-{key_id}")).await?;
    app.wait_text(&format!("key-status-{key_id}"), "Active")
        .await
        .context("the key does not show active after Reinstate")?;
    app.wait_text("toasts", "Key \"edge-agent\" reinstated.")
        .await?;
    let none = app
        .client
        .find_all(Locator::Css(&format!(
            "[data-testid=\"reinstate-{key_id}\"]"
        )))
        .await?;
    ensure!(none.is_empty(), "Reinstate is still offered");
    let (status, code) = read_from(server, &key, INSIDE).await?;
    ensure!(
        status == 200,
        "the reinstated key answered {status} {code} from inside its allowlist"
    );
    app.screenshot("key-reinstated").await?;
    app.click("key-details-close").await?;
    app.wait_gone("key-details-dialog").await?;
    // Back on the Vault, once the score has loaded: its reasons are gone with them.
    app.click("nav-vault").await?;
    app.testid("score-status").await?;
    app.wait_gone("rec-key_suspended").await?;
    app.wait_gone("rec-acknowledge_alerts").await?;
    Ok(())
}
