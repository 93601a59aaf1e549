//! A SoftHSM2 token in a temporary directory (Debian `softhsm2`), for the master key in a
//! PKCS#11 token: `SOFTHSM2_CONF` points at a config of its own, so no test touches the
//! machine's tokens, and OpenSC's `pkcs11-tool` (Debian `opensc`) looks at what the server
//! left in it, an implementation nobody here wrote.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// Where Debian's softhsm2 puts its PKCS#11 module.
pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// The user PIN of every test token.
pub const PIN: &str = "4711-token-pin";

pub struct SoftHsm {
    pub dir: TempDir,
    pub label: String,
}

impl SoftHsm {
    /// A fresh, initialized token labelled `label` in a directory of its own.
    pub fn new(label: &str) -> Self {
        assert!(
            Path::new(MODULE).exists(),
            "{MODULE} is missing: install the Debian package softhsm2 (scripts/install-deps.sh)"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("tokens")).unwrap();
        std::fs::write(
            dir.path().join("softhsm2.conf"),
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                dir.path().join("tokens").display()
            ),
        )
        .unwrap();
        let hsm = Self {
            dir,
            label: label.to_owned(),
        };
        let out = Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", hsm.conf())
            .args(["--init-token", "--free", "--label", label, "--pin", PIN])
            .args(["--so-pin", "so-pin-0815"])
            .output()
            .expect("softhsm2-util (Debian package softhsm2)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        hsm
    }

    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("softhsm2.conf")
    }

    /// The environment a `keyhold-server` process needs to reach the token and sign in.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SOFTHSM2_CONF", self.conf().display().to_string()),
            ("KEYHOLD_PKCS11_PIN", PIN.to_owned()),
        ]
    }

    /// [`Self::env`], plus the settings (the flags' variables) that put the master key in
    /// this token under `key_label`.
    pub fn master_key_env(&self, key_label: &str) -> Vec<(&'static str, String)> {
        let mut env = self.env();
        env.push(("KEYHOLD_MASTER_KEY_PKCS11", MODULE.to_owned()));
        env.push(("KEYHOLD_PKCS11_TOKEN", self.label.clone()));
        env.push(("KEYHOLD_PKCS11_KEY_LABEL", key_label.to_owned()));
        env
    }

    /// `pkcs11-tool` (OpenSC) on this token, signed in: its stdout and stderr together.
    pub fn pkcs11_tool(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("pkcs11-tool")
            .env("SOFTHSM2_CONF", self.conf())
            .args(["--module", MODULE, "--token-label", &self.label])
            .args(["--login", "--pin", PIN])
            .args(args)
            .output()
            .expect("pkcs11-tool (Debian package opensc)");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }
}
