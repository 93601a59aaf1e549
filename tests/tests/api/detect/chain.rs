//! The audit chain, verified on a schedule (hourly by default, on the vault's clock): an
//! edit behind the server's back raises one critical alert.

use chrono::Duration;
use keyhold_core::api::Severity;
use keyhold_e2e::TestServer;
use keyhold_e2e::db::Sql;

use super::alerts_of;

/// Wait (real time) until `rule` has raised `n` alerts, or give up after 10 s.
async fn wait_for(admin: &keyhold_client::Client, rule: &str, n: usize) -> usize {
    for _ in 0..100 {
        let found = alerts_of(admin, rule).await.len();
        if found >= n {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    alerts_of(admin, rule).await.len()
}

#[tokio::test]
async fn an_edited_audit_log_fails_the_hourly_check_and_raises_a_critical_alert() {
    let ts = TestServer::start().await;
    let owner = ts.person("chain").await;
    let c2 = ts.login(&owner.email, keyhold_e2e::STRONG_PASSWORD).await;
    c2.logout().await.unwrap();
    // An hour on an intact chain: checked, nothing raised.
    ts.clock.advance(Duration::minutes(61));
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    assert!(alerts_of(&owner.client, "audit_chain").await.is_empty());

    // Someone with write access edits a row behind the server's back.
    let db = ts.admin_db().await;
    db.batch(Sql::per_store(
        "DROP TRIGGER audit_events_no_update",
        "DROP TRIGGER audit_events_no_update ON audit_events",
    ))
    .await;
    let edited = db
        .execute(
            "UPDATE audit_events SET ip = '203.0.113.9' WHERE action = 'auth.logout'",
            &[],
        )
        .await;
    assert_eq!(edited, 1);
    // Not before the next check is due ...
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    assert!(alerts_of(&owner.client, "audit_chain").await.is_empty());
    // ... and at it, once.
    ts.clock.advance(Duration::minutes(61));
    assert_eq!(wait_for(&owner.client, "audit_chain", 1).await, 1);
    let a = &alerts_of(&owner.client, "audit_chain").await[0];
    assert_eq!(a.severity, Severity::Critical);
    ts.clock.advance(Duration::minutes(61));
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    assert_eq!(
        alerts_of(&owner.client, "audit_chain").await.len(),
        1,
        "not every hour"
    );
    ts.stop().await;
}
