//! The rate-limit layer: sorts each request into a class, counts it against its buckets
//! (see [`crate::rate_limit`]) and answers 429 `rate_limited` before any handler, password
//! hash or database work when one is empty.
//!
//! Every counted response carries `RateLimit-Limit`, `RateLimit-Remaining` and
//! `RateLimit-Reset` (seconds), as in the IETF httpapi rate-limit headers draft; a 429
//! adds `Retry-After`. Health, readiness, metrics and the OpenAPI document are not counted,
//! so monitoring never locks itself out.
//!
//! A bearer credential is counted against its own bucket only once it has authenticated
//! (see [`crate::rate_limit`]): until then the request counts against its address's
//! anonymous bucket, and the extractor that authenticates it ([`proven`]) counts it
//! against its own as well and remembers it. A made-up credential, however well-formed,
//! never gets a bucket, and one that copies a real key's id does not touch that key's.
//!
//! Every 429 that passes through here (these buckets, the failed-sign-in counter, a full
//! password-hash queue) is sent after a pause of up to [`PAUSE`]. A refusal is cheap, but a
//! client that floods in a closed loop would otherwise get thousands of them a second and
//! take the CPU from everyone else; the pause costs the server nothing but an idle
//! connection and slows such a loop to one request per connection per pause.

use std::sync::{Arc, Mutex};

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
use keyhold_vault::Error;

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

/// The bucket a request's credential has once proven: its class and keyed hash (the
/// credential's HMAC, as stored: the text itself is never kept). `None` for no credential,
/// one that is not well-formed, or a kind that has no bucket of its own.
fn credential_bucket(st: &SharedState, parts: &Parts) -> Option<(Class, String)> {
    if super::signed::is_signed(parts) {
        // A signed request's bucket is its key's at its address: the key id is not a
        // secret, so someone elsewhere naming it in forged requests must not drain (or,
        // by a refusal, un-prove) the agent's bucket. As for a bearer credential, it is
        // used only once a request so signed has authenticated.
        let key_id = super::signed::claimed_key_id(parts)?;
        let at = ip_key(client_ip(parts, &st.config.trusted_proxies));
        let name = format!("signed:{key_id}:{at}");
        return Some((Class::Agent, st.keys.credential_hash(&name)));
    }
    let cred = bearer(parts).and_then(|t| Credential::parse(t).ok())?;
    let class = match cred.kind() {
        CredentialKind::Session => Class::Session,
        CredentialKind::AgentKey | CredentialKind::ScopedToken => Class::Agent,
        _ => return None,
    };
    Some((class, st.keys.credential_hash(cred.expose())))
}

/// Put in a request's extensions when it carries a credential with a bucket of its own:
/// what its extractor does once it knows whether the credential authenticates.
#[derive(Clone)]
pub struct Charge {
    class: Class,
    hash: String,
    /// Already counted against its own bucket (it was proven before this request).
    counted: bool,
    /// The own bucket's verdict when it is counted by the extractor, for the headers.
    verdict: Arc<Mutex<Option<Verdict>>>,
}

/// The request's credential has just authenticated. A credential not yet proven is
/// remembered and counted against its own bucket now (the request was counted against
/// the address's until here); `Err` (429) when that bucket is empty.
pub fn proven(st: &SharedState, parts: &mut Parts) -> Result<(), ApiError> {
    let Some(charge) = parts.extensions.get_mut::<Charge>() else {
        return Ok(());
    };
    if charge.counted {
        return Ok(());
    }
    charge.counted = true;
    st.rate_limits.prove(&charge.hash);
    let Some(v) = st.rate_limits.check(charge.class, &charge.hash) else {
        return Ok(());
    };
    *charge.verdict.lock().unwrap_or_else(|p| p.into_inner()) = Some(v);
    match v.retry_after_secs {
        Some(retry_after_secs) => {
            st.metrics.rate_limited.inc();
            Err(ApiError(Error::RateLimited { retry_after_secs }))
        }
        None => Ok(()),
    }
}

/// The request's credential did not authenticate: if it was proven before (revoked since,
/// expired, signed out), it counts against the anonymous bucket again from the next request.
pub fn refused(st: &SharedState, parts: &Parts) {
    if let Some(charge) = parts.extensions.get::<Charge>() {
        st.rate_limits.forget(&charge.hash);
    }
}

/// The class and key the request is counted against before any handler: a proven
/// credential's own bucket, otherwise the address's anonymous bucket; with the [`Charge`]
/// for the extractor when the request carries a credential with a bucket of its own.
fn caller_key(st: &SharedState, parts: &Parts) -> ((Class, String), Option<Charge>) {
    let anonymous = || {
        (
            Class::Anonymous,
            ip_key(client_ip(parts, &st.config.trusted_proxies)),
        )
    };
    let Some((class, hash)) = credential_bucket(st, parts) else {
        return (anonymous(), None);
    };
    let counted = st.rate_limits.is_proven(&hash);
    let key = if counted {
        (class, hash.clone())
    } else {
        anonymous()
    };
    let charge = Charge {
        class,
        hash,
        counted,
        verdict: Arc::default(),
    };
    (key, Some(charge))
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
        .map_err(|_| ApiError(Error::PayloadTooLarge).into_response())?;
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
    let (mut parts, body) = req.into_parts();
    let ((class, key), charge) = caller_key(st, &parts);
    let own_verdict = charge.as_ref().map(|c| Arc::clone(&c.verdict));
    if let Some(charge) = charge {
        parts.extensions.insert(charge);
    }
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
            ApiError(Error::RateLimited { retry_after_secs }).into_response()
        }
        None => next.run(req).await,
    };
    // A credential proven by this very request was counted against its own bucket too.
    let own = own_verdict.and_then(|v| *v.lock().unwrap_or_else(|p| p.into_inner()));
    let verdict = strictest([verdict].into_iter().chain(own)).unwrap_or(verdict);
    set_headers(&mut resp, &verdict);
    resp
}
