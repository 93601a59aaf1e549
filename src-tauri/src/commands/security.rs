//! The Security Vault page: the score, email verification, the password (with the live
//! zxcvbn meter) and two-factor enrollment.

use keyhold_core::Sensitive;
use keyhold_core::password;
use tauri::State;

use super::{credentials, expire_on_401};
use crate::backend;
use crate::error::{CommandError, CommandResult, ErrorKind};
use crate::qr;
use crate::state::AppState;
use crate::view::{
    BackupCodes, MfaStatus, PasswordStrength, SecurityOverview, SessionItem, TotpEnrollment,
};

/// The live strength meter. With `email`, also the policy's verdict for that account.
/// Runs the Rust zxcvbn, so the web view carries no password logic, and runs it off the
/// main thread: a sync command would run on the thread that drives the window, and zxcvbn
/// is slow on some long inputs (fuzzing found one that took 0.74 s in a sanitizer build).
#[tauri::command]
#[specta::specta]
pub async fn password_strength(
    password: String,
    email: Option<String>,
) -> CommandResult<PasswordStrength> {
    tauri::async_runtime::spawn_blocking(move || estimate(password, email))
        .await
        .map_err(|_| CommandError::new(ErrorKind::Internal, "The strength estimate failed."))
}

fn estimate(password: String, email: Option<String>) -> PasswordStrength {
    let password = Sensitive::new(password);
    let length = u32::try_from(password.expose().chars().count()).unwrap_or(u32::MAX);
    let email = email.unwrap_or_default();
    let verdict = password::check(password.expose(), &email);
    let problems = verdict.reasons.iter().map(|r| r.message()).collect();
    let acceptable = verdict.is_ok();
    match verdict.strength {
        Some(s) => PasswordStrength {
            score: s.score,
            crack_time: s.crack_time,
            warning: s.warning,
            suggestions: s.suggestions,
            problems,
            acceptable,
            length,
        },
        None => PasswordStrength {
            score: 0,
            crack_time: String::new(),
            warning: None,
            suggestions: Vec::new(),
            problems,
            acceptable,
            length,
        },
    }
}

#[tauri::command]
#[specta::specta]
pub async fn security_overview(state: State<'_, AppState>) -> CommandResult<SecurityOverview> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::security(&server, &token).await).await
}

#[tauri::command]
#[specta::specta]
pub async fn request_email_verification(state: State<'_, AppState>) -> CommandResult<()> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(
        &state,
        backend::request_email_verification(&server, &token).await,
    )
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn change_password(
    state: State<'_, AppState>,
    current_password: String,
    new_password: String,
) -> CommandResult<()> {
    let current = Sensitive::new(current_password);
    let new = Sensitive::new(new_password);
    let (server, token) = credentials(&state).await?;
    let email = {
        let inner = state.inner.lock().await;
        inner.session()?.view.user.email.clone()
    };
    let verdict = password::check(new.expose(), &email);
    if !verdict.is_ok() {
        let details = verdict
            .strength
            .as_ref()
            .map(|s| s.suggestions.clone())
            .unwrap_or_default();
        return Err(CommandError::invalid(verdict.message()).with_details(details));
    }
    expire_on_401(
        &state,
        backend::change_password(&server, &token, &current, &new).await,
    )
    .await
}

/// Prove it is you again (TOTP code, or the password when 2FA is off) before a sensitive
/// change.
#[tauri::command]
#[specta::specta]
pub async fn reauthenticate(state: State<'_, AppState>, proof: String) -> CommandResult<()> {
    let proof = Sensitive::new(proof);
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::reauth(&server, &token, &proof).await).await
}

#[tauri::command]
#[specta::specta]
pub async fn mfa_status(state: State<'_, AppState>) -> CommandResult<MfaStatus> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::mfa_status(&server, &token).await).await
}

