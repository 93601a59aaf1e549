//! Guards: extractors that say, in a handler's signature, who may call it. Each one finds
//! the bearer credential, has the vault authenticate it (`keyhold_vault::auth`,
//! `agent_keys`), tells the rate limiter how that went, and checks the role or the sudo
//! window. Handlers hand the vault's caller type inside (`&guard` derefs to it) to the
//! domain.
//!
//! Roles whose refusal is itself audited (managing members, tenant settings, voting) are
//! checked by the domain, in the same transaction as the refusal's audit event; their
//! handlers take `Person` or `Sudo` and the domain function names the role it needs.

use std::ops::Deref;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use keyhold_vault::auth::{self, AgentKey, AgentToken, SecretsCaller, Session, SudoSession};
use keyhold_vault::{Error, agent_keys, tokens};

use super::extract::{bearer, client_ip};
use super::{rate_limit, signed};
use crate::error::ApiError;
use crate::state::SharedState;

/// Tell the rate limiter how authentication went: a credential that authenticated gets
/// (or keeps) a bucket of its own, one that did not loses it (see `http::rate_limit`).
fn settle<T>(
    st: &SharedState,
    parts: &mut Parts,
    outcome: Result<T, Error>,
) -> Result<T, ApiError> {
    match outcome {
        Ok(v) => {
            rate_limit::proven(st, parts)?;
            Ok(v)
        }
        Err(e) => {
            rate_limit::refused(st, parts);
            Err(e.into())
        }
    }
}

async fn person(parts: &mut Parts, st: &SharedState) -> Result<Session, ApiError> {
    let outcome = match bearer(parts) {
        Some(text) => auth::session(st, text).await,
        None => Err(Error::Unauthenticated(auth::SIGN_IN)),
    };
    settle(st, parts, outcome)
}

/// Declares a guard holding a vault caller type, dereferencing to it.
macro_rules! guard {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        pub struct $name(pub $inner);

        impl Deref for $name {
            type Target = $inner;

            fn deref(&self) -> &$inner {
                &self.0
            }
        }
    };
}

guard!(
    /// Any signed-in person: a live `khs_` session and its user.
    Person(Session)
);
guard!(
    /// A signed-in person whose session proved itself (sign-in or `POST /v1/auth/reauth`)
    /// within the sudo window; otherwise 401 `reauth_required`. Every privileged change.
    Sudo(SudoSession)
);
guard!(
    /// A signed-in admin or owner; anyone else gets 403 with `why`.
    Admin(Session)
);
guard!(
    /// An agent authenticated with its `kha_` key, or by a request signed with its Ed25519
    /// key (`http::signed`): the same caller either way.
    Agent(AgentKey)
);
guard!(
    /// An agent authenticated with a `kht_` scoped token (and the key that issued it).
    Token(AgentToken)
);
guard!(
    /// Whoever may call the secrets API: a person, an agent key or a scoped token, told
    /// apart by the credential's prefix. The domain applies the approval gate to each.
    Caller(SecretsCaller)
);

impl FromRequestParts<SharedState> for Person {
    type Rejection = ApiError;

    #[tracing::instrument(name = "auth.session", skip_all)]
    async fn from_request_parts(parts: &mut Parts, st: &SharedState) -> Result<Self, ApiError> {
        Ok(Self(person(parts, st).await?))
    }
}

impl FromRequestParts<SharedState> for Sudo {
    type Rejection = ApiError;

    #[tracing::instrument(name = "auth.sudo", skip_all)]
    async fn from_request_parts(parts: &mut Parts, st: &SharedState) -> Result<Self, ApiError> {
        let s = person(parts, st).await?;
        Ok(Self(auth::sudo(st, s)?))
    }
}

/// Who may read the whole tenant's audit log.
const ADMINS_ONLY: &str = "Only admins and owners can do this.";

impl FromRequestParts<SharedState> for Admin {
    type Rejection = ApiError;

    #[tracing::instrument(name = "auth.admin", skip_all)]
    async fn from_request_parts(parts: &mut Parts, st: &SharedState) -> Result<Self, ApiError> {
        let s = person(parts, st).await?;
        if !s.user.role.is_admin() {
            return Err(Error::Forbidden(ADMINS_ONLY).into());
        }
        Ok(Self(s))
    }
}

impl FromRequestParts<SharedState> for Agent {
    type Rejection = ApiError;

    #[tracing::instrument(name = "auth.agent_key", skip_all)]
    async fn from_request_parts(parts: &mut Parts, st: &SharedState) -> Result<Self, ApiError> {
        let ip = client_ip(parts, &st.config.trusted_proxies);
        let outcome = match bearer(parts) {
            Some(text) => agent_keys::authenticate_key(st, text, ip).await,
            None if signed::is_signed(parts) => signed::authenticate(st, parts, ip).await,
            None => Err(Error::Unauthenticated(agent_keys::USE_A_KEY)),
        };
        let key = settle(st, parts, outcome)?;
        Ok(Self(AgentKey { key }))
    }
}

impl FromRequestParts<SharedState> for Token {
    type Rejection = ApiError;

    #[tracing::instrument(name = "auth.agent_token", skip_all)]
    async fn from_request_parts(parts: &mut Parts, st: &SharedState) -> Result<Self, ApiError> {
        let ip = client_ip(parts, &st.config.trusted_proxies);
        let outcome = match bearer(parts) {
            Some(text) => tokens::authenticate_token(st, text, ip).await,
            None => Err(Error::Unauthenticated(tokens::USE_A_TOKEN)),
        };
        let (token, key) = settle(st, parts, outcome)?;
        Ok(Self(AgentToken { token, key }))
    }
}

impl FromRequestParts<SharedState> for Caller {
    type Rejection = ApiError;

    #[tracing::instrument(name = "auth.secrets_caller", skip_all)]
    async fn from_request_parts(parts: &mut Parts, st: &SharedState) -> Result<Self, ApiError> {
        if signed::is_signed(parts) {
            return Ok(Self(SecretsCaller::Key(
                Agent::from_request_parts(parts, st).await?.0,
            )));
        }
        let prefix = bearer(parts)
            .ok_or(ApiError(Error::Unauthenticated(auth::SIGN_IN)))?
            .get(..4)
            .unwrap_or_default()
            .to_owned();
        Ok(Self(match prefix.as_str() {
            "kha_" => SecretsCaller::Key(Agent::from_request_parts(parts, st).await?.0),
            "kht_" => SecretsCaller::Token(Token::from_request_parts(parts, st).await?.0),
            _ => SecretsCaller::Session(Person::from_request_parts(parts, st).await?.0),
        }))
    }
}
