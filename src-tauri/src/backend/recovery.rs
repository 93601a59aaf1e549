//! A forgotten password, from the sign-in screen (no session): ask for the mailed link,
//! then set a new password with its token (and a 2FA code when the account has 2FA on).

use keyhold_core::Sensitive;

use super::Server;
use crate::error::CommandResult;

/// Ask for a reset link. The server answers the same whether or not the address has an
/// account.
pub async fn request_password_reset(server: &Server, email: &str) -> CommandResult<()> {
    server
        .anonymous()
        .request_password_reset(email)
        .await
        .map_err(|e| server.error(e))
}

/// Set the new password; every session of the account ends.
pub async fn confirm_password_reset(
    server: &Server,
    token: &Sensitive<String>,
    new_password: &Sensitive<String>,
    code: Option<&Sensitive<String>>,
) -> CommandResult<()> {
    server
        .anonymous()
        .confirm_password_reset(
            token.expose(),
            new_password.expose(),
            code.map(|c| c.expose().as_str()),
        )
        .await
        .map_err(|e| server.error(e))
}
