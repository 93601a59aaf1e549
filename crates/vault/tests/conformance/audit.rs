//! `AuditStore`: one hash chain per tenant plus the system chain, verified with counts;
//! pages newest first, exports oldest first, the replay floor, filters whose wildcards are
//! literal, actor scopes, and the watches that wake live feeds.

use std::time::Duration;

use keyhold_core::api::AuditQuery;
use keyhold_vault::store::AuditScope;
use keyhold_vault::store::event::{ActorKind, ClientInfo, NewEvent, Outcome};

use crate::fixtures::{S, actions, at, tenant};

/// An event of `tenant` (or of none) by user `actor`, `secs` after `t0`.
fn event(tenant: Option<&str>, action: &'static str, actor: &str, secs: i64) -> NewEvent {
    let client = ClientInfo {
        ip: Some("203.0.113.9".into()),
        user_agent: Some("kh/1".into()),
    };
    let e = NewEvent::new(action, at(secs), &client)
        .actor(ActorKind::User, actor)
        .target("secret:production/x")
        .detail("n", secs);
    match tenant {
        Some(t) => e.tenant(t),
        None => e,
    }
}

async fn append(s: &S, tenant: Option<&str>, action: &'static str, actor: &str, secs: i64) {
    s.append_event(event(tenant, action, actor, secs))
        .await
        .unwrap();
}

fn scope(t: &str) -> AuditScope {
    AuditScope::Tenant(t.to_owned())
}

async fn ids(s: &S, t: &str) -> Vec<i64> {
    s.audit_after(&scope(t), 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect()
}

pub async fn appended_events_verify_with_counts(s: &S) {
    tenant(s, "ta").await;
    for i in 0..5 {
        append(s, Some("ta"), "secret.read", "u1", i).await;
    }
    let v = s.audit_verify("ta").await.unwrap();
    assert_eq!((v.ok, v.checked, v.first_bad), (true, 6, None));
    let e = &s
        .audit_page(&scope("ta"), &AuditQuery::default(), None, 1)
        .await
        .unwrap()[0];
    assert_eq!(
        (e.actor.kind.as_str(), e.actor.id.as_deref()),
        ("user", Some("u1"))
    );
    assert_eq!(
        (e.outcome.as_str(), e.target.as_deref()),
        ("success", Some("secret:production/x"))
    );
    assert_eq!(
        (e.ip.as_deref(), e.user_agent.as_deref()),
        (Some("203.0.113.9"), Some("kh/1"))
    );
    assert_eq!((e.at, &e.detail), (at(4), &serde_json::json!({"n": 4})));
    let denied = event(Some("ta"), "secret.read", "u1", 9).outcome(Outcome::Denied);
    s.append_event(denied).await.unwrap();
    assert_eq!(s.audit_verify("ta").await.unwrap().checked, 7);
}

/// Interleaved appends of two tenants form two chains, each verifying on its own.
pub async fn tenant_chains_are_independent(s: &S) {
    tenant(s, "ta").await;
    tenant(s, "tb").await;
    for i in 0..4 {
        append(
            s,
            Some(if i % 2 == 0 { "ta" } else { "tb" }),
            "secret.read",
            "u",
            i,
        )
        .await;
    }
    append(s, Some("ta"), "secret.read", "u", 9).await;
    let (a, b) = (
        s.audit_verify("ta").await.unwrap(),
        s.audit_verify("tb").await.unwrap(),
    );
    assert_eq!((a.ok, a.checked, b.ok, b.checked), (true, 4, true, 3));
    assert_eq!(s.audit_verify("tc").await.unwrap().checked, 0);
    let (ia, ib) = (ids(s, "ta").await, ids(s, "tb").await);
    assert!(ia.iter().all(|i| !ib.contains(i)));
    assert!(
        ia.windows(2).all(|w| w[0] < w[1]),
        "ids grow within a chain"
    );
}

/// Events with no tenant chain together apart from every tenant (the empty tenant id
/// names that system chain).
pub async fn tenantless_events_form_the_system_chain(s: &S) {
    tenant(s, "ta").await;
    append(s, None, "auth.login", "anon", 1).await;
    append(s, Some("ta"), "auth.login", "u", 2).await;
    append(s, None, "auth.login", "anon", 3).await;
    let sys = s.audit_verify("").await.unwrap();
    assert_eq!((sys.ok, sys.checked), (true, 2));
    assert_eq!(s.audit_verify("ta").await.unwrap().checked, 2);
    let events = s.audit_after(&scope(""), 0, 10).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.at).collect::<Vec<_>>(),
        [at(1), at(3)]
    );
    assert_eq!(actions(s, "ta").await, ["account.created", "auth.login"]);
}

