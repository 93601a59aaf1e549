//! Checking a second-factor code: every code, wherever it is entered, goes through
//! [`prove`], so the format check, the lock, the replay guard and the failure count are
//! one mechanism.

use chrono::{DateTime, Utc};
use keyhold_core::Sensitive;
use keyhold_core::backup_codes;
use keyhold_core::totp::{self, TotpError};
use zeroize::Zeroizing;

use super::mail::send_lockout_mail;
use super::secret::{backup_code_hash, open_secret};
use super::{LOCKOUT, MFA_OFF, TICKET_ATTEMPTS, TICKET_GONE, WRONG_CODE};
use crate::Vault;
use crate::audit::{ClientInfo, NewEvent, Outcome};
use crate::error::{Error, Result};
use crate::store::mfa::{
    AttemptOutcome, MfaEffect, MfaState, Proof, SecondFactorAttempt, TotpCheck, TotpRecord,
};
use crate::store::{Conflict, StoreError, UserRecord};

/// What a submitted code looks like.
pub(crate) enum Submitted {
    Totp,
    Backup(Sensitive<String>),
}

pub(crate) fn classify(code: &str, backup_allowed: bool) -> Result<Submitted> {
    if code.len() == totp::DIGITS && code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Submitted::Totp);
    }
    if backup_allowed && let Some(n) = backup_codes::normalize(code) {
        return Ok(Submitted::Backup(n));
    }
    let message = if backup_allowed {
        "Enter the 6-digit code from your authenticator app, or one of your backup codes (xxxx-xxxx-xxxx)."
    } else {
        "Enter the 6-digit code from your authenticator app."
    };
    let mut extra = serde_json::Map::new();
    extra.insert("field".into(), "code".into());
    Err(Error::Invalid {
        message: message.into(),
        extra,
    })
}

fn unix_secs(t: DateTime<Utc>) -> u64 {
    u64::try_from(t.timestamp()).unwrap_or(0)
}

fn wait_secs(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    u64::try_from((until - now).num_seconds().max(1)).unwrap_or(1)
}

/// How a second factor was proved, for audit details and mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Totp,
    BackupCode,
}

impl Method {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::BackupCode => "backup_code",
        }
    }
}

/// One attempt to prove the second factor.
pub(crate) struct Attempt<'a> {
    pub(crate) user: &'a UserRecord,
    /// Where the code was entered, for the audit log: `login`, `reauth`, `confirm`,
    /// `disable` or `backup_codes`.
    pub(crate) purpose: &'static str,
    pub(crate) code: &'a str,
    pub(crate) backup_allowed: bool,
    /// The enrollment the code is checked against (pending for `confirm`).
    pub(crate) totp: &'a TotpRecord,
    /// For sign-in: the ticket whose attempt this is.
    pub(crate) ticket_id: Option<&'a str>,
    /// The error a wrong code gets (401 at sign-in, 403 with a session).
    pub(crate) wrong: fn() -> Error,
    pub(crate) client: &'a ClientInfo,
}

pub(crate) fn wrong_with_session() -> Error {
    Error::Forbidden(WRONG_CODE)
}

pub(crate) fn wrong_at_login() -> Error {
    Error::Unauthenticated(WRONG_CODE)
}

pub(crate) fn ticket_gone() -> Error {
    Error::Unauthenticated(TICKET_GONE)
}

/// Check the code and spend it with the effect and events `then` makes, or count the
/// failure: all in one store transaction, lock check included (issue 15, item 5), so
/// parallel guesses are judged in turn and none outruns the lock. Returns how the factor
/// was proved.
/// Check the code and spend it with the effect and events `then` makes, or count the
/// failure: all in one store transaction, lock check included (issue 15, item 5), so
/// parallel guesses are judged in turn and none outruns the lock. Returns how the factor
/// was proved.
pub(crate) async fn prove(
    st: &Vault,
    a: Attempt<'_>,
    then: impl FnOnce(Method) -> (MfaEffect, Vec<NewEvent>),
) -> Result<Method> {
    let submitted = classify(a.code, a.backup_allowed)?;
    let now = st.clock.now();
    let tenant_id = a.user.tenant_id.as_str();
    let user_id = a.user.id.as_str();
    let event = |action: &'static str| {
        NewEvent::new(action, now, a.client)
            .user(tenant_id, user_id)
            .target(format!("user:{user_id}"))
            .detail("purpose", a.purpose)
    };
    let (method, proof) = proof_of(st, &a, &submitted, now)?;
    let (effect, events) = then(method);
    let attempt = SecondFactorAttempt {
        tenant_id: tenant_id.to_owned(),
        user_id: user_id.to_owned(),
        now,
        proof,
        ticket: a.ticket_id.map(|t| (t.to_owned(), TICKET_ATTEMPTS)),
        effect,
        events,
        policy: LOCKOUT,
        failure_event: event("auth.mfa")
            .outcome(Outcome::Failure)
            .detail("method", method.as_str()),
        lock_event: event("auth.mfa")
            .outcome(Outcome::Denied)
            .detail("reason", "locked")
            .detail("locked_minutes", LOCKOUT.lock_for.num_minutes()),
        locked_event: event("auth.mfa")
            .outcome(Outcome::Denied)
            .detail("reason", "locked"),
    };
    let outcome = match st.store.attempt_second_factor(attempt).await {
        Ok(o) => o,
        Err(StoreError::Conflict(Conflict::TicketSpent)) => return Err(ticket_gone()),
        Err(e) => return Err(e.into()),
    };
    judge(st, &a, outcome, now).await.map(|()| method)
}

