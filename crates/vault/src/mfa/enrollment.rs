//! Turning two-factor authentication on and off: TOTP enrollment and its confirmation,
//! the status, and the two sudo actions that need a code (new backup codes, disabling).

use keyhold_core::Sensitive;
use keyhold_core::api::{BackupCodesResponse, MfaStatus, TotpEnrollment};
use keyhold_core::totp::{self, TotpSecret};

use super::NOTHING_PENDING;
use super::mail::send_backup_code_mail;
use super::prove::{Attempt, Method, classify, confirmed, prove, wrong_with_session};
use super::secret::{new_backup_codes, seal_secret};
use crate::audit::{ClientInfo, NewEvent};
use crate::auth::{Session, SudoSession};
use crate::error::{Error, Result};
use crate::notify::{self, Change};
use crate::store::Conflict;
use crate::store::mfa::{MfaEffect, TotpRecord};
use crate::{Vault, ids};

pub async fn start_enrollment(
    st: &Vault,
    s: &SudoSession,
    client: &ClientInfo,
) -> Result<TotpEnrollment> {
    if s.user.mfa_enabled {
        return Err(Error::Conflict(Conflict::MfaAlreadyEnabled.message()));
    }
    let now = st.clock.now();
    let secret = TotpSecret::generate();
    let record = TotpRecord {
        id: ids::new_id(now),
        tenant_id: s.tenant_id().to_owned(),
        user_id: s.user.id.clone(),
        secret_sealed: seal_secret(&st.keys, s.tenant_id(), &s.user.id, &secret)?,
        created_at: now,
        confirmed_at: None,
        last_step: None,
    };
    let ev = NewEvent::new("mfa.enrollment_started", now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("user:{}", s.user.id))
        .detail("method", "totp");
    st.store.start_totp_enrollment(record, ev).await?;
    Ok(TotpEnrollment {
        secret: secret.to_base32(),
        otpauth_uri: totp::otpauth_uri(&secret, &s.user.email),
    })
}

pub async fn confirm_enrollment(
    st: &Vault,
    s: &SudoSession,
    code: &str,
    client: &ClientInfo,
) -> Result<BackupCodesResponse> {
    classify(code, false)?;
    let state = st.store.mfa_state(s.tenant_id(), &s.user.id).await?;
    let pending = match &state.totp {
        None => return Err(Error::Conflict(NOTHING_PENDING)),
        Some(t) if t.confirmed_at.is_some() => {
            return Err(Error::Conflict(Conflict::MfaAlreadyEnabled.message()));
        }
        Some(t) => t,
    };
    let (codes, hashes) = new_backup_codes(&st.keys, &s.user.id);
    let now = st.clock.now();
    let count = hashes.len();
    let notice = notify::notice(st, &s.user.email, &Change::MfaEnabled, now, client)?;
    prove(
        st,
        Attempt {
            user: &s.user,
            purpose: "confirm",
            code,
            backup_allowed: false,
            totp: pending,
            ticket_id: None,
            wrong: wrong_with_session,
            client,
        },
        |method| {
            let ev = NewEvent::new("mfa.enabled", now, client)
                .user(s.tenant_id(), &s.user.id)
                .target(format!("user:{}", s.user.id))
                .detail("method", method.as_str())
                .detail("backup_codes", count)
                .with_outbound(notice.clone());
            (
                MfaEffect::Enable {
                    backup_code_hashes: hashes,
                },
                vec![ev],
            )
        },
    )
    .await?;
    Ok(BackupCodesResponse {
        backup_codes: codes,
    })
}

pub async fn status(st: &Vault, s: &Session) -> Result<MfaStatus> {
    let state = st.store.mfa_state(s.tenant_id(), &s.user.id).await?;
    let enrolled_at = state.totp.as_ref().and_then(|t| t.confirmed_at);
    Ok(MfaStatus {
        totp_enabled: enrolled_at.is_some(),
        backup_codes_remaining: if enrolled_at.is_some() {
            state.backup_codes_remaining
        } else {
            0
        },
        enrolled_at,
    })
}

/// Regenerate (`regenerate = true`) backup codes or disable 2FA: both need the sudo window
/// (checked by the `SudoSession` guard) and a code, TOTP or backup.
async fn sudo_action(
    st: &Vault,
    s: &Session,
    code: &str,
    client: &ClientInfo,
    regenerate: bool,
) -> Result<Option<Vec<Sensitive<String>>>> {
    classify(code, true)?;
    let state = st.store.mfa_state(s.tenant_id(), &s.user.id).await?;
    let totp = confirmed(&state)?;
    let now = st.clock.now();
    let (codes, effect, action, purpose) = if regenerate {
        let (codes, hashes) = new_backup_codes(&st.keys, &s.user.id);
        (
            Some(codes),
            MfaEffect::ReplaceBackupCodes {
                backup_code_hashes: hashes,
            },
            "mfa.backup_codes",
            "backup_codes",
        )
    } else {
        (None, MfaEffect::Disable, "mfa.disabled", "disable")
    };
    let count = codes.as_ref().map_or(0, Vec::len);
    let change = if regenerate {
        Change::BackupCodesRegenerated
    } else {
        Change::MfaDisabled
    };
    let notice = notify::notice(st, &s.user.email, &change, now, client)?;
    let method = prove(
        st,
        Attempt {
            user: &s.user,
            purpose,
            code,
            backup_allowed: true,
            totp,
            ticket_id: None,
            wrong: wrong_with_session,
            client,
        },
        |method| {
            let mut ev = NewEvent::new(action, now, client)
                .user(s.tenant_id(), &s.user.id)
                .target(format!("user:{}", s.user.id))
                .detail("method", method.as_str())
                .with_outbound(notice.clone());
            if regenerate {
                ev = ev.detail("backup_codes", count);
            }
            (effect, vec![ev])
        },
    )
    .await?;
    if method == Method::BackupCode {
        let what = if regenerate {
            "make a new set of backup codes"
        } else {
            "turn two-factor authentication off"
        };
        send_backup_code_mail(st, &s.user, what).await;
    }
    Ok(codes)
}

pub async fn regenerate_backup_codes(
    st: &Vault,
    s: &SudoSession,
    code: &str,
    client: &ClientInfo,
) -> Result<BackupCodesResponse> {
    let codes = sudo_action(st, s, code, client, true).await?;
    Ok(BackupCodesResponse {
        backup_codes: codes.unwrap_or_default(),
    })
}

pub async fn disable(st: &Vault, s: &SudoSession, code: &str, client: &ClientInfo) -> Result<()> {
    sudo_action(st, s, code, client, false).await.map(|_| ())
}