pub async fn page_is_newest_first_with_cursor_and_filters(s: &S) {
    tenant(s, "ta").await;
    append(s, Some("ta"), "secret.read", "u1", 10).await;
    append(s, Some("ta"), "secret.write", "u2", 20).await;
    append(s, Some("ta"), "key.created", "u1", 30).await;
    append(s, Some("ta"), "secret.read", "u2", 40).await;
    let page = |q: AuditQuery, before: Option<i64>, limit: u32| async move {
        let v = s.audit_page(&scope("ta"), &q, before, limit).await.unwrap();
        v.into_iter().map(|e| (e.id, e.at)).collect::<Vec<_>>()
    };
    let first = page(AuditQuery::default(), None, 2).await;
    assert_eq!(
        first.iter().map(|e| e.1).collect::<Vec<_>>(),
        [at(40), at(30)]
    );
    let next = page(AuditQuery::default(), Some(first[1].0), 2).await;
    assert_eq!(
        next.iter().map(|e| e.1).collect::<Vec<_>>(),
        [at(20), at(10)]
    );
    let q = |f: fn(&mut AuditQuery)| {
        let mut q = AuditQuery::default();
        f(&mut q);
        q
    };
    let ats = |v: Vec<(i64, chrono::DateTime<chrono::Utc>)>| {
        v.into_iter().map(|e| e.1).collect::<Vec<_>>()
    };
    assert_eq!(
        ats(page(q(|q| q.action = Some("secret.read".into())), None, 9).await),
        [at(40), at(10)]
    );
    assert_eq!(
        ats(page(q(|q| q.action = Some("secret.*".into())), None, 9).await),
        [at(40), at(20), at(10)]
    );
    assert_eq!(
        ats(page(q(|q| q.actor = Some("u1".into())), None, 9).await),
        [at(30), at(10)]
    );
    let window = q(|q| (q.since, q.until) = (Some(at(20)), Some(at(40))));
    assert_eq!(
        ats(page(window, None, 9).await),
        [at(30), at(20)],
        "since inclusive, until exclusive"
    );
}

/// `_` and `%` in an action prefix are literal characters, not wildcards.
pub async fn action_prefix_is_literal(s: &S) {
    tenant(s, "ta").await;
    append(s, Some("ta"), "a_b.x", "u", 1).await;
    append(s, Some("ta"), "aXb.y", "u", 2).await;
    append(s, Some("ta"), "c%d.z", "u", 3).await;
    append(s, Some("ta"), "cYYd.z", "u", 4).await;
    for (filter, want) in [("a_b*", "a_b.x"), ("c%d*", "c%d.z")] {
        let q = AuditQuery {
            action: Some(filter.into()),
            ..AuditQuery::default()
        };
        let got = s.audit_page(&scope("ta"), &q, None, 10).await.unwrap();
        assert_eq!(
            got.into_iter().map(|e| e.action).collect::<Vec<_>>(),
            [want]
        );
    }
}

