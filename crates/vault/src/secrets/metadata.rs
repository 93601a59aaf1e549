//! What exists, without opening anything: a secret's metadata and versions, and the
//! listing by prefix. Agents see only paths one of their scopes reaches.

use keyhold_core::api::{MetadataQuery, Page, SecretMetadata, SecretSummary, SecretVersionInfo};
use keyhold_core::path::{PathPrefix, SecretPath};
use keyhold_core::scope::Action;

use super::{NOT_IN_SCOPE, permits, tenant_of};
use crate::Vault;
use crate::auth::SecretsCaller;
use crate::error::{Error, Result};

/// Agents see metadata of the paths any of their scopes reaches (whatever the action).
fn sees(c: &SecretsCaller, path: &SecretPath) -> bool {
    Action::ALL.into_iter().any(|a| permits(c, a, path))
}

/// `GET /v1/metadata/{path}`: kind, tier and versions of one secret.
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

/// The secrets under a prefix, a page at a time.
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
