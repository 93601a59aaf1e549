//! `SigningKeyStore`: an Ed25519 key's public keys (at most two unretired; retired ones
//! stay retired), its lookup by id before the tenant is known, and nonces remembered once
//! until they expire, also under parallel calls (the replay guard across replicas).

use keyhold_vault::store::{Conflict, KeyRecord, PublicKeyRecord, StoreError};

use crate::fixtures::{S, at, ev, t0, tenant};

fn pk(key_id: &str, n: u8) -> PublicKeyRecord {
    PublicKeyRecord {
        key_id: key_id.to_owned(),
        fingerprint: format!("{n:02x}").repeat(32),
        public_key: [n; 32],
        added_at: at(i64::from(n)),
        retired_at: None,
    }
}

async fn signing_key(s: &S, tenant_id: &str, owner: &str, id: &str) -> KeyRecord {
    let rec = KeyRecord {
        id: id.to_owned(),
        tenant_id: tenant_id.to_owned(),
        owner_id: owner.to_owned(),
        name: format!("key {id}"),
        prefix: format!("ed25519:{id}"),
        scopes: vec!["secrets:read:production/*".parse().unwrap()],
        ip_allowlist: vec![],
        expires_at: None,
        created_at: t0(),
        last_used_at: None,
        last_used_ip: None,
        revoked_at: None,
        suspended_at: None,
    };
    s.create_signing_key(rec.clone(), pk(id, 1), ev("key.created", tenant_id))
        .await
        .unwrap();
    rec
}

fn conflict(r: Result<(), StoreError>, want: Conflict) {
    match r {
        Err(StoreError::Conflict(c)) => assert_eq!(c, want),
        other => panic!("expected {want:?}, got {other:?}"),
    }
}

pub async fn public_keys_rotate_with_at_most_two_live(s: &S) {
    let owner = tenant(s, "ta").await;
    let k = signing_key(s, "ta", &owner.id, "k1").await;
    let (found, pks) = s.signing_key_for_auth("k1").await.unwrap().unwrap();
    assert_eq!((found, pks.clone()), (k.clone(), vec![pk("k1", 1)]));
    // The key has no secret a bearer credential could match.
    let (_, hash) = s.key_for_auth("k1").await.unwrap().unwrap();
    assert_eq!(hash, "ed25519:k1");
    s.add_public_key("ta", pk("k1", 2), ev("key.public_key_added", "ta"))
        .await
        .unwrap();
    conflict(
        s.add_public_key("ta", pk("k1", 3), ev("key.public_key_added", "ta"))
            .await,
        Conflict::PublicKeyLimit,
    );
    s.retire_public_key(
        "ta",
        "k1",
        &pk("k1", 1).fingerprint,
        at(10),
        ev("key.public_key_retired", "ta"),
    )
    .await
    .unwrap();
    conflict(
        s.retire_public_key("ta", "k1", &pk("k1", 1).fingerprint, at(11), ev("x", "ta"))
            .await,
        Conflict::PublicKeyRetired,
    );
    conflict(
        s.retire_public_key("ta", "k1", &pk("k1", 2).fingerprint, at(11), ev("x", "ta"))
            .await,
        Conflict::PublicKeyLast,
    );
    conflict(
        s.add_public_key("ta", pk("k1", 1), ev("x", "ta")).await,
        Conflict::PublicKeyExists,
    );
    s.add_public_key("ta", pk("k1", 3), ev("key.public_key_added", "ta"))
        .await
        .unwrap();
    let listed = s.public_keys("ta", &["k1".to_owned()]).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0].retired_at, Some(at(10)));
    assert!(listed[1..].iter().all(|p| p.retired_at.is_none()));
    // Another tenant sees none of it, and cannot add to or retire from it.
    tenant(s, "tb").await;
    assert!(
        s.public_keys("tb", &["k1".to_owned()])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        s.add_public_key("tb", pk("k1", 4), ev("x", "tb")).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.retire_public_key("tb", "k1", &pk("k1", 2).fingerprint, at(12), ev("x", "tb"))
            .await,
        Err(StoreError::NotFound)
    ));
    // A kha_ key has no public keys to add to; an unknown id is nothing.
    let kha = crate::fixtures::key(s, &owner, "k2").await;
    assert!(matches!(
        s.add_public_key("ta", pk(&kha.id, 5), ev("x", "ta")).await,
        Err(StoreError::NotFound)
    ));
    assert!(s.signing_key_for_auth("nope").await.unwrap().is_none());
}

pub async fn nonces_are_remembered_once_until_they_expire(s: &S) {
    let owner = tenant(s, "ta").await;
    signing_key(s, "ta", &owner.id, "k1").await;
    assert!(
        s.remember_nonce("ta", "k1", "n1", at(0), at(61))
            .await
            .unwrap()
    );
    assert!(
        !s.remember_nonce("ta", "k1", "n1", at(30), at(91))
            .await
            .unwrap()
    );
    assert!(
        s.remember_nonce("ta", "k1", "n2", at(30), at(91))
            .await
            .unwrap()
    );
    // Expired rows are deleted by the next write, so the nonce is fresh again.
    assert!(
        s.remember_nonce("ta", "k1", "n1", at(62), at(123))
            .await
            .unwrap()
    );
    assert!(
        !s.remember_nonce("ta", "k1", "n2", at(62), at(123))
            .await
            .unwrap()
    );
    // Parallel callers with one nonce: exactly one wins.
    let calls = (0..8).map(|_| s.remember_nonce("ta", "k1", "race", at(70), at(131)));
    let won = futures::future::join_all(calls)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(won, 1);
}
