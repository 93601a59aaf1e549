//! `keyhold approvals …` and `secrets get --wait-approval` against a real server: an agent
//! key reads a critical secret that two approvers with 2FA open from the command line;
//! deny, wait and expiry by exit code; bad flags change nothing; snapshots of the human and
//! JSON output. People use fixed addresses (each test has its own server), so snapshots
//! are stable.
//!
//! One file per topic: `critical` (two approvers open a critical read the agent waits
//! for, and one grant serves one waiting read), `exit_codes` (deny, wait, expiry and
//! refusals) and `people` (a person waits as an agent does); `helpers` holds what they
//! share, and the helpers other test files use are re-exported here.

mod critical;
mod exit_codes;
mod helpers;
mod people;

pub use helpers::{join, owner};
