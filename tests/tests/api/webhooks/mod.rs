//! Webhooks, Slack and approval mail (issue 18), against the real server and a real
//! receiver that verifies signatures with PyPI's `standardwebhooks`.

mod admin;
mod delivery;
mod docs;
pub mod helpers;
mod notify;
