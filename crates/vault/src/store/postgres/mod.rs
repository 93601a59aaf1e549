//! The PostgreSQL store: for several replicas serving at once on one database, with
//! tenant isolation enforced by the database itself.
//!
//! The schema's row-level security, and the settings each transaction sets
//! (`keyhold.tenant`, `keyhold.lookup`, `keyhold.system`), are explained at the top of
//! `migrations/postgres/0001_init.sql`; the roles it assumes in
//! `migrations/postgres/roles.sql`. Here: `connection` (URL, pool, start-up checks),
//! `tls`, `tx` (transactions acting for a tenant), `events` (the audit chain across
//! replicas), `listen` (other replicas' commits), `migrate`, and one file per area, each
//! implementing that area's trait on [`PostgresStore`].

mod accounts;
mod appender;
mod approvals;
mod audit;
mod connection;
mod copy;
mod custody;
mod detect;
mod errors;
mod events;
mod failures;
mod grants;
mod invitations;
mod keks;
mod key_changes;
mod keys;
mod listen;
mod members;
mod mfa;
mod mfa_attempt;
mod migrate;
mod outbox;
mod outbox_rows;
mod recovery;
mod rows;
mod secrets;
mod sessions;
mod settings;
mod signing_keys;
mod tls;
mod tx;

pub use connection::{PgOptions, PostgresStore, connect_once};
pub use copy::{Copied, copy_from_sqlite};
pub use migrate::{MIGRATIONS, Migration, ROLES_SQL, SchemaStatus, migrate, schema_status};
