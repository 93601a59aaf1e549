//! `keyhold members invitations` (list) and `keyhold members invitations revoke ID`
//! against a real server: the table and JSON, revoking inside and outside the sudo window,
//! unknown ids, members refused; a revoked link signs no one up.

use chrono::Duration;
use keyhold_core::Sensitive;
use keyhold_core::api::{Role, SignupRequest};
use keyhold_e2e::{STRONG_PASSWORD, TestServer};

use crate::cli::{keyhold, snap, text};
use crate::cli_approvals::{join, owner};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_are_listed_and_revoked_from_the_command_line() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let boss = owner(&ts, "owner@example.com").await;
    let token = boss.client.token().unwrap().to_owned();
    let k = |args: &[&str]| keyhold(&url, args, None, &[("KEYHOLD_TOKEN", token.as_str())]);

    let empty = k(&["members", "invitations"]);
    assert!(empty.status.success(), "{}", text(&empty));
    assert!(
        text(&empty).contains("No pending invitations"),
        "{}",
        text(&empty)
    );
    // `members invite` and `members invitations create` are the same.
    for args in [
        vec![
            "members",
            "invite",
            "gina@example.com",
            "--role",
            "approver",
        ],
        vec![
            "members",
            "invitations",
            "create",
            "hugo@example.com",
            "--role",
            "admin",
        ],
    ] {
        let o = k(&args);
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("Invited"), "{}", text(&o));
    }
    let list = k(&["members", "invitations"]);
    assert!(list.status.success(), "{}", text(&list));
    let out = text(&list);
    assert!(
        out.contains("gina@example.com") && out.contains("hugo@example.com"),
        "{out}"
    );
    assert!(
        out.contains("owner@example.com"),
        "the sender is shown: {out}"
    );
    assert!(!out.contains("khi_"), "an invitation token was printed");
    snap("members_invitations_list", &list);
    let json = k(&["members", "invitations", "list", "--json"]);
    let items: Vec<serde_json::Value> = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(items.len(), 2, "{}", text(&json));
    assert_eq!(items[0]["email"], "hugo@example.com", "newest first");
    let gina_id = items[1]["id"].as_str().unwrap().to_owned();

    // A member is refused (exit 3); an unknown id is exit 4; no id is a usage error.
    let member = join(&ts, &boss.client, "ivan@example.com", Role::Member).await;
    let member_token = member.token().unwrap().to_owned();
    for args in [
        vec!["members", "invitations"],
        vec!["members", "invitations", "revoke", gina_id.as_str()],
    ] {
        let o = keyhold(
            &url,
            &args,
            None,
            &[("KEYHOLD_TOKEN", member_token.as_str())],
        );
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", text(&o));
    }
    let unknown = k(&["members", "invitations", "revoke", "0190-no-such-id"]);
    assert_eq!(unknown.status.code(), Some(4), "{}", text(&unknown));
    let missing = k(&["members", "invitations", "revoke"]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));

    // Outside the sudo window: exit 3, says to sign in again, the invitation stays.
    ts.clock.advance(Duration::minutes(11));
    let stale = k(&["members", "invitations", "revoke", &gina_id]);
    assert_eq!(stale.status.code(), Some(3), "{}", text(&stale));
    assert!(text(&stale).contains("keyhold login"), "{}", text(&stale));
    assert_eq!(
        boss.client.all_pending_invitations().await.unwrap().len(),
        2
    );

    // A fresh sign-in revokes it; it leaves the list and its link signs no one up.
    let fresh = ts
        .login("owner@example.com", STRONG_PASSWORD)
        .await
        .token()
        .unwrap()
        .to_owned();
    let f = |args: &[&str]| keyhold(&url, args, None, &[("KEYHOLD_TOKEN", fresh.as_str())]);
    let revoked = f(&["members", "invitations", "revoke", &gina_id]);
    assert!(revoked.status.success(), "{}", text(&revoked));
    assert!(
        text(&revoked).contains("Revoked invitation"),
        "{}",
        text(&revoked)
    );
    snap("members_invitations_revoke", &revoked);
    let again = f(&["members", "invitations", "revoke", &gina_id, "--json"]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    let list = f(&["members", "invitations", "--json"]);
    let items: Vec<serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(items.len(), 1, "{}", text(&list));
    assert_eq!(items[0]["email"], "hugo@example.com");
    let link = ts.mailed_link("gina@example.com", "/signup").await.unwrap();
    let token = link.split("invitation=").nth(1).unwrap().to_owned();
    let e = ts
        .client()
        .signup(&SignupRequest {
            email: "gina@example.com".to_owned(),
            password: Sensitive::new(STRONG_PASSWORD.to_owned()),
            display_name: None,
            invitation: Some(Sensitive::new(token)),
        })
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(422));
}
