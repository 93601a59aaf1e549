//! The app's state in Rust: the chosen server, the signed-in session (its token never
//! leaves this process except into the OS keyring) and a pending 2FA ticket.

use std::path::PathBuf;
use std::time::Instant;

use keyhold_core::Sensitive;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::backend::Server;
use crate::commands::startup::Startup;
use crate::error::{CommandError, CommandResult, ErrorKind};
use crate::keystore::TokenStore;
use crate::server_url::{self, ServerUrl};
use crate::view::{LockView, SessionView};

/// A signed-in session.
pub struct Session {
    pub server: ServerUrl,
    pub token: Sensitive<String>,
    pub view: SessionView,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("server", &self.server.as_str())
            .field("token", &self.token)
            .field("user", &self.view.user.email)
            .finish()
    }
}

/// Between a password and a 2FA code.
#[derive(Debug)]
pub struct PendingMfa {
    pub server: ServerUrl,
    pub email: String,
    pub ticket: Sensitive<String>,
    pub started: Instant,
}

/// A value read on the Secrets page. It stays here, not in the web view, until the person
/// reveals or copies it, and is wiped when they leave the secret or sign out.
pub struct OpenedSecret {
    /// Whose read it was: another session never sees it.
    pub user_id: String,
    pub path: String,
    pub value: Sensitive<String>,
}

impl std::fmt::Debug for OpenedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedSecret")
            .field("path", &self.path)
            .field("value", &self.value)
            .finish()
    }
}

/// Non-secret settings kept between runs (`settings.json` in the app's config dir).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub server_url: Option<String>,
    pub last_email: Option<String>,
}

#[derive(Debug, Default)]
pub struct Inner {
    pub settings: Settings,
    pub session: Option<Session>,
    pub pending_mfa: Option<PendingMfa>,
    /// Set while the app is locked after idle time: `commands::credentials` refuses every
    /// signed-in command until `unlock_app` (see `commands::lock`).
    pub lock: Option<LockView>,
}

#[derive(Debug)]
pub struct AppState {
    pub tokens: TokenStore,
    config_dir: Option<PathBuf>,
    /// `KEYHOLD_URL` at launch, which wins over the saved choice.
    env_server: Option<String>,
    pub inner: Mutex<Inner>,
    /// The live approvals feed of the signed-in window (see `approvals_feed`).
    feed: std::sync::Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
    /// The live alerts feed of an owner's or admin's window (see `alerts_feed`).
    alert_feed: std::sync::Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
    /// The secret value the Secrets page last read, if the person is still on it.
    opened: std::sync::Mutex<Option<OpenedSecret>>,
    /// The HTTP client of the server last talked to, kept beside its address: every
    /// command shares it, and another is built only when the address changes.
    server: std::sync::Mutex<Option<Server>>,
    /// Launch time, for the one "first screen shown" log line.
    pub startup: Startup,
}

/// Abort the task in `slot`, if any, and keep `next` there instead.
fn swap_task(
    slot: &std::sync::Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
    next: Option<tauri::async_runtime::JoinHandle<()>>,
) {
    let mut task = slot
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(old) = task.take() {
        old.abort();
    }
    *task = next;
}

