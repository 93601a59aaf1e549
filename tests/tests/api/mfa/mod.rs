//! Two-factor authentication against the real server: enrollment by QR, codes made by
//! `oathtool`, the replay guard, backup codes, the MFA sign-in step, lockout and the sudo
//! window.
//!
//! `oathtool` (Debian package oathtool) and `zbarimg` (Debian zbar-tools) run as real
//! processes, so the server is checked against independent implementations of RFC 6238
//! and of QR decoding, not against its own code.
//!
//! One file per topic: `enrol` (QR, the stored and sent secrets, the OpenAPI entries),
//! `login` (the ticket and code step), `replay` (spent and racing codes), `backup_codes`,
//! `lockout`, `sudo` (the recent-sign-in window) and `bad_input`; `helpers` holds what they
//! share, and the helpers other test files use are re-exported here.

mod backup_codes;
mod bad_input;
mod enrol;
mod helpers;
mod lockout;
mod login;
mod replay;
mod sudo;

pub use helpers::{code_now, enable_2fa, next_code, oathtool};
