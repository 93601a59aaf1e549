//! The Secrets page's server calls (`keyhold_desktop::backend::secrets`) against the real
//! server on a loopback port: browsing metadata, writing and rotating, deleting, the
//! approval gate as the page meets it, and invitations.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keyhold_client::LoginOutcome;
use keyhold_core::Sensitive;
use keyhold_core::api::Role;
use keyhold_core::tier::{SecretType, Tier};
use keyhold_desktop::backend::secrets::{self, Read};
use keyhold_desktop::server_url::{self, ServerUrl};
use keyhold_desktop::view::secrets::{DeleteOutcome, WriteOutcome};
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
    server: &ServerUrl,
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
    let server = server_url::parse(&ts.url()).unwrap();
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
    assert_eq!(gone.kind, keyhold_desktop::error::ErrorKind::NotFound);
}

/// The Invite dialog's call: the invitation is mailed to the address with the role.
#[tokio::test]
async fn invite_sends_the_link() {
    let ts = TestServer::start().await;
    let ada = ts.person("desk-invite").await;
    let server = server_url::parse(&ts.url()).unwrap();
    let token = signed_in(&ts, &ada).await;
    let email = keyhold_e2e::unique_email("desk-invitee");
    let inv = secrets::invite(&server, &token, &email, Role::Approver)
        .await
        .unwrap();
    assert_eq!(inv.email, email);
    assert_eq!(inv.role, "approver");
    assert!(
        ts.mailed_link(&email, "/signup").is_some(),
        "no link mailed"
    );
}
