//! Ed25519 agent keys (issue 20): requests signed per RFC 9421, checked against PyPI's
//! `http-message-signatures` (tests/python/httpsig_tool.py), on both stores.

mod interop;
mod parity;
mod refusals;
mod rotation;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

use base64::Engine;
use keyhold_client::Client;
use keyhold_client::signing::{Signer, generate_key_pair};
use keyhold_core::api::{AuditEvent, AuditQuery, CreateKeyRequest};
use keyhold_core::httpsig::{self, RequestView};
use keyhold_e2e::{Person, TestServer};
use keyhold_vault::clock::Clock;

use crate::support::key_req;

/// An Ed25519 agent key: its id and both PEMs (the private one stays in the test).
#[derive(Clone)]
pub struct Ed {
    pub id: String,
    pub private: String,
    pub public: String,
}

/// A new key pair.
pub fn pair() -> (String, String) {
    let (private, public) = generate_key_pair().unwrap();
    (private.expose().clone(), public)
}

/// An Ed25519 agent key of `person` with `scopes`, `adjust`ed.
pub async fn ed_key(
    person: &Person,
    scopes: &[&str],
    adjust: impl FnOnce(&mut CreateKeyRequest),
) -> Ed {
    let (private, public) = pair();
    let mut req = key_req("signer", scopes);
    req.public_key = Some(public.clone());
    adjust(&mut req);
    let created = person.client.create_signing_key(&req).await.unwrap();
    Ed {
        id: created.key.id,
        private,
        public,
    }
}

/// The server's clock, in the seconds a signature's `created` carries.
pub fn now(ts: &TestServer) -> i64 {
    ts.clock.now().timestamp()
}

/// A client signing as `key` with the server's (test) clock: keyhold-client's own signer.
pub fn signing_client(ts: &TestServer, key: &Ed) -> Client {
    let clock = ts.clock.clone();
    let signer = Signer::from_pkcs8_pem(&key.private, &key.id)
        .unwrap()
        .with_clock(Arc::new(move || clock.now().timestamp()));
    ts.client().with_signer(signer)
}

pub fn python() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv-tools/bin/python")
}

pub fn tool() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/httpsig_tool.py")
}

/// Headers PyPI's `http-message-signatures` signs `method url [body]` with, as `key`.
pub fn py_sign(
    key: &Ed,
    method: &str,
    url: &str,
    body: Option<&[u8]>,
    created: i64,
    nonce: &str,
) -> Vec<(String, String)> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let spec = serde_json::json!({
        "method": method, "url": url, "headers": {},
        "body": body.map(|b| b64.encode(b)),
        "private_key": key.private, "key_id": key.id, "created": created, "nonce": nonce,
    });
    let mut child = Command::new(python())
        .arg(tool())
        .arg("sign")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python in .venv-tools (scripts/install-deps.sh)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(spec.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let headers: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&out.stdout).unwrap();
    headers
        .into_iter()
        .map(|(k, v)| (k, v.as_str().unwrap().to_owned()))
        .collect()
}

/// Headers Keyhold's own signer (keyhold_core::httpsig) makes, with a chosen created and
/// nonce (the refusal tests change one thing at a time).
pub fn rust_sign(
    key: &Ed,
    method: &str,
    url: &str,
    body: Option<&[u8]>,
    created: i64,
    nonce: &str,
) -> Vec<(String, String)> {
    let u = url::Url::parse(url).unwrap();
    let none = |_: &str| None;
    let view = RequestView {
        method,
        scheme: u.scheme(),
        authority: u.authority(),
        path: u.path(),
        query: u.query(),
        header: &none,
    };
    let sk = <ed25519_dalek::SigningKey as ed25519_dalek::pkcs8::DecodePrivateKey>::from_pkcs8_pem(
        &key.private,
    )
    .unwrap();
    let h = httpsig::sign(&sk, &key.id, created, nonce, &view, body).unwrap();
    let mut out = vec![
        ("Signature-Input".to_owned(), h.signature_input),
        ("Signature".to_owned(), h.signature),
    ];
    if let Some(d) = h.content_digest {
        out.push(("Content-Digest".to_owned(), d));
    }
    out
}

/// Send `method path` with `headers` (and a JSON `body`): status and JSON answer.
pub async fn send(
    ts: &TestServer,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
    headers: &[(String, String)],
) -> (u16, serde_json::Value) {
    let mut rb =
        reqwest::Client::new().request(method.parse().unwrap(), format!("{}{path}", ts.url()));
    for (k, v) in headers {
        rb = rb.header(k.as_str(), v.as_str());
    }
    if let Some(b) = body {
        rb = rb
            .header("content-type", "application/json")
            .body(b.to_vec());
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// The 401's `reason`.
pub fn reason(answer: &serde_json::Value) -> &str {
    answer["error"]["reason"].as_str().unwrap_or("")
}

pub fn nonce() -> String {
    httpsig::new_nonce()
}

pub async fn audit(c: &Client, action: &str) -> Vec<AuditEvent> {
    c.audit(&AuditQuery {
        action: Some(action.to_owned()),
        limit: Some(500),
        ..Default::default()
    })
    .await
    .unwrap()
    .items
}
