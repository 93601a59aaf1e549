//! `keyhold settings [show|set …]` against a real server: the table and JSON, a change
//! inside the sudo window (only the values given change), outside it (exit 3, nothing
//! changed), floors the server refuses (exit 1), bad flags (exit 2), members refused.

use chrono::Duration;
use keyhold_core::api::{Role, TenantSettings};
use keyhold_e2e::{STRONG_PASSWORD, TestServer};

use crate::cli::{keyhold, snap, text};
use crate::cli_approvals::{join, owner};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_are_shown_and_changed_from_the_command_line() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let boss = owner(&ts, "owner@example.com").await;
    let token = boss.client.token().unwrap().to_owned();
    let k = |args: &[&str]| keyhold(&url, args, None, &[("KEYHOLD_TOKEN", token.as_str())]);

    let shown = k(&["settings"]);
    assert!(shown.status.success(), "{}", text(&shown));
    snap("settings_show", &shown);
    let json = k(&["settings", "show", "--json"]);
    let seen: TenantSettings = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(seen, TenantSettings::default());

    // Only what is given changes; the answer is the saved policy.
    let set = k(&[
        "settings",
        "set",
        "--critical",
        "3",
        "--critical-delay",
        "0s",
        "--grant-ttl",
        "30m",
    ]);
    assert!(set.status.success(), "{}", text(&set));
    snap("settings_set", &set);
    let now = boss.client.tenant_settings().await.unwrap();
    let mut expected = TenantSettings::default();
    expected.approvals.critical = 3;
    expected.approvals.critical_delay = "0s".into();
    expected.approvals.grant_ttl = "30m".into();
    assert_eq!(now, expected);

    // Checked before anything is sent: no flag, a bad duration, zero approvals.
    for args in [
        vec!["settings", "set"],
        vec!["settings", "set", "--request-ttl", "soon"],
        vec!["settings", "set", "--sensitive", "0"],
    ] {
        let o = k(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
    }
    // Below the server's floor (critical ≥ 2): refused, exit 1, nothing changed.
    let floor = k(&["settings", "set", "--critical", "1"]);
    assert_eq!(floor.status.code(), Some(1), "{}", text(&floor));
    assert_eq!(boss.client.tenant_settings().await.unwrap(), expected);

    // A member may not change it (exit 3).
    let member = join(&ts, &boss.client, "mia@example.com", Role::Member).await;
    let member_token = member.token().unwrap().to_owned();
    let refused = keyhold(
        &url,
        &["settings", "set", "--sensitive", "2"],
        None,
        &[("KEYHOLD_TOKEN", member_token.as_str())],
    );
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused));

    // Outside the sudo window: exit 3, says to sign in again, nothing changed.
    ts.clock.advance(Duration::minutes(11));
    let stale = k(&["settings", "set", "--sensitive", "2"]);
    assert_eq!(stale.status.code(), Some(3), "{}", text(&stale));
    assert!(text(&stale).contains("keyhold login"), "{}", text(&stale));
    assert_eq!(boss.client.tenant_settings().await.unwrap(), expected);

    let fresh = ts.login("owner@example.com", STRONG_PASSWORD).await;
    let fresh_token = fresh.token().unwrap().to_owned();
    let again = keyhold(
        &url,
        &["settings", "set", "--sensitive", "2", "--json"],
        None,
        &[("KEYHOLD_TOKEN", fresh_token.as_str())],
    );
    assert!(again.status.success(), "{}", text(&again));
    let saved: TenantSettings = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(saved.approvals.sensitive, 2);
    assert_eq!(saved.approvals.critical, 3, "earlier changes stay");
}
