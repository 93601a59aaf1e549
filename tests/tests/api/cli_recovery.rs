//! `keyhold password-reset request|confirm` and `keyhold members reset-2fa` against a
//! real server: the link mailed through the outbox, pasted whole or as its token, with and
//! without 2FA; single use; sessions ended; an owner turning off a member's 2FA with their
//! own code, never their own; nothing secret in any output.

use chrono::Duration;
use keyhold_core::api::Role;
use keyhold_e2e::{OTHER_STRONG_PASSWORD, STRONG_PASSWORD, TestServer, oathtool};
use keyhold_vault::clock::Clock;

use crate::cli::{keyhold, text};
use crate::cli_approvals::{join, owner};

/// Turn 2FA on for `client` over the API: its TOTP secret.
async fn with_2fa(ts: &TestServer, client: &keyhold_client::Client) -> String {
    let e = client.start_totp_enrollment().await.unwrap();
    let secret = e.secret.expose().clone();
    client
        .confirm_totp(&oathtool(&secret, ts.clock.now()))
        .await
        .unwrap();
    secret
}

async fn bob_has_2fa(admin: &keyhold_client::Client) -> bool {
    let members = admin.members().await.unwrap();
    let bob = members
        .iter()
        .find(|m| m.email == "bob@example.com")
        .unwrap();
    bob.mfa_enabled
}

fn next_code(ts: &TestServer, secret: &str) -> String {
    ts.clock.advance(Duration::seconds(30));
    oathtool(secret, ts.clock.now())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_password_is_reset_from_the_command_line() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let p = ts.person("cli-reset").await;
    let k = |args: &[&str], stdin: Option<&str>| keyhold(&url, args, stdin, &[]);

    // The same answer for an address with or without an account; a non-address is usage.
    let asked = k(&["password-reset", "request", &p.email], None);
    assert!(asked.status.success(), "{}", text(&asked));
    let stranger = k(&["password-reset", "request", "nobody@example.com"], None);
    assert!(stranger.status.success(), "{}", text(&stranger));
    assert_eq!(
        text(&asked).replace(&p.email, "X"),
        text(&stranger).replace("nobody@example.com", "X")
    );
    assert_eq!(
        k(&["password-reset", "request", "nope"], None)
            .status
            .code(),
        Some(2)
    );

    // The whole link pasted, then the new password: every session ends.
    let link = ts.mailed_link(&p.email, "/reset-password").await.unwrap();
    let done = k(
        &["password-reset", "confirm"],
        Some(&format!("{link}\n{OTHER_STRONG_PASSWORD}\n")),
    );
    assert!(done.status.success(), "{}", text(&done));
    assert!(!text(&done).contains("khr_") && !text(&done).contains(OTHER_STRONG_PASSWORD));
    assert_eq!(
        p.client.me().await.unwrap_err().status(),
        Some(401),
        "old session ended"
    );
    ts.login(&p.email, OTHER_STRONG_PASSWORD).await;

    // Used once: the same link again is refused and changes nothing.
    let again = k(
        &["password-reset", "confirm"],
        Some(&format!("{link}\n{STRONG_PASSWORD}\n")),
    );
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    ts.login(&p.email, OTHER_STRONG_PASSWORD).await;
    assert_eq!(
        k(&["password-reset", "confirm"], Some("\n\n"))
            .status
            .code(),
        Some(2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_with_2fa_on_needs_a_code() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let p = ts.person("cli-reset-2fa").await;
    let secret = with_2fa(&ts, &p.client).await;
    let k = |args: &[&str], stdin: Option<&str>| keyhold(&url, args, stdin, &[]);
    assert!(
        k(&["password-reset", "request", &p.email], None)
            .status
            .success()
    );
    let token = ts.mailed_token(&p.email, "/reset-password").await.unwrap();

    // No code: exit 3, the password unchanged, the link still good.
    let no_code = k(
        &["password-reset", "confirm"],
        Some(&format!("{token}\n{OTHER_STRONG_PASSWORD}\n")),
    );
    assert_eq!(no_code.status.code(), Some(3), "{}", text(&no_code));
    assert!(
        ts.client()
            .login(&p.email, OTHER_STRONG_PASSWORD)
            .await
            .is_err()
    );
    let with_code = k(
        &["password-reset", "confirm", "--json"],
        Some(&format!(
            "{token}\n{OTHER_STRONG_PASSWORD}\n{}\n",
            next_code(&ts, &secret)
        )),
    );
    assert!(with_code.status.success(), "{}", text(&with_code));
    assert!(
        ts.client()
            .login(&p.email, OTHER_STRONG_PASSWORD)
            .await
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_resets_a_members_lost_2fa_from_the_command_line() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let boss = owner(&ts, "owner@example.com").await;
    let boss_secret = with_2fa(&ts, &boss.client).await;
    let bob = join(&ts, &boss.client, "bob@example.com", Role::Approver).await;
    with_2fa(&ts, &bob).await;
    let token = boss.client.token().unwrap().to_owned();
    let k = |args: &[&str], stdin: Option<&str>| {
        keyhold(&url, args, stdin, &[("KEYHOLD_TOKEN", token.as_str())])
    };

    // Never one's own; a wrong code changes nothing.
    let own = k(
        &["members", "reset-2fa", "owner@example.com"],
        Some(&format!("{}\n", next_code(&ts, &boss_secret))),
    );
    assert_ne!(own.status.code(), Some(0), "{}", text(&own));
    let wrong = k(
        &["members", "reset-2fa", "bob@example.com"],
        Some("000000\n"),
    );
    assert_ne!(wrong.status.code(), Some(0), "{}", text(&wrong));
    assert!(bob_has_2fa(&boss.client).await);

    let done = k(
        &["members", "reset-2fa", "bob@example.com"],
        Some(&format!("{}\n", next_code(&ts, &boss_secret))),
    );
    assert!(done.status.success(), "{}", text(&done));
    assert!(text(&done).contains("bob@example.com"), "{}", text(&done));
    assert!(!bob_has_2fa(&boss.client).await);
    assert!(
        ts.client()
            .login("bob@example.com", STRONG_PASSWORD)
            .await
            .is_ok(),
        "Bob signs in with his password alone"
    );
}
