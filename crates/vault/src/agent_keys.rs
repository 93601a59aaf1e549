//! Agent keys (`kha_`): creation (shown once), listing, authentication, revocation
//! (including by anyone who holds a leaked key), and the scope check every agent request
//! passes. Scoped tokens, which keys issue, are in `crate::tokens`.
//!
//! A `kha_` key carries its key id (see `keyhold_core::credential`): authentication looks
//! the key up by that id and compares the keyed hash of the whole credential in constant
//! time. Revoking a key revokes its tokens in the same transaction.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use ipnet::IpNet;
use keyhold_core::api::{AgentKey, CreateKeyRequest, CreateKeyResponse, Page, PublicKeyInfo};
use keyhold_core::credential::{Credential, CredentialKind};
use keyhold_core::duration;
use keyhold_core::email::clean_text;
use keyhold_core::scope::{Action, Scope, any_allows};
use subtle::ConstantTimeEq;

use crate::Vault;
use crate::audit::{ClientInfo, NewEvent, Outcome};
use crate::auth::Session;
use crate::auth_failures::{self, Claimed, Reason};
use crate::detect::{self, AgentRefusal};
use crate::error::{Error, Result};
use crate::ids;
use crate::notify::{self, Change};
use crate::sessions;
use crate::store::{KeyRecord, PublicKeyRecord, StoreError, TokenRecord};

pub const USE_A_KEY: &str = "Authenticate with an agent key (kha_...).";
const BAD_KEY: &str = "This agent key is not valid: it is unknown, revoked or expired.";
pub(crate) const WRONG_ADDRESS: &str = "This credential may not be used from your address.";

/// `last_used_at`/`last_used_ip` are written at most this often.
pub const TOUCH_EVERY: Duration = Duration::minutes(1);
pub use keyhold_core::api::schema::{MAX_ALLOWLIST, MAX_SCOPES};

fn field(name: &str) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("field".into(), name.into());
    m
}

fn invalid(field_name: &str, message: impl Into<String>) -> Error {
    Error::Invalid {
        message: message.into(),
        extra: field(field_name),
    }
}

/// Parse an allowlist: CIDRs or single addresses (a `/32` or `/128`).
pub fn parse_allowlist(entries: Option<&[String]>) -> Result<Vec<IpNet>> {
    let entries = entries.unwrap_or_default();
    if entries.len() > MAX_ALLOWLIST {
        return Err(invalid(
            "ip_allowlist",
            format!("At most {MAX_ALLOWLIST} allowlist entries."),
        ));
    }
    entries
        .iter()
        .map(|e| {
            let e = e.trim();
            e.parse::<IpNet>()
                .map(|n| n.trunc())
                .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    invalid(
                        "ip_allowlist",
                        format!("{e:?} is not an IP address or CIDR such as 10.0.0.0/8."),
                    )
                })
        })
        .collect()
}

pub(crate) fn allowed_from(list: &[IpNet], ip: Option<IpAddr>) -> bool {
    list.is_empty() || ip.is_some_and(|ip| list.iter().any(|n| n.contains(&ip)))
}

pub(crate) fn check_scopes(scopes: &[Scope]) -> Result<Vec<Scope>> {
    if scopes.is_empty() {
        return Err(invalid("scopes", "Give at least one scope."));
    }
    if scopes.len() > MAX_SCOPES {
        return Err(invalid("scopes", format!("At most {MAX_SCOPES} scopes.")));
    }
    let mut out = scopes.to_vec();
    out.sort();
    out.dedup();
    Ok(out)
}

pub fn to_api(k: &KeyRecord) -> AgentKey {
    AgentKey {
        id: k.id.clone(),
        name: k.name.clone(),
        prefix: k.prefix.clone(),
        scopes: k.scopes.clone(),
        expires_at: k.expires_at,
        ip_allowlist: k.ip_allowlist.iter().map(ToString::to_string).collect(),
        created_at: k.created_at,
        owner_id: k.owner_id.clone(),
        last_used_at: k.last_used_at,
        last_used_ip: k.last_used_ip.clone(),
        revoked_at: k.revoked_at,
        public_keys: Vec::new(),
        suspended_at: k.suspended_at,
    }
}

