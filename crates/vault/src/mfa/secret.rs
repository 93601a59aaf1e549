//! The TOTP secret at rest and the backup codes' stored form.
//!
//! The secret is sealed with AES-256-GCM under the wrap key before it is stored, with the
//! tenant and user as associated data, so a sealed secret copied to another row does not
//! open. Backup codes are stored only as keyed hashes of their normalised form, per user.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use anyhow::Context;
use keyhold_core::totp::TotpSecret;
use keyhold_core::{Sensitive, backup_codes};
use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use crate::keys::Keys;

const NONCE_LEN: usize = 12;

fn secret_aad(tenant_id: &str, user_id: &str) -> Vec<u8> {
    format!("keyhold/totp-secret/v1\0{tenant_id}\0{user_id}").into_bytes()
}

/// `nonce || AES-256-GCM(secret)` with a random 96-bit nonce, bound to the tenant and user.
pub fn seal_secret(
    keys: &Keys,
    tenant_id: &str,
    user_id: &str,
    secret: &TotpSecret,
) -> anyhow::Result<Vec<u8>> {
    let cipher = Aes256Gcm::new_from_slice(keys.wrap.bytes())
        .map_err(|_| anyhow::anyhow!("wrap key has the wrong length"))?;
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    let aad = secret_aad(tenant_id, user_id);
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: secret.expose_bytes(),
                aad: &aad,
            },
        )
        .map_err(|_| anyhow::anyhow!("sealing the TOTP secret failed"))?;
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// The inverse of [`seal_secret`]; fails if the box was altered or belongs to someone else.
pub fn open_secret(
    keys: &Keys,
    tenant_id: &str,
    user_id: &str,
    sealed: &[u8],
) -> anyhow::Result<TotpSecret> {
    if sealed.len() <= NONCE_LEN {
        anyhow::bail!("sealed TOTP secret is truncated");
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    let cipher = Aes256Gcm::new_from_slice(keys.wrap.bytes())
        .map_err(|_| anyhow::anyhow!("wrap key has the wrong length"))?;
    let aad = secret_aad(tenant_id, user_id);
    let plain = cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
        .map_err(|_| anyhow::anyhow!("the sealed TOTP secret does not open"))?;
    TotpSecret::from_bytes(plain).context("stored TOTP secret has a bad length")
}

/// The keyed hash a backup code is stored under: of its normalised form, per user.
pub(super) fn backup_code_hash(
    keys: &Keys,
    user_id: &str,
    normalized: &Sensitive<String>,
) -> String {
    let input = Zeroizing::new(format!("backup-code:{user_id}:{}", normalized.expose()));
    keys.credential_hash(&input)
}

/// A fresh set of codes to show once, and their hashes to store.
pub(super) fn new_backup_codes(
    keys: &Keys,
    user_id: &str,
) -> (Vec<Sensitive<String>>, Vec<String>) {
    let codes = backup_codes::generate();
    let hashes = codes
        .iter()
        .filter_map(|c| backup_codes::normalize(c.expose()))
        .map(|n| backup_code_hash(keys, user_id, &n))
        .collect();
    (codes, hashes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Key32;

    fn keys() -> Keys {
        Keys::from_root(&Key32::test([9; 32])).unwrap()
    }

    #[test]
    fn sealed_secret_opens_only_for_its_owner() {
        let k = keys();
        let secret = TotpSecret::generate();
        let sealed = seal_secret(&k, "t1", "u1", &secret).unwrap();
        assert_eq!(sealed.len(), NONCE_LEN + 20 + 16);
        assert!(
            !sealed
                .windows(secret.expose_bytes().len())
                .any(|w| w == secret.expose_bytes())
        );
        assert_eq!(open_secret(&k, "t1", "u1", &sealed).unwrap(), secret);
        assert!(open_secret(&k, "t1", "u2", &sealed).is_err());
        assert!(open_secret(&k, "t2", "u1", &sealed).is_err());
        let other = Keys::from_root(&Key32::test([8; 32])).unwrap();
        assert!(open_secret(&other, "t1", "u1", &sealed).is_err());
        let mut tampered = sealed.clone();
        tampered[NONCE_LEN] ^= 1;
        assert!(open_secret(&k, "t1", "u1", &tampered).is_err());
        assert!(open_secret(&k, "t1", "u1", &sealed[..NONCE_LEN]).is_err());
        // A fresh nonce every time.
        assert_ne!(seal_secret(&k, "t1", "u1", &secret).unwrap(), sealed);
    }

    #[test]
    fn backup_code_hash_is_of_the_normalised_form() {
        let k = keys();
        let a = backup_codes::normalize("abcd-2345-wxyz").unwrap();
        let b = backup_codes::normalize("ABCD 2345 WXYZ").unwrap();
        assert_eq!(backup_code_hash(&k, "u", &a), backup_code_hash(&k, "u", &b));
        assert_ne!(backup_code_hash(&k, "u", &a), backup_code_hash(&k, "v", &a));
    }
}
