//! Backups you can restore (issue 21): `keyhold-server backup` under a write load, restored
//! elsewhere with `keyhold-server restore`, and a server started there. The embedded store
//! only (PostgreSQL is backed up with its own tools), so these run once, on SQLite.

mod sqlite_only {
    use std::process::Command;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use keyhold_e2e::{STRONG_PASSWORD, ServerProcess, target_bin};

    use crate::support::p;

    fn server_cmd(data_dir: &std::path::Path, args: &[&str]) -> std::process::Output {
        Command::new(target_bin("keyhold-server"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(args)
            .env_remove("KEYHOLD_MASTER_KEY")
            .output()
            .unwrap()
    }

    /// The restore drill: secrets written, then a write load running while backups are
    /// taken (`--keep 2` of three), a restore into a new data dir with the master key's
    /// copy, and a server there: the audit chain verifies and every secret written before
    /// the backup began reads back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_backup_taken_under_load_restores_every_chain_and_secret() {
        let dir = tempfile::tempdir().unwrap();
        let server = ServerProcess::spawn(dir.path(), &[]);
        let (email, token) = server.signed_up("drill").await;
        let c = server.client().with_token(token);
        for i in 0..25 {
            c.put_secret(
                &p(&format!("drill/s{i}")),
                &format!("value-{i}"),
                None,
                None,
            )
            .await
            .unwrap();
        }
        let stop = Arc::new(AtomicBool::new(false));
        let load = tokio::spawn({
            let (c, stop) = (c.clone(), stop.clone());
            async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    c.put_secret(&p(&format!("drill/load/l{n}")), "x", None, None)
                        .await
                        .unwrap();
                    n += 1;
                }
                n
            }
        });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let backups = tempfile::tempdir().unwrap();
        let to = backups.path().to_str().unwrap().to_owned();
        for _ in 0..3 {
            let out = tokio::task::spawn_blocking({
                let (d, to) = (dir.path().to_owned(), to.clone());
                move || server_cmd(&d, &["backup", "--to", &to, "--keep", "2"])
            })
            .await
            .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        }
        stop.store(true, Ordering::Relaxed);
        let written_during = load.await.unwrap();
        assert!(written_during > 0, "the backups ran under a write load");
        let mut kept: Vec<_> = std::fs::read_dir(backups.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        kept.sort();
        assert_eq!(kept.len(), 2, "--keep 2: {kept:?}");
        let newest = kept.pop().unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&newest).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "a backup is private");
        }

        // Into a non-empty data dir: refused, nothing changed.
        let out = server_cmd(dir.path(), &["restore", "--from", newest.to_str().unwrap()]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));

        let elsewhere = tempfile::tempdir().unwrap();
        let target = elsewhere.path().join("restored");
        let out = server_cmd(&target, &["restore", "--from", newest.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::copy(dir.path().join("master.key"), target.join("master.key")).unwrap();
        drop(server);

        let restored = ServerProcess::spawn(&target, &[]);
        let c = match restored
            .client()
            .login(&email, STRONG_PASSWORD)
            .await
            .unwrap()
        {
            keyhold_client::LoginOutcome::Session(s) => restored
                .client()
                .with_token(s.session_token.expose().clone()),
            keyhold_client::LoginOutcome::MfaRequired { .. } => panic!("no 2FA here"),
        };
        let verified = c.audit_verify().await.unwrap();
        assert!(verified.ok && verified.checked > 25, "{verified:?}");
        for i in 0..25 {
            let v = c
                .get_secret(&p(&format!("drill/s{i}")), None)
                .await
                .unwrap();
            assert_eq!(v.value.expose(), &format!("value-{i}"));
        }
    }
}
