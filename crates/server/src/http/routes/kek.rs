//! `/v1/admin/kek/rotate`: a new key-encryption key for the tenant.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use keyhold_core::api::KekRotated;
use keyhold_vault::secrets;

use crate::error::ApiResult;
use crate::http::extract::Client;
use crate::http::guards::Sudo;
use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new().route("/v1/admin/kek/rotate", post(rotate_kek))
}

#[utoipa::path(post, path = "/v1/admin/kek/rotate", tag = "admin", security(("session" = [])),
    responses((status = 200, body = KekRotated), (status = 401, body = keyhold_core::ErrorBody), (status = 403, body = keyhold_core::ErrorBody)))]
pub async fn rotate_kek(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
) -> ApiResult<Json<KekRotated>> {
    Ok(Json(secrets::rotate_kek(&st, &s, &c).await?))
}
