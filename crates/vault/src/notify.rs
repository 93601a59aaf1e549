//! Security notices: the mail a person gets when something security-relevant changed on
//! their account, so that a change they did not make (a stolen session, a known password)
//! is noticed by the one person who can tell.
//!
//! Every notice names what changed, when (UTC) and from which address, and nothing secret:
//! never a password, code, TOTP secret, key or token. It rides on the change's own audit
//! event through the outbox (`store::outbox`): written in the change's transaction, so it
//! is sent if and only if the change commits, and retried for days if the mail server is
//! down.

use chrono::{DateTime, Utc};
use keyhold_core::api::Role;

use crate::Vault;
use crate::audit::{ClientInfo, NewEvent};
use crate::error::Result;
use crate::store::outbox::Outbound;

/// What changed on the account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    MfaEnabled,
    MfaDisabled,
    BackupCodesRegenerated,
    PasswordChanged,
    /// "Sign out everywhere else" (`signed_in::end_others`).
    OtherSessionsEnded,
    /// A new agent key, by its name (the secret is never mailed).
    AgentKeyCreated {
        name: String,
    },
    /// An agent key was rotated: a new secret, the old one ending at `old_ends` (UTC).
    AgentKeyRotated {
        name: String,
        old_ends: DateTime<Utc>,
    },
    /// An agent key's expiry or IP allowlist changed; `what` says how, in words.
    AgentKeyChanged {
        name: String,
        what: String,
    },
    /// A new public key was added to an Ed25519 agent key (a rotation's first step).
    PublicKeyAdded {
        name: String,
        fingerprint: String,
    },
    /// A public key of an Ed25519 agent key was retired (a rotation's last step).
    PublicKeyRetired {
        name: String,
        fingerprint: String,
    },
    /// The person's role was changed by `by` (an email address).
    RoleChanged {
        from: Role,
        to: Role,
        by: String,
    },
    /// Someone tried to create a new account with this address, which already has one.
    SignupAttempted,
    /// The password was set with a mailed reset link; every session ended.
    PasswordReset,
    /// An owner or admin (`by`, an email address) turned the person's 2FA off for them.
    MfaResetByAdmin {
        by: String,
    },
    /// The server's operator turned the person's 2FA off (`keyhold-server admin reset-2fa`).
    MfaResetByOperator,
    /// A suspended agent key of the person's was reinstated.
    AgentKeyReinstated {
        name: String,
    },
}

/// The subject and sentence of an Ed25519 key's rotation step.
fn agent_key_rotated(name: &str, old_ends: DateTime<Utc>) -> (String, String) {
    (
        "an agent key was rotated".into(),
        format!(
            "The agent key named \"{name}\" was rotated: a new secret was made, and the old \
             one stops working at {} UTC.",
            old_ends.format("%Y-%m-%d %H:%M:%S")
        ),
    )
}

fn public_key_change(name: &str, fingerprint: &str, added: bool) -> (String, String) {
    if added {
        (
            "a public key was added to an agent key".into(),
            format!(
                "A new public key (fingerprint {fingerprint}) was added to the agent key named \"{name}\". \
                 Requests signed with it are now accepted."
            ),
        )
    } else {
        (
            "a public key of an agent key was retired".into(),
            format!(
                "The public key with fingerprint {fingerprint} of the agent key named \"{name}\" was retired. \
                 Requests signed with it are now refused."
            ),
        )
    }
}

