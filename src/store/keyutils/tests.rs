//! The store's rules against a kernel kept in a map: ring placement,
//! timeouts, namespaces, misses, and the quota eviction that root (which
//! CI runs as) never meets on the real kernel.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::*;
use crate::store::items::{self, RoleCredsItem, TokenItem};

const NOW: i64 = 1_800_000_000;

#[derive(Clone, Debug)]
struct FakeKey {
    ring: Ring,
    description: String,
    payload: Vec<u8>,
    timeout: Option<u64>,
}

#[derive(Default)]
struct State {
    keys: BTreeMap<KeyId, FakeKey>,
    next: KeyId,
    /// Bytes the "user" may hold (description + 1 + payload per key).
    quota: Option<usize>,
    /// Every add tried, with its outcome.
    adds: Vec<(String, bool)>,
}

/// A kernel in a map, shared with the test through an `Arc`.
#[derive(Clone, Default)]
struct FakeKernel {
    state: Arc<Mutex<State>>,
    persistent: bool,
}

impl FakeKernel {
    fn used(state: &State) -> usize {
        state
            .keys
            .values()
            .map(|k| k.description.len() + 1 + k.payload.len())
            .sum()
    }

    fn keys(&self) -> Vec<FakeKey> {
        self.state.lock().unwrap().keys.values().cloned().collect()
    }

    fn ring_of(&self, ring: Ring) -> Ring {
        if self.persistent { ring } else { Ring::User }
    }
}

impl Kernel for FakeKernel {
    fn search(&self, ring: Ring, description: &str) -> Result<Option<KeyId>, KeyError> {
        let ring = self.ring_of(ring);
        let state = self.state.lock().unwrap();
        Ok(state
            .keys
            .iter()
            .find(|(_, k)| k.ring == ring && k.description == description)
            .map(|(id, _)| *id))
    }

    fn read(&self, key: KeyId) -> Result<Vec<u8>, KeyError> {
        let state = self.state.lock().unwrap();
        state
            .keys
            .get(&key)
            .map(|k| k.payload.clone())
            .ok_or(KeyError::KeyDoesNotExist)
    }

    fn add(
        &self,
        ring: Ring,
        description: &str,
        payload: &[u8],
        timeout: Option<u64>,
    ) -> Result<(), KeyError> {
        let ring = self.ring_of(ring);
        let mut state = self.state.lock().unwrap();
        let existing = state
            .keys
            .iter()
            .find(|(_, k)| k.ring == ring && k.description == description)
            .map(|(id, k)| (*id, k.description.len() + 1 + k.payload.len()));
        let after = Self::used(&state) - existing.map_or(0, |e| e.1)
            + description.len()
            + 1
            + payload.len();
        if state.quota.is_some_and(|q| after > q) {
            state.adds.push((description.to_string(), false));
            return Err(KeyError::QuotaExceeded);
        }
        state.adds.push((description.to_string(), true));
        let id = match existing {
            Some((id, _)) => id,
            None => {
                state.next += 1;
                state.next
            }
        };
        state.keys.insert(
            id,
            FakeKey {
                ring,
                description: description.to_string(),
                payload: payload.to_vec(),
                timeout,
            },
        );
        Ok(())
    }

    fn unlink(&self, _ring: Ring, key: KeyId) -> Result<(), KeyError> {
        self.state.lock().unwrap().keys.remove(&key);
        Ok(())
    }

    fn list(&self, ring: Ring) -> Result<Vec<(KeyId, String)>, KeyError> {
        let ring = self.ring_of(ring);
        let state = self.state.lock().unwrap();
        Ok(state
            .keys
            .iter()
            .filter(|(_, k)| k.ring == ring)
            .map(|(id, k)| (*id, k.description.clone()))
            .collect())
    }

    fn has_persistent(&self) -> bool {
        self.persistent
    }
}

fn store(kernel: &FakeKernel, namespace: Option<&str>) -> KeyutilsStore {
    let mut store = KeyutilsStore::with_kernel(Box::new(kernel.clone()), namespace);
    store.clock = || NOW;
    store.settle = Duration::ZERO;
    store
}

