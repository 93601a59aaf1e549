//! The master key inside a PKCS#11 token (an HSM; SoftHSM2 in tests): an AES-256 key
//! generated in the token as sensitive and non-extractable, so it never leaves it. The root
//! key is wrapped and unwrapped by the token (`C_Encrypt` / `C_Decrypt` with AES-GCM); only
//! the root key itself comes back into memory, since every derived key is needed there.
//!
//! The token is needed at start-up and during a rotation only: once the root key is open,
//! the session is closed, so an HSM that goes away later stops nothing but the next start.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use anyhow::{Context, bail};
use cryptoki::context::{CInitializeArgs, Pkcs11};
use cryptoki::error::RvError;
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use keyhold_core::Sensitive;
use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::Zeroize;

use super::MasterKey;
use crate::crypto;
use crate::keys::Key32;

const IV_LEN: usize = 12;
const TAG_BITS: u64 = 128;

/// Where the key is: the module (`/usr/lib/softhsm/libsofthsm2.so`), the token's label,
/// the user PIN and the key's label. `Debug` never shows the PIN.
#[derive(Clone)]
pub struct Pkcs11Config {
    pub module: PathBuf,
    pub token: String,
    pub key_label: String,
    pub pin: Sensitive<String>,
}

impl std::fmt::Debug for Pkcs11Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Config")
            .field("module", &self.module)
            .field("token", &self.token)
            .field("key_label", &self.key_label)
            .field("pin", &"[redacted]")
            .finish()
    }
}

/// One initialized context per module for the whole process: `C_Initialize` may run once,
/// and a rotation from one key of a token to another opens the module twice.
fn context(module: &Path) -> anyhow::Result<Pkcs11> {
    static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let mut map = CONTEXTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(ctx) = map.get(module) {
        return Ok(ctx.clone());
    }
    let ctx = Pkcs11::new(module)
        .with_context(|| format!("loading the PKCS#11 module {}", module.display()))?;
    ctx.initialize(CInitializeArgs::OsThreads)
        .with_context(|| format!("initializing the PKCS#11 module {}", module.display()))?;
    map.insert(module.to_owned(), ctx.clone());
    Ok(ctx)
}

/// A signed-in session on the token and the master key's handle in it.
pub struct Pkcs11MasterKey {
    session: Mutex<Session>,
    key: ObjectHandle,
    describe: String,
}

impl std::fmt::Debug for Pkcs11MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pkcs11MasterKey({})", self.describe)
    }
}

/// Whether [`Pkcs11MasterKey::open`] may generate the key when the token has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IfMissing {
    Generate,
    Refuse,
}

impl Pkcs11MasterKey {
    /// Sign in to the token labelled `config.token` and find the AES key labelled
    /// `config.key_label` (generated there when missing and `if_missing` allows). A key
    /// that could leave the token (extractable, or not sensitive) is refused.
    pub fn open(config: &Pkcs11Config, if_missing: IfMissing) -> anyhow::Result<(Self, bool)> {
        let ctx = context(&config.module)?;
        let session = open_session(&ctx, config)?;
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::Label(config.key_label.as_bytes().to_vec()),
        ];
        let found = session
            .find_objects(&template)
            .context("looking for the key")?;
        let describe = format!("pkcs11 token {:?} key {:?}", config.token, config.key_label);
        let (key, generated) = match found.as_slice() {
            [key] => (*key, false),
            [] if if_missing == IfMissing::Generate => (generate(&session, config)?, true),
            [] => bail!(
                "the PKCS#11 token {:?} holds no AES key labelled {:?}",
                config.token,
                config.key_label
            ),
            _ => bail!(
                "the PKCS#11 token {:?} holds {} keys labelled {:?}: give the key a unique label",
                config.token,
                found.len(),
                config.key_label
            ),
        };
        refuse_extractable(&session, key, &describe)?;
        Ok((
            Self {
                session: Mutex::new(session),
                key,
                describe,
            },
            generated,
        ))
    }

    fn session(&self) -> std::sync::MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn open_session(ctx: &Pkcs11, config: &Pkcs11Config) -> anyhow::Result<Session> {
    let mut labels = Vec::new();
    for slot in ctx
        .get_slots_with_token()
        .context("listing PKCS#11 slots")?
    {
        let info = ctx.get_token_info(slot).context("reading a token's info")?;
        let label = info.label().trim_end().to_owned();
        if label == config.token {
            let session = ctx.open_rw_session(slot).context("opening a session")?;
            let pin = AuthPin::from(config.pin.expose().clone());
            // Sign-in is per token for the whole process: a second session on it (a rotation
            // from one key of the token to another) is signed in already. The module's error
            // says only which check failed; the PIN is not in it.
            match session.login(UserType::User, Some(&pin)) {
                Ok(()) | Err(cryptoki::error::Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("signing in to the PKCS#11 token {:?}", config.token)
                    });
                }
            }
            return Ok(session);
        }
        labels.push(label);
    }
    bail!(
        "no PKCS#11 token labelled {:?} in {} (tokens there: {labels:?})",
        config.token,
        config.module.display()
    )
}

