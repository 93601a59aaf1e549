//! Two-factor authentication, the sudo window, the person's sessions and the security
//! score.

use keyhold_core::Sensitive;
use keyhold_core::api::{
    BackupCodesResponse, EndedSessions, LoginMfaRequest, MfaCodeRequest, MfaStatus, ReauthRequest,
    SessionInfo, SessionResponse, TotpEnrollment,
};
use keyhold_core::score::SecurityScore;
use reqwest::Method;

use crate::{Client, Result};

fn code_body(code: &str) -> MfaCodeRequest {
    MfaCodeRequest {
        code: Sensitive::new(code.to_owned()),
    }
}

impl Client {
    /// The second step of a 2FA sign-in: the ticket from [`crate::LoginOutcome::MfaRequired`]
    /// and a TOTP or backup code.
    pub async fn login_mfa(&self, mfa_ticket: &str, code: &str) -> Result<SessionResponse> {
        let body = LoginMfaRequest {
            mfa_ticket: Sensitive::new(mfa_ticket.to_owned()),
            code: Sensitive::new(code.to_owned()),
        };
        self.post_json("/v1/auth/login/mfa", &body).await
    }

    /// Restart the sudo window: a TOTP code, or the password while 2FA is off.
    pub async fn reauth(&self, code: &str) -> Result<()> {
        let body = ReauthRequest {
            code: Sensitive::new(code.to_owned()),
        };
        self.empty(self.request(Method::POST, "/v1/auth/reauth")?.json(&body))
            .await
    }

    /// Start (or restart) TOTP enrollment: the secret and its `otpauth://` URI, shown once.
    pub async fn start_totp_enrollment(&self) -> Result<TotpEnrollment> {
        self.json(self.request(Method::POST, "/v1/me/mfa/totp")?)
            .await
    }

    /// Confirm enrollment with a code from the authenticator; 2FA is on afterwards and
    /// the first backup codes come back, once.
    pub async fn confirm_totp(&self, code: &str) -> Result<BackupCodesResponse> {
        self.post_json("/v1/me/mfa/totp/confirm", &code_body(code))
            .await
    }

    pub async fn mfa_status(&self) -> Result<MfaStatus> {
        self.json(self.request(Method::GET, "/v1/me/mfa")?).await
    }

    /// A new set of backup codes (the old set stops working). Needs the sudo window.
    pub async fn regenerate_backup_codes(&self, code: &str) -> Result<BackupCodesResponse> {
        self.post_json("/v1/me/mfa/backup-codes", &code_body(code))
            .await
    }

    /// Turn 2FA off with a TOTP or backup code. Needs the sudo window.
    pub async fn disable_totp(&self, code: &str) -> Result<()> {
        self.empty(
            self.request(Method::DELETE, "/v1/me/mfa/totp")?
                .json(&code_body(code)),
        )
        .await
    }

    /// The security score, its factors and recommendations.
    /// The person's live sessions, this one marked `current`.
    pub async fn sessions(&self) -> Result<Vec<SessionInfo>> {
        self.json(self.request(Method::GET, "/v1/me/sessions")?)
            .await
    }

    /// Sign out every other session of the person (needs the sudo window).
    pub async fn end_other_sessions(&self) -> Result<EndedSessions> {
        self.json(self.request(Method::POST, "/v1/me/sessions/end-others")?)
            .await
    }

    pub async fn security(&self) -> Result<SecurityScore> {
        self.json(self.request(Method::GET, "/v1/me/security")?)
            .await
    }
}
