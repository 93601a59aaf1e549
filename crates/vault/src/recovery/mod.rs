//! Account recovery (issue 18): a forgotten password ([`password`]: a single-use link
//! mailed for an hour, then a new password, with the second factor when 2FA is on), and a
//! lost authenticator with its backup codes ([`member_mfa`]: an owner or admin turns the
//! person's 2FA off, or, for a lone owner, the server's operator does).
//!
//! Every change here ends all of the person's sessions and mails them a notice. The mail
//! each action sends is built here as a [`Letter`] and goes out through [`send`], after
//! the action has committed.

mod member_mfa;
mod password;

use chrono::{DateTime, Utc};

pub use member_mfa::{OperatorReset, reset_member_mfa, reset_mfa_by_operator};
pub use password::{RESEND_AFTER, RESET_LINK_TTL, confirm_password_reset, request_password_reset};

use crate::Vault;
use crate::audit::ClientInfo;
use crate::mail::Mail;
use crate::notify::{self, Change};

/// One message to one person, built by the domain.
pub(crate) struct Letter {
    to: String,
    subject: String,
    body: String,
    /// The link the message carries (logged in outbox mode, see `crate::mail`).
    link: Option<String>,
}

impl Letter {
    /// The security notice that `change` happened to `to`'s account (`crate::notify`).
    fn notice(to: &str, change: &Change, at: DateTime<Utc>, client: &ClientInfo) -> Self {
        let (subject, body) = notify::compose(to, change, at, client);
        Self {
            to: to.to_owned(),
            subject,
            body,
            link: None,
        }
    }
}

/// Send a letter whose action has committed. Never fails: the action stands, and a mail
/// that cannot be sent is logged by subject, never by body (it may carry a link).
async fn send(st: &Vault, letter: Letter) {
    let mail = Mail {
        to: &letter.to,
        subject: &letter.subject,
        body: letter.body,
        link: letter.link.as_deref(),
    };
    if let Err(e) = st.mailer.send(mail).await {
        tracing::error!(
            error = %format!("{e:#}"),
            subject = %letter.subject,
            "sending account-recovery mail failed; the change stands"
        );
    }
}
