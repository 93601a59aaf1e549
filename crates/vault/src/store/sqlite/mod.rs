//! The embedded store: SQLite in WAL mode with `synchronous=FULL` and foreign keys on.
//!
//! One file per area, each implementing that area's trait on [`SqliteStore`] (`accounts`,
//! `sessions`, `audit`, `keys`, `secrets`, `approvals`, `settings`, `members`,
//! `invitations`, `mfa`, `recovery`, `signing_keys`); `connection` opens the database and owns the pool and the
//! writer. The machinery under them: `writer` and `batch` (group commit), `events` and
//! `chain_heads` (the audit hash chain), `checkpoint`, `migrate`. Helpers
//! two areas share live in small files of their own (`errors`, `rows`, `grants`,
//! `mfa_attempt`), so no two modules here import each other.

mod accounts;
mod approvals;
mod audit;
mod batch;
mod chain_heads;
mod checkpoint;
mod connection;
mod custody;
mod detect;
mod errors;
mod events;
mod grants;
mod invitations;
mod key_changes;
mod keys;
mod members;
mod mfa;
mod mfa_attempt;
mod migrate;
#[cfg(test)]
mod migration_tests;
mod outbox;
mod recovery;
mod rows;
mod secrets;
mod sessions;
mod settings;
mod signing_keys;
mod writer;

pub use connection::SqliteStore;
