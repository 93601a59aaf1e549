//! `GET /v1/members/invitations` and `DELETE /v1/members/invitations/{id}` (creating one is
//! `POST /v1/members/invitations`, in `approvals`; axum merges the two method routers).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use keyhold_core::api::{Page, PendingInvitation};
use keyhold_vault::invitations;
use serde::Deserialize;

use crate::error::ApiResult;
use crate::http::extract::{ApiQuery, Client};
use crate::http::guards::{Person, Sudo};
use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v1/members/invitations", get(list))
        .route("/v1/members/invitations/{id}", delete(revoke))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/members/invitations", tag = "members", security(("session" = [])),
    params(("limit" = Option<keyhold_core::api::schema::PageLimit>, Query), ("cursor" = Option<keyhold_core::api::schema::Cursor>, Query)),
    responses((status = 200, body = Page<PendingInvitation>), (status = 403, body = keyhold_core::ErrorBody)))]
pub async fn list(
    State(st): State<SharedState>,
    s: Person,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Page<PendingInvitation>>> {
    Ok(Json(
        invitations::list(&st, &s, q.limit, q.cursor.as_deref()).await?,
    ))
}

#[utoipa::path(delete, path = "/v1/members/invitations/{id}", tag = "members", security(("session" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = keyhold_core::ErrorBody),
              (status = 403, body = keyhold_core::ErrorBody), (status = 404, body = keyhold_core::ErrorBody),
              (status = 409, body = keyhold_core::ErrorBody)))]
pub async fn revoke(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    invitations::revoke(&st, &s, &id, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}
