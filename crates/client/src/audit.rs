//! The audit log: pages, the actions it holds, exports (whole or filtered), the chain
//! check and the live feed.

use keyhold_core::api::{AuditActions, AuditEvent, AuditQuery, AuditVerifyResponse, Page};
use reqwest::Method;

use crate::{Client, ClientError, Result, sse};

impl Client {
    pub async fn audit(&self, q: &AuditQuery) -> Result<Page<AuditEvent>> {
        self.json(self.request(Method::GET, "/v1/audit")?.query(q))
            .await
    }

    /// The distinct actions of the events this caller may read, sorted.
    pub async fn audit_actions(&self) -> Result<AuditActions> {
        self.json(self.request(Method::GET, "/v1/audit/actions")?)
            .await
    }

    pub async fn audit_verify(&self) -> Result<AuditVerifyResponse> {
        self.json(self.request(Method::GET, "/v1/audit/verify")?)
            .await
    }

    /// The export body as text (`format` is `json` for JSON lines, or `csv`).
    pub async fn audit_export(&self, format: &str) -> Result<String> {
        self.audit_export_filtered(format, &AuditQuery::default())
            .await
    }

    /// The export of the events `filter` selects, as text.
    pub async fn audit_export_filtered(&self, format: &str, filter: &AuditQuery) -> Result<String> {
        let resp = self.audit_export_response(format, filter).await?;
        let status = resp.status().as_u16();
        resp.text()
            .await
            .map_err(|_| ClientError::Protocol { status })
    }

    /// The export's response once the server accepted it, for a caller that reads the
    /// body chunk by chunk (to show progress). The filter's limit and cursor are not sent:
    /// an export has neither.
    pub async fn audit_export_response(
        &self,
        format: &str,
        filter: &AuditQuery,
    ) -> Result<reqwest::Response> {
        let filter = AuditQuery {
            limit: None,
            cursor: None,
            ..filter.clone()
        };
        self.send(
            self.request(Method::GET, "/v1/audit/export")?
                .query(&[("format", format)])
                .query(&filter),
        )
        .await
    }

    /// The live audit feed: server-sent events, each an [`AuditEvent`].
    pub async fn audit_stream(&self) -> Result<sse::EventStream> {
        let resp = self.get_raw("/v1/audit/stream").await?;
        Ok(sse::EventStream::new(resp))
    }
}
