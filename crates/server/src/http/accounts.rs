//! `/v1/auth/*` and `/v1/me*` (accounts, sessions, email verification).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use keyhold_core::api::{
    ChangePasswordRequest, LoginRequest, MeResponse, SessionResponse, SignupRequest,
    SignupResponse, VerifyEmailRequest,
};

use super::extract::{ApiJson, Client};
use super::guards::Person;
use super::no_store;
use crate::error::ApiResult;
use crate::state::SharedState;
use keyhold_vault::{accounts, login};

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v1/auth/signup", post(signup))
        .route("/v1/auth/login", post(login))
        .route("/v1/auth/logout", post(logout))
        .route("/v1/auth/verify-email", post(verify_email))
        .route("/v1/me", get(me))
        .route("/v1/me/password", put(change_password))
        .route("/v1/me/email/verification", post(request_verification))
}

#[utoipa::path(post, path = "/v1/auth/signup", tag = "accounts", request_body = SignupRequest,
    responses((status = 201, body = SignupResponse), (status = 422, body = keyhold_core::ErrorBody),
              (status = 409, body = keyhold_core::ErrorBody)))]
pub async fn signup(
    State(st): State<SharedState>,
    Client(c): Client,
    ApiJson(req): ApiJson<SignupRequest>,
) -> ApiResult<(StatusCode, Json<SignupResponse>)> {
    Ok((
        StatusCode::CREATED,
        Json(accounts::signup(&st.vault, req, &c).await?),
    ))
}

#[utoipa::path(post, path = "/v1/auth/login", tag = "accounts", request_body = LoginRequest,
    responses((status = 200, body = SessionResponse), (status = 401, body = keyhold_core::ErrorBody),
              (status = 429, body = keyhold_core::ErrorBody)))]
pub async fn login(
    State(st): State<SharedState>,
    Client(c): Client,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<impl IntoResponse> {
    Ok(no_store(Json(login::login(&st, req, &c).await?)))
}

#[utoipa::path(post, path = "/v1/auth/logout", tag = "accounts", responses((status = 204)))]
pub async fn logout(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Person,
) -> ApiResult<StatusCode> {
    accounts::logout(&st, &s, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/me", tag = "accounts", responses((status = 200, body = MeResponse)))]
pub async fn me(State(st): State<SharedState>, s: Person) -> ApiResult<Json<MeResponse>> {
    Ok(Json(accounts::me(&st, &s).await?))
}

#[utoipa::path(put, path = "/v1/me/password", tag = "accounts", request_body = ChangePasswordRequest,
    responses((status = 204), (status = 403, body = keyhold_core::ErrorBody), (status = 422, body = keyhold_core::ErrorBody)))]
pub async fn change_password(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Person,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    accounts::change_password(&st, &s, req, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/me/email/verification", tag = "security",
    responses((status = 202), (status = 409, body = keyhold_core::ErrorBody)))]
pub async fn request_verification(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Person,
) -> ApiResult<StatusCode> {
    accounts::request_email_verification(&st, &s, &c).await?;
    Ok(StatusCode::ACCEPTED)
}

#[utoipa::path(post, path = "/v1/auth/verify-email", tag = "security", request_body = VerifyEmailRequest,
    responses((status = 204), (status = 422, body = keyhold_core::ErrorBody)))]
pub async fn verify_email(
    State(st): State<SharedState>,
    Client(c): Client,
    ApiJson(req): ApiJson<VerifyEmailRequest>,
) -> ApiResult<StatusCode> {
    accounts::verify_email(&st, req.token.expose(), &c).await?;
    Ok(StatusCode::NO_CONTENT)
}
