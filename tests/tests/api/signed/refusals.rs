//! What a signed request must not get past: a replayed nonce, a stale or future
//! `created`, a body or path other than the one signed, an unknown key, bad headers. Each
//! is 401 with its reason, audited, and changes nothing.

use chrono::Duration;
use keyhold_e2e::TestServer;

use super::{Ed, audit, ed_key, nonce, now, pair, py_sign, reason, rust_sign, send};

const PATH: &str = "/v1/secrets/app/API_KEY";

async fn setup(ts: &TestServer, tag: &str) -> (keyhold_e2e::Person, Ed) {
    let owner = ts.person(tag).await;
    owner
        .client
        .put_secret(&crate::support::p("app/API_KEY"), "v1", None, None)
        .await
        .unwrap();
    let key = ed_key(
        &owner,
        &["secrets:read:app/*", "secrets:write:app/*"],
        |_| {},
    )
    .await;
    (owner, key)
}

#[tokio::test]
async fn a_replayed_nonce_is_refused_until_its_window_has_passed() {
    let ts = TestServer::start().await;
    let (owner, key) = setup(&ts, "sig-replay").await;
    let url = format!("{}{PATH}", ts.url());
    let n = nonce();
    let h = py_sign(&key, "GET", &url, None, now(&ts), &n);
    assert_eq!(send(&ts, "GET", PATH, None, &h).await.0, 200);
    let (status, answer) = send(&ts, "GET", PATH, None, &h).await;
    assert_eq!((status, reason(&answer)), (401, "replayed"), "{answer}");
    // The same nonce in a new signature is a replay too, while the first is in its window.
    let h2 = rust_sign(&key, "GET", &url, None, now(&ts) + 30, &n);
    assert_eq!(
        reason(&send(&ts, "GET", PATH, None, &h2).await.1),
        "replayed"
    );
    // Audited in the key's tenant, as the key (its signature verified).
    let refused = audit(&owner.client, "auth.agent").await;
    assert!(
        refused
            .iter()
            .any(|e| e.detail["reason"] == "replayed"
                && e.actor.id.as_deref() == Some(key.id.as_str())),
        "{refused:?}"
    );
    // Once the window has passed, the stored nonce is gone (pruned) and a fresh
    // signature with it is accepted: nothing is kept longer than it matters.
    ts.clock.advance(Duration::seconds(125));
    let h3 = rust_sign(&key, "GET", &url, None, now(&ts), &n);
    assert_eq!(send(&ts, "GET", PATH, None, &h3).await.0, 200);
}

#[tokio::test]
async fn stale_and_future_created_are_refused() {
    let ts = TestServer::start().await;
    let (_owner, key) = setup(&ts, "sig-window").await;
    let url = format!("{}{PATH}", ts.url());
    for (offset, want) in [(-61, "stale"), (61, "future"), (-3600, "stale")] {
        let h = py_sign(&key, "GET", &url, None, now(&ts) + offset, &nonce());
        let (status, answer) = send(&ts, "GET", PATH, None, &h).await;
        assert_eq!(
            (status, reason(&answer)),
            (401, want),
            "created {offset:+}: {answer}"
        );
    }
    for offset in [-59, 59] {
        let h = py_sign(&key, "GET", &url, None, now(&ts) + offset, &nonce());
        assert_eq!(
            send(&ts, "GET", PATH, None, &h).await.0,
            200,
            "created {offset:+}"
        );
    }
}

