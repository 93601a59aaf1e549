//! Which server and which credential a command uses.

use keyhold_client::{Client, check_server_url};
use keyhold_keystore::TokenStore;

use crate::cli::Global;
use crate::error::{CliError, CliResult};

/// The keyring service the CLI files its sessions under.
pub const KEYRING_SERVICE: &str = "dev.keyhold.cli";

pub struct Ctx {
    pub json: bool,
    pub base: Client,
    pub keystore: TokenStore,
    /// The keyring account for this server (its origin).
    pub account: String,
}

impl Ctx {
    pub fn new(g: &Global) -> CliResult<Self> {
        let base = if g.insecure_http {
            Client::new_allow_insecure(&g.url)?
        } else {
            check_server_url(&g.url)?;
            Client::new(&g.url)?
        }
        .trusting_ca_file(g.ca_cert.as_deref())?;
        let account = url::Url::parse(&g.url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|_| g.url.clone());
        Ok(Self {
            json: g.json,
            base,
            keystore: TokenStore::init(KEYRING_SERVICE),
            account,
        })
    }

    /// A client carrying the caller's credential: `KEYHOLD_TOKEN`, then
    /// `KEYHOLD_AGENT_KEY`, then the session kept by `keyhold login`.
    pub fn authed(&self) -> CliResult<Client> {
        for var in ["KEYHOLD_TOKEN", "KEYHOLD_AGENT_KEY"] {
            if let Ok(v) = std::env::var(var)
                && !v.trim().is_empty()
            {
                return Ok(self.base.with_token(v.trim()));
            }
        }
        match self.keystore.load(&self.account) {
            Ok(Some(t)) => Ok(self.base.with_token(t.expose().clone())),
            Ok(None) => Err(CliError::Auth(
                "Not signed in: run `keyhold login`, or set KEYHOLD_TOKEN or KEYHOLD_AGENT_KEY."
                    .to_owned(),
            )),
            Err(e) => Err(CliError::Auth(format!("{e}. Set KEYHOLD_TOKEN instead."))),
        }
    }
}
