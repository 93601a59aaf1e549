//! Which master key this server holds, and the vault keys it opens with it
//! (docs/operations.md, "Key custody"): for `serve`, `kek rotate`, `admin` and
//! `master-key rotate`. The master key only unwraps the root key
//! (`keyhold_vault::custody`); it is dropped, and a token session closed, right after.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use keyhold_core::Sensitive;
use keyhold_vault::audit::{ActorKind, ClientInfo, NewEvent};
use keyhold_vault::clock::Clock;
use keyhold_vault::custody::pkcs11::{IfMissing, Pkcs11Config, Pkcs11MasterKey};
use keyhold_vault::custody::{self, MasterKey, MemoryMasterKey, Rewrapped, RootKeyOrigin};
use keyhold_vault::keys::{self, KeySource, Keys};
use keyhold_vault::store::Store;
use zeroize::Zeroize;

use crate::config::{Config, RotateTo};

/// The PIN's environment variable, when no `--pkcs11-pin-file` is given.
pub const PIN_ENV: &str = "KEYHOLD_PKCS11_PIN";
/// The new token's PIN for `master-key rotate --to-pkcs11`, when no `--to-pin-file`.
pub const NEW_PIN_ENV: &str = "KEYHOLD_PKCS11_NEW_PIN";

/// The token's PIN: the file's first line, or the variable. A PIN file others may read is
/// refused, like a readable master.key.
fn read_pin(file: Option<&Path>, env: &str) -> anyhow::Result<Option<Sensitive<String>>> {
    let Some(file) = file else {
        return Ok(std::env::var(env).ok().map(Sensitive::new));
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file)
            .with_context(|| format!("reading {}", file.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            bail!(
                "{} is readable by other users (mode {:o}); run chmod 600 on it",
                file.display(),
                mode & 0o777
            );
        }
    }
    let mut text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let pin = text.lines().next().unwrap_or_default().to_owned();
    text.zeroize();
    Ok(Some(Sensitive::new(pin)))
}

/// The token of `--master-key-pkcs11`, when given.
pub fn pkcs11_config(config: &Config) -> anyhow::Result<Option<Pkcs11Config>> {
    let Some(module) = &config.master_key_pkcs11 else {
        return Ok(None);
    };
    let Some(token) = config.pkcs11_token.clone() else {
        bail!("--master-key-pkcs11 needs --pkcs11-token (the token's label)");
    };
    let Some(pin) = read_pin(config.pkcs11_pin_file.as_deref(), PIN_ENV)? else {
        bail!("--master-key-pkcs11 needs the token's user PIN: --pkcs11-pin-file or {PIN_ENV}");
    };
    Ok(Some(Pkcs11Config {
        module: module.clone(),
        token,
        key_label: config.pkcs11_key_label.clone(),
        pin,
    }))
}

/// The configured master key, read before the store is opened (so that a refused key
/// creates no database): a key in memory, or where the token's key is.
pub enum Configured {
    Memory(MemoryMasterKey, KeySource),
    Pkcs11(Pkcs11Config),
}

/// Read the configured master key: a key file, the environment or the keyring (the file
/// or keyring entry generated when there is none), or the token's settings.
pub fn configured_master(config: &Config) -> anyhow::Result<Configured> {
    if let Some(pk) = pkcs11_config(config)? {
        return Ok(Configured::Pkcs11(pk));
    }
    let (key, source) = keys::load_master_key(&config.data_dir, config.master_key_keyring)?;
    Ok(Configured::Memory(MemoryMasterKey::new(key), source))
}

/// The master key, checked against the store. A key is generated (a key file, a keyring
/// entry or a key in the token) only for a vault that has no root key yet: once it has
/// one, only the key that wrapped it opens it, and a new key would only hide the mistake.
async fn resolve(
    config: &Config,
    configured: Configured,
    store: &dyn Store,
) -> anyhow::Result<Box<dyn MasterKey>> {
    let stored = store.root_key().await?;
    let (key, source) = match configured {
        Configured::Memory(key, source) => (key, source),
        Configured::Pkcs11(pk) => {
            let if_missing = match stored {
                None => IfMissing::Generate,
                Some(_) => IfMissing::Refuse,
            };
            let (key, generated) = Pkcs11MasterKey::open(&pk, if_missing)?;
            if generated {
                tracing::warn!(
                    token = %pk.token,
                    key = %pk.key_label,
                    "generated a new master key in the PKCS#11 token; without it the vault cannot be opened"
                );
            }
            return Ok(Box::new(key));
        }
    };
    if let Some(row) = &stored
        && source == KeySource::NewFile
    {
        let _ = std::fs::remove_file(config.data_dir.join("master.key"));
        bail!(
            "no master key: this vault's root key is wrapped by {}; give that key ({} or \
             master.key for a key file, --master-key-pkcs11 for a token)",
            row.master,
            keys::MASTER_KEY_ENV
        );
    }
    match source {
        KeySource::NewKeyring => tracing::warn!(
            service = keys::KEYRING_SERVICE,
            "generated a new master key in the OS keyring; without it the vault cannot be opened"
        ),
        KeySource::NewFile => tracing::warn!(
            path = %config.data_dir.join("master.key").display(),
            "generated a new master key file; back it up and keep it private: without it the vault cannot be opened"
        ),
        _ => {}
    }
    Ok(Box::new(key))
}

