//! Key custody (issue 21): the keys come from a root key the master key only wraps, so the
//! master key rotates (file → new file → SoftHSM2 token → new token key) by re-wrapping
//! one row, on real server processes, and a data dir made by the server before root keys
//! existed keeps every password, session, agent key, token and secret.

use std::path::Path;
use std::process::Command;

use keyhold_client::{Client, LoginOutcome};
use keyhold_e2e::softhsm::{MODULE, SoftHsm};
use keyhold_e2e::{ServerProcess, target_bin};

use crate::support::{key_req, p, token_req};

const VALUE: &str = "value-that-must-survive-every-rotation";

/// What a person made before a rotation, to use again after it.
struct Made {
    email: String,
    session: String,
    agent_key: String,
}

async fn make(server: &ServerProcess) -> Made {
    let (email, session) = server.signed_up("custody").await;
    let c = server.client().with_token(session.clone());
    c.put_secret(&p("app/db/PASSWORD"), VALUE, None, None)
        .await
        .unwrap();
    let key = c
        .create_key(&key_req("agent", &["secrets:read:app/*"]))
        .await
        .unwrap();
    Made {
        email,
        session,
        agent_key: key.secret.expose().clone(),
    }
}

/// Everything made before still works: the session, signing in with the password (the
/// pepper), the agent key and a token it mints (credential hashes), the secret (KEKs).
async fn still_works(url: &str, m: &Made) {
    let c = Client::new(url).unwrap();
    let me = c.with_token(m.session.clone()).me().await.unwrap();
    assert_eq!(me.user.email, m.email);
    let LoginOutcome::Session(s) = c
        .login(&m.email, keyhold_e2e::STRONG_PASSWORD)
        .await
        .unwrap()
    else {
        panic!("unexpected 2FA step")
    };
    let fresh = c.with_token(s.session_token.expose().clone());
    let read = fresh.get_secret(&p("app/db/PASSWORD"), None).await.unwrap();
    assert_eq!(read.value.expose(), VALUE);
    let agent = c.with_token(m.agent_key.clone());
    let t = agent
        .issue_token(&token_req(&["secrets:read:app/*"]))
        .await
        .unwrap();
    let by_token = c.with_token(t.token.expose().clone());
    let read = by_token
        .get_secret(&p("app/db/PASSWORD"), None)
        .await
        .unwrap();
    assert_eq!(read.value.expose(), VALUE);
}

