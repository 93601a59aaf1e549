//! Reading a secret's value: scope, approval gate, token use, decryption, and the audit
//! event that spends the grant.

use keyhold_core::Sensitive;
use keyhold_core::api::{ApprovalOperation, SecretValue};
use keyhold_core::path::SecretPath;
use keyhold_core::scope::Action;

use super::{NOT_IN_SCOPE, event, grant_for, permits, spend_use, tenant_of};
use crate::approvals::Ask;
use crate::audit::{ClientInfo, Outcome};
use crate::auth::SecretsCaller;
use crate::auth_failures::Reason;
use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::store::Conflict;
use crate::{Vault, crypto};

/// `GET /v1/secrets/{path}`: the value of the current (or a given) version.
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
    let critical = secret.tier == keyhold_core::tier::Tier::Critical;
    crate::detect::secret_read(st, tenant, agent_key(c), path.as_str(), critical).await;
    Ok(SecretValue {
        path: path.clone(),
        version: row.version,
        value: Sensitive::new(value),
        kind: secret.kind,
        tier: secret.tier,
    })
}

/// The agent key behind the caller, if an agent: what the read-rate rule counts by.
fn agent_key(c: &SecretsCaller) -> Option<&crate::store::KeyRecord> {
    match c {
        SecretsCaller::Session(_) => None,
        SecretsCaller::Key(k) => Some(&k.key),
        SecretsCaller::Token(t) => Some(&t.key),
    }
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
