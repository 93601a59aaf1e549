//! The rules through the API: documented defaults, checked changes (sudo, admins only,
//! audited), thresholds that take effect, and a rule turned off that stays quiet.

use keyhold_core::api::{AlertRules, CreateKeyRequest, Role, RuleResponse};
use keyhold_e2e::TestServer;

use super::{alerts_of, behind_proxy, code, events, login_from, read_from};
use crate::approvals::helpers::invited;
use crate::support::{p, scopes};

#[tokio::test]
async fn rules_have_documented_defaults_and_bad_changes_change_nothing() {
    let ts = TestServer::start().await;
    let owner = ts.person("rules").await;
    let defaults = owner.client.alert_rules().await.unwrap();
    assert_eq!(defaults, AlertRules::default());
    // docs/alerts.md lists every rule and shows exactly these defaults.
    let doc = include_str!("../../../../docs/alerts.md");
    let shown = doc
        .split("```json")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    let shown: AlertRules = serde_json::from_str(shown).unwrap();
    assert_eq!(shown, defaults, "docs/alerts.md shows other defaults");
    let json = serde_json::to_value(&defaults).unwrap();
    for rule in json.as_object().unwrap().keys() {
        assert!(
            doc.contains(&format!("| `{rule}` |")),
            "{rule} is not in docs/alerts.md"
        );
    }

    // Refused settings name their field and change nothing.
    let mut bad = AlertRules::default();
    bad.mfa_lockout.response = RuleResponse::SuspendKey;
    let e = owner.client.set_alert_rules(&bad).await.unwrap_err();
    assert_eq!(e.status(), Some(422));
    let mut bad = AlertRules::default();
    bad.signin_failures_account.window = "0s".into();
    assert_eq!(
        owner
            .client
            .set_alert_rules(&bad)
            .await
            .unwrap_err()
            .status(),
        Some(422)
    );
    let raw = reqwest::Client::new()
        .put(format!("{}/v1/tenant/alert-rules", ts.url()))
        .bearer_auth(owner.client.token().unwrap())
        .json(&serde_json::json!({"read_rate": {"enabled": false}}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 422, "a partial document is refused");
    assert_eq!(owner.client.alert_rules().await.unwrap(), defaults);

    // Only owners and admins change them; the refusal is audited.
    let member = invited(&ts, &owner, Role::Member).await;
    let e = member.client.set_alert_rules(&defaults).await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    assert!(
        events(&owner.client, "tenant.alert_rules_changed")
            .await
            .iter()
            .any(|e| e.outcome == "denied")
    );
    assert_eq!(
        member.client.alert_rules().await.unwrap(),
        defaults,
        "members may read"
    );
    assert_eq!(
        member
            .client
            .alerts(&Default::default())
            .await
            .unwrap_err()
            .status(),
        Some(403)
    );
    ts.stop().await;
}

#[tokio::test]
async fn thresholds_edited_through_the_api_take_effect() {
    let ts = TestServer::start_with(|c| {
        behind_proxy(c);
        c.login_failures_per_minute = 1000;
    })
    .await;
    let owner = ts.person("threshold").await;
    let member = invited(&ts, &owner, Role::Member).await;
    let wrong = "a password that is wrong";
    // The default is more than 10 for one account: 3 are quiet.
    for _ in 0..3 {
        login_from(&ts, &member.email, wrong, "198.51.100.20").await;
    }
    assert!(
        alerts_of(&owner.client, "signin_failures_account")
            .await
            .is_empty()
    );
    let mut rules = AlertRules::default();
    rules.signin_failures_account.threshold = 2;
    owner.client.set_alert_rules(&rules).await.unwrap();
    let changed = events(&owner.client, "tenant.alert_rules_changed").await;
    assert!(
        changed[0].detail["changes"][0]
            .as_str()
            .unwrap()
            .contains("signin_failures_account.threshold: 10 -> 2")
    );
    // A fresh window for the new threshold: the third failure goes above 2.
    ts.clock.advance(chrono::Duration::minutes(11));
    for _ in 0..3 {
        login_from(&ts, &member.email, wrong, "198.51.100.20").await;
    }
    let raised = alerts_of(&owner.client, "signin_failures_account").await;
    assert_eq!(raised.len(), 1);
    assert_eq!(
        raised[0].subject.as_deref(),
        Some(format!("user:{}", member.user_id).as_str())
    );
    ts.stop().await;
}

#[tokio::test]
async fn a_rule_turned_off_stays_quiet() {
    let ts = TestServer::start_with(behind_proxy).await;
    let owner = ts.person("off").await;
    owner
        .client
        .put_secret(&p("prod/API_KEY"), "v1", None, None)
        .await
        .unwrap();
    let mut rules = AlertRules::default();
    rules.outside_allowlist.enabled = false;
    rules.agent_failures.enabled = false;
    owner.client.set_alert_rules(&rules).await.unwrap();
    let created = owner
        .client
        .create_key(&CreateKeyRequest {
            name: "quiet".into(),
            scopes: scopes(&["secrets:read:prod/*"]),
            expires_in: None,
            ip_allowlist: Some(vec!["10.0.0.0/8".into()]),
            public_key: None,
        })
        .await
        .unwrap();
    let key = created.secret.expose().clone();
    for _ in 0..3 {
        let r = read_from(&ts, &key, "prod/API_KEY", "203.0.113.9").await;
        assert_eq!(code(r).await, (403, "forbidden".to_owned()));
    }
    // Still refused from outside, but not suspended and nothing raised.
    assert_eq!(
        read_from(&ts, &key, "prod/API_KEY", "10.9.9.9")
            .await
            .status(),
        200
    );
    assert!(super::all_alerts(&owner.client).await.is_empty());
    assert!(events(&owner.client, "key.suspended").await.is_empty());
    // Turned back on, the next use from outside suspends it.
    owner
        .client
        .set_alert_rules(&AlertRules::default())
        .await
        .unwrap();
    read_from(&ts, &key, "prod/API_KEY", "203.0.113.9").await;
    let r = read_from(&ts, &key, "prod/API_KEY", "10.9.9.9").await;
    assert_eq!(code(r).await, (401, "key_suspended".to_owned()));
    ts.stop().await;
}
