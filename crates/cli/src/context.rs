//! Which server and which credential a command uses.

use keyhold_client::signing::Signer;
use keyhold_client::{Client, check_server_url};
use keyhold_core::Sensitive;
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
    /// `KEYHOLD_AGENT_KEY`, then an Ed25519 agent key (`KEYHOLD_AGENT_KEY_ID`, its private
    /// key in `KEYHOLD_AGENT_KEY_FILE` or the OS keyring), then the session kept by
    /// `keyhold login`.
    pub fn authed(&self) -> CliResult<Client> {
        for var in ["KEYHOLD_TOKEN", "KEYHOLD_AGENT_KEY"] {
            if let Ok(v) = std::env::var(var)
                && !v.trim().is_empty()
            {
                return Ok(self.base.with_token(v.trim()));
            }
        }
        if let Ok(id) = std::env::var("KEYHOLD_AGENT_KEY_ID")
            && !id.trim().is_empty()
        {
            return self.signing(id.trim());
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

    /// A client authenticated as an agent key: `KEYHOLD_AGENT_KEY` (a `kha_` key), or an
    /// Ed25519 key (`KEYHOLD_AGENT_KEY_ID`, see [`Ctx::authed`]).
    pub fn agent(&self) -> CliResult<Client> {
        if let Ok(v) = std::env::var("KEYHOLD_AGENT_KEY")
            && !v.trim().is_empty()
        {
            return Ok(self.base.with_token(v.trim()));
        }
        match std::env::var("KEYHOLD_AGENT_KEY_ID") {
            Ok(id) if !id.trim().is_empty() => self.signing(id.trim()),
            _ => Err(CliError::Auth(
                "Tokens are issued by an agent key: set KEYHOLD_AGENT_KEY, or KEYHOLD_AGENT_KEY_ID \
                 (and KEYHOLD_AGENT_KEY_FILE) for an Ed25519 key."
                    .into(),
            )),
        }
    }

    /// A client signing as the Ed25519 agent key `id`.
    fn signing(&self, id: &str) -> CliResult<Client> {
        let pem = match std::env::var_os("KEYHOLD_AGENT_KEY_FILE") {
            Some(path) => Sensitive::new(std::fs::read_to_string(&path).map_err(|e| {
                CliError::Auth(format!(
                    "Cannot read KEYHOLD_AGENT_KEY_FILE {}: {e}.",
                    std::path::Path::new(&path).display()
                ))
            })?),
            None => self
                .keystore
                .load(&signing_key_account(id))
                .map_err(|e| CliError::Auth(format!("{e}.")))?
                .ok_or_else(|| {
                    CliError::Auth(format!(
                        "No private key for agent key {id} in the OS keyring; set KEYHOLD_AGENT_KEY_FILE."
                    ))
                })?,
        };
        let signer = Signer::from_pkcs8_pem(pem.expose(), id)?;
        Ok(self.base.with_signer(signer))
    }
}

/// The keyring account an Ed25519 agent key's private key is kept under.
pub fn signing_key_account(key_id: &str) -> String {
    format!("agent-key-ed25519:{key_id}")
}
