//! The master key as a file, an environment variable or a keyring entry, and the keys
//! derived at start-up from the vault's root key (which the master key only wraps:
//! `crate::custody`).
//!
//! Every other key (the password pepper, the key for credential hashes, the key that wraps
//! tenant KEKs) is derived once with HKDF, so no request pays for a derivation and a copy
//! of the database alone reveals nothing.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

const KEY_FILE: &str = "master.key";
pub const MASTER_KEY_ENV: &str = "KEYHOLD_MASTER_KEY";

#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Key32([u8; 32]);

impl Key32 {
    #[cfg(test)]
    pub fn test(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Take ownership of key bytes (the caller's copy should be wiped).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for Key32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key32([redacted])")
    }
}

/// Where the master key came from, for the start-up log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySource {
    Environment,
    ExistingFile,
    NewFile,
    Keyring,
    NewKeyring,
}

/// Keys derived from the root key.
#[derive(Clone, Debug)]
pub struct Keys {
    /// argon2id secret parameter: a stolen database cannot be brute-forced offline.
    pub pepper: Key32,
    /// HMAC key for credential hashes (sessions, agent keys, tokens, links, backup codes).
    credential: Key32,
    /// Wraps tenant key-encryption keys and TOTP secrets.
    pub wrap: Key32,
}

fn derive(root: &[u8; 32], label: &str) -> anyhow::Result<Key32> {
    let hk = Hkdf::<Sha256>::new(Some(b"keyhold/v1"), root);
    let mut out = [0u8; 32];
    hk.expand(label.as_bytes(), &mut out)
        .map_err(|_| anyhow::anyhow!("key derivation failed"))?;
    Ok(Key32(out))
}

impl Keys {
    /// The same derivation that vaults made before the root key existed ran on their
    /// master key's bytes: with those bytes as the root key (`custody::open_root_key`),
    /// it gives the same keys.
    pub fn from_root(root: &Key32) -> anyhow::Result<Self> {
        Ok(Self {
            pepper: derive(root.bytes(), "password-pepper")?,
            credential: derive(root.bytes(), "credential-hash")?,
            wrap: derive(root.bytes(), "kek-wrap")?,
        })
    }

    /// The keyed hash a credential is stored and looked up by (hex HMAC-SHA256).
    pub fn credential_hash(&self, text: &str) -> String {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(self.credential.bytes()) {
            Ok(m) => m,
            Err(_) => return String::new(),
        };
        mac.update(text.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

fn decode_key(text: &str) -> anyhow::Result<Key32> {
    let t = text.trim();
    let mut bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(t).context("master key is not valid hex")?
    } else {
        STANDARD
            .decode(t)
            .context("master key must be 32 bytes as base64 or 64 hex digits")?
    };
    if bytes.len() != 32 {
        bytes.zeroize();
        bail!("master key must be exactly 32 bytes");
    }
    let mut k = [0u8; 32];
    k.copy_from_slice(&bytes);
    bytes.zeroize();
    Ok(Key32(k))
}

/// The keyring service the server files master keys under, one entry per data dir.
pub const KEYRING_SERVICE: &str = "dev.keyhold.server";

fn random_key() -> Key32 {
    let mut raw = [0u8; 32];
    OsRng.fill_bytes(&mut raw);
    Key32(raw)
}

/// Why `--master-key-keyring` refuses a keyring, or `None` when the keyring keeps what it
/// is given across reboots. Only the Secret Service (GNOME Keyring, KWallet, KeePassXC)
/// does: the kernel keyutils store, the headless fallback, lives in kernel memory and is
/// empty after a reboot, which would lose the master key and with it every secret.
fn keyring_refusal(backend: keyhold_keystore::KeyringBackend) -> Option<String> {
    use keyhold_keystore::KeyringBackend;
    let what = match backend {
        KeyringBackend::SecretService => return None,
        KeyringBackend::KernelKeyutils => {
            "the only keyring here is the kernel keyutils store, which forgets everything at a reboot"
        }
        KeyringBackend::MemoryOnly => "no OS keyring is available on this machine",
    };
    Some(format!(
        "--master-key-keyring needs a keyring that survives a reboot (the Secret Service: \
         GNOME Keyring, KWallet or KeePassXC in a desktop session), but {what}, so the master \
         key and every secret would be lost. Set {MASTER_KEY_ENV} (32 bytes, base64 or 64 hex \
         digits) from your secret manager instead, or leave out --master-key-keyring to keep \
         the key in <data dir>/{KEY_FILE} (created with mode 0600; back it up)"
    ))
}

/// The master key kept in the OS keyring under this data dir, created there on first use.
/// Refused unless the keyring persists ([`keyring_refusal`]).
fn keyring_master_key(data_dir: &Path) -> anyhow::Result<(Key32, KeySource)> {
    let store = keyhold_keystore::TokenStore::init(KEYRING_SERVICE);
    if let Some(why) = keyring_refusal(store.backend()) {
        bail!(why);
    }
    let dir = std::fs::canonicalize(data_dir)
        .with_context(|| format!("resolving {}", data_dir.display()))?;
    let account = format!("master-key:{}", dir.display());
    if let Some(text) = store.load(&account)? {
        return Ok((decode_key(text.expose())?, KeySource::Keyring));
    }
    let key = random_key();
    let encoded = keyhold_core::Sensitive::new(STANDARD.encode(key.bytes()));
    store.save(&account, &encoded)?;
    // Read it back: a keyring that silently keeps nothing must not get a key we then lose.
    match store.load(&account)? {
        Some(back) if back.expose() == encoded.expose() => Ok((key, KeySource::NewKeyring)),
        _ => bail!("the OS keyring did not keep the new master key"),
    }
}

/// Load the master key: `KEYHOLD_MASTER_KEY`; else, when `from_keyring`, the OS keyring
/// (created there on first start); else `<data dir>/master.key`, created with mode 0600 on
/// first start. A key file others can read is refused rather than used.
pub fn load_master_key(data_dir: &Path, from_keyring: bool) -> anyhow::Result<(Key32, KeySource)> {
    if let Ok(mut v) = std::env::var(MASTER_KEY_ENV) {
        let k = decode_key(&v).context(MASTER_KEY_ENV);
        v.zeroize();
        return Ok((k?, KeySource::Environment));
    }
    if from_keyring {
        return keyring_master_key(data_dir);
    }
    let path = data_dir.join(KEY_FILE);
    if path.exists() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)?.permissions().mode();
            if mode & 0o077 != 0 {
                bail!(
                    "{} is readable by other users (mode {:o}); run chmod 600 on it",
                    path.display(),
                    mode & 0o777
                );
            }
        }
        let mut text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let k = decode_key(&text);
        text.zeroize();
        return Ok((k?, KeySource::ExistingFile));
    }
    Ok((create_key_file(&path)?, KeySource::NewFile))
}

