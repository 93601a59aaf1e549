//! The database URL and what it says about TLS.
//!
//! Keyhold always verifies the database's certificate and host name when it uses TLS
//! (rustls with the webpki roots, or the CA in `sslrootcert`). So `sslmode=verify-full`
//! means what libpq means; `require` and `verify-ca` are treated as `verify-full` (stricter
//! than libpq, which then skips checks a vault should not); no `sslmode` at all means
//! `verify-full` too. `prefer` and `allow` are refused: they fall back to plain text when
//! the server declines. `disable` is accepted only for a database on this host (loopback
//! or a unix socket), where nothing crosses a network.

use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;

use anyhow::{Context, bail};
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio_postgres::config::Host;
use tokio_postgres_rustls::MakeRustlsConnect;

/// How connections are made: plain (this host only) or TLS with full verification.
#[derive(Clone)]
pub(crate) enum Tls {
    Off,
    Verify(MakeRustlsConnect),
}

/// A parsed `postgres://` URL: the driver's config and the TLS to use.
pub(crate) struct DatabaseUrl {
    pub config: tokio_postgres::Config,
    pub tls: Tls,
}

impl DatabaseUrl {
    pub(crate) fn parse(url: &str) -> anyhow::Result<Self> {
        let mut parsed = url::Url::parse(url).context("the database URL is not a URL")?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            bail!("the database URL must start with postgres:// or postgresql://");
        }
        let mut mode = None;
        let mut root = None;
        let rest: Vec<(String, String)> = parsed
            .query_pairs()
            .filter_map(|(k, v)| match k.as_ref() {
                "sslmode" => {
                    mode = Some(v.into_owned());
                    None
                }
                "sslrootcert" => {
                    root = Some(v.into_owned());
                    None
                }
                _ => Some((k.into_owned(), v.into_owned())),
            })
            .collect();
        if rest.is_empty() {
            parsed.set_query(None);
        } else {
            parsed.query_pairs_mut().clear().extend_pairs(rest);
        }
        // Never echo the URL itself in an error: it may carry a password.
        let config = tokio_postgres::Config::from_str(parsed.as_str())
            .map_err(|_| anyhow::anyhow!("the database URL's options are not valid"))?;
        let tls = match mode.as_deref().unwrap_or("verify-full") {
            "disable" if local_only(&config) => Tls::Off,
            "disable" => bail!(
                "sslmode=disable is accepted only for a database on this host; use verify-full"
            ),
            "require" | "verify-ca" | "verify-full" => Tls::Verify(connector(root.as_deref())?),
            other => bail!(
                "sslmode={other} is not accepted: use verify-full (or disable for a database on this host)"
            ),
        };
        Ok(Self { config, tls })
    }
}

/// Every host of the URL is on this machine.
fn local_only(config: &tokio_postgres::Config) -> bool {
    !config.get_hosts().is_empty()
        && config.get_hosts().iter().all(|h| match h {
            Host::Tcp(name) => {
                name == "localhost" || IpAddr::from_str(name).is_ok_and(|ip| ip.is_loopback())
            }
            Host::Unix(_) => true,
        })
}

/// rustls with the CA of `sslrootcert` when given, else the webpki roots.
fn connector(root: Option<&str>) -> anyhow::Result<MakeRustlsConnect> {
    let mut roots = RootCertStore::empty();
    match root {
        Some(path) => {
            for cert in CertificateDer::pem_file_iter(path)
                .with_context(|| format!("reading sslrootcert {path}"))?
            {
                let cert = cert.with_context(|| format!("a certificate in {path}"))?;
                roots
                    .add(cert)
                    .with_context(|| format!("a certificate in {path}"))?;
            }
            if roots.is_empty() {
                bail!("sslrootcert {path} holds no certificate");
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(url: &str) -> Result<bool, String> {
        DatabaseUrl::parse(url)
            .map(|u| matches!(u.tls, Tls::Verify(_)))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn tls_is_verified_unless_disabled_on_this_host() {
        assert_eq!(mode("postgres://a@db.example/k"), Ok(true));
        assert_eq!(mode("postgres://a@db.example/k?sslmode=require"), Ok(true));
        assert_eq!(
            mode("postgres://a@127.0.0.1:5/k?sslmode=disable"),
            Ok(false)
        );
        assert_eq!(mode("postgres://a@localhost/k?sslmode=disable"), Ok(false));
        assert!(mode("postgres://a@db.example/k?sslmode=disable").is_err());
        assert!(mode("postgres://a@db.example/k?sslmode=prefer").is_err());
        assert!(mode("mysql://a@db.example/k").is_err());
    }

    #[test]
    fn errors_never_repeat_the_password() {
        for url in [
            "postgres://a:hunter2@db.example/k?sslmode=allow",
            "postgres://a:hunter2@db.example/k?connect_timeout=x",
            "postgres://a:hunter2@db.example/k?sslrootcert=/nonexistent",
        ] {
            let e = DatabaseUrl::parse(url).err().map(|e| format!("{e:#}"));
            assert!(e.as_ref().is_some_and(|e| !e.contains("hunter2")), "{e:?}");
        }
    }

    #[test]
    fn other_options_reach_the_driver() {
        let u = DatabaseUrl::parse(
            "postgres://app@127.0.0.1:6543/keyhold?sslmode=disable&application_name=kh",
        )
        .unwrap();
        assert_eq!(u.config.get_ports(), &[6543]);
        assert_eq!(u.config.get_application_name(), Some("kh"));
    }
}
