//! An agent key after its creation: its details with how it was used, changing its expiry
//! and IP allowlist, and rotating it (a new secret with the same name, scopes and
//! allowlist; the old secret keeps working for a chosen overlap, or is revoked at once).
//!
//! Who may: the key's owner, or an owner or admin of the tenant (the rule revocation
//! follows); anyone else gets 404, as for a key that does not exist. Changes take the
//! sudo window, are audited (`key.updated`, `key.rotated`) and mailed to the key's owner,
//! who may not be the admin making them. A revoked key stays revoked: changing or rotating
//! it is 409.
//!
//! Usage comes from the audit log, which every agent request already writes to: reading
//! it here costs the agents' hot path nothing.

use chrono::{DateTime, Duration, Utc};
use ipnet::IpNet;
use keyhold_core::api::schema::{DEFAULT_ROTATION_OVERLAP, MAX_ROTATION_OVERLAP};
use keyhold_core::api::{
    AgentKey, KeyAddress, KeyDetails, KeyUsage, RotateKeyRequest, RotateKeyResponse,
    UpdateKeyRequest,
};
use keyhold_core::credential::{Credential, CredentialKind};
use keyhold_core::duration;

use crate::Vault;
use crate::agent_keys::{parse_allowlist, public_key_info, to_api};
use crate::audit::{ClientInfo, NewEvent, Outcome};
use crate::auth::{Session, SudoSession};
use crate::error::{Error, Result};
use crate::ids;
use crate::notify::{self, Change};
use crate::store::{Conflict, KeyRecord, OldKeyEnd, UsageWindows};

/// How far back the detail view lists the addresses a key was used from, and how many.
pub const ADDRESS_WINDOW: Duration = Duration::days(30);
pub const MAX_ADDRESSES: u32 = 10;

const SIGNING_KEY_ROTATION: &str = "An Ed25519 key rotates by adding its new public key \
     (POST /v1/keys/{id}/public-keys) and then retiring the old one; there is no secret to replace.";

fn may_manage(s: &Session, k: &KeyRecord) -> bool {
    s.user.role.is_admin() || k.owner_id == s.user.id
}

/// The key `key_id` if the caller may manage it (its owner, or an admin); a refusal is
/// audited under `action` and answered 404, like a key that does not exist.
pub(crate) async fn manageable(
    st: &Vault,
    s: &Session,
    key_id: &str,
    action: &'static str,
    client: &ClientInfo,
) -> Result<KeyRecord> {
    match st.store.key(s.tenant_id(), key_id).await? {
        Some(k) if may_manage(s, &k) => Ok(k),
        _ => {
            let ev = NewEvent::new(action, st.clock.now(), client)
                .user(s.tenant_id(), &s.user.id)
                .outcome(Outcome::Failure)
                .detail("reason", "not_found");
            st.store.append_event(ev).await?;
            Err(Error::NotFound)
        }
    }
}

/// `ev` with the notice `change` mailed to the key's owner (who may not be the caller).
pub(crate) async fn with_owner_notice(
    st: &Vault,
    key: &KeyRecord,
    ev: NewEvent,
    change: &Change,
    client: &ClientInfo,
) -> Result<NewEvent> {
    match st.store.user(&key.tenant_id, &key.owner_id).await? {
        Some(owner) => notify::with_notice(st, ev, &owner.email, change, client),
        None => Ok(ev),
    }
}

fn is_signing_key(k: &KeyRecord) -> bool {
    k.prefix.starts_with("ed25519:")
}

/// `GET /v1/keys/{id}`: the key as the list shows it, and its usage. A read: not audited.
pub async fn details(st: &Vault, s: &Session, key_id: &str) -> Result<KeyDetails> {
    let key = match st.store.key(s.tenant_id(), key_id).await? {
        Some(k) if may_manage(s, &k) => k,
        _ => return Err(Error::NotFound),
    };
    let now = st.clock.now();
    let windows = UsageWindows {
        day: now - Duration::days(1),
        week: now - Duration::days(7),
        addresses: now - ADDRESS_WINDOW,
        max_addresses: MAX_ADDRESSES,
    };
    let used = st.store.key_usage(s.tenant_id(), key_id, windows).await?;
    let mut api = to_api(&key);
    if is_signing_key(&key) {
        let pks = st
            .store
            .public_keys(s.tenant_id(), std::slice::from_ref(&key.id))
            .await?;
        api.public_keys = pks.iter().filter_map(public_key_info).collect();
    }
    Ok(KeyDetails {
        key: api,
        usage: KeyUsage {
            requests_24h: used.day,
            requests_7d: used.week,
            refused_7d: used.refused_week,
            recent_ips: used
                .addresses
                .into_iter()
                .map(|(ip, last_seen_at, requests)| KeyAddress {
                    ip,
                    last_seen_at,
                    requests,
                })
                .collect(),
        },
    })
}

