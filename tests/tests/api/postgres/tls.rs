//! TLS to the database through rustls: `sslmode=verify-full` (and the default) checks the
//! server's certificate against `sslrootcert` and its name against the host, on a real
//! PostgreSQL serving TLS with a certificate from a throw-away CA (rcgen).

use keyhold_e2e::postgres::PgCluster;
use keyhold_vault::store::postgres::{PgOptions, PostgresStore, ROLES_SQL, connect_once, migrate};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// A CA's PEM, and a `localhost` certificate and key it signed.
fn pki() -> (String, String, String) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "Keyhold DB test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    (ca_pem, leaf.pem(), leaf_key.serialize_pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_full_checks_the_ca_and_the_host_name() {
    let (ca, cert, key) = pki();
    let (other_ca, _, _) = pki();
    let cluster = PgCluster::start_with_tls(Some((&cert, &key)))
        .await
        .unwrap();
    let db = cluster
        .keyhold_database("keyhold", ROLES_SQL)
        .await
        .unwrap();
    migrate(&mut keyhold_e2e::postgres::connect(&db.owner_url).await.unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (ca_file, other_file) = (dir.path().join("ca.pem"), dir.path().join("other.pem"));
    std::fs::write(&ca_file, ca).unwrap();
    std::fs::write(&other_file, other_ca).unwrap();
    let url = |host: &str, root: &std::path::Path, mode: &str| {
        format!(
            "postgres://keyhold_app@{host}:{}/keyhold?sslmode={mode}&sslrootcert={}",
            cluster.port(),
            root.display()
        )
    };

    // The right CA and name: the store serves, over TLS.
    let good = url("localhost", &ca_file, "verify-full");
    let store = PostgresStore::connect(&good, PgOptions::default())
        .await
        .unwrap();
    keyhold_vault::store::Store::ping(&store).await.unwrap();
    let c = connect_once(&good).await.unwrap();
    let ssl: bool = c
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(ssl, "the connection is encrypted");
    // `require` verifies as much (stricter than libpq).
    connect_once(&url("localhost", &ca_file, "require"))
        .await
        .unwrap();

    // Another CA, or a name the certificate does not carry: refused, whatever the mode.
    for (bad, why) in [
        (
            url("localhost", &other_file, "verify-full"),
            "an unknown CA",
        ),
        (
            url("localhost", &other_file, "require"),
            "an unknown CA under require",
        ),
        (
            url("127.0.0.1", &ca_file, "verify-full"),
            "a host name not in the certificate",
        ),
    ] {
        let e = PostgresStore::connect(&bad, PgOptions::default())
            .await
            .err();
        let e = e.unwrap_or_else(|| panic!("{why} was accepted"));
        assert!(format!("{e:#}").contains("connecting"), "{why}: {e:#}");
    }
}
