//! Long-lived responses (the live audit and approvals feeds): how often they look at the
//! log, and the re-check of their credential at each look.
//!
//! Why: a feed is one response that may stay open for hours, so the credential check its
//! request passed at the start would otherwise hold for as long as the connection. A
//! revoked key or token, a signed-out or expired session, a removed member or a changed
//! role must end the feed as they would refuse the next request; the client reconnects and
//! is told why. Feeds re-check at every look (`Pacer`: news in the log, or the 15 s tick).
//!
//! Feeds are bounded as well: one credential holds at most [`MAX_FEEDS_PER_CREDENTIAL`]
//! open at once ([`FeedSlots`]), and a feed resumed with `Last-Event-ID` replays at most the
//! [`REPLAY_WINDOW`] newest events of its log ([`resume_after`]), not the whole history.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::Vault;
use crate::agent_keys::key_is_live;
use crate::auth::{SecretsCaller, Session};
use crate::error::{Error, Result};
use crate::sessions;
use crate::store::{AuditScope, KeyRecord};

/// Live feeds (audit tail and approvals feed together) one credential may hold open at
/// once; one more is answered 429 `rate_limited`. Why: each open feed holds a connection,
/// a task and a look at the log at every commit of its tenant, so a stolen or buggy client
/// opening thousands would starve everyone else. Four covers a person's desktop app, a
/// terminal tail and a reconnect overlapping its predecessor.
pub const MAX_FEEDS_PER_CREDENTIAL: usize = 4;

/// The `Retry-After` of a refused feed: feeds end when their client goes, so a slot is
/// usually free again within seconds of a reconnect.
pub const FEED_RETRY_AFTER_SECS: u64 = 5;

/// A feed resumed with `Last-Event-ID` replays at most this many of the newest events of
/// the log it follows (the whole tenant's, or the caller's own), whatever id it names. Why:
/// replaying from an id far in the past (`0`) would otherwise stream the whole history on
/// one request; a client that missed more than this reads the rest with `GET /v1/audit`.
pub const REPLAY_WINDOW: u32 = 1000;

/// Open feeds per credential: an entry only while that credential has a feed open, so the
/// map is bounded by the open feeds, themselves bounded per credential.
#[derive(Default)]
pub struct FeedSlots {
    open: Arc<Mutex<HashMap<String, usize>>>,
}

/// One open feed's place: freed when the feed's stream is dropped (the client went, or
/// the feed ended), so the stream owns it.
pub struct FeedSlot {
    open: Arc<Mutex<HashMap<String, usize>>>,
    credential: String,
}

impl FeedSlots {
    /// A slot for one more feed of `credential` (see [`credential_of`]), or 429.
    pub fn take(&self, credential: String) -> Result<FeedSlot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(credential.clone()).or_default();
        if *n >= MAX_FEEDS_PER_CREDENTIAL {
            return Err(Error::RateLimited {
                retry_after_secs: FEED_RETRY_AFTER_SECS,
            });
        }
        *n += 1;
        Ok(FeedSlot {
            open: Arc::clone(&self.open),
            credential,
        })
    }

    /// Feeds open right now, over all credentials.
    pub fn open(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .sum()
    }
}

impl Drop for FeedSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.credential) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.credential);
            }
        }
    }
}

/// What feeds are counted against: the session, agent key or token (by id, never text).
pub fn credential_of(c: &SecretsCaller) -> String {
    match c {
        SecretsCaller::Session(s) => session_credential(s),
        SecretsCaller::Key(k) => format!("key:{}", k.key.id),
        SecretsCaller::Token(t) => format!("token:{}", t.token.id),
    }
}

pub fn session_credential(s: &Session) -> String {
    format!("session:{}", s.session.id)
}

/// Where a feed starts: at `head` (the newest event now), or after the `Last-Event-ID`
/// the client sent when it reconnects, but never further back than the [`REPLAY_WINDOW`]
/// newest events of `scope`. An id beyond `head` (a log restored from a backup) starts at
/// `head`; a header that is not a number is ignored.
pub async fn resume_after(
    st: &Vault,
    scope: &AuditScope,
    last_event_id: Option<&str>,
    head: i64,
) -> Result<i64> {
    let Some(last) = last_event_id.and_then(|v| v.trim().parse::<i64>().ok()) else {
        return Ok(head);
    };
    let last = last.min(head);
    if last == head {
        return Ok(head);
    }
    let floor = st.store.audit_replay_floor(scope, REPLAY_WINDOW).await?;
    Ok(last.max(floor))
}

/// How long a feed with nothing new waits before it looks again anyway (and re-checks its
/// credential, so one that lapses quietly still ends).
const TICK: Duration = Duration::from_secs(15);

/// At most one look at the log per feed in this interval. Why: a feed's watch fires on
/// every commit that appends to its tenant's chain, thousands a second when that tenant's
/// agents are busy, and each look costs a query and the credential's re-check; a person's
/// inbox is no worse for news 100 ms late.
const PACE: Duration = Duration::from_millis(100);

