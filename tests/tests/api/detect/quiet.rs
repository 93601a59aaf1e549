//! No false alarms: bench/secret_read.py's normal agent load, driven from here for 60
//! seconds (one account, one secret, an agent key and a scoped token read by 16
//! connections at once, the per-token rate limit off as the bench has it), with the
//! vault's clock following the wall clock, raises nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use keyhold_core::api::{AuditQuery, Severity};
use keyhold_e2e::TestServer;

use super::{all_alerts, metric};
use crate::support::{as_agent, key, p, token};

const CONNECTIONS: usize = 16;
const RUN: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_minute_of_normal_agent_load_raises_nothing() {
    let ts = TestServer::start_with(|c| c.rate_limit_agent = 0).await;
    let owner = ts.person("bench").await;
    owner
        .client
        .put_secret(
            &p("production/gemini/API_KEY"),
            &format!("AIza{}", "x".repeat(35)),
            None,
            None,
        )
        .await
        .unwrap();
    let agent = as_agent(
        &ts,
        key(&owner, &["secrets:read:production/gemini/*"])
            .await
            .secret
            .expose(),
    );
    let tok = token(&agent, &["secrets:read:production/gemini/*"]).await;
    let reader = as_agent(&ts, tok.token.expose());
    let reads = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let start_at = {
        use keyhold_vault::clock::Clock;
        ts.clock.now()
    };
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (reader, reads) = (reader.clone(), reads.clone());
        tasks.push(tokio::spawn(async move {
            while started.elapsed() < RUN {
                reader
                    .get_secret(&p("production/gemini/API_KEY"), None)
                    .await
                    .unwrap();
                reads.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // The vault's clock follows the wall clock, so its minutes pass as the load runs.
    while started.elapsed() < RUN {
        tokio::time::sleep(Duration::from_millis(200)).await;
        ts.clock
            .set(start_at + chrono::Duration::from_std(started.elapsed()).unwrap());
    }
    for t in tasks {
        t.await.unwrap();
    }
    let n = reads.load(Ordering::Relaxed);
    println!("normal agent load: {n} reads in {:?}", started.elapsed());
    assert!(n > 1000, "the load ran ({n} reads)");

    assert!(all_alerts(&owner.client).await.is_empty(), "no alert");
    for series in [
        "keyhold_key_suspensions_total",
        "keyhold_address_blocks_total",
        "keyhold_alerts_raised_total{rule=\"read_rate\"}",
        "keyhold_alerts_raised_total{rule=\"agent_failures\"}",
    ] {
        assert_eq!(metric(&ts, series).await, 0, "{series}");
    }
    let loud = owner
        .client
        .audit(&AuditQuery {
            severity: Some(Severity::Warning),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert!(
        loud.items.is_empty(),
        "no warning or critical event: {:?}",
        loud.items
    );
    ts.stop().await;
}
