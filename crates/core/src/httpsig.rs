//! RFC 9421 HTTP Message Signatures with Ed25519 agent keys, and the RFC 9530
//! `Content-Digest` they cover: the pure part both sides share. The server parses and
//! verifies (`keyhold_vault::signatures` adds the clock, the nonce store and the key
//! lookup); the client signs with [`sign`]. One implementation of the signature base for
//! both, so they cannot drift apart; an independent implementation (PyPI's
//! `http-message-signatures`) checks both in the end-to-end tests.
//!
//! The wire format (docs/credentials.md):
//! `Signature-Input: sig1=("@method" "@target-uri" "content-digest");created=…;keyid="<key id>";nonce="…";alg="ed25519"`
//! and `Signature: sig1=:<base64 Ed25519 signature>:`. `content-digest` is covered, and
//! `Content-Digest: sha-256=:…:` sent, only when the request has a body.
//!
//! Nothing here panics on any input: every header value is parsed by `sfv`, and every
//! length is checked before it is used.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::DecodePublicKey;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sfv::{BareItem, Dictionary, FieldType, InnerList, Item, List, ListEntry, Parser};
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

/// The label Keyhold's own clients use; any label is accepted.
pub const LABEL: &str = "sig1";
/// The only algorithm agent keys sign with.
pub const ALG: &str = "ed25519";
/// A signature's `created` may be this far from the server's clock, either way.
pub const WINDOW_SECS: i64 = 60;
/// Nonces carry at least 128 bits.
pub const MIN_NONCE_BYTES: usize = 16;
/// More than this many signatures (or covered components) on one request is refused
/// unread: no request needs them, and each would cost a verification.
const MAX_MEMBERS: usize = 4;
const MAX_COMPONENTS: usize = 16;

/// Why a signed request is refused before any key is consulted (or, for
/// [`SigError::BadSignature`], by the key). The `as_str` names are the `reason` of the 401.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigError {
    /// Headers that do not parse, or lack what Keyhold requires.
    Malformed(&'static str),
    /// `Content-Digest` missing, unsupported, or not the body's digest.
    Digest,
    /// The signature does not verify with the key.
    BadSignature,
}

/// A `Signature-Input` member and its `Signature`, parsed and checked for shape.
#[derive(Clone, Debug)]
pub struct SignedParams {
    pub label: String,
    /// Covered component names, in order (plain names: parameters are refused).
    pub components: Vec<String>,
    pub created: i64,
    pub expires: Option<i64>,
    pub keyid: String,
    pub nonce: String,
    /// The inner list re-serialized: the `@signature-params` line of the base.
    params_line: String,
    signature: [u8; 64],
}

/// The parts of a request a signature can cover. `header` answers a field's combined
/// value (lines joined by ", ", each trimmed), lowercase name in.
pub struct RequestView<'a> {
    pub method: &'a str,
    /// `http` or `https`.
    pub scheme: &'a str,
    /// Host, and port when not the scheme's default.
    pub authority: &'a str,
    pub path: &'a str,
    /// Without the `?`.
    pub query: Option<&'a str>,
    pub header: &'a (dyn Fn(&str) -> Option<String> + Sync),
}

impl RequestView<'_> {
    pub fn target_uri(&self) -> String {
        let q = self.query.map(|q| format!("?{q}")).unwrap_or_default();
        format!("{}://{}{}{q}", self.scheme, self.authority, self.path)
    }

    fn component(&self, name: &str) -> Option<String> {
        match name {
            "@method" => Some(self.method.to_ascii_uppercase()),
            "@target-uri" => Some(self.target_uri()),
            "@authority" => Some(self.authority.to_ascii_lowercase()),
            "@scheme" => Some(self.scheme.to_ascii_lowercase()),
            "@path" => Some(self.path.to_owned()),
            "@query" => Some(format!("?{}", self.query.unwrap_or_default())),
            "@request-target" => Some(format!(
                "{}{}",
                self.path,
                self.query.map(|q| format!("?{q}")).unwrap_or_default()
            )),
            n if n.starts_with('@') => None,
            n => (self.header)(n),
        }
    }
}

fn malformed(why: &'static str) -> SigError {
    SigError::Malformed(why)
}

fn dictionary(text: &str) -> Result<Dictionary, SigError> {
    Parser::new(text)
        .parse::<Dictionary>()
        .map_err(|_| malformed("Signature-Input or Signature is not a structured-field dictionary"))
}

fn string_param(list: &InnerList, name: &str) -> Result<Option<String>, SigError> {
    match list.params.get(name) {
        None => Ok(None),
        Some(BareItem::String(s)) => Ok(Some(s.as_str().to_owned())),
        Some(_) => Err(malformed("signature parameter of the wrong type")),
    }
}

