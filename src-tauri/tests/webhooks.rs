//! The Settings area's webhook and notification calls (`keyhold_desktop::backend`)
//! against the real server and a real receiver that checks signatures with PyPI's
//! `standardwebhooks`: the secret handed over once, a signed test in the delivery log,
//! a change, a rotation, removal; bad input said before anything is sent; approval mail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use keyhold_core::Sensitive;
use keyhold_desktop::backend::{Server, settings, webhooks};
use keyhold_desktop::error::ErrorKind;
use keyhold_desktop::server_url;
use keyhold_desktop::view::settings::{
    DeliveryView, NewWebhook, NotificationPrefsView, WebhookChange,
};
use keyhold_e2e::TestServer;
use keyhold_e2e::receiver::Receiver;

async fn delivered(server: &Server, token: &Sensitive<String>, id: &str) -> Vec<DeliveryView> {
    let start = Instant::now();
    loop {
        let log = webhooks::deliveries(server, token, id).await.unwrap();
        if log.iter().all(|d| d.status == "delivered") && !log.is_empty() {
            return log;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "never delivered: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn webhooks_are_added_tested_rotated_and_removed() {
    let ts = TestServer::start_with(|c| {
        c.allow_private_webhooks = true;
        c.outbox_poll_ms = 50;
    })
    .await;
    let rx = Receiver::start();
    let ada = ts.person("desk-hooks").await;
    let server = Server::connect(server_url::parse(&ts.url()).unwrap()).unwrap();
    let token = Sensitive::new(ada.client.token().unwrap().to_owned());

    // Said before anything is sent: no URL, an unknown kind, a blank id.
    for (url, kind) in [("  ", "webhook"), ("https://example.com/h", "pigeon")] {
        let new = NewWebhook {
            url: url.into(),
            kind: kind.into(),
            events: vec![],
            description: None,
        };
        let e = webhooks::create_webhook(&server, &token, &new)
            .await
            .err()
            .unwrap();
        assert_eq!(e.kind, ErrorKind::InvalidRequest, "{e:?}");
    }
    assert!(
        webhooks::webhooks(&server, &token)
            .await
            .unwrap()
            .is_empty()
    );
    let e = webhooks::test_webhook(&server, &token, " ")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);

    let new = NewWebhook {
        url: format!(" {} ", rx.url("desk")),
        kind: "webhook".into(),
        events: vec![" approval.* ".into(), String::new()],
        description: Some("  ".into()),
    };
    let created = webhooks::create_webhook(&server, &token, &new)
        .await
        .unwrap();
    let secret = created.secret.clone().unwrap();
    assert!(secret.starts_with("whsec_"));
    let id = created.webhook.id.clone();
    assert_eq!(created.webhook.description, None, "a blank note is no note");
    let listed = webhooks::webhooks(&server, &token).await.unwrap();
    assert_eq!(listed, vec![created.webhook.clone()]);
    assert!(!format!("{listed:?}").contains("whsec_"));

    rx.set_secrets(&[&secret]);
    let queued = webhooks::test_webhook(&server, &token, &id).await.unwrap();
    assert_eq!(queued.event_type, "webhook.test");
    let log = delivered(&server, &token, &id).await;
    assert_eq!(
        (log[0].id.as_str(), log[0].last_status),
        (queued.id.as_str(), Some(200))
    );
    assert_eq!(rx.wait_for(1).await[0].verified_by, vec![0]);

    let off = webhooks::update_webhook(
        &server,
        &token,
        &id,
        &WebhookChange {
            enabled: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(!off.enabled);
    assert_eq!(
        off.events, created.webhook.events,
        "only the enabled flag changed"
    );
    let rotated = webhooks::rotate_webhook_secret(&server, &token, &id)
        .await
        .unwrap();
    assert!(rotated.secret.unwrap() != secret && rotated.webhook.previous_secret_until.is_some());

    webhooks::delete_webhook(&server, &token, &id)
        .await
        .unwrap();
    let gone = webhooks::deliveries(&server, &token, &id)
        .await
        .unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NotFound);

    // Approval mail, the person's own.
    let prefs = settings::notification_prefs(&server, &token).await.unwrap();
    assert!(prefs.approval_mail);
    let off = NotificationPrefsView {
        approval_mail: false,
    };
    assert_eq!(
        settings::save_notification_prefs(&server, &token, &off)
            .await
            .unwrap(),
        off
    );
    assert_eq!(
        settings::notification_prefs(&server, &token).await.unwrap(),
        off
    );
    ts.stop().await;
}
