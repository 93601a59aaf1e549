//! The wrapped root key (`CustodyStore`): stored once for the whole vault, the legacy one
//! adopted only by a vault that holds data, and re-wrapped only from the version read.

use keyhold_vault::store::event::{ClientInfo, NewEvent};
use keyhold_vault::store::{AuditScope, Conflict, RootKeyInit, WrappedRootKey};

use crate::fixtures::{S, assert_conflict, at, t0, tenant};
use crate::races::together;

fn row(version: u32, fill: u8, master: &str) -> WrappedRootKey {
    WrappedRootKey {
        version,
        wrapped: vec![fill; 60],
        master: master.to_owned(),
        updated_at: t0(),
    }
}

fn rotated() -> NewEvent {
    NewEvent::new("master_key.rotated", at(5), &ClientInfo::default())
}

/// The system chain's actions, oldest first.
async fn system_actions(s: &S) -> Vec<String> {
    let events = s
        .audit_after(&AuditScope::Tenant(String::new()), 0, 100)
        .await
        .unwrap();
    events.into_iter().map(|e| e.action).collect()
}

/// An empty vault stores the fresh root key; a second start (or a racing replica) keeps it.
pub async fn fresh_vault_stores_one_root_key(s: &S) {
    assert_eq!(s.root_key().await.unwrap(), None);
    let first = s
        .init_root_key(row(1, 1, "fresh"), Some(row(1, 2, "legacy")))
        .await
        .unwrap();
    assert_eq!(first, RootKeyInit::Created(row(1, 1, "fresh")));
    let again = s
        .init_root_key(row(1, 3, "other"), Some(row(1, 4, "legacy")))
        .await
        .unwrap();
    assert_eq!(again, RootKeyInit::Existing(row(1, 1, "fresh")));
    assert_eq!(s.root_key().await.unwrap(), Some(row(1, 1, "fresh")));
}

/// A vault that holds a tenant but no root key adopts the legacy one, or, without one,
/// stores nothing and says so.
pub async fn vault_with_data_adopts_the_legacy_root_key(s: &S) {
    tenant(s, "ta").await;
    let refused = s.init_root_key(row(1, 1, "fresh"), None).await.unwrap();
    assert_eq!(refused, RootKeyInit::LegacyNeeded);
    assert_eq!(s.root_key().await.unwrap(), None);
    let adopted = s
        .init_root_key(row(1, 1, "fresh"), Some(row(1, 2, "legacy")))
        .await
        .unwrap();
    assert_eq!(adopted, RootKeyInit::Adopted(row(1, 2, "legacy")));
    assert_eq!(s.root_key().await.unwrap(), Some(row(1, 2, "legacy")));
}

/// Replicas starting together on a vault from before root keys each adopt the legacy root
/// key, wrapped with a nonce of their own: all of them end with the one row that was stored
/// (one `Adopted`, the others `Existing` of that row), or they would derive different keys
/// from one database.
pub async fn replicas_adopting_together_agree_on_one_root_key(s: &S) {
    tenant(s, "ta").await;
    // Open as many connections as there are adopters first (reads at once), so that no
    // adopter is still connecting while another commits: their transactions overlap.
    for _ in 0..2 {
        together(8, |_| {
            let s = s.clone();
            async move { s.root_key().await.unwrap() }
        })
        .await;
    }
    let answers = together(8, |i| {
        let s = s.clone();
        let fill = u8::try_from(i).unwrap();
        async move {
            s.init_root_key(row(1, 100 + fill, "fresh"), Some(row(1, fill, "legacy")))
                .await
                .unwrap()
        }
    })
    .await;
    let stored = s.root_key().await.unwrap().expect("a root key stored");
    assert_eq!(
        stored.master, "legacy",
        "the legacy root key, not a fresh one"
    );
    let adopted = answers
        .iter()
        .filter(|a| **a == RootKeyInit::Adopted(stored.clone()))
        .count();
    let kept = answers
        .iter()
        .filter(|a| **a == RootKeyInit::Existing(stored.clone()))
        .count();
    assert_eq!((adopted, kept), (1, 7), "answers: {answers:?}");
}

/// A re-wrap replaces exactly the version it was made from, with its event on the
/// system chain; one made from a stale version changes nothing and writes no event.
pub async fn rewrap_replaces_only_the_version_read(s: &S) {
    s.init_root_key(row(1, 1, "file"), None).await.unwrap();
    let mut next = row(2, 9, "pkcs11");
    next.updated_at = at(5);
    s.rewrap_root_key(next.clone(), rotated()).await.unwrap();
    assert_eq!(s.root_key().await.unwrap(), Some(next.clone()));
    assert_eq!(system_actions(s).await, ["master_key.rotated"]);
    for stale in [row(2, 7, "stale"), row(4, 7, "skipped")] {
        let r = s.rewrap_root_key(stale, rotated()).await;
        assert_conflict(r, Conflict::RootKeyChanged);
    }
    assert_eq!(s.root_key().await.unwrap(), Some(next));
    assert_eq!(system_actions(s).await, ["master_key.rotated"]);
}
