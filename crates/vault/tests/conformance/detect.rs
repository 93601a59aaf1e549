//! `DetectionStore`: alert rules per tenant, alerts raised with their response in one
//! transaction, acknowledged once; key suspension and reinstatement; address blocks listed
//! across tenants while in force and lifted once; severity stored and filtered.

use keyhold_core::api::{AlertRules, AuditQuery, Severity};
use keyhold_vault::store::AuditScope;
use keyhold_vault::store::detect::{AlertAction, AlertFilter, AlertRecord, BlockRecord};

use crate::fixtures::{S, assert_not_found, at, ev, key, tenant};

fn alert(tenant: &str, id: &str, severity: Severity) -> AlertRecord {
    AlertRecord {
        id: id.to_owned(),
        tenant_id: tenant.to_owned(),
        rule: "outside_allowlist".to_owned(),
        severity,
        message: "m".to_owned(),
        subject: Some("key:k1".to_owned()),
        response: None,
        raised_at: at(5),
        acknowledged_at: None,
        acknowledged_by: None,
    }
}

fn block(tenant: &str, id: &str, until: i64) -> BlockRecord {
    BlockRecord {
        id: id.to_owned(),
        tenant_id: tenant.to_owned(),
        address: "203.0.113.9".to_owned(),
        rule: "signin_failures_address".to_owned(),
        created_at: at(0),
        expires_at: at(until),
        lifted_at: None,
    }
}

pub async fn alert_rules_round_trip_per_tenant(s: &S) {
    tenant(s, "ta").await;
    tenant(s, "tb").await;
    assert_eq!(s.alert_rules("ta").await.unwrap(), None);
    let mut r = AlertRules::default();
    r.read_rate.floor = Some(7);
    s.put_alert_rules(
        "ta",
        r.clone(),
        at(1),
        ev("tenant.alert_rules_changed", "ta"),
    )
    .await
    .unwrap();
    assert_eq!(s.alert_rules("ta").await.unwrap(), Some(r.clone()));
    assert_eq!(
        s.alert_rules("tb").await.unwrap(),
        None,
        "scoped to its tenant"
    );
    assert_eq!(
        s.all_alert_rules().await.unwrap(),
        vec![("ta".to_owned(), r)]
    );
    let mut ids = s.tenant_ids().await.unwrap();
    ids.sort();
    assert_eq!(ids, ["ta", "tb"]);
}

pub async fn an_alert_suspends_a_key_and_reinstating_lifts_it_once(s: &S) {
    let owner = tenant(s, "ta").await;
    tenant(s, "tb").await;
    key(s, &owner, "k1").await;
    let raised = ev("alert.raised", "ta").with_severity(Severity::Critical);
    s.raise_alert(
        alert("ta", "a1", Severity::Critical),
        AlertAction::SuspendKey("k1".into()),
        vec![raised, ev("key.suspended", "ta")],
    )
    .await
    .unwrap();
    assert_eq!(
        s.key("ta", "k1").await.unwrap().unwrap().suspended_at,
        Some(at(5))
    );
    let (k, _) = s.key_for_auth("k1").await.unwrap().unwrap();
    assert_eq!(k.suspended_at, Some(at(5)), "authentication sees it");
    assert_eq!(s.open_critical_alerts("ta").await.unwrap(), 1);
    assert_eq!(s.open_critical_alerts("tb").await.unwrap(), 0);
    // The events carry their severity: the filter finds the critical one.
    let q = AuditQuery {
        severity: Some(Severity::Critical),
        ..AuditQuery::default()
    };
    let crit = s
        .audit_page(&AuditScope::Tenant("ta".into()), &q, None, 10)
        .await
        .unwrap();
    let actions: Vec<&str> = crit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["key.suspended", "alert.raised"]);
    assert!(crit.iter().all(|e| e.severity == Severity::Critical));

    assert_not_found(
        s.reinstate_key("tb", "k1", ev("key.reinstated", "tb"))
            .await,
    );
    s.reinstate_key("ta", "k1", ev("key.reinstated", "ta"))
        .await
        .unwrap();
    assert_eq!(s.key("ta", "k1").await.unwrap().unwrap().suspended_at, None);
    assert_not_found(
        s.reinstate_key("ta", "k1", ev("key.reinstated", "ta"))
            .await,
    );
    // A revoked key is never suspended: it stays revoked.
    s.revoke_key("ta", "k1", at(6), ev("key.revoked", "ta"))
        .await
        .unwrap();
    s.raise_alert(
        alert("ta", "a2", Severity::Critical),
        AlertAction::SuspendKey("k1".into()),
        vec![ev("alert.raised", "ta")],
    )
    .await
    .unwrap();
    assert_eq!(s.key("ta", "k1").await.unwrap().unwrap().suspended_at, None);
}