/// A stored public key as the API shows it (SPKI PEM).
pub fn public_key_info(pk: &PublicKeyRecord) -> Option<PublicKeyInfo> {
    Some(PublicKeyInfo {
        fingerprint: pk.fingerprint.clone(),
        public_key: keyhold_core::httpsig::public_key_pem(&pk.public_key)?,
        added_at: pk.added_at,
        retired_at: pk.retired_at,
    })
}

pub(crate) fn key_is_live(k: &KeyRecord, now: DateTime<Utc>) -> bool {
    k.revoked_at.is_none() && k.expires_at.is_none_or(|t| now < t)
}

pub async fn create_key(
    st: &Vault,
    s: &Session,
    req: CreateKeyRequest,
    client: &ClientInfo,
) -> Result<CreateKeyResponse> {
    let now = st.clock.now();
    let id = ids::uuid_at(now);
    let secret = Credential::generate_with_id(CredentialKind::AgentKey, &id.simple().to_string())
        .map_err(|e| Error::internal(anyhow::anyhow!("generating a key: {e}")))?;
    let record = new_key(st, s, &req, client, id, secret.display_prefix()).await?;
    let ev = created_event(st, s, &record, client)?;
    st.store
        .create_key(record.clone(), st.keys.credential_hash(secret.expose()), ev)
        .await?;
    Ok(CreateKeyResponse {
        key: to_api(&record),
        secret: secret.expose().to_owned().into(),
    })
}

/// The record of a key `req` asks for, checked: the sudo window (its refusal audited),
/// name, scopes, allowlist and expiry. Shared with Ed25519 keys (`signing_keys`).
pub(crate) async fn new_key(
    st: &Vault,
    s: &Session,
    req: &CreateKeyRequest,
    client: &ClientInfo,
    id: uuid::Uuid,
    prefix: String,
) -> Result<KeyRecord> {
    let now = st.clock.now();
    if !sessions::in_sudo_window(&s.session, now) {
        let ev = NewEvent::new("key.created", now, client)
            .user(s.tenant_id(), &s.user.id)
            .outcome(Outcome::Denied)
            .detail("reason", "reauth_required");
        st.store.append_event(ev).await?;
        return Err(Error::ReauthRequired);
    }
    let name =
        clean_text(&req.name, keyhold_core::api::schema::MAX_NAME_CHARS).ok_or_else(|| {
            invalid(
                "name",
                "Name must be 1 to 100 characters with no control characters.",
            )
        })?;
    let scopes = check_scopes(&req.scopes)?;
    let ip_allowlist = parse_allowlist(req.ip_allowlist.as_deref())?;
    let expires_at = match req.expires_in.as_deref() {
        None => None,
        Some(t) => Some(
            now + duration::parse(t)
                .map_err(|e| invalid("expires_in", format!("expires_in: {e}.")))?,
        ),
    };
    Ok(KeyRecord {
        id: id.hyphenated().to_string(),
        tenant_id: s.tenant_id().to_owned(),
        owner_id: s.user.id.clone(),
        name,
        prefix,
        scopes,
        ip_allowlist,
        expires_at,
        created_at: now,
        last_used_at: None,
        last_used_ip: None,
        revoked_at: None,
        suspended_at: None,
    })
}

/// `key.created`, with the notice mailed to its creator.
pub(crate) fn created_event(
    st: &Vault,
    s: &Session,
    record: &KeyRecord,
    client: &ClientInfo,
) -> Result<NewEvent> {
    let ev = NewEvent::new("key.created", record.created_at, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("key:{}", record.id))
        .detail("name", record.name.clone())
        .detail(
            "scopes",
            record
                .scopes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
        )
        .detail("expires_at", record.expires_at.map(|t| t.to_rfc3339()));
    let change = Change::AgentKeyCreated {
        name: record.name.clone(),
    };
    notify::with_notice(st, ev, &s.user.email, &change, client)
}