/// What the store is asked to check: a TOTP code against the enrollment's replay guard,
/// or a backup code by its keyed hash.
fn proof_of(
    st: &Vault,
    a: &Attempt<'_>,
    submitted: &Submitted,
    now: DateTime<Utc>,
) -> Result<(Method, Proof)> {
    Ok(match submitted {
        Submitted::Totp => {
            let secret = open_secret(
                &st.keys,
                &a.user.tenant_id,
                &a.user.id,
                &a.totp.secret_sealed,
            )?;
            let code = Zeroizing::new(a.code.to_owned());
            let at = unix_secs(now);
            let check: TotpCheck = Box::new(move |last_step| {
                totp::verify(&secret, &code, at, last_step).map_err(|e| match e {
                    TotpError::Replayed => "replayed",
                    TotpError::Invalid | TotpError::Malformed => "invalid_code",
                })
            });
            let proof = Proof::Totp {
                enrollment_id: a.totp.id.clone(),
                confirmed: a.totp.confirmed_at.is_some(),
                check,
            };
            (Method::Totp, proof)
        }
        Submitted::Backup(n) => (
            Method::BackupCode,
            Proof::BackupCode {
                code_hash: backup_code_hash(&st.keys, &a.user.id, n),
            },
        ),
    })
}

/// The answer to a judged attempt: proved, or the error (and the lockout mail) it earns.
async fn judge(
    st: &Vault,
    a: &Attempt<'_>,
    outcome: AttemptOutcome,
    now: DateTime<Utc>,
) -> Result<()> {
    match outcome {
        AttemptOutcome::Proved => Ok(()),
        AttemptOutcome::TicketGone => Err(ticket_gone()),
        AttemptOutcome::Locked(until) => {
            st.metrics.rate_limited.inc();
            Err(Error::RateLimited {
                retry_after_secs: wait_secs(until, now),
            })
        }
        AttemptOutcome::Wrong {
            locked_until: Some(until),
            ..
        } => {
            st.metrics.auth("mfa_failure");
            tracing::warn!(
                user_id = a.user.id.as_str(),
                "too many wrong 2FA codes; 2FA attempts locked"
            );
            send_lockout_mail(st, a.user, until).await;
            crate::detect::mfa_locked(st, a.user).await;
            st.metrics.rate_limited.inc();
            Err(Error::RateLimited {
                retry_after_secs: wait_secs(until, now),
            })
        }
        AttemptOutcome::Wrong {
            locked_until: None, ..
        } => {
            st.metrics.auth("mfa_failure");
            Err((a.wrong)())
        }
    }
}

pub(crate) fn confirmed(state: &MfaState) -> Result<&TotpRecord> {
    state
        .totp
        .as_ref()
        .filter(|t| t.confirmed_at.is_some())
        .ok_or(Error::Conflict(MFA_OFF))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified_strictly() {
        assert!(matches!(classify("123456", false), Ok(Submitted::Totp)));
        assert!(matches!(
            classify("abcd-2345-wxyz", true),
            Ok(Submitted::Backup(_))
        ));
        for bad in [
            "12345",
            "1234567",
            "12345a",
            "",
            " 123456",
            "abcd-2345-wxyz",
        ] {
            assert!(classify(bad, false).is_err(), "{bad:?}");
        }
        for bad in ["12345", "1234567", "12345a", "abcd-2345-wxy0"] {
            assert!(classify(bad, true).is_err(), "{bad:?}");
        }
    }
}
