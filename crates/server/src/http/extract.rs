//! Extractors: the JSON body wrapper and the guards that say who may call a handler.

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use keyhold_core::credential::{Credential, CredentialKind};
use serde::de::DeserializeOwned;

use ipnet::IpNet;

use super::rate_limit;
use crate::agent_keys;
use crate::audit::ClientInfo;
use crate::error::ApiError;
use crate::sessions;
use crate::state::SharedState;
use crate::store::{KeyRecord, SessionRecord, TokenRecord, UserRecord};

/// `Json<T>` whose rejections are the contract's error body: unreadable JSON is 400, a
/// wrong content type 415, a body over the limit 413, and a well-formed body with missing,
/// extra or mistyped fields 422.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(match rejection {
                JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
                JsonRejection::JsonDataError(e) => ApiError::invalid(format!(
                    "The request body does not match what this endpoint expects: {}",
                    e.body_text().trim_start_matches(
                        "Failed to deserialize the JSON body into the target type: "
                    )
                )),
                JsonRejection::JsonSyntaxError(_) => {
                    ApiError::BadRequest("The request body is not valid JSON.".to_owned())
                }
                JsonRejection::BytesRejection(e)
                    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
                {
                    ApiError::PayloadTooLarge
                }
                _ => ApiError::BadRequest("The request body could not be read.".to_owned()),
            }),
        }
    }
}

/// The caller's address: the socket peer, unless the peer is one of the `trusted`
/// proxies, in which case `X-Forwarded-For` is walked from the right past every trusted
/// hop and the first untrusted address counts. A forged header from anyone else changes
/// nothing. IP allowlists, per-IP limits and the audit log all use this one answer.
pub fn client_ip(parts: &Parts, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()?
        .0
        .ip()
        .to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let hops: Vec<&str> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut addr = peer;
    for hop in hops.iter().rev() {
        if !is_trusted(&addr) {
            break;
        }
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => addr = ip.to_canonical(),
            Err(_) => break,
        }
    }
    Some(addr)
}

/// The caller's address and user agent, for the audit log and per-IP limits.
pub struct Client(pub ClientInfo);

impl FromRequestParts<SharedState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        st: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let ip = client_ip(parts, &st.config.trusted_proxies).map(|ip| ip.to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(256).collect());
        Ok(Client(ClientInfo { ip, user_agent }))
    }
}

/// The bearer credential's text, if the request carries one.
pub fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// A signed-in person: a live `khs_` session and its user.
pub struct Session {
    pub session: SessionRecord,
    pub user: UserRecord,
}

impl Session {
    pub fn tenant_id(&self) -> &str {
        &self.user.tenant_id
    }
}

const SIGN_IN: &str = "Sign in to continue.";
const SIGN_IN_AGAIN: &str = "Your session has ended. Sign in again.";

/// Tell the rate limiter how authentication went: a credential that authenticated gets
/// (or keeps) a bucket of its own, one that did not loses it (see `http::rate_limit`).
fn settle<T>(
    st: &SharedState,
    parts: &mut Parts,
    outcome: Result<T, ApiError>,
) -> Result<T, ApiError> {
    match outcome {
        Ok(v) => {
            rate_limit::proven(st, parts)?;
            Ok(v)
        }
        Err(e) => {
            rate_limit::refused(st, parts);
            Err(e)
        }
    }
}

impl FromRequestParts<SharedState> for Session {
    type Rejection = ApiError;

    #[tracing::instrument(name = "auth.session", skip_all)]
    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let outcome = Self::authenticate(parts, state).await;
        settle(state, parts, outcome)
    }
}

