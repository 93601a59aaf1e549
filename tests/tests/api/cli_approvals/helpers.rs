//! What the CLI approval tests share: owners and invited members, `keyhold` processes
//! left running until a decision, and the pending request's id.

use std::process::{Child, Command, Output, Stdio};
use std::time::Duration as StdDuration;

use keyhold_client::Client;
use keyhold_core::Sensitive;
use keyhold_core::api::{ApprovalStatus, Role, SignupRequest};
use keyhold_e2e::{STRONG_PASSWORD, TestServer, target_bin};

pub(super) const VALUE: &str = "sk_live_critical_value_0123456789";

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
    let link = ts
        .mailed_link(email, "/signup")
        .await
        .expect("invitation mailed");
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
pub(super) fn spawn(url: &str, args: &[&str], env: &[(&str, &str)]) -> Child {
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
pub(super) async fn finish(child: Child) -> Output {
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
pub(super) async fn pending_id(client: &Client) -> String {
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

pub(super) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
