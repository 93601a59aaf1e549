//! What the 2FA tests share: codes from `oathtool`, enrolling a person, the sign-in
//! ticket, audit reads, raw requests and a race of parallel calls.

use std::collections::HashSet;
use std::process::Command;

use chrono::{DateTime, Duration, Utc};
use keyhold_client::{Client, ClientError, LoginOutcome};
use keyhold_core::ErrorCode;
use keyhold_core::api::{AuditEvent, AuditQuery};
use keyhold_e2e::{STRONG_PASSWORD, TestServer};
use keyhold_vault::clock::Clock;

pub use keyhold_e2e::oathtool;

/// Runs a tool the tests depend on, failing with a message that says how to install it.
pub(super) fn run_tool(tool: &str, package: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("`{tool}` could not be run ({e}): install the Debian package `{package}`")
    });
    assert!(
        out.status.success(),
        "`{tool}` failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The code for the test clock's current time.
pub fn code_now(ts: &TestServer, secret: &str) -> String {
    oathtool(secret, ts.clock.now())
}

/// A well-formed code that is none of those accepted around `at` (steps −1, 0, +1).
pub(super) fn wrong_code(secret: &str, at: DateTime<Utc>) -> String {
    let near: HashSet<String> = [-30, 0, 30]
        .into_iter()
        .map(|s| oathtool(secret, at + Duration::seconds(s)))
        .collect();
    (0..10u32)
        .map(|n| format!("{n}{n}{n}{n}{n}{n}"))
        .find(|c| !near.contains(c))
        .unwrap()
}

/// The TOTP secret and first backup codes of a person who has just turned 2FA on.
pub struct Enrolled {
    pub secret: String,
    pub backup_codes: Vec<String>,
}

/// Enroll and confirm with a code from oathtool. The step used is spent, so the next
/// code needs the clock moved on (see [`next_code`]).
pub async fn enable_2fa(ts: &TestServer, client: &Client) -> Enrolled {
    let e = client.start_totp_enrollment().await.unwrap();
    let secret = e.secret.expose().clone();
    let codes = client
        .confirm_totp(&code_now(ts, &secret))
        .await
        .unwrap()
        .backup_codes
        .iter()
        .map(|c| c.expose().clone())
        .collect();
    Enrolled {
        secret,
        backup_codes: codes,
    }
}

/// Move the clock one step on and return that step's code.
pub fn next_code(ts: &TestServer, secret: &str) -> String {
    ts.clock.advance(Duration::seconds(30));
    code_now(ts, secret)
}

pub(super) async fn ticket(ts: &TestServer, email: &str) -> String {
    match ts.client().login(email, STRONG_PASSWORD).await.unwrap() {
        LoginOutcome::MfaRequired { mfa_ticket } => mfa_ticket.expose().clone(),
        LoginOutcome::Session(_) => panic!("2FA is on, yet the password alone signed in"),
    }
}

pub(super) async fn events(client: &Client, action: &str) -> Vec<AuditEvent> {
    client
        .audit(&AuditQuery {
            action: Some(action.to_owned()),
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
}

pub(super) async fn all_events(client: &Client) -> usize {
    client
        .audit(&AuditQuery {
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .len()
}

pub(super) fn assert_code(err: &ClientError, status: u16, code: ErrorCode) {
    assert_eq!(
        (err.status(), err.code()),
        (Some(status), Some(code)),
        "{err:?}"
    );
}

pub(super) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// POST with the person's session and return the status and Cache-Control header.
pub(super) async fn raw_post(
    ts: &TestServer,
    token: Option<&str>,
    path: &str,
    body: &str,
) -> (u16, String) {
    let mut rb = reqwest::Client::new()
        .post(format!("{}{path}", ts.url()))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let resp = rb.send().await.unwrap();
    let cc = resp
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (resp.status().as_u16(), cc)
}

/// Runs `n` copies of a request at once and counts the successes.
pub(super) async fn race<F, Fut, T>(n: usize, f: F) -> (usize, Vec<ClientError>)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = keyhold_client::Result<T>>,
{
    let results = futures::future::join_all((0..n).map(|_| f())).await;
    let mut ok = 0;
    let mut errs = Vec::new();
    for r in results {
        match r {
            Ok(_) => ok += 1,
            Err(e) => errs.push(e),
        }
    }
    (ok, errs)
}