fn int_param(list: &InnerList, name: &str) -> Result<Option<i64>, SigError> {
    match list.params.get(name) {
        None => Ok(None),
        Some(BareItem::Integer(i)) => Ok(Some(i64::from(*i))),
        Some(_) => Err(malformed("signature parameter of the wrong type")),
    }
}

/// Parse `Signature-Input` and `Signature` (each the field's combined value) and check
/// Keyhold's profile: `@method` and `@target-uri` covered, a nonce of at least 128 bits.
/// The first member of `Signature-Input` that carries a `keyid` is the one checked; the
/// request then stands or falls with it.
pub fn parse(signature_input: &str, signature: &str) -> Result<SignedParams, SigError> {
    let p = parse_member(signature_input, signature)?;
    match URL_SAFE_NO_PAD.decode(p.nonce.trim_end_matches('=')) {
        Ok(bytes) if bytes.len() >= MIN_NONCE_BYTES && p.nonce.len() <= 128 => {}
        _ => return Err(malformed("nonce must be at least 128 bits of base64url")),
    }
    for required in ["@method", "@target-uri"] {
        if !p.covers(required) {
            return Err(malformed("@method and @target-uri must be covered"));
        }
    }
    Ok(p)
}

/// RFC 9421's structure alone, without Keyhold's profile.
fn parse_member(signature_input: &str, signature: &str) -> Result<SignedParams, SigError> {
    let inputs = dictionary(signature_input)?;
    let sigs = dictionary(signature)?;
    if inputs.len() > MAX_MEMBERS || sigs.len() > MAX_MEMBERS {
        return Err(malformed("too many signatures"));
    }
    let (label, list) = inputs
        .iter()
        .find_map(|(k, v)| match v {
            ListEntry::InnerList(l) if l.params.contains_key("keyid") => Some((k, l)),
            _ => None,
        })
        .ok_or(malformed("no signature with a keyid"))?;
    let signature = match sigs.get(label.as_str()) {
        Some(ListEntry::Item(Item {
            bare_item: BareItem::ByteSequence(b),
            ..
        })) => <[u8; 64]>::try_from(b.as_slice())
            .map_err(|_| malformed("an Ed25519 signature is 64 bytes"))?,
        _ => return Err(malformed("Signature has no byte sequence for the label")),
    };
    if list.items.len() > MAX_COMPONENTS {
        return Err(malformed("too many covered components"));
    }
    let mut components = Vec::with_capacity(list.items.len());
    for item in &list.items {
        let BareItem::String(name) = &item.bare_item else {
            return Err(malformed("covered components are strings"));
        };
        let name = name.as_str();
        if !item.params.is_empty() {
            return Err(malformed("component parameters are not supported"));
        }
        if name.is_empty()
            || name != name.to_ascii_lowercase()
            || components.iter().any(|c| c == name)
        {
            return Err(malformed("covered components are distinct lowercase names"));
        }
        components.push(name.to_owned());
    }
    for known in list.params.keys() {
        if !["created", "expires", "keyid", "nonce", "alg", "tag"].contains(&known.as_str()) {
            return Err(malformed("unknown signature parameter"));
        }
    }
    let created = int_param(list, "created")?.ok_or(malformed("created is required"))?;
    let expires = int_param(list, "expires")?;
    let keyid = string_param(list, "keyid")?.ok_or(malformed("keyid is required"))?;
    let nonce = string_param(list, "nonce")?.unwrap_or_default();
    if string_param(list, "alg")?.is_some_and(|a| a != ALG) {
        return Err(malformed("alg must be ed25519"));
    }
    let line: List = vec![ListEntry::InnerList(list.clone())];
    let params_line = line
        .serialize()
        .ok_or(malformed("signature parameters do not serialize"))?;
    Ok(SignedParams {
        label: label.as_str().to_owned(),
        components,
        created,
        expires,
        keyid,
        nonce,
        params_line,
        signature,
    })
}

impl SignedParams {
    pub fn covers(&self, component: &str) -> bool {
        self.components.iter().any(|c| c == component)
    }

    /// The signature base (RFC 9421 §2.5) this signature was made over.
    pub fn base(&self, req: &RequestView<'_>) -> Result<String, SigError> {
        signature_base(&self.components, &self.params_line, req)
    }

    /// Whether the signature verifies with `key` over `base` (strict: no malleable or
    /// small-order forms).
    pub fn verifies_with(&self, key: &VerifyingKey, base: &str) -> bool {
        key.verify_strict(base.as_bytes(), &Signature::from_bytes(&self.signature))
            .is_ok()
    }
}

fn signature_base(
    components: &[String],
    params_line: &str,
    req: &RequestView<'_>,
) -> Result<String, SigError> {
    let mut base = String::new();
    for name in components {
        let value = req
            .component(name)
            .ok_or(malformed("a covered component is not in the request"))?;
        if value.chars().any(|c| c.is_control() && c != '\t') || !value.is_ascii() {
            return Err(malformed(
                "a covered component has characters a base cannot hold",
            ));
        }
        base.push_str(&format!("\"{name}\": {value}\n"));
    }
    base.push_str(&format!("\"@signature-params\": {params_line}"));
    Ok(base)
}

