//! The one mapping of the vault's error to the contract's status and error body.
//!
//! Internal causes (SQLite, I/O, crypto) are logged inside the request's span and never
//! sent to the client: a 500 says only that something went wrong.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use keyhold_core::{ErrorBody, ErrorCode};
use keyhold_vault::Error;

/// The vault's error on its way out as a response. A newtype because the vault's enum
/// belongs to another crate, and `IntoResponse` to axum.
#[derive(Debug)]
pub struct ApiError(pub Error);

pub type ApiResult<T> = Result<T, ApiError>;

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl From<keyhold_vault::store::StoreError> for ApiError {
    fn from(e: keyhold_vault::store::StoreError) -> Self {
        Self(e.into())
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        Self(Error::Internal(e))
    }
}

impl ApiError {
    fn parts(&self) -> (StatusCode, ErrorBody) {
        (status(&self.0), body(&self.0))
    }
}

fn status(e: &Error) -> StatusCode {
    match e {
        Error::BadRequest(_) | Error::InvalidLink(_) => StatusCode::BAD_REQUEST,
        Error::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        Error::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Error::Unauthenticated(_)
        | Error::SignatureRefused { .. }
        | Error::MfaRequired { .. }
        | Error::CodeRequired(_)
        | Error::ReauthRequired
        | Error::KeySuspended => StatusCode::UNAUTHORIZED,
        Error::Forbidden(_) | Error::ApprovalRequired { .. } | Error::AddressBlocked => {
            StatusCode::FORBIDDEN
        }
        Error::NotFound => StatusCode::NOT_FOUND,
        Error::Conflict(_) => StatusCode::CONFLICT,
        Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Timeout | Error::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn body(e: &Error) -> ErrorBody {
    use ErrorCode as C;
    match e {
        Error::BadRequest(m) => ErrorBody::new(C::InvalidRequest, m),
        Error::Invalid { message, extra } => {
            let mut b = ErrorBody::new(C::InvalidRequest, message);
            b.error.extra = extra.clone();
            b
        }
        Error::InvalidLink(m) => ErrorBody::new(C::InvalidRequest, *m)
            .with("field", "token")
            .with("reason", "invalid_token"),
        Error::CodeRequired(m) => ErrorBody::new(C::MfaRequired, *m).with("field", "code"),
        Error::UnsupportedMediaType => ErrorBody::new(
            C::InvalidRequest,
            "Send the body as JSON with Content-Type: application/json.",
        ),
        Error::Unauthenticated(m) => ErrorBody::new(C::Unauthenticated, *m),
        Error::SignatureRefused { reason, message } => {
            ErrorBody::new(C::Unauthenticated, *message).with("reason", *reason)
        }
        Error::MfaRequired { ticket } => ErrorBody::new(
            C::MfaRequired,
            "Enter the code from your authenticator app.",
        )
        .with("mfa_ticket", ticket.expose().as_str()),
        Error::ReauthRequired => ErrorBody::new(
            C::ReauthRequired,
            "Confirm it is you again before doing this.",
        ),
        Error::Forbidden(m) => ErrorBody::new(C::Forbidden, *m),
        Error::KeySuspended => ErrorBody::new(
            C::KeySuspended,
            "This agent key is suspended by a detection rule. Ask its owner or an admin to \
             reinstate it.",
        ),
        Error::AddressBlocked => ErrorBody::new(
            C::AddressBlocked,
            "Requests from your address are blocked for now by a detection rule.",
        ),
        Error::ApprovalRequired { .. } => approval_required(e),
        Error::NotFound => ErrorBody::new(C::NotFound, "Not found."),
        Error::Conflict(m) => ErrorBody::new(C::Conflict, *m),
        Error::PayloadTooLarge => {
            ErrorBody::new(C::PayloadTooLarge, "The request body is too large.")
        }
        Error::RateLimited { retry_after_secs } => ErrorBody::new(
            C::RateLimited,
            "Too many attempts. Wait a moment and try again.",
        )
        .with("retry_after", *retry_after_secs),
        Error::Timeout => ErrorBody::new(C::Unavailable, "The request took too long. Try again."),
        Error::Unavailable => ErrorBody::new(
            C::Unavailable,
            "The vault is temporarily unavailable. Try again.",
        ),
        Error::Internal(_) => ErrorBody::new(C::Internal, "Something went wrong on the server."),
    }
}

/// The `approval_required` body: which request to wait for, how many votes it needs and
/// can get, and when a critical one's delay ends.
fn approval_required(e: &Error) -> ErrorBody {
    let Error::ApprovalRequired {
        approval_id,
        required_approvals,
        eligible_approvers,
        operation,
        status,
        available_at,
    } = e
    else {
        return ErrorBody::new(ErrorCode::Internal, "Something went wrong on the server.");
    };
    let message = if *operation == "read" {
        "Reading this secret needs a human approval. Wait for the request to be approved, then read again."
    } else {
        "This change to a protected secret needs a human approval. Wait for the request to be approved, then try again."
    };
    let mut b = ErrorBody::new(ErrorCode::ApprovalRequired, message)
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
    b
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Error::Internal(e) = &self.0 {
            // The cause stays in the server log, inside the request's span.
            tracing::error!(error = %format!("{e:#}"), "internal error");
        }
        let (status, body) = self.parts();
        let mut resp = (status, axum::Json(body)).into_response();
        if let Error::RateLimited { retry_after_secs } = self.0
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if matches!(self.0, Error::MfaRequired { .. }) {
            // The body carries a credential (the MFA ticket).
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        resp
    }
}
