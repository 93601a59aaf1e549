//! A key's read rate: a burst far above its own baseline raises an alert; the clock is the
//! test's, moved a minute at a time while the key reads at its usual pace.

use chrono::Duration;
use keyhold_core::api::{AlertRules, Severity};
use keyhold_e2e::TestServer;

use super::{alerts_of, metric};
use crate::support::{as_agent, key, p};

#[tokio::test]
async fn a_read_burst_far_above_the_keys_baseline_raises_an_alert() {
    let ts = TestServer::start().await;
    let owner = ts.person("burst").await;
    owner
        .client
        .put_secret(&p("prod/API_KEY"), "v1", None, None)
        .await
        .unwrap();
    // A burst of 1,000 reads takes a while here: the floor goes down to 60 through the
    // API, the rest stays at its default (20 times the baseline, 30 minutes to learn).
    let mut rules = AlertRules::default();
    rules.read_rate.floor = Some(60);
    owner.client.set_alert_rules(&rules).await.unwrap();
    let agent = as_agent(
        &ts,
        key(&owner, &["secrets:read:prod/*"]).await.secret.expose(),
    );
    // Its usual pace: 2 reads a minute for 31 minutes.
    for _ in 0..31 {
        for _ in 0..2 {
            agent.get_secret(&p("prod/API_KEY"), None).await.unwrap();
        }
        ts.clock.advance(Duration::minutes(1));
    }
    assert!(
        alerts_of(&owner.client, "read_rate").await.is_empty(),
        "its usual pace is quiet"
    );
    // Then 61 reads within one minute: more than 20 times its baseline and above the floor.
    for _ in 0..61 {
        agent.get_secret(&p("prod/API_KEY"), None).await.unwrap();
    }
    let raised = alerts_of(&owner.client, "read_rate").await;
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert_eq!(raised[0].severity, Severity::Warning);
    assert!(
        raised[0].message.contains("61 secrets in a minute"),
        "{}",
        raised[0].message
    );
    assert_eq!(raised[0].response, None, "the default response only alerts");
    assert_eq!(
        metric(&ts, "keyhold_alerts_raised_total{rule=\"read_rate\"}").await,
        1
    );
    // More in the same minute: one alert per key and minute, and the key keeps working.
    for _ in 0..5 {
        agent.get_secret(&p("prod/API_KEY"), None).await.unwrap();
    }
    assert_eq!(alerts_of(&owner.client, "read_rate").await.len(), 1);
    ts.stop().await;
}
