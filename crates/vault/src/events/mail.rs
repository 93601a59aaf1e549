//! Mail through the outbox: a message is sealed (it may carry a link that resets a
//! password) under a key derived from the master key, with its outbox id in the AAD, and
//! attached to the audit event of the action that sends it. The worker opens and sends it.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::Vault;
use crate::crypto::{open_bound, seal_bound};
use crate::error::{Error, Result};
use crate::store::outbox::Outbound;

/// A mail as it waits in the outbox. No `Debug`: the body may hold a credential.
#[derive(Serialize, Deserialize)]
pub struct SealedMail {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// The link the body carries, if any (logged by the file outbox of a local install).
    pub link: Option<String>,
}

fn aad(id: &str) -> String {
    format!("keyhold/outbox-mail/v1|{id}")
}

/// A new message id: what `webhook-id` and the delivery log show.
pub fn new_message_id() -> String {
    format!("msg_{}", uuid::Uuid::new_v4().simple())
}

/// Seal one mail for the outbox; attach the result to the event of the action
/// (`NewEvent::with_outbound`).
pub fn queue(
    st: &Vault,
    to: &str,
    subject: &str,
    body: String,
    link: Option<String>,
) -> Result<Outbound> {
    let id = new_message_id();
    let mail = SealedMail {
        to: to.to_owned(),
        subject: subject.to_owned(),
        body,
        link,
    };
    let text = Zeroizing::new(serde_json::to_vec(&mail).map_err(Error::internal)?);
    let sealed = seal_bound(&st.keys.wrap, &text, &aad(&id)).map_err(Error::internal)?;
    Ok(Outbound::Mail { id, sealed })
}

/// Open a sealed mail of the outbox.
pub fn open(st: &Vault, id: &str, sealed: &[u8]) -> Result<SealedMail> {
    let text = open_bound(&st.keys.wrap, sealed, &aad(id)).map_err(Error::internal)?;
    serde_json::from_slice(&text).map_err(Error::internal)
}
