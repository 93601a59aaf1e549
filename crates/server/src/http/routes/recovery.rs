//! Account recovery (docs/two-factor.md, "Recovery"): a password reset by mailed link, and
//! an owner or admin turning a member's 2FA off when they lost their authenticator and
//! backup codes. The page the reset link opens is `reset_page`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use keyhold_core::api::{PasswordResetConfirm, PasswordResetRequest, ResetMemberMfaRequest};
use keyhold_vault::recovery;

use crate::error::ApiResult;
use crate::http::extract::{ApiJson, Client};
use crate::http::guards::Sudo;
use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v1/auth/password-reset", post(request_reset))
        .route("/v1/auth/password-reset/confirm", post(confirm_reset))
        .route("/v1/members/{id}/mfa/reset", post(reset_member_mfa))
}

/// Always 202 for a well-formed address, at once: whether it has an account is never told.
#[utoipa::path(post, path = "/v1/auth/password-reset", tag = "accounts", request_body = PasswordResetRequest,
    responses((status = 202), (status = 422, body = keyhold_core::ErrorBody),
              (status = 429, body = keyhold_core::ErrorBody)))]
pub async fn request_reset(
    State(st): State<SharedState>,
    Client(c): Client,
    ApiJson(req): ApiJson<PasswordResetRequest>,
) -> ApiResult<StatusCode> {
    recovery::request_password_reset(&st.vault, &req, &c).await?;
    Ok(StatusCode::ACCEPTED)
}

#[utoipa::path(post, path = "/v1/auth/password-reset/confirm", tag = "accounts",
    request_body = PasswordResetConfirm,
    responses((status = 204), (status = 400, body = keyhold_core::ErrorBody),
              (status = 401, body = keyhold_core::ErrorBody), (status = 422, body = keyhold_core::ErrorBody),
              (status = 429, body = keyhold_core::ErrorBody)))]
pub async fn confirm_reset(
    State(st): State<SharedState>,
    Client(c): Client,
    ApiJson(req): ApiJson<PasswordResetConfirm>,
) -> ApiResult<StatusCode> {
    recovery::confirm_password_reset(&st, &req, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/members/{id}/mfa/reset", tag = "members", security(("session" = [])), params(("id" = String, Path)),
    request_body = ResetMemberMfaRequest,
    responses((status = 204), (status = 401, body = keyhold_core::ErrorBody),
              (status = 403, body = keyhold_core::ErrorBody), (status = 404, body = keyhold_core::ErrorBody),
              (status = 409, body = keyhold_core::ErrorBody), (status = 422, body = keyhold_core::ErrorBody),
              (status = 429, body = keyhold_core::ErrorBody)))]
pub async fn reset_member_mfa(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ResetMemberMfaRequest>,
) -> ApiResult<StatusCode> {
    recovery::reset_member_mfa(&st, &s, &id, req.code.expose(), &c).await?;
    Ok(StatusCode::NO_CONTENT)
}
