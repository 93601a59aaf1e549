//! `/v1/approvals*`, `/v1/tenant/settings` and `/v1/members*`.

use std::convert::Infallible;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use futures::Stream;
use keyhold_core::api::{
    Approval, ApprovalQuery, ApproveRequest, CreateApprovalRequest, DenyRequest, Invitation,
    InviteRequest, Member, Page, RoleRequest, TenantSettings,
};

use super::extract::{ApiJson, ApiQuery, Client};
use super::guards::{Caller, Person, Sudo};
use super::last_event_id;
use crate::error::ApiResult;
use crate::state::SharedState;
use keyhold_vault::Error;
use keyhold_vault::auth::SecretsCaller;
use keyhold_vault::live;
use keyhold_vault::store::AuditScope;
use keyhold_vault::{approvals, members};

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v1/approvals", get(list).post(create))
        .route("/v1/approvals/stream", get(stream))
        .route("/v1/approvals/{id}", get(show))
        .route("/v1/approvals/{id}/approve", post(approve))
        .route("/v1/approvals/{id}/deny", post(deny))
        .route("/v1/tenant/settings", get(get_settings).put(put_settings))
        .route("/v1/members", get(list_members))
        .route("/v1/members/invitations", post(invite))
        .route("/v1/members/{id}/role", put(set_role))
        .route("/v1/members/{id}", delete(remove_member))
}

#[utoipa::path(post, path = "/v1/approvals", tag = "approvals", request_body = CreateApprovalRequest,
    responses((status = 201, body = Approval), (status = 403, body = keyhold_core::ErrorBody),
              (status = 404, body = keyhold_core::ErrorBody), (status = 422, body = keyhold_core::ErrorBody)))]
pub async fn create(
    State(st): State<SharedState>,
    Client(c): Client,
    caller: Caller,
    ApiJson(req): ApiJson<CreateApprovalRequest>,
) -> ApiResult<impl IntoResponse> {
    let a = approvals::create(&st, &caller, req, &c).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

#[utoipa::path(get, path = "/v1/approvals", tag = "approvals",
    params(("status" = Option<String>, Query), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = Page<Approval>), (status = 403, body = keyhold_core::ErrorBody)))]
pub async fn list(
    State(st): State<SharedState>,
    Client(c): Client,
    caller: Caller,
    ApiQuery(q): ApiQuery<ApprovalQuery>,
) -> ApiResult<Json<Page<Approval>>> {
    Ok(Json(approvals::list(&st, &caller, &q, &c).await?))
}

#[utoipa::path(get, path = "/v1/approvals/{id}", tag = "approvals", params(("id" = String, Path)),
    responses((status = 200, body = Approval), (status = 404, body = keyhold_core::ErrorBody)))]
pub async fn show(
    State(st): State<SharedState>,
    Client(c): Client,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Approval>> {
    Ok(Json(approvals::get(&st, &caller, &id, &c).await?))
}

#[utoipa::path(post, path = "/v1/approvals/{id}/approve", tag = "approvals", params(("id" = String, Path)),
    request_body = ApproveRequest,
    responses((status = 200, body = Approval), (status = 403, body = keyhold_core::ErrorBody),
              (status = 404, body = keyhold_core::ErrorBody), (status = 409, body = keyhold_core::ErrorBody)))]
pub async fn approve(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Person,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ApproveRequest>,
) -> ApiResult<Json<Approval>> {
    Ok(Json(approvals::approve(&st, &s, &id, req, &c).await?))
}

#[utoipa::path(post, path = "/v1/approvals/{id}/deny", tag = "approvals", params(("id" = String, Path)),
    request_body = DenyRequest,
    responses((status = 200, body = Approval), (status = 403, body = keyhold_core::ErrorBody),
              (status = 404, body = keyhold_core::ErrorBody), (status = 409, body = keyhold_core::ErrorBody)))]
pub async fn deny(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Person,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<DenyRequest>,
) -> ApiResult<Json<Approval>> {
    Ok(Json(approvals::deny(&st, &s, &id, req, &c).await?))
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

#[utoipa::path(get, path = "/v1/tenant/settings", tag = "tenant",
    responses((status = 200, body = TenantSettings)))]
pub async fn get_settings(
    State(st): State<SharedState>,
    s: Person,
) -> ApiResult<Json<TenantSettings>> {
    Ok(Json(keyhold_vault::tenant::get_settings(&st, &s).await?))
}

#[utoipa::path(put, path = "/v1/tenant/settings", tag = "tenant", request_body = TenantSettings,
    responses((status = 200, body = TenantSettings), (status = 401, body = keyhold_core::ErrorBody), (status = 403, body = keyhold_core::ErrorBody),
              (status = 422, body = keyhold_core::ErrorBody)))]
pub async fn put_settings(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    ApiJson(req): ApiJson<TenantSettings>,
) -> ApiResult<Json<TenantSettings>> {
    Ok(Json(
        keyhold_vault::tenant::put_settings(&st, &s, req, &c).await?,
    ))
}

#[utoipa::path(get, path = "/v1/members", tag = "members",
    responses((status = 200, body = Vec<Member>)))]
pub async fn list_members(
    State(st): State<SharedState>,
    s: Person,
) -> ApiResult<Json<Vec<Member>>> {
    Ok(Json(members::list(&st, &s).await?))
}

#[utoipa::path(post, path = "/v1/members/invitations", tag = "members", request_body = InviteRequest,
    responses((status = 201, body = Invitation), (status = 401, body = keyhold_core::ErrorBody), (status = 403, body = keyhold_core::ErrorBody)))]
pub async fn invite(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    ApiJson(req): ApiJson<InviteRequest>,
) -> ApiResult<impl IntoResponse> {
    let inv = members::invite(&st, &s, req, &c).await?;
    Ok((StatusCode::CREATED, Json(inv)))
}

#[utoipa::path(put, path = "/v1/members/{id}/role", tag = "members", params(("id" = String, Path)),
    request_body = RoleRequest,
    responses((status = 200, body = Member), (status = 401, body = keyhold_core::ErrorBody),
              (status = 403, body = keyhold_core::ErrorBody), (status = 409, body = keyhold_core::ErrorBody)))]
pub async fn set_role(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RoleRequest>,
) -> ApiResult<Json<Member>> {
    Ok(Json(members::set_role(&st, &s, &id, req.role, &c).await?))
}

#[utoipa::path(delete, path = "/v1/members/{id}", tag = "members", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = keyhold_core::ErrorBody),
              (status = 403, body = keyhold_core::ErrorBody), (status = 404, body = keyhold_core::ErrorBody),
              (status = 409, body = keyhold_core::ErrorBody)))]
pub async fn remove_member(
    State(st): State<SharedState>,
    Client(c): Client,
    s: Sudo,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    members::remove(&st, &s, &id, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}
