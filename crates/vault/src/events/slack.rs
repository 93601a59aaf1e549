//! Slack endpoints: instead of the raw event, a message a person reads in the channel.
//! For an approval request it says who asks for which path, the tier, the approvals so far
//! and the expiry (read when the message is sent, so a retry shows the current count), and
//! links to the request in the app.

use serde_json::Value;

use crate::Vault;
use crate::store::outbox::MessageRecord;

/// Slack's markup gives `<`, `>` and `&` meaning; text from the vault is escaped so a path
/// or a reason cannot turn into a link or a mention.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The app's link to one approval request.
pub fn approval_link(id: &str) -> String {
    format!("keyhold://approvals/{id}")
}

/// The JSON body posted to the Slack incoming webhook for `m`.
pub async fn message(st: &Vault, m: &MessageRecord) -> Vec<u8> {
    let event: Value = serde_json::from_slice(&m.payload).unwrap_or(Value::Null);
    let data = &event["data"];
    let detail = &data["detail"];
    let text = match m.event_type.as_str() {
        t if t.starts_with("approval.") => approval_text(st, m, data, detail).await,
        t => format!("Keyhold: *{}* ({})", escape(t), escape(s(data, "target"))),
    };
    serde_json::json!({ "text": text }).to_string().into_bytes()
}

async fn approval_text(st: &Vault, m: &MessageRecord, data: &Value, detail: &Value) -> String {
    let id = s(data, "target").trim_start_matches("approval:").to_owned();
    let (mut who, mut votes, mut expires) = (String::from("someone"), String::new(), String::new());
    if let Some(tenant) = &m.tenant_id
        && let Ok(Some(v)) = st.store.approval(tenant, &id).await
    {
        who = match (&v.key_name, v.owner.email.as_deref()) {
            (Some(k), Some(e)) => format!("agent key \"{k}\" of {e}"),
            (Some(k), None) => format!("agent key \"{k}\""),
            (None, Some(e)) => e.to_owned(),
            (None, None) => who,
        };
        votes = format!(
            "\nApprovals so far: {} of {}",
            v.votes.len(),
            v.record.required_approvals
        );
        expires = format!(
            "\nExpires: {}",
            v.record
                .expires_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
    }
    let verb = match m.event_type.as_str() {
        "approval.requested" => "Approval requested",
        "approval.approved" => "Approved",
        "approval.denied" => "Denied",
        "approval.expired" => "Expired",
        _ => "Voided",
    };
    let reason = match detail.get("reason").and_then(Value::as_str) {
        Some(r) => format!("\nReason: {}", escape(r)),
        None if m.event_type == "approval.requested" => "\nReason: (no reason given)".into(),
        None => String::new(),
    };
    format!(
        "*{verb}*: {} asks to {} `{}` ({}){reason}{votes}{expires}\n<{}|Open in Keyhold>",
        escape(&who),
        escape(s(detail, "operation")).replace('_', " "),
        escape(s(detail, "path")),
        escape(s(detail, "tier")),
        approval_link(&id)
    )
}
