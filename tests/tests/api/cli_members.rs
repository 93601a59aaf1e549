//! `keyhold members …` against a real server: invite through the mailed link, change a
//! role inside and outside the sudo window, remove; bad flags and values change nothing.

use std::process::Output;

use chrono::Duration;
use keyhold_core::api::Role;
use keyhold_e2e::{STRONG_PASSWORD, TestServer};

use crate::cli::{keyhold, snap, text};
use crate::cli_approvals::{join, owner};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_list_change_role_and_remove() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let boss = owner(&ts, "owner@example.com").await;
    let token = boss.client.token().unwrap().to_owned();
    let k = |args: &[&str]| keyhold(&url, args, None, &[("KEYHOLD_TOKEN", token.as_str())]);

    // Invite: human and JSON output; the link goes by mail, never to the terminal.
    let inv = k(&[
        "members",
        "invite",
        "erin@example.com",
        "--role",
        "approver",
    ]);
    assert!(inv.status.success(), "{}", text(&inv));
    assert!(
        !text(&inv).contains("khi_"),
        "the invitation token was printed"
    );
    snap("members_invite", &inv);
    assert!(
        ts.mailed_link("erin@example.com", "/signup")
            .await
            .is_some()
    );
    let inv_json = k(&["members", "invite", "frank@example.com", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&inv_json.stdout).unwrap();
    assert_eq!(v["role"], "member", "member is the default role");
    snap("members_invite_json", &inv_json);

    // Bad flags and values: exit 2, nothing mailed, nothing changed.
    let mails = ts.outbox().await.len();
    for (args, says) in [
        (
            vec!["members", "invite", "gina@example.com", "--role", "god"],
            "owner, admin, approver or member",
        ),
        (vec!["members", "invite", "not-an-address"], "not an email"),
        (vec!["members", "invite"], "<EMAIL>"),
        (vec!["members", "role", "owner@example.com"], "<ROLE>"),
        (
            vec!["members", "role", "owner@example.com", "boss"],
            "invalid value",
        ),
        (vec!["members", "remove"], "<MEMBER>"),
        (vec!["members", "kick", "x"], "unrecognized subcommand"),
    ] {
        let o = k(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(says), "{args:?}: {}", text(&o));
    }
    assert_eq!(
        ts.outbox().await.len(),
        mails,
        "a refused invite was mailed"
    );

    // Erin joins; the list shows her, as a table and as JSON.
    let erin = join(&ts, &boss.client, "erin@example.com", Role::Approver).await;
    let list = k(&["members", "list"]);
    assert!(list.status.success(), "{}", text(&list));
    assert!(stdout(&list).contains("erin@example.com") && stdout(&list).contains("approver"));
    snap("members_list", &list);
    let list_json = k(&["members", "list", "--json"]);
    let items: Vec<serde_json::Value> = serde_json::from_slice(&list_json.stdout).unwrap();
    assert_eq!(items.len(), 2);
    snap("members_list_json", &list_json);

    // Role change by email (inside the sudo window of the fresh sign-in), then by id.
    let role = k(&["members", "role", "ERIN@example.com", "admin"]);
    assert!(role.status.success(), "{}", text(&role));
    snap("members_role", &role);
    assert_eq!(erin.me().await.unwrap().role, Role::Admin);
    let erin_id = erin.me().await.unwrap().user.id;
    let role_json = k(&["members", "role", &erin_id, "approver", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&role_json.stdout).unwrap();
    assert_eq!(v["role"], "approver");
    snap("members_role_json", &role_json);
    // Not a member: exit 4. The last owner cannot step down: exit 1.
    let nobody = k(&["members", "role", "nobody@example.com", "admin"]);
    assert_eq!(nobody.status.code(), Some(4), "{}", text(&nobody));
    let last = k(&["members", "role", "owner@example.com", "member"]);
    assert_eq!(last.status.code(), Some(1), "{}", text(&last));
    // A member may not change roles: exit 3.
    let erin_token = erin.token().unwrap().to_owned();
    let denied = keyhold(
        &url,
        &["members", "role", "owner@example.com", "member"],
        None,
        &[("KEYHOLD_TOKEN", erin_token.as_str())],
    );
    assert_eq!(denied.status.code(), Some(3), "{}", text(&denied));

    // Outside the sudo window (sign-in older than 10 minutes): exit 3, says to sign in
    // again, and the role stays.
    ts.clock.advance(Duration::minutes(11));
    let stale = k(&["members", "role", "erin@example.com", "member"]);
    assert_eq!(stale.status.code(), Some(3), "{}", text(&stale));
    assert!(text(&stale).contains("keyhold login"), "{}", text(&stale));
    snap("members_role_stale_sign_in", &stale);
    assert_eq!(erin.me().await.unwrap().role, Role::Approver);
    let stale_rm = k(&["members", "remove", "erin@example.com"]);
    assert_eq!(stale_rm.status.code(), Some(3), "{}", text(&stale_rm));
    assert!(erin.me().await.is_ok(), "removed outside the sudo window");

    // A fresh sign-in removes her; her session stops working.
    let fresh = ts
        .login("owner@example.com", STRONG_PASSWORD)
        .await
        .token()
        .unwrap()
        .to_owned();
    let rm = keyhold(
        &url,
        &["members", "remove", "erin@example.com"],
        None,
        &[("KEYHOLD_TOKEN", fresh.as_str())],
    );
    assert!(rm.status.success(), "{}", text(&rm));
    snap("members_remove", &rm);
    let gone = keyhold(
        &url,
        &["whoami"],
        None,
        &[("KEYHOLD_TOKEN", erin_token.as_str())],
    );
    assert_eq!(gone.status.code(), Some(3), "{}", text(&gone));
    let again = keyhold(
        &url,
        &["members", "remove", "erin@example.com", "--json"],
        None,
        &[("KEYHOLD_TOKEN", fresh.as_str())],
    );
    assert_eq!(again.status.code(), Some(4), "{}", text(&again));
    let list = keyhold(
        &url,
        &["members", "list", "--json"],
        None,
        &[("KEYHOLD_TOKEN", fresh.as_str())],
    );
    let items: Vec<serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(items.len(), 1, "{}", text(&list));
}
