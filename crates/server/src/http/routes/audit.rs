//! `/v1/audit*`: list, export, live tail and chain verification.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::StreamExt;
use keyhold_core::api::{
    AuditActions, AuditEvent, AuditQuery, AuditVerifyResponse, Page, Severity,
};
use keyhold_vault::audit::{self, Format};
use keyhold_vault::feeds;
use serde::Deserialize;

use crate::error::ApiResult;
use crate::http::extract::ApiQuery;
use crate::http::guards::{Admin, Person};
use crate::http::last_event_id;
use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v1/audit", get(list))
        .route("/v1/audit/export", get(export))
        .route("/v1/audit/actions", get(actions))
        .route("/v1/audit/stream", get(stream))
        .route("/v1/audit/verify", get(verify))
}

#[utoipa::path(get, path = "/v1/audit", tag = "audit", security(("session" = [])), params(
    ("limit" = Option<keyhold_core::api::schema::PageLimit>, Query), ("cursor" = Option<keyhold_core::api::schema::Cursor>, Query),
    ("action" = Option<String>, Query, description = "One action, or a prefix ending in `*` (`approval.*`)"),
    ("actor" = Option<String>, Query, description = "The actor's id (a user or an agent key)"),
    ("since" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Events at or after this time (RFC 3339)"),
    ("until" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Events before this time (RFC 3339); must be after `since`, else 400"),
    ("severity" = Option<Severity>, Query, description = "The lowest severity to include")),
    responses((status = 200, body = Page<AuditEvent>)))]
pub async fn list(
    State(st): State<SharedState>,
    s: Person,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Page<AuditEvent>>> {
    Ok(Json(audit::page(&st, &s, &q).await?))
}

/// `GET /v1/audit/export`: the format, and the same filters as a page of the log, so the
/// desktop's "export this view" exports what the screen shows.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    format: Option<String>,
    severity: Option<Severity>,
    action: Option<String>,
    actor: Option<String>,
    since: Option<chrono::DateTime<chrono::Utc>>,
    until: Option<chrono::DateTime<chrono::Utc>>,
}

impl ExportQuery {
    fn filter(self) -> AuditQuery {
        AuditQuery {
            action: self.action,
            actor: self.actor,
            since: self.since,
            until: self.until,
            severity: self.severity,
            ..AuditQuery::default()
        }
    }
}

/// `?severity=` of the live feed: the lowest severity it sends.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    severity: Option<Severity>,
}

#[utoipa::path(get, path = "/v1/audit/export", tag = "audit", security(("session" = [])),
    params(("format" = Option<keyhold_core::api::schema::ExportFormat>, Query),
           ("severity" = Option<Severity>, Query, description = "The lowest severity to include"),
           ("action" = Option<String>, Query, description = "One action, or a prefix ending in `*` (`approval.*`)"),
           ("actor" = Option<String>, Query, description = "The actor's id (a user or an agent key)"),
           ("since" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Events at or after this time (RFC 3339)"),
           ("until" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Events before this time (RFC 3339); must be after `since`, else 400")),
    responses((status = 200, description = "The visible log under the filters, oldest first, streamed")))]
pub async fn export(
    State(st): State<SharedState>,
    s: Person,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    let format = Format::parse(q.format.as_deref())?;
    let chunks = audit::export(&st, &s, format, q.filter())?.map(Ok::<_, Infallible>);
    let disposition = format!(
        "attachment; filename=\"keyhold-audit.{}\"",
        format.extension()
    );
    let headers = [
        (header::CONTENT_TYPE, format.content_type().to_owned()),
        (header::CONTENT_DISPOSITION, disposition),
        (header::CACHE_CONTROL, "no-store".to_owned()),
    ];
    Ok((headers, Body::from_stream(chunks)).into_response())
}

#[utoipa::path(get, path = "/v1/audit/actions", tag = "audit", security(("session" = [])),
    responses((status = 200, body = AuditActions, description = "The distinct actions of the events the caller may read (the tenant's for owners and admins, their own otherwise), sorted")))]
pub async fn actions(State(st): State<SharedState>, s: Person) -> ApiResult<Json<AuditActions>> {
    Ok(Json(audit::actions(&st, &s).await?))
}

#[utoipa::path(get, path = "/v1/audit/stream", tag = "audit", security(("session" = [])),
    params(("severity" = Option<Severity>, Query, description = "The lowest severity to send")),
    responses((status = 200, description = "Server-sent events, one `audit` event per log entry; `Last-Event-ID` replays at most the 1000 newest events"),
              (status = 429, body = keyhold_core::ErrorBody, description = "The session already has 4 live feeds open")))]
pub async fn stream(
    State(st): State<SharedState>,
    s: Person,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<StreamQuery>,
) -> ApiResult<impl IntoResponse> {
    let tail = feeds::audit_tail(&st.vault, s.0, last_event_id(&headers)).await?;
    let min = q.severity.unwrap_or_default();
    let tail = tail.filter(move |e| std::future::ready(e.severity >= min));
    let events = tail.map(|e| {
        let ev = Event::default().id(e.id.to_string()).event("audit");
        Ok::<_, Infallible>(ev.json_data(&e).unwrap_or_default())
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

#[utoipa::path(get, path = "/v1/audit/verify", tag = "audit", security(("session" = [])),
    responses((status = 200, body = AuditVerifyResponse), (status = 403, body = keyhold_core::ErrorBody)))]
pub async fn verify(
    State(st): State<SharedState>,
    s: Admin,
) -> ApiResult<Json<AuditVerifyResponse>> {
    Ok(Json(audit::verify(&st, &s).await?))
}
