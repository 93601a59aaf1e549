//! `/v1/audit*`: list, export, live tail and chain verification.

use std::convert::Infallible;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::Stream;
use keyhold_core::api::{AuditEvent, AuditQuery, AuditVerifyResponse, Page};
use serde::Deserialize;

use super::extract::{ApiQuery, Session};
use crate::error::{ApiError, ApiResult};
use crate::live;
use crate::paging;
use crate::state::SharedState;
use crate::store::AuditScope;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v1/audit", get(list))
        .route("/v1/audit/export", get(export))
        .route("/v1/audit/stream", get(stream))
        .route("/v1/audit/verify", get(verify))
}

fn scope_of(s: &Session) -> AuditScope {
    if s.user.role.is_admin() {
        AuditScope::Tenant(s.tenant_id().to_owned())
    } else {
        AuditScope::Actor {
            tenant_id: s.tenant_id().to_owned(),
            actor_id: s.user.id.clone(),
        }
    }
}

#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(
    ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query), ("action" = Option<String>, Query),
    ("actor" = Option<String>, Query), ("since" = Option<String>, Query), ("until" = Option<String>, Query)),
    responses((status = 200, body = Page<AuditEvent>)))]
pub async fn list(
    State(st): State<SharedState>,
    s: Session,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Page<AuditEvent>>> {
    let limit = paging::limit(q.limit)?;
    let before = q
        .cursor
        .as_deref()
        .map(|c| {
            paging::decode_cursor('a', c)?
                .parse::<i64>()
                .map_err(|_| ApiError::BadRequest("The cursor is not valid.".to_owned()))
        })
        .transpose()?;
    let items = st
        .store
        .audit_page(&scope_of(&s), &q, before, limit)
        .await?;
    let next_cursor = paging::next_cursor(&items, limit, 'a', |e| e.id.to_string());
    Ok(Json(Page { items, next_cursor }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    format: Option<String>,
}

#[derive(Clone, Copy)]
enum Format {
    JsonLines,
    Csv,
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn render(e: &AuditEvent, f: Format) -> String {
    match f {
        Format::JsonLines => {
            let mut line = serde_json::to_string(e).unwrap_or_default();
            line.push('\n');
            line
        }
        Format::Csv => {
            let cols = [
                e.id.to_string(),
                e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                e.actor.kind.clone(),
                e.actor.id.clone().unwrap_or_default(),
                e.action.clone(),
                e.target.clone().unwrap_or_default(),
                e.outcome.clone(),
                e.ip.clone().unwrap_or_default(),
                e.user_agent.clone().unwrap_or_default(),
                e.detail.to_string(),
            ];
            let mut line = cols
                .iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(",");
            line.push_str("\r\n");
            line
        }
    }
}

const CSV_HEADER: &str = "id,at,actor_type,actor_id,action,target,outcome,ip,user_agent,detail\r\n";

#[utoipa::path(get, path = "/v1/audit/export", tag = "audit",
    params(("format" = Option<String>, Query, description = "json (JSON lines) or csv")),
    responses((status = 200, description = "The visible log, oldest first, streamed")))]
pub async fn export(
    State(st): State<SharedState>,
    s: Session,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    let (format, content_type, ext) = match q.format.as_deref().unwrap_or("json") {
        "json" => (Format::JsonLines, "application/x-ndjson", "jsonl"),
        "csv" => (Format::Csv, "text/csv; charset=utf-8", "csv"),
        _ => {
            return Err(ApiError::BadRequest(
                "format must be json or csv.".to_owned(),
            ));
        }
    };
    let store = st.store.clone();
    let scope = scope_of(&s);
    let header_chunk = match format {
        Format::Csv => Some(Ok::<_, Infallible>(CSV_HEADER.to_owned())),
        Format::JsonLines => None,
    };
    // Page through the log 500 events at a time so memory stays flat however long it is.
    let pages = futures::stream::unfold(Some(0i64), move |after| {
        let store = store.clone();
        let scope = scope.clone();
        async move {
            let after = after?;
            match store.audit_after(&scope, after, 500).await {
                Ok(events) if events.is_empty() => None,
                Ok(events) => {
                    let next = events.last().map(|e| e.id);
                    let chunk: String = events.iter().map(|e| render(e, format)).collect();
                    Some((Ok::<_, Infallible>(chunk), next))
                }
                Err(e) => {
                    tracing::error!(error = %e, "audit export stopped early");
                    None
                }
            }
        }
    });
    let body = Body::from_stream(futures::StreamExt::chain(
        futures::stream::iter(header_chunk),
        pages,
    ));
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"keyhold-audit.{ext}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

struct Tail {
    st: SharedState,
    session: Session,
    scope: AuditScope,
    after: i64,
    pacer: live::Pacer,
    pending: std::collections::VecDeque<AuditEvent>,
}

fn tail_stream(t: Tail) -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::unfold(t, |mut t| async move {
        loop {
            if let Some(e) = t.pending.pop_front() {
                let ev = Event::default()
                    .id(e.id.to_string())
                    .event("audit")
                    .json_data(&e)
                    .unwrap_or_default();
                return Some((Ok(ev), t));
            }
            // At every look (paced: news, or the 15 s tick): the tail ends with its session.
            if !live::goes_on("audit tail", live::session_stands(&t.st, &t.session)).await {
                return None;
            }
            match t.st.store.audit_after(&t.scope, t.after, 100).await {
                Ok(events) if !events.is_empty() => {
                    t.after = events.last().map_or(t.after, |e| e.id);
                    t.pending.extend(events);
                }
                Ok(_) => {
                    // Wait for the next append anywhere, or re-check now and then.
                    t.pacer.wait().await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "audit tail stopped");
                    return None;
                }
            }
        }
    })
}

#[utoipa::path(get, path = "/v1/audit/stream", tag = "audit",
    responses((status = 200, description = "Server-sent events, one `audit` event per log entry")))]
pub async fn stream(
    State(st): State<SharedState>,
    s: Session,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    let watch = st.store.tenant_audit_watch(s.tenant_id());
    // Resume after Last-Event-ID when the client reconnects; otherwise start at "now".
    let after = match headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
    {
        Some(id) => id,
        None => *watch.borrow(),
    };
    let tail = Tail {
        scope: scope_of(&s),
        st,
        session: s,
        after,
        pacer: live::Pacer::new(watch),
        pending: Default::default(),
    };
    Ok(Sse::new(tail_stream(tail)).keep_alive(KeepAlive::default()))
}

#[utoipa::path(get, path = "/v1/audit/verify", tag = "audit",
    responses((status = 200, body = AuditVerifyResponse), (status = 403, body = keyhold_core::ErrorBody)))]
pub async fn verify(
    State(st): State<SharedState>,
    s: Session,
) -> ApiResult<Json<AuditVerifyResponse>> {
    if !s.user.role.is_admin() {
        return Err(ApiError::Forbidden(
            "Only owners and admins can verify the tenant's audit log.",
        ));
    }
    let v = st.store.audit_verify(s.tenant_id()).await?;
    Ok(Json(AuditVerifyResponse {
        ok: v.ok,
        checked: v.checked,
        first_bad: v.first_bad,
    }))
}
