//! `/v1/me/mfa*`: TOTP enrollment, backup codes, turning 2FA off.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use keyhold_core::api::{
    BackupCodesResponse, MfaCodeRequest, MfaStatus, TotpCodeRequest, TotpEnrollment,
};
use keyhold_vault::mfa;

use crate::error::ApiResult;
use crate::http::extract::{ApiJson, Client};
use crate::http::guards::{Person, Sudo};
use crate::http::no_store;
use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v1/me/mfa", get(status))
        .route("/v1/me/mfa/totp", post(start_totp).delete(disable_totp))
        .route("/v1/me/mfa/totp/confirm", post(confirm_totp))
        .route("/v1/me/mfa/backup-codes", post(regenerate_backup_codes))
}

/// Enrolling an authenticator needs the sudo window: otherwise an old or stolen session
/// could enrol its own and then pass every sudo check with it (issue 15).
#[utoipa::path(post, path = "/v1/me/mfa/totp", tag = "security", security(("session" = [])),
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

#[utoipa::path(post, path = "/v1/me/mfa/totp/confirm", tag = "security", security(("session" = [])), request_body = TotpCodeRequest,
    responses((status = 200, body = BackupCodesResponse), (status = 401, body = keyhold_core::ErrorBody),
              (status = 403, body = keyhold_core::ErrorBody),
              (status = 409, body = keyhold_core::ErrorBody), (status = 422, body = keyhold_core::ErrorBody),
              (status = 429, body = keyhold_core::ErrorBody)))]
pub async fn confirm_totp(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    ApiJson(req): ApiJson<TotpCodeRequest>,
) -> ApiResult<Response> {
    let codes = mfa::confirm_enrollment(&st, &s, req.code.expose(), &c).await?;
    Ok(no_store(Json(codes)))
}

#[utoipa::path(get, path = "/v1/me/mfa", tag = "security", security(("session" = [])), responses((status = 200, body = MfaStatus)))]
pub async fn status(State(st): State<SharedState>, s: Person) -> ApiResult<Json<MfaStatus>> {
    Ok(Json(mfa::status(&st, &s).await?))
}

#[utoipa::path(post, path = "/v1/me/mfa/backup-codes", tag = "security", security(("session" = [])), request_body = TotpCodeRequest,
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

#[utoipa::path(delete, path = "/v1/me/mfa/totp", tag = "security", security(("session" = [])), request_body = MfaCodeRequest,
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
