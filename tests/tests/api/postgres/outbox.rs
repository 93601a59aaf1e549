//! The outbox shared by replicas: three servers on one database claim messages with
//! `FOR UPDATE SKIP LOCKED` and a lease, so events written through any replica are each
//! delivered, and delivered once (no worker takes a message another is delivering).

use std::collections::HashSet;

use keyhold_e2e::receiver::Receiver;

use super::replicas::Replicas;
use crate::support::key_req;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_deliver_every_event_once() {
    let r = Replicas::start_with(&[
        ("KEYHOLD_ALLOW_PRIVATE_WEBHOOKS", "true"),
        ("KEYHOLD_OUTBOX_POLL_MS", "50"),
    ])
    .await;
    let rx = Receiver::start();
    let (_, owner) = r.owner(0, "whreplicas").await;
    let http = reqwest::Client::new();
    let made: serde_json::Value = http
        .post(format!("{}/v1/webhooks", r.procs[1].url))
        .bearer_auth(owner.token().unwrap())
        .json(&serde_json::json!({"url": rx.url("r"), "events": ["key.created"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    rx.set_secrets(&[made["secret"].as_str().unwrap()]);
    // Twelve keys, made through the three replicas in turn, four at a time.
    for round in 0..3 {
        let made = futures::future::join_all((0..4).map(|i| {
            let c = r.procs[i % 3]
                .client()
                .with_token(owner.token().unwrap().to_owned());
            async move {
                c.create_key(&key_req(&format!("k{round}-{i}"), &["secrets:read:a/*"]))
                    .await
                    .unwrap()
            }
        }))
        .await;
        assert_eq!(made.len(), 4);
    }
    let got = rx.wait_for(12).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let got_after = rx.received();
    assert_eq!(
        got_after.len(),
        12,
        "a message was delivered twice: {got:?}"
    );
    let ids: HashSet<&str> = got_after.iter().map(|d| d.header("webhook-id")).collect();
    assert_eq!(ids.len(), 12);
    assert!(got_after.iter().all(|d| d.verified_by == vec![0]));
    let names: HashSet<String> = got_after
        .iter()
        .map(|d| d.json()["data"]["target"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), 12, "every key's event, each once");
}
