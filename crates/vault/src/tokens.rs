//! Scoped tokens (`kht_`): short-lived credentials an agent key issues for itself, with
//! scopes, an address allowlist and a use count no wider than the key's. Issuing,
//! authenticating and revoking them; keys themselves are in `crate::agent_keys`.
//!
//! A token is looked up by its keyed hash. Token authentication also checks the issuing
//! key, and revoking a key revokes its tokens in the same transaction, so both stop
//! working on the very next request.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use ipnet::IpNet;
use keyhold_core::api::{IssueTokenRequest, IssueTokenResponse};
use keyhold_core::credential::{Credential, CredentialKind};
use keyhold_core::duration;
use keyhold_core::scope::{Scope, scopes_subset};

use crate::Vault;
use crate::agent_keys::{
    WRONG_ADDRESS, admitted, allowed_from, check_scopes, lapsed, parse_allowlist, refusal, touch,
};
use crate::audit::{ActorKind, ClientInfo, NewEvent, Outcome};
use crate::auth::{AgentKey as KeyCaller, Session};
use crate::auth_failures::{self, Claimed, Reason};
use crate::detect::{self, AgentRefusal};
use crate::error::{Error, Result};
use crate::ids;
use crate::store::{KeyRecord, TokenRecord};

pub const USE_A_TOKEN: &str = "Authenticate with a scoped token (kht_...).";
pub const BAD_TOKEN: &str =
    "This token is not valid: it is unknown, revoked, expired or has no uses left.";

/// Default lifetime of a scoped token, and the default of the tenant's `max_token_ttl`
/// setting (which is what issuing checks).
pub const DEFAULT_TOKEN_TTL: Duration = Duration::hours(1);
pub const MAX_TOKEN_TTL: Duration = Duration::hours(24);
pub use keyhold_core::api::schema::MAX_USES;

/// The `kht_` token behind a bearer credential and its key, checked like a key, plus the
/// token's own expiry, revocation, allowlist and uses (counted atomically).
pub async fn authenticate_token(
    st: &Vault,
    text: &str,
    ip: Option<IpAddr>,
) -> Result<(TokenRecord, KeyRecord)> {
    let nobody = Claimed::Nobody {
        kind: CredentialKind::ScopedToken,
        key_id: None,
    };
    let Ok(cred) = Credential::parse_kind(text, CredentialKind::ScopedToken) else {
        auth_failures::record(st, Reason::Malformed, nobody, ip).await;
        return Err(Error::Unauthenticated(BAD_TOKEN));
    };
    let hash = st.keys.credential_hash(cred.expose());
    let Some((token, key)) = st.store.token_for_auth(&hash).await? else {
        auth_failures::record(st, Reason::Unknown, nobody, ip).await;
        return Err(Error::Unauthenticated(BAD_TOKEN));
    };
    let now = st.clock.now();
    let token_lapsed = if token.revoked_at.is_some() {
        Some(Reason::Revoked)
    } else if now >= token.expires_at {
        Some(Reason::Expired)
    } else {
        lapsed(&key, now)
    };
    if let Some(reason) = token_lapsed {
        auth_failures::record(st, reason, Claimed::Token(&token), ip).await;
        detect::agent_refused(st, &key, refusal(reason), ip).await;
        return Err(if reason == Reason::Suspended {
            Error::KeySuspended
        } else {
            Error::Unauthenticated(BAD_TOKEN)
        });
    }
    if !allowed_from(&token.ip_allowlist, ip) || !allowed_from(&key.ip_allowlist, ip) {
        auth_failures::record(st, Reason::Address, Claimed::Token(&token), ip).await;
        detect::agent_refused(st, &key, AgentRefusal::Address, ip).await;
        return Err(Error::Forbidden(WRONG_ADDRESS));
    }
    admitted(st, &key, "token", ip)?;
    // A use is spent only by an answer that delivers something (`secrets::spend_use`),
    // never by an `approval_required` answer or a status poll; here only "none left".
    if token.max_uses.is_some_and(|max| token.uses >= max) {
        return Err(Error::Unauthenticated(BAD_TOKEN));
    }
    touch(st, &key, now, ip).await;
    Ok((token, key))
}

/// What a token request asks for, checked against the key and the tenant's rules.
struct Checked {
    scopes: Vec<Scope>,
    ttl: Duration,
    ip_allowlist: Vec<IpNet>,
}

