//! The PostgreSQL schema against a real cluster of our own (keyhold_e2e::postgres): the
//! migrations, row-level security as the server's role sees it, the append-only audit log,
//! and what the server's role may not do. Raw SQL throughout, as the role would run it.
//!
//! `migrate` (runners starting together, status checks), `rls` (a query that forgets its
//! tenant finds nothing; no writes across tenants; lookups), `privileges` (the audit log,
//! ALTER/DROP, what the role owns); `helpers` holds the fixture and the SQL helpers. The
//! harness's own promise (nothing left after drop) is tested here.

mod helpers;
mod kek_cache;
mod migrate;
mod migrate_store;
mod outbox;
mod privileges;
mod replicas;
mod rls;
mod tls;

use keyhold_e2e::postgres::{PgCluster, connect};

/// The harness's own promise: a cluster of its own (not the system one on 5432, its socket
/// in its directory), and nothing left once dropped: no server on the port, no directory.
#[tokio::test]
async fn a_dropped_cluster_leaves_nothing_behind() {
    let cluster = PgCluster::start().await.unwrap();
    let (port, dir) = (cluster.port(), cluster.socket_dir().to_owned());
    assert_ne!(port, 5432);
    assert!(dir.join(format!(".s.PGSQL.{port}")).exists());
    let url = cluster.url("postgres", "postgres");
    let c = connect(&url).await.unwrap();
    let served: i32 = c.query_one("SELECT 1", &[]).await.unwrap().get(0);
    assert_eq!(served, 1);
    drop(c);
    drop(cluster);
    assert!(!dir.exists(), "{} is still there", dir.display());
    // Nothing listens on the port any more (a server whose directory is gone would still
    // accept the connection, and only then fail).
    let listening = tokio::net::TcpStream::connect(("127.0.0.1", port)).await;
    assert!(listening.is_err(), "a server still listens on {port}");
}
