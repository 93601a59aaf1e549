//! Ed25519 agent keys: created from a public key the agent made (the private key never
//! reaches the server), and rotated with overlap: a new public key is added, both verify
//! while the agent switches, then the old one is retired. Each step is a privileged change
//! (sudo window), audited (`key.created`, `key.public_key_added`, `key.public_key_retired`)
//! and mailed to the key's owner. How requests signed with them authenticate is
//! `signed_requests`.

use keyhold_core::api::{AddPublicKeyRequest, CreateKeyRequest, CreateSigningKeyResponse};
use keyhold_core::httpsig;

use crate::Vault;
use crate::agent_keys::{created_event, new_key, public_key_info, to_api};
use crate::audit::{ClientInfo, NewEvent};
use crate::auth::{Session, SudoSession};
use crate::error::{Error, Result};
use crate::ids;
use crate::key_admin::{manageable, with_owner_notice};
use crate::notify::Change;
use crate::store::PublicKeyRecord;

/// Longest PEM accepted (an Ed25519 SPKI PEM is about 113 bytes).
const MAX_PEM: usize = 1024;

fn parse_public_key(pem: &str, field: &str) -> Result<ed25519_dalek::VerifyingKey> {
    let bad = || {
        Error::invalid_field(
            "Give an Ed25519 public key as SPKI PEM (-----BEGIN PUBLIC KEY-----), as \
             `openssl pkey -pubout` or `keyhold keys create --ed25519` writes it.",
            field,
        )
    };
    if pem.len() > MAX_PEM {
        return Err(bad());
    }
    let key = httpsig::public_key_from_pem(pem).ok_or_else(bad)?;
    // A weak (small-order) key would verify forged signatures; refuse it up front.
    if key.is_weak() {
        return Err(bad());
    }
    Ok(key)
}

fn record(
    key_id: &str,
    key: &ed25519_dalek::VerifyingKey,
    at: chrono::DateTime<chrono::Utc>,
) -> PublicKeyRecord {
    PublicKeyRecord {
        key_id: key_id.to_owned(),
        fingerprint: httpsig::fingerprint(key),
        public_key: key.to_bytes(),
        added_at: at,
        retired_at: None,
    }
}

/// `POST /v1/keys` with a `public_key`: the same checks as a `kha_` key, no secret made.
pub async fn create_signing_key(
    st: &Vault,
    s: &Session,
    req: CreateKeyRequest,
    client: &ClientInfo,
) -> Result<CreateSigningKeyResponse> {
    let now = st.clock.now();
    let pem = req.public_key.as_deref().unwrap_or_default();
    let id = ids::uuid_at(now);
    let simple = id.simple().to_string();
    let prefix = format!("ed25519:{}", simple.get(..8).unwrap_or_default());
    let record_new = new_key(st, s, &req, client, id, prefix).await?;
    let key = parse_public_key(pem, "public_key")?;
    let pk = record(&record_new.id, &key, now);
    let ev = created_event(st, s, &record_new, client)?
        .detail("kind", "ed25519")
        .detail("fingerprint", pk.fingerprint.clone());
    st.store
        .create_signing_key(record_new.clone(), pk.clone(), ev)
        .await?;
    let mut api = to_api(&record_new);
    api.public_keys = public_key_info(&pk).into_iter().collect();
    Ok(CreateSigningKeyResponse { key: api })
}

/// `POST /v1/keys/{id}/public-keys`: a rotation's first step. The new key verifies at
/// once, beside the old one.
pub async fn add_public_key(
    st: &Vault,
    s: &SudoSession,
    key_id: &str,
    req: AddPublicKeyRequest,
    client: &ClientInfo,
) -> Result<keyhold_core::api::PublicKeyInfo> {
    const ACTION: &str = "key.public_key_added";
    let key = manageable(st, s, key_id, ACTION, client).await?;
    let public = parse_public_key(&req.public_key, "public_key")?;
    let now = st.clock.now();
    let pk = record(&key.id, &public, now);
    let ev = NewEvent::new(ACTION, now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("key:{}", key.id))
        .detail("fingerprint", pk.fingerprint.clone());
    let change = Change::PublicKeyAdded {
        name: key.name.clone(),
        fingerprint: pk.fingerprint.clone(),
    };
    let ev = with_owner_notice(st, &key, ev, &change, client).await?;
    st.store
        .add_public_key(s.tenant_id(), pk.clone(), ev)
        .await?;
    public_key_info(&pk).ok_or_else(|| Error::internal(anyhow::anyhow!("stored key has no PEM")))
}

/// `DELETE /v1/keys/{id}/public-keys/{fingerprint}`: a rotation's last step. Signatures
/// made with the retired key are refused from now on; it can never be added back.
pub async fn retire_public_key(
    st: &Vault,
    s: &SudoSession,
    key_id: &str,
    fingerprint: &str,
    client: &ClientInfo,
) -> Result<()> {
    const ACTION: &str = "key.public_key_retired";
    let key = manageable(st, s, key_id, ACTION, client).await?;
    let now = st.clock.now();
    let fingerprint = fingerprint.to_ascii_lowercase();
    let ev = NewEvent::new(ACTION, now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("key:{}", key.id))
        .detail("fingerprint", fingerprint.clone());
    let change = Change::PublicKeyRetired {
        name: key.name.clone(),
        fingerprint: fingerprint.clone(),
    };
    let ev = with_owner_notice(st, &key, ev, &change, client).await?;
    st.store
        .retire_public_key(s.tenant_id(), &key.id, &fingerprint, now, ev)
        .await?;
    Ok(())
}
