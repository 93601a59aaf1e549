//! `keyhold-server healthcheck`: one GET of `/healthz`, for container health checks in an
//! image that has no shell or curl (deploy/Containerfile). Plain HTTP to the local listener
//! or HTTPS with the system's roots; no redirect followed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::config::Config;

/// The URL to probe: `url`, else the listen address (an unspecified address, which no
/// one can connect to, read as loopback).
pub fn target(config: &Config, url: Option<String>) -> String {
    if let Some(u) = url {
        return format!("{}/healthz", u.trim_end_matches('/'));
    }
    let mut addr = config.listen;
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => addr.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        IpAddr::V6(ip) if ip.is_unspecified() => addr.set_ip(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        _ => {}
    }
    format!("{}://{addr}/healthz", config.scheme())
}

pub async fn check(config: &Config, url: Option<String>) -> anyhow::Result<()> {
    let target = target(config, url);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(3))
        .build()?;
    let status = client
        .get(&target)
        .send()
        .await
        .with_context(|| format!("{target} did not answer"))?
        .status();
    if !status.is_success() {
        bail!("{target} answered {status}");
    }
    println!("healthy: {target}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unspecified_listen_address_is_probed_on_loopback() {
        let mut c = Config::for_data_dir("/tmp/x".into());
        c.listen = "0.0.0.0:8270".parse().unwrap();
        assert_eq!(target(&c, None), "http://127.0.0.1:8270/healthz");
        c.listen = "[::]:8270".parse().unwrap();
        assert_eq!(target(&c, None), "http://[::1]:8270/healthz");
        assert_eq!(
            target(&c, Some("https://k.example/".into())),
            "https://k.example/healthz"
        );
    }
}
