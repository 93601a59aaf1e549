//! Extractors: the JSON body and query wrappers, the caller's address, the bearer
//! credential. Who may call a handler is said by the guards in `guards`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use ipnet::IpNet;
use keyhold_vault::Error;
use keyhold_vault::audit::ClientInfo;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::SharedState;

/// `Json<T>` whose rejections are the contract's error body: unreadable JSON is 400, a
/// wrong content type 415, a body over the limit 413, and a well-formed body that is not
/// an object, or has missing, extra or mistyped fields, 422.
pub struct ApiJson<T>(pub T);

/// Whether the request says its body is JSON (`application/json` or `application/*+json`),
/// as axum's `Json` decides.
fn says_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(essence) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
    else {
        return false;
    };
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !says_json(req.headers()) {
            return Err(ApiError(Error::UnsupportedMediaType));
        }
        let bytes = match axum::body::Bytes::from_request(req, state).await {
            Ok(b) => b,
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ApiError(Error::PayloadTooLarge));
            }
            Err(_) => {
                return Err(ApiError(Error::BadRequest(
                    "The request body could not be read.".to_owned(),
                )));
            }
        };
        match axum::Json::<T>::from_bytes(&bytes) {
            // serde reads a struct from an array too (`[null, null]` fills the fields in
            // order); every body here is an object, so an array that parsed is refused.
            Ok(_) if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') => Err(
                ApiError(Error::invalid("The request body must be a JSON object.")),
            ),
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(ApiError(match rejection {
                JsonRejection::MissingJsonContentType(_) => Error::UnsupportedMediaType,
                JsonRejection::JsonDataError(e) => Error::invalid(format!(
                    "The request body does not match what this endpoint expects: {}",
                    e.body_text().trim_start_matches(
                        "Failed to deserialize the JSON body into the target type: "
                    )
                )),
                JsonRejection::JsonSyntaxError(_) => {
                    Error::BadRequest("The request body is not valid JSON.".to_owned())
                }
                JsonRejection::BytesRejection(e)
                    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
                {
                    Error::PayloadTooLarge
                }
                _ => Error::BadRequest("The request body could not be read.".to_owned()),
            })),
        }
    }
}

/// The caller's address: the socket peer, unless the peer is one of the `trusted`
/// proxies, in which case `X-Forwarded-For` is walked from the right past every trusted
/// hop and the first untrusted address counts. A forged header from anyone else changes
/// nothing. IP allowlists, per-IP limits and the audit log all use this one answer.
pub fn client_ip(parts: &Parts, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()?
        .0
        .ip()
        .to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let hops: Vec<&str> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut addr = peer;
    for hop in hops.iter().rev() {
        if !is_trusted(&addr) {
            break;
        }
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => addr = ip.to_canonical(),
            Err(_) => break,
        }
    }
    Some(addr)
}

/// The caller's address and user agent, for the audit log and per-IP limits.
pub struct Client(pub ClientInfo);

impl FromRequestParts<SharedState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        st: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let ip = client_ip(parts, &st.config.trusted_proxies).map(|ip| ip.to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(256).collect());
        Ok(Client(ClientInfo { ip, user_agent }))
    }
}

/// The bearer credential's text, if the request carries one.
pub fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// `Query<T>` whose rejection is the contract's 400 body.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e| {
                ApiError(Error::BadRequest(format!(
                    "The query string is not valid: {}",
                    e.body_text()
                )))
            })
    }
}
