//! The server address people type on the first-run screen, validated here rather than in
//! the web view: `https://` anywhere, plain `http://` only to this computer (loopback), as
//! the architecture's transport rule says.

use std::net::IpAddr;

use url::{Host, Url};

/// The local server that `make run` starts.
pub const DEFAULT_SERVER_URL: &str = "http://127.0.0.1:8270";

/// A validated, normalised server origin such as `https://vault.example.com` or
/// `http://127.0.0.1:8270` (no trailing slash, no path).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerUrl(Url);

impl ServerUrl {
    /// The origin as a string, without a trailing slash.
    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    pub fn is_loopback(&self) -> bool {
        self.0.host().is_some_and(|h| host_is_loopback(&h))
    }
}

impl std::fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn host_is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

/// Parse what someone typed. Without a scheme, loopback hosts get `http://` and every
/// other host `https://` — never a downgrade.
pub fn parse(input: &str) -> Result<ServerUrl, String> {
    let input = input.trim();
    if input.is_empty() {
        return Err("Enter the address of your Keyhold server.".to_owned());
    }
    let with_scheme = if input.contains("://") {
        input.to_owned()
    } else {
        // Decide on the scheme from the host alone.
        let probe = Url::parse(&format!("http://{input}"))
            .map_err(|_| "This is not a valid server address.".to_owned())?;
        let scheme = if probe.host().is_some_and(|h| host_is_loopback(&h)) {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{input}")
    };
    let url =
        Url::parse(&with_scheme).map_err(|_| "This is not a valid server address.".to_owned())?;
    match url.scheme() {
        "https" | "http" => {}
        other => {
            return Err(format!(
                "Use an https:// address (\"{other}://\" is not supported)."
            ));
        }
    }
    let Some(host) = url.host() else {
        return Err("The address needs a host name.".to_owned());
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err("Leave the user name and password out of the address.".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("Enter only the server's address, without ? or #.".to_owned());
    }
    if url.path() != "/" && !url.path().is_empty() {
        return Err("Enter only the server's address, without a path.".to_owned());
    }
    if url.scheme() == "http" && !host_is_loopback(&host) {
        return Err(
            "Plain http:// is only allowed for a server on this computer. Use https:// for a remote server."
                .to_owned(),
        );
    }
    Ok(ServerUrl(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        parse(s)
            .map(|u| u.to_string())
            .unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn default_is_valid_loopback() {
        let u = parse(DEFAULT_SERVER_URL).unwrap();
        assert!(u.is_loopback());
        assert_eq!(u.as_str(), "http://127.0.0.1:8270");
    }

    #[test]
    fn http_only_for_loopback() {
        assert_eq!(ok("http://localhost:8270/"), "http://localhost:8270");
        assert_eq!(ok("http://127.8.9.10:1"), "http://127.8.9.10:1");
        assert_eq!(ok("http://[::1]:8270"), "http://[::1]:8270");
        for remote in [
            "http://vault.example.com",
            "http://10.0.0.5:8270",
            "http://192.168.1.2",
            "http://localhost.example.com",
            "http://[::2]:80",
            "http://0.0.0.0:8270",
        ] {
            let e = parse(remote).unwrap_err();
            assert!(e.contains("https://"), "{remote}: {e}");
        }
    }

    #[test]
    fn https_anywhere() {
        assert_eq!(ok("https://vault.example.com"), "https://vault.example.com");
        assert_eq!(
            ok("https://vault.example.com:8443/"),
            "https://vault.example.com:8443"
        );
        assert_eq!(
            ok("  HTTPS://Vault.Example.com  "),
            "https://vault.example.com"
        );
    }

    #[test]
    fn scheme_is_added_without_downgrade() {
        assert_eq!(ok("localhost:8270"), "http://localhost:8270");
        assert_eq!(ok("127.0.0.1:8270"), "http://127.0.0.1:8270");
        assert_eq!(ok("vault.example.com"), "https://vault.example.com");
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "   ",
            "ftp://vault.example.com",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "https://user:pw@vault.example.com",
            "https://vault.example.com/api",
            "https://vault.example.com/?x=1",
            "https://vault.example.com/#frag",
            "https://",
            "http://exa mple.com",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