/// A new AES-256 key, on the token (it persists), private, sensitive and
/// non-extractable: it can encrypt and decrypt inside the token and do nothing else.
fn generate(session: &Session, config: &Pkcs11Config) -> anyhow::Result<ObjectHandle> {
    let template = [
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::ValueLen(32u64.into()),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Encrypt(true),
        Attribute::Decrypt(true),
        Attribute::Wrap(false),
        Attribute::Derive(false),
        Attribute::Label(config.key_label.as_bytes().to_vec()),
    ];
    session
        .generate_key(&Mechanism::AesKeyGen, &template)
        .with_context(|| format!("generating the key {:?} in the token", config.key_label))
}

fn refuse_extractable(session: &Session, key: ObjectHandle, describe: &str) -> anyhow::Result<()> {
    let attrs = session
        .get_attributes(key, &[AttributeType::Extractable, AttributeType::Sensitive])
        .context("reading the key's attributes")?;
    let (mut extractable, mut sensitive) = (true, false);
    for a in attrs {
        match a {
            Attribute::Extractable(v) => extractable = v,
            Attribute::Sensitive(v) => sensitive = v,
            _ => {}
        }
    }
    if extractable || !sensitive {
        bail!(
            "{describe} could leave the token (extractable or not sensitive): a master key must be \
             non-extractable; let keyhold-server generate it, or make one with CKA_EXTRACTABLE false \
             and CKA_SENSITIVE true"
        );
    }
    Ok(())
}

impl MasterKey for Pkcs11MasterKey {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn wrap(&self, root: &Key32, aad: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut iv = [0u8; IV_LEN];
        OsRng.fill_bytes(&mut iv);
        let mut iv_param = iv;
        let params = GcmParams::new(&mut iv_param, aad, TAG_BITS.into())?;
        let sealed = self
            .session()
            .encrypt(&Mechanism::AesGcm(params), self.key, root.bytes())
            .context("wrapping the root key in the token")?;
        let mut out = Vec::with_capacity(IV_LEN + sealed.len());
        out.extend_from_slice(&iv);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> anyhow::Result<Key32> {
        if wrapped.len() < IV_LEN + 16 {
            bail!("the wrapped root key is too short");
        }
        let (iv, sealed) = wrapped.split_at(IV_LEN);
        let mut iv = iv.to_vec();
        let params = GcmParams::new(&mut iv, aad, TAG_BITS.into())?;
        let mut plain = self
            .session()
            .decrypt(&Mechanism::AesGcm(params), self.key, sealed)
            .context("unwrapping the root key in the token")?;
        let key = crypto::key_from(&plain).map_err(|e| anyhow::anyhow!("{e}"));
        plain.zeroize();
        key
    }

    fn legacy_root(&self) -> Option<Key32> {
        None
    }
}
