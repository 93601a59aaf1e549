//! Deny, wait and expiry, and refused commands, told apart by exit code.

use std::process::Output;
use std::time::Duration as StdDuration;

use chrono::Duration;
use keyhold_core::api::{ApprovalStatus, Role};
use keyhold_core::tier::Tier;
use keyhold_e2e::{STRONG_PASSWORD, TestServer};

use super::helpers::{VALUE, finish, join, owner, pending_id, spawn, stdout};
use crate::cli::{keyhold, snap, text};
use crate::support::{key, p};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_wait_expiry_and_refusals_by_exit_code() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let boss = owner(&ts, "owner@example.com").await;
    boss.client
        .put_secret(&p("p/DB_PASSWORD"), VALUE, None, Some(Tier::Sensitive))
        .await
        .unwrap();
    let agent_key = key(&boss, &["secrets:read:p/*"]).await;
    let agent_secret = agent_key.secret.expose().clone();
    let approver = join(&ts, &boss.client, "carol@example.com", Role::Approver).await;
    let member = join(&ts, &boss.client, "dave@example.com", Role::Member).await;
    let appr_token = approver.token().unwrap().to_owned();
    let member_token = member.token().unwrap().to_owned();
    let boss_token = boss.client.token().unwrap().to_owned();
    let agent_env = [("KEYHOLD_AGENT_KEY", agent_secret.as_str())];
    let as_appr =
        |args: &[&str]| keyhold(&url, args, None, &[("KEYHOLD_TOKEN", appr_token.as_str())]);
    let mut outputs: Vec<Output> = Vec::new();

    let getter = spawn(
        &url,
        &["secrets", "get", "p/DB_PASSWORD", "--wait-approval"],
        &agent_env,
    );
    let id = pending_id(&approver).await;
    let waiter = spawn(&url, &["approvals", "wait", &id, "--json"], &agent_env);

    // A wait with a timeout gives up with exit 5 and the id on stderr.
    let short = keyhold(
        &url,
        &["approvals", "wait", &id, "--timeout", "1s"],
        None,
        &agent_env,
    );
    assert_eq!(short.status.code(), Some(5), "{}", text(&short));
    assert!(text(&short).contains(&format!("approval id: {id}")));
    snap("approvals_wait_timeout", &short);
    outputs.push(short);

    // Who may not decide: the key's owner (owns the requesting key), a plain member.
    let own = keyhold(
        &url,
        &["approvals", "approve", &id],
        None,
        &[("KEYHOLD_TOKEN", boss_token.as_str())],
    );
    assert_eq!(own.status.code(), Some(3), "{}", text(&own));
    let by_member = keyhold(
        &url,
        &["approvals", "deny", &id, "--reason", "no"],
        None,
        &[("KEYHOLD_TOKEN", member_token.as_str())],
    );
    assert_eq!(by_member.status.code(), Some(3), "{}", text(&by_member));
    // Bad flags and values: clear errors, exit 2.
    for (args, says) in [
        (vec!["approvals", "deny", id.as_str()], "--reason"),
        (
            vec!["approvals", "deny", id.as_str(), "--reason", "  "],
            "1 to 500",
        ),
        (
            vec!["approvals", "list", "--status", "open"],
            "pending, approved",
        ),
        (
            vec!["approvals", "wait", id.as_str(), "--timeout", "soon"],
            "invalid value",
        ),
        (vec!["approvals", "frobnicate"], "unrecognized subcommand"),
    ] {
        let o = as_appr(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(says), "{args:?}: {}", text(&o));
        outputs.push(o);
    }
    let missing = as_appr(&["approvals", "show", "00000000-0000-0000-0000-000000000000"]);
    assert_eq!(missing.status.code(), Some(4), "{}", text(&missing));
    let still = approver.approval(&id).await.unwrap();
    assert_eq!(still.status, ApprovalStatus::Pending);
    assert!(still.approvals.is_empty());
    outputs.extend([own, by_member, missing]);

    // Deny: both waiting processes end with exit 8.
    let deny = as_appr(&[
        "approvals",
        "deny",
        &id,
        "--reason",
        "not during the freeze",
    ]);
    assert!(deny.status.success(), "{}", text(&deny));
    snap("approvals_deny", &deny);
    outputs.push(deny);
    let waited = finish(waiter).await;
    assert_eq!(waited.status.code(), Some(8), "{}", text(&waited));
    let v: serde_json::Value = serde_json::from_slice(&waited.stdout).unwrap();
    assert_eq!(v["status"], "denied");
    assert_eq!(v["deny_reason"], "not during the freeze");
    snap("approvals_wait_denied_json", &waited);
    let got = finish(getter).await;
    assert_eq!(got.status.code(), Some(8), "{}", text(&got));
    assert!(text(&got).contains("not during the freeze"));
    assert!(got.stdout.is_empty());
    snap("approvals_get_wait_denied", &got);
    outputs.extend([waited, got]);

    // A new read opens a new request; it lapses unanswered after 24 h: exit 9. The
    // approver's listing applies the expiry, which the live feed then announces.
    let asks = keyhold(&url, &["secrets", "get", "p/DB_PASSWORD"], None, &agent_env);
    assert_eq!(asks.status.code(), Some(5), "{}", text(&asks));
    let second = pending_id(&approver).await;
    assert_ne!(second, id);
    let waiter = spawn(&url, &["approvals", "wait", &second], &agent_env);
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    ts.clock.advance(Duration::hours(25));
    // The sessions lapsed too: sign in again.
    let appr_token = ts
        .login("carol@example.com", STRONG_PASSWORD)
        .await
        .token()
        .unwrap()
        .to_owned();
    let as_appr =
        |args: &[&str]| keyhold(&url, args, None, &[("KEYHOLD_TOKEN", appr_token.as_str())]);
    let expired = as_appr(&["approvals", "list", "--status", "expired", "--json"]);
    let items: Vec<serde_json::Value> = serde_json::from_slice(&expired.stdout).unwrap();
    assert_eq!(items.len(), 1, "{}", text(&expired));
    let waited = finish(waiter).await;
    assert_eq!(waited.status.code(), Some(9), "{}", text(&waited));
    snap("approvals_wait_expired", &waited);
    outputs.extend([asks, expired, waited]);

    // A sensitive request needs one approver and no code; --wait-approval then reads.
    let getter = spawn(
        &url,
        &[
            "secrets",
            "get",
            "p/DB_PASSWORD",
            "--wait-approval",
            "--silent",
        ],
        &agent_env,
    );
    let third = pending_id(&ts.client().with_token(appr_token.clone())).await;
    let yes = as_appr(&["approvals", "approve", &third]);
    assert!(yes.status.success(), "{}", text(&yes));
    snap("approvals_approve_sensitive", &yes);
    outputs.push(yes);
    let got = finish(getter).await;
    assert_eq!(got.status.code(), Some(0), "{}", text(&got));
    assert_eq!(stdout(&got), VALUE);
    assert!(
        got.stderr.is_empty(),
        "--silent wrote to stderr: {}",
        text(&got)
    );

    for o in &outputs {
        assert!(!text(o).contains(VALUE), "value in output: {}", text(o));
    }
}
