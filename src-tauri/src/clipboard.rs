//! Copying a secret's value to the system clipboard from Rust, and clearing it 30 s later
//! when the clipboard still holds that value (anything the person copied since stays).
//! The web view never holds the value for a copy: the page asks, Rust copies.
//!
//! On Linux the clipboard is GTK's, which the window already links (no extra crate and no
//! binary growth; docs/PERFORMANCE.md, desktop size); the copy is marked
//! `x-kde-passwordManagerHint: secret` so clipboard managers that honour it keep it out of
//! their history. Elsewhere it is arboard's.

use std::future::Future;
use std::time::Duration;

use keyhold_core::Sensitive;

/// How long a copied value stays on the clipboard.
pub const CLEAR_AFTER: Duration = Duration::from_secs(30);

/// The system clipboard, as copying and clearing need it (a fake in the tests).
pub trait Clipboard: Clone + Send + Sync + 'static {
    /// Put `text` on the clipboard.
    fn set(&self, text: Sensitive<String>) -> impl Future<Output = Result<(), String>> + Send;
    /// Empty the clipboard if it holds exactly `text`; whether it did.
    fn clear_if_holds(
        &self,
        text: Sensitive<String>,
    ) -> impl Future<Output = Result<bool, String>> + Send;
}

/// Copy `value`, and clear it after `after` unless something else was copied since.
pub async fn copy_then_clear<C: Clipboard>(
    clipboard: C,
    value: Sensitive<String>,
    after: Duration,
) -> Result<(), String> {
    clipboard.set(value.clone()).await?;
    // On the runtime the command runs on (Tauri's tokio runtime in the app).
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        if let Err(e) = clipboard.clear_if_holds(value).await {
            eprintln!("keyhold-desktop: could not clear the clipboard: {e}");
        }
    });
    Ok(())
}

#[cfg(target_os = "linux")]
pub use gtk_clipboard::System;

#[cfg(target_os = "linux")]
mod gtk_clipboard {
    use gtk::gdk;
    use keyhold_core::Sensitive;
    use tauri::AppHandle;

    /// GTK's CLIPBOARD selection. GTK lives on the main thread, so each call is sent there.
    #[derive(Clone)]
    pub struct System(pub AppHandle);

    impl System {
        async fn on_main<T: Send + 'static>(
            &self,
            f: impl FnOnce(gtk::Clipboard) -> T + Send + 'static,
        ) -> Result<T, String> {
            let (tx, rx) = tokio::sync::oneshot::channel();
            self.0
                .run_on_main_thread(move || {
                    let clipboard = gtk::Clipboard::get(&gdk::SELECTION_CLIPBOARD);
                    let _ = tx.send(f(clipboard));
                })
                .map_err(|e| e.to_string())?;
            rx.await
                .map_err(|_| "the window's main loop has stopped".to_owned())
        }
    }

    const TEXT: u32 = 0;
    const HINT: u32 = 1;

    impl super::Clipboard for System {
        async fn set(&self, text: Sensitive<String>) -> Result<(), String> {
            let offered = self
                .on_main(move |clipboard| {
                    let targets: Vec<gtk::TargetEntry> = [
                        ("UTF8_STRING", TEXT),
                        ("text/plain;charset=utf-8", TEXT),
                        ("STRING", TEXT),
                        ("TEXT", TEXT),
                        ("text/plain", TEXT),
                        ("x-kde-passwordManagerHint", HINT),
                    ]
                    .into_iter()
                    .map(|(name, info)| {
                        gtk::TargetEntry::new(name, gtk::TargetFlags::empty(), info)
                    })
                    .collect();
                    // The closure (and the value in it) is dropped when the clipboard
                    // changes hands or is cleared.
                    clipboard.set_with_data(&targets, move |_, selection, info| {
                        if info == HINT {
                            selection.set(&selection.target(), 8, b"secret");
                        } else {
                            selection.set_text(text.expose());
                        }
                    })
                })
                .await?;
            if offered {
                Ok(())
            } else {
                Err("the clipboard refused the text".to_owned())
            }
        }

        async fn clear_if_holds(&self, text: Sensitive<String>) -> Result<bool, String> {
            self.on_main(move |clipboard| {
                let holds = clipboard
                    .wait_for_text()
                    .is_some_and(|now| now.as_str() == text.expose().as_str());
                if holds {
                    clipboard.set_text("");
                    clipboard.clear();
                }
                holds
            })
            .await
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub use arboard_clipboard::System;

#[cfg(not(target_os = "linux"))]
mod arboard_clipboard {
    use keyhold_core::Sensitive;
    use tauri::AppHandle;

    #[derive(Clone)]
    pub struct System(pub AppHandle);

    fn open() -> Result<arboard::Clipboard, String> {
        arboard::Clipboard::new().map_err(|e| e.to_string())
    }

    impl super::Clipboard for System {
        async fn set(&self, text: Sensitive<String>) -> Result<(), String> {
            open()?
                .set_text(text.expose().clone())
                .map_err(|e| e.to_string())
        }

        async fn clear_if_holds(&self, text: Sensitive<String>) -> Result<bool, String> {
            let mut clipboard = open()?;
            let holds = clipboard
                .get_text()
                .is_ok_and(|now| now.as_str() == text.expose().as_str());
            if holds {
                clipboard.clear().map_err(|e| e.to_string())?;
            }
            Ok(holds)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A clipboard in memory.
    #[derive(Clone, Default)]
    struct Fake(Arc<Mutex<Option<String>>>);

    impl Fake {
        fn now(&self) -> Option<String> {
            self.0.lock().unwrap().clone()
        }
        fn put(&self, text: &str) {
            *self.0.lock().unwrap() = Some(text.to_owned());
        }
    }

    impl Clipboard for Fake {
        async fn set(&self, text: Sensitive<String>) -> Result<(), String> {
            self.put(text.expose());
            Ok(())
        }
        async fn clear_if_holds(&self, text: Sensitive<String>) -> Result<bool, String> {
            let mut now = self.0.lock().unwrap();
            let holds = now.as_deref() == Some(text.expose().as_str());
            if holds {
                *now = None;
            }
            Ok(holds)
        }
    }

    /// Real time, scaled down: the delay is a parameter, the app passes `CLEAR_AFTER`.
    const SOON: Duration = Duration::from_millis(150);

    #[test]
    fn the_app_clears_after_30_seconds() {
        assert_eq!(CLEAR_AFTER, Duration::from_secs(30));
    }

    #[tokio::test]
    async fn copied_values_are_cleared_after_the_delay() {
        let clipboard = Fake::default();
        copy_then_clear(
            clipboard.clone(),
            Sensitive::new("sk_live_1".to_owned()),
            SOON,
        )
        .await
        .unwrap();
        assert_eq!(clipboard.now().as_deref(), Some("sk_live_1"));
        tokio::time::sleep(SOON / 3).await;
        assert_eq!(
            clipboard.now().as_deref(),
            Some("sk_live_1"),
            "cleared early"
        );
        tokio::time::sleep(SOON * 3).await;
        assert_eq!(
            clipboard.now(),
            None,
            "still on the clipboard after the delay"
        );
    }

    #[tokio::test]
    async fn something_copied_since_stays() {
        let clipboard = Fake::default();
        copy_then_clear(
            clipboard.clone(),
            Sensitive::new("sk_live_1".to_owned()),
            SOON,
        )
        .await
        .unwrap();
        clipboard.put("a note the person copied");
        tokio::time::sleep(SOON * 3).await;
        assert_eq!(clipboard.now().as_deref(), Some("a note the person copied"));
    }
}
