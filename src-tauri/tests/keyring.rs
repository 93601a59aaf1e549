//! The session token really lands in the OS keyring: a second process reads back what
//! this one stored (an in-memory mock would pass a same-process test and fail this one).
//! Headless Linux uses the kernel keyutils store, as CI does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use keyhold_core::Sensitive;
use keyhold_desktop::keystore::{KeyringBackend, TokenStore};

const CHILD_ACCOUNT: &str = "KEYHOLD_KEYRING_TEST_ACCOUNT";

#[test]
fn keyutils_token_is_read_back_by_another_process() {
    let store = TokenStore::init_with(keyhold_desktop::keystore::SERVICE, Some("keyutils"));
    assert_eq!(
        store.backend(),
        KeyringBackend::KernelKeyutils,
        "the kernel keyutils store is not usable on this machine"
    );

    if let Ok(account) = std::env::var(CHILD_ACCOUNT) {
        // The child: print what the parent stored.
        let token = store
            .load(&account)
            .unwrap()
            .expect("no entry in the child process");
        println!("TOKEN={}", token.expose());
        return;
    }

    let account = format!("http://127.0.0.1:{}", std::process::id());
    let token = Sensitive::new(format!("khs_test_{}", std::process::id()));
    store.save(&account, &token).unwrap();

    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "keyutils_token_is_read_back_by_another_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ACCOUNT, &account)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let cleanup = store.delete(&account);
    assert!(
        output.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(&format!("TOKEN={}\n", token.expose())),
        "the other process did not read the token back: {stdout}"
    );
    cleanup.unwrap();
    assert!(
        store.load(&account).unwrap().is_none(),
        "delete left the entry behind"
    );
}

#[test]
fn memory_only_keeps_nothing() {
    let store = TokenStore::init_with(keyhold_desktop::keystore::SERVICE, Some("none"));
    assert_eq!(store.backend(), KeyringBackend::MemoryOnly);
    store
        .save("http://127.0.0.1:1", &Sensitive::new("khs_x".to_owned()))
        .unwrap();
    assert!(store.load("http://127.0.0.1:1").unwrap().is_none());
}
