//! `/v1/tokens*`: scoped short-lived tokens issued by an agent key.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, post};
use axum::{Json, Router};
use keyhold_core::api::{IssueTokenRequest, IssueTokenResponse};
use keyhold_vault::Error;
use keyhold_vault::auth::SecretsCaller;
use keyhold_vault::tokens::{self, TokenRevoker};

use crate::error::ApiResult;
use crate::http::extract::{ApiJson, Client};
use crate::http::guards::{Agent, Caller};
use crate::http::no_store;
use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v1/tokens", post(issue_token))
        .route("/v1/tokens/{id}", delete(revoke_token))
}

#[utoipa::path(post, path = "/v1/tokens", tag = "tokens", security(("agent_key" = [])), request_body = IssueTokenRequest,
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

#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "tokens", security(("session" = []), ("agent_key" = []), ("token" = [])), params(("id" = String, Path)),
    responses((status = 204),
              (status = 403, body = keyhold_core::ErrorBody, description = "Called with a token: revoke with the key that issued it, or signed in"),
              (status = 404, body = keyhold_core::ErrorBody)))]
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
