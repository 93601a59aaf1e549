//! The Secrets page's server calls (`keyhold_desktop::backend::secrets`) against the real
//! server on a loopback port: browsing metadata, writing and rotating, deleting, the
//! approval gate as the page meets it, and invitations.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keyhold_client::{Client, LoginOutcome};
use keyhold_core::Sensitive;
use keyhold_core::api::{Role, SignupRequest};
use keyhold_core::tier::{SecretType, Tier};
use keyhold_desktop::backend::Server;
use keyhold_desktop::backend::{
    self,
    secrets::{self, Read},
};
use keyhold_desktop::error::ErrorKind;
use keyhold_desktop::server_url;
use keyhold_desktop::view::secrets::{ApprovalNeeded, DeleteOutcome, WriteOutcome};
use keyhold_e2e::{Person, STRONG_PASSWORD, TestServer};

async fn signed_in(ts: &TestServer, p: &Person) -> Sensitive<String> {
    match ts.client().login(&p.email, STRONG_PASSWORD).await.unwrap() {
        LoginOutcome::Session(s) => s.session_token,
        LoginOutcome::MfaRequired { .. } => panic!("2FA is not on"),
    }
}

fn value(v: &str) -> Sensitive<String> {
    Sensitive::new(v.to_owned())
}

async fn written(
    server: &Server,
    token: &Sensitive<String>,
    path: &str,
    v: &str,
    tier: Option<Tier>,
) -> u32 {
    let path = secrets::parse_path(path).unwrap();
    match secrets::write(
        server,
        token,
        &path,
        &value(v),
        Some(SecretType::ApiKey),
        tier,
    )
    .await
    .unwrap()
    {
        WriteOutcome::Written { written } => written.version,
        WriteOutcome::ApprovalRequired { approval } => panic!("write gated: {approval:?}"),
    }
}

/// Browse by folder, metadata with who wrote each version, rotation, a standard read, and
/// delete: the page's calls as the server answers them.
#[tokio::test]
async fn browse_rotate_read_and_delete() {
    let ts = TestServer::start().await;
    let ada = ts.person("desk-secrets").await;
    let server = Server::connect(server_url::parse(&ts.url()).unwrap()).unwrap();
    let token = signed_in(&ts, &ada).await;

    assert_eq!(
        written(&server, &token, "prod/stripe/key", "sk_1", None).await,
        1
    );
    assert_eq!(
        written(&server, &token, "prod/stripe/key", "sk_2", None).await,
        2
    );
    written(&server, &token, "dev/db/url", "postgres://dev", None).await;

    let prod = secrets::list(&server, &token, "prod/").await.unwrap();
    assert_eq!(
        prod.iter().map(|s| s.path.as_str()).collect::<Vec<_>>(),
        ["prod/stripe/key"]
    );
    assert_eq!(prod[0].current_version, 2);
    assert_eq!(prod[0].kind, "api_key");
    assert_eq!(secrets::list(&server, &token, "").await.unwrap().len(), 2);
    let bad = secrets::list(&server, &token, "../etc").await.unwrap_err();
    assert!(
        bad.message.starts_with("The folder is not valid"),
        "{bad:?}"
    );

    let path = secrets::parse_path("prod/stripe/key").unwrap();
    let d = secrets::details(&server, &token, &path, &ada.user_id)
        .await
        .unwrap();
    assert_eq!(d.tier, "standard");
    assert_eq!(
        d.versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [2, 1],
        "newest first"
    );
    assert!(d.versions.iter().all(|v| v.author == "You"), "{d:?}");
    // Another member of the team sees Ada's name, not "You".
    let as_other = secrets::details(&server, &token, &path, "someone-else")
        .await
        .unwrap();
    assert_eq!(as_other.versions[0].author, ada.email, "{as_other:?}");

    match secrets::read(&server, &token, &path).await.unwrap() {
        Read::Value(v) => {
            assert_eq!(v.value.expose(), "sk_2");
            assert_eq!(v.version, 2);
        }
        Read::ApprovalRequired(a) => panic!("a standard secret asked for approval: {a:?}"),
    }

    assert!(matches!(
        secrets::delete(&server, &token, &path).await.unwrap(),
        DeleteOutcome::Deleted
    ));
    assert!(
        secrets::list(&server, &token, "prod/")
            .await
            .unwrap()
            .is_empty()
    );
    let gone = secrets::details(&server, &token, &path, &ada.user_id)
        .await
        .unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NotFound);
}

/// The Invite dialog's call: the invitation is mailed to the address with the role.
#[tokio::test]
async fn invite_sends_the_link() {
    let ts = TestServer::start().await;
    let ada = ts.person("desk-invite").await;
    let server = Server::connect(server_url::parse(&ts.url()).unwrap()).unwrap();
    let token = signed_in(&ts, &ada).await;
    let email = keyhold_e2e::unique_email("desk-invitee");
    let inv = secrets::invite(&server, &token, &email, Role::Approver)
        .await
        .unwrap();
    assert_eq!(inv.email, email);
    assert_eq!(inv.role, "approver");
    assert!(
        ts.mailed_link(&email, "/signup").await.is_some(),
        "no link mailed"
    );
}

/// Bob joins Ada's team as an approver through the mailed invitation (the Invite dialog's
/// call), and signs in.
async fn bob_joins(ts: &TestServer, server: &Server, ada: &Sensitive<String>) -> Client {
    let email = keyhold_e2e::unique_email("desk-bob");
    secrets::invite(server, ada, &email, Role::Approver)
        .await
        .unwrap();
    let link = ts.mailed_link(&email, "/signup").await.unwrap();
    let token = link.split("invitation=").nth(1).unwrap().to_owned();
    ts.client()
        .signup(&SignupRequest {
            email: email.clone(),
            password: Sensitive::new(STRONG_PASSWORD.to_owned()),
            display_name: Some("Bob Babbage".to_owned()),
            invitation: Some(Sensitive::new(token)),
        })
        .await
        .unwrap();
    ts.login(&email, STRONG_PASSWORD).await
}

