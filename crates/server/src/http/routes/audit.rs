//! `/v1/audit*`: list, export, live tail and chain verification.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::Stream;
use keyhold_core::api::{AuditEvent, AuditQuery, AuditVerifyResponse, Page};
use keyhold_vault::auth::Session;
use keyhold_vault::store::AuditScope;
use keyhold_vault::{Error, live, paging};
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiQuery;
use crate::http::guards::{Admin, Person};
use crate::http::last_event_id;
use crate::state::SharedState;

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
    s: Person,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Page<AuditEvent>>> {
    let limit = paging::limit(q.limit)?;
    let before = q
        .cursor
        .as_deref()
        .map(|c| {
            paging::decode_cursor('a', c)?
                .parse::<i64>()
                .map_err(|_| ApiError(Error::BadRequest("The cursor is not valid.".to_owned())))
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

/// The CSV columns, in order.
const CSV_HEADER: [&str; 10] = [
    "id",
    "at",
    "actor_type",
    "actor_id",
    "action",
    "target",
    "outcome",
    "ip",
    "user_agent",
    "detail",
];

/// A cell as written to the CSV file. Why: a spreadsheet runs a cell that starts with
/// `=`, `+`, `-` or `@` (or a tab or carriage return before one) as a formula, and several
/// columns hold text the caller chose (user agent, key names and reasons in `detail`), so a
/// crafted `=HYPERLINK(...)` would run on the auditor's machine. Such cells get a leading
/// `'`, as OWASP recommends for CSV injection; quoting is the `csv` crate's.
fn neutralised(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

fn csv_cells(e: &AuditEvent) -> [String; 10] {
    [
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
    ]
    .map(neutralised)
}

/// CSV records (RFC 4180: CRLF endings, quotes only where needed) for `rows`.
fn csv_chunk(rows: impl IntoIterator<Item = [String; 10]>) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for row in rows {
        w.write_record(&row)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

fn render(events: &[AuditEvent], f: Format) -> anyhow::Result<Vec<u8>> {
    match f {
        Format::JsonLines => {
            let mut out = Vec::new();
            for e in events {
                serde_json::to_writer(&mut out, e)?;
                out.push(b'\n');
            }
            Ok(out)
        }
        Format::Csv => Ok(csv_chunk(events.iter().map(csv_cells))?),
    }
}

#[utoipa::path(get, path = "/v1/audit/export", tag = "audit",
    params(("format" = Option<String>, Query, description = "json (JSON lines) or csv")),
    responses((status = 200, description = "The visible log, oldest first, streamed")))]
pub async fn export(
    State(st): State<SharedState>,
    s: Person,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    let (format, content_type, ext) = match q.format.as_deref().unwrap_or("json") {
        "json" => (Format::JsonLines, "application/x-ndjson", "jsonl"),
        "csv" => (Format::Csv, "text/csv; charset=utf-8", "csv"),
        _ => {
            return Err(Error::BadRequest("format must be json or csv.".to_owned()).into());
        }
    };
    let store = st.store.clone();
    let scope = scope_of(&s);
    let header_chunk = match format {
        Format::Csv => Some(csv_chunk([CSV_HEADER.map(str::to_owned)])),
        Format::JsonLines => None,
    }
    .and_then(|chunk| {
        chunk
            .map_err(|e| tracing::error!(error = %e, "audit export"))
            .ok()
    })
    .map(Ok::<_, Infallible>);
    // Page through the log 500 events at a time so memory stays flat however long it is.
    let pages = futures::stream::unfold(Some(0i64), move |after| {
        let store = store.clone();
        let scope = scope.clone();
        async move {
            let after = after?;
            match store.audit_after(&scope, after, 500).await {
                Ok(events) if events.is_empty() => None,
                Ok(events) => match render(&events, format) {
                    Ok(chunk) => {
                        let next = events.last().map(|e| e.id);
                        Some((Ok::<_, Infallible>(chunk), next))
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "audit export stopped early");
                        None
                    }
                },
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
    session: Person,
    scope: AuditScope,
    after: i64,
    pacer: live::Pacer,
    pending: std::collections::VecDeque<AuditEvent>,
    /// Held for as long as the tail is open (dropped with the stream).
    _slot: live::FeedSlot,
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
    responses((status = 200, description = "Server-sent events, one `audit` event per log entry; `Last-Event-ID` replays at most the 1000 newest events"),
              (status = 429, body = keyhold_core::ErrorBody, description = "The session already has 4 live feeds open")))]
pub async fn stream(
    State(st): State<SharedState>,
    s: Person,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    let slot = st.feeds.take(live::session_credential(&s))?;
    let watch = st.store.tenant_audit_watch(s.tenant_id());
    let scope = scope_of(&s);
    // Resume after Last-Event-ID (within the replay window) when the client reconnects;
    // otherwise start at "now".
    let head = *watch.borrow();
    let after = live::resume_after(&st, &scope, last_event_id(&headers), head).await?;
    let tail = Tail {
        scope,
        st,
        session: s,
        after,
        pacer: live::Pacer::new(watch),
        pending: Default::default(),
        _slot: slot,
    };
    Ok(Sse::new(tail_stream(tail)).keep_alive(KeepAlive::default()))
}

#[utoipa::path(get, path = "/v1/audit/verify", tag = "audit",
    responses((status = 200, body = AuditVerifyResponse), (status = 403, body = keyhold_core::ErrorBody)))]
pub async fn verify(
    State(st): State<SharedState>,
    s: Admin,
) -> ApiResult<Json<AuditVerifyResponse>> {
    let v = st.store.audit_verify(s.tenant_id()).await?;
    Ok(Json(AuditVerifyResponse {
        ok: v.ok,
        checked: v.checked,
        first_bad: v.first_bad,
    }))
}