fn role(expiration: i64) -> RoleCredsItem {
    RoleCredsItem {
        access_key_id: "ASIAY34FZKBOKMUTVV7A".into(),
        secret_access_key: Secret::new("s".repeat(40)),
        session_token: Secret::new("t".repeat(900)),
        expiration,
    }
}

fn token() -> TokenItem {
    TokenItem {
        access_token: Secret::new("a".repeat(200)),
        expires_at: NOW + 3600,
        refresh_token: Some(Secret::new("r".repeat(200))),
    }
}

#[test]
fn roles_go_to_the_user_keyring_with_a_timeout_and_tokens_to_the_persistent_one() {
    let kernel = FakeKernel {
        persistent: true,
        ..FakeKernel::default()
    };
    let store = store(&kernel, None);
    items::save_role(&store, "corp", "111122223333", "Dev", &role(NOW + 900)).unwrap();
    items::save_token(&store, "corp", &token()).unwrap();

    let keys = kernel.keys();
    let role_key = keys
        .iter()
        .find(|k| k.description == "keyless:v1/role/corp/111122223333/Dev")
        .unwrap();
    assert_eq!(role_key.ring, Ring::User);
    assert_eq!(role_key.timeout, Some(900));
    let token_key = keys
        .iter()
        .find(|k| k.description == "keyless:v1/session/corp")
        .unwrap();
    assert_eq!(token_key.ring, Ring::Persistent);
    assert_eq!(token_key.timeout, None);

    assert_eq!(
        items::load_role(&store, "corp", "111122223333", "Dev").unwrap(),
        Some(role(NOW + 900))
    );
    assert_eq!(items::load_token(&store, "corp").unwrap(), Some(token()));
    assert_eq!(
        store.list().unwrap(),
        [
            ItemName::role("corp", "111122223333", "Dev"),
            ItemName::session("corp")
        ]
    );
    assert_eq!(items::delete_session_items(&store, "corp").unwrap(), 2);
    assert!(kernel.keys().is_empty());
}

#[test]
fn without_persistent_keyrings_everything_is_in_the_user_keyring_and_login_says_so() {
    let kernel = FakeKernel::default();
    let store = store(&kernel, None);
    items::save_token(&store, "corp", &token()).unwrap();
    assert_eq!(kernel.keys()[0].ring, Ring::User);
    assert_eq!(items::load_token(&store, "corp").unwrap(), Some(token()));
    assert!(store.token_lifetime().contains("user kernel keyring"));
    let with = FakeKernel {
        persistent: true,
        ..FakeKernel::default()
    };
    assert!(
        super::KeyutilsStore::with_kernel(Box::new(with), None)
            .token_lifetime()
            .contains("persistent")
    );
}

#[test]
fn an_expired_role_is_not_written_and_its_old_copy_goes() {
    let kernel = FakeKernel::default();
    let store = store(&kernel, None);
    items::save_role(&store, "corp", "1", "R", &role(NOW + 60)).unwrap();
    assert_eq!(kernel.keys().len(), 1);
    items::save_role(&store, "corp", "1", "R", &role(NOW)).unwrap();
    assert!(kernel.keys().is_empty());
}

#[test]
fn namespaces_keep_items_apart() {
    let kernel = FakeKernel::default();
    let a = store(&kernel, Some("test-a"));
    let b = store(&kernel, Some("test-b"));
    let plain = store(&kernel, None);
    items::save_token(&a, "corp", &token()).unwrap();
    assert_eq!(
        kernel.keys()[0].description,
        "keyless:test-a:v1/session/corp"
    );
    assert_eq!(items::load_token(&b, "corp").unwrap(), None);
    assert_eq!(items::load_token(&plain, "corp").unwrap(), None);
    assert!(b.list().unwrap().is_empty());
    assert!(plain.list().unwrap().is_empty());
    assert_eq!(a.list().unwrap(), [ItemName::session("corp")]);
}

