//! `/v1/members*`: the tenant's people, their roles, and inviting new ones.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use keyhold_core::api::{Invitation, InviteRequest, Member, RoleRequest};
use keyhold_vault::members;

use crate::error::ApiResult;
use crate::http::extract::{ApiJson, Client};
use crate::http::guards::{Person, Sudo};
use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v1/members", get(list_members))
        .route("/v1/members/invitations", post(invite))
        .route("/v1/members/{id}/role", put(set_role))
        .route("/v1/members/{id}", delete(remove_member))
}

#[utoipa::path(get, path = "/v1/members", tag = "members", security(("session" = [])),
    responses((status = 200, body = Vec<Member>)))]
pub async fn list_members(
    State(st): State<SharedState>,
    s: Person,
) -> ApiResult<Json<Vec<Member>>> {
    Ok(Json(members::list(&st, &s).await?))
}

#[utoipa::path(post, path = "/v1/members/invitations", tag = "members", security(("session" = [])), request_body = InviteRequest,
    responses((status = 201, body = Invitation), (status = 401, body = keyhold_core::ErrorBody), (status = 403, body = keyhold_core::ErrorBody)))]
pub async fn invite(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    ApiJson(req): ApiJson<InviteRequest>,
) -> ApiResult<impl IntoResponse> {
    let inv = members::invite(&st, &s, req, &c).await?;
    Ok((StatusCode::CREATED, Json(inv)))
}

#[utoipa::path(put, path = "/v1/members/{id}/role", tag = "members", security(("session" = [])), params(("id" = String, Path)),
    request_body = RoleRequest,
    responses((status = 200, body = Member), (status = 401, body = keyhold_core::ErrorBody),
              (status = 403, body = keyhold_core::ErrorBody), (status = 409, body = keyhold_core::ErrorBody)))]
pub async fn set_role(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RoleRequest>,
) -> ApiResult<Json<Member>> {
    Ok(Json(members::set_role(&st, &s, &id, req.role, &c).await?))
}

#[utoipa::path(delete, path = "/v1/members/{id}", tag = "members", security(("session" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = keyhold_core::ErrorBody),
              (status = 403, body = keyhold_core::ErrorBody), (status = 404, body = keyhold_core::ErrorBody),
              (status = 409, body = keyhold_core::ErrorBody)))]
pub async fn remove_member(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    members::remove(&st, &s, &id, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}
