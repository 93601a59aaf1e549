//! Audit events, as the domain builds them: every security-relevant action hands the
//! store a [`NewEvent`] to commit with it (security invariant 7).
//!
//! The record and its hash chain belong to the store (`crate::store::event`), which
//! writes them; this module is the domain's name for what it builds, so that the store
//! never imports the domain.

pub use crate::store::event::{ActorKind, ClientInfo, NewEvent, Outcome};
