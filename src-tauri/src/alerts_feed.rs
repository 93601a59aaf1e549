//! The alerts panel's live feed. One task per signed-in window of an owner or admin
//! follows the server's live audit feed (`GET /v1/audit/stream`), tells the web view about
//! every detection event so the panel reloads without a page reload, and raises an OS
//! notification for every critical alert. The audit feed rather than a feed of its own:
//! the server already sends `alert.raised` there (docs/alerts.md), and the list command
//! stays the truth. Reconnects with backoff; stops for good when the session ends or the
//! person may not see alerts.

use std::time::Duration;

use keyhold_client::sse::SseEvent;
use keyhold_core::Sensitive;
use keyhold_core::api::{AuditEvent, Severity};
use tauri::AppHandle;
use tauri::ipc::Channel;

use crate::backend::{Server, alerts};
use crate::error::ErrorKind;
use crate::notify::{self, Urgency};
use crate::view::alerts::AlertFeedEvent;

const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(30);

/// The audit actions that change what the alerts panel, the blocks list or the keys show.
const WATCHED: &[&str] = &[
    "alert.raised",
    "alert.acknowledged",
    "key.suspended",
    "key.reinstated",
    "key.revoked",
    "address.blocked",
    "block.lifted",
];

/// A detection event of the audit feed, as the web view gets it; every other event (and a
/// body that does not parse) is skipped.
pub fn parse(ev: &SseEvent) -> Option<AlertFeedEvent> {
    if ev.event.as_deref() != Some("audit") {
        return None;
    }
    let e: AuditEvent = serde_json::from_str(&ev.data).ok()?;
    if !WATCHED.contains(&e.action.as_str()) {
        return None;
    }
    let raised = e.action == "alert.raised";
    let text = |field: &str| {
        raised
            .then(|| e.detail.get(field).and_then(|v| v.as_str()))
            .flatten()
            .map(str::to_owned)
    };
    Some(AlertFeedEvent {
        kind: e.action.clone(),
        severity: raised.then(|| e.severity.as_str().to_owned()),
        message: text("message"),
    })
}

/// Only critical alerts interrupt people; warnings wait in the panel (and in the mail).
pub fn worth_notifying(ev: &AlertFeedEvent) -> bool {
    ev.kind == "alert.raised" && ev.severity.as_deref() == Some(Severity::Critical.as_str())
}

/// The notification's title and body: the alert's own message, which names the key,
/// account or address (never a secret value: alerts carry none).
pub fn notification_text(ev: &AlertFeedEvent) -> (String, String) {
    (
        "Critical security alert".to_owned(),
        ev.message
            .clone()
            .unwrap_or_else(|| "Keyhold raised a critical alert.".to_owned()),
    )
}

/// Follow the feed until the session ends.
pub async fn run(
    app: AppHandle,
    server: Server,
    token: Sensitive<String>,
    channel: Channel<AlertFeedEvent>,
) {
    let send = |ev: AlertFeedEvent| channel.send(ev).is_ok();
    let status = |kind: &str| AlertFeedEvent {
        kind: kind.to_owned(),
        severity: None,
        message: None,
    };
    let mut retry = FIRST_RETRY;
    loop {
        match alerts::audit_feed(&server, &token).await {
            Ok(mut stream) => {
                retry = FIRST_RETRY;
                if !send(status("connected")) {
                    return;
                }
                while let Some(Ok(ev)) = stream.next().await {
                    let Some(ev) = parse(&ev) else { continue };
                    if worth_notifying(&ev) {
                        let (title, body) = notification_text(&ev);
                        // A click brings the window back; the alerts panel is on the
                        // Security Vault, where the web view's badge already points.
                        let on_click: notify::OnClick = Box::new(crate::background::show_main);
                        notify::show(&app, title, body, Urgency::Critical, Some(on_click));
                    }
                    if !send(ev) {
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
        if !send(status("disconnected")) {
            return;
        }
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(LAST_RETRY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit(action: &str, severity: &str, detail: serde_json::Value) -> SseEvent {
        let body = serde_json::json!({
            "id": 7,
            "at": "2026-12-04T10:00:00Z",
            "actor": {"type": "system", "id": "keyhold-detector"},
            "action": action,
            "target": "key_1",
            "outcome": "success",
            "ip": null,
            "user_agent": null,
            "detail": detail,
            "severity": severity,
        });
        SseEvent {
            event: Some("audit".into()),
            data: body.to_string(),
            id: Some("7".into()),
        }
    }

    #[test]
    fn a_critical_alert_is_forwarded_and_notified_with_its_message() {
        let ev = audit(
            "alert.raised",
            "critical",
            serde_json::json!({"alert_id": "alr_1", "rule": "outside_allowlist", "severity": "critical",
                "message": "Key \"deploy\" was used from 203.0.113.5, outside its allowlist.", "response": "suspended_key"}),
        );
        let parsed = parse(&ev).expect("an alert.raised event is forwarded");
        assert_eq!(parsed.kind, "alert.raised");
        assert_eq!(parsed.severity.as_deref(), Some("critical"));
        assert!(worth_notifying(&parsed));
        let (title, body) = notification_text(&parsed);
        assert!(title.contains("Critical"), "{title}");
        assert!(body.contains("203.0.113.5"), "{body}");
    }

    #[test]
    fn warnings_and_other_detection_events_refresh_without_a_notification() {
        let warning = parse(&audit(
            "alert.raised",
            "warning",
            serde_json::json!({"message": "Many failed sign-ins."}),
        ))
        .unwrap();
        assert!(!worth_notifying(&warning));
        for action in [
            "alert.acknowledged",
            "key.suspended",
            "key.reinstated",
            "block.lifted",
        ] {
            let ev = parse(&audit(action, "critical", serde_json::json!({}))).unwrap();
            assert_eq!(ev.kind, action);
            assert!(ev.message.is_none() && ev.severity.is_none());
            assert!(!worth_notifying(&ev), "{action}");
        }
    }

    #[test]
    fn other_events_and_bodies_that_do_not_parse_are_skipped() {
        assert!(parse(&audit("secret.read", "info", serde_json::json!({}))).is_none());
        let mut other = audit("alert.raised", "critical", serde_json::json!({}));
        other.event = Some("approval.requested".into());
        assert!(parse(&other).is_none());
        let mut broken = audit("alert.raised", "critical", serde_json::json!({}));
        broken.data = "{not json".into();
        assert!(parse(&broken).is_none());
    }
}
