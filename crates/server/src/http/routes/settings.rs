//! `/v1/tenant/settings`: the tenant's approval rules and settings.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use keyhold_core::api::TenantSettings;

use crate::error::ApiResult;
use crate::http::extract::{ApiJson, Client};
use crate::http::guards::{Person, Sudo};
use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new().route("/v1/tenant/settings", get(get_settings).put(put_settings))
}

#[utoipa::path(get, path = "/v1/tenant/settings", tag = "tenant", security(("session" = [])),
    responses((status = 200, body = TenantSettings)))]
pub async fn get_settings(
    State(st): State<SharedState>,
    s: Person,
) -> ApiResult<Json<TenantSettings>> {
    Ok(Json(keyhold_vault::tenant::get_settings(&st, &s).await?))
}

#[utoipa::path(put, path = "/v1/tenant/settings", tag = "tenant", security(("session" = [])), request_body = TenantSettings,
    responses((status = 200, body = TenantSettings), (status = 401, body = keyhold_core::ErrorBody), (status = 403, body = keyhold_core::ErrorBody),
              (status = 422, body = keyhold_core::ErrorBody)))]
pub async fn put_settings(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    ApiJson(req): ApiJson<TenantSettings>,
) -> ApiResult<Json<TenantSettings>> {
    Ok(Json(
        keyhold_vault::tenant::put_settings(&st, &s, req, &c).await?,
    ))
}
