//! Wire types of two-factor authentication and the security score (API.md "Security
//! Vault"). Everything that carries a TOTP secret, an enrollment URI or a backup code is
//! [`Sensitive`], so neither side can log it by accident.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Sensitive;

/// `POST /v1/me/mfa/totp` → 201: the new secret, shown once, both as base32 text to type
/// in and as the `otpauth://` URI a QR code carries. Not active until confirmed.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct TotpEnrollment {
    /// RFC 4648 base32 without padding (32 characters for 160 bits).
    #[schema(value_type = String)]
    pub secret: Sensitive<String>,
    /// `otpauth://totp/Keyhold:<email>?secret=…&issuer=Keyhold&algorithm=SHA1&digits=6&period=30`.
    #[schema(value_type = String)]
    pub otpauth_uri: Sensitive<String>,
}

/// A second-factor code: six digits from the authenticator, or (where the endpoint says
/// so) a backup code such as `abcd-2345-wxyz`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaCodeRequest {
    #[schema(schema_with = super::schema::mfa_code)]
    pub code: Sensitive<String>,
}

/// A code from the authenticator app only (confirming an enrollment: backup codes do not
/// exist yet).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCodeRequest {
    #[schema(schema_with = super::schema::totp_code)]
    pub code: Sensitive<String>,
}

/// A fresh set of backup codes, shown once (`xxxx-xxxx-xxxx`).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct BackupCodesResponse {
    #[schema(value_type = Vec<String>)]
    pub backup_codes: Vec<Sensitive<String>>,
}

/// `GET /v1/me/mfa`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct MfaStatus {
    pub totp_enabled: bool,
    /// Unused backup codes; 0 while 2FA is off.
    pub backup_codes_remaining: u32,
    /// When 2FA was turned on; `null` while it is off (also during a pending enrollment).
    pub enrolled_at: Option<DateTime<Utc>>,
}