#[tokio::test]
async fn a_changed_body_method_or_path_is_refused_and_changes_nothing() {
    let ts = TestServer::start().await;
    let (owner, key) = setup(&ts, "sig-tamper").await;
    let url = |path: &str| format!("{}{path}", ts.url());
    let signed_body = br#"{"value":"v2"}"#;
    let h = py_sign(
        &key,
        "PUT",
        &url(PATH),
        Some(signed_body),
        now(&ts),
        &nonce(),
    );
    // Another body under the same headers: its digest does not match.
    let (status, answer) = send(&ts, "PUT", PATH, Some(br#"{"value":"evil"}"#), &h).await;
    assert_eq!((status, reason(&answer)), (401, "digest"), "{answer}");
    // A body the signature does not cover at all (signed as a bodiless request).
    let h = rust_sign(&key, "PUT", &url(PATH), None, now(&ts), &nonce());
    let (status, answer) = send(&ts, "PUT", PATH, Some(signed_body), &h).await;
    assert_eq!((status, reason(&answer)), (401, "digest"), "{answer}");
    // The signed request sent to another path, or with another method.
    let h = py_sign(&key, "GET", &url(PATH), None, now(&ts), &nonce());
    let (status, answer) = send(&ts, "GET", "/v1/secrets/app/OTHER", None, &h).await;
    assert_eq!(
        (status, reason(&answer)),
        (401, "bad_signature"),
        "{answer}"
    );
    let (status, answer) = send(&ts, "DELETE", PATH, None, &h).await;
    assert_eq!(
        (status, reason(&answer)),
        (401, "bad_signature"),
        "{answer}"
    );
    let (status, answer) = send(&ts, "GET", &format!("{PATH}?version=1"), None, &h).await;
    assert_eq!(
        (status, reason(&answer)),
        (401, "bad_signature"),
        "{answer}"
    );
    // Nothing changed.
    let v = owner
        .client
        .get_secret(&crate::support::p("app/API_KEY"), None)
        .await
        .unwrap();
    assert_eq!(v.value.expose(), "v1");
    assert_eq!(v.version, 1);
}

#[tokio::test]
async fn unknown_keys_other_keys_and_bad_headers_are_refused() {
    let ts = TestServer::start().await;
    let (owner, key) = setup(&ts, "sig-unknown").await;
    let url = format!("{}{PATH}", ts.url());
    // A made-up key id (a well-formed signature by a key the server never saw).
    let (private, public) = pair();
    let stranger = Ed {
        id: "0193a5c2-7f1e-7c3a-9d4e-2b8f6a1c0d9e".to_owned(),
        private,
        public,
    };
    let h = py_sign(&stranger, "GET", &url, None, now(&ts), &nonce());
    let (status, answer) = send(&ts, "GET", PATH, None, &h).await;
    assert_eq!(
        (status, reason(&answer)),
        (401, "bad_signature"),
        "{answer}"
    );
    // A real key id, signed with another private key.
    let impostor = Ed {
        id: key.id.clone(),
        ..stranger.clone()
    };
    let h = py_sign(&impostor, "GET", &url, None, now(&ts), &nonce());
    assert_eq!(
        reason(&send(&ts, "GET", PATH, None, &h).await.1),
        "bad_signature"
    );
    // A kha_ key's id: it has no public key to verify with.
    let kha = crate::support::key(&owner, &["secrets:read:app/*"]).await;
    let as_kha = Ed {
        id: kha.key.id.clone(),
        ..key.clone()
    };
    let h = py_sign(&as_kha, "GET", &url, None, now(&ts), &nonce());
    assert_eq!(
        reason(&send(&ts, "GET", PATH, None, &h).await.1),
        "bad_signature"
    );
    // Headers that are not what the format says.
    let good = py_sign(&key, "GET", &url, None, now(&ts), &nonce());
    let sig = good
        .iter()
        .find(|(k, _)| k == "Signature")
        .unwrap()
        .1
        .clone();
    let created = now(&ts);
    for input in [
        "garbage(".to_owned(),
        format!(
            r#"sig1=("@method");created={created};keyid="{}";nonce="{}""#,
            key.id,
            nonce()
        ),
        format!(
            r#"sig1=("@method" "@target-uri");created={created};keyid="{}";nonce="short""#,
            key.id
        ),
        format!(
            r#"sig1=("@method" "@target-uri");created={created};keyid="{}""#,
            key.id
        ),
        format!(
            r#"sig1=("@method" "@target-uri");created={created};keyid="{}";nonce="{}";alg="hmac-sha256""#,
            key.id,
            nonce()
        ),
        format!(
            r#"sig1=("@method" "@target-uri" "x-missing");created={created};keyid="{}";nonce="{}""#,
            key.id,
            nonce()
        ),
    ] {
        let h = vec![
            ("Signature-Input".to_owned(), input.clone()),
            ("Signature".to_owned(), sig.clone()),
        ];
        let (status, answer) = send(&ts, "GET", PATH, None, &h).await;
        assert_eq!(
            (status, reason(&answer)),
            (401, "malformed"),
            "{input}: {answer}"
        );
    }
    let h = vec![
        ("Signature-Input".to_owned(), good[0].1.clone()),
        ("Signature".to_owned(), "sig1=:AAAA:".to_owned()),
    ];
    let h: Vec<_> = good
        .iter()
        .filter(|(k, _)| k != "Signature")
        .cloned()
        .chain(h.into_iter().skip(1))
        .collect();
    assert_eq!(
        reason(&send(&ts, "GET", PATH, None, &h).await.1),
        "malformed"
    );
    // None of it read anything.
    let reads = audit(&owner.client, "secret.read").await;
    assert!(
        reads
            .iter()
            .all(|e| e.actor.id.as_deref() != Some(key.id.as_str())),
        "{reads:?}"
    );
    // Counted by reason in /metrics.
    let metrics = reqwest::get(format!("{}/metrics", ts.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for r in ["signature", "unknown", "malformed"] {
        let line = format!("keyhold_agent_auth_failures_total{{reason=\"{r}\"}}");
        let n: f64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&line))
            .unwrap_or_else(|| panic!("{line} missing"))
            .trim()
            .parse()
            .unwrap();
        assert!(n >= 1.0, "{line} {n}");
    }
}
