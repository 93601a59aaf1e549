//! Row-level security as the server's role sees it, with raw SQL: a query that forgets its
//! tenant finds nothing, another tenant's rows can be neither read nor written, and a
//! lookup before the tenant is known opens one row to reading only.

use keyhold_e2e::postgres::connect;
use tokio_postgres::error::SqlState;

use super::helpers::{SYSTEM_TABLES, TENANT_TABLES, affected, fixture, migrated, refused, visible};

const A: &str = "tenant-a";
const B: &str = "tenant-b";

/// Every table of the schema but the migrations' bookkeeping is a tenant table listed in
/// TENANT_TABLES or a system table in SYSTEM_TABLES, with row-level security enabled and
/// forced.
#[tokio::test]
async fn every_table_is_listed_and_forced() {
    let (_cluster, db) = migrated().await;
    let admin = connect(&db.admin_url).await.unwrap();
    let rows = admin
        .query(
            "SELECT relname::text, relrowsecurity, relforcerowsecurity FROM pg_class
             WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace
               AND relname <> 'keyhold_schema' ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    let mut listed: Vec<&str> = TENANT_TABLES.iter().map(|(t, _)| *t).collect();
    listed.extend(SYSTEM_TABLES);
    listed.sort_unstable();
    let tables: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(tables, listed);
    for r in &rows {
        let (name, enabled, forced): (String, bool, bool) = (r.get(0), r.get(1), r.get(2));
        assert!(
            enabled && forced,
            "{name}: enabled {enabled}, forced {forced}"
        );
    }
}

/// With `keyhold.tenant` never set, or left '' by an ended SET LOCAL (a pooled connection),
/// the server's role reads nothing from any tenant table, though every one has rows; nor
/// does the owner (FORCE). With the tenant set, it reads its own rows.
#[tokio::test]
async fn a_query_that_forgets_its_tenant_finds_nothing() {
    let (_cluster, db) = migrated().await;
    let mut app = connect(&db.app_url).await.unwrap();
    fixture(&mut app, A).await;
    let mut fresh = connect(&db.app_url).await.unwrap();
    let mut owner = connect(&db.owner_url).await.unwrap();
    let mut admin = connect(&db.admin_url).await.unwrap();
    // The two states a forgotten tenant leaves: never set (NULL), and '' once an earlier
    // transaction's SET LOCAL has ended (the fixture's, on `app`).
    let setting = "SELECT current_setting('keyhold.tenant', true)";
    let never: Option<String> = fresh.query_one(setting, &[]).await.unwrap().get(0);
    let ended: Option<String> = app.query_one(setting, &[]).await.unwrap().get(0);
    assert_eq!((never, ended.as_deref()), (None, Some("")));
    for (table, _) in TENANT_TABLES {
        assert_eq!(
            visible(&mut admin, &[], table, A).await,
            1,
            "{table} has a row"
        );
        assert_eq!(
            visible(&mut fresh, &[], table, A).await,
            0,
            "{table}: never set"
        );
        assert_eq!(
            visible(&mut app, &[], table, A).await,
            0,
            "{table}: '' after SET LOCAL"
        );
        assert_eq!(
            visible(&mut owner, &[], table, A).await,
            0,
            "{table}: owner, unset"
        );
        let own = [("keyhold.tenant", A)];
        assert_eq!(
            visible(&mut app, &own, table, A).await,
            1,
            "{table}: own tenant"
        );
    }
}

/// Set to another tenant, the server's role reads none of A's rows, cannot insert a row
/// naming A, and its updates and deletes of A's rows touch nothing.
#[tokio::test]
async fn another_tenant_reads_and_writes_nothing_of_a() {
    let (_cluster, db) = migrated().await;
    let mut app = connect(&db.app_url).await.unwrap();
    fixture(&mut app, A).await;
    fixture(&mut app, B).await;
    let as_b = [("keyhold.tenant", B)];
    for (table, _) in TENANT_TABLES {
        assert_eq!(visible(&mut app, &as_b, table, A).await, 0, "{table}");
        assert_eq!(
            visible(&mut app, &as_b, table, B).await,
            1,
            "{table}: B's own"
        );
    }
    let inserts = [
        "INSERT INTO tenants VALUES ('tenant-c', 'C', now())".to_owned(),
        format!(
            "INSERT INTO secrets (tenant_id, path, id, type, tier, current_version, created_at,
             updated_at) VALUES ('{A}', 'planted', 'p1', 'generic', 'standard', 1, now(), now())"
        ),
        format!("INSERT INTO tenant_keks VALUES ('{A}', 2, '\\x00', now())"),
        format!(
            "INSERT INTO audit_events (chain, tenant_id, at, actor_type, action, outcome, detail,
             prev_hash, hash) VALUES ('{A}', '{A}', now(), 'user', 'x', 'success', '{{}}', 'p', 'h')"
        ),
    ];
    for sql in &inserts {
        let (code, msg) = refused(affected(&mut app, &as_b, sql).await, sql);
        assert_eq!(code, SqlState::INSUFFICIENT_PRIVILEGE, "{sql}: {msg}");
        assert!(msg.contains("row-level security"), "{sql}: {msg}");
        // Nor with the tenant unset.
        let (code, _) = refused(affected(&mut app, &[], sql).await, sql);
        assert_eq!(code, SqlState::INSUFFICIENT_PRIVILEGE, "{sql}, unset");
    }
    for sql in [
        format!("UPDATE users SET role = 'member' WHERE tenant_id = '{A}'"),
        format!("UPDATE secrets SET tier = 'standard' WHERE tenant_id = '{A}'"),
        format!("DELETE FROM sessions WHERE tenant_id = '{A}'"),
        format!("DELETE FROM secrets WHERE tenant_id = '{A}'"),
    ] {
        assert_eq!(affected(&mut app, &as_b, &sql).await.unwrap(), 0, "{sql}");
    }
    // Moving B's own row into A is refused too.
    let sql = format!("UPDATE secrets SET tenant_id = '{A}' WHERE tenant_id = '{B}'");
    let (code, msg) = refused(affected(&mut app, &as_b, &sql).await, &sql);
    assert_eq!(code, SqlState::INSUFFICIENT_PRIVILEGE, "{msg}");
}

