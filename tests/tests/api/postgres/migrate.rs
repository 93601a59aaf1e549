//! The embedded migrations on a real cluster: runners that start together migrate once,
//! and the status check tells a current schema from one behind, ahead or edited.

use futures::future::join_all;
use keyhold_e2e::postgres::{PgCluster, connect};
use keyhold_vault::store::postgres::{MIGRATIONS, SchemaStatus, migrate, schema_status};

use super::helpers::migrated;

/// Four replicas starting at once: every runner succeeds, exactly one applies the
/// migrations (the others wait on the advisory lock, then find them recorded), and each
/// version is recorded once.
#[tokio::test]
async fn runners_starting_together_migrate_once() {
    let cluster = PgCluster::start().await.unwrap();
    eprintln!("cluster started in {:?}", cluster.started_in);
    let db = cluster
        .keyhold_database("keyhold", keyhold_vault::store::postgres::ROLES_SQL)
        .await
        .unwrap();
    let app = connect(&db.app_url).await.unwrap();
    let latest = MIGRATIONS.len() as i32;
    assert_eq!(
        schema_status(&app).await.unwrap(),
        SchemaStatus::Behind { applied: 0, latest }
    );

    let mut runners = Vec::new();
    for _ in 0..4 {
        runners.push(connect(&db.owner_url).await.unwrap());
    }
    let results = join_all(runners.iter_mut().map(migrate)).await;
    let applied: Vec<Vec<i32>> = results
        .into_iter()
        .map(|r| r.expect("every runner succeeds"))
        .collect();
    let all: Vec<i32> = (1..=latest).collect();
    assert_eq!(
        applied.iter().filter(|a| **a == all).count(),
        1,
        "one runner applies every migration: {applied:?}"
    );
    assert_eq!(
        applied.iter().filter(|a| a.is_empty()).count(),
        3,
        "the others apply nothing: {applied:?}"
    );

    let admin = connect(&db.admin_url).await.unwrap();
    let rows = admin
        .query(
            "SELECT version, count(*) FROM keyhold_schema GROUP BY version ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    let recorded: Vec<(i32, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(recorded, all.iter().map(|v| (*v, 1)).collect::<Vec<_>>());
    // The server's role may ask (migrate --check) and finds the schema current.
    assert!(schema_status(&app).await.unwrap().is_current());
    // A later start applies nothing.
    let mut owner = connect(&db.owner_url).await.unwrap();
    assert_eq!(migrate(&mut owner).await.unwrap(), Vec::<i32>::new());
}

/// A database migrated by a newer server, or by an edited migration, is reported by the
/// check and refused by the runner, which changes nothing.
#[tokio::test]
async fn newer_or_edited_schemas_are_refused() {
    let (_cluster, db) = migrated().await;
    let latest = MIGRATIONS.len() as i32;
    let mut owner = connect(&db.owner_url).await.unwrap();
    let app = connect(&db.app_url).await.unwrap();

    owner
        .execute(
            "INSERT INTO keyhold_schema (version, name, checksum) VALUES ($1, 'future', 'x')",
            &[&(latest + 1)],
        )
        .await
        .unwrap();
    assert_eq!(
        schema_status(&app).await.unwrap(),
        SchemaStatus::Ahead {
            applied: latest + 1,
            latest
        }
    );
    let err = migrate(&mut owner).await.unwrap_err();
    assert!(
        format!("{err:#}").contains("newer than this server"),
        "{err:#}"
    );

    owner
        .batch_execute(&format!(
            "DELETE FROM keyhold_schema WHERE version = {};
             UPDATE keyhold_schema SET checksum = 'edited' WHERE version = 1",
            latest + 1
        ))
        .await
        .unwrap();
    assert_eq!(
        schema_status(&app).await.unwrap(),
        SchemaStatus::Altered { version: 1 }
    );
    let err = migrate(&mut owner).await.unwrap_err();
    assert!(format!("{err:#}").contains("differs"), "{err:#}");
}

/// The server's role can read the bookkeeping but not change it: it could otherwise make
/// a stale schema look current.
#[tokio::test]
async fn the_server_role_cannot_record_migrations() {
    let (_cluster, db) = migrated().await;
    let app = connect(&db.app_url).await.unwrap();
    for sql in [
        "INSERT INTO keyhold_schema (version, name, checksum) VALUES (99, 'x', 'x')",
        "UPDATE keyhold_schema SET checksum = 'x'",
        "DELETE FROM keyhold_schema",
    ] {
        let err = app.batch_execute(sql).await.unwrap_err();
        assert_eq!(
            err.code(),
            Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{sql}: {err}"
        );
    }
}
