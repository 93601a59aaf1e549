//! The vault's one error type. It names what went wrong in the contract's terms (not
//! found, conflict, approval required…) and knows nothing of HTTP: the server maps it to a
//! status and body in one place (`keyhold_server::error`).
//!
//! Internal causes (SQLite, I/O, crypto) ride in `Internal` for the server to log; they
//! are never shown to the client.

use keyhold_core::Sensitive;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The body could not be read as the endpoint's JSON (400).
    #[error("{0}")]
    BadRequest(String),
    /// The body was read but breaks a rule (422), with extra fields for the client.
    #[error("{message}")]
    Invalid {
        message: String,
        extra: serde_json::Map<String, serde_json::Value>,
    },
    #[error("wrong content type")]
    UnsupportedMediaType,
    /// A mailed link's token (password reset) that is unknown, used or expired (400, with
    /// `field: token`): the link itself is bad, not the rest of the request.
    #[error("invalid link")]
    InvalidLink(&'static str),
    #[error("authentication required")]
    Unauthenticated(&'static str),
    /// A request signed with an Ed25519 agent key was refused (401 `unauthenticated` with
    /// `reason`: malformed, digest, stale, future, bad_signature, retired, replayed).
    #[error("signature refused")]
    SignatureRefused {
        reason: &'static str,
        message: &'static str,
    },
    /// The ticket is a credential: `Sensitive`, so `Debug` never shows it.
    #[error("second factor required")]
    MfaRequired { ticket: Sensitive<String> },
    /// A request that proves the account by itself (a password reset) needs a TOTP or
    /// backup code too, because the account has 2FA on (401 `mfa_required`, no ticket).
    #[error("second factor required")]
    CodeRequired(&'static str),
    #[error("recent re-authentication required")]
    ReauthRequired,
    #[error("forbidden")]
    Forbidden(&'static str),
    /// The agent key, or the key behind a token, is suspended by a detection rule (401
    /// `key_suspended`) until an owner or admin reinstates or revokes it.
    #[error("key suspended")]
    KeySuspended,
    /// The client's address is blocked for this tenant by a detection rule (403
    /// `address_blocked`).
    #[error("address blocked")]
    AddressBlocked,
    /// An agent's read needs a human approval first (403 `approval_required`).
    #[error("approval required")]
    ApprovalRequired {
        approval_id: String,
        required_approvals: u32,
        /// People who could approve it at all: fewer than required means the team must
        /// grow first, which the caller is told rather than left waiting.
        eligible_approvers: u32,
        operation: &'static str,
        status: &'static str,
        available_at: Option<chrono::DateTime<chrono::Utc>>,
    },
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("request timed out")]
    Timeout,
    #[error("service unavailable")]
    Unavailable,
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid {
            message: message.into(),
            extra: serde_json::Map::new(),
        }
    }

    /// A 422 about one field of the request, named in `extra.field` for the client.
    pub fn invalid_field(message: impl Into<String>, field: &str) -> Self {
        let mut extra = serde_json::Map::new();
        extra.insert("field".into(), field.into());
        Self::Invalid {
            message: message.into(),
            extra,
        }
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Self::Internal(e.into())
    }
}

impl From<crate::store::StoreError> for Error {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError as S;
        match e {
            S::NotFound => Self::NotFound,
            S::Conflict(c) => Self::Conflict(c.message()),
            S::Busy | S::Unavailable => Self::Unavailable,
            S::Other(e) => Self::Internal(e),
        }
    }
}
