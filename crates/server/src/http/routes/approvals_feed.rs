//! `GET /v1/approvals/stream`: the approvals feed, server-sent events read from the audit
//! log, ending with the caller's credential.

use std::convert::Infallible;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures::Stream;
use keyhold_core::api::Approval;
use keyhold_vault::auth::SecretsCaller;
use keyhold_vault::store::AuditScope;
use keyhold_vault::{Error, approvals, live};

use crate::error::ApiResult;
use crate::http::guards::Caller;
use crate::http::last_event_id;
use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new().route("/v1/approvals/stream", get(stream))
}

struct Feed {
    st: SharedState,
    caller: Caller,
    scope: AuditScope,
    after: i64,
    pacer: live::Pacer,
    pending: std::collections::VecDeque<(i64, &'static str, Approval)>,
    /// Held for as long as the feed is open (dropped with the stream).
    _slot: live::FeedSlot,
}

fn action_name(a: &str) -> Option<&'static str> {
    match a {
        "approval.requested" => Some("approval.requested"),
        "approval.approved" => Some("approval.approved"),
        "approval.denied" => Some("approval.denied"),
        "approval.expired" => Some("approval.expired"),
        "secret.read" => Some("approval.used"),
        _ => None,
    }
}

fn feed_stream(f: Feed) -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::unfold(f, |mut f| async move {
        loop {
            if let Some((id, name, a)) = f.pending.pop_front() {
                let ev = Event::default()
                    .id(id.to_string())
                    .event(name)
                    .json_data(&a)
                    .unwrap_or_default();
                return Some((Ok(ev), f));
            }
            // At every look (paced: news, or the 15 s tick): the feed ends with its credential.
            if !live::goes_on("approvals feed", live::caller_stands(&f.st, &f.caller)).await {
                return None;
            }
            match f.st.store.audit_after(&f.scope, f.after, 100).await {
                Ok(events) if !events.is_empty() => {
                    f.after = events.last().map_or(f.after, |e| e.id);
                    for e in events {
                        let Some(name) = action_name(&e.action) else {
                            continue;
                        };
                        let id = if name == "approval.used" {
                            e.detail.get("approval_id").and_then(|v| v.as_str())
                        } else {
                            e.target
                                .as_deref()
                                .and_then(|t| t.strip_prefix("approval:"))
                        };
                        let Some(id) = id else { continue };
                        // Refusals (wrong role, own key) are not news.
                        if e.outcome != "success" {
                            continue;
                        }
                        match approvals::feed_item(&f.st, &f.caller, id).await {
                            Ok(Some(a)) => f.pending.push_back((e.id, name, a)),
                            Ok(None) => {}
                            Err(err) => {
                                tracing::warn!(error = %err, "approvals feed stopped");
                                return None;
                            }
                        }
                    }
                }
                Ok(_) => {
                    f.pacer.wait().await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "approvals feed stopped");
                    return None;
                }
            }
        }
    })
}

#[utoipa::path(get, path = "/v1/approvals/stream", tag = "approvals",
    responses((status = 200, description = "Server-sent events named `approval.requested`, `approval.approved`, `approval.denied`, `approval.expired` and `approval.used`, each carrying the request"),
              (status = 403, body = keyhold_core::ErrorBody)))]
pub async fn stream(
    State(st): State<SharedState>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    let tenant_id = match &*caller {
        SecretsCaller::Session(s) => {
            if !s.user.role.can_approve() {
                return Err(Error::Forbidden(
                    "Only approvers, admins and owners of the tenant follow its approvals.",
                )
                .into());
            }
            s.tenant_id().to_owned()
        }
        SecretsCaller::Key(k) => k.key.tenant_id.clone(),
        SecretsCaller::Token(t) => t.token.tenant_id.clone(),
    };
    let slot = st.feeds.take(live::credential_of(&caller))?;
    let watch = st.store.tenant_audit_watch(&tenant_id);
    let scope = AuditScope::Tenant(tenant_id);
    let head = *watch.borrow();
    let after = live::resume_after(&st, &scope, last_event_id(&headers), head).await?;
    let feed = Feed {
        st: st.clone(),
        caller,
        scope,
        after,
        pacer: live::Pacer::new(watch),
        pending: Default::default(),
        _slot: slot,
    };
    Ok(Sse::new(feed_stream(feed)).keep_alive(KeepAlive::default()))
}
