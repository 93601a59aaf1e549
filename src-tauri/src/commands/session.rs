//! First run, sign-up, sign-in (with the 2FA step), restoring a saved session, sign-out.

use std::time::{Duration, Instant};

use keyhold_core::Sensitive;
use tauri::State;

use crate::backend::{self, Granted, Login};
use crate::error::{CommandError, CommandResult, ErrorKind};
use crate::server_url::{self, DEFAULT_SERVER_URL, ServerUrl};
use crate::state::{AppState, Inner, PendingMfa, Session, parse_server};
use crate::view::{AppInfo, AppStatus, ServerUrlCheck, SignInOutcome};

/// How long a 2FA ticket lives on the server (API.md: 5 minutes).
const MFA_TICKET_TTL: Duration = Duration::from_secs(5 * 60);

#[tauri::command]
#[specta::specta]
pub fn app_info() -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        default_server_url: DEFAULT_SERVER_URL.to_owned(),
        debug_lock_secs: super::lock::debug_lock_secs(),
    }
}

/// Validate a server address as it is typed.
#[tauri::command]
#[specta::specta]
pub fn check_server_url(url: String) -> ServerUrlCheck {
    match server_url::parse(&url) {
        Ok(u) => ServerUrlCheck {
            ok: true,
            loopback: u.is_loopback(),
            normalized: Some(u.to_string()),
            problem: None,
        },
        Err(problem) => ServerUrlCheck {
            ok: false,
            loopback: false,
            normalized: None,
            problem: Some(problem),
        },
    }
}

/// Whether the server answers (the signed-in one, else `server_url`): the offline banner
/// polls this until it does.
#[tauri::command]
#[specta::specta]
pub async fn server_health(state: State<'_, AppState>, server_url: String) -> CommandResult<()> {
    let server = match state.inner.lock().await.session.as_ref() {
        Some(s) => s.server.clone(),
        None => parse_server(&server_url)?,
    };
    backend::healthz(&state.server(&server)?).await
}

fn status(state: &AppState, inner: &Inner, restore_problem: Option<CommandError>) -> AppStatus {
    AppStatus {
        server_url: inner
            .session
            .as_ref()
            .map(|s| s.server.to_string())
            .unwrap_or_else(|| state.initial_server(&inner.settings)),
        last_email: inner.settings.last_email.clone(),
        keyring: state.tokens.backend(),
        session: inner.session.as_ref().map(|s| s.view.clone()),
        restore_problem,
        lock: inner.lock.filter(|_| inner.session.is_some()),
    }
}

/// Where the app stands; on the first call, restores a session saved in the keyring.
#[tauri::command]
#[specta::specta]
pub async fn session_status(state: State<'_, AppState>) -> CommandResult<AppStatus> {
    let mut inner = state.inner.lock().await;
    if inner.session.is_some() {
        return Ok(status(&state, &inner, None));
    }
    let Ok(server) = server_url::parse(&state.initial_server(&inner.settings)) else {
        return Ok(status(&state, &inner, None));
    };
    let token = match state.tokens.load(server.as_str()) {
        Ok(Some(token)) => token,
        Ok(None) => return Ok(status(&state, &inner, None)),
        Err(e) => {
            let problem = CommandError::new(ErrorKind::Keyring, e.to_string());
            return Ok(status(&state, &inner, Some(problem)));
        }
    };
    let checked = match state.server(&server) {
        Ok(client) => backend::me(&client, &token).await,
        Err(e) => Err(e),
    };
    match checked {
        Ok(view) => {
            inner.session = Some(Session {
                server,
                token,
                view,
            });
            Ok(status(&state, &inner, None))
        }
        Err(e) => {
            if e.kind == ErrorKind::Unauthenticated
                && let Err(err) = state.tokens.delete(server.as_str())
            {
                eprintln!("keyhold-desktop: {err}");
            }
            let problem = match e.kind {
                ErrorKind::Unauthenticated => CommandError::new(
                    ErrorKind::SignedOut,
                    "Your saved session has ended. Sign in again.",
                ),
                _ => e,
            };
            Ok(status(&state, &inner, Some(problem)))
        }
    }
}

/// Keep the session: token into the keyring (best effort) and Rust state.
async fn establish(
    state: &AppState,
    server: ServerUrl,
    email: &str,
    granted: Granted,
) -> SignInOutcome {
    if let Err(e) = state.tokens.save(server.as_str(), &granted.token) {
        eprintln!("keyhold-desktop: {e}; the session will last until the app quits");
    }
    let mut inner = state.inner.lock().await;
    inner.pending_mfa = None;
    // A fresh sign-in proved who this is: no lock carries over to it.
    inner.lock = None;
    inner.settings.server_url = Some(server.to_string());
    inner.settings.last_email = Some(email.to_owned());
    state.persist(&inner.settings);
    let view = granted.view.clone();
    inner.session = Some(Session {
        server,
        token: granted.token,
        view: granted.view,
    });
    SignInOutcome::SignedIn { session: view }
}

