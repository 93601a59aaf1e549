//! "Forgot password?" on the sign-in screen: no session. The mailed token (or the whole
//! link), the new password and the code are wrapped in `Sensitive` as they arrive.

use keyhold_core::Sensitive;
use tauri::State;

use crate::backend::recovery as backend;
use crate::error::{CommandError, CommandResult};
use crate::state::{AppState, parse_server};

/// Mail a reset link to `email` if it has an account (the answer is the same either way).
#[tauri::command]
#[specta::specta]
pub async fn request_password_reset(
    state: State<'_, AppState>,
    server_url: String,
    email: String,
) -> CommandResult<()> {
    let email = email.trim();
    if !email.contains('@') {
        return Err(CommandError::invalid(
            "Enter the email address of your account.",
        ));
    }
    let server = parse_server(&server_url)?;
    backend::request_password_reset(&state.server(&server)?, email).await
}

/// Set a new password with the mailed token; `code` when the account has 2FA on
/// (`mfa_required` says so). Every session of the account ends.
#[tauri::command]
#[specta::specta]
pub async fn reset_password(
    state: State<'_, AppState>,
    server_url: String,
    token: String,
    new_password: String,
    code: Option<String>,
) -> CommandResult<()> {
    let token = Sensitive::new(keyhold_client::token_from_link(&token));
    let new_password = Sensitive::new(new_password);
    let code = code
        .map(|c| Sensitive::new(c.trim().replace([' ', '-'], "")))
        .filter(|c| !c.expose().is_empty());
    if token.expose().is_empty() {
        return Err(CommandError::invalid(
            "Paste the link or the code from the mail.",
        ));
    }
    if new_password.expose().is_empty() {
        return Err(CommandError::invalid("Choose a new password."));
    }
    let server = parse_server(&server_url)?;
    backend::confirm_password_reset(
        &state.server(&server)?,
        &token,
        &new_password,
        code.as_ref(),
    )
    .await
}
