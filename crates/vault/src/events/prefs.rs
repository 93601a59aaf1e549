//! Each person's notification choices (`GET/PUT /v1/me/notifications`). Approval mail is
//! on until its recipient turns it off: approvers who are never told are how requests go
//! unanswered. Security notices about one's own account are not a choice and stay on.

use keyhold_core::api::NotificationPrefs;

use crate::Vault;
use crate::audit::{ClientInfo, NewEvent};
use crate::auth::Session;
use crate::error::Result;

pub async fn get(st: &Vault, s: &Session) -> Result<NotificationPrefs> {
    Ok(NotificationPrefs {
        approval_mail: st.store.approval_mail(s.tenant_id(), &s.user.id).await?,
    })
}

/// Save `prefs`, audited as `notifications.changed`.
pub async fn put(
    st: &Vault,
    s: &Session,
    prefs: NotificationPrefs,
    client: &ClientInfo,
) -> Result<NotificationPrefs> {
    let ev = NewEvent::new("notifications.changed", st.clock.now(), client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("user:{}", s.user.id))
        .detail("approval_mail", prefs.approval_mail);
    st.store
        .set_approval_mail(s.tenant_id(), &s.user.id, prefs.approval_mail, ev)
        .await?;
    Ok(prefs)
}
