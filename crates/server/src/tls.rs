//! HTTPS: load the PEM certificate chain and key given by `--tls-cert/--tls-key` into a
//! rustls server configuration.
//!
//! Loaded at start-up, before the database is opened, so a wrong path or a key that does
//! not belong to the certificate stops the server with a message naming the file instead
//! of failing the first handshake.
//!
//! A renewed certificate is picked up without a restart: SIGHUP makes the server read both
//! files again and use them for new connections. If they do not load (half-written, key
//! and certificate out of step), it says why and keeps serving the certificate it has.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// The rustls configuration for `cert` (PEM chain, leaf first) and `key` (PEM private key).
pub fn server_config(cert: &Path, key: &Path) -> anyhow::Result<Arc<ServerConfig>> {
    let cert_pem = std::fs::read(cert)
        .with_context(|| format!("reading the TLS certificate {}", cert.display()))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("the TLS certificate {}: {e}", cert.display()))?;
    if chain.is_empty() {
        bail!(
            "the TLS certificate {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            cert.display()
        );
    }
    // The key file is read into memory that is wiped when dropped.
    let key_pem = zeroize::Zeroizing::new(
        std::fs::read(key).with_context(|| format!("reading the TLS key {}", key.display()))?,
    );
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| {
        anyhow::anyhow!(
            "the TLS key {} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)",
            key.display()
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| {
            anyhow::anyhow!(
                "the TLS key {} does not fit the certificate {}: {e}",
                key.display(),
                cert.display()
            )
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// On every SIGHUP, load `cert` and `key` again into `live`; a pair that does not load is
/// logged and changes nothing.
#[cfg(unix)]
pub fn reload_on_hangup(
    live: axum_server::tls_rustls::RustlsConfig,
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            let (c, k) = (cert.clone(), key.clone());
            match tokio::task::spawn_blocking(move || server_config(&c, &k)).await {
                Ok(Ok(config)) => {
                    live.reload_from_config(config);
                    tracing::info!(cert = %cert.display(), "TLS certificate reloaded (SIGHUP)");
                }
                Ok(Err(e)) => tracing::error!(
                    error = %format!("{e:#}"),
                    "TLS certificate not reloaded; still serving the previous one"
                ),
                Err(e) => tracing::error!(error = %e, "TLS certificate reload failed"),
            }
        }
    });
    Ok(())
}

/// Counts TLS handshakes by result (`keyhold_tls_handshakes_total{result}`, `success` or
/// `failure`: two series, whatever the clients send) around the rustls acceptor. A failed
/// handshake (no shared version or cipher, a client refusing the certificate, a timeout)
/// never reaches a request, so it shows nowhere else.
#[derive(Clone)]
pub struct CountedAcceptor<A> {
    pub inner: A,
    pub handshakes: crate::metrics::TlsHandshakes,
}

impl<A, I, S> axum_server::accept::Accept<I, S> for CountedAcceptor<A>
where
    A: axum_server::accept::Accept<I, S>,
    A::Future: Send + 'static,
    A::Stream: Send + 'static,
    A::Service: Send + 'static,
{
    type Stream = A::Stream;
    type Service = A::Service;
    type Future = futures::future::BoxFuture<'static, std::io::Result<(A::Stream, A::Service)>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let handshake = self.inner.accept(stream, service);
        let counts = self.handshakes.clone();
        Box::pin(async move {
            let r = handshake.await;
            let result = if r.is_ok() { "success" } else { "failure" };
            counts
                .get_or_create(&crate::metrics::TlsLabels { result })
                .inc();
            r
        })
    }
}
