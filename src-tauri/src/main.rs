//! The Keyhold desktop app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    keyhold_desktop::run();
}