/// Start TOTP enrollment: the QR code is drawn here, in Rust. Needs the sudo window (a
/// stale session could otherwise enrol its own authenticator): `reauth_required` outside
/// it, and the dialog asks the person to confirm it's them, then starts again.
#[tauri::command]
#[specta::specta]
pub async fn mfa_begin_enrollment(state: State<'_, AppState>) -> CommandResult<TotpEnrollment> {
    let (server, token) = credentials(&state).await?;
    let email = {
        let inner = state.inner.lock().await;
        inner.session()?.view.user.email.clone()
    };
    let secret = expire_on_401(&state, backend::mfa_begin(&server, &token).await).await?;
    Ok(TotpEnrollment {
        qr_data_url: qr::svg_data_url(secret.otpauth_uri.expose())?,
        manual_key: group_key(secret.secret.expose()),
        issuer: "Keyhold".to_owned(),
        account: email,
    })
}

/// Finish enrollment with the first code; the backup codes come back once. Needs the sudo
/// window too (`reauth_required`: the dialog confirms it's the person and tries again).
#[tauri::command]
#[specta::specta]
pub async fn mfa_confirm_enrollment(
    state: State<'_, AppState>,
    code: String,
) -> CommandResult<BackupCodes> {
    let code = Sensitive::new(code.trim().replace(' ', ""));
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::mfa_confirm(&server, &token, &code).await).await
}

#[tauri::command]
#[specta::specta]
pub async fn mfa_regenerate_backup_codes(
    state: State<'_, AppState>,
    code: String,
) -> CommandResult<BackupCodes> {
    let code = Sensitive::new(code.trim().replace(' ', ""));
    let (server, token) = credentials(&state).await?;
    expire_on_401(
        &state,
        backend::mfa_regenerate_backup_codes(&server, &token, &code).await,
    )
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn mfa_disable(state: State<'_, AppState>, code: String) -> CommandResult<()> {
    let code = Sensitive::new(code.trim().replace(' ', ""));
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::mfa_disable(&server, &token, &code).await).await
}

/// The person's signed-in sessions (Settings → Sessions), this app's own marked current.
#[tauri::command]
#[specta::specta]
pub async fn list_sessions(state: State<'_, AppState>) -> CommandResult<Vec<SessionItem>> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::sessions(&server, &token).await).await
}

/// "Sign out everywhere else": every other session of the person ends; this one stays.
/// Needs the sudo window (`reauth_required`: the prompt confirms it's them, then retries);
/// the server audits it and mails the owner of the account.
#[tauri::command]
#[specta::specta]
pub async fn end_other_sessions(state: State<'_, AppState>) -> CommandResult<u32> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::end_other_sessions(&server, &token).await).await
}

/// `JBSWY3DPEHPK3PXP` → `JBSW Y3DP EHPK 3PXP`, easier to type.
fn group_key(secret: &str) -> String {
    secret
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_the_manual_key() {
        assert_eq!(group_key("JBSWY3DPEHPK3PXP"), "JBSW Y3DP EHPK 3PXP");
        assert_eq!(group_key("ABCDEF"), "ABCD EF");
    }

    #[test]
    fn strength_meter_uses_zxcvbn_and_the_policy() {
        let weak = estimate("password".into(), Some("ada@example.com".into()));
        assert!(!weak.acceptable);
        assert!(weak.score < 2);
        assert!(weak.problems.iter().any(|p| p.contains("15 characters")));
        let strong = estimate(
            "violet anchor quietly juggles seven kites".into(),
            Some("ada@example.com".into()),
        );
        assert!(strong.acceptable, "{strong:?}");
        assert!(strong.score >= 3);
        assert!(!strong.crack_time.is_empty());
        let long = estimate("x".repeat(200), None);
        assert!(!long.acceptable);
        assert_eq!(long.length, 200);
        // The command itself answers the same, from the blocking pool.
        let via_command = tauri::async_runtime::block_on(password_strength(
            "violet anchor quietly juggles seven kites".into(),
            None,
        ))
        .unwrap();
        assert_eq!(via_command.score, strong.score);
        assert!(via_command.acceptable);
    }
}
