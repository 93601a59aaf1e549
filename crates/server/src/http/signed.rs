//! Requests signed with an Ed25519 agent key (RFC 9421, docs/credentials.md): what the
//! HTTP layer contributes before the vault (`keyhold_vault::signed_requests`) decides.
//!
//! - [`buffer_body`], a layer: a request carrying `Signature-Input` has its body read here
//!   (within the body limit) and put back, so its `Content-Digest` can be checked against
//!   the exact bytes the handler then reads.
//! - [`authenticate`]: the request's covered components as the signer saw them. The
//!   `@target-uri` is rebuilt from the scheme this server is reached by (HTTPS when it
//!   serves TLS, or what a trusted proxy's `X-Forwarded-Proto` says), the `Host` the
//!   client sent, and the path and query as received: a proxy in front must pass `Host`
//!   through unchanged.

use std::net::IpAddr;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use keyhold_core::httpsig::RequestView;
use keyhold_vault::store::KeyRecord;
use keyhold_vault::{Error, signed_requests};

use crate::error::ApiError;
use crate::state::SharedState;

pub const SIGNATURE_INPUT: &str = "signature-input";

/// The body of a signed request, as read by [`buffer_body`].
#[derive(Clone)]
pub struct SignedBody(pub Bytes);

/// Whether the request is signed (and not also carrying a bearer credential, which wins).
pub fn is_signed(parts: &Parts) -> bool {
    parts.headers.contains_key(SIGNATURE_INPUT)
        && !parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
}

/// Layer: buffer a signed request's body (see the module doc).
pub async fn buffer_body(State(st): State<SharedState>, req: Request, next: Next) -> Response {
    if !req.headers().contains_key(SIGNATURE_INPUT) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, st.config.body_limit).await else {
        return ApiError(Error::PayloadTooLarge).into_response();
    };
    let mut req = Request::from_parts(parts, Body::from(bytes.clone()));
    req.extensions_mut().insert(SignedBody(bytes));
    next.run(req).await
}

/// A field's value as RFC 9421 §2.1 covers it: every line trimmed, joined by ", ".
fn combined(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().map(str::trim))
        .collect::<Result<_, _>>()
        .ok()?;
    (!values.is_empty()).then(|| values.join(", "))
}

fn scheme(st: &SharedState, parts: &Parts) -> &'static str {
    let peer_trusted = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .is_some_and(|c| {
            let ip = c.0.ip().to_canonical();
            st.config.trusted_proxies.iter().any(|n| n.contains(&ip))
        });
    let forwarded = combined(&parts.headers, "x-forwarded-proto");
    match forwarded.as_deref() {
        Some(p) if peer_trusted && p.eq_ignore_ascii_case("https") => "https",
        Some(p) if peer_trusted && p.eq_ignore_ascii_case("http") => "http",
        _ if st.config.tls_files().is_some() => "https",
        _ => "http",
    }
}

/// Authenticate a signed request as its agent key.
pub async fn authenticate(
    st: &SharedState,
    parts: &Parts,
    ip: Option<IpAddr>,
) -> Result<KeyRecord, Error> {
    let headers = &parts.headers;
    let text = |name| combined(headers, name).unwrap_or_default();
    let (signature_input, signature) = (text(SIGNATURE_INPUT), text("signature"));
    let authority = combined(headers, "host")
        .or_else(|| parts.uri.authority().map(|a| a.as_str().to_owned()))
        .unwrap_or_default();
    let lookup = |name: &str| combined(headers, name);
    let body = parts
        .extensions
        .get::<SignedBody>()
        .map(|b| b.0.as_ref())
        .filter(|b| !b.is_empty());
    let req = signed_requests::SignedRequest {
        signature_input: &signature_input,
        signature: &signature,
        view: RequestView {
            method: parts.method.as_str(),
            scheme: scheme(st, parts),
            authority: &authority,
            path: parts.uri.path(),
            query: parts.uri.query(),
            header: &lookup,
        },
        body,
    };
    signed_requests::authenticate(st, &req, ip).await
}

/// The key id a signed request names, for its rate-limit bucket (`http::rate_limit`):
/// like a bearer credential, it gets a bucket of its own only once it has authenticated.
pub fn claimed_key_id(parts: &Parts) -> Option<String> {
    let input = combined(&parts.headers, SIGNATURE_INPUT)?;
    let sig = combined(&parts.headers, "signature").unwrap_or_default();
    keyhold_core::httpsig::parse(&input, &sig)
        .ok()
        .map(|p| p.keyid)
}
