//! Tauri's build step, without the tauri CLI: the config lives at the workspace root, and
//! every command gets an `allow-…` permission so that capabilities/ can list exactly the
//! commands the UI uses.

include!("src/command_names.rs");

fn main() {
    let attributes = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMAND_NAMES));
    if let Err(error) = tauri_build::try_build(attributes) {
        println!("cargo::error=tauri-build failed: {error:#}");
    }
}
