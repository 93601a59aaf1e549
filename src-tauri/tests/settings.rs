//! The Settings area's server calls (`keyhold_desktop::backend::settings`) against the
//! real server on a loopback port: the approval policy read and saved through the sudo
//! window, its floors refused with a sentence, members refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Duration;
use keyhold_core::Sensitive;
use keyhold_core::api::Role;
use keyhold_desktop::backend::{self, Server, secrets, settings};
use keyhold_desktop::error::ErrorKind;
use keyhold_desktop::server_url;
use keyhold_desktop::view::settings::TenantSettingsView;
use keyhold_e2e::{STRONG_PASSWORD, TestServer, unique_email};

fn token_of(c: &keyhold_client::Client) -> Sensitive<String> {
    Sensitive::new(c.token().unwrap().to_owned())
}

#[tokio::test]
async fn the_approval_policy_is_read_and_saved_through_the_sudo_window() {
    let ts = TestServer::start().await;
    let ada = ts.person("desk-policy").await;
    let server = Server::connect(server_url::parse(&ts.url()).unwrap()).unwrap();
    let token = token_of(&ada.client);

    let now = settings::tenant_settings(&server, &token).await.unwrap();
    assert_eq!(
        now,
        TenantSettingsView {
            sensitive: 1,
            critical: 2,
            critical_delay: "10m".into(),
            request_ttl: "24h".into(),
            grant_ttl: "1h".into(),
            max_token_ttl: "24h".into(),
        }
    );
    let wanted = TenantSettingsView {
        critical: 3,
        critical_delay: "0s".into(),
        grant_ttl: " 30m ".into(),
        ..now.clone()
    };
    let kept = settings::save_tenant_settings(&server, &token, &wanted)
        .await
        .unwrap();
    assert_eq!((kept.critical, kept.grant_ttl.as_str()), (3, "30m"));
    assert_eq!(
        settings::tenant_settings(&server, &token).await.unwrap(),
        kept
    );

    // Below a floor, or a duration that is not one: a sentence, nothing changed.
    for bad in [
        TenantSettingsView {
            critical: 1,
            ..kept.clone()
        },
        TenantSettingsView {
            request_ttl: "soon".into(),
            ..kept.clone()
        },
    ] {
        let e = settings::save_tenant_settings(&server, &token, &bad)
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidRequest, "{e:?}");
        assert!(e.message.ends_with('.'), "{}", e.message);
    }
    assert_eq!(
        settings::tenant_settings(&server, &token).await.unwrap(),
        kept
    );

    // A member may not change it.
    let bob = unique_email("desk-policy-bob");
    secrets::invite(&server, &token, &bob, Role::Member)
        .await
        .unwrap();
    let link = ts.mailed_link(&bob, "/signup").await.unwrap();
    ts.client()
        .signup(&keyhold_core::api::SignupRequest {
            email: bob.clone(),
            password: Sensitive::new(STRONG_PASSWORD.to_owned()),
            display_name: None,
            invitation: Some(Sensitive::new(
                link.split("invitation=").nth(1).unwrap().to_owned(),
            )),
        })
        .await
        .unwrap();
    let bob_token = token_of(&ts.login(&bob, STRONG_PASSWORD).await);
    let refused = settings::save_tenant_settings(&server, &bob_token, &now)
        .await
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Forbidden, "{refused:?}");

    // Outside the sudo window: refused until Ada proves it is her.
    ts.clock.advance(Duration::minutes(11));
    let stale = settings::save_tenant_settings(&server, &token, &now)
        .await
        .unwrap_err();
    assert_eq!(stale.kind, ErrorKind::ReauthRequired, "{stale:?}");
    backend::reauth(&server, &token, &Sensitive::new(STRONG_PASSWORD.to_owned()))
        .await
        .unwrap();
    assert_eq!(
        settings::save_tenant_settings(&server, &token, &now)
            .await
            .unwrap(),
        now
    );
    ts.stop().await;
}
