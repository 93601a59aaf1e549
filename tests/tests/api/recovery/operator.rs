//! `keyhold-server admin reset-2fa EMAIL`, the real binary beside the running server, for
//! a lone owner nobody in the tenant can help.

use keyhold_client::LoginOutcome;
use keyhold_e2e::{STRONG_PASSWORD, TestServer, target_bin, unique_email};

use super::{me_status, notice};
use crate::approvals::events;
use crate::mfa::enable_2fa;

/// Run `keyhold-server --data-dir … admin reset-2fa EMAIL` on the test server's database:
/// exit status, stdout, stderr.
fn reset_2fa(ts: &TestServer, email: &str) -> (i32, String, String) {
    let out = std::process::Command::new(target_bin("keyhold-server"))
        .arg("--data-dir")
        .arg(ts.data_dir())
        .args(["admin", "reset-2fa", email])
        .env_remove("KEYHOLD_MASTER_KEY")
        .envs(ts.database_env())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_operator_turns_a_lone_owners_2fa_off() {
    let ts = TestServer::start().await;
    let owner = ts.person("loneowner").await;
    let e = enable_2fa(&ts, &owner.client).await;

    let (status, stdout, stderr) = reset_2fa(&ts, &owner.email);
    assert_eq!(status, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&owner.email) && stdout.contains("is off"),
        "{stdout}"
    );
    assert!(!stderr.contains(&e.secret), "{stderr}");
    assert_eq!(me_status(&ts, owner.client.token().unwrap()).await, 401);
    let client = match ts
        .client()
        .login(&owner.email, STRONG_PASSWORD)
        .await
        .unwrap()
    {
        LoginOutcome::Session(s) => ts.client().with_token(s.session_token.expose().clone()),
        LoginOutcome::MfaRequired { .. } => panic!("2FA is still on"),
    };
    notice(
        &ts,
        &owner.email,
        "two-factor authentication was reset by the operator",
    )
    .await;
    let evs = events(&client, "mfa.reset").await;
    assert_eq!(evs.len(), 1, "{evs:?}");
    assert_eq!(evs[0].actor.kind, "system");
    assert_eq!(
        evs[0].actor.id.as_deref(),
        Some("keyhold-server admin reset-2fa")
    );
    assert_eq!(
        evs[0].target.as_deref(),
        Some(format!("user:{}", owner.user_id).as_str())
    );
    // The chain still verifies with the other process's event in it.
    assert!(client.audit_verify().await.unwrap().ok);

    // Again: nothing to do, said so, success.
    let (status, stdout, _) = reset_2fa(&ts, &owner.email);
    assert_eq!(status, 0);
    assert!(stdout.contains("already off"), "{stdout}");
    assert_eq!(events(&client, "mfa.reset").await.len(), 1);
}

#[tokio::test]
async fn an_unknown_address_is_an_error() {
    let ts = TestServer::start().await;
    let nobody = unique_email("noowner");
    let (status, stdout, stderr) = reset_2fa(&ts, &nobody);
    assert_eq!(status, 1, "{stdout}\n{stderr}");
    assert!(stderr.contains("no account has the address"), "{stderr}");
    let (status, _, stderr) = reset_2fa(&ts, "not an address");
    assert_eq!(status, 1);
    assert!(stderr.contains("Email"), "{stderr}");
    // Without a subcommand argument: a usage error.
    let out = std::process::Command::new(target_bin("keyhold-server"))
        .arg("--data-dir")
        .arg(ts.data_dir())
        .args(["admin", "reset-2fa"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
