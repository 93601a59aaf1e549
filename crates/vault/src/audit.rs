//! The audit log from the domain's side. Writing: every security-relevant action hands
//! the store a [`NewEvent`] to commit with it (security invariant 7); the record and its
//! hash chain belong to the store (`crate::store::event`), which writes them, and are
//! re-exported here so the store never imports the domain. Reading: who sees which
//! events, pages of them, the whole visible log as an export (JSON lines or CSV), and the
//! check of a tenant's hash chain, so the server's handlers only pass the caller and the
//! query through.

use std::sync::Arc;

use futures::Stream;
use keyhold_core::api::{AuditActions, AuditEvent, AuditQuery, AuditVerifyResponse, Page};

pub use crate::store::event::{ActorKind, ClientInfo, NewEvent, Outcome};

use crate::Vault;
use crate::auth::Session;
use crate::error::{Error, Result};
use crate::paging;
use crate::store::{AuditScope, Store};

/// What a person may read: the whole tenant's log for admins and owners, their own
/// actions for everyone else.
pub fn scope_of(s: &Session) -> AuditScope {
    if s.user.role.is_admin() {
        AuditScope::Tenant(s.tenant_id().to_owned())
    } else {
        AuditScope::Actor {
            tenant_id: s.tenant_id().to_owned(),
            actor_id: s.user.id.clone(),
        }
    }
}

/// A time range that ends before it starts is a mistake to say, not an empty answer
/// that looks like a quiet log.
fn check_range(q: &AuditQuery) -> Result<()> {
    match (q.since, q.until) {
        (Some(since), Some(until)) if since >= until => {
            Err(Error::BadRequest("since must be before until.".to_owned()))
        }
        _ => Ok(()),
    }
}

/// Whether `e` passes the filters of `q` (all but the page's limit and cursor): the export
/// applies, event by event, what a page's query applies in the store, so "export this
/// view" gives exactly the events the screen shows.
fn matches(q: &AuditQuery, e: &AuditEvent) -> bool {
    let action = q
        .action
        .as_deref()
        .is_none_or(|a| match a.strip_suffix('*') {
            Some(prefix) => e.action.starts_with(prefix),
            None => e.action == a,
        });
    action
        && q.actor
            .as_deref()
            .is_none_or(|a| e.actor.id.as_deref() == Some(a))
        && q.since.is_none_or(|t| e.at >= t)
        && q.until.is_none_or(|t| e.at < t)
        && q.severity.is_none_or(|m| e.severity >= m)
}

/// The distinct actions of the events `s` may read (their own, or the tenant's for
/// admins), for the audit screen's action filter.
pub async fn actions(v: &Vault, s: &Session) -> Result<AuditActions> {
    let actions = v.store.audit_actions(&scope_of(s)).await?;
    Ok(AuditActions { actions })
}

/// One page of the visible log, newest first, with the cursor of the next.
pub async fn page(v: &Vault, s: &Session, q: &AuditQuery) -> Result<Page<AuditEvent>> {
    check_range(q)?;
    let limit = paging::limit(q.limit)?;
    let before = q
        .cursor
        .as_deref()
        .map(|c| {
            paging::decode_cursor('a', c)?
                .parse::<i64>()
                .map_err(|_| Error::BadRequest("The cursor is not valid.".to_owned()))
        })
        .transpose()?;
    let items = v.store.audit_page(&scope_of(s), q, before, limit).await?;
    let next_cursor = paging::next_cursor(&items, limit, 'a', |e| e.id.to_string());
    Ok(Page { items, next_cursor })
}

/// Checks the tenant's hash chain (admins and owners: the server's `Admin` guard).
pub async fn verify(v: &Vault, s: &Session) -> Result<AuditVerifyResponse> {
    let r = v.store.audit_verify(s.tenant_id()).await?;
    Ok(AuditVerifyResponse {
        ok: r.ok,
        checked: r.checked,
        first_bad: r.first_bad,
    })
}

/// The export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    JsonLines,
    Csv,
}

impl Format {
    /// `json` (JSON lines, the default) or `csv`.
    pub fn parse(name: Option<&str>) -> Result<Self> {
        match name.unwrap_or("json") {
            "json" => Ok(Self::JsonLines),
            "csv" => Ok(Self::Csv),
            _ => Err(Error::BadRequest("format must be json or csv.".to_owned())),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::JsonLines => "application/x-ndjson",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::JsonLines => "jsonl",
            Self::Csv => "csv",
        }
    }
}

/// The CSV columns, in order.
const CSV_HEADER: [&str; 11] = [
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
    "severity",
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

fn csv_cells(e: &AuditEvent) -> [String; 11] {
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
        e.severity.as_str().to_owned(),
    ]
    .map(neutralised)
}

/// CSV records (RFC 4180: CRLF endings, quotes only where needed) for `rows`.
fn csv_chunk(rows: impl IntoIterator<Item = [String; 11]>) -> Result<Vec<u8>, csv::Error> {
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

/// The visible log under `filter` (its limit and cursor are ignored), oldest first, as
/// chunks of the export's bytes: read 500 events at a time so memory stays flat however
/// long it is. A failure midway ends the stream (and is logged): the export is then
/// visibly short, never padded. A bad range is refused before anything is sent.
pub fn export(
    v: &Vault,
    s: &Session,
    format: Format,
    filter: AuditQuery,
) -> Result<impl Stream<Item = Vec<u8>> + use<>> {
    check_range(&filter)?;
    let store: Arc<dyn Store> = v.store.clone();
    let scope = scope_of(s);
    let header = match format {
        Format::Csv => csv_chunk([CSV_HEADER.map(str::to_owned)])
            .map_err(|e| tracing::error!(error = %e, "audit export"))
            .ok(),
        Format::JsonLines => None,
    };
    let filter = Arc::new(filter);
    let pages = futures::stream::unfold(Some(0i64), move |after| {
        let store = store.clone();
        let scope = scope.clone();
        let filter = filter.clone();
        async move {
            let after = after?;
            let events = match store.audit_after(&scope, after, 500).await {
                Ok(events) if events.is_empty() => return None,
                Ok(events) => events,
                Err(e) => {
                    tracing::error!(error = %e, "audit export stopped early");
                    return None;
                }
            };
            let last = events.last().map(|e| e.id);
            let kept: Vec<AuditEvent> =
                events.into_iter().filter(|e| matches(&filter, e)).collect();
            match render(&kept, format) {
                Ok(chunk) => Some((chunk, last)),
                Err(e) => {
                    tracing::error!(error = %e, "audit export stopped early");
                    None
                }
            }
        }
    });
    Ok(futures::StreamExt::chain(
        futures::stream::iter(header),
        pages,
    ))
}
