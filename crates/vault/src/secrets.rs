//! Secrets: path parsing at the edge, permission checks, envelope encryption, versions,
//! metadata, and KEK rotation.
//!
//! Who may do what (docs/permissions.md): a signed-in member of the tenant may read, write
//! and delete the tenant's secrets whatever their role; an agent key or scoped token only
//! what its scopes allow (a token: its own scopes and its key's). Over that sits the
//! approval gate (`crate::approvals`), for every caller alike: reading or deleting a
//! `sensitive` or `critical` secret, lowering its tier, and an agent's write to a
//! `critical` one need a grant for exactly that operation on exactly that secret. Without
//! one the call opens (or reuses) a request and gets 403 `approval_required`; with one,
//! the grant is spent in the same transaction as the action and its audit event. A person
//! writing a tiered secret needs the sudo window.

use crate::store::Conflict;
use keyhold_core::Sensitive;
use keyhold_core::api::ApprovalOperation;
use keyhold_core::api::{
    KekRotated, MetadataQuery, Page, PutSecretRequest, SecretMetadata, SecretSummary, SecretValue,
    SecretVersionInfo, SecretWritten,
};
use keyhold_core::path::{PathPrefix, SecretPath};
use keyhold_core::scope::Action;
use keyhold_core::tier::Tier;
use zeroize::Zeroizing;

use crate::Vault;
use crate::agent_keys::agent_allows;
use crate::approvals::{self, Ask};
use crate::audit::{ClientInfo, NewEvent, Outcome};
use crate::auth::SecretsCaller;
use crate::auth_failures::Reason;
use crate::crypto;
use crate::error::{Error, Result};
use crate::store::{Deletion, GrantUse, NewVersion, Sealed, SecretRecord, StoreError};
use crate::tokens;

const NOT_IN_SCOPE: &str = "Your scopes do not allow this on this secret.";
const AGENT_TIER: &str = "Agents cannot change a secret's tier; ask a member of the tenant.";

use crate::envelope::Envelope;

/// The secret path of a request, from the raw (still encoded) URI path after the route's
/// fixed part. Decoded exactly once, segment by segment (`percent-encoding`), and then
/// validated: an encoded `/` cannot create a segment boundary, `%2e%2e` becomes `..` and
/// is refused, a double encoding leaves a `%` behind and is refused, and so does an
/// escape that is not two hex digits (left as it was, `%` and all). No scope is matched
/// before this.
pub fn parse_raw_path(raw: &str) -> Result<SecretPath> {
    let mut segments = Vec::new();
    for seg in raw.split('/') {
        let text = percent_encoding::percent_decode_str(seg)
            .decode_utf8()
            .map_err(|_| Error::invalid("The path is not valid UTF-8 once decoded."))?;
        if text.contains('/') {
            return Err(Error::invalid(
                "An encoded `/` (%2F) is not allowed in a path; use a plain `/` between segments.",
            ));
        }
        segments.push(text.into_owned());
    }
    SecretPath::parse(&segments.join("/"))
        .map_err(|e| Error::invalid(format!("Invalid secret path: {e}.")))
}

fn tenant_of(c: &SecretsCaller) -> &str {
    match c {
        SecretsCaller::Session(s) => s.tenant_id(),
        SecretsCaller::Key(k) => &k.key.tenant_id,
        SecretsCaller::Token(t) => &t.token.tenant_id,
    }
}

/// Sessions: every role may read, write and delete (docs/permissions.md). Agents: scopes.
fn permits(c: &SecretsCaller, action: Action, path: &SecretPath) -> bool {
    match c {
        SecretsCaller::Session(_) => true,
        SecretsCaller::Key(k) => agent_allows(&k.key, None, action, path),
        SecretsCaller::Token(t) => agent_allows(&t.key, Some(&t.token), action, path),
    }
}

fn actor_ref(c: &SecretsCaller) -> String {
    match c {
        SecretsCaller::Session(s) => format!("user:{}", s.user.id),
        SecretsCaller::Key(k) => format!("agent_key:{}", k.key.id),
        SecretsCaller::Token(t) => format!("token:{}", t.token.id),
    }
}

fn event(
    c: &SecretsCaller,
    action: &'static str,
    now: chrono::DateTime<chrono::Utc>,
    client: &ClientInfo,
    path: &SecretPath,
) -> NewEvent {
    approvals::caller_event(c, action, now, client).target(format!("secret:{path}"))
}

/// Spend one use of a `max_uses` token. Only answers that deliver something spend one:
/// an `approval_required` answer or an approval-status poll leaves the count alone.
async fn spend_use(
    st: &Vault,
    c: &SecretsCaller,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    if let SecretsCaller::Token(t) = c
        && t.token.max_uses.is_some()
        && !st
            .store
            .use_token(&t.token.tenant_id, &t.token.id, now)
            .await?
    {
        return Err(Error::Unauthenticated(tokens::BAD_TOKEN));
    }
    Ok(())
}

