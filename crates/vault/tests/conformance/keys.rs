//! `KeyStore`: agent keys and tokens; revocation that reaches every token; `max_uses`
//! spent exactly once per use, also under parallel calls.

use keyhold_core::api::Role;

use crate::fixtures::{S, assert_not_found, at, ev, key, member, tenant, token};

pub async fn keys_list_oldest_first_with_cursor_and_owner(s: &S) {
    let owner = tenant(s, "ta").await;
    let other = member(s, "ta", "m1", Role::Member).await;
    let k1 = key(s, &owner, "k1").await;
    let k2 = key(s, &owner, "k2").await;
    let k3 = key(s, &other, "k3").await;
    let all = s.list_keys("ta", None, None, 10).await.unwrap();
    assert_eq!(all, [k1.clone(), k2.clone(), k3.clone()]);
    let page = s.list_keys("ta", None, Some("k1"), 1).await.unwrap();
    assert_eq!(page, std::slice::from_ref(&k2));
    let mine = s.list_keys("ta", Some(&owner.id), None, 10).await.unwrap();
    assert_eq!(mine, [k1.clone(), k2]);
    let (found, hash) = s.key_for_auth("k3").await.unwrap().unwrap();
    assert_eq!((found, hash.as_str()), (k3, "secret-k3"));
    s.touch_key("ta", "k1", at(30), Some("10.1.2.3".into()))
        .await
        .unwrap();
    let touched = s.key("ta", "k1").await.unwrap().unwrap();
    assert_eq!(touched.last_used_at, Some(at(30)));
    assert_eq!(touched.last_used_ip.as_deref(), Some("10.1.2.3"));
}

/// Revoking a key revokes every token it issued; a second revocation keeps the first time.
pub async fn revoking_a_key_revokes_its_tokens_once(s: &S) {
    let owner = tenant(s, "ta").await;
    let k = key(s, &owner, "k1").await;
    token(s, &k, "tok1", None).await;
    token(s, &k, "tok2", Some(5)).await;
    s.revoke_key("ta", "k1", at(10), ev("key.revoked", "ta"))
        .await
        .unwrap();
    s.revoke_key("ta", "k1", at(20), ev("key.revoked", "ta"))
        .await
        .unwrap();
    assert_eq!(
        s.key("ta", "k1").await.unwrap().unwrap().revoked_at,
        Some(at(10))
    );
    for id in ["tok1", "tok2"] {
        assert_eq!(
            s.token("ta", id).await.unwrap().unwrap().revoked_at,
            Some(at(10))
        );
        assert!(!s.use_token("ta", id, at(30)).await.unwrap());
    }
    assert_not_found(
        s.revoke_key("ta", "nope", at(10), ev("key.revoked", "ta"))
            .await,
    );
}

pub async fn token_found_by_hash_with_its_key(s: &S) {
    let owner = tenant(s, "ta").await;
    let k = key(s, &owner, "k1").await;
    let t = token(s, &k, "tok1", Some(2)).await;
    assert_eq!(
        s.token_for_auth("hash-tok1").await.unwrap(),
        Some((t.clone(), k))
    );
    assert_eq!(s.token_for_auth("hash-nope").await.unwrap(), None);
    s.revoke_token("ta", "tok1", at(5), ev("token.revoked", "ta"))
        .await
        .unwrap();
    s.revoke_token("ta", "tok1", at(9), ev("token.revoked", "ta"))
        .await
        .unwrap();
    assert_eq!(
        s.token("ta", "tok1").await.unwrap().unwrap().revoked_at,
        Some(at(5))
    );
    assert_not_found(
        s.revoke_token("ta", "nope", at(5), ev("token.revoked", "ta"))
            .await,
    );
}

/// `max_uses = 3`: three uses succeed, the fourth finds none left; `uses` counts them.
pub async fn use_token_spends_max_uses_exactly(s: &S) {
    let owner = tenant(s, "ta").await;
    let k = key(s, &owner, "k1").await;
    token(s, &k, "tok1", Some(3)).await;
    token(s, &k, "free", None).await;
    let used: Vec<bool> = [
        s.use_token("ta", "tok1", at(1)).await.unwrap(),
        s.use_token("ta", "tok1", at(2)).await.unwrap(),
        s.use_token("ta", "tok1", at(3)).await.unwrap(),
        s.use_token("ta", "tok1", at(4)).await.unwrap(),
    ]
    .into();
    assert_eq!(used, [true, true, true, false]);
    assert_eq!(s.token("ta", "tok1").await.unwrap().unwrap().uses, 3);
    for i in 0..5 {
        assert!(
            s.use_token("ta", "free", at(i)).await.unwrap(),
            "no max_uses: no limit"
        );
    }
}

/// 30 parallel uses of a `max_uses = 3` token: exactly three succeed.
pub async fn parallel_uses_spend_max_uses_exactly(s: &S) {
    let owner = tenant(s, "ta").await;
    let k = key(s, &owner, "k1").await;
    token(s, &k, "tok1", Some(3)).await;
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.use_token("ta", "tok1", at(1)).await.unwrap() })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        ok += usize::from(t.await.unwrap());
    }
    assert_eq!(ok, 3);
    assert_eq!(s.token("ta", "tok1").await.unwrap().unwrap().uses, 3);
}

pub async fn revoked_or_expired_token_has_no_use(s: &S) {
    let owner = tenant(s, "ta").await;
    let k = key(s, &owner, "k1").await;
    token(s, &k, "tok1", Some(3)).await;
    token(s, &k, "tok2", Some(3)).await;
    assert!(
        !s.use_token("ta", "tok1", at(3600)).await.unwrap(),
        "expires_at is exclusive"
    );
    assert!(s.use_token("ta", "tok1", at(3599)).await.unwrap());
    s.revoke_token("ta", "tok2", at(1), ev("token.revoked", "ta"))
        .await
        .unwrap();
    assert!(!s.use_token("ta", "tok2", at(2)).await.unwrap());
    assert_eq!(s.token("ta", "tok2").await.unwrap().unwrap().uses, 0);
}
