//! Where the vault may send a request (server-side request forgery): an endpoint URL is
//! `https://`, has no user info, and reaches only public addresses — never loopback,
//! private, shared (CGNAT), link-local (the cloud metadata services live there),
//! multicast, documentation or reserved ranges, nor an IPv4 address wrapped in IPv6.
//! Checked when an endpoint is saved and again on every connection (`Poster`), so a
//! name whose DNS answer changes later (rebinding) is still refused.
//! `--allow-private-webhooks` lifts the address rule and admits `http://` (tests, labs).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// The longest URL accepted.
pub const MAX_URL: usize = 2048;

fn v4_forbidden(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240 // reserved
}

fn v6_forbidden(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_forbidden(v4);
    }
    let s = ip.segments();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local (fc00::/7)
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64: an IPv4 address in disguise
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0) // discard-only
        || (s[0] == 0x2002) // 6to4: an IPv4 address in disguise
        || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0) // IPv4-compatible
}

/// Whether the vault may connect to `ip`.
pub fn allowed(ip: IpAddr, allow_private: bool) -> bool {
    allow_private
        || match ip {
            IpAddr::V4(v4) => !v4_forbidden(v4),
            IpAddr::V6(v6) => !v6_forbidden(v6),
        }
}

/// Why a URL is refused, in words for the person who typed it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Check `text` as an endpoint URL: syntax, scheme, no credentials in it, and an address
/// literal's range. Names are resolved by [`resolves_publicly`].
pub fn parse(text: &str, allow_private: bool) -> Result<Url, Refused> {
    if text.len() > MAX_URL {
        return Err(Refused(format!(
            "The URL is longer than {MAX_URL} characters."
        )));
    }
    let url = Url::parse(text.trim()).map_err(|_| Refused("The URL is not valid.".into()))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err(Refused("The URL must start with https://.".into())),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refused(
            "The URL must not carry a user name or password.".into(),
        ));
    }
    let ip = match url.host() {
        None => return Err(Refused("The URL has no host.".into())),
        Some(Host::Domain(_)) => None,
        Some(Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
    };
    if let Some(ip) = ip
        && !allowed(ip, allow_private)
    {
        return Err(Refused(
            "The URL points at a private, loopback, link-local or reserved address.".into(),
        ));
    }
    Ok(url)
}

/// Resolve a URL's host now and refuse it if any address it names is not allowed. A
/// name that does not resolve is accepted (DNS may be down; delivery checks again).
pub async fn resolves_publicly(url: &Url, allow_private: bool) -> Result<(), Refused> {
    let (Some(Host::Domain(host)), Some(port)) = (url.host(), url.port_or_known_default()) else {
        return Ok(());
    };
    let Ok(addrs) = tokio::net::lookup_host((host, port)).await else {
        return Ok(());
    };
    for a in addrs {
        if !allowed(a.ip(), allow_private) {
            return Err(Refused(
                "The URL's host resolves to a private, loopback, link-local or reserved address."
                    .into(),
            ));
        }
    }
    Ok(())
}

/// How a URL is shown after it is saved: scheme, host and port only (the path of a Slack
/// URL is its credential).
pub fn display(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let rest = if url.path() == "/" && url.query().is_none() {
        "/"
    } else {
        "/…"
    };
    format!("{}://{host}{port}{rest}", url.scheme())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(u: &str) -> bool {
        parse(u, false).is_ok()
    }

    #[test]
    fn refuses_private_literals_and_plain_http() {
        for u in [
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://172.16.0.1/",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[fd00:ec2::254]/",
            "https://[fe80::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[64:ff9b::a00:1]/",
            "http://example.com/",
            "ftp://example.com/",
            "https://user:pw@example.com/",
            "not a url",
        ] {
            assert!(!ok(u), "{u} must be refused");
        }
        for u in [
            "https://example.com/hook",
            "https://93.184.216.34/x",
            "https://[2606:4700::1]/",
        ] {
            assert!(ok(u), "{u} must be accepted");
        }
    }

    #[test]
    fn the_flag_admits_private_addresses_and_http() {
        assert!(parse("http://127.0.0.1:8080/hook", true).is_ok());
        assert!(parse("ftp://127.0.0.1/", true).is_err());
    }

    #[test]
    fn display_hides_the_path() {
        let u = Url::parse("https://hooks.slack.com/services/T0/B0/secret").unwrap();
        assert_eq!(display(&u), "https://hooks.slack.com/…");
        let u = Url::parse("https://example.com:8443/").unwrap();
        assert_eq!(display(&u), "https://example.com:8443/");
    }

    #[tokio::test]
    async fn a_name_for_loopback_is_refused() {
        let u = Url::parse("https://localhost/").unwrap();
        assert!(resolves_publicly(&u, false).await.is_err());
        assert!(resolves_publicly(&u, true).await.is_ok());
    }
}