impl Change {
    /// The subject line and the sentence saying what happened.
    fn describe(&self) -> (String, String) {
        match self {
            Self::MfaEnabled => (
                "two-factor authentication was turned on".into(),
                "Two-factor authentication was turned on for your account, with a new \
                 authenticator app and a new set of backup codes."
                    .into(),
            ),
            Self::MfaDisabled => (
                "two-factor authentication was turned off".into(),
                "Two-factor authentication was turned off for your account: a password alone \
                 now signs in."
                    .into(),
            ),
            Self::BackupCodesRegenerated => (
                "new backup codes were made".into(),
                "A new set of two-factor backup codes was made for your account; the old set \
                 no longer works."
                    .into(),
            ),
            Self::OtherSessionsEnded => (
                "your other sessions were signed out".into(),
                "Every other session of your account was signed out, from a session that \
                 stays signed in."
                    .into(),
            ),
            Self::PasswordChanged => (
                "your password was changed".into(),
                "The password of your account was changed, and your other sessions were \
                 signed out."
                    .into(),
            ),
            Self::AgentKeyCreated { name } => (
                "a new agent key was created".into(),
                format!("A new agent key named \"{name}\" was created under your account."),
            ),
            Self::AgentKeyRotated { name, old_ends } => agent_key_rotated(name, *old_ends),
            Self::AgentKeyChanged { name, what } => (
                "an agent key was changed".into(),
                format!("The agent key named \"{name}\" was changed: {what}."),
            ),
            Self::PublicKeyAdded { name, fingerprint } => {
                public_key_change(name, fingerprint, true)
            }
            Self::PublicKeyRetired { name, fingerprint } => {
                public_key_change(name, fingerprint, false)
            }
            Self::RoleChanged { from, to, by } => (
                "your role was changed".into(),
                format!(
                    "Your role was changed from {} to {} by {by}.",
                    from.as_str(),
                    to.as_str()
                ),
            ),
            Self::SignupAttempted => (
                "someone tried to sign up with your address".into(),
                "Someone tried to create a new Keyhold account with your email address, which \
                 already has an account. No account was created and yours is unchanged."
                    .into(),
            ),
            Self::PasswordReset => (
                "your password was reset".into(),
                "The password of your account was reset with a link mailed to this address, \
                 and every session of the account was signed out."
                    .into(),
            ),
            Self::MfaResetByAdmin { by } => mfa_reset(Some(by)),
            Self::AgentKeyReinstated { name } => (
                "a suspended agent key was reinstated".into(),
                format!(
                    "Your agent key named \"{name}\", suspended by a detection rule, was \
                     reinstated: it and its tokens work again."
                ),
            ),
            Self::MfaResetByOperator => mfa_reset(None),
        }
    }
}

/// A 2FA reset by an owner or admin (`by`), or by the server's operator (`None`).
fn mfa_reset(by: Option<&str>) -> (String, String) {
    let (subject, who) = match by {
        Some(by) => (
            "two-factor authentication was reset by an admin",
            format!("{by}, an owner or admin of your team"),
        ),
        None => (
            "two-factor authentication was reset by the operator",
            "the operator of your Keyhold server".to_owned(),
        ),
    };
    (
        subject.into(),
        format!(
            "Two-factor authentication was turned off for your account by {who}, and every \
             session of the account was signed out. Sign in with your password and turn it on \
             again with a new authenticator."
        ),
    )
}

/// The subject and body of the notice for `change`, made at `at` from `client`.
pub fn compose(
    email: &str,
    change: &Change,
    at: DateTime<Utc>,
    client: &ClientInfo,
) -> (String, String) {
    let (subject, sentence) = change.describe();
    let from = client.ip.as_deref().unwrap_or("an unknown address");
    let body = format!(
        "Hello,\n\nthis is a security notice about your Keyhold account ({email}).\n\n\
         {sentence}\n\n\
         When: {} UTC\n\
         From address: {from}\n\n\
         If this was you, there is nothing to do. If it was not, sign in now, change your \
         password, check two-factor authentication and your agent keys, and tell an owner \
         of your team.\n",
        at.format("%Y-%m-%d %H:%M:%S"),
    );
    (format!("Keyhold: {subject}"), body)
}

/// The notice to `to` that `change` happened at `at` from `client`, sealed for the outbox:
/// attach it to the change's audit event (`NewEvent::with_outbound`), so it is sent if and
/// only if the change commits, and retried until it is.
pub fn notice(
    st: &Vault,
    to: &str,
    change: &Change,
    at: DateTime<Utc>,
    client: &ClientInfo,
) -> Result<Outbound> {
    let (subject, body) = compose(to, change, at, client);
    crate::events::mail::queue(st, to, &subject, body, None)
}

/// [`notice`] attached to `ev`.
pub fn with_notice(
    st: &Vault,
    ev: NewEvent,
    to: &str,
    change: &Change,
    client: &ClientInfo,
) -> Result<NewEvent> {
    let at = ev.at;
    Ok(ev.with_outbound(notice(st, to, change, at, client)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_names_what_when_and_where() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T09:05:07Z")
            .unwrap()
            .with_timezone(&Utc);
        let client = ClientInfo {
            ip: Some("203.0.113.9".into()),
            user_agent: None,
        };
        let (subject, body) = compose(
            "ada@example.com",
            &Change::AgentKeyCreated {
                name: "deploy".into(),
            },
            at,
            &client,
        );
        assert_eq!(subject, "Keyhold: a new agent key was created");
        assert!(body.contains("\"deploy\""), "{body}");
        assert!(body.contains("2026-03-01 09:05:07 UTC"), "{body}");
        assert!(body.contains("203.0.113.9"), "{body}");
        let (_, body) = compose(
            "ada@example.com",
            &Change::MfaEnabled,
            at,
            &ClientInfo::default(),
        );
        assert!(body.contains("an unknown address"), "{body}");
    }
}
