//! `/v1/webhooks`: webhook and Slack endpoints, their signing secrets and delivery logs
//! (owners and admins; changes in the sudo window). The domain is `keyhold_vault::events`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use keyhold_core::ErrorBody;
use keyhold_core::api::{
    CreateWebhookRequest, Delivery, Page, UpdateWebhookRequest, Webhook, WebhookWithSecret,
};
use keyhold_vault::events::webhooks;
use serde::Deserialize;

use crate::error::ApiResult;
use crate::http::extract::{ApiJson, ApiQuery, Client};
use crate::http::guards::{Admin, Sudo};
use crate::http::no_store;
use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v1/webhooks", get(list).post(create))
        .route("/v1/webhooks/{id}", get(show).patch(update).delete(remove))
        .route("/v1/webhooks/{id}/rotate-secret", post(rotate_secret))
        .route("/v1/webhooks/{id}/test", post(send_test))
        .route("/v1/webhooks/{id}/deliveries", get(deliveries))
        .route(
            "/v1/webhooks/{id}/deliveries/{delivery_id}/retry",
            post(retry),
        )
}

#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", security(("session" = [])), request_body = CreateWebhookRequest,
    responses((status = 201, body = WebhookWithSecret), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    ApiJson(req): ApiJson<CreateWebhookRequest>,
) -> ApiResult<Response> {
    let made = webhooks::create(&st, &s, req, &c).await?;
    Ok(no_store((StatusCode::CREATED, Json(made))))
}

#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks", security(("session" = [])),
    responses((status = 200, body = Vec<Webhook>), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
pub async fn list(State(st): State<SharedState>, s: Admin) -> ApiResult<Json<Vec<Webhook>>> {
    Ok(Json(webhooks::list(&st, &s).await?))
}

#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks", security(("session" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Webhook), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn show(
    State(st): State<SharedState>,
    s: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<Webhook>> {
    Ok(Json(webhooks::get(&st, &s, &id).await?))
}

#[utoipa::path(patch, path = "/v1/webhooks/{id}", tag = "webhooks", security(("session" = [])), params(("id" = String, Path)),
    request_body = UpdateWebhookRequest,
    responses((status = 200, body = Webhook), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateWebhookRequest>,
) -> ApiResult<Json<Webhook>> {
    Ok(Json(webhooks::update(&st, &s, &id, req, &c).await?))
}

#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", security(("session" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn remove(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    webhooks::delete(&st, &s, &id, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate-secret", tag = "webhooks", security(("session" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = WebhookWithSecret), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "A Slack endpoint: it has no signing secret")))]
pub async fn rotate_secret(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(no_store(Json(
        webhooks::rotate_secret(&st, &s, &id, &c).await?,
    )))
}

#[utoipa::path(post, path = "/v1/webhooks/{id}/test", tag = "webhooks", security(("session" = [])), params(("id" = String, Path)),
    responses((status = 202, body = Delivery), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn send_test(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Admin,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Delivery>)> {
    let d = webhooks::send_test(&st, &s, &id, &c).await?;
    Ok((StatusCode::ACCEPTED, Json(d)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks", security(("session" = [])),
    params(("id" = String, Path), ("limit" = Option<keyhold_core::api::schema::PageLimit>, Query),
           ("cursor" = Option<keyhold_core::api::schema::Cursor>, Query)),
    responses((status = 200, body = Page<Delivery>), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn deliveries(
    State(st): State<SharedState>,
    s: Admin,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<Delivery>>> {
    Ok(Json(
        webhooks::deliveries(&st, &s, &id, q.limit, q.cursor.as_deref()).await?,
    ))
}

#[utoipa::path(post, path = "/v1/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks", security(("session" = [])),
    params(("id" = String, Path), ("delivery_id" = String, Path)),
    responses((status = 202, body = Delivery), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Admin,
    Path((id, delivery_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Delivery>)> {
    let d = webhooks::retry(&st, &s, &id, &delivery_id, &c).await?;
    Ok((StatusCode::ACCEPTED, Json(d)))
}
