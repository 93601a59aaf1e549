//! The approval inbox's live feed. One task per signed-in window follows the server's
//! `GET /v1/approvals/stream`, forwards each change to the web view over a channel and
//! raises an OS notification for every new request waiting on this person. The stream
//! reconnects with backoff; it stops for good when the session ends or the person may
//! not approve.

use std::time::Duration;

use keyhold_client::sse::SseEvent;
use keyhold_core::Sensitive;
use keyhold_core::api::{Approval, ApprovalOperation, ApprovalStatus};
use tauri::AppHandle;
use tauri::ipc::Channel;

use crate::backend::{self, Server};
use crate::error::ErrorKind;
use crate::view::ApprovalFeedEvent;

const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(30);

/// `approval.requested` → ("requested", the request). Other events and bodies that do not
/// parse are skipped: the feed is a hint to refresh, the list commands stay the truth.
pub fn parse(ev: &SseEvent) -> Option<(String, Approval)> {
    let kind = ev.event.as_deref()?.strip_prefix("approval.")?;
    if !matches!(
        kind,
        "requested" | "approved" | "denied" | "expired" | "used"
    ) {
        return None;
    }
    let approval = serde_json::from_str(&ev.data).ok()?;
    Some((kind.to_owned(), approval))
}

/// A new request from someone else's agent is one this person may have to decide; their
/// own agent's requests are not theirs to approve.
pub fn worth_notifying(kind: &str, a: &Approval, me: &str) -> bool {
    kind == "requested" && a.status == ApprovalStatus::Pending && a.requested_by.person().id != me
}

/// The notification's title and body: what asks, for what. Never a secret value (the
/// feed carries none).
pub fn notification_text(a: &Approval) -> (String, String) {
    let what = match a.operation {
        ApprovalOperation::Read => "read",
        ApprovalOperation::Delete => "delete",
        ApprovalOperation::LowerTier => "lower the tier of",
        ApprovalOperation::AgentWrite => "overwrite",
    };
    (
        format!("Approval needed: {} secret", a.tier.as_str()),
        format!("{} asks to {what} {}.", a.requested_by.label(), a.path),
    )
}

/// Notify, with a click that brings the window back on this request: the web view gets an
/// "open" event on the same channel and shows it in the inbox.
fn notify(app: &AppHandle, a: &Approval, channel: &Channel<ApprovalFeedEvent>) {
    let (title, body) = notification_text(a);
    let channel = channel.clone();
    let view = backend::approval_view(a);
    let on_click: crate::notify::OnClick = Box::new(move |app| {
        crate::background::show_main(app);
        // The window may have been reloaded since (a new channel): then nothing opens,
        // but the window is back and the inbox lists the request.
        let _ = channel.send(ApprovalFeedEvent {
            kind: "open".to_owned(),
            approval: Some(view),
        });
    });
    crate::notify::show(
        app,
        title,
        body,
        crate::notify::Urgency::Normal,
        Some(on_click),
    );
}

/// Follow the feed until the session ends. `me` is the signed-in user's id.
pub async fn run(
    app: AppHandle,
    server: Server,
    token: Sensitive<String>,
    me: String,
    channel: Channel<ApprovalFeedEvent>,
) {
    let send = |kind: &str, approval| {
        channel
            .send(ApprovalFeedEvent {
                kind: kind.to_owned(),
                approval,
            })
            .is_ok()
    };
    let mut retry = FIRST_RETRY;
    loop {
        match backend::approvals_feed(&server, &token).await {
            Ok(mut stream) => {
                retry = FIRST_RETRY;
                if !send("connected", None) {
                    return;
                }
                while let Some(Ok(ev)) = stream.next().await {
                    let Some((kind, a)) = parse(&ev) else {
                        continue;
                    };
                    if worth_notifying(&kind, &a, &me) {
                        notify(&app, &a, &channel);
                    }
                    if !send(&kind, Some(backend::approval_view(&a))) {
                        return;
                    }
                }
            }
            Err(e)
                if matches!(
                    e.kind,
                    ErrorKind::Unauthenticated | ErrorKind::Forbidden | ErrorKind::SignedOut
                ) =>
            {
                return;
            }
            Err(_) => {}
        }
        if !send("disconnected", None) {
            return;
        }
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(LAST_RETRY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(owner: &str) -> serde_json::Value {
        serde_json::json!({
            "id": "apr_1",
            "path": "prod/db/password",
            "tier": "critical",
            "requested_by": {
                "key_id": "key_1",
                "key_name": "deploy-bot",
                "owner": {"id": owner, "email": "ada@example.com", "display_name": null},
                "token_id": null
            },
            "reason": "migration",
            "requested_at": "2026-01-01T00:00:00Z",
            "expires_at": "2026-01-01T01:00:00Z",
            "approvals": [],
            "required_approvals": 2,
            "status": "pending",
            "available_at": null,
            "grant_expires_at": null,
            "denied_by": null,
            "deny_reason": null,
            "used_at": null
        })
    }

    fn event(name: &str, data: String) -> SseEvent {
        SseEvent {
            event: Some(name.to_owned()),
            id: Some("7".to_owned()),
            data,
        }
    }

    #[test]
    fn parses_the_servers_events() {
        let (kind, a) = parse(&event("approval.requested", sample("usr_ada").to_string())).unwrap();
        assert_eq!(kind, "requested");
        assert_eq!(a.path.to_string(), "prod/db/password");
        assert_eq!(a.required_approvals, 2);
        assert!(parse(&event("approval.used", sample("usr_ada").to_string())).is_some());
        assert!(parse(&event("secret.read", sample("usr_ada").to_string())).is_none());
        assert!(parse(&event("approval.requested", "{not json".to_owned())).is_none());
    }

    #[test]
    fn notifies_only_for_new_requests_of_other_peoples_agents() {
        let (_, a) = parse(&event("approval.requested", sample("usr_ada").to_string())).unwrap();
        assert!(worth_notifying("requested", &a, "usr_bob"));
        assert!(!worth_notifying("requested", &a, "usr_ada"), "own agent");
        assert!(!worth_notifying("approved", &a, "usr_bob"));
        let (title, body) = notification_text(&a);
        assert_eq!(title, "Approval needed: critical secret");
        assert_eq!(
            body,
            "deploy-bot (ada@example.com) asks to read prod/db/password."
        );
    }
}
