//! Approvals, tenant settings and members.

use keyhold_core::Sensitive;
use keyhold_core::api::{
    Approval, ApprovalStatus, ApproveRequest, CreateApprovalRequest, DenyRequest, Invitation,
    InviteRequest, Member, Page, Role, RoleRequest, TenantSettings,
};
use keyhold_core::path::SecretPath;
use reqwest::Method;

use crate::{Client, Result, sse};

impl Client {
    /// Ask for approval ahead of a read.
    pub async fn request_approval(&self, path: &SecretPath, reason: &str) -> Result<Approval> {
        self.request_approval_for(&CreateApprovalRequest {
            path: path.clone(),
            reason: reason.to_owned(),
            operation: None,
            to_tier: None,
        })
        .await
    }

    /// Ask for approval ahead of any gated operation (read, delete, lower_tier,
    /// agent_write).
    pub async fn request_approval_for(&self, body: &CreateApprovalRequest) -> Result<Approval> {
        self.json(self.request(Method::POST, "/v1/approvals")?.json(body))
            .await
    }

    /// The inbox (people) or the key's own requests (agents), newest first.
    pub async fn list_approvals(
        &self,
        status: Option<ApprovalStatus>,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<Approval>> {
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(s) = status {
            q.push(("status", s.as_str().to_owned()));
        }
        if let Some(l) = limit {
            q.push(("limit", l.to_string()));
        }
        if let Some(c) = cursor {
            q.push(("cursor", c.to_owned()));
        }
        self.json(self.request(Method::GET, "/v1/approvals")?.query(&q))
            .await
    }

    pub async fn approval(&self, id: &str) -> Result<Approval> {
        self.json(self.request(Method::GET, &format!("/v1/approvals/{id}"))?)
            .await
    }

    /// Approve; `code` (a fresh TOTP code) is required for critical requests.
    pub async fn approve(
        &self,
        id: &str,
        comment: Option<&str>,
        code: Option<&str>,
    ) -> Result<Approval> {
        let body = ApproveRequest {
            comment: comment.map(str::to_owned),
            code: code.map(|c| Sensitive::new(c.to_owned())),
        };
        self.json(
            self.request(Method::POST, &format!("/v1/approvals/{id}/approve"))?
                .json(&body),
        )
        .await
    }

    pub async fn deny(&self, id: &str, reason: &str) -> Result<Approval> {
        let body = DenyRequest {
            reason: reason.to_owned(),
        };
        self.json(
            self.request(Method::POST, &format!("/v1/approvals/{id}/deny"))?
                .json(&body),
        )
        .await
    }

    /// The live feed of approval requests (server-sent events, one per change).
    pub async fn approvals_stream(&self) -> Result<sse::EventStream> {
        let resp = self.get_raw("/v1/approvals/stream").await?;
        Ok(sse::EventStream::new(resp))
    }

    pub async fn tenant_settings(&self) -> Result<TenantSettings> {
        self.json(self.request(Method::GET, "/v1/tenant/settings")?)
            .await
    }

    pub async fn set_tenant_settings(&self, s: &TenantSettings) -> Result<TenantSettings> {
        self.json(self.request(Method::PUT, "/v1/tenant/settings")?.json(s))
            .await
    }

    pub async fn members(&self) -> Result<Vec<Member>> {
        self.json(self.request(Method::GET, "/v1/members")?).await
    }

    pub async fn invite(&self, email: &str, role: Role) -> Result<Invitation> {
        let body = InviteRequest {
            email: email.to_owned(),
            role,
        };
        self.json(
            self.request(Method::POST, "/v1/members/invitations")?
                .json(&body),
        )
        .await
    }

    /// Change a member's role (needs a recent sign-in).
    pub async fn set_role(&self, user_id: &str, role: Role) -> Result<Member> {
        self.json(
            self.request_segments(Method::PUT, "/v1/members", &[user_id, "role"])?
                .json(&RoleRequest { role }),
        )
        .await
    }

    /// Remove a member (or leave, with one's own id); needs a recent sign-in.
    pub async fn remove_member(&self, user_id: &str) -> Result<()> {
        self.empty(self.request_segment(Method::DELETE, "/v1/members", user_id)?)
            .await
    }
}
