//! What the PostgreSQL tests share: a migrated database, a fixture with one row in every
//! tenant table, and running SQL with the store's settings (`keyhold.tenant`, …) set.

use keyhold_e2e::postgres::{KeyholdDb, PgCluster, connect};
use keyhold_vault::store::postgres::migrate;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Error};

/// Every table with a tenant and the column naming it. `every_table_is_listed_and_forced`
/// (rls.rs) fails when a table is added to the schema but not here.
pub const TENANT_TABLES: &[(&str, &str)] = &[
    ("tenants", "id"),
    ("users", "tenant_id"),
    ("sessions", "tenant_id"),
    ("email_tokens", "tenant_id"),
    ("audit_events", "tenant_id"),
    ("audit_chain_heads", "chain"),
    ("mfa_totp", "tenant_id"),
    ("mfa_backup_codes", "tenant_id"),
    ("mfa_tickets", "tenant_id"),
    ("mfa_failures", "tenant_id"),
    ("agent_keys", "tenant_id"),
    ("tokens", "tenant_id"),
    ("tenant_keks", "tenant_id"),
    ("secrets", "tenant_id"),
    ("secret_versions", "tenant_id"),
    ("tenant_settings", "tenant_id"),
    ("approval_requests", "tenant_id"),
    ("approval_votes", "tenant_id"),
    ("invitations", "tenant_id"),
    ("webhook_endpoints", "tenant_id"),
    ("webhook_subscriptions", "tenant_id"),
    ("outbox", "tenant_id"),
    ("notification_prefs", "tenant_id"),
    ("agent_key_public_keys", "tenant_id"),
    ("signature_nonces", "tenant_id"),
    ("alert_rules", "tenant_id"),
    ("alerts", "tenant_id"),
    ("address_blocks", "tenant_id"),
];

/// Tables of no tenant, open only with `keyhold.system = 'on'`: the shared failed sign-in
/// counters, and the vault's wrapped root key.
pub const SYSTEM_TABLES: &[&str] = &["failure_counters", "root_key"];

/// A cluster with one migrated database, `keyhold`. Keep the cluster: dropping it stops it.
pub async fn migrated() -> (PgCluster, KeyholdDb) {
    let cluster = PgCluster::start().await.unwrap();
    eprintln!("cluster started in {:?}", cluster.started_in);
    let db = cluster
        .keyhold_database("keyhold", keyhold_vault::store::postgres::ROLES_SQL)
        .await
        .unwrap();
    let mut owner = connect(&db.owner_url).await.unwrap();
    migrate(&mut owner).await.unwrap();
    (cluster, db)
}

/// Run `sql` (any number of statements) in one transaction with the given settings set as
/// the store sets them: `set_config(name, value, true)`, i.e. SET LOCAL.
pub async fn exec_with(c: &mut Client, settings: &[(&str, &str)], sql: &str) -> Result<(), Error> {
    let tx = c.transaction().await?;
    for (name, value) in settings {
        tx.execute("SELECT set_config($1, $2, true)", &[name, value])
            .await?;
    }
    tx.batch_execute(sql).await?;
    tx.commit().await
}

/// Rows affected by one statement, run with the given settings.
pub async fn affected(c: &mut Client, settings: &[(&str, &str)], sql: &str) -> Result<u64, Error> {
    let tx = c.transaction().await?;
    for (name, value) in settings {
        tx.execute("SELECT set_config($1, $2, true)", &[name, value])
            .await?;
    }
    let n = tx.execute(sql, &[]).await?;
    tx.commit().await?;
    Ok(n)
}

/// How many rows of `table` name `tenant` in their tenant column, as `c` sees them with
/// the given settings.
pub async fn visible(c: &mut Client, settings: &[(&str, &str)], table: &str, tenant: &str) -> i64 {
    let column = TENANT_TABLES
        .iter()
        .find(|(t, _)| *t == table)
        .map(|(_, col)| *col)
        .unwrap();
    let tx = c.transaction().await.unwrap();
    for (name, value) in settings {
        tx.execute("SELECT set_config($1, $2, true)", &[name, value])
            .await
            .unwrap();
    }
    let sql = format!("SELECT count(*) FROM {table} WHERE {column} = $1");
    let n: i64 = tx.query_one(&sql, &[&tenant]).await.unwrap().get(0);
    tx.commit().await.unwrap();
    n
}

/// The SQLSTATE of a refusal; panics when the statement was not refused.
pub fn refused<T: std::fmt::Debug>(r: Result<T, Error>, what: &str) -> (SqlState, String) {
    let e = match r {
        Ok(v) => panic!("{what}: expected a refusal, got {v:?}"),
        Err(e) => e,
    };
    let db = e
        .as_db_error()
        .unwrap_or_else(|| panic!("{what}: not a database error: {e:?}"));
    (db.code().clone(), db.message().to_owned())
}

