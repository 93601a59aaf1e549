//! OS notifications, for the live feeds (a new approval request, a critical alert). Never
//! a secret value: the feeds carry none.

use tauri::AppHandle;
#[cfg(not(target_os = "linux"))]
use tauri_plugin_notification::NotificationExt;

/// How insistent the notification is: a critical alert asks for more attention (the
/// freedesktop `urgency` hint: 1 normal, 2 critical) than an approval request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Urgency {
    Normal,
    Critical,
}

impl Urgency {
    #[cfg(target_os = "linux")]
    fn hint(self) -> u8 {
        match self {
            Self::Normal => 1,
            Self::Critical => 2,
        }
    }
}

/// On Linux, one call to the desktop's notification service (org.freedesktop.Notifications)
/// over the D-Bus library the Secret Service keyring already links, rather than a
/// notification plugin and notify-rust on top of it (about 0.5 MB of binary;
/// docs/PERFORMANCE.md, desktop size). Off the feed's task, so a slow bus never holds it up.
#[cfg(target_os = "linux")]
pub fn show(_app: &AppHandle, title: String, body: String, urgency: Urgency) {
    tauri::async_runtime::spawn(async move {
        // No notification daemon or no session bus (a headless session, Xvfb) is not an
        // error worth more than a line: the inbox, the alerts panel and their badges still
        // update.
        if let Err(e) = freedesktop_notify(&title, &body, urgency).await {
            eprintln!("keyhold-desktop: notification not shown: {e}");
        }
    });
}

#[cfg(target_os = "linux")]
async fn freedesktop_notify(title: &str, body: &str, urgency: Urgency) -> zbus::Result<()> {
    use std::collections::HashMap;
    use zbus::zvariant::Value;
    let bus = zbus::Connection::session().await?;
    let actions: &[&str] = &[];
    let hints: HashMap<&str, Value<'_>> = HashMap::from([("urgency", Value::U8(urgency.hint()))]);
    // Notify(app_name, replaces_id, app_icon, summary, body, actions, hints, expire_timeout)
    bus.call_method(
        Some("org.freedesktop.Notifications"),
        "/org/freedesktop/Notifications",
        Some("org.freedesktop.Notifications"),
        "Notify",
        &(
            "Keyhold",
            0u32,
            "dialog-password",
            title,
            body,
            actions,
            hints,
            -1i32,
        ),
    )
    .await?;
    Ok(())
}

#[cfg(not(target_os = "linux"))]
pub fn show(app: &AppHandle, title: String, body: String, _urgency: Urgency) {
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        eprintln!("keyhold-desktop: notification not shown: {e}");
    }
}
