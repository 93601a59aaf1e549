//! Why the store refused a write that was well-formed: the typed conflicts every backend
//! must produce alike, so the domain matches on variants, never on message text.

/// A conflict with the stored state. [`Conflict::message`] is what a person reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// The approval request is no longer waiting for votes.
    #[error("request not pending")]
    NotPending,
    /// This person already approved the request.
    #[error("already voted")]
    AlreadyVoted,
    /// The request is already decided, used or expired.
    #[error("request not open")]
    NotOpen,
    /// The change would leave the tenant without an owner.
    #[error("last owner")]
    LastOwner,
    /// Signing up with an invitation that is invalid, used or expired.
    #[error("invitation spent")]
    InvitationSpent,
    /// Revoking an invitation that was used, revoked or has expired.
    #[error("invitation not pending")]
    InvitationNotPending,
    /// A grant another call used first, or that the secret's change voided meanwhile.
    #[error("grant gone")]
    GrantGone,
    /// The secret changed (created, deleted, re-created or its tier changed) between the
    /// gate's decision and the write: decide again.
    #[error("secret changed")]
    SecretChanged,
    /// The MFA ticket was used, expired or exhausted meanwhile.
    #[error("ticket spent")]
    TicketSpent,
    /// Enrolling while 2FA is already on.
    #[error("2FA already enabled")]
    MfaAlreadyEnabled,
    /// An account with this email exists (in any tenant).
    #[error("email taken")]
    EmailTaken,
    /// The email verification link was used already.
    #[error("link used")]
    LinkUsed,
    /// A password-reset link was mailed to this account a short while ago and is still
    /// open: no new one is stored (or mailed).
    #[error("reset recently sent")]
    ResetRecentlySent,
    /// The tenant's KEK changed between reading it and writing with it.
    #[error("stale KEK")]
    StaleKek,
    /// Another KEK rotation of the tenant committed first.
    #[error("rotation raced")]
    RotationRaced,
    /// Another master key rotation re-wrapped the root key first.
    #[error("root key changed")]
    RootKeyChanged,
    /// A secret reached the highest version number.
    #[error("too many versions")]
    TooManyVersions,
    /// A job given to the writer refused itself (tests of the writer).
    #[error("job refused")]
    JobRefused,
    /// Adding a public key to an agent key that has two unretired ones already.
    #[error("public key limit")]
    PublicKeyLimit,
    /// Adding a public key the agent key has (or had: retired keys stay retired).
    #[error("public key exists")]
    PublicKeyExists,
    /// Retiring a public key that is retired already.
    #[error("public key retired")]
    PublicKeyRetired,
    /// Retiring an agent key's only unretired public key.
    #[error("last public key")]
    PublicKeyLast,
    /// Reinstating an agent key that is not suspended (active, or revoked for good).
    #[error("key not suspended")]
    KeyNotSuspended,
    /// Changing or rotating an agent key that is revoked (revocation is final).
    #[error("key revoked")]
    KeyRevoked,
}

impl Conflict {
    /// What the person who caused it reads (the contract's `conflict` message).
    pub fn message(self) -> &'static str {
        match self {
            Self::NotPending => "This request is no longer waiting for approvals.",
            Self::AlreadyVoted => "You have already approved this request.",
            Self::NotOpen => "This request is already decided, used or expired.",
            Self::LastOwner => "The tenant's last owner cannot be demoted or removed.",
            Self::InvitationSpent => "This invitation is invalid, used or expired.",
            Self::InvitationNotPending => {
                "This invitation is no longer pending (used, revoked or expired)."
            }
            Self::GrantGone => "The approval's grant is no longer usable.",
            Self::SecretChanged => "The secret changed meanwhile; try again.",
            Self::TicketSpent => "This sign-in step has expired. Sign in again.",
            Self::MfaAlreadyEnabled => {
                "Two-factor authentication is already on. Turn it off first to enroll a new authenticator."
            }
            Self::EmailTaken => "An account with this email already exists.",
            Self::LinkUsed => "This link has already been used.",
            Self::ResetRecentlySent => "A reset link was sent a short while ago.",
            Self::StaleKek => "the tenant key changed; retry",
            Self::RotationRaced => "another rotation ran first; retry",
            Self::RootKeyChanged => "another master key rotation ran first; retry",
            Self::TooManyVersions => "too many versions",
            Self::JobRefused => "job refused",
            Self::PublicKeyLimit => {
                "This key already has two public keys. Retire the old one before adding another."
            }
            Self::PublicKeyExists => {
                "This key has (or had) this public key; a retired key cannot come back. Make a new key pair."
            }
            Self::PublicKeyRetired => "This public key is already retired.",
            Self::KeyNotSuspended => {
                "This key is not suspended: only a suspended key can be reinstated."
            }
            Self::KeyRevoked => {
                "This key is revoked, and revocation is final. Create a new key instead."
            }
            Self::PublicKeyLast => {
                "This is the key's only public key. Add the new one first, or revoke the key."
            }
        }
    }
}
