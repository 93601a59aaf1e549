//! Background mode: closing the window hides it and the app stays in the system tray, so
//! the live feeds go on and a new approval request still raises a notification (an
//! approver on call is reachable with the window closed). The tray's menu brings the
//! window back or quits; a click on a notification brings it back on that request.
//!
//! The choice is the person's (Settings → This device); the web view tells Rust with
//! `set_background_mode` when it loads and whenever it changes, because the close request
//! is decided here, in Rust, before the web view could answer. Without a tray icon there
//! would be no way back to a hidden window, so then closing quits as before.

use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use specta::Type;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime, Window, WindowEvent};

/// The label of the app's one window (tauri.conf.json, capabilities/default.json).
pub const MAIN_WINDOW: &str = "main";

const MENU_OPEN: &str = "open";
const MENU_QUIT: &str = "quit";

/// Whether closing hides, and whether there is a tray to come back from.
#[derive(Debug, Default)]
pub struct Background {
    enabled: AtomicBool,
    tray: AtomicBool,
}

/// What the Settings page shows: the choice, and whether the tray exists at all.
#[derive(Clone, Debug, Serialize, Type)]
pub struct BackgroundView {
    pub enabled: bool,
    pub tray_available: bool,
}

impl Background {
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
    }

    pub fn view(&self) -> BackgroundView {
        BackgroundView {
            enabled: self.enabled.load(Ordering::Relaxed),
            tray_available: self.tray.load(Ordering::Relaxed),
        }
    }

    /// Hide on close only when chosen and when the tray can bring the window back.
    fn keeps_running(&self) -> bool {
        self.enabled.load(Ordering::Relaxed) && self.tray.load(Ordering::Relaxed)
    }
}

/// Bring the window back, in front: from the tray's menu or a notification's click.
pub fn show_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window(MAIN_WINDOW) {
        // Each step may fail on a platform without it (focus under some window
        // managers); the others still help.
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

/// The window's close button: hide instead of quitting while background mode is on.
pub fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    if let WindowEvent::CloseRequested { api, .. } = event
        && window.label() == MAIN_WINDOW
        && window.state::<Background>().keeps_running()
    {
        api.prevent_close();
        let _ = window.hide();
    }
}

/// The tray icon with its menu (Open Keyhold, Quit Keyhold). On Linux it needs the
/// AppIndicator library at run time (Debian: libayatana-appindicator3-1, a dependency of
/// the package); when it cannot be loaded the crate panics rather than erring, so the
/// panic is caught here and the app runs without a tray (closing then quits).
pub fn install_tray<R: Runtime>(app: &AppHandle<R>) {
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build_tray(app)));
    match built {
        Ok(Ok(())) => app
            .state::<Background>()
            .tray
            .store(true, Ordering::Relaxed),
        Ok(Err(e)) => eprintln!("keyhold-desktop: no tray icon: {e}"),
        Err(_) => eprintln!("keyhold-desktop: no tray icon: the system's tray library is missing"),
    }
}

fn build_tray<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, MENU_OPEN, "Open Keyhold", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, MENU_QUIT, "Quit Keyhold", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &quit])?;
    let mut tray = TrayIconBuilder::with_id("keyhold")
        .tooltip("Keyhold")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id.as_ref() {
            MENU_OPEN => show_main(app),
            MENU_QUIT => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_only_when_chosen_and_a_tray_exists() {
        let b = Background::default();
        assert!(!b.keeps_running(), "off by default until the web view says");
        b.set_enabled(true);
        assert!(
            !b.keeps_running(),
            "no tray: closing must quit, or the window is lost"
        );
        b.tray.store(true, Ordering::Relaxed);
        assert!(b.keeps_running());
        assert!(b.view().enabled && b.view().tray_available);
        b.set_enabled(false);
        assert!(!b.keeps_running());
    }
}
