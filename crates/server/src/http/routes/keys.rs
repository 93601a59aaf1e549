//! `/v1/keys*`: agent keys, shown once, listed, shown with their usage, changed, rotated,
//! revoked (also by pasting a leaked one).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use keyhold_core::api::{
    AgentKey, CreateKeyRequest, CreateKeyResult, KeyDetails, Page, RevokeLeakedRequest,
    RotateKeyRequest, RotateKeyResponse, UpdateKeyRequest,
};
use keyhold_vault::{agent_keys, key_admin, signing_keys};
use serde::Deserialize;

use crate::error::ApiResult;
use crate::http::extract::{ApiJson, ApiQuery, Client};
use crate::http::guards::{Person, Sudo};
use crate::http::no_store;
use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v1/keys", post(create).get(list))
        .route("/v1/keys/revoke-leaked", post(revoke_leaked))
        .route("/v1/keys/{id}", get(show).patch(update).delete(revoke))
        .route("/v1/keys/{id}/rotate", post(rotate))
        .route("/v1/keys/{id}/reinstate", post(reinstate))
}

/// A key a detection rule suspended works again (its owner or an admin, sudo window).
#[utoipa::path(post, path = "/v1/keys/{id}/reinstate", tag = "keys", security(("session" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = keyhold_core::ErrorBody),
              (status = 404, body = keyhold_core::ErrorBody),
              (status = 409, body = keyhold_core::ErrorBody, description = "The key is not suspended")))]
pub async fn reinstate(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    keyhold_vault::detect::manage::reinstate_key(&st, &s, &id, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

/// With `public_key` the key is an Ed25519 key (`signing_keys`): no secret is made.
#[utoipa::path(post, path = "/v1/keys", tag = "keys", security(("session" = [])), request_body = CreateKeyRequest,
    responses((status = 201, body = CreateKeyResult,
               description = "A kha_ key with its secret (shown this once), or an Ed25519 key (no secret)"),
              (status = 401, body = keyhold_core::ErrorBody),
              (status = 422, body = keyhold_core::ErrorBody)))]
pub async fn create(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Person,
    ApiJson(req): ApiJson<CreateKeyRequest>,
) -> ApiResult<impl IntoResponse> {
    let created = if req.public_key.is_some() {
        CreateKeyResult::Signing(signing_keys::create_signing_key(&st, &s, req, &c).await?)
    } else {
        CreateKeyResult::Secret(agent_keys::create_key(&st, &s, req, &c).await?)
    };
    Ok(no_store((StatusCode::CREATED, Json(created))))
}

#[utoipa::path(get, path = "/v1/keys", tag = "keys", security(("session" = [])),
    params(("limit" = Option<keyhold_core::api::schema::PageLimit>, Query), ("cursor" = Option<keyhold_core::api::schema::Cursor>, Query)),
    responses((status = 200, body = Page<AgentKey>)))]
pub async fn list(
    State(st): State<SharedState>,
    s: Person,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Page<AgentKey>>> {
    Ok(Json(
        agent_keys::list_keys(&st, &s, q.limit, q.cursor.as_deref()).await?,
    ))
}

#[utoipa::path(delete, path = "/v1/keys/{id}", tag = "keys", security(("session" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = keyhold_core::ErrorBody)))]
pub async fn revoke(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Person,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    agent_keys::revoke_key(&st, &s, &id, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/keys/revoke-leaked", tag = "keys", request_body = RevokeLeakedRequest,
    responses((status = 202, description = "Accepted whether or not the secret matched a key")))]
pub async fn revoke_leaked(
    State(st): State<SharedState>,
    Client(c): Client,
    ApiJson(req): ApiJson<RevokeLeakedRequest>,
) -> ApiResult<StatusCode> {
    agent_keys::revoke_leaked(&st, req.secret.expose(), &c).await?;
    Ok(StatusCode::ACCEPTED)
}

/// One key with its usage: its owner, or an owner or admin of the tenant.
#[utoipa::path(get, path = "/v1/keys/{id}", tag = "keys", security(("session" = [])), params(("id" = String, Path)),
    responses((status = 200, body = KeyDetails)))]
pub async fn show(
    State(st): State<SharedState>,
    s: Person,
    Path(id): Path<String>,
) -> ApiResult<Json<KeyDetails>> {
    Ok(Json(key_admin::details(&st, &s, &id).await?))
}

/// A new expiry and/or IP allowlist (sudo window); the secret stays the same.
#[utoipa::path(patch, path = "/v1/keys/{id}", tag = "keys", security(("session" = [])), params(("id" = String, Path)),
    request_body = UpdateKeyRequest,
    responses((status = 200, body = AgentKey),
              (status = 409, body = keyhold_core::ErrorBody, description = "The key is revoked")))]
pub async fn update(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateKeyRequest>,
) -> ApiResult<Json<AgentKey>> {
    Ok(Json(key_admin::update(&st, &s, &id, req, &c).await?))
}

/// A new secret for the key (sudo window), shown this once; the old one ends after the
/// overlap.
#[utoipa::path(post, path = "/v1/keys/{id}/rotate", tag = "keys", security(("session" = [])), params(("id" = String, Path)),
    request_body = RotateKeyRequest,
    responses((status = 201, body = RotateKeyResponse,
               description = "The new key with its secret (shown this once)"),
              (status = 409, body = keyhold_core::ErrorBody,
               description = "The key is revoked, or is an Ed25519 key (those rotate their public keys)")))]
pub async fn rotate(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RotateKeyRequest>,
) -> ApiResult<impl IntoResponse> {
    let rotated = key_admin::rotate(&st, &s, &id, req, &c).await?;
    Ok(no_store((StatusCode::CREATED, Json(rotated))))
}
