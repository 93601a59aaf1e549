//! Keyhold's domain: the rules every part of Keyhold agrees on, with no I/O.
//!
//! The server enforces these rules, the client and the desktop app use them to give early
//! feedback, and the API wire types live here so that all of them speak one contract.
//! Functions that depend on time take `now` as a parameter so tests can freeze the clock.

pub mod api;
pub mod backup_codes;
pub mod credential;
pub mod duration;
pub mod email;
pub mod error;
pub mod httpsig;
pub mod password;
pub mod path;
pub mod qr;
pub mod scope;
pub mod score;
pub mod sensitive;
pub mod tier;
pub mod totp;

pub use error::{ErrorBody, ErrorCode, ErrorDetail};
pub use sensitive::Sensitive;
