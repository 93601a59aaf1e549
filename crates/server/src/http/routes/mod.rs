//! One file per resource, each exporting its routes and thin handlers: extract the caller
//! (the guard in the signature says who may call), call the vault, map its error once
//! (`crate::error`).

pub mod alerts;
pub mod approvals;
pub mod approvals_feed;
pub mod audit;
pub mod auth;
pub mod blocks;
pub mod invitations;
pub mod kek;
pub mod keys;
pub mod me;
pub mod members;
pub mod mfa;
pub mod ops;
pub mod public_keys;
pub mod recovery;
pub mod reset_page;
pub mod secrets;
pub mod settings;
pub mod tokens;
pub mod verify_page;
pub mod webhooks;

use axum::Router;

use crate::state::SharedState;

/// Every resource's routes.
pub fn all() -> Router<SharedState> {
    Router::new()
        .merge(auth::routes())
        .merge(me::routes())
        .merge(mfa::routes())
        .merge(audit::routes())
        .merge(keys::routes())
        .merge(public_keys::routes())
        .merge(tokens::routes())
        .merge(secrets::routes())
        .merge(kek::routes())
        .merge(approvals::routes())
        .merge(approvals_feed::routes())
        .merge(settings::routes())
        .merge(members::routes())
        .merge(invitations::routes())
        .merge(recovery::routes())
        .merge(verify_page::routes())
        .merge(reset_page::routes())
        .merge(webhooks::routes())
        .merge(alerts::routes())
        .merge(blocks::routes())
        .merge(ops::routes())
}
