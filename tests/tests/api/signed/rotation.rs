//! Rotation with overlap: a second public key is added (both verify), then the old one is
//! retired (refused from then on). Each step needs the sudo window, is audited and mailed
//! to the key's owner; at most two unretired keys; a retired key never comes back.

use chrono::Duration;
use keyhold_core::ErrorCode;
use keyhold_core::api::Role;
use keyhold_core::httpsig;
use keyhold_e2e::TestServer;

use super::{Ed, audit, ed_key, nonce, now, pair, py_sign, reason, send};

const PATH: &str = "/v1/secrets/app/TOKEN";

fn fingerprint(public_pem: &str) -> String {
    httpsig::fingerprint(&httpsig::public_key_from_pem(public_pem).unwrap())
}

async fn status_as(ts: &TestServer, key: &Ed) -> (u16, String) {
    let h = py_sign(
        key,
        "GET",
        &format!("{}{PATH}", ts.url()),
        None,
        now(ts),
        &nonce(),
    );
    let (status, answer) = send(ts, "GET", PATH, None, &h).await;
    (status, reason(&answer).to_owned())
}

#[tokio::test]
async fn both_keys_verify_in_between_and_the_retired_one_is_refused() {
    let ts = TestServer::start().await;
    let owner = ts.person("sig-rotate").await;
    owner
        .client
        .put_secret(&crate::support::p("app/TOKEN"), "t", None, None)
        .await
        .unwrap();
    let old = ed_key(&owner, &["secrets:read:app/*"], |_| {}).await;
    let (private, public) = pair();
    let new = Ed {
        id: old.id.clone(),
        private,
        public,
    };

    assert_eq!(
        status_as(&ts, &new).await,
        (401, "bad_signature".to_owned())
    );
    let added = owner
        .client
        .add_public_key(&old.id, &new.public)
        .await
        .unwrap();
    assert_eq!(added.fingerprint, fingerprint(&new.public));
    assert_eq!(added.retired_at, None);
    // In between, both verify.
    assert_eq!(status_as(&ts, &old).await.0, 200);
    assert_eq!(status_as(&ts, &new).await.0, 200);
    let listed = owner.client.list_keys(None, None).await.unwrap();
    assert_eq!(listed.items[0].public_keys.len(), 2);

    // A third while two are live: refused.
    let (_, third) = pair();
    let e = owner
        .client
        .add_public_key(&old.id, &third)
        .await
        .unwrap_err();
    assert_eq!(
        (e.status(), e.code()),
        (Some(409), Some(ErrorCode::Conflict)),
        "{e:?}"
    );

    owner
        .client
        .retire_public_key(&old.id, &fingerprint(&old.public))
        .await
        .unwrap();
    assert_eq!(status_as(&ts, &old).await, (401, "retired".to_owned()));
    assert_eq!(status_as(&ts, &new).await.0, 200);
    let listed = owner.client.list_keys(None, None).await.unwrap();
    let pks = &listed.items[0].public_keys;
    assert_eq!(pks.iter().filter(|p| p.retired_at.is_some()).count(), 1);

    // The last live key cannot be retired; a retired key cannot come back; retiring twice
    // or an unknown fingerprint is refused.
    let e = owner
        .client
        .retire_public_key(&old.id, &fingerprint(&new.public))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(409), "{e:?}");
    let e = owner
        .client
        .add_public_key(&old.id, &old.public)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(409), "{e:?}");
    let e = owner
        .client
        .retire_public_key(&old.id, &fingerprint(&old.public))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(409), "{e:?}");
    let e = owner
        .client
        .retire_public_key(&old.id, &"0".repeat(64))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404), "{e:?}");
    assert_eq!(status_as(&ts, &old).await.1, "retired");

    // Two audited steps, each mailed to the owner.
    let added_ev = audit(&owner.client, "key.public_key_added").await;
    let retired_ev = audit(&owner.client, "key.public_key_retired").await;
    assert_eq!(
        added_ev.iter().filter(|e| e.outcome == "success").count(),
        1
    );
    assert_eq!(
        retired_ev.iter().filter(|e| e.outcome == "success").count(),
        1
    );
    assert_eq!(added_ev[0].detail["fingerprint"], fingerprint(&new.public));
    assert_eq!(
        retired_ev[0].target.as_deref(),
        Some(format!("key:{}", old.id).as_str())
    );
    let mail: Vec<String> = ts
        .outbox()
        .await
        .iter()
        .map(|m| keyhold_e2e::decode_quoted_printable(m))
        .collect();
    let mail = mail.join("\n");
    assert!(
        mail.contains(&fingerprint(&new.public)),
        "no mail about the added key"
    );
    assert!(
        mail.contains(&fingerprint(&old.public)),
        "no mail about the retired key"
    );
}

#[tokio::test]
async fn rotating_needs_the_sudo_window_and_the_right_to_manage_the_key() {
    let ts = TestServer::start().await;
    let owner = ts.person("sig-rotate-sudo").await;
    let key = ed_key(&owner, &["secrets:read:app/*"], |_| {}).await;
    let (_, public) = pair();
    ts.clock.advance(Duration::minutes(11));
    let e = owner
        .client
        .add_public_key(&key.id, &public)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::ReauthRequired), "{e:?}");
    let e = owner
        .client
        .retire_public_key(&key.id, &fingerprint(&key.public))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::ReauthRequired), "{e:?}");
    let owner = keyhold_e2e::Person {
        client: ts.login(&owner.email, &owner.password).await,
        ..owner
    };
    // A member who does not own the key sees no such key; nor is a kha_ key rotatable.
    let member = crate::approvals::invited(&ts, &owner, Role::Member).await;
    let e = member
        .client
        .add_public_key(&key.id, &public)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404), "{e:?}");
    let kha = crate::support::key(&owner, &["secrets:read:app/*"]).await;
    let e = owner
        .client
        .add_public_key(&kha.key.id, &public)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404), "{e:?}");
    // Not a public key: 422, nothing added.
    for bad in [
        "",
        "hello",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        &key.private,
    ] {
        let e = owner.client.add_public_key(&key.id, bad).await.unwrap_err();
        assert_eq!(e.status(), Some(422), "{bad}: {e:?}");
    }
    owner.client.add_public_key(&key.id, &public).await.unwrap();
    let listed = owner.client.list_keys(None, None).await.unwrap();
    let k = listed.items.iter().find(|k| k.id == key.id).unwrap();
    assert_eq!(k.public_keys.len(), 2);
}