/// The usable grant of `c` for `ask`, or the request opened (or found) for it and the
/// audited 403 `approval_required` with its id.
async fn grant_for(
    st: &Vault,
    c: &SecretsCaller,
    ask: Ask<'_>,
    denied: NewEvent,
    client: &ClientInfo,
) -> Result<String> {
    let now = st.clock.now();
    let r = approvals::open_request(st, c, ask, None, client).await?;
    if approvals::usable(&r, now) {
        return Ok(r.id);
    }
    st.store
        .append_event(
            denied
                .outcome(Outcome::Denied)
                .detail("reason", "approval_required")
                .detail("tier", ask.secret.tier.as_str())
                .detail("operation", ask.operation.as_str())
                .detail("approval_id", r.id.clone())
                .detail("status", r.status.as_str()),
        )
        .await?;
    Err(approvals::refusal(st, c, &r).await?)
}

pub async fn read(
    st: &Vault,
    c: &SecretsCaller,
    path: &SecretPath,
    version: Option<u32>,
    client: &ClientInfo,
) -> Result<SecretValue> {
    let now = st.clock.now();
    let ev = |outcome, reason: &'static str| {
        event(c, "secret.read", now, client, path)
            .outcome(outcome)
            .detail("reason", reason)
    };
    if !permits(c, Action::Read, path) {
        st.store.append_event(ev(Outcome::Denied, "scope")).await?;
        st.metrics.agent_auth_failure(Reason::Scope);
        return Err(Error::Forbidden(NOT_IN_SCOPE));
    }
    let tenant = tenant_of(c);
    let Some((secret, row)) = st.store.secret_version(tenant, path, version).await? else {
        st.store
            .append_event(ev(Outcome::Failure, "not_found"))
            .await?;
        return Err(Error::NotFound);
    };
    let ask = Ask {
        secret: &secret,
        operation: ApprovalOperation::Read,
        to_tier: None,
    };
    let read_event = || event(c, "secret.read", now, client, path);
    // The gate holds for every caller: agents, tokens and people of every role.
    let grant = if secret.tier.needs_approval() {
        Some(grant_for(st, c, ask, read_event(), client).await?)
    } else {
        None
    };
    spend_use(st, c, now).await?;
    let value = open_version(st, tenant, path, &row).await;
    let Some(value) = value else {
        st.store
            .append_event(
                ev(Outcome::Failure, "integrity_check_failed").detail("version", row.version),
            )
            .await?;
        return Err(Error::internal(anyhow::anyhow!(
            "secret version failed its integrity check (tenant {tenant}, {path}@{})",
            row.version
        )));
    };
    let read = read_event().detail("version", row.version);
    match grant {
        Some(id) => {
            let read = read.detail("approval_id", id.clone());
            if !st
                .store
                .consume_grant(tenant, &id, &secret.id, now, read)
                .await?
            {
                // Another read used the grant first, or a change voided it: ask again.
                grant_for(st, c, ask, read_event(), client).await?;
                return Err(Error::Conflict(Conflict::GrantGone.message()));
            }
        }
        None => st.store.append_event(read).await?,
    }
    Ok(SecretValue {
        path: path.clone(),
        version: row.version,
        value: Sensitive::new(value),
        kind: secret.kind,
        tier: secret.tier,
    })
}

/// Decrypt one stored version; `None` when any integrity check fails.
async fn open_version(
    st: &Vault,
    tenant: &str,
    path: &SecretPath,
    row: &crate::store::VersionRow,
) -> Option<String> {
    let kek = Envelope::of(st).kek(tenant, row.kek_version).await.ok()?;
    let bytes = crypto::open_value(
        &kek,
        tenant,
        path.as_str(),
        row.version,
        &row.ciphertext,
        &row.wrapped_dek,
    )
    .ok()?;
    String::from_utf8(bytes.to_vec()).ok()
}

