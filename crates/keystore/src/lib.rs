//! keyhold-keystore: a session token's home outside the process, the OS keyring.
//!
//! With a desktop session the Secret Service (GNOME Keyring, KWallet) holds it; on a
//! headless Linux (CI, Xvfb) the kernel keyutils store does, after the process joins a
//! session keyring (without one, linking into the persistent keyring fails with
//! AccessDenied). When neither works the token stays in memory only and the UI says that
//! it will not survive a restart. `KEYHOLD_KEYRING=secret-service|keyutils|none` forces a
//! choice (tests use it).

use keyhold_core::Sensitive;
use keyring_core::Entry;

/// Which store holds the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum KeyringBackend {
    SecretService,
    KernelKeyutils,
    /// No usable keyring: the token lives in memory until the app quits.
    MemoryOnly,
}

#[derive(Debug, thiserror::Error)]
#[error("The system keyring failed: {0}")]
pub struct KeystoreError(String);

impl From<keyring_core::Error> for KeystoreError {
    fn from(e: keyring_core::Error) -> Self {
        // keyring_core's Display never includes the secret itself.
        Self(e.to_string())
    }
}

/// Stores session tokens, one per server origin, under one keyring "service" name
/// (`dev.keyhold.desktop`, `dev.keyhold.cli`) so each program keeps its own session.
#[derive(Debug)]
pub struct TokenStore {
    service: &'static str,
    backend: KeyringBackend,
}

impl TokenStore {
    /// Pick and install the best store for this machine (or the one `KEYHOLD_KEYRING`
    /// names). Call once, at startup.
    pub fn init(service: &'static str) -> Self {
        Self::init_with(service, std::env::var("KEYHOLD_KEYRING").ok().as_deref())
    }

    /// Like [`TokenStore::init`], with the choice given: `Some("secret-service")`,
    /// `Some("keyutils")`, `Some("none")`, or `None` to pick the best available.
    pub fn init_with(service: &'static str, forced: Option<&str>) -> Self {
        let backend = match forced {
            Some("none") => KeyringBackend::MemoryOnly,
            Some("keyutils") => init_keyutils().unwrap_or(KeyringBackend::MemoryOnly),
            Some("secret-service") => init_secret_service().unwrap_or(KeyringBackend::MemoryOnly),
            _ => {
                let desktop = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some();
                let preferred = if desktop { init_secret_service() } else { None };
                preferred
                    .or_else(init_keyutils)
                    .unwrap_or(KeyringBackend::MemoryOnly)
            }
        };
        Self { service, backend }
    }

    /// A store that keeps nothing (for tests of the commands).
    pub fn memory_only(service: &'static str) -> Self {
        Self {
            service,
            backend: KeyringBackend::MemoryOnly,
        }
    }

    pub fn backend(&self) -> KeyringBackend {
        self.backend
    }

    fn entry(&self, account: &str) -> Result<Option<Entry>, KeystoreError> {
        if self.backend == KeyringBackend::MemoryOnly {
            return Ok(None);
        }
        Ok(Some(Entry::new(self.service, account)?))
    }

    pub fn save(&self, account: &str, token: &Sensitive<String>) -> Result<(), KeystoreError> {
        if let Some(entry) = self.entry(account)? {
            entry.set_password(token.expose())?;
        }
        Ok(())
    }

    pub fn load(&self, account: &str) -> Result<Option<Sensitive<String>>, KeystoreError> {
        let Some(entry) = self.entry(account)? else {
            return Ok(None);
        };
        match entry.get_password() {
            Ok(token) => Ok(Some(Sensitive::new(token))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub fn delete(&self, account: &str) -> Result<(), KeystoreError> {
        let Some(entry) = self.entry(account)? else {
            return Ok(());
        };
        match entry.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(target_os = "linux")]
fn init_secret_service() -> Option<KeyringBackend> {
    let store = zbus_secret_service_keyring_store::Store::new().ok()?;
    keyring_core::set_default_store(store);
    Some(KeyringBackend::SecretService)
}

#[cfg(target_os = "linux")]
fn init_keyutils() -> Option<KeyringBackend> {
    use linux_keyutils::{KeyRing, KeyRingIdentifier};
    // Join (or create) a session keyring first; the store links into it.
    KeyRing::from_special_id(KeyRingIdentifier::Session, true).ok()?;
    let store = linux_keyutils_keyring_store::Store::new().ok()?;
    keyring_core::set_default_store(store);
    Some(KeyringBackend::KernelKeyutils)
}

#[cfg(not(target_os = "linux"))]
fn init_secret_service() -> Option<KeyringBackend> {
    None
}

#[cfg(not(target_os = "linux"))]
fn init_keyutils() -> Option<KeyringBackend> {
    None
}