impl AppState {
    pub fn new(tokens: TokenStore, config_dir: Option<PathBuf>, launched: Instant) -> Self {
        let settings = config_dir
            .as_ref()
            .and_then(|d| std::fs::read(d.join("settings.json")).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        Self {
            tokens,
            config_dir,
            env_server: std::env::var("KEYHOLD_URL")
                .ok()
                .filter(|s| !s.trim().is_empty()),
            inner: Mutex::new(Inner {
                settings,
                ..Inner::default()
            }),
            feed: std::sync::Mutex::new(None),
            alert_feed: std::sync::Mutex::new(None),
            opened: std::sync::Mutex::new(None),
            server: std::sync::Mutex::new(None),
            startup: Startup::new(launched),
        }
    }

    /// Stop the running approvals feed, if any, and keep `next` instead.
    pub fn replace_feed(&self, next: Option<tauri::async_runtime::JoinHandle<()>>) {
        swap_task(&self.feed, next);
    }

    /// Stop the running alerts feed, if any, and keep `next` instead.
    pub fn replace_alert_feed(&self, next: Option<tauri::async_runtime::JoinHandle<()>>) {
        swap_task(&self.alert_feed, next);
    }

    /// Hold a value just read (dropping, and so wiping, the one held before), or with
    /// `None` forget it.
    pub fn hold_opened(&self, next: Option<OpenedSecret>) {
        *self
            .opened
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = next;
    }

    /// The held value of `path`, when `user_id` read it.
    pub fn opened_value(&self, user_id: &str, path: &str) -> Option<Sensitive<String>> {
        self.opened
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .filter(|o| o.user_id == user_id && o.path == path)
            .map(|o| o.value.clone())
    }

    /// The client for `url`: the one kept when it is for the same address, else a new one,
    /// kept in its place (the app talks to one server at a time).
    pub fn server(&self, url: &ServerUrl) -> CommandResult<Server> {
        self.kept_or_built(url, Server::connect)
    }

    /// The kept client when it is for `url`, else `build(url)`, kept from then on (a failed
    /// build keeps nothing: the next call tries again).
    fn kept_or_built(
        &self,
        url: &ServerUrl,
        build: impl FnOnce(ServerUrl) -> CommandResult<Server>,
    ) -> CommandResult<Server> {
        let mut kept = self
            .server
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(server) = kept.as_ref().filter(|s| s.url() == url) {
            return Ok(server.clone());
        }
        let fresh = build(url.clone())?;
        *kept = Some(fresh.clone());
        Ok(fresh)
    }

    /// The server to show on the first-run screen: `KEYHOLD_URL`, else the last
    /// one used, else the local default.
    pub fn initial_server(&self, settings: &Settings) -> String {
        self.env_server
            .clone()
            .or_else(|| settings.server_url.clone())
            .unwrap_or_else(|| server_url::DEFAULT_SERVER_URL.to_owned())
    }

    /// Save the settings; failure to save is not worth failing a sign-in for.
    pub fn persist(&self, settings: &Settings) {
        let Some(dir) = &self.config_dir else { return };
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(dir)?;
            let tmp = dir.join("settings.json.tmp");
            std::fs::write(&tmp, serde_json::to_vec_pretty(settings)?)?;
            std::fs::rename(tmp, dir.join("settings.json"))
        };
        if let Err(e) = write() {
            eprintln!("keyhold-desktop: could not save settings: {e}");
        }
    }
}

impl Inner {
    /// The session, or the error that sends the UI back to sign-in.
    pub fn session(&self) -> CommandResult<&Session> {
        self.session.as_ref().ok_or_else(CommandError::signed_out)
    }
}

/// Parse a server address or fail with the reason.
pub fn parse_server(input: &str) -> CommandResult<ServerUrl> {
    server_url::parse(input)
        .map_err(|problem| CommandError::new(ErrorKind::InvalidServerUrl, problem))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value read on the Secrets page is given back only for its path and to the person
    /// who read it, and forgetting it (leaving the page, signing out) wipes it.
    #[test]
    fn an_opened_value_is_held_for_its_reader_only() {
        let state = AppState::new(TokenStore::memory_only("test"), None, Instant::now());
        assert!(state.opened_value("usr_ada", "prod/key").is_none());
        state.hold_opened(Some(OpenedSecret {
            user_id: "usr_ada".to_owned(),
            path: "prod/key".to_owned(),
            value: Sensitive::new("sk_live_1".to_owned()),
        }));
        assert_eq!(
            state
                .opened_value("usr_ada", "prod/key")
                .map(|v| v.expose().clone())
                .as_deref(),
            Some("sk_live_1")
        );
        assert!(state.opened_value("usr_bob", "prod/key").is_none());
        assert!(state.opened_value("usr_ada", "prod/other").is_none());
        assert!(!format!("{:?}", state).contains("sk_live_1"));
        state.hold_opened(None);
        assert!(state.opened_value("usr_ada", "prod/key").is_none());
    }

    /// Commands share one client per server address: asking again for the same address
    /// builds nothing, a new address builds (and keeps) a new client, and a failed build
    /// keeps nothing.
    #[test]
    fn one_client_is_kept_until_the_address_changes() {
        let state = AppState::new(TokenStore::memory_only("test"), None, Instant::now());
        let a = server_url::parse("https://a.example.com").unwrap();
        let b = server_url::parse("https://b.example.com").unwrap();
        let builds = std::cell::Cell::new(0);
        let counting = |url: ServerUrl| {
            builds.set(builds.get() + 1);
            Server::trusting(url, None)
        };
        assert_eq!(state.kept_or_built(&a, counting).unwrap().url(), &a);
        assert_eq!(state.kept_or_built(&a, counting).unwrap().url(), &a);
        assert_eq!(builds.get(), 1);
        assert_eq!(state.kept_or_built(&b, counting).unwrap().url(), &b);
        assert_eq!(builds.get(), 2);
        let failing = |_: ServerUrl| Err(CommandError::invalid("no client"));
        assert!(state.kept_or_built(&a, failing).is_err());
        assert_eq!(state.kept_or_built(&b, counting).unwrap().url(), &b);
        assert_eq!(
            builds.get(),
            2,
            "the failed build left the kept client alone"
        );
    }
}
