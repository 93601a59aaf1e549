//! The live feeds as streams of items: the audit tail (`GET /v1/audit/stream`) and the
//! approvals feed (`GET /v1/approvals/stream`). Each holds its caller's feed slot while it
//! is open, looks at the log when its tenant's chain moves (paced by [`live::Pacer`]),
//! and ends when its credential no longer stands. The server only turns the items into
//! server-sent events.

use std::collections::VecDeque;
use std::sync::Arc;

use futures::Stream;
use keyhold_core::api::{Approval, AuditEvent};

use crate::Vault;
use crate::approvals;
use crate::audit::scope_of;
use crate::auth::{SecretsCaller, Session};
use crate::error::{Error, Result};
use crate::live::{self, FeedSlot, Pacer};
use crate::store::AuditScope;

/// How many events one look at the log reads.
const LOOK: u32 = 100;

/// Where a feed is: what it reads, how far it got, and what it holds while open.
struct Cursor {
    v: Arc<Vault>,
    scope: AuditScope,
    after: i64,
    pacer: Pacer,
    /// Held for as long as the feed is open (dropped with the stream).
    _slot: FeedSlot,
}

impl Cursor {
    /// Takes the caller's slot and starts at the log's head, or after `last_event_id`
    /// when a client reconnects (within the replay window).
    async fn open(
        v: &Arc<Vault>,
        credential: String,
        tenant_id: &str,
        scope: AuditScope,
        last_event_id: Option<&str>,
    ) -> Result<Self> {
        let slot = v.feeds.take(credential)?;
        let watch = v.store.tenant_audit_watch(tenant_id);
        // The watch carries the newest id its store has announced; on PostgreSQL that
        // announcement (LISTEN/NOTIFY) can trail a commit the caller has already seen, so
        // the log's own head is read too: a feed never starts before its caller came.
        let announced = *watch.borrow();
        let head = announced.max(v.store.audit_replay_floor(&scope, 0).await?);
        let after = live::resume_after(v, &scope, last_event_id, head).await?;
        Ok(Self {
            v: v.clone(),
            scope,
            after,
            pacer: Pacer::new(watch),
            _slot: slot,
        })
    }

    /// One look at the log after the cursor. With nothing new it waits (paced) for news
    /// and returns no events, so the caller checks the credential again before the next
    /// look. `None` when the feed should end (the log cannot be read).
    async fn look(&mut self, feed: &'static str) -> Option<Vec<AuditEvent>> {
        match self
            .v
            .store
            .audit_after(&self.scope, self.after, LOOK)
            .await
        {
            Ok(events) if !events.is_empty() => {
                self.after = events.last().map_or(self.after, |e| e.id);
                Some(events)
            }
            Ok(_) => {
                self.pacer.wait().await;
                Some(Vec::new())
            }
            Err(e) => {
                tracing::warn!(error = %e, feed, "live feed stopped");
                None
            }
        }
    }
}

/// The audit tail: each event the person may see, as it is written.
pub async fn audit_tail(
    v: &Arc<Vault>,
    s: Session,
    last_event_id: Option<&str>,
) -> Result<impl Stream<Item = AuditEvent> + use<>> {
    let credential = live::session_credential(&s);
    let cursor = Cursor::open(v, credential, s.tenant_id(), scope_of(&s), last_event_id).await?;
    let state = (cursor, s, VecDeque::new());
    Ok(futures::stream::unfold(
        state,
        |(mut c, s, mut pending)| async move {
            loop {
                if let Some(e) = pending.pop_front() {
                    return Some((e, (c, s, pending)));
                }
                // At every look (paced: news, or the 15 s tick): the tail ends with its session.
                if !live::goes_on("audit tail", live::session_stands(&c.v, &s)).await {
                    return None;
                }
                let events = c.look("audit tail").await?;
                // Checked again after the read: a sign-out that committed between the
                // check above and the read must not be delivered on its own tail.
                if !events.is_empty()
                    && !live::goes_on("audit tail", live::session_stands(&c.v, &s)).await
                {
                    return None;
                }
                pending.extend(events);
            }
        },
    ))
}

/// The approval events the feed sends, by the audit action they come from.
fn approval_event(action: &str) -> Option<&'static str> {
    match action {
        "approval.requested" => Some("approval.requested"),
        "approval.approved" => Some("approval.approved"),
        "approval.denied" => Some("approval.denied"),
        "approval.expired" => Some("approval.expired"),
        "secret.read" => Some("approval.used"),
        _ => None,
    }
}

/// One item of the approvals feed: the audit event's id, the feed's event name, the
/// request as the caller may see it.
pub type ApprovalItem = (i64, &'static str, Approval);

/// Who may follow a tenant's approvals: its agents (their own requests) and, among
/// people, approvers, admins and owners.
fn approvals_tenant(c: &SecretsCaller) -> Result<String> {
    match c {
        SecretsCaller::Session(s) if !s.user.role.can_approve() => Err(Error::Forbidden(
            "Only approvers, admins and owners of the tenant follow its approvals.",
        )),
        SecretsCaller::Session(s) => Ok(s.tenant_id().to_owned()),
        SecretsCaller::Key(k) => Ok(k.key.tenant_id.clone()),
        SecretsCaller::Token(t) => Ok(t.token.tenant_id.clone()),
    }
}

/// The approvals the caller may see, as each is requested, decided, expires or is used.
pub async fn approvals(
    v: &Arc<Vault>,
    caller: SecretsCaller,
    last_event_id: Option<&str>,
) -> Result<impl Stream<Item = ApprovalItem> + use<>> {
    let tenant_id = approvals_tenant(&caller)?;
    let credential = live::credential_of(&caller);
    let scope = AuditScope::Tenant(tenant_id.clone());
    let cursor = Cursor::open(v, credential, &tenant_id, scope, last_event_id).await?;
    let state = (cursor, caller, VecDeque::new());
    Ok(futures::stream::unfold(
        state,
        |(mut c, caller, mut pending)| async move {
            loop {
                if let Some(item) = pending.pop_front() {
                    return Some((item, (c, caller, pending)));
                }
                // At every look (paced: news, or the 15 s tick): the feed ends with its credential.
                if !live::goes_on("approvals feed", live::caller_stands(&c.v, &caller)).await {
                    return None;
                }
                let events = c.look("approvals feed").await?;
                // Checked again after the read, as the audit tail does: a revocation that
                // committed between the check above and the read ends the feed first.
                if !events.is_empty()
                    && !live::goes_on("approvals feed", live::caller_stands(&c.v, &caller)).await
                {
                    return None;
                }
                for e in events {
                    pending.extend(approval_item(&c.v, &caller, &e).await?);
                }
            }
        },
    ))
}

/// The feed's item for one audit event: `Some(None)` when it is no news to the caller,
/// `None` to end the feed (the request could not be read).
async fn approval_item(
    v: &Vault,
    caller: &SecretsCaller,
    e: &AuditEvent,
) -> Option<Option<ApprovalItem>> {
    let Some(name) = approval_event(&e.action) else {
        return Some(None);
    };
    let id = if name == "approval.used" {
        e.detail.get("approval_id").and_then(|v| v.as_str())
    } else {
        e.target
            .as_deref()
            .and_then(|t| t.strip_prefix("approval:"))
    };
    // Refusals (wrong role, own key) are not news.
    let (Some(id), "success") = (id, e.outcome.as_str()) else {
        return Some(None);
    };
    match approvals::feed_item(v, caller, id).await {
        Ok(a) => Some(a.map(|a| (e.id, name, a))),
        Err(err) => {
            tracing::warn!(error = %err, "approvals feed stopped");
            None
        }
    }
}
