//! `keyhold webhooks …` and `keyhold notifications …` against a real server and a real
//! receiver that verifies each delivery with PyPI's `standardwebhooks`: the secret printed
//! once (alone on stdout), tests and the delivery log, retry after a 500, rotation (both
//! secrets sign), disable and enable, removal; refusals outside the sudo window and for
//! members; the URL read from stdin; approval mail turned off and on.

use chrono::Duration;
use keyhold_core::api::Role;
use keyhold_e2e::receiver::Receiver;
use keyhold_e2e::{STRONG_PASSWORD, TestServer};

use crate::cli::{keyhold, text};
use crate::cli_approvals::{join, owner};
use crate::webhooks::helpers::{Api, server};

/// Wait (up to 20 s) until delivery `did` of `endpoint` satisfies `done`. Deliveries made
/// at the same instant come in any order, so it is looked for by id.
async fn wait_for_delivery(
    api: &Api,
    endpoint: &str,
    did: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) {
    let start = std::time::Instant::now();
    loop {
        let log = api.deliveries(endpoint).await;
        if log.iter().any(|d| d["id"] == did && done(d)) {
            return;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "delivery {did} never got there: {log:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_managed_from_the_command_line() {
    let ts = server().await;
    let rx = Receiver::start();
    let url = ts.url();
    let boss = owner(&ts, "owner@example.com").await;
    let token = boss.client.token().unwrap().to_owned();
    let k = |args: &[&str], stdin: Option<&str>| {
        keyhold(&url, args, stdin, &[("KEYHOLD_TOKEN", token.as_str())])
    };
    let api = Api::of(&ts, &boss);

    let none = k(&["webhooks", "list"], None);
    assert!(none.status.success(), "{}", text(&none));
    assert!(text(&none).contains("No webhooks"), "{}", text(&none));

    // The URL comes from stdin; the secret alone on stdout, the warning on stderr.
    let added = k(
        &[
            "webhooks",
            "add",
            "-",
            "--events",
            "approval.*,webhook.test",
            "--description",
            "CI alerts",
        ],
        Some(&format!("{}\n", rx.url("cli"))),
    );
    // `webhook.test` is not an event one subscribes to: refused, nothing saved.
    assert_eq!(added.status.code(), Some(1), "{}", text(&added));
    assert!(
        api.get("/v1/webhooks")
            .await
            .1
            .as_array()
            .unwrap()
            .is_empty()
    );
    let added = k(
        &[
            "webhooks",
            "add",
            "-",
            "--events",
            "approval.*",
            "--description",
            "CI alerts",
        ],
        Some(&format!("{}\n", rx.url("cli"))),
    );
    assert!(added.status.success(), "{}", text(&added));
    let secret = stdout(&added);
    assert!(
        secret.starts_with("whsec_") && !secret.contains('\n'),
        "{secret}"
    );
    let warned = String::from_utf8_lossy(&added.stderr);
    assert!(warned.contains("only time"), "{warned}");
    rx.set_secrets(&[&secret]);

    let list = k(&["webhooks", "list", "--json"], None);
    let hooks: Vec<serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(hooks.len(), 1, "{}", text(&list));
    let id = hooks[0]["id"].as_str().unwrap().to_owned();
    let table = k(&["webhooks", "list"], None);
    assert!(
        text(&table).contains(&id) && text(&table).contains("CI alerts"),
        "{}",
        text(&table)
    );
    for o in [&list, &table] {
        assert!(
            !text(o).contains("whsec_"),
            "a secret in a listing: {}",
            text(o)
        );
    }

    // A test is delivered and verifies with the printed secret.
    let test = k(&["webhooks", "test", &id], None);
    assert!(test.status.success(), "{}", text(&test));
    let got = rx.wait_for(1).await;
    assert_eq!(got[0].verified_by, vec![0], "{:?}", got[0]);
    api.wait_delivery(&id, |d| d["status"] == "delivered").await;
    let log = k(&["webhooks", "deliveries", &id], None);
    assert!(
        text(&log).contains("webhook.test") && text(&log).contains("delivered"),
        "{}",
        text(&log)
    );

    // A 500 stays pending; `retry` sends it again now, under the same id.
    rx.set_mode("500");
    let failing = k(&["webhooks", "test", &id, "--json"], None);
    let delivery: serde_json::Value = serde_json::from_slice(&failing.stdout).unwrap();
    let did = delivery["id"].as_str().unwrap().to_owned();
    wait_for_delivery(&api, &id, &did, |d| d["attempts"] == 1).await;
    let log = k(&["webhooks", "deliveries", &id, "--json"], None);
    let items: Vec<serde_json::Value> = serde_json::from_slice(&log.stdout).unwrap();
    let failed = items.iter().find(|d| d["id"] == did.as_str()).unwrap();
    assert_eq!(failed["last_status"], 500, "{items:?}");
    rx.set_mode("200");
    let retried = k(&["webhooks", "retry", &id, &did], None);
    assert!(retried.status.success(), "{}", text(&retried));
    wait_for_delivery(&api, &id, &did, |d| d["status"] == "delivered").await;

    // Rotation: a new secret, once; both sign for 24 h.
    let rotated = k(&["webhooks", "rotate-secret", &id], None);
    assert!(rotated.status.success(), "{}", text(&rotated));
    let new_secret = stdout(&rotated);
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    rx.set_secrets(&[&secret, &new_secret]);
    let before = rx.received().len();
    assert!(k(&["webhooks", "test", &id], None).status.success());
    let got = rx.wait_for(before + 1).await;
    assert_eq!(got.last().unwrap().verified_by, vec![0, 1]);

    // Disable, enable; an update that says nothing is a usage error.
    let off = k(&["webhooks", "update", &id, "--disable"], None);
    assert!(off.status.success(), "{}", text(&off));
    assert_eq!(
        api.get(&format!("/v1/webhooks/{id}")).await.1["enabled"],
        false
    );
    assert!(text(&k(&["webhooks", "list"], None)).contains(" no "));
    let on = k(
        &["webhooks", "update", &id, "--enable", "--events", "key.*"],
        None,
    );
    assert!(on.status.success(), "{}", text(&on));
    let now = api.get(&format!("/v1/webhooks/{id}")).await.1;
    assert_eq!(now["enabled"], true);
    assert!(
        now["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e.as_str().unwrap().starts_with("key.")),
        "{now}"
    );
    assert_eq!(k(&["webhooks", "update", &id], None).status.code(), Some(2));
    assert_eq!(
        k(&["webhooks", "update", &id, "--enable", "--disable"], None)
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        k(&["webhooks", "test", "no-such-id"], None).status.code(),
        Some(4)
    );

    // A member is refused; past the sudo window changes wait for a new sign-in.
    let member = join(&ts, &boss.client, "mo@example.com", Role::Member).await;
    let mt = member.token().unwrap().to_owned();
    let refused = keyhold(
        &url,
        &["webhooks", "list"],
        None,
        &[("KEYHOLD_TOKEN", mt.as_str())],
    );
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused));
    ts.clock.advance(Duration::minutes(11));
    let stale = k(&["webhooks", "remove", &id], None);
    assert_eq!(stale.status.code(), Some(3), "{}", text(&stale));
    assert!(text(&stale).contains("keyhold login"), "{}", text(&stale));
    assert_eq!(api.get("/v1/webhooks").await.1.as_array().unwrap().len(), 1);

    let fresh = ts.login("owner@example.com", STRONG_PASSWORD).await;
    let ft = fresh.token().unwrap().to_owned();
    let removed = keyhold(
        &url,
        &["webhooks", "remove", &id],
        None,
        &[("KEYHOLD_TOKEN", ft.as_str())],
    );
    assert!(removed.status.success(), "{}", text(&removed));
    assert!(
        api.get("/v1/webhooks")
            .await
            .1
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_mail_is_turned_off_and_on_from_the_command_line() {
    let ts = TestServer::start().await;
    let url = ts.url();
    let p = ts.person("cli-notify").await;
    let token = p.client.token().unwrap().to_owned();
    let k = |args: &[&str]| keyhold(&url, args, None, &[("KEYHOLD_TOKEN", token.as_str())]);

    let shown = k(&["notifications"]);
    assert!(shown.status.success(), "{}", text(&shown));
    assert!(
        text(&shown).contains("approval-mail") && text(&shown).contains("yes"),
        "{}",
        text(&shown)
    );
    let off = k(&["notifications", "set", "--approval-mail", "off"]);
    assert!(off.status.success(), "{}", text(&off));
    assert!(!p.client.notification_prefs().await.unwrap().approval_mail);
    let json = k(&["notifications", "show", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v, serde_json::json!({"approval_mail": false}));
    assert_eq!(
        k(&["notifications", "set", "--approval-mail", "maybe"])
            .status
            .code(),
        Some(2)
    );
    let on = k(&["notifications", "set", "--approval-mail", "on", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&on.stdout).unwrap();
    assert_eq!(v["approval_mail"], true);
    assert!(p.client.notification_prefs().await.unwrap().approval_mail);
}
