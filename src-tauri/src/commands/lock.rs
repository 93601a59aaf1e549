//! Auto-lock. The web view notices the idle time (no input in the window for the chosen
//! minutes) and calls `lock_app`; from then on Rust refuses every signed-in command with
//! `locked` (`commands::credentials` checks it), so hiding the lock screen in the web view
//! would show nothing new. `unlock_app` has the server check a TOTP code (or the password
//! when 2FA is off) with the sudo re-authentication, which also restarts the sudo window.
//! The session itself stays: its token remains here and in the keyring, and the live feeds
//! keep running, so nothing has to be signed in again after unlocking.

use keyhold_core::Sensitive;
use tauri::State;

use super::expire_on_401;
use crate::backend;
use crate::error::{CommandError, CommandResult};
use crate::state::AppState;
use crate::view::LockView;

/// `KEYHOLD_DEBUG_LOCK_SECS` (1–3600) in a debug build: offered as an extra, short auto-lock
/// choice so the end-to-end test need not wait five minutes. A release build never reads it.
pub fn debug_lock_secs() -> Option<u32> {
    if !cfg!(debug_assertions) {
        return None;
    }
    parse_debug_secs(std::env::var("KEYHOLD_DEBUG_LOCK_SECS").ok().as_deref())
}

fn parse_debug_secs(value: Option<&str>) -> Option<u32> {
    value
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|s| (1..=3600).contains(s))
}

/// Lock the app now (the web view's idle timer ran out). Locks at once, before asking the
/// server whether 2FA is on (which decides what unlocks it); locking twice keeps the lock.
#[tauri::command]
#[specta::specta]
pub async fn lock_app(state: State<'_, AppState>) -> CommandResult<LockView> {
    let (server, token) = {
        let mut inner = state.inner.lock().await;
        let session = inner.session()?;
        let found = (session.server.clone(), session.token.clone());
        if let Some(lock) = inner.lock {
            return Ok(lock);
        }
        inner.lock = Some(LockView { totp_enabled: None });
        found
    };
    // Unknown when the server cannot say (offline): the lock screen then takes either.
    let totp = match state.server(&server) {
        Ok(s) => backend::mfa_status(&s, &token)
            .await
            .ok()
            .map(|m| m.totp_enabled),
        Err(_) => None,
    };
    let mut inner = state.inner.lock().await;
    if let Some(lock) = inner.lock.as_mut() {
        lock.totp_enabled = totp;
    }
    Ok(LockView { totp_enabled: totp })
}

/// Unlock with a TOTP code (2FA on) or the password (2FA off), checked by the server.
#[tauri::command]
#[specta::specta]
pub async fn unlock_app(state: State<'_, AppState>, proof: String) -> CommandResult<()> {
    let proof = Sensitive::new(proof);
    if proof.expose().trim().is_empty() {
        return Err(CommandError::invalid(
            "Enter your password or the code from your authenticator app.",
        ));
    }
    let (server, token, totp) = {
        let inner = state.inner.lock().await;
        let session = inner.session()?;
        let totp = inner.lock.and_then(|l| l.totp_enabled);
        (session.server.clone(), session.token.clone(), totp)
    };
    // A code may be typed in groups ("123 456"); a password goes as typed.
    let proof = if totp == Some(true) {
        Sensitive::new(proof.expose().trim().replace([' ', '-'], ""))
    } else {
        proof
    };
    let server = state.server(&server)?;
    expire_on_401(&state, backend::reauth(&server, &token, &proof).await).await?;
    state.inner.lock().await.lock = None;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::keystore::TokenStore;
    use crate::state::Session;
    use crate::view::{SessionView, UserView};

    fn signed_in() -> AppState {
        let state = AppState::new(
            TokenStore::memory_only("test"),
            None,
            std::time::Instant::now(),
        );
        let server = crate::server_url::parse("http://127.0.0.1:8270").unwrap();
        state.inner.try_lock().unwrap().session = Some(Session {
            server: server.clone(),
            token: Sensitive::new("khs_test".to_owned()),
            view: SessionView {
                server_url: server.to_string(),
                user: UserView {
                    id: "usr_ada".to_owned(),
                    email: "ada@example.com".to_owned(),
                    display_name: None,
                },
                tenant_name: None,
                role: None,
                expires_at: None,
            },
        });
        state
    }

    /// Locked, no signed-in command gets the session's credentials, whatever the web view
    /// shows; unlocked, they do again. Signing in afresh never inherits a lock.
    #[test]
    fn a_lock_holds_back_every_signed_in_command() {
        let state = signed_in();
        let run = |s: &AppState| tauri::async_runtime::block_on(super::super::credentials(s));
        assert!(run(&state).is_ok());
        state.inner.try_lock().unwrap().lock = Some(LockView {
            totp_enabled: Some(true),
        });
        let refused = run(&state).unwrap_err();
        assert_eq!(refused.kind, ErrorKind::Locked);
        assert!(!refused.message.contains("khs_test"));
        state.inner.try_lock().unwrap().lock = None;
        assert!(run(&state).is_ok());
    }

    #[test]
    fn the_debug_lock_time_is_a_sane_number_of_seconds() {
        assert_eq!(parse_debug_secs(Some("5")), Some(5));
        assert_eq!(parse_debug_secs(Some(" 60 ")), Some(60));
        for bad in [
            None,
            Some(""),
            Some("0"),
            Some("-3"),
            Some("abc"),
            Some("3601"),
        ] {
            assert_eq!(parse_debug_secs(bad), None, "{bad:?}");
        }
    }
}
