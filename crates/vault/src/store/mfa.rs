//! Storage for two-factor authentication: TOTP enrollments (secret sealed, never plain),
//! backup-code hashes, MFA sign-in tickets and the wrong-code lockout.
//!
//! The one method that matters most is [`MfaStore::attempt_second_factor`]: in one
//! transaction it refuses while the account is locked, counts the ticket's attempt,
//! checks the code against the stored replay guard, and either spends the proof (moves
//! the TOTP replay guard forward, or marks a backup code used) and applies its effect
//! (enable 2FA, open a session, refresh the sudo window…) with the audit events, or
//! counts the failure and starts the lock. Two requests racing with one code therefore get
//! exactly one success, and parallel wrong codes cannot outrun the lock: each sees the
//! failures of all those before it (issue 15, item 5).

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::StoreResult;
use super::accounts::EmailTokenRecord;
use super::sessions::SessionRecord;
use crate::store::event::NewEvent;

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

/// The TOTP check run inside the transaction: given the stored replay guard (the last
/// accepted step), the step the code is accepted for, or why it is refused (`replayed`,
/// `invalid_code`).
pub type TotpCheck = Box<dyn FnOnce(Option<u64>) -> Result<u64, &'static str> + Send>;

/// What is offered as the second factor; checked and spent by
/// [`MfaStore::attempt_second_factor`].
pub enum Proof {
    /// A TOTP code for enrollment `enrollment_id`, which must be confirmed (or, for
    /// `confirmed: false`, still pending).
    Totp {
        enrollment_id: String,
        confirmed: bool,
        check: TotpCheck,
    },
    /// The keyed hash of a normalised backup code.
    BackupCode { code_hash: String },
}

impl std::fmt::Debug for Proof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Totp { .. } => f.write_str("Proof::Totp([redacted])"),
            Self::BackupCode { .. } => f.write_str("Proof::BackupCode([redacted])"),
        }
    }
}

/// One attempt at the second factor, with everything the transaction may write.
#[derive(Debug)]
pub struct SecondFactorAttempt {
    pub tenant_id: String,
    pub user_id: String,
    pub now: DateTime<Utc>,
    pub proof: Proof,
    /// For sign-in: the ticket whose attempt this is, and how many attempts it may have.
    pub ticket: Option<(String, u32)>,
    /// What a right code does, with its audit events (at least one).
    pub effect: MfaEffect,
    pub events: Vec<NewEvent>,
    pub policy: LockoutPolicy,
    /// Appended for a wrong code, with `reason` added.
    pub failure_event: NewEvent,
    /// Appended too when this failure starts the lock.
    pub lock_event: NewEvent,
    /// Appended instead of anything else when the account is already locked.
    pub locked_event: NewEvent,
}

/// How an attempt ended. Every one but `TicketGone` and `Proved` committed a failure or
/// refusal with its audit event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The code was right and unspent: spent, effect applied.
    Proved,
    /// Nothing was checked: the account's second factor is locked until then.
    Locked(DateTime<Utc>),
    /// The code was wrong, replayed or raced, and counted. `locked_until` is set when this
    /// failure started the lock.
    Wrong {
        reason: &'static str,
        locked_until: Option<DateTime<Utc>>,
    },
    /// The sign-in ticket is used, expired or out of attempts.
    TicketGone,
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
    /// Set the password with a reset link, as [`super::RecoveryStore::reset_password`]
    /// does: a wrong code spends neither the link nor anything else.
    ResetPassword {
        token: EmailTokenRecord,
        password_hash: String,
        zxcvbn: u8,
    },
    /// An owner or admin proved it is them: turn another member's (`user_id`, same tenant)
    /// 2FA off and end their sessions, as [`super::RecoveryStore::reset_mfa`] does.
    ResetMember { user_id: String },
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
            Self::ResetPassword { .. } => "MfaEffect::ResetPassword",
            Self::ResetMember { .. } => "MfaEffect::ResetMember",
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

    /// Store a pending enrollment, replacing any pending one; `Conflict::MfaAlreadyEnabled`
    /// if the user's 2FA is on.
    async fn start_totp_enrollment(&self, record: TotpRecord, event: NewEvent) -> StoreResult<()>;

    /// Check and spend a second factor, or count its failure, in one transaction (see
    /// the module doc). `Conflict::TicketSpent` when a login's ticket was used meanwhile;
    /// other errors leave nothing changed.
    async fn attempt_second_factor(
        &self,
        attempt: SecondFactorAttempt,
    ) -> StoreResult<AttemptOutcome>;

    async fn create_mfa_ticket(
        &self,
        ticket: MfaTicketRecord,
        ticket_hash: String,
        event: NewEvent,
    ) -> StoreResult<()>;
    async fn mfa_ticket_by_hash(&self, ticket_hash: &str) -> StoreResult<Option<MfaTicketRecord>>;
    /// Restart a session's sudo window (re-authentication by password).
    async fn reauthenticate_session(
        &self,
        tenant_id: &str,
        session_id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()>;
}
