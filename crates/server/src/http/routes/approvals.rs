//! `/v1/approvals*`: requests for human approval, votes on them, and their live feed
//! (`approvals_feed`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use keyhold_core::api::{
    Approval, ApprovalQuery, ApproveRequest, CreateApprovalRequest, DenyRequest, Page,
};
use keyhold_vault::approvals;

use crate::error::ApiResult;
use crate::http::extract::{ApiJson, ApiQuery, Client};
use crate::http::guards::{Caller, Person};
use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v1/approvals", get(list).post(create))
        .route("/v1/approvals/{id}", get(show))
        .route("/v1/approvals/{id}/approve", post(approve))
        .route("/v1/approvals/{id}/deny", post(deny))
}

#[utoipa::path(post, path = "/v1/approvals", tag = "approvals", security(("session" = []), ("agent_key" = []), ("token" = [])), request_body = CreateApprovalRequest,
    responses((status = 201, body = Approval), (status = 403, body = keyhold_core::ErrorBody),
              (status = 404, body = keyhold_core::ErrorBody), (status = 422, body = keyhold_core::ErrorBody)))]
pub async fn create(
    State(st): State<SharedState>,
    Client(c): Client,
    caller: Caller,
    ApiJson(req): ApiJson<CreateApprovalRequest>,
) -> ApiResult<impl IntoResponse> {
    let a = approvals::create(&st, &caller, req, &c).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

#[utoipa::path(get, path = "/v1/approvals", tag = "approvals", security(("session" = []), ("agent_key" = []), ("token" = [])),
    params(("status" = Option<keyhold_core::api::ApprovalStatus>, Query), ("limit" = Option<keyhold_core::api::schema::PageLimit>, Query), ("cursor" = Option<keyhold_core::api::schema::Cursor>, Query)),
    responses((status = 200, body = Page<Approval>), (status = 403, body = keyhold_core::ErrorBody)))]
pub async fn list(
    State(st): State<SharedState>,
    Client(c): Client,
    caller: Caller,
    ApiQuery(q): ApiQuery<ApprovalQuery>,
) -> ApiResult<Json<Page<Approval>>> {
    Ok(Json(approvals::list(&st, &caller, &q, &c).await?))
}

#[utoipa::path(get, path = "/v1/approvals/{id}", tag = "approvals", security(("session" = []), ("agent_key" = []), ("token" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Approval), (status = 404, body = keyhold_core::ErrorBody)))]
pub async fn show(
    State(st): State<SharedState>,
    Client(c): Client,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Approval>> {
    Ok(Json(approvals::get(&st, &caller, &id, &c).await?))
}

#[utoipa::path(post, path = "/v1/approvals/{id}/approve", tag = "approvals", security(("session" = [])), params(("id" = String, Path)),
    request_body = ApproveRequest,
    responses((status = 200, body = Approval), (status = 403, body = keyhold_core::ErrorBody),
              (status = 404, body = keyhold_core::ErrorBody), (status = 409, body = keyhold_core::ErrorBody)))]
pub async fn approve(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Person,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ApproveRequest>,
) -> ApiResult<Json<Approval>> {
    Ok(Json(approvals::approve(&st, &s, &id, req, &c).await?))
}

#[utoipa::path(post, path = "/v1/approvals/{id}/deny", tag = "approvals", security(("session" = [])), params(("id" = String, Path)),
    request_body = DenyRequest,
    responses((status = 200, body = Approval), (status = 403, body = keyhold_core::ErrorBody),
              (status = 404, body = keyhold_core::ErrorBody), (status = 409, body = keyhold_core::ErrorBody)))]
pub async fn deny(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Person,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<DenyRequest>,
) -> ApiResult<Json<Approval>> {
    Ok(Json(approvals::deny(&st, &s, &id, req, &c).await?))
}
