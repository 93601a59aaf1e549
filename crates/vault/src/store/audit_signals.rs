//! Who hears of new audit events: everyone (the metrics), or one tenant's live feeds.
//!
//! Why per tenant: a live feed (audit tail, approvals inbox) shows one tenant's events, and
//! under agent load some tenant commits thousands of times a second. With one signal for
//! all, every open feed of every tenant woke and queried the log on each of those commits
//! (paced by `live::Pacer`, still ten looks a second per feed); now a feed wakes only when
//! its own tenant's chain moved.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;

/// Past this many tenants with a signal, drop the ones nobody listens to any more.
const PRUNE_AT: usize = 1_024;

pub(crate) struct AuditSignals {
    all: watch::Sender<i64>,
    tenants: Mutex<HashMap<String, watch::Sender<i64>>>,
}

impl AuditSignals {
    /// `last`: the newest event id in the log now.
    pub(crate) fn new(last: i64) -> Self {
        Self {
            all: watch::channel(last).0,
            tenants: Mutex::new(HashMap::new()),
        }
    }

    /// Fires on every commit that appended an event; carries the newest event id.
    pub(crate) fn all(&self) -> watch::Receiver<i64> {
        self.all.subscribe()
    }

    /// Fires when a commit appended to `chain` (a tenant id, `""` for events with no
    /// tenant); carries the newest event id of the log at that commit.
    pub(crate) fn chain(&self, chain: &str) -> watch::Receiver<i64> {
        let mut tenants = self.tenants.lock().unwrap_or_else(|p| p.into_inner());
        if tenants.len() >= PRUNE_AT {
            tenants.retain(|_, s| s.receiver_count() > 0);
        }
        let last = *self.all.borrow();
        tenants
            .entry(chain.to_owned())
            .or_insert_with(|| watch::channel(last).0)
            .subscribe()
    }

    /// A commit appended events up to id `last` to `chains`. Signals only move forward:
    /// on PostgreSQL, notifications of commits by other replicas can arrive out of order.
    pub(crate) fn committed<'a>(&self, last: i64, chains: impl Iterator<Item = &'a str>) {
        advance(&self.all, last);
        let mut tenants = self.tenants.lock().unwrap_or_else(|p| p.into_inner());
        if tenants.is_empty() {
            return;
        }
        for chain in chains {
            if let Some(s) = tenants.get(chain) {
                if s.receiver_count() == 0 {
                    tenants.remove(chain);
                } else {
                    advance(s, last);
                }
            }
        }
    }
}

impl AuditSignals {
    /// Wake every listener once, whatever it last saw: commits may have been missed (the
    /// PostgreSQL listener lost its connection), so every feed should look again.
    pub(crate) fn wake_all(&self, last: i64) {
        let bump = |v: &mut i64| *v = (*v).max(last);
        self.all.send_modify(bump);
        let tenants = self.tenants.lock().unwrap_or_else(|p| p.into_inner());
        for s in tenants.values() {
            s.send_modify(bump);
        }
    }
}

/// Move `signal` to `last` unless it is already there or past it.
fn advance(signal: &watch::Sender<i64>, last: i64) {
    signal.send_if_modified(|v| {
        let moved = last > *v;
        if moved {
            *v = last;
        }
        moved
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_hears_only_of_its_own_commits() {
        let signals = AuditSignals::new(7);
        let mut all = signals.all();
        let mut a = signals.chain("tenant-a");
        let mut b = signals.chain("tenant-b");
        assert_eq!(*a.borrow_and_update(), 7);

        signals.committed(8, ["tenant-b"].into_iter());
        assert!(all.has_changed().unwrap());
        assert!(!a.has_changed().unwrap());
        assert!(b.has_changed().unwrap());
        assert_eq!(*b.borrow_and_update(), 8);

        signals.committed(10, ["tenant-a", "tenant-b"].into_iter());
        assert_eq!(*a.borrow_and_update(), 10);
        assert_eq!(*b.borrow_and_update(), 10);
        assert_eq!(*all.borrow_and_update(), 10);

        // A late notice of an older commit moves nothing back.
        signals.committed(9, ["tenant-a"].into_iter());
        assert!(!a.has_changed().unwrap());
        assert_eq!(*all.borrow_and_update(), 10);
    }

    #[test]
    fn signals_nobody_listens_to_are_dropped() {
        let signals = AuditSignals::new(0);
        drop(signals.chain("gone"));
        signals.committed(1, ["gone"].into_iter());
        assert!(signals.tenants.lock().unwrap().is_empty());
        // A new listener starts from the newest id.
        assert_eq!(*signals.chain("gone").borrow(), 1);
    }
}
