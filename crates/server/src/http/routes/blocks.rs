//! `/v1/blocks*`: the addresses detection blocked for the tenant (owners and admins).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use keyhold_core::api::Block;
use keyhold_vault::detect::manage;

use crate::error::ApiResult;
use crate::http::extract::Client;
use crate::http::guards::{Admin, Sudo};
use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v1/blocks", get(list))
        .route("/v1/blocks/{id}", delete(lift))
}

#[utoipa::path(get, path = "/v1/blocks", tag = "alerts", security(("session" = [])),
    responses((status = 200, body = Vec<Block>), (status = 401, body = keyhold_core::ErrorBody),
              (status = 403, body = keyhold_core::ErrorBody)))]
pub async fn list(State(st): State<SharedState>, s: Admin) -> ApiResult<Json<Vec<Block>>> {
    Ok(Json(manage::list_blocks(&st, &s).await?))
}

#[utoipa::path(delete, path = "/v1/blocks/{id}", tag = "alerts", security(("session" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = keyhold_core::ErrorBody),
              (status = 403, body = keyhold_core::ErrorBody), (status = 404, body = keyhold_core::ErrorBody)))]
pub async fn lift(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    manage::lift_block(&st, &s, &id, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}
