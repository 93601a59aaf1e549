//! keyhold-client: a typed async client for the Keyhold HTTP API.
//!
//! Used by the CLI, the desktop app and the tests. Every error the server sends comes back
//! as [`ClientError::Api`] with the contract's code, so callers match on codes, not text.
//! `http://` is refused for anything but loopback hosts (security invariant 8).

use keyhold_core::api::{
    ChangePasswordRequest, LoginRequest, MeResponse, SessionResponse, SignupRequest,
    SignupResponse, VerifyEmailRequest,
};
use keyhold_core::{ErrorBody, ErrorCode, Sensitive};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with the contract's error body.
    #[error("{message}")]
    Api {
        status: u16,
        code: ErrorCode,
        message: String,
        extra: serde_json::Map<String, serde_json::Value>,
        /// Seconds from `Retry-After`, on 429.
        retry_after: Option<u64>,
    },
    /// The server could not be reached.
    #[error("cannot reach the Keyhold server at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The server's answer was not what the contract says.
    #[error("unexpected answer from the server (HTTP {status})")]
    Protocol { status: u16 },
    /// The server answered with a redirect. No redirect is ever followed: a 307 or 308
    /// would re-send the request (a password, a secret value, a credential) to wherever it
    /// points.
    #[error(
        "the server at {url} answered with a redirect (HTTP {status}{}); Keyhold follows no \
         redirects, so nothing was sent there. Use the server's own address",
        to_where(.location)
    )]
    Redirected {
        url: String,
        status: u16,
        location: Option<String>,
    },
    /// The URL given is not usable.
    #[error("{0}")]
    BadUrl(String),
    /// The CA certificate file given to trust is not usable.
    #[error("{0}")]
    BadCaFile(String),
    /// An Ed25519 key that cannot be read or used to sign.
    #[error("{0}")]
    BadKey(String),
}

/// ` to LOCATION` for a redirect's message, or nothing when it named no place.
fn to_where(location: &Option<String>) -> String {
    location
        .as_deref()
        .map(|l| format!(" to {l}"))
        .unwrap_or_default()
}

