//! Mail about approval requests (issue 18): to the people who may decide a request when it
//! opens, and to whoever asked when it is decided. Each mail rides on the request's or the
//! decision's audit event through the outbox, so it goes out exactly when the change
//! commits. People who turned approval mail off (`PUT /v1/me/notifications`) get none.
//! A mail names the path, tier, operation and who asks; never a value.

use keyhold_core::tier::Tier;

use crate::Vault;
use crate::audit::NewEvent;
use crate::error::Result;
use crate::events::{mail, slack};
use crate::store::{ApprovalRecord, ApprovalView};

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Attach to `ev` (the `approval.requested` event of `r`) one mail to each person who
/// could approve it and takes approval mail. `asker` says who asks, `excluded` is the one
/// person who may not decide (the requester, or the key's owner).
pub(super) async fn to_approvers(
    st: &Vault,
    r: &ApprovalRecord,
    asker: &str,
    excluded: &str,
    mut ev: NewEvent,
) -> Result<NewEvent> {
    let recipients = st
        .store
        .approval_mail_recipients(&r.tenant_id, r.tier, excluded)
        .await?;
    if recipients.is_empty() {
        return Ok(ev);
    }
    let subject = format!("Approval needed: {} ({})", r.path.as_str(), r.tier.as_str());
    let critical = if r.tier == Tier::Critical {
        "\nApproving needs a fresh code from your authenticator app."
    } else {
        ""
    };
    let body = format!(
        "Hello,\n\n{asker} asks to {} {}, a {} secret in your Keyhold vault.\n\n\
         Reason: {}\nApprovals needed: {}\nThe request expires at {} (UTC).{critical}\n\n\
         Open it in the Keyhold app to approve or deny it: {}\n\n\
         You get this mail because you may decide this request. You can turn approval mail \
         off in the app's Settings > Notifications.\n",
        r.operation.as_str().replace('_', " "),
        r.path.as_str(),
        r.tier.as_str(),
        r.reason.as_deref().unwrap_or("No reason given"),
        r.required_approvals,
        when(r.expires_at),
        slack::approval_link(&r.id),
    );
    for to in recipients {
        ev = ev.with_outbound(mail::queue(st, &to, &subject, body.clone(), None)?);
    }
    Ok(ev)
}

/// The mail telling whoever asked (the person, or the key's owner) that `v` was decided,
/// if they take approval mail and have an address.
pub(super) async fn to_requester(
    st: &Vault,
    v: &ApprovalView,
    outcome: &str,
    by: &str,
    reason: Option<&str>,
) -> Result<Option<crate::store::outbox::Outbound>> {
    let Some(to) = v.owner.email.as_deref() else {
        return Ok(None);
    };
    if !st
        .store
        .approval_mail(&v.record.tenant_id, &v.owner.id)
        .await?
    {
        return Ok(None);
    }
    let r = &v.record;
    let asked = match &v.key_name {
        Some(k) => format!("Your agent key \"{k}\" asked"),
        None => "You asked".to_owned(),
    };
    let reason = reason.map(|r| format!("\nReason: {r}")).unwrap_or_default();
    let body = format!(
        "Hello,\n\n{asked} to {} {} ({}). The request was {outcome} by {by}.{reason}\n\n\
         Request: {}\n",
        r.operation.as_str().replace('_', " "),
        r.path.as_str(),
        r.tier.as_str(),
        slack::approval_link(&r.id),
    );
    let subject = format!("Request {outcome}: {}", r.path.as_str());
    Ok(Some(mail::queue(st, to, &subject, body, None)?))
}