/// One row in every tenant table for `t`, written as the server's role with
/// `keyhold.tenant` set: the role may write its own tenant's rows everywhere.
pub async fn fixture(app: &mut Client, t: &str) {
    let sql = format!(
        r#"
INSERT INTO tenants (id, name, created_at) VALUES ('{t}', 'Tenant {t}', now());
INSERT INTO users (id, tenant_id, email, password_hash, password_zxcvbn, role, created_at)
    VALUES ('{t}-u', '{t}', '{t}@example.com', 'argon2-hash', 4, 'owner', now());
INSERT INTO sessions VALUES ('{t}-s', '{t}', '{t}-u', 'session-hash-{t}', now(), now(),
    now() + interval '1 hour', now());
INSERT INTO email_tokens (id, tenant_id, user_id, purpose, token_hash, expires_at)
    VALUES ('{t}-e', '{t}', '{t}-u', 'verify', 'email-hash-{t}', now());
INSERT INTO audit_events (chain, tenant_id, at, actor_type, action, outcome, detail,
    prev_hash, hash) VALUES ('{t}', '{t}', now(), 'user', 'test', 'success', '{{}}', 'p', 'h');
INSERT INTO audit_chain_heads (chain, hash) VALUES ('{t}', 'h');
INSERT INTO mfa_totp (id, tenant_id, user_id, secret_sealed, created_at)
    VALUES ('{t}-m', '{t}', '{t}-u', '\x00', now());
INSERT INTO mfa_backup_codes (tenant_id, user_id, code_hash, created_at)
    VALUES ('{t}', '{t}-u', 'code-hash-{t}', now());
INSERT INTO mfa_tickets (id, tenant_id, user_id, ticket_hash, created_at, expires_at)
    VALUES ('{t}-k', '{t}', '{t}-u', 'ticket-hash-{t}', now(), now());
INSERT INTO mfa_failures (tenant_id, user_id, at) VALUES ('{t}', '{t}-u', now());
INSERT INTO agent_keys (id, tenant_id, owner_id, name, prefix, secret_hash, scopes,
    ip_allowlist, created_at, last_used_ip)
    VALUES ('{t}-a', '{t}', '{t}-u', 'ci', 'kh_', 'key-hash-{t}', '["read:app/*"]', '[]', now(),
    '192.0.2.1');
INSERT INTO tokens (id, tenant_id, key_id, token_hash, scopes, ip_allowlist, expires_at,
    max_uses, created_at)
    VALUES ('{t}-o', '{t}', '{t}-a', 'token-hash-{t}', '[]', '[]', now(), 3, now());
INSERT INTO tenant_keks VALUES ('{t}', 1, '\x00', now());
INSERT INTO secrets (tenant_id, path, id, type, tier, current_version, created_at, updated_at)
    VALUES ('{t}', 'app/db', '{t}-x', 'generic', 'standard', 1, now(), now());
INSERT INTO secret_versions VALUES ('{t}', 'app/db', 1, '\x00', '\x00', 1, now(), '{t}-u');
INSERT INTO tenant_settings VALUES ('{t}', '{{}}', now());
INSERT INTO approval_requests (id, tenant_id, path, tier, requester, key_id,
    required_approvals, delay_secs, grant_ttl_secs, status, requested_at, expires_at)
    VALUES ('{t}-r', '{t}', 'app/db', 'sensitive', 'key:{t}-a', '{t}-a', 1, 0, 60, 'pending',
    now(), now());
INSERT INTO approval_votes VALUES ('{t}-r', '{t}', '{t}-u', now(), NULL);
INSERT INTO invitations (id, tenant_id, email, role, token_hash, invited_by, created_at,
    expires_at) VALUES ('{t}-i', '{t}', 'new-{t}@example.com', 'member', 'invite-hash-{t}',
    '{t}-u', now(), now());
INSERT INTO webhook_endpoints (id, tenant_id, kind, url_sealed, url_display, events,
    created_at) VALUES ('{t}-w', '{t}', 'webhook', '\x00', 'https://example.com/', '["*"]', now());
INSERT INTO webhook_subscriptions VALUES ('{t}-w', '{t}', '*');
INSERT INTO outbox (id, tenant_id, kind, endpoint_id, event_type, payload, created_at,
    give_up_at, next_at) VALUES ('msg-{t}', '{t}', 'webhook', '{t}-w', 'key.created', '\x00',
    now(), now(), now());
INSERT INTO notification_prefs VALUES ('{t}-u', '{t}', false);
INSERT INTO agent_key_public_keys VALUES ('{t}', '{t}-a', repeat('a', 64),
    decode(repeat('00', 32), 'hex'), now(), NULL);
INSERT INTO signature_nonces VALUES ('{t}', '{t}-a', 'nonce-{t}', now());
INSERT INTO alert_rules VALUES ('{t}', '{{}}', now());
INSERT INTO alerts (id, tenant_id, rule, severity, message, raised_at)
    VALUES ('{t}-al', '{t}', 'failed_sign_ins', 'warning', 'test', now());
INSERT INTO address_blocks VALUES ('{t}-b', '{t}', '192.0.2.9', 'failed_sign_ins', now(), now(),
    NULL);
"#
    );
    exec_with(app, &[("keyhold.tenant", t)], &sql)
        .await
        .unwrap();
}