impl ClientError {
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. }
            | Self::Protocol { status }
            | Self::Redirected { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// An extra field of the error body, whatever its JSON type.
    pub fn extra(&self, key: &str) -> Option<&serde_json::Value> {
        match self {
            Self::Api { extra, .. } => extra.get(key),
            _ => None,
        }
    }

    /// A string extra field of the error body (`mfa_ticket`, `approval_id`...).
    pub fn extra_str(&self, key: &str) -> Option<&str> {
        match self {
            Self::Api { extra, .. } => extra.get(key).and_then(|v| v.as_str()),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, ClientError>;

/// The result of a password sign-in: a session, or a ticket for the 2FA step.
#[derive(Debug)]
pub enum LoginOutcome {
    Session(SessionResponse),
    MfaRequired { mfa_ticket: Sensitive<String> },
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: Option<Sensitive<String>>,
    /// Signs each request (an Ed25519 agent key) instead of a bearer credential.
    signer: Option<std::sync::Arc<signing::Signer>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field(
                "authenticated",
                &(self.token.is_some() || self.signer.is_some()),
            )
            .finish()
    }
}

/// The HTTP client every [`Client`] uses: public roots plus `extra_roots`, and no
/// redirects followed (a 3xx becomes [`ClientError::Redirected`]): reqwest would re-send a
/// 307's body, a password or a secret value, to wherever it points.
fn http_client(extra_roots: Vec<reqwest::Certificate>) -> Result<reqwest::Client> {
    extra_roots
        .into_iter()
        .fold(reqwest::Client::builder(), |b, root| {
            b.add_root_certificate(root)
        })
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("keyhold-client/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(5))
        .build()
        .map_err(|e| ClientError::BadUrl(e.to_string()))
}

/// Parse a server URL and refuse plain HTTP to anything but a loopback host.
pub fn check_server_url(url: &str) -> Result<Url> {
    let u = Url::parse(url.trim()).map_err(|e| ClientError::BadUrl(format!("Server URL: {e}.")))?;
    match u.scheme() {
        "https" => Ok(u),
        "http" => {
            let loopback = match u.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if loopback {
                Ok(u)
            } else {
                Err(ClientError::BadUrl(
                    "Plain http:// is only allowed for this computer (localhost); use https://."
                        .to_owned(),
                ))
            }
        }
        other => Err(ClientError::BadUrl(format!(
            "Server URL must start with https:// (or http:// for localhost), not {other}://."
        ))),
    }
}

impl Client {
    pub fn new(base_url: &str) -> Result<Self> {
        Self::build(check_server_url(base_url)?)
    }

    /// Like [`Client::new`] but allows `http://` to any host. Only for an operator who
    /// asked for it explicitly (`--insecure-http`): credentials then travel in clear.
    pub fn new_allow_insecure(base_url: &str) -> Result<Self> {
        let base = Url::parse(base_url.trim())
            .map_err(|e| ClientError::BadUrl(format!("Server URL: {e}.")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(ClientError::BadUrl(
                "Server URL must start with http:// or https://.".into(),
            ));
        }
        Self::build(base)
    }

    fn build(base: Url) -> Result<Self> {
        Ok(Self {
            http: http_client(Vec::new())?,
            base,
            token: None,
            signer: None,
        })
    }

    /// The same client, also trusting the CA certificates in `ca_file` (PEM, one or more)
    /// for HTTPS: for a server whose certificate comes from a private CA. The public roots
    /// stay trusted; `None` changes nothing.
    pub fn trusting_ca_file(self, ca_file: Option<&std::path::Path>) -> Result<Self> {
        let Some(path) = ca_file else {
            return Ok(self);
        };
        let pem = std::fs::read(path).map_err(|e| {
            ClientError::BadCaFile(format!(
                "Cannot read the CA certificate file {}: {e}.",
                path.display()
            ))
        })?;
        let roots = reqwest::Certificate::from_pem_bundle(&pem)
            .ok()
            .filter(|certs| !certs.is_empty())
            .ok_or_else(|| {
                ClientError::BadCaFile(format!(
                    "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----).",
                    path.display()
                ))
            })?;
        Ok(Self {
            http: http_client(roots)?,
            ..self
        })
    }

    /// The same client, authenticating with `token` (a `khs_`, `kha_` or `kht_` credential).
    pub fn with_token(&self, token: impl Into<String>) -> Self {
        Self {
            http: self.http.clone(),
            base: self.base.clone(),
            token: Some(Sensitive::new(token.into())),
            signer: None,
        }
    }

    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_ref().map(|t| t.expose().as_str())
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|e| ClientError::BadUrl(e.to_string()))
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> Result<RequestBuilder> {
        let mut rb = self.http.request(method, self.url(path)?);
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t.expose());
        }
        Ok(rb)
    }

    /// A request to `path` followed by `segments`, each percent-encoded on its own: an id
    /// typed by a person can then never reach another route (`../`, `?`, `#`).
    pub(crate) fn request_segments(
        &self,
        method: Method,
        path: &str,
        segments: &[&str],
    ) -> Result<RequestBuilder> {
        let mut url = self.url(path)?;
        url.path_segments_mut()
            .map_err(|()| ClientError::BadUrl("The server URL cannot take a path.".to_owned()))?
            .pop_if_empty()
            .extend(segments);
        let mut rb = self.http.request(method, url);
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t.expose());
        }
        Ok(rb)
    }

    /// [`Client::request_segments`] with one segment.
    pub(crate) fn request_segment(
        &self,
        method: Method,
        path: &str,
        segment: &str,
    ) -> Result<RequestBuilder> {
        self.request_segments(method, path, &[segment])
    }

    pub(crate) async fn send(&self, rb: RequestBuilder) -> Result<Response> {
        let unreachable = |e: reqwest::Error| ClientError::Unreachable {
            url: self.base.to_string(),
            reason: e.without_url().to_string(),
        };
        let resp = match &self.signer {
            Some(signer) => {
                let mut req = rb.build().map_err(|e| ClientError::BadUrl(e.to_string()))?;
                signer.sign(&mut req)?;
                self.http.execute(req).await.map_err(unreachable)?
            }
            None => rb.send().await.map_err(unreachable)?,
        };
        if resp.status().is_success() {
            return Ok(resp);
        }
        if resp.status().is_redirection() {
            return Err(ClientError::Redirected {
                url: self.base.to_string(),
                status: resp.status().as_u16(),
                location: resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
            });
        }
        Err(decode_error(resp).await)
    }

    pub(crate) async fn json<T: DeserializeOwned>(&self, rb: RequestBuilder) -> Result<T> {
        let resp = self.send(rb).await?;
        let status = resp.status().as_u16();
        resp.json::<T>()
            .await
            .map_err(|_| ClientError::Protocol { status })
    }

    pub(crate) async fn empty(&self, rb: RequestBuilder) -> Result<()> {
        self.send(rb).await.map(|_| ())
    }

    /// GET any path and return the raw response (for endpoints that stream).
    pub async fn get_raw(&self, path: &str) -> Result<Response> {
        self.send(self.request(Method::GET, path)?).await
    }

    pub async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.json(self.request(Method::POST, path)?.json(body))
            .await
    }

    pub async fn healthz(&self) -> Result<()> {
        self.empty(self.request(Method::GET, "/healthz")?).await
    }

    pub async fn signup(&self, req: &SignupRequest) -> Result<SignupResponse> {
        self.post_json("/v1/auth/signup", req).await
    }

    /// Sign in with a password. `Ok(MfaRequired)` when 2FA is on: finish with
    /// [`Client::login_mfa`].
    pub async fn login(&self, email: &str, password: &str) -> Result<LoginOutcome> {
        let req = LoginRequest {
            email: email.to_owned(),
            password: Sensitive::new(password.to_owned()),
        };
        match self
            .post_json::<_, SessionResponse>("/v1/auth/login", &req)
            .await
        {
            Ok(s) => Ok(LoginOutcome::Session(s)),
            Err(e) if e.code() == Some(ErrorCode::MfaRequired) => {
                let ticket = e.extra_str("mfa_ticket").map(str::to_owned);
                match ticket {
                    Some(t) => Ok(LoginOutcome::MfaRequired {
                        mfa_ticket: Sensitive::new(t),
                    }),
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    pub async fn logout(&self) -> Result<()> {
        self.empty(self.request(Method::POST, "/v1/auth/logout")?)
            .await
    }

    pub async fn me(&self) -> Result<MeResponse> {
        self.json(self.request(Method::GET, "/v1/me")?).await
    }

    pub async fn change_password(&self, current: &str, new: &str) -> Result<()> {
        let body = ChangePasswordRequest {
            current_password: Sensitive::new(current.to_owned()),
            new_password: Sensitive::new(new.to_owned()),
        };
        self.empty(self.request(Method::PUT, "/v1/me/password")?.json(&body))
            .await
    }

    pub async fn request_email_verification(&self) -> Result<()> {
        self.empty(self.request(Method::POST, "/v1/me/email/verification")?)
            .await
    }

    pub async fn verify_email(&self, token: &str) -> Result<()> {
        let body = VerifyEmailRequest {
            token: Sensitive::new(token.to_owned()),
        };
        self.empty(
            self.request(Method::POST, "/v1/auth/verify-email")?
                .json(&body),
        )
        .await
    }
}

async fn decode_error(resp: Response) -> ClientError {
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    match resp.json::<ErrorBody>().await {
        Ok(b) => ClientError::Api {
            status: status.as_u16(),
            code: b.error.code,
            message: b.error.message,
            extra: b.error.extra,
            retry_after,
        },
        Err(_) if status == StatusCode::TOO_MANY_REQUESTS => ClientError::Api {
            status: 429,
            code: ErrorCode::RateLimited,
            message: "Too many requests.".to_owned(),
            extra: Default::default(),
            retry_after,
        },
        Err(_) => ClientError::Protocol {
            status: status.as_u16(),
        },
    }
}

mod approvals;
mod audit;
mod detect;
mod keys;
mod members;
mod mfa;
mod recovery;
pub use recovery::token_from_link;
mod secrets;
pub mod signing;
pub mod sse;
mod webhooks;