async fn sign_in_with(
    state: &AppState,
    server: ServerUrl,
    email: &str,
    password: &Sensitive<String>,
) -> CommandResult<SignInOutcome> {
    match backend::login(&state.server(&server)?, email, password).await? {
        Login::Granted(granted) => Ok(establish(state, server, email, granted).await),
        Login::MfaRequired { ticket } => {
            let mut inner = state.inner.lock().await;
            inner.pending_mfa = Some(PendingMfa {
                server,
                email: email.to_owned(),
                ticket,
                started: Instant::now(),
            });
            Ok(SignInOutcome::MfaRequired {
                email: email.to_owned(),
            })
        }
    }
}

fn checked_email(email: &str) -> CommandResult<String> {
    let email = email.trim();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        });
    if valid {
        Ok(email.to_owned())
    } else {
        Err(CommandError::invalid(
            "Enter a valid email address, like ada@example.com.",
        ))
    }
}

/// Create an account, then sign in to it.
#[tauri::command]
#[specta::specta]
pub async fn sign_up(
    state: State<'_, AppState>,
    server_url: String,
    email: String,
    password: String,
    display_name: Option<String>,
) -> CommandResult<SignInOutcome> {
    let password = Sensitive::new(password);
    let server = parse_server(&server_url)?;
    let email = checked_email(&email)?;
    let verdict = keyhold_core::password::check(password.expose(), &email);
    if !verdict.is_ok() {
        let details = verdict
            .strength
            .as_ref()
            .map(|s| s.suggestions.clone())
            .unwrap_or_default();
        return Err(CommandError::invalid(verdict.message()).with_details(details));
    }
    let display_name = display_name
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    backend::signup(&state.server(&server)?, &email, &password, display_name).await?;
    sign_in_with(&state, server, &email, &password).await
}

#[tauri::command]
#[specta::specta]
pub async fn sign_in(
    state: State<'_, AppState>,
    server_url: String,
    email: String,
    password: String,
) -> CommandResult<SignInOutcome> {
    let password = Sensitive::new(password);
    let server = parse_server(&server_url)?;
    let email = checked_email(&email)?;
    if password.expose().is_empty() {
        return Err(CommandError::invalid("Enter your password."));
    }
    sign_in_with(&state, server, &email, &password).await
}

/// The second step: a TOTP code or a backup code.
#[tauri::command]
#[specta::specta]
pub async fn sign_in_mfa(state: State<'_, AppState>, code: String) -> CommandResult<SignInOutcome> {
    let code = Sensitive::new(code.trim().replace([' ', '-'], ""));
    if code.expose().is_empty() {
        return Err(CommandError::invalid(
            "Enter the code from your authenticator app.",
        ));
    }
    let (server, ticket, email) = {
        let mut inner = state.inner.lock().await;
        let Some(pending) = &inner.pending_mfa else {
            return Err(CommandError::new(
                ErrorKind::SignedOut,
                "Enter your email and password first.",
            ));
        };
        if pending.started.elapsed() > MFA_TICKET_TTL {
            inner.pending_mfa = None;
            return Err(CommandError::new(
                ErrorKind::SignedOut,
                "The sign-in took too long. Enter your password again.",
            ));
        }
        (
            pending.server.clone(),
            pending.ticket.clone(),
            pending.email.clone(),
        )
    };
    let granted = backend::login_mfa(&state.server(&server)?, &ticket, &code).await?;
    Ok(establish(&state, server, &email, granted).await)
}

/// Leave the 2FA step and go back to the password.
#[tauri::command]
#[specta::specta]
pub async fn cancel_mfa(state: State<'_, AppState>) -> CommandResult<()> {
    state.inner.lock().await.pending_mfa = None;
    Ok(())
}

/// End the session on the server (when reachable), in the keyring and here.
#[tauri::command]
#[specta::specta]
pub async fn sign_out(state: State<'_, AppState>) -> CommandResult<AppStatus> {
    state.replace_feed(None);
    state.replace_alert_feed(None);
    state.hold_opened(None);
    let session = {
        let mut inner = state.inner.lock().await;
        inner.lock = None;
        inner.session.take()
    };
    if let Some(session) = session {
        // Forget it locally whatever the server says: signing out must always work.
        let ended = match state.server(&session.server) {
            Ok(client) => backend::logout(&client, &session.token).await,
            Err(e) => Err(e),
        };
        if let Err(e) = ended {
            eprintln!(
                "keyhold-desktop: sign-out on the server failed: {}",
                e.message
            );
        }
        if let Err(e) = state.tokens.delete(session.server.as_str()) {
            eprintln!("keyhold-desktop: {e}");
        }
    }
    let inner = state.inner.lock().await;
    Ok(status(&state, &inner, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_check() {
        assert!(checked_email(" ada@example.com ").is_ok());
        for bad in ["", "ada", "@example.com", "ada@", "ada@example", "ada@.com"] {
            assert!(checked_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn server_url_check_reports_problems() {
        let c = check_server_url("http://vault.example.com".into());
        assert!(!c.ok);
        assert!(c.problem.unwrap().contains("https://"));
        let c = check_server_url("localhost:8270".into());
        assert!(c.ok && c.loopback);
        assert_eq!(c.normalized.as_deref(), Some("http://localhost:8270"));
        let _ = DEFAULT_SERVER_URL;
    }
}