/// Check a token request: scopes within the key's, a lifetime within the tenant's
/// `max_token_ttl`, a sane use count and allowlist. Refusals of the key's limits are
/// audited with `refused`.
async fn check_request(
    st: &Vault,
    key: &KeyRecord,
    req: &IssueTokenRequest,
    refused: impl Fn(&'static str) -> NewEvent,
) -> Result<Checked> {
    let scopes = check_scopes(&req.scopes)?;
    if !scopes_subset(&scopes, &key.scopes) {
        st.store.append_event(refused("scopes_exceed_key")).await?;
        return Err(Error::Forbidden(
            "A token's scopes must be a subset of its key's scopes.",
        ));
    }
    let ttl = match req.ttl.as_deref() {
        None => DEFAULT_TOKEN_TTL,
        Some(t) => {
            duration::parse(t).map_err(|e| Error::invalid_field(format!("ttl: {e}."), "ttl"))?
        }
    };
    let max_ttl = crate::tenant::rules_of(st, &key.tenant_id)
        .await?
        .max_token_ttl;
    if ttl > max_ttl {
        st.store.append_event(refused("ttl_exceeds_max")).await?;
        return Err(Error::invalid_field(
            format!(
                "ttl may be at most {} (the tenant's max_token_ttl).",
                duration::format(max_ttl)
            ),
            "ttl",
        ));
    }
    if let Some(n) = req.max_uses
        && !(1..=MAX_USES).contains(&n)
    {
        return Err(Error::invalid_field(
            format!("max_uses must be between 1 and {MAX_USES}."),
            "max_uses",
        ));
    }
    let ip_allowlist = parse_allowlist(req.ip_allowlist.as_deref())?;
    Ok(Checked {
        scopes,
        ttl,
        ip_allowlist,
    })
}

/// `POST /v1/tokens`: a short-lived token whose scopes are a subset of the key's.
pub async fn issue_token(
    st: &Vault,
    caller: &KeyCaller,
    req: IssueTokenRequest,
    client: &ClientInfo,
) -> Result<IssueTokenResponse> {
    let key = &caller.key;
    let now = st.clock.now();
    let refused = |reason: &'static str| {
        NewEvent::new("token.issued", now, client)
            .tenant(&key.tenant_id)
            .actor(ActorKind::AgentKey, &key.id)
            .outcome(Outcome::Denied)
            .detail("reason", reason)
    };
    let checked = check_request(st, key, &req, refused).await?;
    let secret = Credential::generate(CredentialKind::ScopedToken);
    let record = TokenRecord {
        id: ids::new_id(now),
        tenant_id: key.tenant_id.clone(),
        key_id: key.id.clone(),
        scopes: checked.scopes,
        ip_allowlist: checked.ip_allowlist,
        expires_at: token_expiry(key, now, checked.ttl),
        max_uses: req.max_uses,
        uses: 0,
        created_at: now,
        revoked_at: None,
    };
    let expires_at = record.expires_at;
    let ev = NewEvent::new("token.issued", now, client)
        .tenant(&key.tenant_id)
        .actor(ActorKind::AgentKey, &key.id)
        .target(format!("token:{}", record.id))
        .detail(
            "scopes",
            record
                .scopes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
        )
        .detail("expires_at", expires_at.to_rfc3339())
        .detail("max_uses", record.max_uses);
    let id = record.id.clone();
    st.store
        .create_token(record, st.keys.credential_hash(secret.expose()), ev)
        .await?;
    Ok(IssueTokenResponse {
        token: secret.expose().to_owned().into(),
        id,
        expires_at,
    })
}

/// Who is revoking a token: the key that issued it, or a person who may manage that key.
pub enum TokenRevoker<'a> {
    Session(&'a Session),
    Key(&'a KeyRecord),
}

pub async fn revoke_token(
    st: &Vault,
    by: TokenRevoker<'_>,
    token_id: &str,
    client: &ClientInfo,
) -> Result<()> {
    let now = st.clock.now();
    let (tenant_id, base) = match &by {
        TokenRevoker::Session(s) => (
            s.tenant_id().to_owned(),
            NewEvent::new("token.revoked", now, client).user(s.tenant_id(), &s.user.id),
        ),
        TokenRevoker::Key(k) => (
            k.tenant_id.clone(),
            NewEvent::new("token.revoked", now, client)
                .tenant(&k.tenant_id)
                .actor(ActorKind::AgentKey, &k.id),
        ),
    };
    let token = st.store.token(&tenant_id, token_id).await?;
    let allowed = match (&token, &by) {
        (None, _) => false,
        (Some(t), TokenRevoker::Key(k)) => t.key_id == k.id,
        (Some(_), TokenRevoker::Session(s)) if s.user.role.is_admin() => true,
        (Some(t), TokenRevoker::Session(s)) => st
            .store
            .key(&tenant_id, &t.key_id)
            .await?
            .is_some_and(|k| k.owner_id == s.user.id),
    };
    if !allowed {
        st.store
            .append_event(base.outcome(Outcome::Failure).detail("reason", "not_found"))
            .await?;
        return Err(Error::NotFound);
    }
    let ev = base.target(format!("token:{token_id}"));
    st.store.revoke_token(&tenant_id, token_id, now, ev).await?;
    Ok(())
}

/// A token never outlives the key that issued it.
fn token_expiry(key: &KeyRecord, now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    match key.expires_at {
        Some(k) if k < now + ttl => k,
        _ => now + ttl,
    }
}