/// Check `Content-Digest` (RFC 9530) against the body: a `sha-256` member is required,
/// and every member Keyhold knows (`sha-256`, `sha-512`) must match.
pub fn check_content_digest(header: Option<&str>, body: &[u8]) -> Result<(), SigError> {
    let dict = Parser::new(header.ok_or(SigError::Digest)?)
        .parse::<Dictionary>()
        .map_err(|_| SigError::Digest)?;
    let mut saw_sha256 = false;
    for (alg, entry) in &dict {
        let ListEntry::Item(Item {
            bare_item: BareItem::ByteSequence(given),
            ..
        }) = entry
        else {
            return Err(SigError::Digest);
        };
        let want: Vec<u8> = match alg.as_str() {
            "sha-256" => {
                saw_sha256 = true;
                Sha256::digest(body).to_vec()
            }
            "sha-512" => Sha512::digest(body).to_vec(),
            _ => continue,
        };
        if !bool::from(want.as_slice().ct_eq(given.as_slice())) {
            return Err(SigError::Digest);
        }
    }
    if saw_sha256 {
        Ok(())
    } else {
        Err(SigError::Digest)
    }
}

/// The `Content-Digest` value for a body.
pub fn content_digest(body: &[u8]) -> String {
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body));
    format!("sha-256=:{digest}:")
}

/// An Ed25519 public key from SPKI PEM (`-----BEGIN PUBLIC KEY-----`), the form
/// `POST /v1/keys` takes.
pub fn public_key_from_pem(pem: &str) -> Option<VerifyingKey> {
    VerifyingKey::from_public_key_pem(pem.trim()).ok()
}

/// SPKI PEM of a raw Ed25519 public key, as the API shows it; `None` for bytes that are
/// not a valid key.
pub fn public_key_pem(raw: &[u8; 32]) -> Option<String> {
    use ed25519_dalek::pkcs8::EncodePublicKey;
    VerifyingKey::from_bytes(raw)
        .ok()?
        .to_public_key_pem(Default::default())
        .ok()
}

/// A public key's fingerprint: hex SHA-256 of its 32 raw bytes. Names a key in the API.
pub fn fingerprint(key: &VerifyingKey) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fresh nonce: 128 bits from the OS CSPRNG, base64url.
pub fn new_nonce() -> String {
    let mut raw = [0u8; MIN_NONCE_BYTES];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut raw);
    URL_SAFE_NO_PAD.encode(raw)
}

/// The headers a signed request carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureHeaders {
    pub signature_input: String,
    pub signature: String,
    /// Set when the request has a body.
    pub content_digest: Option<String>,
}

/// Sign a request as Keyhold's clients do: `@method`, `@target-uri`, and `content-digest`
/// when there is a body; `created`, `keyid`, `nonce`, `alg`. `req.header` must answer
/// `content-digest` with [`content_digest`] of the body when there is one.
pub fn sign(
    key: &SigningKey,
    keyid: &str,
    created: i64,
    nonce: &str,
    req: &RequestView<'_>,
    body: Option<&[u8]>,
) -> Result<SignatureHeaders, SigError> {
    let content_digest = body.map(content_digest);
    let mut components = vec!["@method".to_owned(), "@target-uri".to_owned()];
    if content_digest.is_some() {
        components.push("content-digest".to_owned());
    }
    let quote = |s: &str| {
        if s.chars().all(|c| (' '..='~').contains(&c)) {
            Ok(s.replace('\\', "\\\\").replace('"', "\\\""))
        } else {
            Err(malformed("keyid and nonce must be printable ASCII"))
        }
    };
    let list: Vec<String> = components.iter().map(|c| format!("\"{c}\"")).collect();
    let params_line = format!(
        "({});created={created};keyid=\"{}\";nonce=\"{}\";alg=\"{ALG}\"",
        list.join(" "),
        quote(keyid)?,
        quote(nonce)?
    );
    let digest_for_base = content_digest.clone();
    let lookup = |name: &str| match name {
        "content-digest" => digest_for_base.clone(),
        other => (req.header)(other),
    };
    let view = RequestView {
        header: &lookup,
        ..*req
    };
    let base = signature_base(&components, &params_line, &view)?;
    let sig = key.sign(base.as_bytes());
    let b64 = base64::engine::general_purpose::STANDARD.encode(sig.to_bytes());
    Ok(SignatureHeaders {
        signature_input: format!("{LABEL}={params_line}"),
        signature: format!("{LABEL}=:{b64}:"),
        content_digest,
    })
}

#[cfg(test)]
#[path = "httpsig_tests.rs"]
mod tests;
