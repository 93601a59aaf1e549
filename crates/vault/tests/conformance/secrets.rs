//! `SecretStore`: version numbering, the stale-KEK and changed-secret conflicts, listings
//! by byte prefix, deletes, and KEK rotation — each failure leaving nothing written.

use keyhold_core::path::PathPrefix;
use keyhold_core::tier::{SecretType, Tier};
use keyhold_vault::store::{Conflict, Deletion, KekRow, StoreError};

use crate::fixtures::{
    S, actions, assert_conflict, assert_not_found, at, ev, kek, path, put, sealer, t0, tenant,
    write,
};

pub async fn versions_are_numbered_and_read_back(s: &S) {
    tenant(s, "ta").await;
    kek(s, "ta").await;
    let v1 = put(s, "ta", "production/db/PASSWORD", Tier::Standard).await;
    assert_eq!(
        (v1.current_version, v1.kind, v1.created_at),
        (1, SecretType::Generic, at(10))
    );
    let v2 = put(s, "ta", "production/db/PASSWORD", Tier::Sensitive).await;
    assert_eq!(
        (v2.id.as_str(), v2.current_version, v2.tier),
        (v1.id.as_str(), 2, Tier::Sensitive)
    );
    let p = path("production/db/PASSWORD");
    assert_eq!(s.secret("ta", &p).await.unwrap(), Some(v2.clone()));
    let (rec, cur) = s.secret_version("ta", &p, None).await.unwrap().unwrap();
    assert_eq!(
        (rec, cur.version, cur.ciphertext),
        (v2, 2, b"ct-v2".to_vec())
    );
    let (_, old) = s.secret_version("ta", &p, Some(1)).await.unwrap().unwrap();
    assert_eq!((old.wrapped_dek, old.kek_version), (b"dek-v1".to_vec(), 1));
    assert_eq!(s.secret_version("ta", &p, Some(3)).await.unwrap(), None);
    let versions = s.secret_versions("ta", &p).await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(versions[0].created_by, "user:ta-owner");
    let writes = actions(s, "ta").await;
    assert_eq!(writes.iter().filter(|a| *a == "secret.write").count(), 2);
    let page = s
        .audit_page(
            &keyhold_vault::store::AuditScope::Tenant("ta".into()),
            &Default::default(),
            None,
            1,
        )
        .await
        .unwrap();
    assert_eq!(
        page[0].detail["version"], 2,
        "the event carries the version"
    );
}

/// A write sealed with a KEK that is no longer current is `StaleKek`: no version, no event.
pub async fn stale_kek_is_refused_and_writes_nothing(s: &S) {
    tenant(s, "ta").await;
    let mut w = write("ta", "production/x", None, None);
    assert_conflict(
        s.put_secret(w.clone(), sealer(), ev("secret.write", "ta"))
            .await,
        Conflict::StaleKek,
    );
    kek(s, "ta").await;
    w.kek_version = 2;
    assert_conflict(
        s.put_secret(w, sealer(), ev("secret.write", "ta")).await,
        Conflict::StaleKek,
    );
    assert_eq!(s.secret("ta", &path("production/x")).await.unwrap(), None);
    assert_eq!(actions(s, "ta").await, ["account.created"]);
}

