//! Agent keys and scoped tokens.

use keyhold_core::Sensitive;
use keyhold_core::api::{
    AddPublicKeyRequest, AgentKey, CreateKeyRequest, CreateKeyResponse, CreateSigningKeyResponse,
    IssueTokenRequest, IssueTokenResponse, KeyDetails, Page, PublicKeyInfo, RevokeLeakedRequest,
    RotateKeyRequest, RotateKeyResponse, UpdateKeyRequest,
};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// Create an agent key (needs a recent sign-in). The response's `secret` is the only
    /// copy there will ever be.
    pub async fn create_key(&self, req: &CreateKeyRequest) -> Result<CreateKeyResponse> {
        self.json(self.request(Method::POST, "/v1/keys")?.json(req))
            .await
    }

    /// Create an Ed25519 agent key from `req.public_key` (SPKI PEM; needs a recent
    /// sign-in). No secret comes back: the private key is the caller's alone.
    pub async fn create_signing_key(
        &self,
        req: &CreateKeyRequest,
    ) -> Result<CreateSigningKeyResponse> {
        self.json(self.request(Method::POST, "/v1/keys")?.json(req))
            .await
    }

    /// Rotation's first step: add a public key to an Ed25519 key (both verify from now).
    pub async fn add_public_key(&self, key_id: &str, public_key: &str) -> Result<PublicKeyInfo> {
        let body = AddPublicKeyRequest {
            public_key: public_key.to_owned(),
        };
        self.json(
            self.request_segments(Method::POST, "/v1/keys", &[key_id, "public-keys"])?
                .json(&body),
        )
        .await
    }

    /// Rotation's last step: retire a public key by its fingerprint.
    pub async fn retire_public_key(&self, key_id: &str, fingerprint: &str) -> Result<()> {
        self.empty(self.request_segments(
            Method::DELETE,
            "/v1/keys",
            &[key_id, "public-keys", fingerprint],
        )?)
        .await
    }

    pub async fn list_keys(
        &self,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<AgentKey>> {
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(l) = limit {
            q.push(("limit", l.to_string()));
        }
        if let Some(c) = cursor {
            q.push(("cursor", c.to_owned()));
        }
        self.json(self.request(Method::GET, "/v1/keys")?.query(&q))
            .await
    }

    /// One key with its usage (requests, refusals, recent addresses).
    pub async fn key(&self, id: &str) -> Result<KeyDetails> {
        self.json(self.request_segments(Method::GET, "/v1/keys", &[id])?)
            .await
    }

    /// Change a key's expiry and/or IP allowlist (needs a recent sign-in); absent fields
    /// stay as they are.
    pub async fn update_key(&self, id: &str, req: &UpdateKeyRequest) -> Result<AgentKey> {
        self.json(
            self.request_segments(Method::PATCH, "/v1/keys", &[id])?
                .json(req),
        )
        .await
    }

    /// Rotate a key (needs a recent sign-in): the answer's `secret` is the new key's only
    /// copy; the old key ends after `overlap` (`"0s"`: at once; none: the server's default).
    pub async fn rotate_key(&self, id: &str, overlap: Option<&str>) -> Result<RotateKeyResponse> {
        let body = RotateKeyRequest {
            overlap: overlap.map(str::to_owned),
        };
        self.json(
            self.request_segments(Method::POST, "/v1/keys", &[id, "rotate"])?
                .json(&body),
        )
        .await
    }

    pub async fn revoke_key(&self, id: &str) -> Result<()> {
        self.empty(self.request(Method::DELETE, &format!("/v1/keys/{id}"))?)
            .await
    }

    /// Report a leaked key (or token): no authentication, and the same answer whether or
    /// not it matched.
    pub async fn revoke_leaked(&self, secret: &str) -> Result<()> {
        let body = RevokeLeakedRequest {
            secret: Sensitive::new(secret.to_owned()),
        };
        self.empty(
            self.request(Method::POST, "/v1/keys/revoke-leaked")?
                .json(&body),
        )
        .await
    }

    /// Issue a scoped token (this client must hold a `kha_` key).
    pub async fn issue_token(&self, req: &IssueTokenRequest) -> Result<IssueTokenResponse> {
        self.json(self.request(Method::POST, "/v1/tokens")?.json(req))
            .await
    }

    pub async fn revoke_token(&self, id: &str) -> Result<()> {
        self.empty(self.request(Method::DELETE, &format!("/v1/tokens/{id}"))?)
            .await
    }
}
