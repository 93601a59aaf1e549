use std::sync::Arc;

use super::*;
use crate::keys::Keys;
use crate::store::Store;
use crate::store::event::ClientInfo;
use crate::store::sqlite::SqliteStore;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_323_045, 0).unwrap()
}

fn memory(fill: u8) -> MemoryMasterKey {
    MemoryMasterKey::new(Key32::test([fill; 32]))
}

fn store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("keyhold.db")).unwrap();
    (dir, Arc::new(s))
}

/// A tenant row, as a vault made before root keys existed has.
fn add_tenant(dir: &tempfile::TempDir) {
    let c = rusqlite::Connection::open(dir.path().join("keyhold.db")).unwrap();
    c.execute(
        "INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'T', 0)",
        [],
    )
    .unwrap();
}

/// A master key like an HSM's: nothing to adopt.
struct NoLegacy(MemoryMasterKey);

impl MasterKey for NoLegacy {
    fn describe(&self) -> String {
        "token key".to_owned()
    }
    fn wrap(&self, root: &Key32, aad: &[u8]) -> anyhow::Result<Vec<u8>> {
        self.0.wrap(root, aad)
    }
    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> anyhow::Result<Key32> {
        self.0.unwrap(wrapped, aad)
    }
    fn legacy_root(&self) -> Option<Key32> {
        None
    }
}

fn event(_: &Rewrapped) -> NewEvent {
    NewEvent::new("master_key.rotated", now(), &ClientInfo::default())
}

#[tokio::test]
async fn a_new_vault_gets_a_random_root_key_kept_across_starts() {
    let (_dir, s) = store();
    let master = memory(1);
    let (root, origin) = open_root_key(s.as_ref(), &master, now()).await.unwrap();
    assert_eq!(origin, RootKeyOrigin::Created);
    assert_ne!(root.bytes(), &[1; 32], "the root key is not the master key");
    let (again, origin) = open_root_key(s.as_ref(), &master, now()).await.unwrap();
    assert_eq!(origin, RootKeyOrigin::Stored);
    assert_eq!(again.bytes(), root.bytes());
    let row = s.root_key().await.unwrap().unwrap();
    assert!(!row.wrapped.windows(32).any(|w| w == root.bytes()));
}

#[tokio::test]
async fn a_vault_with_data_keeps_the_keys_its_master_key_derived() {
    let (dir, s) = store();
    add_tenant(&dir);
    let master = memory(7);
    let (root, origin) = open_root_key(s.as_ref(), &master, now()).await.unwrap();
    assert_eq!(origin, RootKeyOrigin::Adopted);
    // The keys a pre-root-key server derived straight from this master key.
    let before = Keys::from_root(&Key32::test([7; 32])).unwrap();
    let after = Keys::from_root(&root).unwrap();
    assert_eq!(after.pepper.bytes(), before.pepper.bytes());
    assert_eq!(after.wrap.bytes(), before.wrap.bytes());
    assert_eq!(
        after.credential_hash("kha_x"),
        before.credential_hash("kha_x")
    );
    let refused = open_root_key(s.as_ref(), &NoLegacy(memory(7)), now()).await;
    assert!(refused.is_ok(), "once stored, any key that opens it works");
}

#[tokio::test]
async fn a_key_that_cannot_have_made_the_data_is_refused_and_nothing_stored() {
    let (dir, s) = store();
    add_tenant(&dir);
    let err = open_root_key(s.as_ref(), &NoLegacy(memory(7)), now())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("master-key rotate"), "{err}");
    assert!(s.root_key().await.unwrap().is_none());
}

#[tokio::test]
async fn rotation_rewraps_the_same_root_and_retires_the_old_key() {
    let (_dir, s) = store();
    let (old, new) = (memory(1), memory(2));
    let (root, _) = open_root_key(s.as_ref(), &old, now()).await.unwrap();
    let done = rotate_master_key(s.as_ref(), &old, &new, now(), event)
        .await
        .unwrap();
    assert_eq!(
        (done.version, &done.from, &done.to),
        (2, &old.describe(), &new.describe())
    );
    assert_ne!(old.describe(), new.describe());
    let (back, _) = open_root_key(s.as_ref(), &new, now()).await.unwrap();
    assert_eq!(back.bytes(), root.bytes());
    let err = open_root_key(s.as_ref(), &old, now())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&new.describe()) && err.contains("version 2"),
        "{err}"
    );
    let again = rotate_master_key(s.as_ref(), &old, &new, now(), event).await;
    assert!(again.is_err(), "the old key no longer opens the vault");
}

#[tokio::test]
async fn an_older_wrapping_put_back_does_not_open_as_the_current_version() {
    let (_dir, s) = store();
    let master = memory(1);
    open_root_key(s.as_ref(), &master, now()).await.unwrap();
    let v1 = s.root_key().await.unwrap().unwrap();
    assert!(master.unwrap(&v1.wrapped, &root_aad(2)).is_err());
    assert!(master.unwrap(&v1.wrapped, &root_aad(1)).is_ok());
}

#[test]
fn debug_shows_no_key_material() {
    let m = memory(0xAB);
    let shown = format!("{m:?}");
    assert!(
        !shown.contains("171") && !shown.to_lowercase().contains("ab, "),
        "{shown}"
    );
    let cfg = pkcs11::Pkcs11Config {
        module: "/m.so".into(),
        token: "t".into(),
        key_label: "k".into(),
        pin: keyhold_core::Sensitive::new("1234-secret-pin".to_owned()),
    };
    assert!(!format!("{cfg:?}").contains("1234-secret-pin"));
}