/// Open the vault's root key with the configured master key (storing it on a first start)
/// and derive the vault's keys from it.
pub async fn open_keys(
    config: &Config,
    configured: Configured,
    store: &dyn Store,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Keys> {
    let master = resolve(config, configured, store).await?;
    let (root, origin) = custody::open_root_key(store, master.as_ref(), now).await?;
    match origin {
        RootKeyOrigin::Adopted => tracing::info!(
            master = %master.describe(),
            "this vault's keys now come from a root key wrapped by the master key (its old master key's material, so nothing else changed); the master key can now be rotated"
        ),
        RootKeyOrigin::Created => {
            tracing::info!(master = %master.describe(), "created the vault's root key")
        }
        RootKeyOrigin::Stored => {}
    }
    drop(master);
    Keys::from_root(&root)
}

/// The new master key of `master-key rotate`, and the file to remove if the rotation
/// does not commit (a key file nothing is wrapped under).
fn new_master(
    config: &Config,
    to: &RotateTo,
) -> anyhow::Result<(Box<dyn MasterKey>, Option<std::path::PathBuf>)> {
    if let Some(path) = &to.to_file {
        let key = keys::create_key_file(path)?;
        return Ok((Box::new(MemoryMasterKey::new(key)), Some(path.clone())));
    }
    let (Some(module), Some(label)) = (&to.to_pkcs11, &to.to_key_label) else {
        bail!("give --to-file, or --to-pkcs11 with --to-key-label");
    };
    let Some(token) = to.to_token.clone().or_else(|| config.pkcs11_token.clone()) else {
        bail!("--to-pkcs11 needs --to-token (or --pkcs11-token)");
    };
    let pin = match read_pin(to.to_pin_file.as_deref(), NEW_PIN_ENV)? {
        Some(pin) => pin,
        None => read_pin(config.pkcs11_pin_file.as_deref(), PIN_ENV)?.ok_or_else(|| {
            anyhow::anyhow!("no PIN for the new token: --to-pin-file, {NEW_PIN_ENV} or {PIN_ENV}")
        })?,
    };
    let target = Pkcs11Config {
        module: module.clone(),
        token,
        key_label: label.clone(),
        pin,
    };
    let (key, _) = Pkcs11MasterKey::open(&target, IfMissing::Generate)?;
    Ok((Box::new(key), None))
}

/// `keyhold-server master-key rotate`: re-wrap the root key under a new master key.
pub async fn rotate(
    config: &Config,
    to: &RotateTo,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Rewrapped> {
    if config.database_url.is_none() && !config.db_path().exists() {
        bail!("no database at {}", config.db_path().display());
    }
    crate::require_master_key(config)?;
    let configured = configured_master(config)?;
    let (store, _) = crate::open_store(config, Default::default()).await?;
    let old = resolve(config, configured, store.as_ref()).await?;
    let (new, new_file) = new_master(config, to)?;
    if new.describe() == old.describe() {
        bail!("the new master key is the current one ({})", old.describe());
    }
    let now = clock.now();
    let done = custody::rotate_master_key(store.as_ref(), old.as_ref(), new.as_ref(), now, |r| {
        NewEvent::new("master_key.rotated", now, &ClientInfo::default())
            .actor(ActorKind::System, "keyhold-server master-key rotate")
            .target("root_key")
            .detail("version", r.version)
            .detail("from", r.from.clone())
            .detail("to", r.to.clone())
    })
    .await;
    if done.is_err()
        && let Some(path) = new_file
    {
        // Nothing is wrapped under it: a key file left behind would only mislead.
        let _ = std::fs::remove_file(path);
    }
    store.close().await?;
    done
}