/// `keyhold-server --data-dir DIR [extra] master-key rotate ARGS` with `env`: its output.
fn rotate(dir: &Path, extra: &[&str], args: &[&str], env: &[(&str, String)]) -> (bool, String) {
    let out = Command::new(target_bin("keyhold-server"))
        .arg("--data-dir")
        .arg(dir)
        .args(extra)
        .args(["master-key", "rotate"])
        .args(args)
        .env_remove("KEYHOLD_MASTER_KEY")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn spawn(dir: &Path, env: &[(&'static str, String)]) -> ServerProcess {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    ServerProcess::spawn(dir, &env)
}

/// A start that must fail: its log.
fn refused_start(dir: &Path, env: &[(&'static str, String)]) -> String {
    let out = Command::new(target_bin("keyhold-server"))
        .arg("--data-dir")
        .arg(dir)
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("KEYHOLD_MASTER_KEY")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert!(!out.status.success(), "the server started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The master key moves file → new file → token key → another token key, each time with
/// `master-key rotate` while the server is stopped, and after each the server starts on
/// the new key only, with everything made before still working; every rotation is
/// audited on the system chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_key_rotates_file_to_file_to_hsm_to_new_hsm_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let hsm = SoftHsm::new("keyhold-rotation");
    let server = spawn(data, &[]);
    let made = make(&server).await;
    server.terminate();
    let old_file = std::fs::read(data.join("master.key")).unwrap();

    // File → new file.
    let new_file = dir.path().join("new.key");
    let (ok, out) = rotate(data, &[], &["--to-file", new_file.to_str().unwrap()], &[]);
    assert!(ok, "{out}");
    std::fs::rename(&new_file, data.join("master.key")).unwrap();
    let server = spawn(data, &[]);
    still_works(&server.url, &made).await;
    server.terminate();
    std::fs::write(data.join("old.key"), &old_file).unwrap();
    let log = refused_start(
        data,
        &[("KEYHOLD_MASTER_KEY", String::from_utf8(old_file).unwrap())],
    );
    assert!(log.contains("does not open this vault's root key"), "{log}");

    // File → HSM: the key is generated in the token and the file is no longer needed.
    let token = hsm.label.as_str();
    let (ok, out) = rotate(
        data,
        &[],
        &[
            "--to-pkcs11",
            MODULE,
            "--to-token",
            token,
            "--to-key-label",
            "master-1",
        ],
        &hsm.env(),
    );
    assert!(ok, "{out}");
    std::fs::remove_file(data.join("master.key")).unwrap();
    let server = spawn(data, &hsm.master_key_env("master-1"));
    still_works(&server.url, &made).await;
    server.terminate();

    // HSM → a new key in the token.
    let current = hsm.master_key_env("master-1");
    let (ok, out) = rotate(
        data,
        &[],
        &["--to-pkcs11", MODULE, "--to-key-label", "master-2"],
        &current,
    );
    assert!(ok, "{out}");
    let log = refused_start(data, &current);
    assert!(
        log.contains("master-2"),
        "the error names the key needed: {log}"
    );
    let server = spawn(data, &hsm.master_key_env("master-2"));
    still_works(&server.url, &made).await;
    server.terminate();
    assert!(
        !data.join("master.key").exists(),
        "no key file was generated"
    );

    // Three rotations, each audited by the System actor on the tenant-less chain.
    let db = rusqlite::Connection::open(data.join("keyhold.db")).unwrap();
    let mut stmt = db
        .prepare("SELECT actor_type, detail FROM audit_events WHERE action = 'master_key.rotated' AND chain = '' ORDER BY id")
        .unwrap();
    let rows: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows.iter().all(|(a, _)| a == "system"), "{rows:?}");
    assert!(
        rows[2].1.contains("master-1") && rows[2].1.contains("master-2"),
        "{rows:?}"
    );
}

/// A vault served from its first start with `--master-key-pkcs11`: the key is generated in
/// the token, stays there (OpenSC's pkcs11-tool sees a sensitive, never-extractable key
/// whose value it cannot read), the whole API round trip works across a restart, no key
/// file is made, and neither the PIN nor a wrong PIN's attempt shows in any output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_on_a_softhsm_token_keeps_its_master_key_inside_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let hsm = SoftHsm::new("keyhold-api");
    let env = hsm.master_key_env("keyhold-master");
    let server = spawn(data, &env);
    let made = make(&server).await;
    still_works(&server.url, &made).await;
    let (_, log) = server.terminate();
    assert!(
        log.contains("generated a new master key in the PKCS#11 token"),
        "{log}"
    );
    let server = spawn(data, &env);
    still_works(&server.url, &made).await;
    let (_, log2) = server.terminate();
    assert!(!log2.contains("generated a new master key"), "{log2}");
    assert!(!data.join("master.key").exists());

    let (ok, objects) = hsm.pkcs11_tool(&["--list-objects", "--type", "secrkey"]);
    assert!(ok, "{objects}");
    assert!(objects.contains("keyhold-master"), "{objects}");
    assert!(objects.contains("AES length 32"), "{objects}");
    assert!(objects.contains("never extractable"), "{objects}");
    assert!(objects.contains("sensitive"), "{objects}");
    let (read, out) = hsm.pkcs11_tool(&[
        "--read-object",
        "--type",
        "secrkey",
        "--label",
        "keyhold-master",
    ]);
    assert!(!read, "the key's value left the token: {out}");

    let mut wrong = env.clone();
    wrong.retain(|(k, _)| *k != "KEYHOLD_PKCS11_PIN");
    wrong.push(("KEYHOLD_PKCS11_PIN", "0000-wrong-pin".to_owned()));
    let err = refused_start(data, &wrong);
    assert!(err.contains("signing in to the PKCS#11 token"), "{err}");
    for text in [&log, &log2, &err] {
        assert!(
            !text.contains(keyhold_e2e::softhsm::PIN),
            "the PIN was printed: {text}"
        );
        assert!(
            !text.contains("0000-wrong-pin"),
            "the PIN was printed: {text}"
        );
    }
}

/// A data dir made by the server before root keys existed (tests/fixtures/pre-root-key:
/// made with main's binary of 2026-12-04 and its own master key file): after the upgrade,
/// its session, password, agent key, token and secret all work, because its old master
/// key's material became its root key. Checked twice: the start that adopts the root key
/// and a later start that opens the stored one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_dir_from_before_root_keys_keeps_every_credential_and_secret() {
    use std::sync::Arc;

    use keyhold_server::RunningServer;
    use keyhold_server::config::Config;
    use keyhold_vault::clock::ManualClock;

    #[derive(serde::Deserialize)]
    struct Fixture {
        made_at: chrono::DateTime<chrono::Utc>,
        email: String,
        password: String,
        session_token: String,
        agent_key: String,
        token: String,
        secret_path: String,
        secret_value: String,
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pre-root-key");
    let f: Fixture =
        serde_json::from_slice(&std::fs::read(src.join("credentials.json")).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for file in ["keyhold.db", "master.key"] {
        std::fs::copy(src.join(file), dir.path().join(file)).unwrap();
    }
    use std::os::unix::fs::PermissionsExt;
    let private = std::fs::Permissions::from_mode(0o600);
    std::fs::set_permissions(dir.path().join("master.key"), private).unwrap();

    for start in ["adopts the root key", "opens the stored root key"] {
        // The fixture's session and token are hours old: the clock stands a minute after.
        let clock = Arc::new(ManualClock::new(f.made_at + chrono::Duration::minutes(1)));
        let config = Config::for_data_dir(dir.path().to_path_buf());
        let server = RunningServer::start(config, clock).await.unwrap();
        let c = Client::new(&server.url()).unwrap();
        let me = c.with_token(f.session_token.clone()).me().await;
        assert_eq!(me.unwrap().user.email, f.email, "{start}: the old session");
        let LoginOutcome::Session(_) = c.login(&f.email, &f.password).await.unwrap() else {
            panic!("unexpected 2FA step")
        };
        let path = p(&f.secret_path);
        let old_token = c.with_token(f.token.clone());
        let read = old_token.get_secret(&path, None).await.unwrap();
        assert_eq!(
            read.value.expose(),
            &f.secret_value,
            "{start}: the old token"
        );
        let agent = c.with_token(f.agent_key.clone());
        let t = agent
            .issue_token(&token_req(&["secrets:read:production/*"]))
            .await
            .unwrap();
        let read = c
            .with_token(t.token.expose().clone())
            .get_secret(&path, None)
            .await;
        assert_eq!(
            read.unwrap().value.expose(),
            &f.secret_value,
            "{start}: the agent key"
        );
        server.stop().await.unwrap();
    }
    let db = rusqlite::Connection::open(dir.path().join("keyhold.db")).unwrap();
    let version: i64 = db
        .query_row("SELECT version FROM root_key", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 1);
}
