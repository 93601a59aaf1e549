//! `/v1/keys/{id}/public-keys*`: rotating an Ed25519 agent key with overlap. Adding the
//! new public key and retiring the old are two privileged steps (sudo window), each
//! audited and mailed to the key's owner; both keys verify in between.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, post};
use axum::{Json, Router};
use keyhold_core::api::{AddPublicKeyRequest, PublicKeyInfo};
use keyhold_vault::signing_keys;

use crate::error::ApiResult;
use crate::http::extract::{ApiJson, Client};
use crate::http::guards::Sudo;
use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v1/keys/{id}/public-keys", post(add))
        .route("/v1/keys/{id}/public-keys/{fingerprint}", delete(retire))
}

#[utoipa::path(post, path = "/v1/keys/{id}/public-keys", tag = "keys", security(("session" = [])),
    params(("id" = String, Path, description = "The Ed25519 agent key's id")),
    request_body = AddPublicKeyRequest,
    responses((status = 201, body = PublicKeyInfo),
              (status = 400, body = keyhold_core::ErrorBody, description = "The body is not JSON"),
              (status = 415, body = keyhold_core::ErrorBody, description = "The body is not application/json"),
              (status = 401, body = keyhold_core::ErrorBody, description = "Not signed in, or outside the sudo window (reauth_required)"),
              (status = 404, body = keyhold_core::ErrorBody, description = "No such Ed25519 key that the caller may manage"),
              (status = 409, body = keyhold_core::ErrorBody, description = "Two unretired public keys already, or this public key is (or was) on the key"),
              (status = 422, body = keyhold_core::ErrorBody, description = "Not an Ed25519 SPKI PEM public key")))]
pub async fn add(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AddPublicKeyRequest>,
) -> ApiResult<(StatusCode, Json<PublicKeyInfo>)> {
    let added = signing_keys::add_public_key(&st, &s, &id, req, &c).await?;
    Ok((StatusCode::CREATED, Json(added)))
}

#[utoipa::path(delete, path = "/v1/keys/{id}/public-keys/{fingerprint}", tag = "keys", security(("session" = [])),
    params(("id" = String, Path, description = "The Ed25519 agent key's id"),
           ("fingerprint" = String, Path, pattern = "^[0-9a-f]{64}$", description = "Hex SHA-256 of the raw public key, as listed")),
    responses((status = 204),
              (status = 401, body = keyhold_core::ErrorBody, description = "Not signed in, or outside the sudo window (reauth_required)"),
              (status = 404, body = keyhold_core::ErrorBody, description = "No such key or public key"),
              (status = 409, body = keyhold_core::ErrorBody, description = "Already retired, or the key's only unretired public key")))]
pub async fn retire(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    Path((id, fingerprint)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    signing_keys::retire_public_key(&st, &s, &id, &fingerprint, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}
