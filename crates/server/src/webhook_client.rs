//! The vault's outgoing HTTP for webhook deliveries (`keyhold_vault::events::Poster`):
//! reqwest over rustls, no proxy, no redirect followed (a 3xx is a failed delivery), a
//! timeout on connecting and on the whole request, at most 1 KiB of the answer read.
//!
//! Address rules are applied where the connection is made: the resolver hands reqwest
//! only addresses `address::allowed` admits, so a name that resolves (or is rebound) to a
//! private, loopback or metadata address is refused at delivery time, not just when the
//! endpoint was saved. An address literal in the URL never reaches the resolver, so it is
//! checked here before the request.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use keyhold_vault::events::address::allowed;
use keyhold_vault::events::{PostError, PostRequest, PostResponse, Poster, RESPONSE_KEPT};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Resolves with the system resolver, keeping only admitted addresses.
struct CheckedResolver {
    allow_private: bool,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let admitted: Vec<SocketAddr> =
                found.filter(|a| allowed(a.ip(), allow_private)).collect();
            if admitted.is_empty() {
                return Err("the host resolves to no address the vault may connect to".into());
            }
            let addrs: Addrs = Box::new(admitted.into_iter());
            Ok(addrs)
        })
    }
}

pub struct WebhookClient {
    http: reqwest::Client,
    allow_private: bool,
}

impl WebhookClient {
    pub fn new(timeout: Duration, allow_private: bool) -> anyhow::Result<Self> {
        Self::build(timeout, allow_private, !allow_private)
    }

    /// The address rule and the scheme rule apart, so each can be tested on its own.
    fn build(timeout: Duration, allow_private: bool, https_only: bool) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .timeout(timeout)
            .https_only(https_only)
            .dns_resolver(Arc::new(CheckedResolver { allow_private }))
            .build()?;
        Ok(Self {
            http,
            allow_private,
        })
    }
}

/// Why reqwest failed, in a few words and without the URL (which it would print, and a
/// Slack URL is a credential).
fn reason(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "redirect refused"
    } else if e.is_body() || e.is_decode() {
        "the answer could not be read"
    } else {
        "request failed"
    };
    let mut cause = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(c) = cause {
        detail = c.to_string();
        cause = c.source();
    }
    if detail.is_empty() || detail.contains("://") {
        what.to_owned()
    } else {
        format!("{what}: {detail}")
    }
}

#[async_trait]
impl Poster for WebhookClient {
    async fn post(&self, req: PostRequest) -> Result<PostResponse, PostError> {
        if let Some(host) = req.url.host_str()
            && let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>()
            && !allowed(ip, self.allow_private)
        {
            return Err(PostError("address not allowed".into()));
        }
        let mut builder = self.http.post(req.url).body(req.body);
        for (name, value) in req.headers {
            builder = builder.header(name, value);
        }
        let mut resp = builder.send().await.map_err(|e| PostError(reason(&e)))?;
        let status = resp.status().as_u16();
        let mut kept = Vec::new();
        while kept.len() < RESPONSE_KEPT {
            match resp.chunk().await {
                Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        kept.truncate(RESPONSE_KEPT);
        Ok(PostResponse {
            status,
            body_start: String::from_utf8_lossy(&kept).into_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(url: &str) -> PostRequest {
        PostRequest {
            url: url::Url::parse(url).unwrap(),
            headers: Vec::new(),
            body: b"{}".to_vec(),
        }
    }

    /// A listener on loopback that answers 200: reachable only when private addresses are
    /// allowed. Without the flag, neither a loopback literal nor a name resolving to
    /// loopback is connected to, whatever was checked when the endpoint was saved.
    #[tokio::test]
    async fn loopback_is_reached_only_with_the_flag() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut sock, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    )
                    .await;
            }
        });
        let lab = WebhookClient::new(Duration::from_secs(2), true).unwrap();
        let ok = lab
            .post(req(&format!("http://localhost:{port}/")))
            .await
            .unwrap();
        assert_eq!((ok.status, ok.body_start.as_str()), (200, "ok"));

        // The address rule alone (plain http allowed): the resolver hands out no loopback
        // address, and a loopback literal is refused before any connection.
        let strict = WebhookClient::build(Duration::from_secs(2), false, false).unwrap();
        for url in [
            format!("http://localhost:{port}/"),
            format!("http://127.0.0.1:{port}/"),
            format!("http://[::ffff:127.0.0.1]:{port}/"),
        ] {
            let refused = strict.post(req(&url)).await;
            assert!(refused.is_err(), "{url} was reached: {refused:?}");
        }
        // The scheme rule of a strict server.
        let strict = WebhookClient::new(Duration::from_secs(2), false).unwrap();
        assert!(strict.post(req("http://example.com/")).await.is_err());
    }
}
