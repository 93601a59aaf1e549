//! Account recovery: a forgotten password (a mailed single-use link), and an owner or
//! admin resetting the 2FA of a member who lost their phone and backup codes.

use keyhold_core::Sensitive;
use keyhold_core::api::{PasswordResetConfirm, PasswordResetRequest, ResetMemberMfaRequest};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// Ask for a reset link by mail. The server answers the same whether or not the address
    /// has an account, so this says nothing about who has one.
    pub async fn request_password_reset(&self, email: &str) -> Result<()> {
        let body = PasswordResetRequest {
            email: email.to_owned(),
        };
        self.empty(
            self.request(Method::POST, "/v1/auth/password-reset")?
                .json(&body),
        )
        .await
    }

    /// Set a new password with the token from the mailed link; `code` (TOTP or backup
    /// code) is needed when the account has 2FA on. Every session of the account ends.
    pub async fn confirm_password_reset(
        &self,
        token: &str,
        new_password: &str,
        code: Option<&str>,
    ) -> Result<()> {
        let body = PasswordResetConfirm {
            token: Sensitive::new(token.to_owned()),
            new_password: Sensitive::new(new_password.to_owned()),
            code: code.map(|c| Sensitive::new(c.to_owned())),
        };
        self.empty(
            self.request(Method::POST, "/v1/auth/password-reset/confirm")?
                .json(&body),
        )
        .await
    }

    /// Turn off another member's 2FA (owners and admins, in the sudo window), proven with
    /// the caller's own current TOTP `code`.
    pub async fn reset_member_mfa(&self, user_id: &str, code: &str) -> Result<()> {
        let body = ResetMemberMfaRequest {
            code: Sensitive::new(code.to_owned()),
        };
        self.empty(
            self.request_segments(Method::POST, "/v1/members", &[user_id, "mfa", "reset"])?
                .json(&body),
        )
        .await
    }
}

/// The token itself, or the `token` parameter of a whole pasted link: people copy the
/// link from the mail as often as the token.
pub fn token_from_link(input: &str) -> String {
    let text = input.trim();
    url::Url::parse(text)
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "token")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_else(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::token_from_link;

    #[test]
    fn a_pasted_link_gives_its_token() {
        assert_eq!(token_from_link("  khr_abc \n"), "khr_abc");
        assert_eq!(
            token_from_link("https://vault.example.com/reset-password?token=khr_abc&x=1"),
            "khr_abc"
        );
        assert_eq!(
            token_from_link("https://vault.example.com/other"),
            "https://vault.example.com/other"
        );
    }
}