#[test]
fn a_corrupt_item_is_a_miss_and_is_overwritten() {
    let kernel = FakeKernel::default();
    let store = store(&kernel, None);
    let name = ItemName::role("corp", "1", "R");
    kernel
        .add(
            Ring::User,
            "keyless:v1/role/corp/1/R",
            b"\xff\xfe not utf-8",
            None,
        )
        .unwrap();
    assert_eq!(store.get(&name).unwrap(), None);
    kernel
        .add(Ring::User, "keyless:v1/role/corp/1/R", b"{\"v\":1}", None)
        .unwrap();
    assert_eq!(items::load_role(&store, "corp", "1", "R").unwrap(), None);
    items::save_role(&store, "corp", "1", "R", &role(NOW + 60)).unwrap();
    assert_eq!(
        items::load_role(&store, "corp", "1", "R").unwrap(),
        Some(role(NOW + 60))
    );
    assert_eq!(kernel.keys().len(), 1);
}

#[test]
fn on_edquot_the_soonest_expiring_roles_are_evicted_and_the_write_retried_once() {
    let kernel = FakeKernel::default();
    let store = store(&kernel, None);
    items::save_token(&store, "corp", &token()).unwrap();
    for (role_name, left) in [("Late", 3000), ("Soon", 100), ("Mid", 2000)] {
        items::save_role(&store, "corp", "1", role_name, &role(NOW + left)).unwrap();
    }
    // Room for exactly what is there now.
    {
        let mut state = kernel.state.lock().unwrap();
        state.quota = Some(FakeKernel::used(&state));
        state.adds.clear();
    }
    items::save_role(&store, "corp", "1", "New", &role(NOW + 600)).unwrap();

    let left: Vec<String> = kernel.keys().into_iter().map(|k| k.description).collect();
    assert!(
        left.contains(&"keyless:v1/role/corp/1/New".to_string()),
        "{left:?}"
    );
    assert!(
        !left.contains(&"keyless:v1/role/corp/1/Soon".to_string()),
        "{left:?}"
    );
    // Only as much as needed went: the later ones and the token stay.
    assert!(
        left.contains(&"keyless:v1/role/corp/1/Mid".to_string()),
        "{left:?}"
    );
    assert!(
        left.contains(&"keyless:v1/role/corp/1/Late".to_string()),
        "{left:?}"
    );
    assert!(
        left.contains(&"keyless:v1/session/corp".to_string()),
        "{left:?}"
    );
    let adds = kernel.state.lock().unwrap().adds.clone();
    assert_eq!(
        adds,
        [
            ("keyless:v1/role/corp/1/New".to_string(), false),
            ("keyless:v1/role/corp/1/New".to_string(), true)
        ]
    );
}

#[test]
fn when_eviction_is_not_enough_the_error_names_the_sysctl() {
    let kernel = FakeKernel::default();
    let store = store(&kernel, None);
    items::save_role(&store, "corp", "1", "Old", &role(NOW + 100)).unwrap();
    kernel.state.lock().unwrap().quota = Some(100);
    let err = items::save_token(&store, "corp", &token()).unwrap_err();
    assert!(matches!(err, StoreError::Quota { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("v1/session/corp"), "{text}");
    let hint = err.hint().unwrap_or_default();
    assert!(hint.contains("/proc/sys/kernel/keys/maxbytes"), "{hint}");
    // It tried exactly twice, with the role item evicted in between.
    let adds = kernel.state.lock().unwrap().adds.clone();
    assert_eq!(adds.iter().filter(|(_, ok)| !ok).count(), 2, "{adds:?}");
    assert!(kernel.keys().is_empty());
}

#[test]
fn errors_never_carry_the_value() {
    let kernel = FakeKernel::default();
    let store = store(&kernel, None);
    kernel.state.lock().unwrap().quota = Some(10);
    let secret = Secret::new("SENTINEL-keyutils-secret".to_string());
    let err = store
        .set(&ItemName::session("corp"), &secret)
        .unwrap_err()
        .to_string();
    assert!(!err.contains("SENTINEL"), "{err}");
}
