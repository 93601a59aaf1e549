//! The one error type every command returns. It reads as a sentence, carries a stable
//! code the UI can branch on (the API contract's codes plus a few of the app's own), and
//! never carries a credential.

use serde::Serialize;
use specta::Type;

/// What went wrong, as the UI branches on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    // The API contract's codes (keyhold_core::ErrorCode).
    InvalidRequest,
    Unauthenticated,
    MfaRequired,
    ReauthRequired,
    Forbidden,
    ApprovalRequired,
    NotFound,
    Conflict,
    PayloadTooLarge,
    RateLimited,
    Unavailable,
    Internal,
    // The app's own.
    /// The server could not be reached.
    Offline,
    /// The server address was refused before any request (see `server_url`).
    InvalidServerUrl,
    /// The command needs a signed-in session and there is none (or it expired).
    SignedOut,
    /// The feature needs a client or server endpoint that does not exist yet.
    NotAvailable,
    /// The OS keyring failed.
    Keyring,
    /// A local file could not be written.
    Io,
    /// The app is locked after idle time: nothing but unlocking or signing out runs until
    /// the person proves it is them again (see `commands::lock`).
    Locked,
}

impl From<keyhold_core::ErrorCode> for ErrorKind {
    fn from(code: keyhold_core::ErrorCode) -> Self {
        use keyhold_core::ErrorCode as C;
        match code {
            C::InvalidRequest => Self::InvalidRequest,
            // A suspended agent key and a blocked address are answers to agents and
            // sign-ins; the app shows them as the kinds it already has.
            C::Unauthenticated | C::KeySuspended => Self::Unauthenticated,
            C::MfaRequired => Self::MfaRequired,
            C::ReauthRequired => Self::ReauthRequired,
            C::Forbidden | C::AddressBlocked => Self::Forbidden,
            C::ApprovalRequired => Self::ApprovalRequired,
            C::NotFound => Self::NotFound,
            C::Conflict => Self::Conflict,
            C::PayloadTooLarge => Self::PayloadTooLarge,
            C::RateLimited => Self::RateLimited,
            C::Unavailable => Self::Unavailable,
            C::Internal => Self::Internal,
        }
    }
}

/// A command's failure: `{kind, message, details}`. `message` is a full sentence for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Type, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    pub kind: ErrorKind,
    pub message: String,
    /// Extra lines worth showing under the message (password-policy reasons, zxcvbn's
    /// suggestions). Never a credential.
    pub details: Vec<String>,
    /// Set for `rate_limited`: seconds until a retry may succeed.
    pub retry_after_secs: Option<u32>,
    /// The request field a 422 is about (the server's `field`), so a form can mark that
    /// input `aria-invalid` and tie the message to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[specta(optional)]
    pub field: Option<String>,
}

impl CommandError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            details: Vec::new(),
            retry_after_secs: None,
            field: None,
        }
    }

    /// The error is about this request field.
    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    pub fn with_details(mut self, details: Vec<String>) -> Self {
        self.details = details;
        self
    }

    /// The feature needs something the client or server does not offer yet. Never
    /// pretend it worked. `action` is a verb phrase: "list agent keys".
    pub fn not_available(action: &str) -> Self {
        Self::new(
            ErrorKind::NotAvailable,
            format!("This version of Keyhold cannot {action} yet."),
        )
    }

    pub fn signed_out() -> Self {
        Self::new(
            ErrorKind::SignedOut,
            "Your session has ended. Sign in again to continue.",
        )
    }

    pub fn locked() -> Self {
        Self::new(
            ErrorKind::Locked,
            "Keyhold is locked. Unlock it with your password or an authenticator code.",
        )
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidRequest, message)
    }
}

pub type CommandResult<T> = Result<T, CommandError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_the_ui_expects() {
        let e = CommandError::new(ErrorKind::RateLimited, "Too many attempts. Wait a minute.");
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "kind": "rate_limited",
                "message": "Too many attempts. Wait a minute.",
                "details": [],
                "retry_after_secs": null
            })
        );
    }

    #[test]
    fn contract_codes_map_to_kinds() {
        assert_eq!(
            ErrorKind::from(keyhold_core::ErrorCode::MfaRequired),
            ErrorKind::MfaRequired
        );
    }

    #[test]
    fn not_available_says_so() {
        let e = CommandError::not_available("list agent keys");
        assert_eq!(e.kind, ErrorKind::NotAvailable);
        assert_eq!(
            e.message,
            "This version of Keyhold cannot list agent keys yet."
        );
    }
}
