//! The rate-limit layer: sorts each request into a class, counts it against its buckets
//! (see [`crate::rate_limit`]) and answers 429 `rate_limited` before any handler, password
//! hash or database work when one is empty.
//!
//! Every counted response carries `RateLimit-Limit`, `RateLimit-Remaining` and
//! `RateLimit-Reset` (seconds), as in the IETF httpapi rate-limit headers draft; a 429
//! adds `Retry-After`. Health, readiness, metrics and the OpenAPI document are not counted,
//! so monitoring never locks itself out.
//!
//! Every 429 that passes through here (these buckets, the failed-sign-in counter, a full
//! password-hash queue) is sent after a pause of up to [`PAUSE`]. A refusal is cheap, but a
//! client that floods in a closed loop would otherwise get thousands of them a second and
//! take the CPU from everyone else; the pause costs the server nothing but an idle
//! connection and slows such a loop to one request per connection per pause.

use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use keyhold_core::credential::{Credential, CredentialKind};
use keyhold_core::email::Email;

use super::extract::{bearer, client_ip};
use crate::error::ApiError;
use crate::rate_limit::{Class, Verdict, ip_key, strictest};
use crate::state::SharedState;

static LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
static REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
static RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// The longest a 429 is held back (never longer than its own `Retry-After`).
pub const PAUSE: std::time::Duration = std::time::Duration::from_secs(1);

const LOGIN: &str = "/v1/auth/login";
const LOGIN_MFA: &str = "/v1/auth/login/mfa";

fn exempt(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics" | "/openapi.json")
}

/// The class and key of the credential the request carries, or its address when it has
/// none (or one that is not even well-formed, so made-up credentials share one bucket).
fn caller_key(st: &SharedState, parts: &Parts) -> (Class, String) {
    let ip = || ip_key(client_ip(parts, &st.config.trusted_proxies));
    let Some(cred) = bearer(parts).and_then(|t| Credential::parse(t).ok()) else {
        return (Class::Anonymous, ip());
    };
    // Keyed by the credential's HMAC, as stored: the text itself is never kept.
    let hashed = || st.keys.credential_hash(cred.expose());
    match cred.kind() {
        CredentialKind::Session => (Class::Session, hashed()),
        CredentialKind::AgentKey | CredentialKind::ScopedToken => (
            Class::Agent,
            cred.embedded_id().map_or_else(hashed, str::to_owned),
        ),
        _ => (Class::Anonymous, ip()),
    }
}

/// Just the fields the per-account and per-ticket keys need; the handler reads the body
/// again with its own strict type.
#[derive(serde::Deserialize)]
struct LoginFields {
    email: Option<String>,
    mfa_ticket: Option<String>,
}

/// The per-account (sign-in) or per-ticket (second factor) key from the body, which is
/// buffered (within the body limit) and put back for the handler.
async fn login_key(
    st: &SharedState,
    path: &str,
    req: Request,
) -> Result<(Option<(Class, String)>, Request), Response> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, st.config.body_limit)
        .await
        .map_err(|_| ApiError::PayloadTooLarge.into_response())?;
    let fields = serde_json::from_slice::<LoginFields>(&bytes).ok();
    let key = match (path, fields) {
        (LOGIN, Some(LoginFields { email: Some(e), .. })) => {
            // The same normal form the store's failure counter uses.
            let key = Email::parse(&e).map_or_else(
                |_| e.trim().to_lowercase(),
                |email| email.as_str().to_owned(),
            );
            Some((Class::Login, key))
        }
        (
            LOGIN_MFA,
            Some(LoginFields {
                mfa_ticket: Some(t),
                ..
            }),
        ) => Some((Class::Mfa, st.keys.credential_hash(&t))),
        _ => None,
    };
    Ok((
        key,
        Request::from_parts(parts, axum::body::Body::from(bytes)),
    ))
}

fn set_headers(resp: &mut Response, v: &Verdict) {
    let h = resp.headers_mut();
    for (name, value) in [
        (&LIMIT, u64::from(v.limit)),
        (&REMAINING, u64::from(v.remaining)),
        (&RESET, v.reset_secs),
    ] {
        h.insert(name.clone(), HeaderValue::from(value));
    }
}

pub async fn limit(State(st): State<SharedState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if exempt(&path) {
        return next.run(req).await;
    }
    let resp = limited(&st, &path, req, next).await;
    if resp.status() == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = resp
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .map_or(PAUSE, std::time::Duration::from_secs);
        tokio::time::sleep(retry_after.min(PAUSE)).await;
    }
    resp
}

async fn limited(st: &SharedState, path: &str, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let (class, key) = caller_key(st, &parts);
    let mut req = Request::from_parts(parts, body);
    let mut keys = vec![(class, key)];
    if req.method() == Method::POST && (path == LOGIN || path == LOGIN_MFA) {
        match login_key(st, path, req).await {
            Ok((extra, r)) => {
                keys.extend(extra);
                req = r;
            }
            Err(resp) => return resp,
        }
    }
    let verdict = strictest(
        keys.iter()
            .filter_map(|(class, key)| st.rate_limits.check(*class, key)),
    );
    let Some(verdict) = verdict else {
        return next.run(req).await;
    };
    let mut resp = match verdict.retry_after_secs {
        Some(retry_after_secs) => {
            st.metrics.rate_limited.inc();
            ApiError::RateLimited { retry_after_secs }.into_response()
        }
        None => next.run(req).await,
    };
    set_headers(&mut resp, &verdict);
    resp
}
