//! Secrets: path parsing at the edge, permission checks, envelope encryption, versions,
//! metadata, and KEK rotation.
//!
//! Who may do what (docs/permissions.md): a signed-in member of the tenant may read, write
//! and delete the tenant's secrets whatever their role (for now); an agent key or scoped
//! token only what its scopes allow (a token: its own scopes and its key's). An agent's
//! read of a `sensitive` or `critical` secret needs an approval grant (`crate::approvals`):
//! without one it opens (or reuses) a request and gets 403 `approval_required`; with one,
//! the grant is consumed in the same transaction as the `secret.read` event.

use std::collections::HashMap;
use std::sync::Arc;

use keyhold_core::Sensitive;
use keyhold_core::api::{
    KekRotated, MetadataQuery, Page, PutSecretRequest, SecretMetadata, SecretSummary, SecretValue,
    SecretVersionInfo, SecretWritten,
};
use keyhold_core::path::{PathPrefix, SecretPath};
use keyhold_core::scope::Action;
use zeroize::Zeroizing;

use crate::agent_keys::agent_allows;
use crate::approvals;
use crate::audit::{ActorKind, ClientInfo, NewEvent, Outcome};
use crate::crypto::{self, IntegrityError, KekCache};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::SecretsCaller;
use crate::keys::{Key32, Keys};
use crate::state::AppState;
use crate::store::{KekRow, NewVersion, STALE_KEK, Sealed, SecretRecord, Store, StoreError};

const NOT_IN_SCOPE: &str = "Your scopes do not allow this on this secret.";
const AGENT_TIER: &str = "Agents cannot change a secret's tier; ask a member of the tenant.";

/// Everything envelope encryption needs, borrowed from the app state (or built by the
/// `kek rotate` command without a running server).
pub struct Vault<'a> {
    pub store: &'a dyn Store,
    pub keys: &'a Keys,
    pub cache: &'a KekCache,
}

impl<'a> Vault<'a> {
    pub fn of(st: &'a AppState) -> Self {
        Self {
            store: st.store.as_ref(),
            keys: &st.keys,
            cache: &st.keks,
        }
    }

    /// One KEK version of the tenant, unwrapped (from the cache when possible).
    pub async fn kek(&self, tenant: &str, version: u32) -> ApiResult<Arc<Key32>> {
        if let Some(k) = self.cache.get(tenant, version) {
            return Ok(k);
        }
        let row = self
            .store
            .kek(tenant, version)
            .await?
            .ok_or_else(|| ApiError::internal(IntegrityError))?;
        self.unwrap_row(&row)
    }

    fn unwrap_row(&self, row: &KekRow) -> ApiResult<Arc<Key32>> {
        let k = Arc::new(
            crypto::unwrap_kek(&self.keys.wrap, &row.tenant_id, row.version, &row.wrapped)
                .map_err(ApiError::internal)?,
        );
        self.cache.insert(&row.tenant_id, row.version, k.clone());
        Ok(k)
    }

    /// The tenant's current KEK, created on first use.
    pub async fn current_kek(
        &self,
        tenant: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> ApiResult<(u32, Arc<Key32>)> {
        let row = match self.store.current_kek(tenant).await? {
            Some(r) => r,
            None => {
                let kek = crypto::new_kek();
                let wrapped = crypto::wrap_kek(&self.keys.wrap, tenant, 1, &kek)
                    .map_err(ApiError::internal)?;
                self.store
                    .insert_first_kek(KekRow {
                        tenant_id: tenant.to_owned(),
                        version: 1,
                        wrapped,
                        created_at: now,
                    })
                    .await?;
                self.store.current_kek(tenant).await?.ok_or_else(|| {
                    ApiError::internal(anyhow::anyhow!("tenant KEK missing after insert"))
                })?
            }
        };
        if let Some(k) = self.cache.get(tenant, row.version) {
            return Ok((row.version, k));
        }
        Ok((row.version, self.unwrap_row(&row)?))
    }

    /// Give the tenant a new KEK version and re-wrap every data key under it, in one
    /// transaction with `event`; ciphertexts are not touched.
    pub async fn rotate(
        &self,
        tenant: &str,
        now: chrono::DateTime<chrono::Utc>,
        event: NewEvent,
    ) -> ApiResult<KekRotated> {
        self.current_kek(tenant, now).await?;
        let mut old: HashMap<u32, Arc<Key32>> = HashMap::new();
        let mut newest = 0;
        for row in self.store.keks(tenant).await? {
            newest = newest.max(row.version);
            let k = self.unwrap_row(&row)?;
            old.insert(row.version, k);
        }
        let version = newest + 1;
        let new = Arc::new(crypto::new_kek());
        let wrapped =
            crypto::wrap_kek(&self.keys.wrap, tenant, version, &new).map_err(ApiError::internal)?;
        let (t, n) = (tenant.to_owned(), new.clone());
        let rewrap = Box::new(move |d: &crate::store::DekRef<'_>| {
            let from = old.get(&d.kek_version).ok_or_else(|| {
                StoreError::Other(anyhow::anyhow!(
                    "{}@{} names KEK version {} which does not exist",
                    d.path,
                    d.version,
                    d.kek_version
                ))
            })?;
            crypto::rewrap_dek(from, &n, &t, d.path, d.version, d.wrapped_dek).map_err(|_| {
                StoreError::Other(anyhow::anyhow!(
                    "the data key of {}@{} failed its integrity check",
                    d.path,
                    d.version
                ))
            })
        });
        let row = KekRow {
            tenant_id: tenant.to_owned(),
            version,
            wrapped,
            created_at: now,
        };
        let rewrapped = self.store.rotate_kek(row, rewrap, event).await?;
        self.cache.forget_tenant(tenant);
        self.cache.insert(tenant, version, new);
        Ok(KekRotated {
            kek_version: version,
            rewrapped,
        })
    }
}

