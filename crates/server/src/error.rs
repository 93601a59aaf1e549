//! The server's one error type and its single mapping to the contract's error body.
//!
//! Internal causes (SQLite, I/O, crypto) are logged inside the request's span and never
//! sent to the client: a 500 says only that something went wrong.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use keyhold_core::{ErrorBody, ErrorCode, Sensitive};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
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
    #[error("authentication required")]
    Unauthenticated(&'static str),
    /// The ticket is a credential: `Sensitive`, so `Debug` never shows it.
    #[error("second factor required")]
    MfaRequired { ticket: Sensitive<String> },
    #[error("recent re-authentication required")]
    ReauthRequired,
    #[error("forbidden")]
    Forbidden(&'static str),
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

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid {
            message: message.into(),
            extra: serde_json::Map::new(),
        }
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Self::Internal(e.into())
    }

    fn parts(&self) -> (StatusCode, ErrorBody) {
        use ErrorCode as C;
        match self {
            Self::BadRequest(m) => (
                StatusCode::BAD_REQUEST,
                ErrorBody::new(C::InvalidRequest, m),
            ),
            Self::Invalid { message, extra } => {
                let mut b = ErrorBody::new(C::InvalidRequest, message);
                b.error.extra = extra.clone();
                (StatusCode::UNPROCESSABLE_ENTITY, b)
            }
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorBody::new(
                    C::InvalidRequest,
                    "Send the body as JSON with Content-Type: application/json.",
                ),
            ),
            Self::Unauthenticated(m) => (
                StatusCode::UNAUTHORIZED,
                ErrorBody::new(C::Unauthenticated, *m),
            ),
            Self::MfaRequired { ticket } => (
                StatusCode::UNAUTHORIZED,
                ErrorBody::new(
                    C::MfaRequired,
                    "Enter the code from your authenticator app.",
                )
                .with("mfa_ticket", ticket.expose().as_str()),
            ),
            Self::ReauthRequired => (
                StatusCode::UNAUTHORIZED,
                ErrorBody::new(
                    C::ReauthRequired,
                    "Confirm it is you again before doing this.",
                ),
            ),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, ErrorBody::new(C::Forbidden, *m)),
            Self::ApprovalRequired {
                approval_id,
                required_approvals,
                eligible_approvers,
                operation,
                status,
                available_at,
            } => {
                let message = if *operation == "read" {
                    "Reading this secret needs a human approval. Wait for the request to be approved, then read again."
                } else {
                    "This change to a protected secret needs a human approval. Wait for the request to be approved, then try again."
                };
                let mut b = ErrorBody::new(C::ApprovalRequired, message)
                    .with("approval_id", approval_id.as_str())
                    .with("required_approvals", *required_approvals)
                    .with("eligible_approvers", *eligible_approvers)
                    .with("operation", *operation)
                    .with("status", *status);
                if let Some(at) = available_at {
                    b = b.with(
                        "available_at",
                        at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                    );
                }
                (StatusCode::FORBIDDEN, b)
            }
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                ErrorBody::new(C::NotFound, "Not found."),
            ),
            Self::Conflict(m) => (StatusCode::CONFLICT, ErrorBody::new(C::Conflict, *m)),
            Self::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorBody::new(C::PayloadTooLarge, "The request body is too large."),
            ),
            Self::RateLimited { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                ErrorBody::new(
                    C::RateLimited,
                    "Too many attempts. Wait a moment and try again.",
                )
                .with("retry_after", *retry_after_secs),
            ),
            Self::Timeout => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorBody::new(C::Unavailable, "The request took too long. Try again."),
            ),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorBody::new(
                    C::Unavailable,
                    "The vault is temporarily unavailable. Try again.",
                ),
            ),
            Self::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorBody::new(C::Internal, "Something went wrong on the server."),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(e) = &self {
            // The cause stays in the server log, inside the request's span.
            tracing::error!(error = %format!("{e:#}"), "internal error");
        }
        let (status, body) = self.parts();
        let mut resp = (status, axum::Json(body)).into_response();
        if let Self::RateLimited { retry_after_secs } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if matches!(self, Self::MfaRequired { .. }) {
            // The body carries a credential (the MFA ticket).
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        resp
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError as S;
        match e {
            S::NotFound => Self::NotFound,
            S::Conflict(m) => Self::Conflict(m),
            S::Busy | S::Unavailable => Self::Unavailable,
            S::Other(e) => Self::Internal(e),
        }
    }
}
