//! Interoperability with an implementation nobody here wrote: requests PyPI's
//! `http-message-signatures` signs are accepted, and keyhold-client's signatures verify
//! with it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use keyhold_client::signing::Signer;
use keyhold_e2e::TestServer;

use super::{Ed, audit, ed_key, nonce, now, pair, py_sign, python, send, tool};

#[tokio::test]
async fn requests_signed_by_python_are_accepted_for_reads_and_writes() {
    let ts = TestServer::start().await;
    let owner = ts.person("sig-py").await;
    let key = ed_key(
        &owner,
        &["secrets:read:app/*", "secrets:write:app/*"],
        |_| {},
    )
    .await;
    let url = |path: &str| format!("{}{path}", ts.url());

    let body = br#"{"value":"postgres://db.internal/app"}"#;
    let path = "/v1/secrets/app/DATABASE_URL";
    let h = py_sign(&key, "PUT", &url(path), Some(body), now(&ts), &nonce());
    assert!(h.iter().any(|(k, _)| k == "Content-Digest"), "{h:?}");
    let (status, answer) = send(&ts, "PUT", path, Some(body), &h).await;
    assert_eq!(status, 200, "{answer}");

    let h = py_sign(&key, "GET", &url(path), None, now(&ts), &nonce());
    let (status, answer) = send(&ts, "GET", path, None, &h).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["value"], "postgres://db.internal/app");

    // A query is part of @target-uri.
    let q = "/v1/metadata?prefix=app/";
    let h = py_sign(&key, "GET", &url(q), None, now(&ts), &nonce());
    let (status, answer) = send(&ts, "GET", q, None, &h).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["items"][0]["path"], "app/DATABASE_URL");

    // It authenticated as the agent key, and the key records its use.
    let reads = audit(&owner.client, "secret.read").await;
    assert!(
        reads
            .iter()
            .any(|e| e.actor.id.as_deref() == Some(key.id.as_str()) && e.outcome == "success"),
        "{reads:?}"
    );
    let listed = owner.client.list_keys(None, None).await.unwrap();
    let k = listed.items.iter().find(|k| k.id == key.id).unwrap();
    assert!(k.last_used_at.is_some());
    assert_eq!(k.public_keys.len(), 1);
    assert_eq!(k.public_keys[0].public_key.trim(), key.public.trim());
}

/// PyPI's verifier as an HTTP server for `public_pem`: killed when dropped.
struct PyVerifier {
    child: std::process::Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for PyVerifier {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn py_verifier(public_pem: &str, key_id: &str) -> PyVerifier {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("public.pem");
    std::fs::write(&file, public_pem).unwrap();
    let mut child = Command::new(python())
        .arg(tool())
        .arg("serve")
        .arg(&file)
        .arg(key_id)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    PyVerifier {
        child,
        url: format!("http://127.0.0.1:{}", line.trim()),
        _dir: dir,
    }
}

#[tokio::test]
async fn the_rust_clients_signatures_verify_with_python() {
    let (private, public) = pair();
    let key = Ed {
        id: "0193a5c2-7f1e-7c3a-9d4e-2b8f6a1c0d9e".to_owned(),
        private,
        public,
    };
    let py = py_verifier(&key.public, &key.id);
    // PyPI's verifier reads the wall clock, so the client signs with it too (the default).
    let signer = Signer::from_pkcs8_pem(&key.private, &key.id).unwrap();
    let client = keyhold_client::Client::new(&py.url)
        .unwrap()
        .with_signer(signer);

    let got: serde_json::Value = client
        .post_json(
            "/v1/tokens",
            &serde_json::json!({"scopes": ["secrets:read:app/*"]}),
        )
        .await
        .unwrap();
    assert_eq!(got["verified"], true, "{got}");
    let covered = got["covered"].to_string();
    assert!(
        covered.contains("@method")
            && covered.contains("@target-uri")
            && covered.contains("content-digest"),
        "{covered}"
    );
    let resp = client
        .get_raw("/v1/secrets/app/DATABASE_URL?version=2")
        .await
        .unwrap();
    let got: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(got["verified"], true, "{got}");

    // The control: the same client against a verifier holding another key is refused.
    let (_, other_public) = pair();
    let other = py_verifier(&other_public, &key.id);
    let signer = Signer::from_pkcs8_pem(&key.private, &key.id).unwrap();
    let client = keyhold_client::Client::new(&other.url)
        .unwrap()
        .with_signer(signer);
    let e = client
        .get_raw("/v1/secrets/app/DATABASE_URL")
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(401), "{e:?}");
}
