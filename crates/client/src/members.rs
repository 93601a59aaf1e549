//! Pending invitations of the tenant: list and revoke (owners and admins).

use keyhold_core::api::{Page, PendingInvitation};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// One page of the tenant's pending invitations, newest first (never their tokens).
    pub async fn pending_invitations(
        &self,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<PendingInvitation>> {
        let mut rb = self.request(Method::GET, "/v1/members/invitations")?;
        if let Some(l) = limit {
            rb = rb.query(&[("limit", l.to_string())]);
        }
        if let Some(c) = cursor {
            rb = rb.query(&[("cursor", c)]);
        }
        self.json(rb).await
    }

    /// Every pending invitation, following the cursor to the end.
    pub async fn all_pending_invitations(&self) -> Result<Vec<PendingInvitation>> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self
                .pending_invitations(Some(keyhold_core::api::MAX_PAGE_LIMIT), cursor.as_deref())
                .await?;
            out.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// Revoke a pending invitation: its link no longer signs anyone up. Needs a recent
    /// sign-in (the sudo window).
    pub async fn revoke_invitation(&self, id: &str) -> Result<()> {
        self.empty(self.request_segment(Method::DELETE, "/v1/members/invitations", id)?)
            .await
    }
}
