//! Human approval of agents' reads of sensitive and critical secrets: quorum of distinct
//! approvers, the critical delay (moved with the test clock), veto, one-time grants,
//! expiry, TOTP replay, roles and tenant isolation, the live feed and the audit trail.
//! Approvers join the tenant through mailed invitations.
//!
//! One file per topic: `votes` (quorum, delay, veto, the approver's code), `grants`
//! (expiry and one-time use), `rights` (settings and who may approve), `live_feed` and
//! `members` (roles, invitations, removal); `helpers` holds what they share, and the
//! helpers other test files use are re-exported here.

mod grants;
pub mod helpers;
mod live_feed;
mod members;
mod rights;
mod votes;

pub use helpers::{approver, events, invited};
