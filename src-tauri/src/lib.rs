//! Keyhold desktop: the Security Vault dashboard.
//!
//! The web view (ui/) calls only the commands registered here; each is a thin layer over
//! keyhold-client (see `backend`). The session token lives in Rust state and the OS
//! keyring, never in the web view. TypeScript bindings for the commands and their types are
//! generated from this crate into ui/src/bindings.ts (see `bindings`).

pub mod alerts_feed;
pub mod approvals_feed;
pub mod backend;
pub mod background;
pub mod clipboard;
pub mod commands;
pub mod error;
pub mod keystore;
pub mod notify;
pub mod qr;
#[cfg(target_os = "linux")]
pub mod rendering;
pub mod server_url;
pub mod state;
pub mod view;

include!("command_names.rs");

use commands::{
    alerts, approvals, audit, files, keys, lock, members, recovery, secrets, security, session,
    settings, startup, webhooks,
};
use tauri::Manager;

/// Every command, listed once. The running app registers them with
/// `tauri::generate_handler!`; the bindings collect the same list with
/// `tauri_specta::collect_commands!`, which wraps that same handler and adds each command's
/// TypeScript signature. Only the bindings need the signatures, so the app does not build
/// them at start-up or carry specta's type machinery in its binary (about 0.4 MB;
/// docs/PERFORMANCE.md, desktop size).
macro_rules! with_app_commands {
    ($($handler:tt)+) => {
        $($handler)+![
            session::app_info,
            session::check_server_url,
            session::server_health,
            session::session_status,
            session::sign_up,
            session::sign_in,
            session::sign_in_mfa,
            session::cancel_mfa,
            session::sign_out,
            security::password_strength,
            security::security_overview,
            security::request_email_verification,
            security::change_password,
            security::reauthenticate,
            security::mfa_status,
            security::mfa_begin_enrollment,
            security::mfa_confirm_enrollment,
            security::mfa_regenerate_backup_codes,
            security::mfa_disable,
            security::list_sessions,
            security::end_other_sessions,
            lock::lock_app,
            lock::unlock_app,
            keys::list_keys,
            keys::check_scope,
            keys::create_key,
            keys::revoke_key,
            keys::revoke_leaked_key,
            keys::reinstate_key,
            keys::key_details,
            keys::update_key,
            keys::rotate_key,
            alerts::list_alerts,
            alerts::acknowledge_alert,
            alerts::watch_alerts,
            alerts::list_blocks,
            alerts::lift_block,
            approvals::list_approvals,
            approvals::approve_request,
            approvals::deny_request,
            approvals::watch_approvals,
            audit::audit_events,
            audit::export_audit,
            audit::audit_actions,
            audit::verify_audit,
            files::save_text_file,
            startup::first_screen_shown,
            secrets::list_secrets,
            secrets::secret_details,
            secrets::write_secret,
            secrets::read_secret,
            secrets::reveal_secret,
            secrets::copy_secret,
            secrets::forget_secret,
            secrets::delete_secret,
            secrets::approval_status,
            secrets::invite_member,
            members::list_invitations,
            members::revoke_invitation,
            members::list_members,
            members::change_member_role,
            members::remove_member,
            members::reset_member_mfa,
            settings::tenant_settings,
            settings::save_tenant_settings,
            settings::notification_prefs,
            settings::save_notification_prefs,
            settings::set_background_mode,
            webhooks::list_webhooks,
            webhooks::create_webhook,
            webhooks::update_webhook,
            webhooks::delete_webhook,
            webhooks::rotate_webhook_secret,
            webhooks::test_webhook,
            webhooks::webhook_deliveries,
            webhooks::retry_webhook_delivery,
            recovery::request_password_reset,
            recovery::reset_password,
        ]
    };
}

/// Every command, registered with tauri-specta so that the bindings list the same set.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(with_app_commands!(tauri_specta::collect_commands))
        .error_handling(tauri_specta::ErrorHandlingMode::Throw)
        // One TypeScript type per Rust type (no _Serialize/_Deserialize pairs).
        .disable_serde_phases()
}