/// Owners and admins see every key of the tenant; everyone else their own.
pub async fn list_keys(
    st: &Vault,
    s: &Session,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<Page<AgentKey>> {
    let limit = crate::paging::limit(limit)?;
    let after = cursor
        .map(|c| crate::paging::decode_cursor('k', c))
        .transpose()?;
    let owner = (!s.user.role.is_admin()).then_some(s.user.id.as_str());
    let keys = st
        .store
        .list_keys(s.tenant_id(), owner, after.as_deref(), limit)
        .await?;
    let next_cursor = crate::paging::next_cursor(&keys, limit, 'k', |k| k.id.clone());
    let ids: Vec<String> = keys.iter().map(|k| k.id.clone()).collect();
    let public_keys = st.store.public_keys(s.tenant_id(), &ids).await?;
    let items = keys
        .iter()
        .map(|k| {
            let mut api = to_api(k);
            api.public_keys = public_keys
                .iter()
                .filter(|pk| pk.key_id == k.id)
                .filter_map(public_key_info)
                .collect();
            api
        })
        .collect();
    Ok(Page { items, next_cursor })
}

/// Revoke a key and its tokens. A key the caller may not manage is a 404, like one that
/// does not exist (or belongs to another tenant).
pub async fn revoke_key(st: &Vault, s: &Session, key_id: &str, client: &ClientInfo) -> Result<()> {
    let now = st.clock.now();
    let key = st.store.key(s.tenant_id(), key_id).await?;
    let manageable = key
        .as_ref()
        .is_some_and(|k| s.user.role.is_admin() || k.owner_id == s.user.id);
    if !manageable {
        let ev = NewEvent::new("key.revoked", now, client)
            .user(s.tenant_id(), &s.user.id)
            .outcome(Outcome::Failure)
            .detail("reason", "not_found");
        st.store.append_event(ev).await?;
        return Err(Error::NotFound);
    }
    let ev = NewEvent::new("key.revoked", now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("key:{key_id}"))
        .detail("method", "owner");
    st.store.revoke_key(s.tenant_id(), key_id, now, ev).await?;
    Ok(())
}

/// `POST /v1/keys/revoke-leaked`: anyone holding a leaked key (or token) can kill it. The
/// answer is the same whether or not it matched; the attempt is audited either way.
pub async fn revoke_leaked(st: &Vault, text: &str, client: &ClientInfo) -> Result<()> {
    let now = st.clock.now();
    let anonymous = |outcome, reason: &'static str| {
        NewEvent::new("key.revoked", now, client)
            .outcome(outcome)
            .detail("method", "leaked")
            .detail("reason", reason)
    };
    match Credential::parse(text.trim()) {
        Ok(c) if c.kind() == CredentialKind::AgentKey => {
            if let Some(key) = find_key(st, &c).await? {
                let ev = NewEvent::new("key.revoked", now, client)
                    .tenant(&key.tenant_id)
                    .target(format!("key:{}", key.id))
                    .detail("method", "leaked");
                match st.store.revoke_key(&key.tenant_id, &key.id, now, ev).await {
                    Ok(()) | Err(StoreError::NotFound) => {}
                    Err(e) => return Err(e.into()),
                }
                return Ok(());
            }
        }
        Ok(c) if c.kind() == CredentialKind::ScopedToken => {
            let hash = st.keys.credential_hash(c.expose());
            if let Some((token, _)) = st.store.token_for_auth(&hash).await? {
                let ev = NewEvent::new("token.revoked", now, client)
                    .tenant(&token.tenant_id)
                    .target(format!("token:{}", token.id))
                    .detail("method", "leaked");
                match st
                    .store
                    .revoke_token(&token.tenant_id, &token.id, now, ev)
                    .await
                {
                    Ok(()) | Err(StoreError::NotFound) => {}
                    Err(e) => return Err(e.into()),
                }
                return Ok(());
            }
        }
        _ => {
            st.store
                .append_event(anonymous(Outcome::Failure, "not_a_key"))
                .await?;
            return Ok(());
        }
    }
    st.store
        .append_event(anonymous(Outcome::Failure, "no_match"))
        .await?;
    Ok(())
}

/// The key a credential names, if its hash matches (revoked or not).
async fn find_key(st: &Vault, cred: &Credential) -> Result<Option<KeyRecord>> {
    let Some(id) = cred
        .embedded_id()
        .and_then(|h| uuid::Uuid::try_parse(h).ok())
    else {
        return Ok(None);
    };
    let Some((key, stored)) = st.store.key_for_auth(&id.hyphenated().to_string()).await? else {
        return Ok(None);
    };
    let presented = st.keys.credential_hash(cred.expose());
    if bool::from(presented.as_bytes().ct_eq(stored.as_bytes())) {
        Ok(Some(key))
    } else {
        Ok(None)
    }
}

