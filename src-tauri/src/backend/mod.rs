//! The one place the app talks to the server, through keyhold-client, one module per
//! resource. Each function is a thin call plus a mapping into the web view's types. Where
//! the client does not offer a call, the function says so with a `not_available` error —
//! never a fake success. Nothing here knows about Tauri: the commands (`crate::commands`)
//! own the app state and pass in the [`Server`] it keeps.

use std::path::Path;

use keyhold_client::{Client, ClientError};
use keyhold_core::Sensitive;

use crate::error::{CommandError, CommandResult, ErrorKind};
use crate::server_url::ServerUrl;

pub mod alerts;
pub mod approvals;
pub mod audit;
pub mod keys;
pub mod members;
pub mod mfa;
pub mod recovery;
pub mod secrets;
pub mod security;
pub mod session;
pub mod settings;
pub mod webhooks;

pub use approvals::{approval_view, approvals_feed, approve, deny, list_approvals};
pub use audit::{audit, audit_actions, audit_export, audit_verify};
pub use keys::{
    create_key, key_details, list_keys, reinstate_key, revoke_key, revoke_leaked_key, rotate_key,
    update_key,
};
pub use mfa::{
    TotpSecret, mfa_begin, mfa_confirm, mfa_disable, mfa_regenerate_backup_codes, mfa_status,
};
pub use security::{
    change_password, end_other_sessions, reauth, request_email_verification, security, sessions,
};
pub use session::{Granted, Login, healthz, login, login_mfa, logout, me, signup};

/// A Keyhold server: its address and the one HTTP client that talks to it. Built once per
/// address (the app state keeps it and builds another only when the address changes), so
/// commands share its connection pool instead of each paying for a new client and a new
/// TLS handshake. Clones share the client. The client follows no redirects and trusts the
/// public roots plus `KEYHOLD_CA_CERT` (see [`Server::connect`]).
#[derive(Clone, Debug)]
pub struct Server {
    url: ServerUrl,
    client: Client,
}

impl Server {
    /// The client for `url`. `KEYHOLD_CA_CERT` names a PEM file of extra CAs to trust, for
    /// a server whose certificate comes from a private CA (docs/desktop.md).
    pub fn connect(url: ServerUrl) -> CommandResult<Self> {
        let ca_file = std::env::var_os("KEYHOLD_CA_CERT").map(std::path::PathBuf::from);
        Self::trusting(url, ca_file.as_deref())
    }

    /// The client for `url`, also trusting the CAs in `ca_file` (`None`: public roots only).
    pub fn trusting(url: ServerUrl, ca_file: Option<&Path>) -> CommandResult<Self> {
        let client = Client::new(url.as_str())
            .and_then(|c| c.trusting_ca_file(ca_file))
            .map_err(|e| from_client(&url, e))?;
        Ok(Self { url, client })
    }

    /// The server's address.
    pub fn url(&self) -> &ServerUrl {
        &self.url
    }

    /// The shared client without credentials (health, sign-up, sign-in, a leaked key).
    fn anonymous(&self) -> &Client {
        &self.client
    }

    /// The shared client (same connection pool) sending `token`.
    fn authed(&self, token: &Sensitive<String>) -> Client {
        self.client.with_token(token.expose().clone())
    }

    /// A client error as the sentence the app shows, naming this server.
    fn error(&self, e: ClientError) -> CommandError {
        from_client(&self.url, e)
    }
}

/// Every client error as a sentence with the contract's code.
pub fn from_client(server: &ServerUrl, e: ClientError) -> CommandError {
    match e {
        ClientError::Api {
            code,
            message,
            extra,
            retry_after,
            ..
        } => {
            let strings = |key: &str| -> Vec<String> {
                extra
                    .get(key)
                    .and_then(|v| v.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let mut error = CommandError::new(ErrorKind::from(code), message)
                .with_details(strings("suggestions"));
            error.retry_after_secs = retry_after.map(|s| u32::try_from(s).unwrap_or(u32::MAX));
            error.field = extra
                .get("field")
                .and_then(|f| f.as_str())
                .map(str::to_owned);
            error
        }
        ClientError::Unreachable { .. } => CommandError::new(
            ErrorKind::Offline,
            format!(
                "Cannot reach the Keyhold server at {server}. Check that it is running and that the address is right."
            ),
        ),
        ClientError::Protocol { status } => CommandError::new(
            ErrorKind::Internal,
            format!(
                "The server gave an answer this app does not understand (HTTP {status}). It may run a different version of Keyhold."
            ),
        ),
        ClientError::BadUrl(message) | ClientError::BadCaFile(message) => {
            CommandError::new(ErrorKind::InvalidServerUrl, message)
        }
        // The app never signs requests with an Ed25519 agent key.
        ClientError::BadKey(message) => CommandError::new(ErrorKind::Internal, message),
        ClientError::Redirected { status, .. } => CommandError::new(
            ErrorKind::InvalidServerUrl,
            format!(
                "The server at {server} answered with a redirect (HTTP {status}). Keyhold follows no redirects, so nothing was sent on; use the server's own address."
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    /// A CA file the app cannot use is an error naming it, of the kind the sign-in screen
    /// shows for a server address it cannot use; no file changes nothing.
    #[test]
    fn a_ca_file_that_cannot_be_used_is_named() {
        let server = crate::server_url::parse("https://vault.example.com").unwrap();
        assert!(Server::trusting(server.clone(), None).is_ok());
        let dir = tempfile::tempdir().unwrap();
        let not_a_cert = dir.path().join("notes.txt");
        std::fs::write(&not_a_cert, "hello").unwrap();
        let missing = dir.path().join("missing.pem");
        for file in [&not_a_cert, &missing] {
            let e = Server::trusting(server.clone(), Some(file)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidServerUrl);
            assert!(
                e.message.contains(&file.display().to_string()),
                "{}",
                e.message
            );
        }
    }

    /// The token travels with the shared client but never shows in its Debug output.
    #[test]
    fn the_shared_client_keeps_its_address_and_hides_the_token() {
        let url = crate::server_url::parse("https://vault.example.com").unwrap();
        let server = Server::trusting(url.clone(), None).unwrap();
        assert_eq!(server.url(), &url);
        let authed = server.authed(&Sensitive::new("khs_not_for_logs".to_owned()));
        assert_eq!(authed.token(), Some("khs_not_for_logs"));
        assert!(server.anonymous().token().is_none());
        assert!(!format!("{server:?} {authed:?}").contains("khs_not_for_logs"));
    }
}