pub async fn after_is_oldest_first_and_strict(s: &S) {
    tenant(s, "ta").await;
    for i in 1..=4 {
        append(s, Some("ta"), "secret.read", "u", i).await;
    }
    let all = s.audit_after(&scope("ta"), 0, 100).await.unwrap();
    let second = all[1].id;
    let after = s.audit_after(&scope("ta"), second, 2).await.unwrap();
    assert_eq!(
        after.iter().map(|e| e.at).collect::<Vec<_>>(),
        [at(2), at(3)]
    );
    let last = all[4].id;
    assert!(
        s.audit_after(&scope("ta"), last, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A scope of one actor sees only that actor's events, in pages, exports and the floor.
pub async fn actor_scope_sees_own_events(s: &S) {
    tenant(s, "ta").await;
    for (i, who) in ["u1", "u2", "u1", "u2"].into_iter().enumerate() {
        append(s, Some("ta"), "secret.read", who, i as i64).await;
    }
    let mine = AuditScope::Actor {
        tenant_id: "ta".into(),
        actor_id: "u1".into(),
    };
    let page = s
        .audit_page(&mine, &AuditQuery::default(), None, 10)
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|e| e.at).collect::<Vec<_>>(),
        [at(2), at(0)]
    );
    let after = s.audit_after(&mine, 0, 10).await.unwrap();
    assert!(after.iter().all(|e| e.actor.id.as_deref() == Some("u1")) && after.len() == 2);
    assert_eq!(s.audit_replay_floor(&mine, 1).await.unwrap(), after[0].id);
    let other = AuditScope::Actor {
        tenant_id: "tb".into(),
        actor_id: "u1".into(),
    };
    assert!(
        s.audit_page(&other, &AuditQuery::default(), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// The floor is the id just before the scope's `window` newest events; 0 within it.
pub async fn replay_floor_bounds_the_window(s: &S) {
    tenant(s, "ta").await;
    tenant(s, "tb").await;
    for i in 1..=5 {
        append(s, Some("ta"), "secret.read", "u", i).await;
        append(s, Some("tb"), "secret.read", "u", i).await;
    }
    let ia = ids(s, "ta").await;
    assert_eq!(s.audit_replay_floor(&scope("ta"), 2).await.unwrap(), ia[3]);
    assert_eq!(s.audit_replay_floor(&scope("ta"), 5).await.unwrap(), ia[0]);
    assert_eq!(s.audit_replay_floor(&scope("ta"), 6).await.unwrap(), 0);
    assert_eq!(s.audit_replay_floor(&scope("tc"), 1).await.unwrap(), 0);
}

/// An append wakes the log's watch and its tenant's, carrying the newest id; another
/// tenant's watch stays asleep.
pub async fn watches_wake_on_commit(s: &S) {
    tenant(s, "ta").await;
    tenant(s, "tb").await;
    // A backend may signal commits a moment after they return (PostgreSQL: a notification
    // through the database): let the set-up's own signals arrive before listening.
    let setup = *ids(s, "tb").await.last().unwrap();
    let mut log = s.audit_watch();
    tokio::time::timeout(Duration::from_secs(5), log.wait_for(|id| *id >= setup))
        .await
        .expect("the set-up's commits were signalled")
        .unwrap();
    let (mut all, mut ta, mut tb) = (
        s.audit_watch(),
        s.tenant_audit_watch("ta"),
        s.tenant_audit_watch("tb"),
    );
    all.borrow_and_update();
    ta.borrow_and_update();
    tb.borrow_and_update();
    append(s, Some("ta"), "secret.read", "u", 1).await;
    let newest = *ids(s, "ta").await.last().unwrap();
    let wait = Duration::from_secs(5);
    tokio::time::timeout(wait, ta.changed())
        .await
        .expect("tenant watch woke")
        .unwrap();
    tokio::time::timeout(wait, all.changed())
        .await
        .expect("log watch woke")
        .unwrap();
    assert_eq!((*ta.borrow(), *all.borrow()), (newest, newest));
    assert!(
        !tb.has_changed().unwrap(),
        "another tenant's watch stays asleep"
    );
}

/// The distinct actions of a scope, sorted: another tenant's and, for an actor scope,
/// other people's never show.
pub async fn actions_are_distinct_sorted_and_scoped(s: &S) {
    tenant(s, "ta").await;
    tenant(s, "tb").await;
    append(s, Some("ta"), "secret.read", "u1", 1).await;
    append(s, Some("ta"), "secret.read", "u1", 2).await;
    append(s, Some("ta"), "auth.login", "u2", 3).await;
    append(s, Some("tb"), "key.created", "u1", 4).await;
    let all = s.audit_actions(&scope("ta")).await.unwrap();
    assert!(all.contains(&"secret.read".to_owned()) && all.contains(&"auth.login".to_owned()));
    assert!(!all.contains(&"key.created".to_owned()), "{all:?}");
    assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");
    let mine = AuditScope::Actor {
        tenant_id: "ta".into(),
        actor_id: "u1".into(),
    };
    assert_eq!(s.audit_actions(&mine).await.unwrap(), ["secret.read"]);
}
