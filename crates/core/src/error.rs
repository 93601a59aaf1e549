//! The contract's error body, shared so the client decodes exactly what the server sends.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every error code the API uses. `unavailable` (503) and `internal` (500) are not in
/// API.md's list; they name the two server-side failures a client must still tell apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    Unauthenticated,
    MfaRequired,
    ReauthRequired,
    Forbidden,
    ApprovalRequired,
    /// The agent key (or the key behind a token) is suspended by a detection rule.
    KeySuspended,
    /// The client's address is blocked by a detection rule.
    AddressBlocked,
    NotFound,
    Conflict,
    PayloadTooLarge,
    RateLimited,
    Unavailable,
    Internal,
}

impl ErrorCode {
    /// The status the server answers with. `invalid_request` is 422 for a well-formed body
    /// that breaks a rule and 400 for one that cannot be read; the server picks per case.
    pub fn default_status(self) -> u16 {
        match self {
            Self::InvalidRequest => 422,
            Self::Unauthenticated
            | Self::MfaRequired
            | Self::ReauthRequired
            | Self::KeySuspended => 401,
            Self::Forbidden | Self::ApprovalRequired | Self::AddressBlocked => 403,
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::PayloadTooLarge => 413,
            Self::RateLimited => 429,
            Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::Unauthenticated => "unauthenticated",
            Self::MfaRequired => "mfa_required",
            Self::ReauthRequired => "reauth_required",
            Self::Forbidden => "forbidden",
            Self::ApprovalRequired => "approval_required",
            Self::KeySuspended => "key_suspended",
            Self::AddressBlocked => "address_blocked",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `{"error": {...}}`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// `{"code": "...", "message": "...", ...extra}`. Extra fields (an `mfa_ticket`, the
/// password policy's `reasons`, an `approval_id`) sit beside the code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message: message.into(),
                extra: serde_json::Map::new(),
            },
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.error.extra.insert(key.to_owned(), value.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_shape_matches_the_contract() {
        let b = ErrorBody::new(ErrorCode::MfaRequired, "Enter your code.").with("mfa_ticket", "t");
        let v = serde_json::to_value(&b).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"error": {"code": "mfa_required", "message": "Enter your code.", "mfa_ticket": "t"}})
        );
        let back: ErrorBody = serde_json::from_value(v).unwrap();
        assert_eq!(back, b);
    }

    #[test]
    fn as_str_agrees_with_serde() {
        for c in [
            ErrorCode::InvalidRequest,
            ErrorCode::Unauthenticated,
            ErrorCode::MfaRequired,
            ErrorCode::ReauthRequired,
            ErrorCode::Forbidden,
            ErrorCode::ApprovalRequired,
            ErrorCode::KeySuspended,
            ErrorCode::AddressBlocked,
            ErrorCode::NotFound,
            ErrorCode::Conflict,
            ErrorCode::PayloadTooLarge,
            ErrorCode::RateLimited,
            ErrorCode::Unavailable,
            ErrorCode::Internal,
        ] {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
    }
}
