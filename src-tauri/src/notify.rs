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

/// What a click on a notification does: bring the window back and open what it is about.
/// Runs at most once, on the app's async runtime.
pub type OnClick = Box<dyn FnOnce(&AppHandle) + Send>;

/// On Linux, one call to the desktop's notification service (org.freedesktop.Notifications)
/// over the D-Bus library the Secret Service keyring already links, rather than a
/// notification plugin and notify-rust on top of it (about 0.5 MB of binary;
/// docs/PERFORMANCE.md, desktop size). Off the feed's task, so a slow bus never holds it up.
/// A notification with `on_click` carries a default action; the service reports its click
/// as an `ActionInvoked` signal, sent only to the connection that raised the notification,
/// so one connection is kept for both (src/notify/linux.rs).
#[cfg(target_os = "linux")]
pub fn show(
    app: &AppHandle,
    title: String,
    body: String,
    urgency: Urgency,
    on_click: Option<OnClick>,
) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        // No notification daemon or no session bus (a headless session, Xvfb) is not an
        // error worth more than a line: the inbox, the alerts panel and their badges still
        // update.
        if let Err(e) = linux::notify(&app, &title, &body, urgency.hint(), on_click).await {
            eprintln!("keyhold-desktop: notification not shown: {e}");
        }
    });
}

#[cfg(target_os = "linux")]
mod linux;

/// Elsewhere the plugin, which reports no clicks on desktop systems: the notification says
/// what happened, and the window (or the tray) opens the inbox.
#[cfg(not(target_os = "linux"))]
pub fn show(
    app: &AppHandle,
    title: String,
    body: String,
    _urgency: Urgency,
    _on_click: Option<OnClick>,
) {
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        eprintln!("keyhold-desktop: notification not shown: {e}");
    }
}