/// `keyhold.lookup` set to a credential's keyed hash shows that one row, in that table only,
/// to SELECT only: an update through it touches nothing.
#[tokio::test]
async fn a_lookup_opens_one_row_to_reading_only() {
    let (_cluster, db) = migrated().await;
    let mut app = connect(&db.app_url).await.unwrap();
    fixture(&mut app, A).await;
    fixture(&mut app, B).await;
    let by_session = [("keyhold.lookup", "session-hash-tenant-a")];
    for (table, _) in TENANT_TABLES {
        let want = i64::from(*table == "sessions");
        assert_eq!(
            visible(&mut app, &by_session, table, A).await,
            want,
            "{table}"
        );
        assert_eq!(
            visible(&mut app, &by_session, table, B).await,
            0,
            "{table}: B"
        );
    }
    let touch = "UPDATE sessions SET last_seen_at = now()";
    assert_eq!(affected(&mut app, &by_session, touch).await.unwrap(), 0);
    let by_email = [("keyhold.lookup", "tenant-b@example.com")];
    assert_eq!(visible(&mut app, &by_email, "users", B).await, 1);
    assert_eq!(visible(&mut app, &by_email, "users", A).await, 0);
    let by_key = [("keyhold.lookup", "tenant-a-a")];
    assert_eq!(visible(&mut app, &by_key, "agent_keys", A).await, 1);
    assert_eq!(visible(&mut app, &by_key, "tokens", A).await, 0);
}

/// The tenant-less audit chain is reachable only with `keyhold.system = 'on'`.
#[tokio::test]
async fn the_system_chain_needs_its_own_setting() {
    let (_cluster, db) = migrated().await;
    let mut app = connect(&db.app_url).await.unwrap();
    let append = "INSERT INTO audit_events (chain, tenant_id, at, actor_type, action, outcome,
        detail, prev_hash, hash) VALUES ('', NULL, now(), 'anonymous', 'auth.login', 'failure',
        '{}', 'p', 'h')";
    let (code, _) = refused(affected(&mut app, &[], append).await, "unset");
    assert_eq!(code, SqlState::INSUFFICIENT_PRIVILEGE);
    let (code, _) = refused(
        affected(&mut app, &[("keyhold.tenant", A)], append).await,
        "A",
    );
    assert_eq!(code, SqlState::INSUFFICIENT_PRIVILEGE);
    let system = [("keyhold.system", "on")];
    assert_eq!(affected(&mut app, &system, append).await.unwrap(), 1);
    let count = "SELECT count(*) FROM audit_events WHERE chain = ''";
    let tx = app.transaction().await.unwrap();
    let unset: i64 = tx.query_one(count, &[]).await.unwrap().get(0);
    tx.execute("SELECT set_config('keyhold.system', 'on', true)", &[])
        .await
        .unwrap();
    let on: i64 = tx.query_one(count, &[]).await.unwrap().get(0);
    tx.commit().await.unwrap();
    assert_eq!((unset, on), (0, 1));
}

/// The shared failure counters are no tenant's: the server's role sees and changes them only
/// acting as the system, never with a tenant set or nothing set.
#[tokio::test]
async fn failure_counters_open_only_to_the_system() {
    let (_cluster, db) = migrated().await;
    let mut app = connect(&db.app_url).await.unwrap();
    let system = [("keyhold.system", "on")];
    let insert =
        "INSERT INTO failure_counters (key, tat) VALUES ('k', now() + interval '1 minute')";
    refused(
        affected(&mut app, &[], insert).await,
        "insert with nothing set",
    );
    refused(
        affected(&mut app, &[("keyhold.tenant", A)], insert).await,
        "insert acting for a tenant",
    );
    assert_eq!(affected(&mut app, &system, insert).await.unwrap(), 1);
    let count = "SELECT 1 FROM failure_counters";
    assert_eq!(affected(&mut app, &[], count).await.unwrap(), 0);
    assert_eq!(
        affected(&mut app, &[("keyhold.tenant", A)], count)
            .await
            .unwrap(),
        0
    );
    assert_eq!(affected(&mut app, &system, count).await.unwrap(), 1);
}
