//! The session token's home outside the process: the OS keyring, shared with the CLI
//! through keyhold-keystore. The desktop app files its sessions under its own service name.

pub use keyhold_keystore::{KeyringBackend, TokenStore};

/// The keyring "service" the desktop app's entries are filed under; the "user" is the
/// server origin.
pub const SERVICE: &str = "dev.keyhold.desktop";