/// Where a feed is in its wait for news; `wait` returns when it should look at the log.
pub struct Pacer {
    watch: watch::Receiver<i64>,
    last_look: Instant,
}

impl Pacer {
    pub fn new(watch: watch::Receiver<i64>) -> Self {
        Self {
            watch,
            last_look: Instant::now(),
        }
    }

    /// Wait for a commit (or the tick), then for the rest of the pace: a burst of commits
    /// makes one look, and a lone commit after a quiet spell is seen at once.
    pub async fn wait(&mut self) {
        let _ = tokio::time::timeout(TICK, self.watch.changed()).await;
        tokio::time::sleep_until(self.last_look + PACE).await;
        self.last_look = Instant::now();
    }
}

/// Whether a feed goes on after `check`; says why in the log when it does not.
pub async fn goes_on(feed: &'static str, check: impl Future<Output = Result<bool>>) -> bool {
    match check.await {
        Ok(true) => true,
        Ok(false) => {
            tracing::info!(feed, "feed ended: its credential no longer stands");
            false
        }
        Err(e) => {
            tracing::warn!(feed, error = %e, "feed stopped: its credential could not be checked");
            false
        }
    }
}

/// The session is live and its user still in the tenant with the role the feed began with
/// (the role decides what the feed shows).
pub async fn session_stands(st: &Vault, s: &Session) -> Result<bool> {
    let now = st.clock.now();
    let (tenant, id) = (&s.session.tenant_id, &s.session.id);
    let live = st
        .store
        .session(tenant, id)
        .await?
        .is_some_and(|r| sessions::is_live(&r, now));
    Ok(live
        && st
            .store
            .user(tenant, &s.user.id)
            .await?
            .is_some_and(|u| u.role == s.user.role))
}

/// Like [`session_stands`] for people; for agents, the key (and the token) is neither
/// revoked nor expired.
pub async fn caller_stands(st: &Vault, c: &SecretsCaller) -> Result<bool> {
    let now = st.clock.now();
    match c {
        SecretsCaller::Session(s) => session_stands(st, s).await,
        SecretsCaller::Key(k) => key_stands(st, &k.key, now).await,
        SecretsCaller::Token(t) => {
            let token_live = st
                .store
                .token(&t.token.tenant_id, &t.token.id)
                .await?
                .is_some_and(|r| r.revoked_at.is_none() && now < r.expires_at);
            Ok(token_live && key_stands(st, &t.key, now).await?)
        }
    }
}

async fn key_stands(st: &Vault, key: &KeyRecord, now: DateTime<Utc>) -> Result<bool> {
    Ok(st
        .store
        .key(&key.tenant_id, &key.id)
        .await?
        .is_some_and(|k| key_is_live(&k, now)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_holds_at_most_the_cap_and_a_dropped_slot_frees_its_place() {
        let slots = FeedSlots::default();
        let held: Vec<_> = (0..MAX_FEEDS_PER_CREDENTIAL)
            .map(|_| slots.take("key:a".to_owned()).unwrap())
            .collect();
        assert!(matches!(
            slots.take("key:a".to_owned()),
            Err(Error::RateLimited { .. })
        ));
        let other = slots.take("key:b".to_owned()).unwrap();
        assert_eq!(slots.open(), MAX_FEEDS_PER_CREDENTIAL + 1);
        drop(held);
        drop(other);
        assert_eq!(slots.open(), 0);
        assert!(slots.open.lock().unwrap().is_empty(), "no entry is kept");
        assert!(slots.take("key:a".to_owned()).is_ok());
    }

    /// A commit every millisecond for a second makes about ten looks, not a thousand; a
    /// lone commit after a quiet spell is seen at once; with no commits, the tick.
    #[tokio::test(start_paused = true)]
    async fn a_feed_looks_at_most_once_per_pace() {
        let (tx, rx) = watch::channel(0i64);
        let mut pacer = Pacer::new(rx);
        let busy = tokio::spawn(async move {
            for i in 1..=1000 {
                tx.send_replace(i);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            tx
        });
        let start = Instant::now();
        let mut looks = 0;
        while start.elapsed() < Duration::from_secs(1) {
            pacer.wait().await;
            looks += 1;
        }
        assert!((9..=11).contains(&looks), "{looks} looks in a busy second");
        let tx = busy.await.unwrap();

        tokio::time::sleep(Duration::from_secs(1)).await;
        let quiet = Instant::now();
        tx.send_replace(-1);
        pacer.wait().await;
        assert!(
            quiet.elapsed() < Duration::from_millis(1),
            "{:?}",
            quiet.elapsed()
        );

        let idle = Instant::now();
        pacer.wait().await;
        assert_eq!(idle.elapsed(), TICK);
    }
}
