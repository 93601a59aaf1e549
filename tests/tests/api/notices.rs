//! Security notices (issue 15, item 1): turning 2FA on or off, new backup codes, a password
//! change, a new agent key and a role change each mail the person a notice naming what
//! changed, when (UTC) and from which address, and nothing secret.

use keyhold_core::api::Role;
use keyhold_e2e::{OTHER_STRONG_PASSWORD, STRONG_PASSWORD, TestServer, decode_quoted_printable};
use keyhold_vault::clock::Clock;

use crate::approvals::invited;
use crate::mfa::{enable_2fa, next_code};
use crate::support::key;

/// The newest mail to `to` whose subject contains `subject`, decoded; it must name the
/// change's time (the test clock, to the second, UTC) and the loopback address the test
/// client calls from.
pub(crate) async fn notice(ts: &TestServer, to: &str, subject: &str) -> String {
    let all = ts.outbox().await;
    let mail = all
        .iter()
        .rev()
        .map(|m| decode_quoted_printable(m))
        .find(|m| {
            m.contains(&format!("To: {to}")) && m.contains(&format!("Subject: Keyhold: {subject}"))
        })
        .unwrap_or_else(|| panic!("no notice \"{subject}\" to {to}: {all:#?}"));
    let when = ts.clock.now().format("%Y-%m-%d %H:%M:%S UTC").to_string();
    assert!(
        mail.contains(&when),
        "the notice names when ({when}): {mail}"
    );
    assert!(
        mail.contains("From address: 127.0.0.1"),
        "the notice names the address: {mail}"
    );
    mail
}

fn assert_none_in(mail: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!mail.contains(s), "a secret is in the notice: {mail}");
    }
}

#[tokio::test]
async fn each_security_change_mails_a_notice_with_what_when_and_where() {
    let ts = TestServer::start().await;
    let p = ts.person("notice").await;
    let c = &p.client;

    // 2FA on.
    let e = enable_2fa(&ts, c).await;
    let on = notice(&ts, &p.email, "two-factor authentication was turned on").await;
    let codes: Vec<&str> = e.backup_codes.iter().map(String::as_str).collect();
    assert_none_in(&on, &codes);
    assert_none_in(&on, &[e.secret.as_str()]);

    // New backup codes.
    let fresh = c
        .regenerate_backup_codes(&next_code(&ts, &e.secret))
        .await
        .unwrap();
    let regen = notice(&ts, &p.email, "new backup codes were made").await;
    let new_codes: Vec<&str> = fresh
        .backup_codes
        .iter()
        .map(|c| c.expose().as_str())
        .collect();
    assert_none_in(&regen, &new_codes);
    assert_none_in(&regen, &codes);

    // A new agent key, by name, never its secret.
    let k = key(&p, &["secrets:read:app/*"]).await;
    let made = notice(&ts, &p.email, "a new agent key was created").await;
    assert!(made.contains("agent key named \"agent\""), "{made}");
    assert_none_in(&made, &[k.secret.expose().as_str()]);

    // 2FA off.
    c.disable_totp(&next_code(&ts, &e.secret)).await.unwrap();
    let off = notice(&ts, &p.email, "two-factor authentication was turned off").await;
    assert_none_in(&off, &[e.secret.as_str()]);

    // The password.
    c.change_password(STRONG_PASSWORD, OTHER_STRONG_PASSWORD)
        .await
        .unwrap();
    let pw = notice(&ts, &p.email, "your password was changed").await;
    assert_none_in(&pw, &[STRONG_PASSWORD, OTHER_STRONG_PASSWORD]);
    ts.stop().await;
}

#[tokio::test]
async fn a_role_change_mails_the_member_whose_role_changed() {
    let ts = TestServer::start().await;
    let owner = ts.person("roleowner").await;
    let m = invited(&ts, &owner, Role::Member).await;
    owner
        .client
        .set_role(&m.user_id, Role::Approver)
        .await
        .unwrap();
    let mail = notice(&ts, &m.email, "your role was changed").await;
    assert!(mail.contains("from member to approver"), "{mail}");
    assert!(mail.contains(&owner.email), "names who changed it: {mail}");
    ts.stop().await;
}
