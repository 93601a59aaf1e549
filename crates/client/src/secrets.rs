//! Secrets and their metadata.

use keyhold_core::Sensitive;
use keyhold_core::api::{
    KekRotated, MetadataQuery, Page, PutSecretRequest, SecretMetadata, SecretSummary, SecretValue,
    SecretWritten,
};
use keyhold_core::path::SecretPath;
use keyhold_core::tier::{SecretType, Tier};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// Write a new version of the secret at `path`.
    pub async fn put_secret(
        &self,
        path: &SecretPath,
        value: &str,
        kind: Option<SecretType>,
        tier: Option<Tier>,
    ) -> Result<SecretWritten> {
        let body = PutSecretRequest {
            value: Sensitive::new(value.to_owned()),
            kind,
            tier,
        };
        self.json(
            self.request(Method::PUT, &format!("/v1/secrets/{path}"))?
                .json(&body),
        )
        .await
    }

    /// Read the current version, or `version`.
    pub async fn get_secret(&self, path: &SecretPath, version: Option<u32>) -> Result<SecretValue> {
        let mut rb = self.request(Method::GET, &format!("/v1/secrets/{path}"))?;
        if let Some(v) = version {
            rb = rb.query(&[("version", v)]);
        }
        self.json(rb).await
    }

    pub async fn delete_secret(&self, path: &SecretPath) -> Result<()> {
        self.empty(self.request(Method::DELETE, &format!("/v1/secrets/{path}"))?)
            .await
    }

    pub async fn secret_metadata(&self, path: &SecretPath) -> Result<SecretMetadata> {
        self.json(self.request(Method::GET, &format!("/v1/metadata/{path}"))?)
            .await
    }

    pub async fn list_metadata(&self, q: &MetadataQuery) -> Result<Page<SecretSummary>> {
        self.json(self.request(Method::GET, "/v1/metadata")?.query(q))
            .await
    }

    /// Rotate the tenant's KEK (owners and admins).
    pub async fn rotate_kek(&self) -> Result<KekRotated> {
        self.json(self.request(Method::POST, "/v1/admin/kek/rotate")?)
            .await
    }
}
