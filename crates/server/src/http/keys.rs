//! `/v1/keys*` (agent keys) and `/v1/tokens*` (scoped tokens).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, post};
use axum::{Json, Router};
use keyhold_core::api::{
    AgentKey, CreateKeyRequest, CreateKeyResponse, IssueTokenRequest, IssueTokenResponse, Page,
    RevokeLeakedRequest,
};
use serde::Deserialize;

use super::extract::{ApiJson, ApiQuery, Client};
use super::guards::{Agent, Caller, Person};
use super::no_store;
use crate::error::ApiResult;
use crate::state::SharedState;
use keyhold_vault::Error;
use keyhold_vault::agent_keys;
use keyhold_vault::auth::SecretsCaller;
use keyhold_vault::tokens::{self, TokenRevoker};

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v1/keys", post(create).get(list))
        .route("/v1/keys/revoke-leaked", post(revoke_leaked))
        .route("/v1/keys/{id}", delete(revoke))
        .route("/v1/tokens", post(issue_token))
        .route("/v1/tokens/{id}", delete(revoke_token))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

#[utoipa::path(post, path = "/v1/keys", tag = "keys", request_body = CreateKeyRequest,
    responses((status = 201, body = CreateKeyResponse), (status = 401, body = keyhold_core::ErrorBody),
              (status = 422, body = keyhold_core::ErrorBody)))]
pub async fn create(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Person,
    ApiJson(req): ApiJson<CreateKeyRequest>,
) -> ApiResult<impl IntoResponse> {
    let created = agent_keys::create_key(&st, &s, req, &c).await?;
    Ok(no_store((StatusCode::CREATED, Json(created))))
}

#[utoipa::path(get, path = "/v1/keys", tag = "keys",
    params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
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

#[utoipa::path(delete, path = "/v1/keys/{id}", tag = "keys", params(("id" = String, Path)),
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

#[utoipa::path(post, path = "/v1/tokens", tag = "tokens", request_body = IssueTokenRequest,
    responses((status = 201, body = IssueTokenResponse), (status = 403, body = keyhold_core::ErrorBody),
              (status = 422, body = keyhold_core::ErrorBody)))]
pub async fn issue_token(
    State(st): State<SharedState>,
    Client(c): Client,
    key: Agent,
    ApiJson(req): ApiJson<IssueTokenRequest>,
) -> ApiResult<impl IntoResponse> {
    let issued = tokens::issue_token(&st, &key, req, &c).await?;
    Ok(no_store((StatusCode::CREATED, Json(issued))))
}

#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "tokens", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = keyhold_core::ErrorBody)))]
pub async fn revoke_token(
    State(st): State<SharedState>,
    Client(c): Client,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let by = match &*caller {
        SecretsCaller::Session(s) => TokenRevoker::Session(s),
        SecretsCaller::Key(k) => TokenRevoker::Key(&k.key),
        SecretsCaller::Token(_) => {
            return Err(Error::Forbidden(
                "Revoke tokens with the agent key that issued them, or while signed in.",
            )
            .into());
        }
    };
    tokens::revoke_token(&st, by, &id, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}
