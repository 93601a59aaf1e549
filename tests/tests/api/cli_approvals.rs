//! `keyhold approvals …` and `secrets get --wait-approval` against a real server: an agent
//! key reads a critical secret that two approvers with 2FA open from the command line;
//! deny, wait and expiry by exit code; bad flags change nothing; snapshots of the human and
//! JSON output. People use fixed addresses (each test has its own server), so snapshots
//! are stable.

use std::process::{Child, Command, Output, Stdio};
use std::time::Duration as StdDuration;

use chrono::Duration;
use keyhold_client::Client;
use keyhold_core::Sensitive;
use keyhold_core::api::{ApprovalStatus, Role, SignupRequest};
use keyhold_core::tier::Tier;
use keyhold_e2e::{STRONG_PASSWORD, TestServer, target_bin};

use crate::cli::{keyhold, snap, text};
use crate::mfa::{enable_2fa, next_code};
use crate::support::{key, p};

const VALUE: &str = "sk_live_critical_value_0123456789";

/// Sign up `email` as the owner of a new tenant and sign in.
pub async fn owner(ts: &TestServer, email: &str) -> keyhold_e2e::Person {
    let created = ts.signup(email, STRONG_PASSWORD).await;
    keyhold_e2e::Person {
        email: email.to_owned(),
        password: STRONG_PASSWORD.to_owned(),
        client: ts.login(email, STRONG_PASSWORD).await,
        user_id: created.user.id,
        tenant_id: created.tenant.id,
    }
}

/// `email` invited by `by` with `role`, signed up through the mailed link, signed in.
pub async fn join(ts: &TestServer, by: &Client, email: &str, role: Role) -> Client {
    by.invite(email, role).await.unwrap();
    let link = ts.mailed_link(email, "/signup").expect("invitation mailed");
    let token = link.split("invitation=").nth(1).unwrap().to_owned();
    ts.client()
        .signup(&SignupRequest {
            email: email.to_owned(),
            password: Sensitive::new(STRONG_PASSWORD.to_owned()),
            display_name: None,
            invitation: Some(Sensitive::new(token)),
        })
        .await
        .unwrap();
    ts.login(email, STRONG_PASSWORD).await
}

/// A `keyhold` process left running (it blocks until a decision).
fn spawn(url: &str, args: &[&str], env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(target_bin("keyhold"));
    cmd.args(args)
        .env("KEYHOLD_URL", url)
        .env_remove("KEYHOLD_TOKEN")
        .env_remove("KEYHOLD_AGENT_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// The output of a spawned process; killed (and the test failed) after a minute.
async fn finish(child: Child) -> Output {
    let pid = child.id();
    let waited = tokio::time::timeout(
        StdDuration::from_secs(60),
        tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()),
    )
    .await;
    match waited {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("keyhold did not finish within a minute");
        }
    }
}

/// The pending request's id, once the agent's read has opened it.
async fn pending_id(client: &Client) -> String {
    for _ in 0..200 {
        let items = client
            .list_approvals(Some(ApprovalStatus::Pending), None, None)
            .await
            .unwrap()
            .items;
        if let Some(a) = items.first() {
            return a.id.clone();
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    panic!("no approval request was opened");
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

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

/// People wait for approval as agents do: an owner's `secrets get --wait-approval` on a
/// sensitive secret opens a request under their own name, blocks, and prints the value
/// once someone else approves it; a delete waits on its own request the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_waits_for_approval_like_an_agent() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let ada = owner(&ts, "ada.wait@example.com").await;
    ada.client
        .put_secret(&p("p/DB"), VALUE, None, Some(Tier::Sensitive))
        .await
        .unwrap();
    let bob = join(&ts, &ada.client, "bob.wait@example.com", Role::Approver).await;
    let ada_env = [("KEYHOLD_TOKEN", ada.client.token().unwrap())];

    let getter = spawn(
        &url,
        &["secrets", "get", "p/DB", "--wait-approval", "--silent"],
        &ada_env,
    );
    let id = pending_id(&bob).await;
    let request = bob.approval(&id).await.unwrap();
    match &request.requested_by {
        keyhold_core::api::RequestedBy::Person { user } => assert_eq!(user.id, ada.user_id),
        other => panic!("the request names the person: {other:?}"),
    }
    bob.approve(&id, None, None).await.unwrap();
    let got = finish(getter).await;
    assert_eq!(got.status.code(), Some(0), "{}", text(&got));
    assert_eq!(stdout(&got), VALUE);

    // Without --wait-approval a person gets exit 5 and the request's id, as an agent does.
    let asks = keyhold(&url, &["secrets", "get", "p/DB"], None, &ada_env);
    assert_eq!(asks.status.code(), Some(5), "{}", text(&asks));
    assert!(!text(&asks).contains(VALUE));
}
