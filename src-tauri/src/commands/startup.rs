//! How long the app took to show something useful. The page reports the first screen it
//! showed with real content, and the app logs, once per run, the time since launch on
//! stderr. A slow start then shows up in the logs people send with a bug report, and
//! bench/desktop.py measures launch-to-dashboard from the app's own account of it instead of
//! guessing from pixels.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;
use specta::Type;
use tauri::State;

use crate::state::AppState;

/// The first screen the page showed once its content was there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum FirstScreen {
    /// First run or sign-in: no saved session, or it could not be restored.
    SignIn,
    /// The Security Vault page with the security overview loaded from the server.
    SecurityVault,
}

impl FirstScreen {
    fn name(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::SecurityVault => "security_vault",
        }
    }
}

/// When the process started and whether its first screen was reported yet.
#[derive(Debug)]
pub struct Startup {
    launched: Instant,
    reported: AtomicBool,
}

impl Startup {
    /// `launched` is taken first thing in `run()`, before Tauri and WebKitGTK start.
    pub fn new(launched: Instant) -> Self {
        Self {
            launched,
            reported: AtomicBool::new(false),
        }
    }

    /// The time since launch, the first time only: a reload of the page or a later
    /// sign-in is not a start.
    fn first_report(&self) -> Option<Duration> {
        let already = self.reported.swap(true, Ordering::SeqCst);
        (!already).then(|| self.launched.elapsed())
    }
}

/// Called by the page when its first screen has rendered with its data.
#[tauri::command]
#[specta::specta]
pub fn first_screen_shown(state: State<'_, AppState>, screen: FirstScreen) {
    if let Some(elapsed) = state.startup.first_report() {
        eprintln!("{}", log_line(screen, elapsed));
    }
}

/// The stderr line; bench/desktop.py parses it, keep the shape.
fn log_line(screen: FirstScreen, elapsed: Duration) -> String {
    format!(
        "keyhold-desktop: first screen {} shown {} ms after launch",
        screen.name(),
        elapsed.as_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_screen_is_reported() {
        let startup = Startup::new(Instant::now());
        assert!(startup.first_report().is_some());
        assert!(startup.first_report().is_none());
        assert!(startup.first_report().is_none());
    }

    #[test]
    fn log_line_names_the_screen_and_the_time() {
        assert_eq!(
            log_line(FirstScreen::SecurityVault, Duration::from_millis(812)),
            "keyhold-desktop: first screen security_vault shown 812 ms after launch"
        );
        assert_eq!(
            log_line(FirstScreen::SignIn, Duration::from_millis(5)),
            "keyhold-desktop: first screen sign_in shown 5 ms after launch"
        );
    }

    #[test]
    fn screen_names_match_the_wire_names() {
        for screen in [FirstScreen::SignIn, FirstScreen::SecurityVault] {
            let wire: FirstScreen =
                serde_json::from_value(serde_json::Value::String(screen.name().to_owned()))
                    .unwrap();
            assert_eq!(wire, screen);
        }
    }
}
