//! Two-factor sign-in: status, TOTP enrollment, backup codes, turning it off.

use keyhold_core::Sensitive;
use keyhold_core::api::BackupCodesResponse;

use super::Server;
use crate::error::CommandResult;
use crate::view::{BackupCodes, MfaStatus};

/// The TOTP secret at the start of enrollment. Rendered to a QR code in Rust.
pub struct TotpSecret {
    pub secret: Sensitive<String>,
    pub otpauth_uri: Sensitive<String>,
}

pub async fn mfa_status(server: &Server, token: &Sensitive<String>) -> CommandResult<MfaStatus> {
    let m = server
        .authed(token)
        .mfa_status()
        .await
        .map_err(|e| server.error(e))?;
    Ok(MfaStatus {
        totp_enabled: m.totp_enabled,
        backup_codes_remaining: m.backup_codes_remaining,
        enrolled_at: m.enrolled_at.map(|t| t.to_rfc3339()),
    })
}

pub async fn mfa_begin(server: &Server, token: &Sensitive<String>) -> CommandResult<TotpSecret> {
    let e = server
        .authed(token)
        .start_totp_enrollment()
        .await
        .map_err(|e| server.error(e))?;
    Ok(TotpSecret {
        secret: e.secret,
        otpauth_uri: e.otpauth_uri,
    })
}

/// Backup codes leave the `Sensitive` wrapper only here, on their way to the one screen
/// that shows them once.
fn backup_codes(r: BackupCodesResponse) -> BackupCodes {
    BackupCodes {
        codes: r.backup_codes.iter().map(|c| c.expose().clone()).collect(),
    }
}

pub async fn mfa_confirm(
    server: &Server,
    token: &Sensitive<String>,
    code: &Sensitive<String>,
) -> CommandResult<BackupCodes> {
    server
        .authed(token)
        .confirm_totp(code.expose())
        .await
        .map(backup_codes)
        .map_err(|e| server.error(e))
}

pub async fn mfa_regenerate_backup_codes(
    server: &Server,
    token: &Sensitive<String>,
    code: &Sensitive<String>,
) -> CommandResult<BackupCodes> {
    server
        .authed(token)
        .regenerate_backup_codes(code.expose())
        .await
        .map(backup_codes)
        .map_err(|e| server.error(e))
}

pub async fn mfa_disable(
    server: &Server,
    token: &Sensitive<String>,
    code: &Sensitive<String>,
) -> CommandResult<()> {
    server
        .authed(token)
        .disable_totp(code.expose())
        .await
        .map_err(|e| server.error(e))
}
