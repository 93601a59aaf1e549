//! The HTTP surface: one module per resource, each exporting its routes; the layers every
//! route shares (request id, tracing, timeout, body limit, metrics, panic guard).

pub mod extract;
pub mod guards;
pub mod rate_limit;
pub mod routes;

/// The `Last-Event-ID` a reconnecting live feed sent, if it is text.
pub fn last_event_id(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers.get("last-event-id").and_then(|v| v.to_str().ok())
}

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use keyhold_vault::Error;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

use crate::error::ApiError;
use crate::metrics::{LatencyLabels, RouteLabels};
use crate::state::SharedState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Keyhold API",
        description = "The Keyhold secrets vault. See API.md."
    ),
    paths(
        routes::auth::signup,
        routes::auth::login,
        routes::auth::logout,
        routes::me::me,
        routes::me::change_password,
        routes::me::request_verification,
        routes::auth::verify_email,
        routes::mfa::start_totp,
        routes::mfa::confirm_totp,
        routes::mfa::status,
        routes::mfa::regenerate_backup_codes,
        routes::mfa::disable_totp,
        routes::auth::login_mfa,
        routes::auth::reauth,
        routes::me::security,
        routes::audit::list,
        routes::audit::export,
        routes::audit::stream,
        routes::audit::verify,
        routes::keys::create,
        routes::keys::list,
        routes::keys::revoke,
        routes::keys::revoke_leaked,
        routes::keys::reinstate,
        routes::tokens::issue_token,
        routes::tokens::revoke_token,
        routes::secrets::read,
        routes::secrets::write,
        routes::secrets::remove,
        routes::secrets::list,
        routes::secrets::metadata,
        routes::kek::rotate_kek,
        routes::approvals::create,
        routes::approvals::list,
        routes::approvals::show,
        routes::approvals::approve,
        routes::approvals::deny,
        routes::approvals_feed::stream,
        routes::settings::get_settings,
        routes::settings::put_settings,
        routes::members::list_members,
        routes::members::invite,
        routes::members::set_role,
        routes::members::remove_member,
        routes::invitations::list,
        routes::invitations::revoke,
        routes::recovery::request_reset,
        routes::recovery::confirm_reset,
        routes::recovery::reset_member_mfa,
        routes::me::notifications,
        routes::me::set_notifications,
        routes::webhooks::create,
        routes::webhooks::list,
        routes::webhooks::show,
        routes::webhooks::update,
        routes::webhooks::remove,
        routes::webhooks::rotate_secret,
        routes::webhooks::send_test,
        routes::webhooks::deliveries,
        routes::webhooks::retry,
        routes::alerts::get_rules,
        routes::alerts::put_rules,
        routes::alerts::list,
        routes::alerts::ack,
        routes::blocks::list,
        routes::blocks::lift,
    ),
    components(schemas(keyhold_core::ErrorBody, keyhold_core::api::AuditEvent))
)]
pub struct ApiDoc;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Mark a response as not to be cached: it carries a credential, key, code or secret.
pub fn no_store(inner: impl IntoResponse) -> Response {
    let mut r = inner.into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The method as a metrics label. Why: HTTP allows any token as a method, and a label per
/// method sent would let anyone add series (memory, scrape size) at will; so the standard
/// methods go by name and every other one counts as `OTHER`.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

/// Counts and times each request by method, route template and status, all bounded: the
/// route is the matched template (`/v1/secrets/{*path}`), never the path sent, and every
/// path no route matches is `unmatched`.
async fn record_metrics(State(st): State<SharedState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(req.method());
    let started = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    st.http_metrics
        .requests
        .get_or_create(&RouteLabels {
            method,
            route: route.clone(),
            status,
        })
        .inc();
    st.http_metrics
        .latency
        .get_or_create(&LatencyLabels { route })
        .observe(started.elapsed().as_secs_f64());
    resp
}

async fn timeout(State(st): State<SharedState>, req: Request, next: Next) -> Response {
    let is_stream = matches!(
        req.uri().path(),
        "/v1/audit/stream" | "/v1/approvals/stream"
    );
    let limit = st.config.request_timeout();
    if is_stream {
        return next.run(req).await;
    }
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError(Error::Timeout).into_response(),
    }
}

/// Errors axum produces itself (unknown route, wrong method) in the contract's shape.
async fn contract_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let has_body_type = resp.headers().contains_key(header::CONTENT_TYPE);
    match status.as_u16() {
        404 if !has_body_type => ApiError(Error::NotFound).into_response(),
        405 => {
            let mut r = ApiError(Error::BadRequest(
                "This method is not allowed here.".to_owned(),
            ))
            .into_response();
            *r.status_mut() = status;
            r
        }
        413 => ApiError(Error::PayloadTooLarge).into_response(),
        _ => resp,
    }
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    ApiError(Error::internal(anyhow::anyhow!("handler panicked"))).into_response()
}

pub fn router(state: SharedState) -> Router {
    let body_limit = state.config.body_limit;
    let trace = TraceLayer::new_for_http().make_span_with(|req: &Request| {
        let id = req
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        // Only method, path and the request id: never headers (they carry credentials)
        // and never the query string.
        tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
    });
    Router::new()
        .merge(routes::all())
        .fallback(|| async { ApiError(Error::NotFound) })
        .layer(middleware::from_fn_with_state(state.clone(), timeout))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            rate_limit::limit,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        .layer(middleware::from_fn(contract_errors))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
                .layer(trace)
                .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
                .layer(CatchPanicLayer::custom(panic_response)),
        )
        .with_state(state)
}

/// How long graceful shutdown waits for in-flight requests before giving up.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);
