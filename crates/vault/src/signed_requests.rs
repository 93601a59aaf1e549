//! Requests signed with an Ed25519 agent key (RFC 9421; the wire format is in
//! docs/credentials.md): the signature authenticates the request as its agent key, exactly
//! where a `kha_` bearer key would, with the same lapse, allowlist and scope rules.
//!
//! Order of checks, cheapest and stateless first: the headers' shape, the `created` window
//! (±60 s), the body's `Content-Digest`; then the key (one store read by id) and the
//! signature against its unretired public keys; then the nonce, written to the store only
//! for a signature that verified with a live key — so a made-up request, whatever key id
//! it names, adds no row. Each refusal is audited and counted like any refused agent
//! credential (`auth_failures`), and answered 401 with its `reason`.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::VerifyingKey;
use keyhold_core::httpsig::{self, RequestView, SigError, SignedParams, WINDOW_SECS};

use crate::Vault;
use crate::agent_keys::{WRONG_ADDRESS, allowed_from, lapsed, touch};
use crate::auth_failures::{self, Claimed, Reason};
use crate::error::{Error, Result};
use crate::store::{KeyRecord, PublicKeyRecord};

/// What the server found in a request that carries `Signature-Input`.
pub struct SignedRequest<'a> {
    /// The fields' combined values.
    pub signature_input: &'a str,
    pub signature: &'a str,
    pub view: RequestView<'a>,
    /// The body, if the request has one (non-empty); its digest is checked here.
    pub body: Option<&'a [u8]>,
}

/// Why a signed request was refused, as the 401's `reason` says it.
fn refusal(reason: &'static str) -> Error {
    let message = match reason {
        "malformed" => {
            "The request's signature headers are not valid (see docs/credentials.md for the format)."
        }
        "digest" => "Content-Digest is missing or does not match the body.",
        "stale" => {
            "The signature's created time is more than 60 seconds old; sign the request again."
        }
        "future" => "The signature's created time is in the future; check this machine's clock.",
        "replayed" => {
            "This signature's nonce was used already; sign each request with a new nonce."
        }
        "retired" => "This public key was retired; sign with the key's current private key.",
        _ => "This signature is not valid for any live agent key.",
    };
    Error::SignatureRefused { reason, message }
}

/// The key id as key ids are shown, if the request's `keyid` is one (not secret).
fn claimed_key_id(keyid: &str) -> Option<String> {
    uuid::Uuid::try_parse(keyid)
        .ok()
        .map(|id| id.hyphenated().to_string())
}

/// Whether `created` is inside the window around `now`: `Err` with the 401's reason.
fn check_window(p: &SignedParams, now: DateTime<Utc>) -> std::result::Result<(), &'static str> {
    let now_s = now.timestamp();
    if p.created > now_s.saturating_add(WINDOW_SECS) {
        return Err("future");
    }
    if p.created < now_s.saturating_sub(WINDOW_SECS) || p.expires.is_some_and(|e| e < now_s) {
        return Err("stale");
    }
    Ok(())
}

/// Which of the key's public keys made the signature: the unretired one, else a retired
/// one (`true`: refused, but the signer holds the key, so the refusal is the key's).
fn verifying_key(pks: &[PublicKeyRecord], p: &SignedParams, base: &str) -> Option<bool> {
    let mut retired = false;
    for pk in pks {
        let Ok(vk) = VerifyingKey::from_bytes(&pk.public_key) else {
            continue;
        };
        if p.verifies_with(&vk, base) {
            if pk.retired_at.is_none() {
                return Some(false);
            }
            retired = true;
        }
    }
    retired.then_some(true)
}

/// The agent key a signed request authenticates as, checked: well-formed, fresh, body
/// digest, a live key's unretired public key, unused nonce, allowed address.
pub async fn authenticate(
    st: &Vault,
    req: &SignedRequest<'_>,
    ip: Option<IpAddr>,
) -> Result<KeyRecord> {
    let nobody = |key_id: Option<String>| Claimed::Signed { key_id };
    let p = match httpsig::parse(req.signature_input, req.signature) {
        Ok(p) => p,
        Err(_) => {
            auth_failures::record(st, Reason::Malformed, nobody(None), ip).await;
            return Err(refusal("malformed"));
        }
    };
    let claimed = claimed_key_id(&p.keyid);
    let now = st.clock.now();
    if let Err(why) = check_window(&p, now) {
        auth_failures::record(st, Reason::Stale, nobody(claimed), ip).await;
        return Err(refusal(why));
    }
    if let Some(body) = req.body {
        let digest = (req.view.header)("content-digest");
        if !p.covers("content-digest")
            || httpsig::check_content_digest(digest.as_deref(), body).is_err()
        {
            auth_failures::record(st, Reason::Digest, nobody(claimed), ip).await;
            return Err(refusal("digest"));
        }
    }
    let base = match p.base(&req.view) {
        Ok(b) => b,
        Err(SigError::Malformed(_) | SigError::Digest | SigError::BadSignature) => {
            auth_failures::record(st, Reason::Malformed, nobody(claimed), ip).await;
            return Err(refusal("malformed"));
        }
    };
    let found = match &claimed {
        Some(id) => st.store.signing_key_for_auth(id).await?,
        None => None,
    };
    let Some((key, pks)) = found else {
        auth_failures::record(st, Reason::Unknown, nobody(claimed), ip).await;
        return Err(refusal("bad_signature"));
    };
    match verifying_key(&pks, &p, &base) {
        None => {
            auth_failures::record(st, Reason::Signature, nobody(claimed), ip).await;
            return Err(refusal("bad_signature"));
        }
        Some(true) => {
            auth_failures::record(st, Reason::Retired, Claimed::Key(&key), ip).await;
            return Err(refusal("retired"));
        }
        Some(false) => {}
    }
    finish(st, key, &p, now, ip).await
}

/// The signature verified with a live public key: the key's own rules, then the nonce.
async fn finish(
    st: &Vault,
    key: KeyRecord,
    p: &SignedParams,
    now: DateTime<Utc>,
    ip: Option<IpAddr>,
) -> Result<KeyRecord> {
    if let Some(reason) = lapsed(&key, now) {
        auth_failures::record(st, reason, Claimed::Key(&key), ip).await;
        return Err(refusal("bad_signature"));
    }
    if !allowed_from(&key.ip_allowlist, ip) {
        auth_failures::record(st, Reason::Address, Claimed::Key(&key), ip).await;
        return Err(Error::Forbidden(WRONG_ADDRESS));
    }
    // Kept until the last moment the signature could still be accepted, and a second more.
    let last = DateTime::from_timestamp(p.created.saturating_add(WINDOW_SECS + 1), 0)
        .unwrap_or(now)
        .max(now);
    let expires_at = last.max(now + Duration::seconds(1));
    let fresh = st
        .store
        .remember_nonce(&key.tenant_id, &key.id, &p.nonce, now, expires_at)
        .await?;
    if !fresh {
        auth_failures::record(st, Reason::Replayed, Claimed::Key(&key), ip).await;
        return Err(refusal("replayed"));
    }
    touch(st, &key, now, ip).await;
    Ok(key)
}
