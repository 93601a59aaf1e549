//! Helpers shared by the key, token, secret, crypto and isolation tests.

use keyhold_client::Client;
use keyhold_core::api::{
    CreateKeyRequest, CreateKeyResponse, IssueTokenRequest, IssueTokenResponse,
};
use keyhold_core::path::SecretPath;
use keyhold_core::scope::Scope;
use keyhold_e2e::{Person, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub fn p(s: &str) -> SecretPath {
    SecretPath::parse(s).unwrap()
}

pub fn scopes(list: &[&str]) -> Vec<Scope> {
    list.iter().map(|s| Scope::parse(s).unwrap()).collect()
}

pub fn key_req(name: &str, list: &[&str]) -> CreateKeyRequest {
    CreateKeyRequest {
        name: name.to_owned(),
        scopes: scopes(list),
        expires_in: None,
        ip_allowlist: None,
        public_key: None,
    }
}

/// A new agent key of `person` with `list` scopes.
pub async fn key(person: &Person, list: &[&str]) -> CreateKeyResponse {
    person
        .client
        .create_key(&key_req("agent", list))
        .await
        .unwrap()
}

pub fn token_req(list: &[&str]) -> IssueTokenRequest {
    IssueTokenRequest {
        scopes: scopes(list),
        ttl: None,
        ip_allowlist: None,
        max_uses: None,
    }
}

pub async fn token(agent: &Client, list: &[&str]) -> IssueTokenResponse {
    agent.issue_token(&token_req(list)).await.unwrap()
}

pub fn as_agent(ts: &TestServer, secret: &str) -> Client {
    ts.client().with_token(secret.to_owned())
}

/// A raw HTTP/1.1 request over a plain socket, exactly as written: no URL parsing, so
/// dot segments and escapes reach the server unchanged. Returns status and body.
pub async fn raw(
    ts: &TestServer,
    method: &str,
    target: &str,
    bearer: Option<&str>,
    extra_headers: &[(&str, &str)],
) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(ts.server.addr)
        .await
        .unwrap();
    let mut req = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        ts.server.addr
    );
    if let Some(b) = bearer {
        req.push_str(&format!("Authorization: Bearer {b}\r\n"));
    }
    for (k, v) in extra_headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("Content-Length: 0\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status: u16 = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Status and body of a request made with reqwest, for byte comparisons.
pub async fn status_and_body(rb: reqwest::RequestBuilder) -> (u16, Vec<u8>) {
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.bytes().await.unwrap().to_vec())
}