/// Percent-decode one path segment, once. `None` for a malformed escape.
fn decode_segment(raw: &str) -> Option<Vec<u8>> {
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            let s = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(s, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// The secret path of a request, from the raw (still encoded) URI path after the route's
/// fixed part. Decoded exactly once, segment by segment, and then validated: an encoded
/// `/` cannot create a segment boundary, `%2e%2e` becomes `..` and is refused, a double
/// encoding leaves a `%` behind and is refused. No scope is matched before this.
pub fn parse_raw_path(raw: &str) -> ApiResult<SecretPath> {
    let mut segments = Vec::new();
    for seg in raw.split('/') {
        let bytes = decode_segment(seg)
            .ok_or_else(|| ApiError::invalid("The path has a malformed %-escape."))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| ApiError::invalid("The path is not valid UTF-8 once decoded."))?;
        if text.contains('/') {
            return Err(ApiError::invalid(
                "An encoded `/` (%2F) is not allowed in a path; use a plain `/` between segments.",
            ));
        }
        segments.push(text);
    }
    SecretPath::parse(&segments.join("/"))
        .map_err(|e| ApiError::invalid(format!("Invalid secret path: {e}.")))
}

fn tenant_of(c: &SecretsCaller) -> &str {
    match c {
        SecretsCaller::Session(s) => s.tenant_id(),
        SecretsCaller::Key(k) => &k.key.tenant_id,
        SecretsCaller::Token(t) => &t.token.tenant_id,
    }
}

fn is_agent(c: &SecretsCaller) -> bool {
    !matches!(c, SecretsCaller::Session(_))
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
    let ev = NewEvent::new(action, now, client).target(format!("secret:{path}"));
    match c {
        SecretsCaller::Session(s) => ev.user(s.tenant_id(), &s.user.id),
        SecretsCaller::Key(k) => ev
            .tenant(&k.key.tenant_id)
            .actor(ActorKind::AgentKey, &k.key.id),
        SecretsCaller::Token(t) => ev
            .tenant(&t.token.tenant_id)
            .actor(ActorKind::Token, &t.token.id)
            .detail("key_id", t.key.id.clone()),
    }
}

pub async fn read(
    st: &AppState,
    c: &SecretsCaller,
    path: &SecretPath,
    version: Option<u32>,
    client: &ClientInfo,
) -> ApiResult<SecretValue> {
    let now = st.clock.now();
    let ev = |outcome, reason: &'static str| {
        event(c, "secret.read", now, client, path)
            .outcome(outcome)
            .detail("reason", reason)
    };
    if !permits(c, Action::Read, path) {
        st.store.append_event(ev(Outcome::Denied, "scope")).await?;
        return Err(ApiError::Forbidden(NOT_IN_SCOPE));
    }
    let tenant = tenant_of(c);
    let Some((secret, row)) = st.store.secret_version(tenant, path, version).await? else {
        st.store
            .append_event(ev(Outcome::Failure, "not_found"))
            .await?;
        return Err(ApiError::NotFound);
    };
    let ask = |r: crate::store::ApprovalRecord| async move {
        st.store
            .append_event(
                ev(Outcome::Denied, "approval_required")
                    .detail("tier", secret.tier.as_str())
                    .detail("approval_id", r.id.clone())
                    .detail("status", r.status.as_str()),
            )
            .await?;
        Err::<SecretValue, ApiError>(approvals::required(&r))
    };
    let grant = if is_agent(c) && secret.tier.needs_approval() {
        let r = approvals::open_request(st, c, path, secret.tier, None, client).await?;
        if !approvals::usable(&r, now) {
            return ask(r).await;
        }
        Some(r.id)
    } else {
        None
    };
    let vault = Vault::of(st);
    let opened = match vault.kek(tenant, row.kek_version).await {
        Ok(kek) => crypto::open_value(
            &kek,
            tenant,
            path.as_str(),
            row.version,
            &row.ciphertext,
            &row.wrapped_dek,
        )
        .ok(),
        Err(_) => None,
    };
    let value = opened.and_then(|bytes| String::from_utf8(bytes.to_vec()).ok());
    let Some(value) = value else {
        st.store
            .append_event(
                ev(Outcome::Failure, "integrity_check_failed").detail("version", row.version),
            )
            .await?;
        return Err(ApiError::internal(anyhow::anyhow!(
            "secret version failed its integrity check (tenant {tenant}, {path}@{})",
            row.version
        )));
    };
    let read = event(c, "secret.read", now, client, path).detail("version", row.version);
    match grant {
        Some(id) => {
            let read = read.detail("approval_id", id.clone());
            if !st.store.consume_grant(tenant, &id, now, read).await? {
                // Another read used the grant first: this one asks again.
                let r = approvals::open_request(st, c, path, secret.tier, None, client).await?;
                return ask(r).await;
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

pub async fn write(
    st: &AppState,
    c: &SecretsCaller,
    path: &SecretPath,
    req: PutSecretRequest,
    client: &ClientInfo,
) -> ApiResult<SecretWritten> {
    let now = st.clock.now();
    let tenant = tenant_of(c).to_owned();
    if !permits(c, Action::Write, path) {
        let ev = event(c, "secret.write", now, client, path)
            .outcome(Outcome::Denied)
            .detail("reason", "scope");
        st.store.append_event(ev).await?;
        return Err(ApiError::Forbidden(NOT_IN_SCOPE));
    }
    if is_agent(c)
        && let Some(tier) = req.tier
        && st
            .store
            .secret(&tenant, path)
            .await?
            .is_some_and(|s| s.tier != tier)
    {
        let ev = event(c, "secret.write", now, client, path)
            .outcome(Outcome::Denied)
            .detail("reason", "tier_change");
        st.store.append_event(ev).await?;
        return Err(ApiError::Forbidden(AGENT_TIER));
    }
    let vault = Vault::of(st);
    let mut attempts = 0;
    let record: SecretRecord = loop {
        attempts += 1;
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
        let new = NewVersion {
            tenant_id: tenant.clone(),
            path: path.clone(),
            kind: req.kind,
            tier: req.tier,
            kek_version,
            created_by: actor_ref(c),
            now,
        };
        let mut ev = event(c, "secret.write", now, client, path);
        if let Some(t) = req.tier {
            ev = ev.detail("tier", t.as_str());
        }
        match st.store.put_secret(new, seal, ev).await {
            Ok(r) => break r,
            Err(StoreError::Conflict(m)) if m == STALE_KEK && attempts < 3 => continue,
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
    st: &AppState,
    c: &SecretsCaller,
    path: &SecretPath,
    client: &ClientInfo,
) -> ApiResult<()> {
    let now = st.clock.now();
    if !permits(c, Action::Delete, path) {
        let ev = event(c, "secret.delete", now, client, path)
            .outcome(Outcome::Denied)
            .detail("reason", "scope");
        st.store.append_event(ev).await?;
        return Err(ApiError::Forbidden(NOT_IN_SCOPE));
    }
    let ev = event(c, "secret.delete", now, client, path);
    match st.store.delete_secret(tenant_of(c), path, ev).await {
        Ok(()) => Ok(()),
        Err(StoreError::NotFound) => {
            let ev = event(c, "secret.delete", now, client, path)
                .outcome(Outcome::Failure)
                .detail("reason", "not_found");
            st.store.append_event(ev).await?;
            Err(ApiError::NotFound)
        }
        Err(e) => Err(e.into()),
    }
}

/// Agents see metadata of the paths any of their scopes reaches (whatever the action).
fn sees(c: &SecretsCaller, path: &SecretPath) -> bool {
    Action::ALL.into_iter().any(|a| permits(c, a, path))
}

pub async fn metadata(
    st: &AppState,
    c: &SecretsCaller,
    path: &SecretPath,
) -> ApiResult<SecretMetadata> {
    if !sees(c, path) {
        return Err(ApiError::Forbidden(NOT_IN_SCOPE));
    }
    let tenant = tenant_of(c);
    let secret = st
        .store
        .secret(tenant, path)
        .await?
        .ok_or(ApiError::NotFound)?;
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

pub async fn list(
    st: &AppState,
    c: &SecretsCaller,
    q: &MetadataQuery,
) -> ApiResult<Page<SecretSummary>> {
    let limit = crate::paging::limit(q.limit)?;
    let prefix = PathPrefix::parse(q.prefix.as_deref().unwrap_or_default())
        .map_err(|e| ApiError::invalid(format!("Invalid prefix: {e}.")))?;
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
    st: &AppState,
    s: &crate::http::extract::Session,
    client: &ClientInfo,
) -> ApiResult<KekRotated> {
    let now = st.clock.now();
    let base = NewEvent::new("kek.rotated", now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("tenant:{}", s.tenant_id()));
    if !s.user.role.is_admin() {
        st.store
            .append_event(base.outcome(Outcome::Denied).detail("reason", "role"))
            .await?;
        return Err(ApiError::Forbidden(
            "Only owners and admins can rotate the tenant key.",
        ));
    }
    match Vault::of(st).rotate(s.tenant_id(), now, base.clone()).await {
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
