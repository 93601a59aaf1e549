//! Storage for account recovery: password-reset links (email tokens of purpose
//! [`RESET_PASSWORD`], stored as keyed hashes like verification links), setting a password
//! with one, and turning a person's 2FA off for them (an owner or admin, or the server's
//! operator). The versions that need a second factor proved in the same transaction are
//! [`super::mfa::MfaEffect::ResetPassword`] and [`super::mfa::MfaEffect::ResetMember`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use super::accounts::EmailTokenRecord;
use crate::store::event::NewEvent;

/// The `purpose` of an email token that resets a password.
pub const RESET_PASSWORD: &str = "reset_password";

#[async_trait]
pub trait RecoveryStore: Send + Sync + 'static {
    /// Store a password-reset token (purpose [`RESET_PASSWORD`]) with its event, unless the
    /// user already has an open one (unused) that expires after `open_after`: then
    /// `Conflict::ResetRecentlySent` and nothing is written. Checked and inserted in one
    /// transaction, so parallel requests store (and mail) one link.
    async fn create_password_reset(
        &self,
        token: EmailTokenRecord,
        token_hash: String,
        open_after: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()>;

    /// Spend the reset token (it must be the user's, of purpose [`RESET_PASSWORD`],
    /// unused and unexpired at `now`: else `Conflict::LinkUsed`), set the password hash,
    /// void the user's other open reset tokens, and end every session and sign-in ticket
    /// of the user. `NotFound` when the user is gone.
    async fn reset_password(
        &self,
        token: &EmailTokenRecord,
        password_hash: String,
        zxcvbn: u8,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()>;

    /// Turn the user's 2FA off without a code (the server's operator, `keyhold-server admin
    /// reset-2fa`): enrollment, backup codes, sign-in tickets, wrong-code count and lock
    /// are gone, and every session of the user ends. `NotFound` when the user is gone.
    async fn reset_mfa(&self, tenant_id: &str, user_id: &str, event: NewEvent) -> StoreResult<()>;
}
