//! `GET /v1/approvals/stream`: the approvals feed (`keyhold_vault::feeds::approvals`) as
//! server-sent events.

use std::convert::Infallible;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures::StreamExt;
use keyhold_vault::feeds;

use crate::error::ApiResult;
use crate::http::guards::Caller;
use crate::http::last_event_id;
use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new().route("/v1/approvals/stream", get(stream))
}

#[utoipa::path(get, path = "/v1/approvals/stream", tag = "approvals", security(("session" = []), ("agent_key" = []), ("token" = [])),
    responses((status = 200, description = "Server-sent events named `approval.requested`, `approval.approved`, `approval.denied`, `approval.expired` and `approval.used`, each carrying the request"),
              (status = 403, body = keyhold_core::ErrorBody)))]
pub async fn stream(
    State(st): State<SharedState>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    let feed = feeds::approvals(&st.vault, caller.0, last_event_id(&headers)).await?;
    let events = feed.map(|(id, name, a)| {
        let ev = Event::default().id(id.to_string()).event(name);
        Ok::<_, Infallible>(ev.json_data(&a).unwrap_or_default())
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
