//! Times round-trip at microsecond precision: SQLite stores integer microseconds, so a
//! second backend must neither round them (to milliseconds, seconds) nor shift them.
//! Every time here has a distinct microsecond part.

use chrono::{DateTime, Duration, Utc};
use keyhold_core::api::{ApprovalOperation, AuditQuery, Role};
use keyhold_core::tier::Tier;
use keyhold_vault::store::event::{ClientInfo, NewEvent};
use keyhold_vault::store::{AuditScope, SessionRecord};

use crate::fixtures::{S, at, ev, key, open, request, stage, tenant, token, vote};

/// `at(secs)` plus `us` microseconds.
fn at_us(secs: i64, us: i64) -> DateTime<Utc> {
    at(secs) + Duration::microseconds(us)
}

pub async fn account_and_session_times_keep_microseconds(s: &S) {
    let owner = tenant(s, "ta").await;
    let rec = SessionRecord {
        id: "s1".into(),
        tenant_id: "ta".into(),
        user_id: owner.id.clone(),
        created_at: at_us(1, 1),
        last_seen_at: at_us(1, 2),
        expires_at: at_us(86_400, 3),
        authenticated_at: at_us(1, 4),
    };
    s.create_session(rec.clone(), "hash-s1".into(), ev("auth.login", "ta"))
        .await
        .unwrap();
    assert_eq!(s.session_by_hash("hash-s1").await.unwrap(), Some(rec));
    s.touch_session("ta", "s1", at_us(2, 999_999))
        .await
        .unwrap();
    let touched = s.session("ta", "s1").await.unwrap().unwrap();
    assert_eq!(touched.last_seen_at, at_us(2, 999_999));
    let mut u = crate::fixtures::user("ta", "m1", Role::Member);
    u.created_at = at_us(3, 7);
    u.email_verified_at = Some(at_us(3, 8));
    let mut inv = crate::fixtures::invitation("ta", "i1", "m1", Role::Member);
    inv.expires_at = at_us(3600, 9);
    s.create_invitation(inv.clone(), "hash-i1".into(), ev("member.invited", "ta"))
        .await
        .unwrap();
    assert_eq!(s.invitation("ta", "i1").await.unwrap(), Some(inv));
    s.accept_invitation("i1", u.clone(), at_us(4, 10), ev("member.joined", "ta"))
        .await
        .unwrap();
    assert_eq!(s.user("ta", "m1").await.unwrap(), Some(u));
    assert_eq!(
        s.invitation("ta", "i1").await.unwrap().unwrap().used_at,
        Some(at_us(4, 10))
    );
}

pub async fn key_and_token_times_keep_microseconds(s: &S) {
    let owner = tenant(s, "ta").await;
    let k = key(s, &owner, "k1").await;
    assert_eq!(s.key("ta", "k1").await.unwrap(), Some(k.clone()));
    s.touch_key("ta", "k1", at_us(5, 11), None).await.unwrap();
    assert_eq!(
        s.key("ta", "k1").await.unwrap().unwrap().last_used_at,
        Some(at_us(5, 11))
    );
    let t = token(s, &k, "tok1", Some(1)).await;
    assert_eq!(s.token("ta", "tok1").await.unwrap(), Some(t));
    s.revoke_key("ta", "k1", at_us(6, 12), ev("key.revoked", "ta"))
        .await
        .unwrap();
    let (tok, key) = s.token_for_auth("hash-tok1").await.unwrap().unwrap();
    assert_eq!(
        (tok.revoked_at, key.revoked_at),
        (Some(at_us(6, 12)), Some(at_us(6, 12)))
    );
}

/// Deadlines compare at the microsecond: one microsecond before a token's expiry it is
/// usable, at it not.
pub async fn secret_and_approval_times_keep_microseconds(s: &S) {
    let st = stage(s, "ta", Tier::Sensitive).await;
    assert_eq!(st.secret.updated_at, at(10));
    assert_eq!(
        s.secret("ta", &st.secret.path)
            .await
            .unwrap()
            .unwrap()
            .created_at,
        at(10)
    );
    let mut r = request("a1", &st.secret, &st.key.id, ApprovalOperation::Read, 1);
    r.expires_at = at_us(3600, 13);
    open(s, &r).await;
    assert_eq!(s.approval("ta", "a1").await.unwrap().unwrap().record, r);
    let voted = vote(s, &st.approver, "a1", at_us(40, 14)).await.unwrap();
    assert_eq!(voted.grant_expires_at, Some(at_us(640, 14)));
    let view = s.approval("ta", "a1").await.unwrap().unwrap();
    assert_eq!((view.record, view.votes[0].at), (voted, at_us(40, 14)));
    let t = token(s, &st.key, "tok1", None).await;
    let last = t.expires_at - Duration::microseconds(1);
    assert!(s.use_token("ta", "tok1", last).await.unwrap());
    assert!(!s.use_token("ta", "tok1", t.expires_at).await.unwrap());
}

pub async fn audit_times_keep_microseconds(s: &S) {
    tenant(s, "ta").await;
    for us in [1, 2, 999_999] {
        let e = NewEvent::new("secret.read", at_us(7, us), &ClientInfo::default()).tenant("ta");
        s.append_event(e).await.unwrap();
    }
    let scope = AuditScope::Tenant("ta".into());
    let got = s.audit_after(&scope, 0, 10).await.unwrap();
    let ats: Vec<_> = got.iter().skip(1).map(|e| e.at).collect();
    assert_eq!(ats, [at_us(7, 1), at_us(7, 2), at_us(7, 999_999)]);
    let q = AuditQuery {
        since: Some(at_us(7, 2)),
        until: Some(at_us(7, 999_999)),
        ..Default::default()
    };
    let window = s.audit_page(&scope, &q, None, 10).await.unwrap();
    assert_eq!(
        window.iter().map(|e| e.at).collect::<Vec<_>>(),
        [at_us(7, 2)]
    );
    assert!(
        s.audit_verify("ta").await.unwrap().ok,
        "the hash covers the microseconds"
    );
}