/// The gate of a write, decided on the secret as it is now (`current`): a person needs
/// the sudo window to write a tiered secret and a grant to lower its tier; an agent may
/// not change a tier and needs a grant to overwrite a critical secret.
async fn gate_write(
    st: &Vault,
    c: &SecretsCaller,
    path: &SecretPath,
    req: &PutSecretRequest,
    current: Option<&SecretRecord>,
    client: &ClientInfo,
) -> Result<Option<GrantUse>> {
    let now = st.clock.now();
    let denied = || event(c, "secret.write", now, client, path);
    let refuse = |reason: &'static str| denied().outcome(Outcome::Denied).detail("reason", reason);
    let (operation, to_tier) = match (c, current) {
        (SecretsCaller::Session(s), cur) => {
            let tiered = cur.is_some_and(|c| c.tier.needs_approval())
                || req.tier.is_some_and(Tier::needs_approval);
            if tiered && !crate::sessions::in_sudo_window(&s.session, now) {
                st.store.append_event(refuse("reauth_required")).await?;
                return Err(Error::ReauthRequired);
            }
            match (cur, req.tier) {
                (Some(cur), Some(to)) if to < cur.tier => (ApprovalOperation::LowerTier, Some(to)),
                _ => return Ok(None),
            }
        }
        (_, Some(cur)) => {
            if req.tier.is_some_and(|t| t != cur.tier) {
                st.store.append_event(refuse("tier_change")).await?;
                return Err(Error::Forbidden(AGENT_TIER));
            }
            if cur.tier != Tier::Critical {
                return Ok(None);
            }
            (ApprovalOperation::AgentWrite, None)
        }
        (_, None) => return Ok(None),
    };
    let Some(secret) = current else {
        return Ok(None);
    };
    let ask = Ask {
        secret,
        operation,
        to_tier,
    };
    let approval_id = grant_for(st, c, ask, denied(), client).await?;
    Ok(Some(GrantUse {
        approval_id,
        operation,
    }))
}

