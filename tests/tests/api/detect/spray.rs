//! A password spray from one address: blocked, audited, alerted and mailed; another
//! address still signs in; an admin lifts the block.

use keyhold_core::api::{Role, Severity};
use keyhold_e2e::{STRONG_PASSWORD, TestServer};

use super::{alerts_of, behind_proxy, code, events, login_from, metric};
use crate::approvals::helpers::invited;

const ATTACKER: &str = "203.0.113.77";

#[tokio::test]
async fn a_password_spray_from_one_address_is_blocked_audited_alerted_and_mailed() {
    let ts = TestServer::start_with(|c| {
        behind_proxy(c);
        // The per-account and per-address sign-in throttles would answer 429 first.
        c.login_failures_per_minute = 1000;
        c.rate_limit_login = 1000;
    })
    .await;
    let owner = ts.person("spray-owner").await;
    let member = invited(&ts, &owner, Role::Member).await;
    // The default rule: more than 20 wrong passwords from one address in 10 minutes.
    for i in 0..21 {
        let target = if i % 2 == 0 {
            &owner.email
        } else {
            &member.email
        };
        let r = login_from(&ts, target, "not the password of anyone here", ATTACKER).await;
        assert_eq!(r.status(), 401, "attempt {i}");
    }
    // From that address even the right password is refused now; a wrong one as before.
    let r = login_from(&ts, &member.email, STRONG_PASSWORD, ATTACKER).await;
    assert_eq!(code(r).await, (403, "address_blocked".to_owned()));
    let r = login_from(&ts, &member.email, "still not the password", ATTACKER).await;
    assert_eq!(
        r.status(),
        401,
        "a wrong password learns nothing of the block"
    );
    // Another address signs in.
    let r = login_from(&ts, &member.email, STRONG_PASSWORD, "198.51.100.4").await;
    assert_eq!(r.status(), 200);

    // Alerted: the address rule, and the account rule for each account (11 wrong
    // passwords each, the member's counting the one after the block).
    let raised = alerts_of(&owner.client, "signin_failures_address").await;
    assert_eq!(raised.len(), 1, "{raised:?}");
    let a = &raised[0];
    assert_eq!(a.severity, Severity::Warning);
    assert_eq!(a.response.as_deref(), Some("blocked_address"));
    assert_eq!(
        a.subject.as_deref(),
        Some(format!("address:{ATTACKER}").as_str())
    );
    assert_eq!(
        alerts_of(&owner.client, "signin_failures_account")
            .await
            .len(),
        2
    );

    // Audited: the alert, the block and the refused sign-in, each with its severity.
    let raised_ev = events(&owner.client, "alert.raised").await;
    assert!(
        raised_ev
            .iter()
            .any(|e| e.detail["alert_id"] == a.id.as_str())
    );
    let blocked = events(&owner.client, "address.blocked").await;
    assert_eq!(blocked.len(), 1);
    assert_eq!(blocked[0].severity, Severity::Warning);
    assert_eq!(
        blocked[0].target.as_deref(),
        Some(format!("address:{ATTACKER}").as_str())
    );
    let refused = events(&owner.client, "auth.login").await;
    assert!(
        refused
            .iter()
            .any(|e| e.detail["reason"] == "address_blocked" && e.outcome == "denied")
    );

    // Mailed to the owner (an admin), not to the member.
    let mails = ts.outbox().await;
    let alert_mail = |to: &str| {
        mails
            .iter()
            .any(|m| m.contains(to) && m.contains("alert: signin_failures_address"))
    };
    assert!(alert_mail(&owner.email), "the owner is told");
    assert!(!alert_mail(&member.email), "members are not");

    // Counted.
    assert_eq!(metric(&ts, "keyhold_address_blocks_total").await, 1);
    assert_eq!(
        metric(
            &ts,
            "keyhold_alerts_raised_total{rule=\"signin_failures_address\"}"
        )
        .await,
        1
    );

    // Listed, and lifted by an admin: the address signs in again.
    let blocks = owner.client.blocks().await.unwrap();
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].address, ATTACKER);
    assert!(member.client.blocks().await.is_err(), "admins only");
    owner.client.lift_block(&blocks[0].id).await.unwrap();
    assert!(owner.client.blocks().await.unwrap().is_empty());
    assert_eq!(events(&owner.client, "block.lifted").await.len(), 1);
    let r = login_from(&ts, &member.email, STRONG_PASSWORD, ATTACKER).await;
    assert_eq!(r.status(), 200);
    // Lifting it again: 404, nothing changes.
    let again = owner.client.lift_block(&blocks[0].id).await.unwrap_err();
    assert_eq!(again.status(), Some(404));
    ts.stop().await;
}
