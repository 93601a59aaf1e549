//! What the store reports about itself: commit and checkpoint timings, and how many
//! writes shared a commit. SQLite's writer reports every write (all go through it) and its
//! checkpointer every checkpoint; PostgreSQL's group commit (`postgres::appender`) reports
//! its transactions, those of the events with no write of their own, and PostgreSQL
//! checkpoints itself. Here, in the store, so that its writer and checkpointer need
//! nothing from the domain; `crate::metrics` registers them with the domain's counters.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// What the store's writer and checkpointer (SQLite) or group commit (PostgreSQL) report.
/// Cheap to clone (shared counters); the store gets its own copy so that its threads need
/// nothing else from the app.
#[derive(Clone, Debug)]
pub struct StoreMetrics {
    /// From the start of a write transaction to its durable commit (or failure).
    pub commit_seconds: Histogram,
    /// Jobs (requests' writes) that shared one commit.
    pub batch_jobs: Histogram,
    /// WAL checkpoints by mode (`passive`, `restart`).
    pub checkpoint_seconds: Family<CheckpointLabels, Histogram>,
    /// Write transactions that did not commit (SQLite's writer, PostgreSQL's group
    /// commit): every write carries its audit event, so each is an action refused because
    /// its audit event could not be written.
    pub commit_failures: Counter,
    /// Committed audit events by action and severity (SQLite: all; PostgreSQL: those of
    /// the group commit).
    pub audit_events: Family<AuditLabels, Counter>,
}

/// Audit events written, by action (the code's fixed action names: an event's action is a
/// `&'static str`, so no request can add one) and severity.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuditLabels {
    pub action: &'static str,
    pub severity: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CheckpointLabels {
    pub mode: &'static str,
}

/// Fine at the low end: commits and checkpoints take from tens of microseconds (page
/// cache) to the disk's flush time, and a stall is what these are for.
fn store_seconds() -> Histogram {
    Histogram::new([
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    ])
}

impl StoreMetrics {
    pub fn new() -> Self {
        Self {
            commit_seconds: store_seconds(),
            batch_jobs: Histogram::new([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]),
            checkpoint_seconds: Family::new_with_constructor(store_seconds),
            commit_failures: Counter::default(),
            audit_events: Family::default(),
        }
    }

    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "store_commit_duration_seconds",
            "Write transactions, from begin to durable commit",
            self.commit_seconds.clone(),
        );
        registry.register(
            "store_commit_batch_jobs",
            "Writes that shared one commit (group commit)",
            self.batch_jobs.clone(),
        );
        registry.register(
            "store_checkpoint_duration_seconds",
            "WAL checkpoints by mode",
            self.checkpoint_seconds.clone(),
        );
        registry.register(
            "audit_events_written",
            "Audit events committed, by action and severity",
            self.audit_events.clone(),
        );
        registry.register(
            "store_commit_failures",
            "Write transactions (each with its audit event) that failed to commit",
            self.commit_failures.clone(),
        );
    }
}

impl StoreMetrics {
    /// Count committed events.
    pub fn audit_written(&self, events: &[(&'static str, &'static str)]) {
        for (action, severity) in events {
            self.audit_events
                .get_or_create(&AuditLabels { action, severity })
                .inc();
        }
    }
}

impl Default for StoreMetrics {
    fn default() -> Self {
        Self::new()
    }
}
