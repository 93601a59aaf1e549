//! `KeyChangeStore`: a key's expiry and allowlist changed, a rotation that creates the new
//! key and ends the old one in one transaction, revoked keys refused with `KeyRevoked`, and
//! usage counted from the audit log per key (its tokens included), per tenant.

use keyhold_core::api::Role;
use keyhold_vault::audit::ActorKind;
use keyhold_vault::store::{Conflict, KeyRecord, OldKeyEnd, UsageWindows};

use crate::fixtures::{
    S, actions, assert_conflict, assert_not_found, at, ev, ev_at, key, member, tenant, token,
};

fn successor(old: &KeyRecord, id: &str, secs: i64) -> KeyRecord {
    KeyRecord {
        id: id.to_owned(),
        prefix: format!("kh_{id}"),
        created_at: at(secs),
        ..old.clone()
    }
}

pub async fn update_sets_expiry_and_allowlist_unless_revoked(s: &S) {
    let owner = tenant(s, "ta").await;
    let k = key(s, &owner, "k1").await;
    let nets = vec!["192.0.2.0/24".parse().unwrap()];
    s.update_key("ta", "k1", None, nets.clone(), ev("key.updated", "ta"))
        .await
        .unwrap();
    let got = s.key("ta", "k1").await.unwrap().unwrap();
    assert_eq!((got.expires_at, &got.ip_allowlist), (None, &nets));
    s.update_key("ta", "k1", Some(at(90)), vec![], ev("key.updated", "ta"))
        .await
        .unwrap();
    let got = s.key("ta", "k1").await.unwrap().unwrap();
    assert_eq!(got.expires_at, Some(at(90)), "microseconds kept");
    assert!(got.ip_allowlist.is_empty());
    assert_eq!(got.name, k.name);
    // Another tenant's key is not found; a revoked key is refused, unchanged.
    tenant(s, "tb").await;
    assert_not_found(
        s.update_key("tb", "k1", None, vec![], ev("key.updated", "tb"))
            .await,
    );
    s.revoke_key("ta", "k1", at(100), ev("key.revoked", "ta"))
        .await
        .unwrap();
    assert_conflict(
        s.update_key("ta", "k1", None, vec![], ev("key.updated", "ta"))
            .await,
        Conflict::KeyRevoked,
    );
    assert_eq!(
        s.key("ta", "k1").await.unwrap().unwrap().expires_at,
        Some(at(90))
    );
    let updates = actions(s, "ta").await;
    assert_eq!(updates.iter().filter(|a| *a == "key.updated").count(), 2);
}

pub async fn rotation_creates_the_new_key_and_ends_the_old_one_atomically(s: &S) {
    let owner = tenant(s, "ta").await;
    let old = key(s, &owner, "k1").await;
    token(s, &old, "tok1", None).await;
    // An overlap: the old key's expiry comes forward, never goes back.
    let ends = s
        .rotate_key(
            "k1",
            OldKeyEnd::ExpireBy(at(3600)),
            successor(&old, "k2", 10),
            "secret-k2".into(),
            ev("key.rotated", "ta"),
        )
        .await
        .unwrap();
    assert_eq!(ends, at(3600));
    let k1 = s.key("ta", "k1").await.unwrap().unwrap();
    assert_eq!((k1.expires_at, k1.revoked_at), (Some(at(3600)), None));
    assert_eq!(s.key_for_auth("k2").await.unwrap().unwrap().1, "secret-k2");
    let later = s
        .rotate_key(
            "k1",
            OldKeyEnd::ExpireBy(at(99_999)),
            successor(&old, "k3", 20),
            "secret-k3".into(),
            ev("key.rotated", "ta"),
        )
        .await
        .unwrap();
    assert_eq!(later, at(3600), "a longer overlap extended the old key");
    // No overlap: revoked at once with its tokens.
    let now = s
        .rotate_key(
            "k1",
            OldKeyEnd::RevokeAt(at(30)),
            successor(&old, "k4", 30),
            "secret-k4".into(),
            ev("key.rotated", "ta"),
        )
        .await
        .unwrap();
    assert_eq!(now, at(30));
    assert_eq!(
        s.key("ta", "k1").await.unwrap().unwrap().revoked_at,
        Some(at(30))
    );
    assert_eq!(
        s.token("ta", "tok1").await.unwrap().unwrap().revoked_at,
        Some(at(30))
    );
    // Revoked: refused, and the new key of the refused rotation does not exist.
    assert_conflict(
        s.rotate_key(
            "k1",
            OldKeyEnd::RevokeAt(at(40)),
            successor(&old, "k5", 40),
            "secret-k5".into(),
            ev("key.rotated", "ta"),
        )
        .await,
        Conflict::KeyRevoked,
    );
    assert_eq!(s.key("ta", "k5").await.unwrap(), None);
    assert_not_found(
        s.rotate_key(
            "nope",
            OldKeyEnd::RevokeAt(at(40)),
            successor(&old, "k6", 40),
            "secret-k6".into(),
            ev("key.rotated", "ta"),
        )
        .await,
    );
    assert_eq!(s.key("ta", "k6").await.unwrap(), None);
    let rotations = actions(s, "ta").await;
    assert_eq!(rotations.iter().filter(|a| *a == "key.rotated").count(), 3);
}