/// A new random master key in a new file at `path` (mode 0600, base64, synced to disk
/// before this returns); an existing file is never overwritten.
pub fn create_key_file(path: &Path) -> anyhow::Result<Key32> {
    let key = random_key();
    let mut encoded = STANDARD.encode(key.bytes());
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))
        .and_then(|mut f| {
            f.write_all(encoded.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            Ok(())
        });
    encoded.zeroize();
    written?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (k1, s1) = load_master_key(dir.path(), false).unwrap();
        assert_eq!(s1, KeySource::NewFile);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (k2, s2) = load_master_key(dir.path(), false).unwrap();
        assert_eq!(s2, KeySource::ExistingFile);
        assert_eq!(k1.bytes(), k2.bytes());
    }

    #[test]
    fn readable_key_file_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        load_master_key(dir.path(), false).unwrap();
        let p = dir.path().join(KEY_FILE);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_master_key(dir.path(), false).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn derived_keys_differ_and_hash_is_keyed() {
        let a = Keys::from_root(&Key32([1; 32])).unwrap();
        let b = Keys::from_root(&Key32([2; 32])).unwrap();
        assert_ne!(a.pepper.bytes(), a.wrap.bytes());
        assert_ne!(a.credential_hash("x"), b.credential_hash("x"));
        assert_eq!(a.credential_hash("x"), a.credential_hash("x"));
        assert!(!format!("{a:?}").contains("1, 1"));
    }

    #[test]
    fn only_a_persistent_keyring_may_hold_the_master_key() {
        use keyhold_keystore::KeyringBackend;
        assert!(keyring_refusal(KeyringBackend::SecretService).is_none());
        for b in [KeyringBackend::KernelKeyutils, KeyringBackend::MemoryOnly] {
            let why = keyring_refusal(b).unwrap();
            assert!(why.contains(MASTER_KEY_ENV), "{why}");
            assert!(why.contains(KEY_FILE), "{why}");
        }
    }

    #[test]
    fn decode_accepts_hex_and_base64() {
        let hex = "00".repeat(32);
        assert_eq!(decode_key(&hex).unwrap().bytes(), &[0; 32]);
        let b64 = STANDARD.encode([7u8; 32]);
        assert_eq!(decode_key(&b64).unwrap().bytes(), &[7; 32]);
        assert!(decode_key("short").is_err());
    }
}
