//! `/v1/me/mfa*`, `/v1/auth/login/mfa`, `/v1/auth/reauth` and `/v1/me/security`: two-factor
//! authentication, the sudo window and the security score.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use keyhold_core::api::{
    BackupCodesResponse, LoginMfaRequest, MfaCodeRequest, MfaStatus, ReauthRequest,
    SessionResponse, TotpEnrollment,
};
use keyhold_core::score::SecurityScore;

use super::extract::{ApiJson, Client};
use super::guards::{Person, Sudo};
use super::no_store;
use crate::error::ApiResult;
use crate::state::SharedState;
use keyhold_vault::{login, mfa, security};

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v1/me/mfa", get(status))
        .route("/v1/me/mfa/totp", post(start_totp).delete(disable_totp))
        .route("/v1/me/mfa/totp/confirm", post(confirm_totp))
        .route("/v1/me/mfa/backup-codes", post(regenerate_backup_codes))
        .route("/v1/auth/login/mfa", post(login_mfa))
        .route("/v1/auth/reauth", post(reauth))
        .route("/v1/me/security", get(security))
}

/// Enrolling an authenticator needs the sudo window: otherwise an old or stolen session
/// could enrol its own and then pass every sudo check with it (issue 15).
#[utoipa::path(post, path = "/v1/me/mfa/totp", tag = "security",
    responses((status = 201, body = TotpEnrollment), (status = 401, body = keyhold_core::ErrorBody),
              (status = 409, body = keyhold_core::ErrorBody)))]
pub async fn start_totp(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
) -> ApiResult<Response> {
    let enrollment = mfa::start_enrollment(&st, &s, &c).await?;
    Ok(no_store((StatusCode::CREATED, Json(enrollment))))
}

#[utoipa::path(post, path = "/v1/me/mfa/totp/confirm", tag = "security", request_body = MfaCodeRequest,
    responses((status = 200, body = BackupCodesResponse), (status = 401, body = keyhold_core::ErrorBody),
              (status = 403, body = keyhold_core::ErrorBody),
              (status = 409, body = keyhold_core::ErrorBody), (status = 422, body = keyhold_core::ErrorBody),
              (status = 429, body = keyhold_core::ErrorBody)))]
pub async fn confirm_totp(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    ApiJson(req): ApiJson<MfaCodeRequest>,
) -> ApiResult<Response> {
    let codes = mfa::confirm_enrollment(&st, &s, req.code.expose(), &c).await?;
    Ok(no_store(Json(codes)))
}

#[utoipa::path(get, path = "/v1/me/mfa", tag = "security", responses((status = 200, body = MfaStatus)))]
pub async fn status(State(st): State<SharedState>, s: Person) -> ApiResult<Json<MfaStatus>> {
    Ok(Json(mfa::status(&st, &s).await?))
}

#[utoipa::path(post, path = "/v1/me/mfa/backup-codes", tag = "security", request_body = MfaCodeRequest,
    responses((status = 200, body = BackupCodesResponse), (status = 401, body = keyhold_core::ErrorBody),
              (status = 403, body = keyhold_core::ErrorBody), (status = 409, body = keyhold_core::ErrorBody),
              (status = 422, body = keyhold_core::ErrorBody), (status = 429, body = keyhold_core::ErrorBody)))]
pub async fn regenerate_backup_codes(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    ApiJson(req): ApiJson<MfaCodeRequest>,
) -> ApiResult<Response> {
    let codes = mfa::regenerate_backup_codes(&st, &s, req.code.expose(), &c).await?;
    Ok(no_store(Json(codes)))
}

#[utoipa::path(delete, path = "/v1/me/mfa/totp", tag = "security", request_body = MfaCodeRequest,
    responses((status = 204), (status = 401, body = keyhold_core::ErrorBody),
              (status = 403, body = keyhold_core::ErrorBody), (status = 409, body = keyhold_core::ErrorBody),
              (status = 422, body = keyhold_core::ErrorBody), (status = 429, body = keyhold_core::ErrorBody)))]
pub async fn disable_totp(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    ApiJson(req): ApiJson<MfaCodeRequest>,
) -> ApiResult<StatusCode> {
    mfa::disable(&st, &s, req.code.expose(), &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/auth/login/mfa", tag = "accounts", request_body = LoginMfaRequest,
    responses((status = 200, body = SessionResponse), (status = 401, body = keyhold_core::ErrorBody),
              (status = 422, body = keyhold_core::ErrorBody), (status = 429, body = keyhold_core::ErrorBody)))]
pub async fn login_mfa(
    State(st): State<SharedState>,
    Client(c): Client,
    ApiJson(req): ApiJson<LoginMfaRequest>,
) -> ApiResult<impl IntoResponse> {
    Ok(no_store(Json(login::login_mfa(&st, &req, &c).await?)))
}

#[utoipa::path(post, path = "/v1/auth/reauth", tag = "accounts", request_body = ReauthRequest,
    responses((status = 204), (status = 403, body = keyhold_core::ErrorBody),
              (status = 422, body = keyhold_core::ErrorBody), (status = 429, body = keyhold_core::ErrorBody)))]
pub async fn reauth(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Person,
    ApiJson(req): ApiJson<ReauthRequest>,
) -> ApiResult<StatusCode> {
    login::reauth(&st, &s, req.code.expose(), &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/me/security", tag = "security",
    responses((status = 200, body = SecurityScore)))]
pub async fn security(State(st): State<SharedState>, s: Person) -> ApiResult<Json<SecurityScore>> {
    Ok(Json(security::score(&st, &s).await?))
}
