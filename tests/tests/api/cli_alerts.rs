//! `keyhold alerts [list|ack]`, `keyhold keys reinstate` and `keyhold blocks [list|lift]`
//! against a real server: a key suspended for use outside its allowlist is listed,
//! reinstated and its alert acknowledged; an address blocked by a spray is listed and
//! lifted; members are refused (exit 3), unknown ids are exit 1, and outside the sudo
//! window a reinstatement is exit 3 with nothing changed.

use chrono::Duration;
use keyhold_core::api::{Alert, AlertRules, Block, CreateKeyRequest, Role};
use keyhold_e2e::TestServer;

use crate::cli::{keyhold, text};
use crate::cli_approvals::{join, owner};
use crate::detect::{behind_proxy, login_from, read_from};
use crate::support::{p, scopes};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_suspended_keys_and_blocks_from_the_command_line() {
    let ts = TestServer::start_with(behind_proxy).await;
    let url = ts.url();
    let boss = owner(&ts, "owner@example.com").await;
    let token = boss.client.token().unwrap().to_owned();
    let k = |args: &[&str]| keyhold(&url, args, None, &[("KEYHOLD_TOKEN", token.as_str())]);
    boss.client
        .put_secret(&p("prod/API_KEY"), "v1", None, None)
        .await
        .unwrap();
    let created = boss
        .client
        .create_key(&CreateKeyRequest {
            name: "deploy".into(),
            scopes: scopes(&["secrets:read:prod/*"]),
            expires_in: None,
            ip_allowlist: Some(vec!["10.0.0.0/8".into()]),
            public_key: None,
        })
        .await
        .unwrap();
    let agent = created.secret.expose().clone();
    assert_eq!(
        read_from(&ts, &agent, "prod/API_KEY", "203.0.113.5")
            .await
            .status(),
        403
    );

    // The alert, in the table and as JSON.
    let listed = k(&["alerts"]);
    assert!(listed.status.success(), "{}", text(&listed));
    let shown = text(&listed);
    assert!(
        shown.contains("outside_allowlist") && shown.contains("critical"),
        "{shown}"
    );
    assert!(shown.contains("suspended_key"), "{shown}");
    let json = k(&["alerts", "list", "--json"]);
    let alerts: Vec<Alert> = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(alerts.len(), 1);
    let keys = text(&k(&["keys", "list"]));
    assert!(keys.contains("suspended"), "{keys}");

    // Reinstated from the command line: the key works again.
    let back = k(&["keys", "reinstate", &created.key.id]);
    assert!(back.status.success(), "{}", text(&back));
    assert_eq!(
        read_from(&ts, &agent, "prod/API_KEY", "10.1.1.1")
            .await
            .status(),
        200
    );
    let twice = k(&["keys", "reinstate", &created.key.id]);
    assert_eq!(
        twice.status.code(),
        Some(1),
        "not suspended: {}",
        text(&twice)
    );

    // Acknowledged: gone from the open list, still in --all.
    let acked = k(&["alerts", "ack", &alerts[0].id]);
    assert!(acked.status.success(), "{}", text(&acked));
    let open: Vec<Alert> = serde_json::from_slice(&k(&["alerts", "--json"]).stdout).unwrap();
    assert!(open.is_empty());
    let all: Vec<Alert> =
        serde_json::from_slice(&k(&["alerts", "list", "--all", "--json"]).stdout).unwrap();
    assert!(all[0].acknowledged_at.is_some());
    assert_eq!(
        k(&["alerts", "ack", "no-such-alert"]).status.code(),
        Some(4)
    );

    // A spray blocks an address (threshold lowered through the API); listed and lifted.
    let mut rules = AlertRules::default();
    rules.signin_failures_address.threshold = 1;
    boss.client.set_alert_rules(&rules).await.unwrap();
    for _ in 0..2 {
        login_from(
            &ts,
            "owner@example.com",
            "not the right password",
            "198.51.100.7",
        )
        .await;
    }
    let blocks: Vec<Block> = serde_json::from_slice(&k(&["blocks", "--json"]).stdout).unwrap();
    assert_eq!(blocks.len(), 1);
    assert!(text(&k(&["blocks"])).contains("198.51.100.7"));

    // Members may not look (exit 3).
    let member = join(&ts, &boss.client, "mia@example.com", Role::Member).await;
    let member_token = member.token().unwrap().to_owned();
    for args in [&["alerts"][..], &["blocks"][..]] {
        let o = keyhold(
            &url,
            args,
            None,
            &[("KEYHOLD_TOKEN", member_token.as_str())],
        );
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", text(&o));
    }

    // Outside the sudo window: exit 3, the block stays.
    ts.clock.advance(Duration::minutes(11));
    let stale = k(&["blocks", "lift", &blocks[0].id]);
    assert_eq!(stale.status.code(), Some(3), "{}", text(&stale));
    assert_eq!(boss.client.blocks().await.unwrap().len(), 1);
    let fresh = ts
        .login("owner@example.com", keyhold_e2e::STRONG_PASSWORD)
        .await;
    let fresh_token = fresh.token().unwrap().to_owned();
    let lifted = keyhold(
        &url,
        &["blocks", "lift", &blocks[0].id],
        None,
        &[("KEYHOLD_TOKEN", fresh_token.as_str())],
    );
    assert!(lifted.status.success(), "{}", text(&lifted));
    assert!(boss.client.blocks().await.unwrap().is_empty());
    ts.stop().await;
}
