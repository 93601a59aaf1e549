//! `/v1/auth/*`: sign-up, sign-in (password, then the second factor), sign-out,
//! re-authentication for the sudo window, and the email verification link.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use keyhold_core::api::{
    LoginMfaRequest, LoginRequest, ReauthRequest, SessionResponse, SignupRequest, SignupResponse,
    VerifyEmailRequest,
};
use keyhold_vault::{accounts, login};

use crate::error::ApiResult;
use crate::http::extract::{ApiJson, Client};
use crate::http::guards::Person;
use crate::http::no_store;
use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v1/auth/signup", post(signup))
        .route("/v1/auth/login", post(login))
        .route("/v1/auth/login/mfa", post(login_mfa))
        .route("/v1/auth/logout", post(logout))
        .route("/v1/auth/reauth", post(reauth))
        .route("/v1/auth/verify-email", post(verify_email))
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

#[utoipa::path(post, path = "/v1/auth/logout", tag = "accounts", security(("session" = [])), responses((status = 204)))]
pub async fn logout(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Person,
) -> ApiResult<StatusCode> {
    accounts::logout(&st, &s, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/auth/reauth", tag = "accounts", security(("session" = [])), request_body = ReauthRequest,
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