/// A new expiry: in the future, and no further than a key's lifetime may reach.
fn check_expiry(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    if at <= now {
        return Err(Error::invalid_field(
            "expires_at must be in the future; to stop a key now, revoke it.",
            "expires_at",
        ));
    }
    if at > now + Duration::seconds(duration::MAX_SECONDS) {
        return Err(Error::invalid_field(
            "expires_at is too far away (at most ten years from now).",
            "expires_at",
        ));
    }
    Ok(at)
}

fn allowlist_words(list: &[IpNet]) -> String {
    if list.is_empty() {
        "it can be used from any address".into()
    } else {
        let nets: Vec<String> = list.iter().map(ToString::to_string).collect();
        format!("it can be used only from {}", nets.join(", "))
    }
}

fn expiry_words(at: Option<DateTime<Utc>>) -> String {
    match at {
        Some(t) => format!("it expires at {} UTC", t.format("%Y-%m-%d %H:%M:%S")),
        None => "it never expires".into(),
    }
}

/// The key's new expiry and allowlist as `req` asks (absent fields keep theirs), checked.
fn requested(
    key: &KeyRecord,
    req: &UpdateKeyRequest,
    now: DateTime<Utc>,
) -> Result<(Option<DateTime<Utc>>, Vec<IpNet>)> {
    let expires_at = match req.expires_at {
        None => key.expires_at,
        Some(None) => None,
        Some(Some(at)) => Some(check_expiry(at, now)?),
    };
    let ip_allowlist = match &req.ip_allowlist {
        None => key.ip_allowlist.clone(),
        Some(list) => parse_allowlist(list.as_deref())?,
    };
    Ok((expires_at, ip_allowlist))
}

/// `PATCH /v1/keys/{id}`: a new expiry and/or allowlist; the secret does not change. A
/// request that changes nothing writes nothing.
pub async fn update(
    st: &Vault,
    s: &SudoSession,
    key_id: &str,
    req: UpdateKeyRequest,
    client: &ClientInfo,
) -> Result<AgentKey> {
    const ACTION: &str = "key.updated";
    let mut key = manageable(st, s, key_id, ACTION, client).await?;
    if key.revoked_at.is_some() {
        return Err(Error::Conflict(Conflict::KeyRevoked.message()));
    }
    let now = st.clock.now();
    let (expires_at, ip_allowlist) = requested(&key, &req, now)?;
    let mut changed = Vec::new();
    let mut words = Vec::new();
    let mut ev = NewEvent::new(ACTION, now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("key:{}", key.id));
    if expires_at != key.expires_at {
        changed.push("expires_at");
        words.push(expiry_words(expires_at));
        ev = ev
            .detail("expires_at", expires_at.map(|t| t.to_rfc3339()))
            .detail(
                "previous_expires_at",
                key.expires_at.map(|t| t.to_rfc3339()),
            );
    }
    if ip_allowlist != key.ip_allowlist {
        changed.push("ip_allowlist");
        words.push(allowlist_words(&ip_allowlist));
        let nets: Vec<String> = ip_allowlist.iter().map(ToString::to_string).collect();
        ev = ev.detail("ip_allowlist", nets);
    }
    if changed.is_empty() {
        return Ok(to_api(&key));
    }
    let change = Change::AgentKeyChanged {
        name: key.name.clone(),
        what: words.join("; "),
    };
    let ev = with_owner_notice(st, &key, ev.detail("changed", changed), &change, client).await?;
    st.store
        .update_key(s.tenant_id(), &key.id, expires_at, ip_allowlist.clone(), ev)
        .await?;
    key.expires_at = expires_at;
    key.ip_allowlist = ip_allowlist;
    Ok(to_api(&key))
}

