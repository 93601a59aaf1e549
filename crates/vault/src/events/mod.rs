//! What leaves the vault (issue 18): signed webhooks, Slack messages and mail, through a
//! durable outbox.
//!
//! Every message is written to the outbox in the transaction of the audit event it belongs
//! to (`store::outbox`), so an action that commits has its messages, and one that does not
//! has none. A background [`worker`] then delivers them at least once, retrying with
//! exponential backoff and jitter for three days; a message keeps its id on every retry,
//! which is what a receiver de-duplicates on.
//!
//! The vault has no HTTP stack of its own (the layering keeps HTTP frameworks out of this
//! crate): the server hands it a [`Poster`] that makes the requests and applies the
//! address rules of [`address`] when it connects, so a name that resolves to a private
//! address at delivery time is refused even if it resolved elsewhere when it was saved.

pub mod address;
pub mod mail;
pub mod prefs;
pub mod sign;
pub mod slack;
pub mod webhooks;
pub mod worker;

use std::sync::Arc;

use async_trait::async_trait;

/// One POST to an endpoint.
pub struct PostRequest {
    pub url: url::Url,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// What the endpoint answered: its status and the start of its body (at most
/// [`RESPONSE_KEPT`] bytes, read no further).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostResponse {
    pub status: u16,
    pub body_start: String,
}

/// How much of an endpoint's answer the delivery log keeps.
pub const RESPONSE_KEPT: usize = 1024;

/// Why a POST got no answer: a short reason for the delivery log (timeout, refused
/// address, connection refused), never the URL (a Slack URL is a credential).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PostError(pub String);

/// Makes the HTTP requests of deliveries; the server's implementation follows no
/// redirect, has timeouts, and connects only to addresses [`address::allowed`] admits.
#[async_trait]
pub trait Poster: Send + Sync + 'static {
    async fn post(&self, req: PostRequest) -> Result<PostResponse, PostError>;
}

/// Everything deliveries need besides the store and keys.
pub struct Courier {
    pub poster: Arc<dyn Poster>,
    /// `--allow-private-webhooks`: loopback and private addresses, and `http://`, are
    /// admitted (tests and labs only).
    pub allow_private: bool,
    /// How often the worker looks for due messages when no new event wakes it.
    pub poll: std::time::Duration,
    /// How long a claimed message is left to one worker before another may take it: longer
    /// than a request's timeout, so a live worker's message is never taken from it.
    pub lease: chrono::Duration,
}
