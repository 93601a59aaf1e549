//! Account recovery (issue 18): a forgotten password ([`password`]: a single-use link
//! mailed for an hour, then a new password, with the second factor when 2FA is on), and a
//! lost authenticator with its backup codes ([`member_mfa`]: an owner or admin turns the
//! person's 2FA off, or, for a lone owner, the server's operator does).
//!
//! Every change here ends all of the person's sessions and mails them a notice. Each mail
//! (the reset link, the notices) rides on its action's audit event through the outbox
//! (`crate::events::mail`): it is sent if and only if the action commits.

mod member_mfa;
mod password;

pub use member_mfa::{OPERATOR, OperatorReset, reset_member_mfa, reset_mfa_by_operator};
pub use password::{RESEND_AFTER, RESET_LINK_TTL, confirm_password_reset, request_password_reset};
