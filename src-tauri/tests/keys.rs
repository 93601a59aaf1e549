//! The Keys page's server calls (`keyhold_desktop::backend::keys`) against the real server
//! on a loopback port: a key's details with its use, the edit dialog's values (a refused
//! field named in the error), and a rotation whose new secret works.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keyhold_core::Sensitive;
use keyhold_core::api::CreateKeyRequest;
use keyhold_core::scope::Scope;
use keyhold_desktop::backend::{self, Server};
use keyhold_desktop::error::ErrorKind;
use keyhold_desktop::server_url;
use keyhold_desktop::view::keys::KeyChanges;
use keyhold_e2e::TestServer;

#[tokio::test]
async fn details_edit_and_rotation_through_the_backend() {
    let ts = TestServer::start().await;
    let ada = ts.person("desk-keys").await;
    let server = Server::connect(server_url::parse(&ts.url()).unwrap()).unwrap();
    let token = Sensitive::new(ada.client.token().unwrap().to_owned());
    let created = ada
        .client
        .create_key(&CreateKeyRequest {
            name: "deploy".into(),
            scopes: vec![Scope::parse("secrets:read:prod/*").unwrap()],
            expires_in: Some("30d".into()),
            ip_allowlist: None,
            public_key: None,
        })
        .await
        .unwrap();
    let id = created.key.id.clone();
    let path = |t: &str| keyhold_core::path::SecretPath::parse(t).unwrap();
    ada.client
        .put_secret(&path("prod/K"), "v1", None, None)
        .await
        .unwrap();
    let agent = ts.client().with_token(created.secret.expose().clone());
    agent.get_secret(&path("prod/K"), None).await.unwrap();
    agent
        .get_secret(&path("staging/K"), None)
        .await
        .unwrap_err();

    let d = backend::key_details(&server, &token, &id).await.unwrap();
    assert_eq!(d.key.name, "deploy");
    assert_eq!((d.requests_24h, d.requests_7d, d.refused_7d), (2, 2, 1));
    assert_eq!(d.recent_ips[0].ip, "127.0.0.1");

    // A bad CIDR: the error names the field, so the dialog marks that input.
    let bad = KeyChanges {
        expires_at: d.key.expires_at.clone(),
        ip_allowlist: vec!["not-an-address".into()],
    };
    let e = backend::update_key(&server, &token, &id, &bad)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert_eq!(e.field.as_deref(), Some("ip_allowlist"));
    let past = KeyChanges {
        expires_at: Some("2001-01-01T00:00:00Z".into()),
        ip_allowlist: vec![],
    };
    let e = backend::update_key(&server, &token, &id, &past)
        .await
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("expires_at"));
    // Both fields as the dialog sends them: never expires, one network.
    let saved = backend::update_key(
        &server,
        &token,
        &id,
        &KeyChanges {
            expires_at: None,
            ip_allowlist: vec!["127.0.0.1".into()],
        },
    )
    .await
    .unwrap();
    assert_eq!(saved.expires_at, None);
    assert_eq!(saved.ip_allowlist, vec!["127.0.0.1/32".to_owned()]);

    let r = backend::rotate_key(&server, &token, &id, "0s")
        .await
        .unwrap();
    assert!(r.secret.starts_with("kha_"));
    assert_eq!(r.key.ip_allowlist, saved.ip_allowlist);
    assert!(!format!("{r:?}").contains(&r.secret));
    let e = agent.get_secret(&path("prod/K"), None).await.unwrap_err();
    assert_eq!(e.status(), Some(401));
    ts.client()
        .with_token(r.secret.clone())
        .get_secret(&path("prod/K"), None)
        .await
        .unwrap();
    let listed = backend::list_keys(&server, &token).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .find(|k| k.id == id)
            .unwrap()
            .revoked_at
            .is_some()
    );
}
