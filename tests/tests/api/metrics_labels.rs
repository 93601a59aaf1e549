//! /metrics labels are bounded (issue 15, review items 3 and 6): no request, whatever its
//! method, path or credential, adds a series. Custom methods count as `OTHER`, unmatched
//! paths as `unmatched`, made-up credentials only in the fixed reason set.

use std::collections::BTreeSet;

use keyhold_core::credential::{Credential, CredentialKind};
use keyhold_e2e::TestServer;
use reqwest::Method;

/// Every series in /metrics (name and labels, without the value) that a request could
/// touch. The store's own series (`keyhold_store_*`: the writer, the WAL checkpointer) are
/// left out: they appear when the background checkpointer first runs, whenever that is,
/// with fixed labels that no request chooses.
async fn series(ts: &TestServer) -> BTreeSet<String> {
    let text = reqwest::get(format!("{}/metrics", ts.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter(|l| !l.starts_with("keyhold_store_"))
        .map(|l| l.rsplit_once(' ').map_or(l, |(s, _)| s).to_owned())
        .collect()
}

fn random_token(len: usize) -> String {
    use rand::Rng;
    const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| UPPER[rng.gen_range(0..UPPER.len())] as char)
        .collect()
}

/// One request of each shape: a method, a path, and maybe a made-up credential.
async fn send(ts: &TestServer, method: &str, path: &str, bearer: Option<&str>) -> u16 {
    let mut rb = reqwest::Client::new().request(
        Method::from_bytes(method.as_bytes()).unwrap(),
        format!("{}{path}", ts.url()),
    );
    if let Some(b) = bearer {
        rb = rb.bearer_auth(b);
    }
    rb.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn no_method_path_or_credential_adds_a_series() {
    let ts = TestServer::start().await;
    // Warm up: one request of every shape used below, so each bounded series exists.
    let forged = Credential::generate(CredentialKind::AgentKey);
    for (method, path) in [
        ("FOO", "/v1/audit"),
        ("FOO", "/nowhere"),
        ("GET", "/nowhere"),
        ("GET", "/v1/secrets/a/b"),
        ("DELETE", "/v1/secrets/a/b"),
    ] {
        send(&ts, method, path, None).await;
        send(&ts, method, path, Some(forged.expose())).await;
    }
    series(&ts).await; // the first scrape counts itself on the way out
    let before = series(&ts).await;
    assert!(
        before.iter().any(|s| s.contains("method=\"OTHER\"")),
        "custom methods count as OTHER: {before:#?}"
    );

    let mut sent = Vec::new();
    for i in 0..40 {
        let method = format!("X{}", random_token(8));
        let path = format!("/{}/{}", random_token(6).to_lowercase(), i);
        let forged = Credential::generate(if i % 2 == 0 {
            CredentialKind::AgentKey
        } else {
            CredentialKind::ScopedToken
        });
        for (m, p) in [
            (method.as_str(), path.as_str()),
            (method.as_str(), "/v1/audit"),
            ("GET", path.as_str()),
        ] {
            let status = send(&ts, m, p, Some(forged.expose())).await;
            assert!((400..500).contains(&status), "{m} {p}: {status}");
        }
        let status = send(
            &ts,
            "GET",
            &format!("/v1/secrets{path}"),
            Some(forged.expose()),
        )
        .await;
        assert_eq!(status, 401);
        sent.push((method, path, forged));
    }
    let after = series(&ts).await;
    let added: Vec<_> = after.difference(&before).collect();
    assert!(added.is_empty(), "new series: {added:#?}");
    let text = after.iter().cloned().collect::<Vec<_>>().join("\n");
    for (method, path, forged) in &sent {
        assert!(!text.contains(method.as_str()), "{method} in /metrics");
        assert!(!text.contains(path.as_str()), "{path} in /metrics");
        assert!(!text.contains(&forged.expose()[4..16]));
    }
    ts.stop().await;
}
