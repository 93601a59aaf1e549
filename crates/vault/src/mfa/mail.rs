//! Mail the second factor sends: the lockout warning and the notice that a backup code was
//! used. Notices, not part of the action: a failure to send is logged and the action,
//! already committed, stands.

use chrono::{DateTime, Utc};

use super::LOCKOUT;
use crate::Vault;
use crate::mail::Mail;
use crate::store::UserRecord;

/// Mail that is a notice, not part of the action: a failure to send is logged, and the
/// action (already committed) stands.
async fn notify(st: &Vault, to: &str, subject: &str, body: String) {
    if let Err(e) = st
        .mailer
        .send(Mail {
            to,
            subject,
            body,
            link: None,
        })
        .await
    {
        tracing::error!(error = %format!("{e:#}"), "sending a security notice failed");
    }
}

pub(super) async fn send_lockout_mail(st: &Vault, user: &UserRecord, until: DateTime<Utc>) {
    let body = format!(
        "Hello,\n\nsomeone entered more than {} wrong two-factor codes for your Keyhold account \
         ({}) within an hour. Two-factor sign-in for the account is locked until {} UTC.\n\n\
         If this was not you, your password may be known to someone else: change it once \
         the lock ends.\n",
        LOCKOUT.max_failures,
        user.email,
        until.format("%Y-%m-%d %H:%M"),
    );
    notify(
        st,
        &user.email,
        "Keyhold: two-factor sign-in locked after wrong codes",
        body,
    )
    .await;
}

pub(crate) async fn send_backup_code_mail(st: &Vault, user: &UserRecord, what: &str) {
    let left = st
        .store
        .mfa_state(&user.tenant_id, &user.id)
        .await
        .map(|s| s.backup_codes_remaining)
        .unwrap_or(0);
    let body = format!(
        "Hello,\n\na backup code was just used to {what} for your Keyhold account ({}). \
         You have {left} backup code{} left.\n\nIf this was not you, sign in, turn two-factor \
         authentication off and on again, and change your password.\n",
        user.email,
        if left == 1 { "" } else { "s" },
    );
    notify(st, &user.email, "Keyhold: a backup code was used", body).await;
}