pub async fn alerts_list_newest_first_and_are_acknowledged_once(s: &S) {
    tenant(s, "ta").await;
    tenant(s, "tb").await;
    for id in ["a1", "a2", "a3"] {
        s.raise_alert(
            alert("ta", id, Severity::Warning),
            AlertAction::None,
            vec![ev("alert.raised", "ta")],
        )
        .await
        .unwrap();
    }
    let open = s
        .list_alerts("ta", AlertFilter::Open, None, 10)
        .await
        .unwrap();
    let ids: Vec<&str> = open.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["a3", "a2", "a1"]);
    let page = s
        .list_alerts("ta", AlertFilter::All, Some("a3"), 1)
        .await
        .unwrap();
    assert_eq!(page[0].id, "a2");
    assert!(
        s.list_alerts("tb", AlertFilter::All, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_not_found(
        s.ack_alert("tb", "a2", "u", at(9), ev("alert.acknowledged", "tb"))
            .await,
    );
    s.ack_alert("ta", "a2", "u1", at(9), ev("alert.acknowledged", "ta"))
        .await
        .unwrap();
    assert_not_found(
        s.ack_alert("ta", "a2", "u2", at(10), ev("alert.acknowledged", "ta"))
            .await,
    );
    let a2 = s.alert("ta", "a2").await.unwrap().unwrap();
    assert_eq!(
        (a2.acknowledged_at, a2.acknowledged_by.as_deref()),
        (Some(at(9)), Some("u1"))
    );
    let acked = s
        .list_alerts("ta", AlertFilter::Acknowledged, None, 10)
        .await
        .unwrap();
    assert_eq!(acked.len(), 1);
    assert_eq!(
        s.list_alerts("ta", AlertFilter::Open, None, 10)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        s.open_critical_alerts("ta").await.unwrap(),
        0,
        "warnings only"
    );
}

pub async fn blocks_are_listed_while_in_force_and_lifted_once(s: &S) {
    tenant(s, "ta").await;
    tenant(s, "tb").await;
    for (t, id, until) in [("ta", "b1", 100), ("tb", "b2", 100), ("ta", "b3", 10)] {
        s.raise_alert(
            alert(t, &format!("alert-{id}"), Severity::Warning),
            AlertAction::Block(block(t, id, until)),
            vec![ev("alert.raised", t), ev("address.blocked", t)],
        )
        .await
        .unwrap();
    }
    let ids = |v: Vec<BlockRecord>| v.into_iter().map(|b| b.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.active_blocks(at(5)).await.unwrap()),
        ["b1", "b2", "b3"]
    );
    assert_eq!(ids(s.active_blocks(at(50)).await.unwrap()), ["b1", "b2"]);
    assert_eq!(ids(s.tenant_blocks("ta", at(50)).await.unwrap()), ["b1"]);
    assert_not_found(
        s.lift_block("tb", "b1", at(60), ev("block.lifted", "tb"))
            .await,
    );
    assert_not_found(
        s.lift_block("ta", "b3", at(60), ev("block.lifted", "ta"))
            .await,
    );
    s.lift_block("ta", "b1", at(60), ev("block.lifted", "ta"))
        .await
        .unwrap();
    assert_not_found(
        s.lift_block("ta", "b1", at(61), ev("block.lifted", "ta"))
            .await,
    );
    assert_eq!(ids(s.active_blocks(at(62)).await.unwrap()), ["b2"]);
}