fn gated(outcome: Read) -> ApprovalNeeded {
    match outcome {
        Read::ApprovalRequired(a) => a,
        Read::Value(_) => panic!("a tiered value opened without approval"),
    }
}

/// The page's path through the approval gate: a read of a tiered secret opens a request
/// the page can follow (too few approvers said: "eligible 0"), the grant opens the value
/// once; delete and lowering the tier are gated the same way and complete once granted.
#[tokio::test]
async fn the_gate_as_the_page_meets_it() {
    let ts = TestServer::start().await;
    let ada = ts.person("desk-gate").await;
    let server = Server::connect(server_url::parse(&ts.url()).unwrap()).unwrap();
    let token = signed_in(&ts, &ada).await;
    let path = secrets::parse_path("prod/db/password").unwrap();
    written(
        &server,
        &token,
        path.as_str(),
        "hunter2",
        Some(Tier::Sensitive),
    )
    .await;

    let asked = gated(secrets::read(&server, &token, &path).await.unwrap());
    assert_eq!(asked.required_approvals, 1);
    assert_eq!(
        asked.eligible_approvers,
        Some(0),
        "Ada may not approve her own"
    );
    assert_eq!(asked.operation.as_deref(), Some("read"));
    assert_eq!(asked.status, "pending");
    let seen = secrets::approval(&server, &token, &asked.approval_id)
        .await
        .unwrap();
    assert_eq!(seen.owner_id, ada.user_id, "requested by Ada herself");
    assert_eq!((seen.key_id, seen.key_name), (None, None));
    assert_eq!(seen.operation, "read");
    assert_eq!(seen.eligible_approvers, Some(0));

    let bob = bob_joins(&ts, &server, &token).await;
    let seen = secrets::approval(&server, &token, &asked.approval_id)
        .await
        .unwrap();
    assert_eq!(seen.eligible_approvers, Some(1), "Bob may approve now");
    bob.approve(&asked.approval_id, None, None).await.unwrap();
    let seen = secrets::approval(&server, &token, &asked.approval_id)
        .await
        .unwrap();
    assert_eq!(seen.status, "approved");
    assert_eq!(seen.approvals.len(), 1);
    match secrets::read(&server, &token, &path).await.unwrap() {
        Read::Value(v) => assert_eq!(v.value.expose(), "hunter2"),
        Read::ApprovalRequired(a) => panic!("granted, yet {a:?}"),
    }
    // Once: the next read asks again.
    let again = gated(secrets::read(&server, &token, &path).await.unwrap());
    assert_ne!(again.approval_id, asked.approval_id);

    // Lowering the tier: gated, then completed with the same call.
    let v3 = value("hunter3");
    let lower = |t| secrets::write(&server, &token, &path, &v3, None, Some(t));
    let WriteOutcome::ApprovalRequired { approval } = lower(Tier::Standard).await.unwrap() else {
        panic!("lowering the tier was not gated");
    };
    assert_eq!(approval.operation.as_deref(), Some("lower_tier"));
    bob.approve(&approval.approval_id, None, None)
        .await
        .unwrap();
    let seen = secrets::approval(&server, &token, &approval.approval_id)
        .await
        .unwrap();
    assert_eq!(seen.to_tier.as_deref(), Some("standard"));
    assert!(matches!(
        lower(Tier::Standard).await.unwrap(),
        WriteOutcome::Written { .. }
    ));

    // Delete, on a tiered secret: gated, then done.
    let other = secrets::parse_path("prod/db/root").unwrap();
    written(
        &server,
        &token,
        other.as_str(),
        "toor",
        Some(Tier::Sensitive),
    )
    .await;
    let DeleteOutcome::ApprovalRequired { approval } =
        secrets::delete(&server, &token, &other).await.unwrap()
    else {
        panic!("deleting a tiered secret was not gated");
    };
    assert_eq!(approval.operation.as_deref(), Some("delete"));
    bob.approve(&approval.approval_id, None, None)
        .await
        .unwrap();
    assert!(matches!(
        secrets::delete(&server, &token, &other).await.unwrap(),
        DeleteOutcome::Deleted
    ));
}

/// A new version of a tiered secret needs the sudo window: past it the page gets
/// `reauth_required`, proves it is the person (`reauthenticate`), and the write goes.
#[tokio::test]
async fn rotating_a_tiered_secret_needs_the_sudo_window() {
    let ts = TestServer::start().await;
    let ada = ts.person("desk-rotate").await;
    let server = Server::connect(server_url::parse(&ts.url()).unwrap()).unwrap();
    let token = signed_in(&ts, &ada).await;
    written(&server, &token, "prod/key", "v1", Some(Tier::Critical)).await;
    ts.clock.advance(chrono::Duration::minutes(11));
    let path = secrets::parse_path("prod/key").unwrap();
    let stale = secrets::write(&server, &token, &path, &value("v2"), None, None)
        .await
        .unwrap_err();
    assert_eq!(stale.kind, ErrorKind::ReauthRequired, "{stale:?}");
    backend::reauth(&server, &token, &value(STRONG_PASSWORD))
        .await
        .unwrap();
    assert_eq!(written(&server, &token, "prod/key", "v2", None).await, 2);
}
