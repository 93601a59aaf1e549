//! Storage for two-factor authentication: TOTP enrollments (secret sealed, never plain),
//! backup-code hashes, MFA sign-in tickets and the wrong-code lockout.
//!
//! The one method that matters most is [`MfaStore::use_second_factor`]: it spends the
//! proof (moves the TOTP replay guard forward, or marks a backup code used) and applies
//! its effect (enable 2FA, open a session, refresh the sudo window…) with the audit
//! events, in one transaction, and only if the proof was still unspent. Two requests
//! racing with one code therefore get exactly one success.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::{SessionRecord, StoreResult};
use crate::audit::NewEvent;

/// The `Conflict` message when the TOTP step or backup code was spent first by another
/// request (or the enrollment changed underneath).
pub const PROOF_SPENT: &str = "This code has already been used.";
/// The `Conflict` message when the MFA ticket was used, expired or exhausted meanwhile.
pub const TICKET_SPENT: &str = "This sign-in step has expired. Sign in again.";
/// The `Conflict` message when enrolling while 2FA is already on.
pub const ALREADY_ENABLED: &str =
    "Two-factor authentication is already on. Turn it off first to enroll a new authenticator.";

/// A TOTP enrollment. `secret_sealed` is the AES-256-GCM box, never the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpRecord {
    pub id: String,
    pub tenant_id: String,
    pub user_id: String,
    pub secret_sealed: Vec<u8>,
    pub created_at: DateTime<Utc>,
    /// `None` while the enrollment is pending.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The replay guard: the last step a code was accepted for.
    pub last_step: Option<u64>,
}

impl std::fmt::Debug for TotpRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpRecord")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("confirmed_at", &self.confirmed_at)
            .field("last_step", &self.last_step)
            .finish_non_exhaustive()
    }
}

/// Everything about a user's 2FA, read at once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MfaState {
    pub totp: Option<TotpRecord>,
    pub backup_codes_remaining: u32,
    /// Second-factor attempts are refused until then.
    pub locked_until: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MfaTicketRecord {
    pub id: String,
    pub tenant_id: String,
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub attempts: u32,
    pub used_at: Option<DateTime<Utc>>,
}

/// What proves the second factor; spent by [`MfaStore::use_second_factor`].
#[derive(Clone, PartialEq, Eq)]
pub enum Proof {
    /// A TOTP code accepted for `step` against enrollment `enrollment_id`, which must be
    /// confirmed (or, for `confirmed: false`, still pending).
    Totp {
        enrollment_id: String,
        step: u64,
        confirmed: bool,
    },
    /// The keyed hash of a normalised backup code.
    BackupCode { code_hash: String },
}

impl std::fmt::Debug for Proof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Totp { step, .. } => write!(f, "Proof::Totp(step {step})"),
            Self::BackupCode { .. } => f.write_str("Proof::BackupCode([redacted])"),
        }
    }
}

/// What a spent proof does, in the same transaction.
#[derive(Clone, PartialEq, Eq)]
pub enum MfaEffect {
    /// Confirm the pending enrollment, mark the user's 2FA on and store a first set of
    /// backup-code hashes.
    Enable { backup_code_hashes: Vec<String> },
    /// Replace the backup-code hashes (the old set is void).
    ReplaceBackupCodes { backup_code_hashes: Vec<String> },
    /// Remove the enrollment, the backup codes and open tickets; mark 2FA off.
    Disable,
    /// Restart the session's sudo window.
    Reauth { session_id: String },
    /// Nothing beyond spending the proof (a code confirming an approval).
    ProofOnly,
    /// Use up the ticket and open the session.
    Login {
        ticket_id: String,
        session: SessionRecord,
        token_hash: String,
    },
}

impl std::fmt::Debug for MfaEffect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Enable { .. } => "MfaEffect::Enable",
            Self::ReplaceBackupCodes { .. } => "MfaEffect::ReplaceBackupCodes",
            Self::Disable => "MfaEffect::Disable",
            Self::Reauth { .. } => "MfaEffect::Reauth",
            Self::ProofOnly => "MfaEffect::ProofOnly",
            Self::Login { .. } => "MfaEffect::Login",
        })
    }
}

/// When wrong codes lock an account: more than `max_failures` inside `window` locks it
/// for `lock_for`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub max_failures: u32,
    pub window: Duration,
    pub lock_for: Duration,
}

#[async_trait]
pub trait MfaStore: Send + Sync + 'static {
    async fn mfa_state(&self, tenant_id: &str, user_id: &str) -> StoreResult<MfaState>;

    /// Store a pending enrollment, replacing any pending one; `Conflict(ALREADY_ENABLED)`
    /// if the user's 2FA is on.
    async fn start_totp_enrollment(&self, record: TotpRecord, event: NewEvent) -> StoreResult<()>;

    /// Spend `proof` and apply `effect` with `events`, all or nothing.
    /// `Conflict(PROOF_SPENT)` when the step is not after the stored one, the backup code
    /// is used or unknown, or the enrollment is not in the expected state;
    /// `Conflict(TICKET_SPENT)` when a login's ticket was used or expired meanwhile.
    async fn use_second_factor(
        &self,
        tenant_id: &str,
        user_id: &str,
        proof: Proof,
        effect: MfaEffect,
        now: DateTime<Utc>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()>;

    /// Count a wrong code with its audit event. When it makes more than the policy allows
    /// and the account is not already locked, lock it, append `lock_event` too and return
    /// the end of the lock.
    async fn record_mfa_failure(
        &self,
        tenant_id: &str,
        user_id: &str,
        now: DateTime<Utc>,
        policy: LockoutPolicy,
        event: NewEvent,
        lock_event: NewEvent,
    ) -> StoreResult<Option<DateTime<Utc>>>;

    async fn create_mfa_ticket(
        &self,
        ticket: MfaTicketRecord,
        ticket_hash: String,
        event: NewEvent,
    ) -> StoreResult<()>;
    async fn mfa_ticket_by_hash(&self, ticket_hash: &str) -> StoreResult<Option<MfaTicketRecord>>;
    /// Count one attempt on a live ticket; `false` when it is used, expired or has had
    /// `max_attempts` already (so parallel guesses cannot exceed the limit).
    async fn reserve_mfa_ticket_attempt(
        &self,
        tenant_id: &str,
        ticket_id: &str,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Restart a session's sudo window (re-authentication by password).
    async fn reauthenticate_session(
        &self,
        tenant_id: &str,
        session_id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()>;
}
