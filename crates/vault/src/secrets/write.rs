//! Writing and deleting secrets: the write gate (sudo window, approvals, tiers), sealing
//! the new version under the tenant key, and retrying when the key, the secret or the
//! grant changed meanwhile.

use std::sync::Arc;

use keyhold_core::api::{ApprovalOperation, PutSecretRequest, SecretWritten};
use keyhold_core::path::SecretPath;
use keyhold_core::scope::Action;
use keyhold_core::tier::Tier;
use zeroize::Zeroizing;

use super::{AGENT_TIER, NOT_IN_SCOPE, actor_ref, event, grant_for, permits, spend_use, tenant_of};
use crate::Vault;
use crate::approvals::{self, Ask};
use crate::audit::{ClientInfo, NewEvent, Outcome};
use crate::auth::SecretsCaller;
use crate::auth_failures::Reason;
use crate::crypto;
use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::keys::Key32;
use crate::store::{
    Conflict, Deletion, GrantUse, NewVersion, Sealed, Sealer, SecretRecord, StoreError,
};

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

/// `PUT /v1/secrets/{path}`: a new version, sealed under the tenant's current key.
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
        let seal = sealer(kek, &tenant, path, &req);
        let ev = write_event(
            event(c, "secret.write", now, client, path),
            &req,
            grant.as_ref(),
        );
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

/// Seals the value for the version number the store assigns, inside its transaction.
fn sealer(kek: Arc<Key32>, tenant: &str, path: &SecretPath, req: &PutSecretRequest) -> Sealer {
    let value = Zeroizing::new(req.value.expose().as_bytes().to_vec());
    let (t, p) = (tenant.to_owned(), path.as_str().to_owned());
    Box::new(move |version: u32| {
        crypto::seal_value(&kek, &t, &p, version, &value)
            .map(|(ciphertext, wrapped_dek)| Sealed {
                ciphertext,
                wrapped_dek,
            })
            .map_err(|e| StoreError::Other(e.into()))
    })
}

/// The write's audit event: the tier it sets and the grant it spends, if any.
fn write_event(mut ev: NewEvent, req: &PutSecretRequest, grant: Option<&GrantUse>) -> NewEvent {
    if let Some(t) = req.tier {
        ev = ev.detail("tier", t.as_str());
    }
    if let Some(g) = grant {
        ev = ev
            .detail("approval_id", g.approval_id.clone())
            .detail("operation", g.operation.as_str());
    }
    ev
}

/// `DELETE /v1/secrets/{path}`: all versions, behind the approval gate for tiered secrets.
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
