//! Live feeds are bounded (issue 15, review item 9): one credential holds at most
//! `MAX_FEEDS_PER_CREDENTIAL` open feeds (audit tail and approvals feed together), then 429
//! with `Retry-After`; a closed feed frees its place; `Last-Event-ID` replays at most the
//! `REPLAY_WINDOW` newest events, however far back it points.

use std::time::{Duration, Instant};

use keyhold_core::api::AuditQuery;
use keyhold_e2e::TestServer;
use keyhold_vault::audit::{ClientInfo, NewEvent};
use keyhold_vault::clock::Clock;
use keyhold_vault::live::{MAX_FEEDS_PER_CREDENTIAL, REPLAY_WINDOW};
use reqwest::Response;

use crate::support::key;

async fn open(ts: &TestServer, path: &str, bearer: &str, last_event_id: Option<&str>) -> Response {
    let mut rb = reqwest::Client::new()
        .get(format!("{}{path}", ts.url()))
        .bearer_auth(bearer);
    if let Some(id) = last_event_id {
        rb = rb.header("last-event-id", id);
    }
    rb.send().await.unwrap()
}

const AUDIT: &str = "/v1/audit/stream";
const APPROVALS: &str = "/v1/approvals/stream";

fn assert_refused(r: &Response) {
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
}

#[tokio::test]
async fn one_credential_holds_a_bounded_number_of_feeds() {
    assert_eq!(MAX_FEEDS_PER_CREDENTIAL, 4, "the documented number");
    let ts = TestServer::start().await;
    let owner = ts.person("feeds").await;
    let session = owner.client.token().unwrap().to_owned();
    let mut open_feeds = Vec::new();
    for path in [AUDIT, AUDIT, AUDIT, APPROVALS] {
        let r = open(&ts, path, &session, None).await;
        assert_eq!(r.status(), 200, "{path}");
        open_feeds.push(r);
    }
    assert_refused(&open(&ts, AUDIT, &session, None).await);
    assert_refused(&open(&ts, APPROVALS, &session, None).await);

    // Another credential of the same person has its own places.
    let second = ts.login(&owner.email, &owner.password).await;
    let other = open(&ts, AUDIT, second.token().unwrap(), None).await;
    assert_eq!(other.status(), 200);

    // Closing a feed frees its place: the server notices at its next write, so make one.
    drop(open_feeds.remove(0));
    let started = Instant::now();
    loop {
        owner
            .client
            .put_secret(&crate::support::p("dev/NUDGE"), "x", None, None)
            .await
            .unwrap();
        let r = open(&ts, AUDIT, &session, None).await;
        if r.status() == 200 {
            open_feeds.push(r);
            break;
        }
        assert_refused(&r);
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "the closed feed's place never came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_refused(&open(&ts, AUDIT, &session, None).await);

    // Agents too: a key's approvals feeds.
    let k = key(&owner, &["secrets:read:prod/*"]).await;
    let mut agent_feeds = Vec::new();
    for _ in 0..MAX_FEEDS_PER_CREDENTIAL {
        let r = open(&ts, APPROVALS, k.secret.expose(), None).await;
        assert_eq!(r.status(), 200);
        agent_feeds.push(r);
    }
    assert_refused(&open(&ts, APPROVALS, k.secret.expose(), None).await);
    drop(agent_feeds);
    drop(open_feeds);
    drop(other);
    ts.stop().await;
}

/// The ids of the events a feed sends until it has been quiet for a second.
async fn ids_until_quiet(mut r: Response) -> Vec<i64> {
    let mut text = String::new();
    while let Ok(Some(chunk)) = tokio::time::timeout(Duration::from_secs(1), r.chunk())
        .await
        .map(Result::unwrap)
    {
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    text.lines()
        .filter_map(|l| l.strip_prefix("id:"))
        .map(|id| id.trim().parse().unwrap())
        .collect()
}

#[tokio::test]
async fn last_event_id_replays_a_bounded_window() {
    let ts = TestServer::start().await;
    let owner = ts.person("replay").await;
    let session = owner.client.token().unwrap().to_owned();
    // More events than the window, written straight to the server's log, in parallel so
    // that they share commits.
    let client = ClientInfo::default();
    let filler = (0..REPLAY_WINDOW + 50).map(|i| {
        let ev = NewEvent::new("secret.write", ts.clock.now(), &client)
            .user(&owner.tenant_id, &owner.user_id)
            .target(format!("secret:filler/N{i}"));
        ts.server.state.store.append_event(ev)
    });
    for r in futures::future::join_all(filler).await {
        r.unwrap();
    }
    // The newest REPLAY_WINDOW ids of the tenant's log, oldest first, as the owner lists them.
    let mut newest = Vec::new();
    let mut cursor = None;
    while newest.len() < REPLAY_WINDOW as usize {
        let page = owner
            .client
            .audit(&AuditQuery {
                limit: Some(500),
                cursor: cursor.take(),
                ..Default::default()
            })
            .await
            .unwrap();
        newest.extend(page.items.iter().map(|e| e.id));
        cursor = page.next_cursor;
    }
    newest.truncate(REPLAY_WINDOW as usize);
    newest.reverse();

    let replayed = ids_until_quiet(open(&ts, AUDIT, &session, Some("0")).await).await;
    assert_eq!(
        replayed.len(),
        REPLAY_WINDOW as usize,
        "from the beginning of time"
    );
    assert_eq!(replayed, newest);

    // Within the window, exactly what came after the id.
    let tenth_newest = newest[newest.len() - 11];
    let replayed =
        ids_until_quiet(open(&ts, AUDIT, &session, Some(&tenth_newest.to_string())).await).await;
    assert_eq!(replayed, newest[newest.len() - 10..]);
    // Approvals feeds resume within the same window (none of these events is theirs).
    let replayed = ids_until_quiet(open(&ts, APPROVALS, &session, Some("0")).await).await;
    assert!(replayed.is_empty(), "{replayed:?}");
    // A Last-Event-ID that is not a number starts at now.
    let replayed = ids_until_quiet(open(&ts, AUDIT, &session, Some("yesterday")).await).await;
    assert!(replayed.is_empty(), "{replayed:?}");
    ts.stop().await;
}
