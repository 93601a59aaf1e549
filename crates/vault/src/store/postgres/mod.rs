//! The PostgreSQL store (issue 17), in progress: so far its schema and the migrations that
//! make it (`migrate`). The schema's row-level security, and the settings the store will
//! set in each transaction (`keyhold.tenant`, `keyhold.lookup`, `keyhold.system`), are
//! explained at the top of `migrations/postgres/0001_init.sql`; the roles it assumes in
//! `migrations/postgres/roles.sql`.

mod migrate;

pub use migrate::{MIGRATIONS, Migration, ROLES_SQL, SchemaStatus, migrate, schema_status};
