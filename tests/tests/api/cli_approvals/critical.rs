//! Critical reads from the command line: two approvers with 2FA open the read the agent
//! waits for, and two waiting reads share one grant while the other waits for the next.

use std::process::Output;
use std::time::Duration as StdDuration;

use chrono::Duration;
use keyhold_core::api::{ApprovalStatus, Role};
use keyhold_core::tier::Tier;
use keyhold_e2e::TestServer;

use super::helpers::{VALUE, finish, join, owner, pending_id, spawn, stdout};
use crate::cli::{keyhold, snap, text};
use crate::mfa::{enable_2fa, next_code};
use crate::support::{key, p};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_approvers_with_2fa_open_a_critical_read_the_agent_waits_for() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let boss = owner(&ts, "owner@example.com").await;
    boss.client
        .put_secret(&p("p/STRIPE"), VALUE, None, Some(Tier::Critical))
        .await
        .unwrap();
    let agent_key = key(&boss, &["secrets:read:p/*"]).await;
    let agent_secret = agent_key.secret.expose().clone();
    let a = join(&ts, &boss.client, "alice@example.com", Role::Approver).await;
    let b = join(&ts, &boss.client, "bob@example.com", Role::Approver).await;
    let a_totp = enable_2fa(&ts, &a).await.secret;
    let b_totp = enable_2fa(&ts, &b).await.secret;
    let a_token = a.token().unwrap().to_owned();
    let b_token = b.token().unwrap().to_owned();
    let agent_env = [("KEYHOLD_AGENT_KEY", agent_secret.as_str())];
    let as_a = |args: &[&str], stdin: Option<&str>| {
        keyhold(&url, args, stdin, &[("KEYHOLD_TOKEN", a_token.as_str())])
    };
    let mut outputs: Vec<Output> = Vec::new();

    // Without --wait-approval: exit 5 and the approval id on stderr.
    let asks = keyhold(&url, &["secrets", "get", "p/STRIPE"], None, &agent_env);
    assert_eq!(asks.status.code(), Some(5), "{}", text(&asks));
    let id = pending_id(&a).await;
    assert!(
        String::from_utf8_lossy(&asks.stderr).contains(&format!("keyhold: approval id: {id}")),
        "{}",
        text(&asks)
    );
    snap("approvals_get_without_wait", &asks);
    outputs.push(asks);

    // The agent waits for the value, and a second agent process waits for the decision.
    let getter = spawn(
        &url,
        &["secrets", "get", "p/STRIPE", "--wait-approval"],
        &agent_env,
    );
    let waiter = spawn(&url, &["approvals", "wait", &id], &agent_env);

    // The inbox, as a table and as JSON; one request, as text and as JSON.
    let list = as_a(&["approvals", "list", "--status", "pending"], None);
    assert!(list.status.success(), "{}", text(&list));
    assert!(stdout(&list).contains(&id) && stdout(&list).contains("0/2"));
    snap("approvals_list", &list);
    let list_json = as_a(&["approvals", "list", "--json"], None);
    let items: Vec<serde_json::Value> = serde_json::from_slice(&list_json.stdout).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["required_approvals"], 2);
    snap("approvals_list_json", &list_json);
    let show = as_a(&["approvals", "show", &id], None);
    assert!(
        stdout(&show).contains("agent (owner@example.com)"),
        "{}",
        text(&show)
    );
    snap("approvals_show", &show);
    let show_json = as_a(&["approvals", "show", &id, "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&show_json.stdout).unwrap();
    assert_eq!(v["tier"], "critical");
    snap("approvals_show_json", &show_json);
    outputs.extend([list, list_json, show, show_json]);

    // Critical without a code (stdin is not a terminal), or a code of the wrong shape:
    // a clear usage error, and no vote counted.
    let no_code = as_a(&["approvals", "approve", &id], None);
    assert_eq!(no_code.status.code(), Some(2), "{}", text(&no_code));
    assert!(text(&no_code).contains("--code"), "{}", text(&no_code));
    snap("approvals_approve_without_code", &no_code);
    let short = as_a(&["approvals", "approve", &id, "--code", "12ab"], None);
    assert_eq!(short.status.code(), Some(2), "{}", text(&short));
    assert!(text(&short).contains("6 digits"));
    let unknown = as_a(&["approvals", "approve", &id, "--cod", "123456"], None);
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown));
    assert!(a.approval(&id).await.unwrap().approvals.is_empty());
    outputs.extend([no_code, short, unknown]);

    // Alice votes with --code; twice is refused; Bob's code comes from stdin.
    let code_a = next_code(&ts, &a_totp);
    let first = as_a(
        &[
            "approvals",
            "approve",
            &id,
            "--code",
            &code_a,
            "--comment",
            "deploy",
        ],
        None,
    );
    assert!(first.status.success(), "{}", text(&first));
    assert!(stdout(&first).contains("1/2"), "{}", text(&first));
    assert!(!text(&first).contains(&code_a), "the code was echoed");
    snap("approvals_approve_first", &first);
    let twice = as_a(
        &[
            "approvals",
            "approve",
            &id,
            "--code",
            &next_code(&ts, &a_totp),
        ],
        None,
    );
    assert_eq!(twice.status.code(), Some(1), "{}", text(&twice));
    let code_b = next_code(&ts, &b_totp);
    let second = keyhold(
        &url,
        &["approvals", "approve", &id, "--code", "-", "--json"],
        Some(&format!("{code_b}\n")),
        &[("KEYHOLD_TOKEN", b_token.as_str())],
    );
    assert!(second.status.success(), "{}", text(&second));
    let v: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(v["status"], "approved");
    assert_eq!(v["approvals"].as_array().unwrap().len(), 2);
    assert!(!text(&second).contains(&code_b), "the code was echoed");
    snap("approvals_approve_second_json", &second);
    outputs.extend([first, twice, second]);

    // The decision ends `approvals wait` with exit 0.
    let waited = finish(waiter).await;
    assert_eq!(waited.status.code(), Some(0), "{}", text(&waited));
    assert!(stdout(&waited).contains(&format!("Approved {id}")));
    snap("approvals_wait_approved", &waited);
    outputs.push(waited);

    // The read opens after the 10-minute delay; the waiting `get` then prints the value.
    ts.clock.advance(Duration::minutes(10));
    let got = finish(getter).await;
    assert_eq!(got.status.code(), Some(0), "{}", text(&got));
    assert_eq!(stdout(&got), format!("{VALUE}\n"));
    let err = String::from_utf8_lossy(&got.stderr);
    assert!(err.contains(&format!("waiting for approval {id}")), "{err}");
    assert!(
        !err.contains("Waiting for approval"),
        "a spinner off a terminal: {err}"
    );
    assert!(!err.contains(VALUE));
    assert_eq!(a.approval(&id).await.unwrap().status, ApprovalStatus::Used);
    let used = as_a(&["approvals", "show", &id], None);
    assert!(stdout(&used).contains("used"), "{}", text(&used));
    outputs.push(used);

    // The value appears in no other command's output.
    for o in &outputs {
        assert!(!text(o).contains(VALUE), "value in output: {}", text(o));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_waiting_reads_share_one_grant_and_the_other_waits_for_the_next() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let boss = owner(&ts, "owner@example.com").await;
    boss.client
        .put_secret(&p("p/API_KEY"), VALUE, None, Some(Tier::Sensitive))
        .await
        .unwrap();
    let agent_secret = key(&boss, &["secrets:read:p/*"])
        .await
        .secret
        .expose()
        .clone();
    let approver = join(&ts, &boss.client, "carol@example.com", Role::Approver).await;
    let agent_env = [("KEYHOLD_AGENT_KEY", agent_secret.as_str())];
    let args = ["secrets", "get", "p/API_KEY", "--wait-approval", "--silent"];

    // Both join the same open request (one per key and path).
    let first = spawn(&url, &args, &agent_env);
    let second = spawn(&url, &args, &agent_env);
    let id = pending_id(&approver).await;
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    approver.approve(&id, None, None).await.unwrap();

    // The grant opens one read: one process prints the value, the other goes on waiting
    // on the next request, and reads once that is approved too.
    let mut next = None;
    for _ in 0..200 {
        let open = approver
            .list_approvals(Some(ApprovalStatus::Pending), None, None)
            .await
            .unwrap()
            .items;
        if let Some(a) = open.first() {
            next = Some(a.id.clone());
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    let next = next.expect("the second read opened no new request");
    assert_ne!(next, id);
    approver.approve(&next, None, None).await.unwrap();
    for o in [finish(first).await, finish(second).await] {
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert_eq!(stdout(&o), VALUE);
    }
    assert_eq!(
        approver.approval(&id).await.unwrap().status,
        ApprovalStatus::Used
    );
    assert_eq!(
        approver.approval(&next).await.unwrap().status,
        ApprovalStatus::Used
    );
}
