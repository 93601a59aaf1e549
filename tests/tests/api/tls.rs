//! HTTPS with `--tls-cert/--tls-key`, and the refusal of plain HTTP off loopback. The
//! certificates are made here, at test time, by a throw-away CA (rcgen).

use std::path::{Path, PathBuf};
use std::process::Command;

use keyhold_e2e::{ServerProcess, TestServer, target_bin};
use keyhold_server::RunningServer;
use keyhold_server::config::Config;
use keyhold_vault::clock::ManualClock;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// A CA and a `localhost` server certificate signed by it, written as PEM files.
struct Pki {
    dir: tempfile::TempDir,
    ca_pem: String,
}

impl Pki {
    fn new() -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Keyhold test CA");
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cert.pem"), leaf.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), leaf_key.serialize_pem()).unwrap();
        // A second, unrelated key: valid PEM that does not belong to the certificate.
        std::fs::write(
            dir.path().join("other-key.pem"),
            KeyPair::generate().unwrap().serialize_pem(),
        )
        .unwrap();
        Self {
            dir,
            ca_pem: ca_cert.pem(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn cert(&self) -> PathBuf {
        self.path("cert.pem")
    }

    fn key(&self) -> PathBuf {
        self.path("key.pem")
    }

    /// An in-process server with this certificate.
    async fn serve(&self) -> TestServer {
        TestServer::start_with(|c| {
            c.tls_cert = Some(self.cert());
            c.tls_key = Some(self.key());
        })
        .await
    }

    /// A client that trusts only this CA and finds `localhost` at `addr`.
    fn client(&self, addr: std::net::SocketAddr) -> reqwest::Client {
        reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).unwrap())
            .resolve("localhost", addr)
            .build()
            .unwrap()
    }
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_https_with_a_certificate_made_at_test_time() {
    let pki = Pki::new();
    let data = tempfile::tempdir().unwrap();
    let cert = pki.cert();
    let key = pki.key();
    let server = ServerProcess::spawn(
        data.path(),
        &[
            ("KEYHOLD_TLS_CERT", cert.to_str().unwrap()),
            ("KEYHOLD_TLS_KEY", key.to_str().unwrap()),
        ],
    );
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port_of(&server.url)));
    let base = format!("https://localhost:{}", addr.port());

    // A real request over TLS, verified against the test CA.
    let client = pki.client(addr);
    let r = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = client
        .post(format!("{base}/v1/auth/signup"))
        .json(&serde_json::json!({
            "email": keyhold_e2e::unique_email("tls"),
            "password": keyhold_e2e::STRONG_PASSWORD,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text().await);

    // A client that does not trust the CA refuses the server: the certificate is checked.
    let stranger = reqwest::Client::builder()
        .resolve("localhost", addr)
        .build()
        .unwrap();
    let e = stranger
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap_err();
    assert!(e.is_connect(), "{e:?}");

    // Plain HTTP on the TLS port gets no HTTP answer.
    let plain = reqwest::Client::new()
        .get(format!("http://{addr}/healthz"))
        .send()
        .await;
    assert!(
        plain.as_ref().map_or(true, |r| r.status() != 200),
        "{plain:?}"
    );
    let (status, _) = server.terminate();
    assert!(status.success(), "graceful shutdown under TLS: {status:?}");
}

/// Whether `check` comes true within 5 s (asked every 50 ms).
async fn eventually<F: std::future::Future<Output = bool>>(mut check: impl FnMut() -> F) -> bool {
    for _ in 0..100 {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// Certificate renewal without a restart: new files plus SIGHUP, and new connections get
/// the new certificate; files that do not load are refused with a log line and the server
/// keeps the certificate it has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_a_renewed_certificate_and_keeps_the_old_one_if_the_new_does_not_load() {
    let old = Pki::new();
    let renewed = Pki::new();
    let data = tempfile::tempdir().unwrap();
    let (cert, key) = (old.cert(), old.key());
    let server = ServerProcess::spawn(
        data.path(),
        &[
            ("KEYHOLD_TLS_CERT", cert.to_str().unwrap()),
            ("KEYHOLD_TLS_KEY", key.to_str().unwrap()),
        ],
    );
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port_of(&server.url)));
    let health = format!("https://localhost:{}/healthz", addr.port());
    let answers = |pki: &Pki| {
        let c = pki.client(addr);
        let url = health.clone();
        async move { c.get(url).send().await.is_ok_and(|r| r.status() == 200) }
    };
    assert!(answers(&old).await);
    assert!(!answers(&renewed).await);

    // Renew the way certbot does: new files in place (written aside, then renamed).
    for name in ["cert.pem", "key.pem"] {
        let staged = old.path(&format!("{name}.new"));
        std::fs::copy(renewed.path(name), &staged).unwrap();
        std::fs::rename(&staged, old.path(name)).unwrap();
    }
    let hangup = || {
        let pid = server.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-HUP", &pid])
                .status()
                .unwrap()
                .success()
        );
    };
    hangup();
    assert!(
        eventually(|| answers(&renewed)).await,
        "the renewed certificate was not served: {}",
        server.log_text()
    );
    assert!(
        !answers(&old).await,
        "a new connection still got the old certificate"
    );

    // A certificate file caught half-written: refused, and the server carries on.
    std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\ntruncated").unwrap();
    hangup();
    assert!(
        eventually(|| std::future::ready(server.log_text().contains("not reloaded"))).await,
        "no log line for the bad files: {}",
        server.log_text()
    );
    assert!(answers(&renewed).await, "the server lost its certificate");
    let (status, log) = server.terminate();
    assert!(status.success(), "{status:?}: {log}");
    assert!(!log.contains("PRIVATE KEY"), "key material in the log");
}

