//! The PostgreSQL schema against a real cluster of our own (keyhold_e2e::postgres): the
//! migrations, row-level security as the server's role sees it, the append-only audit log,
//! and what the server's role may not do. Raw SQL throughout, as the role would run it.
//!
//! `migrate` (runners starting together, status checks), `rls` (a query that forgets its
//! tenant finds nothing; no writes across tenants; lookups), `privileges` (the audit log,
//! ALTER/DROP, what the role owns); `helpers` holds the fixture and the SQL helpers.

mod helpers;
mod migrate;
mod privileges;
mod rls;
