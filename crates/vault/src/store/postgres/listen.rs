//! Every replica's ear on the database: one connection of its own (outside the pool) that
//! LISTENs on `keyhold_audit`, where each commit that appended audit events notifies
//! "chain:id" (`events`). Notifications arrive only once their transaction has committed,
//! from whichever replica made it, so a live feed on any replica wakes on any replica's
//! commit. The wake-up carries no data: a feed that wakes reads the log after its cursor
//! with its own tenant set, as always.
//!
//! It also LISTENs on `keyhold_keks`, where a KEK rotation notifies its tenant's id: that
//! goes to the vault, which forgets the tenant's unwrapped KEKs (`Store::kek_rotations`).
//!
//! A lost connection is retried with a growing pause; when it is back every feed is woken
//! once, since a commit may have been missed meanwhile (a feed then re-reads and finds it).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

use super::connection::Connector;
use super::events::{AUDIT_CHANNEL, KEK_CHANNEL};
use crate::store::audit_signals::AuditSignals;

/// The longest pause between two attempts to reconnect.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Start listening; the task ends when the returned handle is aborted (on close). The
/// receiver fires once the first LISTEN is in place: a store that served before then could
/// commit events no feed ever hears of.
pub(crate) fn spawn(
    connector: Arc<Connector>,
    signals: Arc<AuditSignals>,
    keks: broadcast::Sender<String>,
) -> (JoinHandle<()>, oneshot::Receiver<()>) {
    let (ready, listening) = oneshot::channel();
    let task = tokio::spawn(async move {
        let mut backoff = Duration::from_millis(100);
        let mut first = true;
        let mut ready = Some(ready);
        loop {
            match listen(&connector, &signals, &keks, first, &mut ready).await {
                Ok(()) => backoff = Duration::from_millis(100),
                Err(e) => tracing::warn!(error = %e, "audit notifications: connection lost"),
            }
            first = false;
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    });
    (task, listening)
}

/// One connection's life: LISTEN, wake everyone if this is a reconnect, then hand every
/// notification to the signals (or the KEK rotations) until the connection ends.
async fn listen(
    connector: &Connector,
    signals: &AuditSignals,
    keks: &broadcast::Sender<String>,
    first: bool,
    ready: &mut Option<oneshot::Sender<()>>,
) -> anyhow::Result<()> {
    let (client, mut notices) = connector.connect_listening().await?;
    client
        .batch_execute(&format!("LISTEN {AUDIT_CHANNEL}; LISTEN {KEK_CHANNEL}"))
        .await?;
    if let Some(ready) = ready.take() {
        let _ = ready.send(());
    }
    if !first {
        let head = super::connection::audit_head(&client).await?;
        signals.wake_all(head);
        // Rotations may have been missed too: every cached KEK is suspect.
        let _ = keks.send(String::new());
    }
    while let Some(notice) = notices.recv().await {
        let notice = notice?;
        if notice.channel() == KEK_CHANNEL {
            let _ = keks.send(notice.payload().to_owned());
        } else if let Some((chain, id)) = parse(notice.payload()) {
            signals.committed(id, std::iter::once(chain));
        }
    }
    Ok(())
}

/// "chain:id" (the chain, a tenant id, never contains ':' after the last one).
fn parse(payload: &str) -> Option<(&str, i64)> {
    let (chain, id) = payload.rsplit_once(':')?;
    Some((chain, id.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn payloads_parse_or_are_ignored() {
        assert_eq!(parse("t1:42"), Some(("t1", 42)));
        assert_eq!(parse(":7"), Some(("", 7)));
        assert_eq!(parse("t1"), None);
        assert_eq!(parse("t1:x"), None);
    }
}