/// The CLI reaches a server whose certificate comes from a private CA only when told to
/// trust that CA (`--ca-cert` or `KEYHOLD_CA_CERT`), and names a CA file it cannot use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_trusts_a_private_ca_only_when_told_to() {
    use crate::cli::{keyhold, text};
    let pki = Pki::new();
    let ts = pki.serve().await;
    let base = format!("https://localhost:{}", ts.server.addr.port());
    let http = pki.client(ts.server.addr);
    let email = keyhold_e2e::unique_email("ca");
    let body = serde_json::json!({"email": email, "password": keyhold_e2e::STRONG_PASSWORD});
    let r = http
        .post(format!("{base}/v1/auth/signup"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let login: serde_json::Value = http
        .post(format!("{base}/v1/auth/login"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = login["session_token"].as_str().unwrap();
    let ca = pki.path("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let ca = ca.to_str().unwrap();

    // Not told: the certificate is refused and nothing is sent.
    let o = keyhold(&base, &["whoami"], None, &[("KEYHOLD_TOKEN", session)]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("cannot reach"), "{}", text(&o));

    // Told, by flag or by environment.
    let o = keyhold(
        &base,
        &["--ca-cert", ca, "whoami"],
        None,
        &[("KEYHOLD_TOKEN", session)],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains(&email), "{}", text(&o));
    let o = keyhold(
        &base,
        &["whoami"],
        None,
        &[("KEYHOLD_TOKEN", session), ("KEYHOLD_CA_CERT", ca)],
    );
    assert!(o.status.success(), "{}", text(&o));

    // A file that holds no certificate (here the server's private key) or none at all:
    // a usage error naming the file, and no key material echoed.
    let key = pki.key();
    let key = key.to_str().unwrap();
    let missing = pki.path("missing.pem");
    let missing = missing.to_str().unwrap();
    for (file, says) in [(key, "holds no PEM certificate"), (missing, "Cannot read")] {
        let o = keyhold(
            &base,
            &["--ca-cert", file, "whoami"],
            None,
            &[("KEYHOLD_TOKEN", session)],
        );
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(
            text(&o).contains(says) && text(&o).contains(file),
            "{}",
            text(&o)
        );
        assert!(!text(&o).contains("PRIVATE KEY"), "{}", text(&o));
    }
}

#[tokio::test]
async fn an_in_process_server_with_tls_reports_an_https_url() {
    let pki = Pki::new();
    let ts = pki.serve().await;
    assert!(ts.url().starts_with("https://"), "{}", ts.url());
    let r = pki
        .client(ts.server.addr)
        .get(format!(
            "https://localhost:{}/readyz",
            ts.server.addr.port()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    ts.stop().await;
}

async fn start_error(adjust: impl FnOnce(&mut Config)) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_data_dir(dir.path().to_path_buf());
    adjust(&mut config);
    let clock = std::sync::Arc::new(ManualClock::new(keyhold_e2e::test_epoch()));
    match RunningServer::start(config, clock).await {
        Ok(s) => {
            s.stop().await.unwrap();
            panic!("the server started")
        }
        Err(e) => format!("{e:#}"),
    }
}

#[tokio::test]
async fn plain_http_off_loopback_is_refused_unless_insecure_http() {
    let e = start_error(|c| c.listen = "0.0.0.0:0".parse().unwrap()).await;
    assert!(
        e.contains("refusing to serve plain HTTP on 0.0.0.0:0"),
        "{e}"
    );
    assert!(
        e.contains("--tls-cert") && e.contains("--insecure-http"),
        "{e}"
    );

    // With the explicit opt-out it serves plain HTTP on every interface.
    let ts = TestServer::start_with(|c| {
        c.listen = "0.0.0.0:0".parse().unwrap();
        c.insecure_http = true;
    })
    .await;
    let url = format!("http://127.0.0.1:{}/healthz", ts.server.addr.port());
    assert_eq!(reqwest::get(url).await.unwrap().status(), 200);
    ts.stop().await;

    // With TLS it serves on every interface without the opt-out.
    let pki = Pki::new();
    let ts = TestServer::start_with(|c| {
        c.listen = "0.0.0.0:0".parse().unwrap();
        c.tls_cert = Some(pki.cert());
        c.tls_key = Some(pki.key());
    })
    .await;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], ts.server.addr.port()));
    let r = pki
        .client(addr)
        .get(format!("https://localhost:{}/healthz", addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    ts.stop().await;
}

/// Run the binary to completion with `args`, expecting it to refuse to start.
fn refused(data: &Path, args: &[&str]) -> String {
    let out = Command::new(target_bin("keyhold-server"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("KEYHOLD_MASTER_KEY")
        .env_remove("KEYHOLD_LISTEN")
        .output()
        .unwrap();
    assert!(!out.status.success(), "it started: {out:?}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("listening on"),
        "{out:?}"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_binary_names_a_missing_tls_file_and_needs_both_flags() {
    // Its refusal of 0.0.0.0 without TLS: process::plain_http_on_a_public_address_is_refused.
    let data = tempfile::tempdir().unwrap();

    let missing = data.path().join("nowhere.pem");
    let pki = Pki::new();
    let e = refused(
        data.path(),
        &[
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            missing.to_str().unwrap(),
            "--tls-key",
            pki.key().to_str().unwrap(),
        ],
    );
    assert!(
        e.contains("reading the TLS certificate") && e.contains("nowhere.pem"),
        "{e}"
    );
    // One flag without the other is a usage error.
    let e = refused(
        data.path(),
        &[
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            pki.cert().to_str().unwrap(),
        ],
    );
    assert!(e.contains("--tls-key"), "{e}");
}

#[tokio::test]
async fn bad_tls_files_stop_the_start_with_a_message_naming_them() {
    let pki = Pki::new();
    let dir = pki.dir.path().to_path_buf();
    let e = start_error(|c| {
        c.tls_cert = Some(pki.cert());
        c.tls_key = Some(dir.join("missing-key.pem"));
    })
    .await;
    assert!(
        e.contains("reading the TLS key") && e.contains("missing-key.pem"),
        "{e}"
    );

    // The certificate given as the key: PEM, but no private key in it.
    let e = start_error(|c| {
        c.tls_cert = Some(pki.cert());
        c.tls_key = Some(pki.cert());
    })
    .await;
    assert!(e.contains("holds no PEM private key"), "{e}");

    // The key given as the certificate.
    let e = start_error(|c| {
        c.tls_cert = Some(pki.key());
        c.tls_key = Some(pki.key());
    })
    .await;
    assert!(e.contains("holds no PEM certificate"), "{e}");

    // A key that is not the certificate's.
    let e = start_error(|c| {
        c.tls_cert = Some(pki.cert());
        c.tls_key = Some(pki.path("other-key.pem"));
    })
    .await;
    assert!(e.contains("does not fit the certificate"), "{e}");
    // Nothing secret in the message: no PEM body.
    assert!(!e.contains("BEGIN"), "{e}");
}
