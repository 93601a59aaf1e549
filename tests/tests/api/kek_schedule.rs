//! `--kek-rotate-every` (issue 21): each tenant's KEK rotates once it is that old, by the
//! server's (test) clock, audited like the manual rotation, and every secret still reads.

use chrono::Duration;
use keyhold_client::Client;
use keyhold_core::api::{AuditEvent, AuditQuery};
use keyhold_e2e::{Person, TestServer};

use crate::support::p;

async fn rotations(c: &Client) -> Vec<AuditEvent> {
    c.audit(&AuditQuery {
        action: Some("kek.rotated".into()),
        ..Default::default()
    })
    .await
    .unwrap()
    .items
}

/// Wait (real time, the schedule checks every 20 ms) until `c` sees `n` rotations; then
/// check that no more come.
async fn await_rotations(c: &Client, n: usize) -> Vec<AuditEvent> {
    for _ in 0..250 {
        let r = rotations(c).await;
        if r.len() >= n {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let settled = rotations(c).await;
            assert_eq!(settled.len(), n, "{settled:?}");
            return settled;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!(
        "expected {n} scheduled rotations, saw {:?}",
        rotations(c).await
    );
}

/// Sessions end after days of test time: each step signs in again.
async fn signed_in(ts: &TestServer, who: &Person) -> Client {
    ts.login(&who.email, &who.password).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_keks_rotate_on_schedule_by_the_servers_clock() {
    let ts = TestServer::start_with(|c| {
        c.kek_rotate_every = Some(Duration::days(90));
        c.kek_rotate_check_ms = 20;
    })
    .await;
    let (alice, bob) = (
        ts.person("kek-schedule-a").await,
        ts.person("kek-schedule-b").await,
    );
    alice
        .client
        .put_secret(&p("a/K"), "alice-1", None, None)
        .await
        .unwrap();
    // Bob's tenant gets its KEK 30 days later: it falls due 30 days after Alice's.
    ts.clock.advance(Duration::days(30));
    let b = signed_in(&ts, &bob).await;
    b.put_secret(&p("b/K"), "bob-1", None, None).await.unwrap();

    // 89 days after Alice's KEK was made: nothing is due.
    ts.clock.advance(Duration::days(59));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let a = signed_in(&ts, &alice).await;
    assert!(rotations(&a).await.is_empty());

    // Day 90: Alice's KEK rotates, once; Bob's (60 days old) does not.
    ts.clock.advance(Duration::days(1));
    let a = await_rotations(&signed_in(&ts, &alice).await, 1).await;
    assert_eq!(a[0].actor.kind, "system");
    assert_eq!(
        a[0].actor.id.as_deref(),
        Some("keyhold-server --kek-rotate-every 90d")
    );
    assert_eq!(a[0].outcome, "success");
    assert_eq!(a[0].detail["kek_version"], 2);
    assert_eq!(a[0].detail["rewrapped"], 1);
    assert!(rotations(&signed_in(&ts, &bob).await).await.is_empty());

    // Day 120: Bob's turn; Alice's new KEK is 30 days old.
    ts.clock.advance(Duration::days(30));
    let b = await_rotations(&signed_in(&ts, &bob).await, 1).await;
    assert_eq!(b[0].detail["kek_version"], 2);
    assert_eq!(rotations(&signed_in(&ts, &alice).await).await.len(), 1);

    // Day 180: Alice's second rotation; secrets written before and between read back.
    let a = signed_in(&ts, &alice).await;
    a.put_secret(&p("a/K"), "alice-2", None, None)
        .await
        .unwrap();
    ts.clock.advance(Duration::days(60));
    let (a, b) = (signed_in(&ts, &alice).await, signed_in(&ts, &bob).await);
    let events = await_rotations(&a, 2).await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e.detail["kek_version"] == 3)
            .count(),
        1
    );
    let v1 = a.get_secret(&p("a/K"), Some(1)).await.unwrap();
    assert_eq!(v1.value.expose(), "alice-1");
    let v2 = a.get_secret(&p("a/K"), None).await.unwrap();
    assert_eq!(v2.value.expose(), "alice-2");
    let bv = b.get_secret(&p("b/K"), None).await.unwrap();
    assert_eq!(bv.value.expose(), "bob-1");
    for c in [&a, &b] {
        assert!(c.audit_verify().await.unwrap().ok);
    }
}

/// An interval under an hour, or one that does not parse, is refused at start.
#[test]
fn kek_rotate_every_is_checked() {
    use clap::Parser;
    use keyhold_server::config::Cli;
    for bad in ["30m", "0d", "90", "1.5d", "forever"] {
        let r = Cli::try_parse_from(["keyhold-server", "--kek-rotate-every", bad]);
        assert!(r.is_err(), "{bad} was accepted");
    }
    let ok = Cli::try_parse_from(["keyhold-server", "--kek-rotate-every", "90d"]).unwrap();
    assert_eq!(ok.config.kek_rotate_every, Some(Duration::days(90)));
}
