//! Detection and response (issue 19, docs/alerts.md) against the real server: rules that
//! fire, alerts that are audited, mailed and acknowledged, keys suspended and reinstated,
//! addresses blocked and lifted, and quiet when nothing is wrong.

mod chain;
mod keys;
mod quiet;
mod rates;
mod rules;
mod severity;
mod spray;

use keyhold_client::Client;
use keyhold_core::api::{Alert, AlertQuery, AuditEvent, AuditQuery};
use keyhold_e2e::TestServer;
use reqwest::Response;

/// Servers that read the client's address from `X-Forwarded-For`, as behind a proxy.
pub fn behind_proxy(c: &mut keyhold_server::config::Config) {
    c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
}

/// `POST /v1/auth/login` from `ip`.
pub async fn login_from(ts: &TestServer, email: &str, password: &str, ip: &str) -> Response {
    reqwest::Client::new()
        .post(format!("{}/v1/auth/login", ts.url()))
        .header("x-forwarded-for", ip)
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

/// `GET /v1/secrets/{path}` with `bearer`, from `ip`.
pub async fn read_from(ts: &TestServer, bearer: &str, path: &str, ip: &str) -> Response {
    reqwest::Client::new()
        .get(format!("{}/v1/secrets/{path}", ts.url()))
        .bearer_auth(bearer)
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap()
}

/// The error code of a refused response.
pub async fn code(r: Response) -> (u16, String) {
    let status = r.status().as_u16();
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    (
        status,
        body["error"]["code"].as_str().unwrap_or("").to_owned(),
    )
}

/// Every alert of the tenant (open and acknowledged), newest first.
pub async fn all_alerts(admin: &Client) -> Vec<Alert> {
    admin
        .alerts(&AlertQuery {
            status: Some("all".into()),
            ..AlertQuery::default()
        })
        .await
        .unwrap()
        .items
}

/// Alerts of one rule.
pub async fn alerts_of(admin: &Client, rule: &str) -> Vec<Alert> {
    all_alerts(admin)
        .await
        .into_iter()
        .filter(|a| a.rule == rule)
        .collect()
}

/// The tenant's events with `action`.
pub async fn events(admin: &Client, action: &str) -> Vec<AuditEvent> {
    admin
        .audit(&AuditQuery {
            action: Some(action.into()),
            limit: Some(500),
            ..AuditQuery::default()
        })
        .await
        .unwrap()
        .items
}

/// The value of one series of /metrics, e.g. `keyhold_key_suspensions_total`.
pub async fn metric(ts: &TestServer, series: &str) -> u64 {
    let text = reqwest::get(format!("{}/metrics", ts.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let prefix = format!("{series} ");
    text.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {series} in /metrics"))
        .trim()
        .parse()
        .unwrap()
}