fn used(
    action: &'static str,
    tenant: &str,
    kind: ActorKind,
    id: &str,
    secs: i64,
    ip: &str,
) -> keyhold_vault::audit::NewEvent {
    let mut e = ev_at(action, tenant, secs).actor(kind, id);
    e.ip = Some(ip.to_owned());
    e
}

pub async fn usage_counts_the_keys_and_its_tokens_events_per_window(s: &S) {
    let owner = tenant(s, "ta").await;
    let other = member(s, "ta", "m1", Role::Member).await;
    let k = key(s, &owner, "k1").await;
    let k2 = key(s, &other, "k2").await;
    token(s, &k, "tok1", None).await;
    token(s, &k2, "tok2", None).await;
    for e in [
        used(
            "secret.read",
            "ta",
            ActorKind::AgentKey,
            "k1",
            10,
            "10.0.0.1",
        ),
        used(
            "secret.read",
            "ta",
            ActorKind::AgentKey,
            "k1",
            100,
            "10.0.0.2",
        ),
        used(
            "secret.read",
            "ta",
            ActorKind::Token,
            "tok1",
            200,
            "10.0.0.1",
        )
        .outcome(keyhold_vault::audit::Outcome::Denied),
        // Not this key's: another key, another key's token, a person.
        used(
            "secret.read",
            "ta",
            ActorKind::AgentKey,
            "k2",
            150,
            "10.0.0.9",
        ),
        used(
            "secret.read",
            "ta",
            ActorKind::Token,
            "tok2",
            150,
            "10.0.0.9",
        ),
        used(
            "secret.read",
            "ta",
            ActorKind::User,
            &owner.id,
            150,
            "10.0.0.9",
        ),
    ] {
        s.append_event(e).await.unwrap();
    }
    let windows = |day: i64, week: i64| UsageWindows {
        day: at(day),
        week: at(week),
        addresses: at(0),
        max_addresses: 10,
    };
    let u = s.key_usage("ta", "k1", windows(150, 0)).await.unwrap();
    assert_eq!((u.day, u.week, u.refused_week), (1, 3, 1));
    assert_eq!(
        u.addresses,
        vec![
            ("10.0.0.1".to_owned(), at(200), 2),
            ("10.0.0.2".to_owned(), at(100), 1)
        ]
    );
    let u = s
        .key_usage(
            "ta",
            "k1",
            UsageWindows {
                max_addresses: 1,
                ..windows(150, 50)
            },
        )
        .await
        .unwrap();
    assert_eq!((u.week, u.refused_week, u.addresses.len()), (2, 1, 1));
    // Another tenant sees nothing of it.
    tenant(s, "tb").await;
    let none = s.key_usage("tb", "k1", windows(0, 0)).await.unwrap();
    assert_eq!((none.week, none.addresses.len()), (0, 0));
}