pub async fn write(
    st: &Vault,
    c: &SecretsCaller,
    path: &SecretPath,
    req: PutSecretRequest,
    client: &ClientInfo,
) -> Result<SecretWritten> {
    let now = st.clock.now();
    let tenant = tenant_of(c).to_owned();
    if !permits(c, Action::Write, path) {
        let ev = event(c, "secret.write", now, client, path)
            .outcome(Outcome::Denied)
            .detail("reason", "scope");
        st.store.append_event(ev).await?;
        st.metrics.agent_auth_failure(Reason::Scope);
        return Err(Error::Forbidden(NOT_IN_SCOPE));
    }
    let vault = Envelope::of(st);
    let mut attempts = 0;
    let record: SecretRecord = loop {
        attempts += 1;
        let current = st.store.secret(&tenant, path).await?;
        let grant = gate_write(st, c, path, &req, current.as_ref(), client).await?;
        if attempts == 1 {
            spend_use(st, c, now).await?;
        }
        let (kek_version, kek) = vault.current_kek(&tenant, now).await?;
        let value = Zeroizing::new(req.value.expose().as_bytes().to_vec());
        let (t, p) = (tenant.clone(), path.as_str().to_owned());
        let seal = Box::new(move |version: u32| {
            crypto::seal_value(&kek, &t, &p, version, &value)
                .map(|(ciphertext, wrapped_dek)| Sealed {
                    ciphertext,
                    wrapped_dek,
                })
                .map_err(|e| StoreError::Other(e.into()))
        });
        let mut ev = event(c, "secret.write", now, client, path);
        if let Some(t) = req.tier {
            ev = ev.detail("tier", t.as_str());
        }
        if let Some(g) = &grant {
            ev = ev
                .detail("approval_id", g.approval_id.clone())
                .detail("operation", g.operation.as_str());
        }
        let new = NewVersion {
            tenant_id: tenant.clone(),
            path: path.clone(),
            kind: req.kind,
            tier: req.tier,
            kek_version,
            created_by: actor_ref(c),
            now,
            seen: current.map(|s| (s.id, s.tier)),
            grant,
            voided: approvals::voided_event,
        };
        match st.store.put_secret(new, seal, ev).await {
            Ok(r) => break r,
            // The tenant key rotated, the secret changed or the grant went meanwhile:
            // decide again on what is there now.
            Err(StoreError::Conflict(m))
                if matches!(
                    m,
                    Conflict::StaleKek | Conflict::SecretChanged | Conflict::GrantGone
                ) && attempts < 3 =>
            {
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    };
    Ok(SecretWritten {
        path: record.path,
        version: record.current_version,
        tier: record.tier,
        kind: record.kind,
        updated_at: record.updated_at,
    })
}

pub async fn delete(
    st: &Vault,
    c: &SecretsCaller,
    path: &SecretPath,
    client: &ClientInfo,
) -> Result<()> {
    let now = st.clock.now();
    let tenant = tenant_of(c);
    let ev = || event(c, "secret.delete", now, client, path);
    if !permits(c, Action::Delete, path) {
        let ev = ev().outcome(Outcome::Denied).detail("reason", "scope");
        st.store.append_event(ev).await?;
        st.metrics.agent_auth_failure(Reason::Scope);
        return Err(Error::Forbidden(NOT_IN_SCOPE));
    }
    let not_found = || ev().outcome(Outcome::Failure).detail("reason", "not_found");
    let mut attempts = 0;
    loop {
        attempts += 1;
        let Some(secret) = st.store.secret(tenant, path).await? else {
            st.store.append_event(not_found()).await?;
            return Err(Error::NotFound);
        };
        let grant = if secret.tier.needs_approval() {
            let ask = Ask {
                secret: &secret,
                operation: ApprovalOperation::Delete,
                to_tier: None,
            };
            Some(grant_for(st, c, ask, ev(), client).await?)
        } else {
            None
        };
        if attempts == 1 {
            spend_use(st, c, now).await?;
        }
        let mut done = ev();
        if let Some(id) = &grant {
            done = done.detail("approval_id", id.clone());
        }
        let del = Deletion {
            tenant_id: tenant.to_owned(),
            path: path.clone(),
            secret_id: secret.id,
            grant,
            voided: approvals::voided_event,
        };
        match st.store.delete_secret(del, done).await {
            Ok(()) => return Ok(()),
            Err(StoreError::NotFound) => {
                st.store.append_event(not_found()).await?;
                return Err(Error::NotFound);
            }
            Err(StoreError::Conflict(m))
                if matches!(m, Conflict::SecretChanged | Conflict::GrantGone) && attempts < 3 =>
            {
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Agents see metadata of the paths any of their scopes reaches (whatever the action).
fn sees(c: &SecretsCaller, path: &SecretPath) -> bool {
    Action::ALL.into_iter().any(|a| permits(c, a, path))
}

pub async fn metadata(st: &Vault, c: &SecretsCaller, path: &SecretPath) -> Result<SecretMetadata> {
    if !sees(c, path) {
        return Err(Error::Forbidden(NOT_IN_SCOPE));
    }
    let tenant = tenant_of(c);
    let secret = st
        .store
        .secret(tenant, path)
        .await?
        .ok_or(Error::NotFound)?;
    let versions = st.store.secret_versions(tenant, path).await?;
    Ok(SecretMetadata {
        path: secret.path,
        kind: secret.kind,
        tier: secret.tier,
        current_version: secret.current_version,
        created_at: secret.created_at,
        updated_at: secret.updated_at,
        versions: versions
            .into_iter()
            .map(|v| SecretVersionInfo {
                version: v.version,
                created_at: v.created_at,
                created_by: v.created_by,
            })
            .collect(),
    })
}

pub async fn list(st: &Vault, c: &SecretsCaller, q: &MetadataQuery) -> Result<Page<SecretSummary>> {
    let limit = crate::paging::limit(q.limit)?;
    let prefix = PathPrefix::parse(q.prefix.as_deref().unwrap_or_default())
        .map_err(|e| Error::invalid(format!("Invalid prefix: {e}.")))?;
    let after = q
        .cursor
        .as_deref()
        .map(|c| crate::paging::decode_cursor('p', c))
        .transpose()?;
    let rows = st
        .store
        .list_secrets(tenant_of(c), &prefix, after.as_deref(), limit)
        .await?;
    let next_cursor = if rows.len() == limit as usize {
        rows.last()
            .map(|r| crate::paging::encode_cursor('p', r.path.as_str()))
    } else {
        None
    };
    Ok(Page {
        items: rows
            .into_iter()
            .filter(|r| sees(c, &r.path))
            .map(|r| SecretSummary {
                path: r.path,
                kind: r.kind,
                tier: r.tier,
                current_version: r.current_version,
                updated_at: r.updated_at,
            })
            .collect(),
        next_cursor,
    })
}

/// `POST /v1/admin/kek/rotate` for the caller's tenant (owners and admins).
pub async fn rotate_kek(
    st: &Vault,
    s: &crate::auth::Session,
    client: &ClientInfo,
) -> Result<KekRotated> {
    let now = st.clock.now();
    let base = NewEvent::new("kek.rotated", now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("tenant:{}", s.tenant_id()));
    if !s.user.role.is_admin() {
        st.store
            .append_event(base.outcome(Outcome::Denied).detail("reason", "role"))
            .await?;
        return Err(Error::Forbidden(
            "Only owners and admins can rotate the tenant key.",
        ));
    }
    match Envelope::of(st)
        .rotate(s.tenant_id(), now, base.clone())
        .await
    {
        Ok(r) => Ok(r),
        Err(e) => {
            st.store
                .append_event(
                    base.outcome(Outcome::Failure)
                        .detail("reason", "rewrap_failed"),
                )
                .await?;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_raw_path;

    #[test]
    fn raw_paths_are_decoded_once_and_validated() {
        assert_eq!(parse_raw_path("prod/%4B").unwrap().as_str(), "prod/K");
        for bad in [
            "prod/%2e%2e/K",
            "prod%2FK",
            "prod/%252e",
            "prod/%+4B",
            "prod/%4",
            "prod/%zz",
            "prod/K%00",
            "prod/%ff",
        ] {
            assert!(parse_raw_path(bad).is_err(), "{bad} was accepted");
        }
    }
}
