//! `/v1/me*`: the signed-in person's account: profile, password, email verification and
//! the security score.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use keyhold_core::api::{
    ChangePasswordRequest, EndedSessions, MeResponse, NotificationPrefs, SessionInfo,
};
use keyhold_core::score::SecurityScore;
use keyhold_vault::events::prefs;
use keyhold_vault::{accounts, security, signed_in};

use crate::error::ApiResult;
use crate::http::extract::{ApiJson, Client};
use crate::http::guards::{Person, Sudo};
use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v1/me", get(me))
        .route("/v1/me/password", put(change_password))
        .route("/v1/me/email/verification", post(request_verification))
        .route("/v1/me/security", get(security))
        .route("/v1/me/sessions", get(sessions_list))
        .route("/v1/me/sessions/end-others", post(end_other_sessions))
        .route(
            "/v1/me/notifications",
            get(notifications).put(set_notifications),
        )
}

#[utoipa::path(get, path = "/v1/me/notifications", tag = "accounts", security(("session" = [])),
    responses((status = 200, body = NotificationPrefs), (status = 401, body = keyhold_core::ErrorBody)))]
pub async fn notifications(
    State(st): State<SharedState>,
    s: Person,
) -> ApiResult<Json<NotificationPrefs>> {
    Ok(Json(prefs::get(&st, &s).await?))
}

#[utoipa::path(put, path = "/v1/me/notifications", tag = "accounts", security(("session" = [])), request_body = NotificationPrefs,
    responses((status = 200, body = NotificationPrefs), (status = 400, body = keyhold_core::ErrorBody),
              (status = 401, body = keyhold_core::ErrorBody), (status = 422, body = keyhold_core::ErrorBody)))]
pub async fn set_notifications(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Person,
    ApiJson(req): ApiJson<NotificationPrefs>,
) -> ApiResult<Json<NotificationPrefs>> {
    Ok(Json(prefs::put(&st, &s, req, &c).await?))
}

#[utoipa::path(get, path = "/v1/me", tag = "accounts", security(("session" = [])), responses((status = 200, body = MeResponse)))]
pub async fn me(State(st): State<SharedState>, s: Person) -> ApiResult<Json<MeResponse>> {
    Ok(Json(accounts::me(&st, &s).await?))
}

#[utoipa::path(put, path = "/v1/me/password", tag = "accounts", security(("session" = [])), request_body = ChangePasswordRequest,
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

#[utoipa::path(post, path = "/v1/me/email/verification", tag = "security", security(("session" = [])),
    responses((status = 202), (status = 409, body = keyhold_core::ErrorBody)))]
pub async fn request_verification(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Person,
) -> ApiResult<StatusCode> {
    accounts::request_email_verification(&st, &s, &c).await?;
    Ok(StatusCode::ACCEPTED)
}

#[utoipa::path(get, path = "/v1/me/security", tag = "security", security(("session" = [])),
    responses((status = 200, body = SecurityScore)))]
pub async fn security(State(st): State<SharedState>, s: Person) -> ApiResult<Json<SecurityScore>> {
    Ok(Json(security::score(&st, &s).await?))
}

#[utoipa::path(get, path = "/v1/me/sessions", tag = "accounts", security(("session" = [])),
    responses((status = 200, body = Vec<SessionInfo>), (status = 401, body = keyhold_core::ErrorBody)))]
pub async fn sessions_list(
    State(st): State<SharedState>,
    s: Person,
) -> ApiResult<Json<Vec<SessionInfo>>> {
    Ok(Json(signed_in::list(&st, &s).await?))
}

/// "Sign out everywhere else": every other session of the person ends (sudo window).
#[utoipa::path(post, path = "/v1/me/sessions/end-others", tag = "accounts", security(("session" = [])),
    responses((status = 200, body = EndedSessions),
              (status = 401, body = keyhold_core::ErrorBody, description = "unauthenticated, or reauth_required outside the sudo window")))]
pub async fn end_other_sessions(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
) -> ApiResult<Json<EndedSessions>> {
    Ok(Json(signed_in::end_others(&st, &s, &c).await?))
}
