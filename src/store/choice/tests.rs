//! The store choice and the hot cache, over two in-memory backends that
//! count their reads and can be switched off.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::*;
use crate::store::MemoryStore;
use crate::store::items::{self, TokenItem};

#[derive(Default)]
struct Inner {
    store: MemoryStore,
    down: AtomicBool,
    reads: AtomicUsize,
    probes: AtomicUsize,
}

/// A backend whose state the test keeps a handle on.
#[derive(Clone, Default)]
struct Fake(Arc<Inner>);

impl Fake {
    fn down(&self) -> Result<(), StoreError> {
        if self.0.down.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable {
                trouble: crate::store::Trouble {
                    what: "fake store down",
                    fix: "start it",
                },
                detail: "down".into(),
            })
        } else {
            Ok(())
        }
    }
    fn reads(&self) -> usize {
        self.0.reads.load(Ordering::SeqCst)
    }
    fn set_down(&self) {
        self.0.down.store(true, Ordering::SeqCst);
    }
}

impl SecretStore for Fake {
    fn get(&self, name: &ItemName) -> Result<Option<Secret<String>>, StoreError> {
        self.down()?;
        self.0.reads.fetch_add(1, Ordering::SeqCst);
        self.0.store.get(name)
    }
    fn set(&self, name: &ItemName, value: &Secret<String>) -> Result<(), StoreError> {
        self.down()?;
        self.0.store.set(name, value)
    }
    fn delete(&self, name: &ItemName) -> Result<bool, StoreError> {
        self.down()?;
        self.0.store.delete(name)
    }
    fn list(&self) -> Result<Vec<ItemName>, StoreError> {
        self.down()?;
        self.0.store.list()
    }
}

impl Backend for Fake {
    fn check_available(&self) -> Result<(), StoreError> {
        self.0.probes.fetch_add(1, Ordering::SeqCst);
        self.down()
    }
}

const FAR: i64 = 4_000_000_000;

fn role() -> RoleCredsItem {
    RoleCredsItem {
        access_key_id: "ASIAY34FZKBOKMUTVV7A".into(),
        secret_access_key: Secret::new("secret".into()),
        session_token: Secret::new("token".into()),
        expiration: FAR,
    }
}

fn token() -> TokenItem {
    TokenItem {
        access_token: Secret::new("at".into()),
        expires_at: FAR,
        refresh_token: None,
    }
}

fn stores(forced: Option<StoreKind>) -> (Stores, Fake, Fake) {
    let (ss, kernel) = (Fake::default(), Fake::default());
    let stores =
        Stores::with_backends(Box::new(ss.clone()), Some(Box::new(kernel.clone())), forced);
    (stores, ss, kernel)
}

#[test]
fn with_a_secret_service_roles_go_to_both_and_tokens_only_to_it() {
    let (stores, ss, kernel) = stores(None);
    let store = stores.any_session();
    items::save_token(&store, "corp", &token()).unwrap();
    items::save_role(&store, "corp", "1", "R", &role()).unwrap();
    assert_eq!(ss.0.store.names().len(), 2);
    assert_eq!(kernel.0.store.names(), [ItemName::role("corp", "1", "R")]);
    assert_eq!(store.token_note(), None);
}

#[test]
fn a_hit_reads_the_kernel_keyring_and_never_the_secret_service() {
    let (stores, ss, kernel) = stores(None);
    items::save_role(&stores.any_session(), "corp", "1", "R", &role()).unwrap();
    let (ss_reads, probes) = (ss.reads(), ss.0.probes.load(Ordering::SeqCst));

    // A new process: nothing decided yet.
    let fresh = Stores::with_backends(Box::new(ss.clone()), Some(Box::new(kernel.clone())), None);
    ss.set_down();
    let hit = items::load_role(&fresh.any_session(), "corp", "1", "R").unwrap();
    assert_eq!(hit, Some(role()));
    assert_eq!(ss.reads(), ss_reads);
    assert_eq!(
        ss.0.probes.load(Ordering::SeqCst),
        probes,
        "no Secret Service probe"
    );
}

