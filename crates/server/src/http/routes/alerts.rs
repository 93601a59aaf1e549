//! `/v1/alerts*` and `/v1/tenant/alert-rules`: detection's alerts (owners and admins) and
//! the rules behind them (docs/alerts.md).

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use keyhold_core::api::schema::{AlertStatusFilter, Cursor, PageLimit};
use keyhold_core::api::{Alert, AlertQuery, AlertRules, Page};
use keyhold_vault::detect::manage;

use crate::error::ApiResult;
use crate::http::extract::{ApiJson, ApiQuery, Client};
use crate::http::guards::{Admin, Person, Sudo};
use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v1/tenant/alert-rules", get(get_rules).put(put_rules))
        .route("/v1/alerts", get(list))
        .route("/v1/alerts/{id}/ack", post(ack))
}

#[utoipa::path(get, path = "/v1/tenant/alert-rules", tag = "alerts", security(("session" = [])),
    responses((status = 200, body = AlertRules), (status = 401, body = keyhold_core::ErrorBody)))]
pub async fn get_rules(State(st): State<SharedState>, s: Person) -> ApiResult<Json<AlertRules>> {
    Ok(Json(manage::get_rules(&st, &s).await?))
}

#[utoipa::path(put, path = "/v1/tenant/alert-rules", tag = "alerts", security(("session" = [])), request_body = AlertRules,
    responses((status = 200, body = AlertRules), (status = 400, body = keyhold_core::ErrorBody),
              (status = 401, body = keyhold_core::ErrorBody), (status = 403, body = keyhold_core::ErrorBody),
              (status = 422, body = keyhold_core::ErrorBody)))]
pub async fn put_rules(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    ApiJson(req): ApiJson<AlertRules>,
) -> ApiResult<Json<AlertRules>> {
    Ok(Json(manage::put_rules(&st, &s, req, &c).await?))
}

#[utoipa::path(get, path = "/v1/alerts", tag = "alerts", security(("session" = [])),
    params(("limit" = Option<PageLimit>, Query), ("cursor" = Option<Cursor>, Query),
           ("status" = Option<AlertStatusFilter>, Query)),
    responses((status = 200, body = Page<Alert>), (status = 400, body = keyhold_core::ErrorBody),
              (status = 401, body = keyhold_core::ErrorBody), (status = 403, body = keyhold_core::ErrorBody),
              (status = 422, body = keyhold_core::ErrorBody)))]
pub async fn list(
    State(st): State<SharedState>,
    s: Admin,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> ApiResult<Json<Page<Alert>>> {
    Ok(Json(manage::list_alerts(&st, &s, &q).await?))
}

#[utoipa::path(post, path = "/v1/alerts/{id}/ack", tag = "alerts", security(("session" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Alert), (status = 401, body = keyhold_core::ErrorBody),
              (status = 403, body = keyhold_core::ErrorBody), (status = 404, body = keyhold_core::ErrorBody)))]
pub async fn ack(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<Alert>> {
    Ok(Json(manage::ack_alert(&st, &s, &id, &c).await?))
}
