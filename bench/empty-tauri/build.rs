//! Tauri's build step, without the tauri CLI (as in src-tauri/build.rs).

fn main() {
    tauri_build::build();
}