impl Session {
    async fn authenticate(parts: &Parts, state: &SharedState) -> Result<Self, ApiError> {
        let text = bearer(parts).ok_or(ApiError::Unauthenticated(SIGN_IN))?;
        let cred = Credential::parse_kind(text, CredentialKind::Session)
            .map_err(|_| ApiError::Unauthenticated(SIGN_IN_AGAIN))?;
        let hash = state.keys.credential_hash(cred.expose());
        let session = state
            .store
            .session_by_hash(&hash)
            .await?
            .ok_or(ApiError::Unauthenticated(SIGN_IN_AGAIN))?;
        let now = state.clock.now();
        if !sessions::is_live(&session, now) {
            return Err(ApiError::Unauthenticated(SIGN_IN_AGAIN));
        }
        if sessions::needs_touch(&session, now) {
            state
                .store
                .touch_session(&session.tenant_id, &session.id, now)
                .await?;
        }
        let user = state
            .store
            .user(&session.tenant_id, &session.user_id)
            .await?
            .ok_or(ApiError::Unauthenticated(SIGN_IN_AGAIN))?;
        Ok(Session { session, user })
    }
}

/// An agent authenticated with its `kha_` key.
pub struct AgentKey {
    pub key: KeyRecord,
}

impl FromRequestParts<SharedState> for AgentKey {
    type Rejection = ApiError;

    #[tracing::instrument(name = "auth.agent_key", skip_all)]
    async fn from_request_parts(
        parts: &mut Parts,
        st: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let text = bearer(parts).ok_or(ApiError::Unauthenticated(agent_keys::USE_A_KEY))?;
        let ip = client_ip(parts, &st.config.trusted_proxies);
        let outcome = agent_keys::authenticate_key(st, text, ip).await;
        let key = settle(st, parts, outcome)?;
        Ok(Self { key })
    }
}

/// An agent authenticated with a `kht_` scoped token (and the key that issued it).
pub struct AgentToken {
    pub token: TokenRecord,
    pub key: KeyRecord,
}

impl FromRequestParts<SharedState> for AgentToken {
    type Rejection = ApiError;

    #[tracing::instrument(name = "auth.agent_token", skip_all)]
    async fn from_request_parts(
        parts: &mut Parts,
        st: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let text = bearer(parts).ok_or(ApiError::Unauthenticated(agent_keys::USE_A_TOKEN))?;
        let ip = client_ip(parts, &st.config.trusted_proxies);
        let outcome = agent_keys::authenticate_token(st, text, ip).await;
        let (token, key) = settle(st, parts, outcome)?;
        Ok(Self { token, key })
    }
}

/// Whoever may call the secrets API: a person's session, an agent key or a scoped token,
/// told apart by the credential's prefix.
pub enum SecretsCaller {
    Session(Session),
    Key(AgentKey),
    Token(AgentToken),
}

impl FromRequestParts<SharedState> for SecretsCaller {
    type Rejection = ApiError;

    #[tracing::instrument(name = "auth.secrets_caller", skip_all)]
    async fn from_request_parts(
        parts: &mut Parts,
        st: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let prefix = bearer(parts)
            .ok_or(ApiError::Unauthenticated(SIGN_IN))?
            .get(..4)
            .unwrap_or_default()
            .to_owned();
        match prefix.as_str() {
            "kha_" => Ok(Self::Key(AgentKey::from_request_parts(parts, st).await?)),
            "kht_" => Ok(Self::Token(
                AgentToken::from_request_parts(parts, st).await?,
            )),
            _ => Ok(Self::Session(Session::from_request_parts(parts, st).await?)),
        }
    }
}

/// `Query<T>` whose rejection is the contract's 400 body.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e| {
                ApiError::BadRequest(format!("The query string is not valid: {}", e.body_text()))
            })
    }
}

/// A signed-in person whose session proved itself (sign-in or `POST /v1/auth/reauth`)
/// within [`sessions::SUDO_WINDOW`]; otherwise 401 `reauth_required`. Guards disabling
/// 2FA, regenerating backup codes and, later, creating agent keys and changing roles.
pub struct SudoSession(pub Session);

impl std::ops::Deref for SudoSession {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.0
    }
}

impl FromRequestParts<SharedState> for SudoSession {
    type Rejection = ApiError;

    #[tracing::instrument(name = "auth.sudo", skip_all)]
    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let s = Session::from_request_parts(parts, state).await?;
        if !sessions::in_sudo_window(&s.session, state.clock.now()) {
            return Err(ApiError::ReauthRequired);
        }
        Ok(Self(s))
    }
}