/// The gate decided on what it saw; if the secret is another by the write, `SecretChanged`.
pub async fn secret_changed_when_the_gate_saw_another(s: &S) {
    tenant(s, "ta").await;
    kek(s, "ta").await;
    let v1 = put(s, "ta", "production/x", Tier::Standard).await;
    let absent = write("ta", "production/x", None, None);
    assert_conflict(
        s.put_secret(absent, sealer(), ev("secret.write", "ta"))
            .await,
        Conflict::SecretChanged,
    );
    let lower = write(
        "ta",
        "production/x",
        None,
        Some((v1.id.clone(), Tier::Sensitive)),
    );
    assert_conflict(
        s.put_secret(lower, sealer(), ev("secret.write", "ta"))
            .await,
        Conflict::SecretChanged,
    );
    let other = write(
        "ta",
        "production/x",
        None,
        Some(("another-id".into(), Tier::Standard)),
    );
    assert_conflict(
        s.put_secret(other, sealer(), ev("secret.write", "ta"))
            .await,
        Conflict::SecretChanged,
    );
    let del = deletion("ta", "production/x", "another-id");
    assert_conflict(
        s.delete_secret(del, ev("secret.delete", "ta")).await,
        Conflict::SecretChanged,
    );
    let cur = s
        .secret("ta", &path("production/x"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cur.current_version, 1);
}

/// A sealer that fails inside the write's transaction leaves no secret and no event.
pub async fn failed_seal_writes_nothing(s: &S) {
    tenant(s, "ta").await;
    kek(s, "ta").await;
    let w = write("ta", "production/x", None, None);
    let failing: keyhold_vault::store::Sealer =
        Box::new(|_| Err(StoreError::Other(anyhow::anyhow!("sealing failed"))));
    assert!(
        s.put_secret(w, failing, ev("secret.write", "ta"))
            .await
            .is_err()
    );
    assert_eq!(s.secret("ta", &path("production/x")).await.unwrap(), None);
    assert_eq!(actions(s, "ta").await, ["account.created"]);
}

/// A listing is by byte prefix and whole segments (`_` is no wildcard), ordered by path,
/// after the cursor, bounded.
pub async fn list_is_a_byte_prefix_ordered_and_bounded(s: &S) {
    tenant(s, "ta").await;
    kek(s, "ta").await;
    for p in [
        "prod_a/B",
        "prod_a/A",
        "prodXa/C",
        "prod_a",
        "prod_ab/D",
        "prod_a/sub/E",
    ] {
        put(s, "ta", p, Tier::Standard).await;
    }
    let pre = PathPrefix::parse("prod_a").unwrap();
    let list = |v: Vec<keyhold_vault::store::SecretRecord>| {
        v.into_iter()
            .map(|r| r.path.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    let all = s.list_secrets("ta", &pre, None, 10).await.unwrap();
    assert_eq!(list(all), ["prod_a/A", "prod_a/B", "prod_a/sub/E"]);
    let page = s
        .list_secrets("ta", &pre, Some("prod_a/A"), 1)
        .await
        .unwrap();
    assert_eq!(list(page), ["prod_a/B"]);
    let every = s
        .list_secrets("ta", &PathPrefix::root(), None, 100)
        .await
        .unwrap();
    assert_eq!(every.len(), 6);
}

fn deletion(t: &str, p: &str, id: &str) -> Deletion {
    Deletion {
        tenant_id: t.into(),
        path: path(p),
        secret_id: id.into(),
        grant: None,
        voided: crate::fixtures::voided_event,
    }
}

pub async fn delete_removes_every_version(s: &S) {
    tenant(s, "ta").await;
    kek(s, "ta").await;
    put(s, "ta", "production/x", Tier::Standard).await;
    let v2 = put(s, "ta", "production/x", Tier::Standard).await;
    s.delete_secret(
        deletion("ta", "production/x", &v2.id),
        ev("secret.delete", "ta"),
    )
    .await
    .unwrap();
    let p = path("production/x");
    assert_eq!(s.secret("ta", &p).await.unwrap(), None);
    assert_eq!(s.secret_version("ta", &p, Some(1)).await.unwrap(), None);
    assert!(s.secret_versions("ta", &p).await.unwrap().is_empty());
    assert_not_found(
        s.delete_secret(
            deletion("ta", "production/x", &v2.id),
            ev("secret.delete", "ta"),
        )
        .await,
    );
    let again = put(s, "ta", "production/x", Tier::Standard).await;
    assert_ne!(again.id, v2.id, "a re-created secret is another");
    assert_eq!(again.current_version, 1);
}

pub async fn first_kek_is_inserted_once(s: &S) {
    tenant(s, "ta").await;
    tenant(s, "tb").await;
    kek(s, "ta").await;
    let second = KekRow {
        tenant_id: "ta".into(),
        version: 1,
        wrapped: b"other".to_vec(),
        created_at: at(1),
    };
    s.insert_first_kek(second).await.unwrap();
    let cur = s.current_kek("ta").await.unwrap().unwrap();
    assert_eq!(
        (cur.version, cur.wrapped, cur.created_at),
        (1, b"wrapped-kek-1".to_vec(), t0())
    );
    assert_eq!(
        s.kek("ta", 1).await.unwrap(),
        Some(s.current_kek("ta").await.unwrap().unwrap())
    );
    assert_eq!(s.current_kek("tb").await.unwrap(), None);
    assert_eq!(s.kek_tenants().await.unwrap(), ["ta"]);
}

fn kek2(t: &str, version: u32) -> KekRow {
    KekRow {
        tenant_id: t.into(),
        version,
        wrapped: b"wrapped-kek-2".to_vec(),
        created_at: at(100),
    }
}

pub async fn rotation_rewraps_every_key_and_drops_old_keks(s: &S) {
    tenant(s, "ta").await;
    kek(s, "ta").await;
    put(s, "ta", "production/a", Tier::Standard).await;
    put(s, "ta", "production/a", Tier::Standard).await;
    put(s, "ta", "production/b", Tier::Standard).await;
    let rewrap: keyhold_vault::store::Rewrapper =
        Box::new(|d| Ok(format!("re:{}:{}:{}", d.path, d.version, d.kek_version).into_bytes()));
    let n = s
        .rotate_kek(kek2("ta", 2), rewrap, ev("kek.rotated", "ta"))
        .await
        .unwrap();
    assert_eq!(n, 3);
    assert_eq!(s.keks("ta").await.unwrap(), [kek2("ta", 2)]);
    let (_, v1) = s
        .secret_version("ta", &path("production/a"), Some(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (v1.kek_version, v1.wrapped_dek),
        (2, b"re:production/a:1:1".to_vec())
    );
    assert_eq!(v1.ciphertext, b"ct-v1".to_vec(), "ciphertext untouched");
    let r = s
        .rotate_kek(
            kek2("ta", 2),
            Box::new(|_| Ok(vec![])),
            ev("kek.rotated", "ta"),
        )
        .await;
    assert_conflict(r, Conflict::RotationRaced);
    let page = s
        .audit_page(
            &keyhold_vault::store::AuditScope::Tenant("ta".into()),
            &Default::default(),
            None,
            1,
        )
        .await
        .unwrap();
    assert_eq!(
        (page[0].action.as_str(), &page[0].detail["rewrapped"]),
        ("kek.rotated", &serde_json::json!(3))
    );
}

/// A rewrap that fails half-way rotates nothing: old KEK, old data keys, no event.
pub async fn failed_rewrap_rotates_nothing(s: &S) {
    tenant(s, "ta").await;
    kek(s, "ta").await;
    put(s, "ta", "production/a", Tier::Standard).await;
    put(s, "ta", "production/b", Tier::Standard).await;
    let mut calls = 0;
    let rewrap: keyhold_vault::store::Rewrapper = Box::new(move |_| {
        calls += 1;
        if calls == 2 {
            return Err(StoreError::Other(anyhow::anyhow!("wrap failed")));
        }
        Ok(b"new".to_vec())
    });
    assert!(
        s.rotate_kek(kek2("ta", 2), rewrap, ev("kek.rotated", "ta"))
            .await
            .is_err()
    );
    assert_eq!(
        s.keks("ta")
            .await
            .unwrap()
            .iter()
            .map(|k| k.version)
            .collect::<Vec<_>>(),
        [1]
    );
    let (_, a) = s
        .secret_version("ta", &path("production/a"), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a.kek_version, a.wrapped_dek), (1, b"dek-v1".to_vec()));
    assert!(!actions(s, "ta").await.contains(&"kek.rotated".to_owned()));
}
