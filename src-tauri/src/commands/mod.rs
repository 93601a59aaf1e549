//! The Tauri commands: argument in, one call through `backend` (keyhold-client), result
//! out. Passwords, codes and pasted secrets are wrapped in `Sensitive` as soon as they
//! arrive, so they are wiped on drop and never printed.

pub mod alerts;
pub mod approvals;
pub mod audit;
pub mod files;
pub mod keys;
pub mod lock;
pub mod members;
pub mod recovery;
pub mod secrets;
pub mod security;
pub mod session;
pub mod settings;
pub mod startup;
pub mod webhooks;

use keyhold_core::Sensitive;

use crate::backend::Server;
use crate::error::{CommandError, CommandResult, ErrorKind};
use crate::state::AppState;

/// The signed-in server (with the app's shared client) and token, copied out of the lock
/// so no request holds it. While the app is locked after idle time there are none: every
/// signed-in command goes through here, so a web view that skipped its lock screen still
/// gets nothing but `locked` (only `unlock_app` and `sign_out` work then).
pub(crate) async fn credentials(state: &AppState) -> CommandResult<(Server, Sensitive<String>)> {
    let (url, token) = {
        let inner = state.inner.lock().await;
        let session = inner.session()?;
        if inner.lock.is_some() {
            return Err(CommandError::locked());
        }
        (session.server.clone(), session.token.clone())
    };
    Ok((state.server(&url)?, token))
}

/// A request answered `unauthenticated` means the session expired or was revoked: forget
/// it here and in the keyring, and tell the UI to return to sign-in.
pub(crate) async fn expire_on_401<T>(
    state: &AppState,
    result: CommandResult<T>,
) -> CommandResult<T> {
    match result {
        Err(e) if e.kind == ErrorKind::Unauthenticated => {
            state.hold_opened(None);
            let mut inner = state.inner.lock().await;
            inner.lock = None;
            if let Some(session) = inner.session.take()
                && let Err(err) = state.tokens.delete(session.server.as_str())
            {
                eprintln!("keyhold-desktop: {err}");
            }
            Err(CommandError::signed_out())
        }
        other => other,
    }
}
