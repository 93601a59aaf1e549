//! Signing requests with an Ed25519 agent key (RFC 9421; docs/credentials.md): a client
//! made with [`Client::with_signer`] signs every request it sends instead of carrying a
//! bearer credential. The private key stays in this process; the signature base is built
//! by `keyhold_core::httpsig`, the same code the server verifies with.

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, KeypairBytes};
use keyhold_core::Sensitive;
use keyhold_core::httpsig::{self, RequestView};
use reqwest::header::HeaderValue;

use crate::{Client, ClientError, Result};

/// Seconds since the Unix epoch for a signature's `created`.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// An Ed25519 private key and the agent key id it signs as. `Debug` shows the id only;
/// the key is wiped when dropped (ed25519-dalek's `ZeroizeOnDrop`).
#[derive(Clone)]
pub struct Signer {
    key: SigningKey,
    key_id: String,
    clock: Clock,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("key_id", &self.key_id)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// The default clock: a client signs with the time of the machine it runs on, which the
/// server's ±60 s window is about. Replaceable with [`Signer::with_clock`], as tests do.
#[allow(clippy::disallowed_methods)]
fn system_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A new key pair from the OS CSPRNG: the private key as PKCS#8 PEM (keep it secret) and
/// the public key as SPKI PEM (what `POST /v1/keys` takes).
pub fn generate_key_pair() -> Result<(Sensitive<String>, String)> {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    // PKCS#8 v1 (RFC 5208, the private key alone), as `openssl genpkey` writes it: the v2
    // form with the public key beside it is refused by some readers (Python's
    // `cryptography` among them), and the public half is derived from the private anyway.
    let private = KeypairBytes {
        secret_key: key.to_bytes(),
        public_key: None,
    }
    .to_pkcs8_pem(Default::default())
    .map_err(|e| ClientError::BadKey(format!("encoding the private key: {e}")))?;
    let public = key
        .verifying_key()
        .to_public_key_pem(Default::default())
        .map_err(|e| ClientError::BadKey(format!("encoding the public key: {e}")))?;
    Ok((Sensitive::new(private.as_str().to_owned()), public))
}

impl Signer {
    /// From a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`) and the agent key's id.
    pub fn from_pkcs8_pem(pem: &str, key_id: &str) -> Result<Self> {
        let key = SigningKey::from_pkcs8_pem(pem.trim()).map_err(|_| {
            ClientError::BadKey(
                "The private key is not an Ed25519 key in PKCS#8 PEM (-----BEGIN PRIVATE KEY-----)."
                    .to_owned(),
            )
        })?;
        Ok(Self {
            key,
            key_id: key_id.to_owned(),
            clock: Arc::new(system_clock),
        })
    }

    /// The same signer with another clock (tests whose server runs on a test clock).
    pub fn with_clock(self, clock: Clock) -> Self {
        Self { clock, ..self }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The public key as SPKI PEM.
    pub fn public_key_pem(&self) -> Result<String> {
        self.key
            .verifying_key()
            .to_public_key_pem(Default::default())
            .map_err(|e| ClientError::BadKey(format!("encoding the public key: {e}")))
    }

    /// Add `Signature-Input`, `Signature` (and `Content-Digest` with a body) to `req`.
    pub fn sign(&self, req: &mut reqwest::Request) -> Result<()> {
        let url = req.url().clone();
        let body = req
            .body()
            .and_then(reqwest::Body::as_bytes)
            .filter(|b| !b.is_empty())
            .map(<[u8]>::to_vec);
        let no_headers = |_: &str| None;
        let view = RequestView {
            method: req.method().as_str(),
            scheme: url.scheme(),
            authority: url.authority(),
            path: url.path(),
            query: url.query(),
            header: &no_headers,
        };
        let nonce = httpsig::new_nonce();
        let h = httpsig::sign(
            &self.key,
            &self.key_id,
            (self.clock)(),
            &nonce,
            &view,
            body.as_deref(),
        )
        .map_err(|_| ClientError::BadKey("This request cannot be signed.".to_owned()))?;
        let value = |s: String| {
            HeaderValue::from_str(&s)
                .map_err(|_| ClientError::BadKey("This request cannot be signed.".to_owned()))
        };
        let headers = req.headers_mut();
        if let Some(d) = h.content_digest {
            headers.insert("content-digest", value(d)?);
        }
        headers.insert("signature-input", value(h.signature_input)?);
        headers.insert("signature", value(h.signature)?);
        Ok(())
    }
}

impl Client {
    /// The same client, signing each request with `signer` (an Ed25519 agent key) instead
    /// of sending a bearer credential.
    pub fn with_signer(&self, signer: Signer) -> Self {
        Self {
            http: self.http.clone(),
            base: self.base.clone(),
            token: None,
            signer: Some(Arc::new(signer)),
        }
    }
}
