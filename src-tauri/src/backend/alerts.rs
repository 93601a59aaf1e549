//! Detection on the Security Vault: the tenant's alerts (list, acknowledge), the address
//! blocks in force (list, lift) and the audit feed the alerts panel follows.

use keyhold_client::sse::EventStream;
use keyhold_core::Sensitive;
use keyhold_core::api::{Alert, AlertQuery, Block};

use super::Server;
use crate::error::CommandResult;
use crate::view::alerts::{AlertView, BlockView};

/// The most alerts the panel lists: a tenant with more open alerts than this has bigger
/// problems than a long list, and `keyhold alerts` pages through all of them.
const MOST: usize = 500;

pub fn alert_view(a: &Alert) -> AlertView {
    AlertView {
        id: a.id.clone(),
        rule: a.rule.clone(),
        severity: a.severity.as_str().to_owned(),
        message: a.message.clone(),
        subject: a.subject.clone(),
        response: a.response.clone(),
        raised_at: a.raised_at.to_rfc3339(),
        acknowledged_at: a.acknowledged_at.map(|t| t.to_rfc3339()),
        acknowledged_by: a.acknowledged_by.clone(),
    }
}

fn block_view(b: &Block) -> BlockView {
    BlockView {
        id: b.id.clone(),
        address: b.address.clone(),
        rule: b.rule.clone(),
        created_at: b.created_at.to_rfc3339(),
        expires_at: b.expires_at.to_rfc3339(),
    }
}

/// `status`: "open" or "all"; newest first, following the pages up to [`MOST`].
pub async fn list_alerts(
    server: &Server,
    token: &Sensitive<String>,
    status: &str,
) -> CommandResult<Vec<AlertView>> {
    let c = server.authed(token);
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = AlertQuery {
            limit: Some(100),
            cursor: cursor.take(),
            status: Some(status.to_owned()),
        };
        let page = c.alerts(&q).await.map_err(|e| server.error(e))?;
        out.extend(page.items.iter().map(alert_view));
        match page.next_cursor {
            Some(next) if out.len() < MOST => cursor = Some(next),
            _ => {
                out.truncate(MOST);
                return Ok(out);
            }
        }
    }
}

pub async fn acknowledge_alert(
    server: &Server,
    token: &Sensitive<String>,
    id: &str,
) -> CommandResult<AlertView> {
    let a = server
        .authed(token)
        .ack_alert(id)
        .await
        .map_err(|e| server.error(e))?;
    Ok(alert_view(&a))
}

pub async fn list_blocks(
    server: &Server,
    token: &Sensitive<String>,
) -> CommandResult<Vec<BlockView>> {
    let blocks = server
        .authed(token)
        .blocks()
        .await
        .map_err(|e| server.error(e))?;
    Ok(blocks.iter().map(block_view).collect())
}

pub async fn lift_block(server: &Server, token: &Sensitive<String>, id: &str) -> CommandResult<()> {
    server
        .authed(token)
        .lift_block(id)
        .await
        .map_err(|e| server.error(e))
}

/// The live audit feed, which carries `alert.raised` and the other detection events.
pub async fn audit_feed(server: &Server, token: &Sensitive<String>) -> CommandResult<EventStream> {
    server
        .authed(token)
        .audit_stream()
        .await
        .map_err(|e| server.error(e))
}
