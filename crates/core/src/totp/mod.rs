//! TOTP second factor (RFC 6238): HMAC-SHA1, 6 digits, 30-second steps, 160-bit secrets.
//!
//! These are the parameters every authenticator app supports; anything else trades
//! compatibility for nothing (HMAC-SHA1 is not weakened by SHA-1 collisions).
//!
//! The acceptance rule lives in [`verify`] so the server cannot get it subtly wrong in a
//! handler: exactly six ASCII digits, one step of clock drift either way, every candidate
//! compared in constant time with no early exit, and any step at or before the last one
//! accepted refused, so an observed code cannot be replayed, not even within its own step.
//! The caller stores the returned step and passes it back next time.
//!
//! Split by job: `secret` holds the shared key, `code` computes codes and holds the
//! acceptance rule, `uri` writes and reads the enrollment URI. Everything public is
//! re-exported here, so callers keep using `keyhold_core::totp::…`.

mod code;
mod secret;
#[cfg(test)]
mod test_support;
mod uri;

pub use code::{TotpError, code_at, code_for_step, step_of, verify};
pub use secret::{SecretError, TotpSecret, generate_secret};
pub use uri::{OtpauthError, OtpauthUri, otpauth_uri, parse_otpauth_uri};

pub const DIGITS: usize = 6;
pub const PERIOD_SECS: u64 = 30;
/// 160 bits, the size RFC 4226 recommends and the API promises.
pub const SECRET_BYTES: usize = 20;
/// Steps either side of the server's current step that are still accepted.
pub const DRIFT_STEPS: u64 = 1;
pub const ISSUER: &str = "Keyhold";