pub mod bindings {
    //! The generated TypeScript: `ui/src/bindings.ts`. Regenerate with
    //! `KEYHOLD_UPDATE_BINDINGS=1 cargo test -p keyhold-desktop bindings`.

    use std::path::{Path, PathBuf};

    /// Where the committed bindings live.
    pub fn committed_path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings.ts")
    }

    /// Render the bindings to `path`.
    pub fn export(path: &Path) -> Result<(), String> {
        let ts = specta_typescript::Typescript::default()
            .header("// Generated by keyhold-desktop from its Rust commands. Do not edit.\n/* eslint-disable */");
        super::specta_builder()
            .export(ts, path)
            .map_err(|e| e.to_string())
    }
}

/// Start the app.
pub fn run() {
    // Before anything else, so the first-screen log line counts Tauri's and WebKit's start.
    let launched = std::time::Instant::now();
    // While the process has one thread: it may set an environment variable for WebKit.
    #[cfg(target_os = "linux")]
    rendering::configure();
    let tokens = keystore::TokenStore::init(keystore::SERVICE);
    let app = tauri::Builder::default();
    // OS notifications: on Linux straight over D-Bus (approvals_feed), elsewhere the plugin.
    #[cfg(not(target_os = "linux"))]
    let app = app.plugin(tauri_plugin_notification::init());
    let result = app
        .invoke_handler(with_app_commands!(tauri::generate_handler))
        .on_window_event(background::on_window_event)
        .setup(move |app| {
            let config_dir = app.path().app_config_dir().ok();
            app.manage(state::AppState::new(tokens, config_dir, launched));
            app.manage(background::Background::default());
            background::install_tray(app.handle());
            Ok(())
        })
        .run(tauri::generate_context!("../tauri.conf.json"));
    if let Err(e) = result {
        eprintln!("keyhold-desktop: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &std::path::Path) -> String {
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The committed TypeScript bindings match the Rust commands. Regenerate with
    /// `KEYHOLD_UPDATE_BINDINGS=1 cargo test -p keyhold-desktop bindings`.
    #[test]
    fn bindings_are_up_to_date() {
        let committed = bindings::committed_path();
        if std::env::var_os("KEYHOLD_UPDATE_BINDINGS").is_some() {
            bindings::export(&committed).unwrap();
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("bindings.ts");
        bindings::export(&fresh).unwrap();
        assert!(
            read(&committed) == read(&fresh),
            "ui/src/bindings.ts is out of date with the Rust commands: run \
             `KEYHOLD_UPDATE_BINDINGS=1 cargo test -p keyhold-desktop bindings` and commit it"
        );
    }

    /// Registered commands = COMMAND_NAMES (whose permissions build.rs generates) =
    /// what capabilities/default.json allows. Nothing more, nothing less.
    #[test]
    fn commands_permissions_and_capabilities_agree() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("bindings.ts");
        bindings::export(&fresh).unwrap();
        let ts = read(&fresh);
        // Each command appears as `__TAURI_INVOKE<T>("name"…`.
        let mut registered: Vec<String> = ts
            .split("__TAURI_INVOKE<")
            .skip(1)
            .filter_map(|rest| {
                rest.split_once("(\"")
                    .and_then(|(_, r)| r.split('"').next())
            })
            .map(str::to_owned)
            .collect();
        registered.sort();
        let mut names: Vec<String> = COMMAND_NAMES.iter().map(|s| (*s).to_owned()).collect();
        names.sort();
        assert_eq!(
            registered, names,
            "src/command_names.rs and specta_builder() differ"
        );

        let caps: serde_json::Value = serde_json::from_str(&read(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("capabilities/default.json"),
        ))
        .unwrap();
        let mut allowed: Vec<String> = caps["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_owned())
            .collect();
        allowed.sort();
        let mut expected: Vec<String> = COMMAND_NAMES
            .iter()
            .map(|n| format!("allow-{}", n.replace('_', "-")))
            .collect();
        expected.sort();
        assert_eq!(
            allowed, expected,
            "capabilities/default.json must allow exactly the app's commands"
        );
    }
}
