//! `/v1/secrets/*` and `/v1/metadata*`: secret values and what is known about them.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use keyhold_core::api::{
    MetadataQuery, Page, PutSecretRequest, SecretMetadata, SecretReadQuery, SecretSummary,
    SecretValue, SecretWritten,
};
use keyhold_core::path::SecretPath;
use keyhold_vault::{Error, secrets};

use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery, Client};
use crate::http::guards::Caller;
use crate::http::no_store;
use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v1/secrets/{*path}", get(read).put(write).delete(remove))
        .route("/v1/metadata", get(list))
        .route("/v1/metadata/{*path}", get(metadata))
}

const SECRETS: &str = "/v1/secrets/";

const METADATA: &str = "/v1/metadata/";

fn path_of(uri: &Uri, base: &str) -> ApiResult<SecretPath> {
    let raw = uri
        .path()
        .strip_prefix(base)
        .ok_or(ApiError(Error::NotFound))?;
    Ok(secrets::parse_raw_path(raw)?)
}

#[utoipa::path(get, path = "/v1/secrets/{path}", tag = "secrets", security(("session" = []), ("agent_key" = []), ("token" = [])),
    params(("path" = keyhold_core::path::SecretPath, Path), ("version" = Option<u32>, Query)),
    responses((status = 200, body = SecretValue), (status = 403, body = keyhold_core::ErrorBody),
              (status = 404, body = keyhold_core::ErrorBody), (status = 422, body = keyhold_core::ErrorBody)))]
pub async fn read(
    State(st): State<SharedState>,
    Client(c): Client,
    caller: Caller,
    uri: Uri,
    ApiQuery(q): ApiQuery<SecretReadQuery>,
) -> ApiResult<impl IntoResponse> {
    let path = path_of(&uri, SECRETS)?;
    let value = secrets::read(&st, &caller, &path, q.version, &c).await?;
    Ok(no_store(Json(value)))
}

#[utoipa::path(put, path = "/v1/secrets/{path}", tag = "secrets", security(("session" = []), ("agent_key" = []), ("token" = [])), params(("path" = keyhold_core::path::SecretPath, Path)),
    request_body = PutSecretRequest,
    responses((status = 200, body = SecretWritten), (status = 403, body = keyhold_core::ErrorBody),
              (status = 422, body = keyhold_core::ErrorBody)))]
pub async fn write(
    State(st): State<SharedState>,
    Client(c): Client,
    caller: Caller,
    uri: Uri,
    ApiJson(req): ApiJson<PutSecretRequest>,
) -> ApiResult<impl IntoResponse> {
    let path = path_of(&uri, SECRETS)?;
    let written = secrets::write(&st, &caller, &path, req, &c).await?;
    Ok(no_store(Json(written)))
}

#[utoipa::path(delete, path = "/v1/secrets/{path}", tag = "secrets", security(("session" = []), ("agent_key" = []), ("token" = [])), params(("path" = keyhold_core::path::SecretPath, Path)),
    responses((status = 204), (status = 403, body = keyhold_core::ErrorBody), (status = 404, body = keyhold_core::ErrorBody),
              (status = 422, body = keyhold_core::ErrorBody, description = "The path breaks the grammar")))]
pub async fn remove(
    State(st): State<SharedState>,
    Client(c): Client,
    caller: Caller,
    uri: Uri,
) -> ApiResult<StatusCode> {
    let path = path_of(&uri, SECRETS)?;
    secrets::delete(&st, &caller, &path, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/metadata", tag = "secrets", security(("session" = []), ("agent_key" = []), ("token" = [])),
    params(("prefix" = Option<keyhold_core::api::schema::PathPrefix>, Query), ("limit" = Option<keyhold_core::api::schema::PageLimit>, Query), ("cursor" = Option<keyhold_core::api::schema::Cursor>, Query)),
    responses((status = 200, body = Page<SecretSummary>),
              (status = 422, body = keyhold_core::ErrorBody, description = "The prefix breaks the path grammar")))]
pub async fn list(
    State(st): State<SharedState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<MetadataQuery>,
) -> ApiResult<Json<Page<SecretSummary>>> {
    Ok(Json(secrets::list(&st, &caller, &q).await?))
}

#[utoipa::path(get, path = "/v1/metadata/{path}", tag = "secrets", security(("session" = []), ("agent_key" = []), ("token" = [])), params(("path" = keyhold_core::path::SecretPath, Path)),
    responses((status = 200, body = SecretMetadata), (status = 403, body = keyhold_core::ErrorBody),
              (status = 404, body = keyhold_core::ErrorBody),
              (status = 422, body = keyhold_core::ErrorBody, description = "The path breaks the grammar")))]
pub async fn metadata(
    State(st): State<SharedState>,
    caller: Caller,
    uri: Uri,
) -> ApiResult<Json<SecretMetadata>> {
    let path = path_of(&uri, METADATA)?;
    Ok(Json(secrets::metadata(&st, &caller, &path).await?))
}