/// A rotation's overlap: `"0s"`/`"0m"`/`"0h"`/`"0"` (none) to 7 days.
fn overlap(text: Option<&str>) -> Result<Duration> {
    let text = text.unwrap_or(DEFAULT_ROTATION_OVERLAP);
    let d = if matches!(text, "0" | "0s" | "0m" | "0h") {
        Duration::zero()
    } else {
        duration::parse(text)
            .map_err(|e| Error::invalid_field(format!("overlap: {e}."), "overlap"))?
    };
    if d > Duration::seconds(MAX_ROTATION_OVERLAP) {
        return Err(Error::invalid_field(
            "overlap must be between 0s and 7d.",
            "overlap",
        ));
    }
    Ok(d)
}

/// The new key of a rotation: the old one's name, owner, scopes and allowlist, and its
/// lifetime (creation to expiry) counted again from now.
fn successor(old: &KeyRecord, id: uuid::Uuid, prefix: String, now: DateTime<Utc>) -> KeyRecord {
    KeyRecord {
        id: id.hyphenated().to_string(),
        tenant_id: old.tenant_id.clone(),
        owner_id: old.owner_id.clone(),
        name: old.name.clone(),
        prefix,
        scopes: old.scopes.clone(),
        ip_allowlist: old.ip_allowlist.clone(),
        expires_at: old.expires_at.map(|t| now + (t - old.created_at)),
        created_at: now,
        last_used_at: None,
        last_used_ip: None,
        revoked_at: None,
        suspended_at: None,
    }
}

/// `POST /v1/keys/{id}/rotate`: a new key (its secret shown this once) that replaces the
/// old one, which ends after `overlap` (revoked at once, with its tokens, when zero). A
/// suspended key may be rotated (the usual answer to a leak): the new key starts
/// unsuspended and the old one stays suspended until it ends.
pub async fn rotate(
    st: &Vault,
    s: &SudoSession,
    key_id: &str,
    req: RotateKeyRequest,
    client: &ClientInfo,
) -> Result<RotateKeyResponse> {
    const ACTION: &str = "key.rotated";
    let old = manageable(st, s, key_id, ACTION, client).await?;
    if old.revoked_at.is_some() {
        return Err(Error::Conflict(Conflict::KeyRevoked.message()));
    }
    if is_signing_key(&old) {
        return Err(Error::Conflict(SIGNING_KEY_ROTATION));
    }
    let overlap = overlap(req.overlap.as_deref())?;
    let now = st.clock.now();
    let id = ids::uuid_at(now);
    let secret = Credential::generate_with_id(CredentialKind::AgentKey, &id.simple().to_string())
        .map_err(|e| Error::internal(anyhow::anyhow!("generating a key: {e}")))?;
    let new = successor(&old, id, secret.display_prefix(), now);
    let end = if overlap.is_zero() {
        OldKeyEnd::RevokeAt(now)
    } else {
        OldKeyEnd::ExpireBy(now + overlap)
    };
    let old_ends = match end {
        OldKeyEnd::RevokeAt(t) => t,
        OldKeyEnd::ExpireBy(t) => old.expires_at.map_or(t, |e| e.min(t)),
    };
    let ev = NewEvent::new(ACTION, now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("key:{}", old.id))
        .detail("new_key_id", new.id.clone())
        .detail("overlap", duration::format(overlap))
        .detail("old_key_ends_at", old_ends.to_rfc3339())
        .detail("old_key_revoked", overlap.is_zero())
        .detail("expires_at", new.expires_at.map(|t| t.to_rfc3339()));
    let change = Change::AgentKeyRotated {
        name: old.name.clone(),
        old_ends,
    };
    let ev = with_owner_notice(st, &old, ev, &change, client).await?;
    let ends = st
        .store
        .rotate_key(
            &old.id,
            end,
            new.clone(),
            st.keys.credential_hash(secret.expose()),
            ev,
        )
        .await?;
    Ok(RotateKeyResponse {
        key: to_api(&new),
        secret: secret.expose().to_owned().into(),
        old_key_expires_at: ends,
    })
}