pub(crate) async fn touch(st: &Vault, key: &KeyRecord, now: DateTime<Utc>, ip: Option<IpAddr>) {
    if key.last_used_at.is_none_or(|t| now >= t + TOUCH_EVERY) {
        // Bookkeeping: a failed touch must not fail the request it describes.
        if let Err(e) = st
            .store
            .touch_key(&key.tenant_id, &key.id, now, ip.map(|i| i.to_string()))
            .await
        {
            tracing::warn!(error = %e, "recording key use failed");
        }
    }
}

/// Why a key that exists no longer authenticates, if it does not.
pub(crate) fn lapsed(key: &KeyRecord, now: DateTime<Utc>) -> Option<Reason> {
    if key.revoked_at.is_some() {
        Some(Reason::Revoked)
    } else if key.expires_at.is_some_and(|t| now >= t) {
        Some(Reason::Expired)
    } else if key.suspended_at.is_some() {
        Some(Reason::Suspended)
    } else {
        None
    }
}

/// The id a well-formed `kha_` claims, in the form key ids are shown (not secret).
fn claimed_key_id(cred: &Credential) -> Option<String> {
    cred.embedded_id()
        .and_then(|h| uuid::Uuid::try_parse(h).ok())
        .map(|id| id.hyphenated().to_string())
}

/// The `kha_` key behind a bearer credential, checked: known, hash equal, unrevoked,
/// unexpired, used from an allowed address. Each refusal is audited and counted
/// (`auth_failures`).
pub async fn authenticate_key(st: &Vault, text: &str, ip: Option<IpAddr>) -> Result<KeyRecord> {
    let nobody = |key_id| Claimed::Nobody {
        kind: CredentialKind::AgentKey,
        key_id,
    };
    let Ok(cred) = Credential::parse_kind(text, CredentialKind::AgentKey) else {
        auth_failures::record(st, Reason::Malformed, nobody(None), ip).await;
        return Err(Error::Unauthenticated(BAD_KEY));
    };
    let Some(key) = find_key(st, &cred).await? else {
        let who = nobody(claimed_key_id(&cred));
        auth_failures::record(st, Reason::Unknown, who, ip).await;
        return Err(Error::Unauthenticated(BAD_KEY));
    };
    let now = st.clock.now();
    if let Some(reason) = lapsed(&key, now) {
        auth_failures::record(st, reason, Claimed::Key(&key), ip).await;
        detect::agent_refused(st, &key, refusal(reason), ip).await;
        return Err(refused(reason));
    }
    if !allowed_from(&key.ip_allowlist, ip) {
        auth_failures::record(st, Reason::Address, Claimed::Key(&key), ip).await;
        detect::agent_refused(st, &key, AgentRefusal::Address, ip).await;
        return Err(Error::Forbidden(WRONG_ADDRESS));
    }
    admitted(st, &key, "agent_key", ip)?;
    touch(st, &key, now, ip).await;
    Ok(key)
}

/// What a refusal means to the detection rules.
pub(crate) fn refusal(reason: Reason) -> AgentRefusal {
    match reason {
        Reason::Revoked => AgentRefusal::Revoked,
        Reason::Address => AgentRefusal::Address,
        _ => AgentRefusal::Other,
    }
}

/// The answer to a lapsed key: `key_suspended` for a suspended one (its owner can have
/// it reinstated), the usual `unauthenticated` otherwise.
pub(crate) fn refused(reason: Reason) -> Error {
    if reason == Reason::Suspended {
        Error::KeySuspended
    } else {
        Error::Unauthenticated(BAD_KEY)
    }
}

/// The last check of an authenticated agent credential: its address is not blocked for
/// the tenant (an in-memory lookup, no store round trip). Counted either way.
pub(crate) fn admitted(
    st: &Vault,
    key: &KeyRecord,
    credential: &'static str,
    ip: Option<IpAddr>,
) -> Result<()> {
    if let Err(e) = detect::check_address(st, &key.tenant_id, ip) {
        st.metrics.agent_attempt(credential, "blocked");
        return Err(e);
    }
    st.metrics.agent_attempt(credential, "success");
    Ok(())
}

/// Whether an agent (key or token) may do `action` on `path`: the token's scopes, and its
/// key's as well (they are a subset at issue; checking both costs nothing).
pub fn agent_allows(
    key: &KeyRecord,
    token: Option<&TokenRecord>,
    action: Action,
    path: &keyhold_core::path::SecretPath,
) -> bool {
    any_allows(&key.scopes, action, path)
        && token.is_none_or(|t| any_allows(&t.scopes, action, path))
}