#[test]
fn a_missing_or_corrupt_kernel_copy_falls_back_and_is_put_back() {
    let (stores, ss, kernel) = stores(None);
    let store = stores.any_session();
    items::save_role(&store, "corp", "1", "R", &role()).unwrap();
    let name = ItemName::role("corp", "1", "R");
    for damage in [None, Some("{not json"), Some(r#"{"v":1}"#)] {
        match damage {
            None => {
                kernel.0.store.delete(&name).unwrap();
            }
            Some(text) => kernel
                .0
                .store
                .set(&name, &Secret::new(text.into()))
                .unwrap(),
        }
        let before = ss.reads();
        assert_eq!(
            items::load_role(&store, "corp", "1", "R").unwrap(),
            Some(role())
        );
        assert_eq!(ss.reads(), before + 1, "{damage:?}");
        // Put back: the next read is a kernel hit.
        assert_eq!(
            items::load_role(&kernel, "corp", "1", "R").unwrap(),
            Some(role())
        );
    }
}

#[test]
fn without_a_secret_service_the_kernel_keyring_is_the_store() {
    let (stores, ss, kernel) = stores(None);
    ss.set_down();
    let store = stores.any_session();
    items::save_token(&store, "corp", &token()).unwrap();
    items::save_role(&store, "corp", "1", "R", &role()).unwrap();
    assert_eq!(kernel.0.store.names().len(), 2);
    assert!(ss.0.store.names().is_empty());
    assert_eq!(items::load_token(&store, "corp").unwrap(), Some(token()));
    assert_eq!(items::delete_session_items(&store, "corp").unwrap(), 2);
    assert!(kernel.0.store.names().is_empty());
}

#[test]
fn logout_removes_both_copies() {
    let (stores, ss, kernel) = stores(None);
    let store = stores.any_session();
    items::save_token(&store, "corp", &token()).unwrap();
    items::save_role(&store, "corp", "1", "R", &role()).unwrap();
    assert_eq!(items::delete_session_items(&store, "corp").unwrap(), 2);
    assert!(ss.0.store.names().is_empty());
    assert!(kernel.0.store.names().is_empty());
}

#[test]
fn the_variable_and_the_section_pick_the_store() {
    let (stores, ss, kernel) = stores(Some(StoreKind::Keyutils));
    // KEYLESS_STORE wins over the section.
    let store = stores.for_session(Some(StoreKind::SecretService));
    items::save_token(&store, "corp", &token()).unwrap();
    assert!(ss.0.store.names().is_empty());
    assert_eq!(kernel.0.store.names().len(), 1);
    assert_eq!(ss.0.probes.load(Ordering::SeqCst), 0);

    let (stores, ss, kernel) = self::stores(None);
    let store = stores.for_session(Some(StoreKind::Keyutils));
    items::save_token(&store, "corp", &token()).unwrap();
    assert!(ss.0.store.names().is_empty());
    assert_eq!(kernel.0.store.names().len(), 1);

    // A Secret Service asked for and absent is its own error, not a
    // fallback.
    ss.set_down();
    let store = stores.for_session(Some(StoreKind::SecretService));
    let err = items::load_token(&store, "corp").unwrap_err();
    assert!(err.to_string().contains("fake store down"), "{err}");
}

#[test]
fn with_neither_store_the_error_names_both_ways_forward() {
    let (stores, ss, kernel) = stores(None);
    ss.set_down();
    kernel.set_down();
    let err = items::load_token(&stores.any_session(), "corp").unwrap_err();
    assert!(matches!(err, StoreError::NoStore { .. }), "{err:?}");
    let hint = err.hint().unwrap_or_default();
    assert!(hint.contains("gnome-keyring"), "{hint}");
    assert!(hint.contains("keyctl"), "{hint}");
    assert!(hint.contains("KEYLESS_STORE"), "{hint}");
}
