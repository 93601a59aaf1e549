//! What the server's role may not do: change or remove audit events (no grant, and a
//! trigger that refuses even the owner), alter or drop tables, create anything, become
//! another role. And what the catalog says of it: owns nothing, bypasses nothing.

use keyhold_e2e::postgres::connect;
use tokio_postgres::error::SqlState;

use super::helpers::{affected, exec_with, fixture, migrated, refused};

const A: &str = "tenant-a";

/// UPDATE, DELETE and TRUNCATE of the audit log: the server's role has no such grant, so
/// PostgreSQL refuses the statement outright; the owner has the grant, and the trigger
/// refuses it even when row-level security would leave no row to touch.
#[tokio::test]
async fn the_audit_log_is_append_only() {
    let (_cluster, db) = migrated().await;
    let mut app = connect(&db.app_url).await.unwrap();
    fixture(&mut app, A).await;
    let mut owner = connect(&db.owner_url).await.unwrap();
    let own = [("keyhold.tenant", A)];
    for sql in [
        "UPDATE audit_events SET outcome = 'success'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ] {
        let (code, msg) = refused(affected(&mut app, &own, sql).await, &format!("app: {sql}"));
        assert_eq!(code, SqlState::INSUFFICIENT_PRIVILEGE, "app: {sql}: {msg}");
        let owner_r = affected(&mut owner, &own, sql).await;
        let (code, msg) = refused(owner_r, &format!("owner: {sql}"));
        assert_eq!(code, SqlState::RESTRICT_VIOLATION, "owner: {sql}: {msg}");
        assert!(msg.contains("append-only"), "{msg}");
    }
    // Appending is what the role may do.
    let append = format!(
        "INSERT INTO audit_events (chain, tenant_id, at, actor_type, action, outcome, detail,
         prev_hash, hash) VALUES ('{A}', '{A}', now(), 'user', 'y', 'success', '{{}}', 'h', 'i')"
    );
    assert_eq!(affected(&mut app, &own, &append).await.unwrap(), 1);
}

/// The server's role cannot change the schema or step around row-level security: every
/// statement is refused for want of privilege.
#[tokio::test]
async fn the_server_role_cannot_alter_or_drop_tables() {
    let (_cluster, db) = migrated().await;
    let mut app = connect(&db.app_url).await.unwrap();
    for sql in [
        "ALTER TABLE secrets ADD COLUMN planted text",
        "ALTER TABLE secrets NO FORCE ROW LEVEL SECURITY",
        "ALTER TABLE secrets DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update",
        "DROP POLICY secrets_tenant ON secrets",
        "DROP TABLE secrets",
        "DROP TABLE audit_events",
        "CREATE TABLE planted (a int)",
        "CREATE TEMP TABLE planted (a int)",
        "CREATE FUNCTION planted() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "SET ROLE keyhold_owner",
    ] {
        let (code, msg) = refused(exec_with(&mut app, &[], sql).await, sql);
        assert_eq!(code, SqlState::INSUFFICIENT_PRIVILEGE, "{sql}: {msg}");
    }
    // Granting itself more is only a warning ("no privileges were granted"); it changes
    // nothing.
    exec_with(
        &mut app,
        &[],
        "GRANT UPDATE, DELETE ON audit_events TO keyhold_app",
    )
    .await
    .unwrap();
    let can: bool = app
        .query_one(
            "SELECT has_table_privilege('audit_events', 'UPDATE')
                 OR has_table_privilege('audit_events', 'DELETE')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        !can,
        "the role granted itself UPDATE or DELETE on the audit log"
    );
}

/// The catalog agrees: the server's role is no superuser, cannot bypass row-level
/// security, belongs to no role, and owns no object in the database.
#[tokio::test]
async fn the_server_role_owns_nothing_and_bypasses_nothing() {
    let (_cluster, db) = migrated().await;
    let admin = connect(&db.admin_url).await.unwrap();
    let r = admin
        .query_one(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb,
                    (SELECT count(*) FROM pg_auth_members WHERE member = r.oid),
                    (SELECT count(*) FROM pg_class WHERE relowner = r.oid),
                    (SELECT count(*) FROM pg_proc WHERE proowner = r.oid),
                    (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid),
                    (SELECT count(*) FROM pg_database WHERE datdba = r.oid)
             FROM pg_roles r WHERE rolname = 'keyhold_app'",
            &[],
        )
        .await
        .unwrap();
    let flags: Vec<bool> = (0..4).map(|i| r.get(i)).collect();
    let owned: Vec<i64> = (4..9).map(|i| r.get(i)).collect();
    assert_eq!(flags, [false; 4], "super, bypassrls, createrole, createdb");
    assert_eq!(
        owned, [0; 5],
        "memberships, relations, functions, schemas, databases"
    );
    // The tables belong to the owner.
    let n: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_class WHERE relkind = 'r'
               AND relnamespace = 'public'::regnamespace
               AND relowner <> 'keyhold_owner'::regrole",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}
