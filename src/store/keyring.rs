//! The secret store: the OS keyring, or an in-process map for `demo`.
//!
//! # Back ends
//!
//! [`KeyringStore`] goes through `keyring-core` 1.x with exactly one
//! platform store per OS:
//!
//! - Linux and the BSDs: `zbus-secret-service-keyring-store`, the Secret
//!   Service (gnome-keyring, KeePassXC, KWallet's bridge) over `zbus`. It is
//!   pure Rust, so keyless links no libdbus and needs no `-dev` package to
//!   build; it is built with the `async-io` runtime and pure-Rust crypto, so
//!   the cache-hit path of `credential-process` never builds a tokio runtime.
//! - macOS: the login Keychain (`apple-native-keyring-store`).
//! - Windows: Credential Manager (`windows-native-keyring-store`), whose
//!   blob limit (2560 bytes) is why every item stays under 2 KB.
//!
//! # What the items look like in the Secret Service
//!
//! Every item carries two attributes: `service` = `keyless` and `username`
//! = the item name (for example `v1/role/corp/111122223333/Developer`), and
//! the label `keyless: <item name>`. They live in the default collection
//! (the user's login keyring). So, with libsecret-tools:
//!
//! ```text
//! secret-tool search --all service keyless
//! secret-tool lookup service keyless username v1/session/corp
//! ```
//!
//! # Cost of one read
//!
//! The connection is made on first use, not at construction. A `get` is:
//! connect and authenticate to the session bus, `OpenSession` (a DH key
//! exchange, so the secret never crosses the bus in clear), `SearchItems`
//! on the two attributes (a direct attribute lookup; the Secret Service has
//! no get-by-name), then `GetSecret`. A collection is unlocked only when
//! the item found is locked, which is the one case where the user must be
//! asked.
//!
//! Measured against a private gnome-keyring (release build, idle machine):
//! one `get` from a fresh process is ~5 ms, of which the DH exchange is
//! ~3.5 ms (client and daemon); a second `get` on the same connection is
//! ~0.5 ms; `secret-tool lookup` for the same item is ~9 ms as a process.
//!
//! Every operation runs on a worker thread with a deadline, so a hung bus
//! or an unanswered unlock prompt ends in [`StoreError::Timeout`], not in a
//! process that never returns.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Duration;

use keyring_core::{CredentialStore, Entry};
use zeroize::Zeroize;

use super::{ItemName, StoreError};
use crate::secret::Secret;

/// The keyring service name of every keyless item.
pub const SERVICE: &str = "keyless";

/// The name `check_available` reads; nothing is ever stored under it.
const PROBE_ITEM: &str = "v1/probe";

/// How long one keyring operation may take, unlock prompt included, before
/// it fails with [`StoreError::Timeout`].
pub const DEFAULT_KEYRING_TIMEOUT: Duration = Duration::from_secs(30);

/// A place to keep secrets by name. Implementations never fall back to a
/// plain file.
pub trait SecretStore: Send + Sync {
    /// The value stored under `name`, or `None` if there is none.
    fn get(&self, name: &ItemName) -> Result<Option<Secret<String>>, StoreError>;
    /// Create or replace the value under `name`.
    fn set(&self, name: &ItemName, value: &Secret<String>) -> Result<(), StoreError>;
    /// Like [`set`](SecretStore::set), for a value worthless after
    /// `expires_at` (epoch seconds): a store that can drops it then.
    fn set_expiring(
        &self,
        name: &ItemName,
        value: &Secret<String>,
        _expires_at: i64,
    ) -> Result<(), StoreError> {
        self.set(name, value)
    }
    /// Remove the value under `name`; `false` if there was none.
    fn delete(&self, name: &ItemName) -> Result<bool, StoreError>;
    /// The names of every keyless item in the store (no secret is read).
    fn list(&self) -> Result<Vec<ItemName>, StoreError>;
}

#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
mod platform {
    use crate::store::Trouble;

    pub const UNAVAILABLE: Trouble = Trouble {
        what: "no Secret Service on the session bus",
        fix: "install and unlock gnome-keyring (Debian: gnome-keyring, dbus-user-session), or \
              run keyless inside a desktop session",
    };
    pub const LOCKED: Trouble = Trouble {
        what: "the keyring is locked",
        fix: "unlock your keyring (in a desktop session, unlock the login keyring when asked or \
              in Passwords and Keys; on a headless host, start gnome-keyring-daemon with \
              --unlock at login) and try again",
    };
    pub const TIMEOUT: &str = "check that the Secret Service (gnome-keyring-daemon) is \
        running and answering, and unlock the keyring if it is waiting for a password";

    pub fn open() -> keyring_core::Result<std::sync::Arc<keyring_core::CredentialStore>> {
        Ok(zbus_secret_service_keyring_store::Store::new()?)
    }
}

#[cfg(target_os = "macos")]
mod platform {
    use crate::store::Trouble;

    pub const UNAVAILABLE: Trouble = Trouble {
        what: "the login Keychain is not available",
        fix: "run keyless in a logged-in macOS user session",
    };
    pub const LOCKED: Trouble = Trouble {
        what: "the login Keychain is locked",
        fix: "unlock your keyring (`security unlock-keychain`) and try again",
    };
    pub const TIMEOUT: &str = "check that the login Keychain is unlocked and answer any \
        Keychain access prompt";

    pub fn open() -> keyring_core::Result<std::sync::Arc<keyring_core::CredentialStore>> {
        Ok(apple_native_keyring_store::keychain::Store::new()?)
    }
}

#[cfg(target_os = "windows")]
mod platform {
    use crate::store::Trouble;

    pub const UNAVAILABLE: Trouble = Trouble {
        what: "Windows Credential Manager is not available",
        fix: "run keyless in an interactive user session",
    };
    pub const LOCKED: Trouble = Trouble {
        what: "Windows Credential Manager refused access",
        fix: "unlock your keyring by signing in to an interactive user session, and try again",
    };
    pub const TIMEOUT: &str = "check that Credential Manager is answering";

    pub fn open() -> keyring_core::Result<std::sync::Arc<keyring_core::CredentialStore>> {
        Ok(windows_native_keyring_store::Store::new()?)
    }
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "macos",
    target_os = "windows"
)))]
mod platform {
    use crate::store::Trouble;

    pub const UNAVAILABLE: Trouble = Trouble {
        what: "keyless has no OS keyring support on this platform",
        fix: "use Linux, macOS or Windows",
    };
    pub const LOCKED: Trouble = Trouble {
        what: "the keyring is locked",
        fix: "unlock your keyring and try again",
    };
    pub const TIMEOUT: &str = "check that the OS keyring is answering";

    pub fn open() -> keyring_core::Result<std::sync::Arc<keyring_core::CredentialStore>> {
        Err(keyring_core::Error::NotSupportedByStore(
            "no OS keyring on this platform".into(),
        ))
    }
}

/// The OS keyring. Cheap to construct: nothing is opened until the first
/// operation, which connects once and keeps the connection for the others.
pub struct KeyringStore {
    backend: Arc<Mutex<Option<Arc<CredentialStore>>>>,
    timeout: Duration,
}

impl std::fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyringStore")
            .field("service", &SERVICE)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for KeyringStore {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Clone, Copy)]
enum Op {
    Get,
    Set,
    Delete,
    List,
}

impl Op {
    fn doing(self) -> &'static str {
        match self {
            Op::Get => "reading",
            Op::Set => "writing",
            Op::Delete => "deleting",
            Op::List => "listing",
        }
    }
}

impl KeyringStore {
    /// The OS keyring with [`DEFAULT_KEYRING_TIMEOUT`] per operation.
    pub fn new() -> Self {
        Self::with_timeout(DEFAULT_KEYRING_TIMEOUT)
    }

    pub fn with_timeout(timeout: Duration) -> Self {
        KeyringStore {
            backend: Arc::new(Mutex::new(None)),
            timeout,
        }
    }

    /// Whether the keyring can be reached and searched, for `doctor`: one
    /// read of an item that never exists. Does not prompt unless the
    /// Secret Service itself asks to unlock.
    pub fn check_available(&self) -> Result<(), StoreError> {
        self.get(&ItemName(PROBE_ITEM.to_string())).map(|_| ())
    }

    /// Runs `f` on the item's entry in a worker thread, bounded by the
    /// timeout.
    fn run<T, F>(&self, op: Op, name: &ItemName, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&Entry, &ItemName) -> Result<T, StoreError> + Send + 'static,
    {
        self.run_on_store(op, name, move |store, item| {
            entry_for(store, op, item).and_then(|entry| f(&entry, item))
        })
    }

    /// Runs `f` on the store in a worker thread, bounded by the timeout. A
    /// worker that outlives its deadline is abandoned: it holds nothing the
    /// caller waits for, and ends with the process.
    fn run_on_store<T, F>(&self, op: Op, name: &ItemName, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&CredentialStore, &ItemName) -> Result<T, StoreError> + Send + 'static,
    {
        let backend = Arc::clone(&self.backend);
        let item = name.clone();
        let (tx, rx) = mpsc::sync_channel(1);
        let spawned = std::thread::Builder::new()
            .name("keyless-keyring".into())
            .spawn(move || {
                let attempt = || {
                    let result = open_backend(&backend).and_then(|store| f(store.as_ref(), &item));
                    if matches!(result, Err(StoreError::Platform { .. })) {
                        // The connection may be what broke (the daemon
                        // restarted or crashed): connect afresh next time.
                        *backend.lock().unwrap_or_else(PoisonError::into_inner) = None;
                    }
                    result
                };
                // One retry on a fresh connection: a keyring daemon that
                // went away mid-call is started again by D-Bus activation.
                let result = match attempt() {
                    Err(StoreError::Platform { detail, .. }) => {
                        tracing::debug!(item = %item, "keyring operation failed ({detail}); retrying on a new connection");
                        attempt()
                    }
                    other => other,
                };
                let _ = tx.send(result);
            });
        if let Err(err) = spawned {
            return Err(StoreError::Platform {
                op: op.doing(),
                name: name.to_string(),
                detail: format!("could not start a thread: {err}"),
            });
        }
        match rx.recv_timeout(self.timeout) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(StoreError::Timeout {
                op: op.doing(),
                name: name.to_string(),
                waited: self.timeout,
                fix: platform::TIMEOUT,
            }),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(StoreError::Platform {
                op: op.doing(),
                name: name.to_string(),
                detail: "the keyring worker stopped without an answer".into(),
            }),
        }
    }
}

/// The platform store, connecting on first use. Any failure to connect
/// (no bus, no Secret Service on it, a refused session) means the keyring
/// is unavailable.
fn open_backend(
    slot: &Mutex<Option<Arc<CredentialStore>>>,
) -> Result<Arc<CredentialStore>, StoreError> {
    let mut guard = slot.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(store) = guard.as_ref() {
        return Ok(Arc::clone(store));
    }
    let store = platform::open().map_err(|err| StoreError::Unavailable {
        trouble: platform::UNAVAILABLE,
        detail: error_detail(&err),
    })?;
    tracing::debug!("connected to the OS keyring");
    *guard = Some(Arc::clone(&store));
    Ok(store)
}

fn entry_for(store: &CredentialStore, op: Op, name: &ItemName) -> Result<Entry, StoreError> {
    let label = format!("{SERVICE}: {name}");
    let modifiers: HashMap<&str, &str> = match op {
        // The label only matters when an item is created.
        Op::Set
            if cfg!(any(
                target_os = "linux",
                target_os = "freebsd",
                target_os = "openbsd"
            )) =>
        {
            HashMap::from([("label", label.as_str())])
        }
        _ => HashMap::new(),
    };
    let modifiers = (!modifiers.is_empty()).then_some(&modifiers);
    store
        .build(SERVICE, name.as_str(), modifiers)
        .map_err(|err| classify(op, name, err))
}

/// Maps a keyring-core error to what the user should do about it.
fn classify(op: Op, name: &ItemName, err: keyring_core::Error) -> StoreError {
    match err {
        keyring_core::Error::NoStorageAccess(_) => StoreError::Locked {
            trouble: platform::LOCKED,
            detail: error_detail(&err),
        },
        keyring_core::Error::NoDefaultStore => StoreError::Unavailable {
            trouble: platform::UNAVAILABLE,
            detail: error_detail(&err),
        },
        other => StoreError::Platform {
            op: op.doing(),
            name: name.to_string(),
            detail: error_detail(&other),
        },
    }
}

/// The error and its causes, one line. keyring-core errors that carry
/// data (`BadEncoding`, `BadDataFormat`) are never passed here with that
/// data: they are handled before, and their Display does not include it.
fn error_detail(err: &keyring_core::Error) -> String {
    let mut out = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

/// Deletes every item of an ambiguous match (several items with the same
/// attributes, e.g. written by hand or by an older tool).
fn delete_all(entries: Vec<Entry>, op: Op, name: &ItemName) -> Result<(), StoreError> {
    for entry in entries {
        match entry.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => {}
            Err(err) => return Err(classify(op, name, err)),
        }
    }
    Ok(())
}

/// The item names of the entries a search found, from their `username`
/// attribute; entries of other layouts are skipped.
fn names_of(entries: Vec<Entry>, name: &ItemName) -> Result<Vec<ItemName>, StoreError> {
    let mut names = Vec::with_capacity(entries.len());
    for entry in entries {
        let user = match entry.get_specifiers() {
            Some((_, user)) => Some(user),
            None => match entry.get_attributes() {
                Ok(attributes) => attributes.get("username").cloned(),
                Err(keyring_core::Error::NoEntry) => None,
                Err(err) => return Err(classify(Op::List, name, err)),
            },
        };
        if let Some(item) = user.and_then(ItemName::parse) {
            names.push(item);
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

impl SecretStore for KeyringStore {
    fn list(&self) -> Result<Vec<ItemName>, StoreError> {
        let what = ItemName(format!("{SERVICE}/*"));
        self.run_on_store(Op::List, &what, |store, what| {
            let spec = HashMap::from([("service", SERVICE)]);
            match store.search(&spec) {
                Ok(entries) => names_of(entries, what),
                Err(keyring_core::Error::NoEntry) => Ok(Vec::new()),
                Err(err) => Err(classify(Op::List, what, err)),
            }
        })
    }

    fn get(&self, name: &ItemName) -> Result<Option<Secret<String>>, StoreError> {
        self.run(Op::Get, name, |entry, name| match entry.get_secret() {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => Ok(Some(Secret::new(text))),
                Err(err) => {
                    err.into_bytes().zeroize();
                    tracing::debug!(item = %name, "keyring item is not UTF-8; treating it as absent");
                    Ok(None)
                }
            },
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(keyring_core::Error::Ambiguous(entries)) => {
                tracing::debug!(
                    item = %name,
                    count = entries.len(),
                    "several keyring items match; treating them as absent until the next write"
                );
                Ok(None)
            }
            Err(keyring_core::Error::BadEncoding(mut bytes)) => {
                bytes.zeroize();
                Ok(None)
            }
            Err(err) => Err(classify(Op::Get, name, err)),
        })
    }

    fn set(&self, name: &ItemName, value: &Secret<String>) -> Result<(), StoreError> {
        let value = value.clone();
        self.run(Op::Set, name, move |entry, name| {
            match entry.set_secret(value.expose().as_bytes()) {
                Ok(()) => Ok(()),
                Err(keyring_core::Error::Ambiguous(entries)) => {
                    tracing::debug!(item = %name, count = entries.len(), "replacing duplicate keyring items");
                    delete_all(entries, Op::Set, name)?;
                    entry
                        .set_secret(value.expose().as_bytes())
                        .map_err(|err| classify(Op::Set, name, err))
                }
                Err(err) => Err(classify(Op::Set, name, err)),
            }
        })
    }

    fn delete(&self, name: &ItemName) -> Result<bool, StoreError> {
        self.run(Op::Delete, name, |entry, name| {
            match entry.delete_credential() {
                Ok(()) => Ok(true),
                Err(keyring_core::Error::NoEntry) => Ok(false),
                Err(keyring_core::Error::Ambiguous(entries)) => {
                    delete_all(entries, Op::Delete, name)?;
                    Ok(true)
                }
                Err(err) => Err(classify(Op::Delete, name, err)),
            }
        })
    }
}

/// A throwaway in-process store: it exists only inside `keyless demo` and
/// unit tests, and everything in it is gone when the process ends. It is
/// never used as a fallback for the OS keyring.
#[derive(Default)]
pub struct MemoryStore {
    items: Mutex<HashMap<ItemName, Secret<String>>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// The names currently stored, sorted.
    pub fn names(&self) -> Vec<ItemName> {
        let items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        let mut names: Vec<ItemName> = items.keys().cloned().collect();
        names.sort();
        names
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("names", &self.names())
            .finish()
    }
}

impl SecretStore for MemoryStore {
    fn list(&self) -> Result<Vec<ItemName>, StoreError> {
        Ok(self.names())
    }

    fn get(&self, name: &ItemName) -> Result<Option<Secret<String>>, StoreError> {
        let items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(items.get(name).cloned())
    }

    fn set(&self, name: &ItemName, value: &Secret<String>) -> Result<(), StoreError> {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        items.insert(name.clone(), value.clone());
        Ok(())
    }

    fn delete(&self, name: &ItemName) -> Result<bool, StoreError> {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(items.remove(name).is_some())
    }
}

impl<S: SecretStore + ?Sized> SecretStore for Arc<S> {
    fn get(&self, name: &ItemName) -> Result<Option<Secret<String>>, StoreError> {
        (**self).get(name)
    }
    fn set(&self, name: &ItemName, value: &Secret<String>) -> Result<(), StoreError> {
        (**self).set(name, value)
    }
    fn delete(&self, name: &ItemName) -> Result<bool, StoreError> {
        (**self).delete(name)
    }
    fn list(&self) -> Result<Vec<ItemName>, StoreError> {
        (**self).list()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENTINEL: &str = "SENTINEL-keyring-secret-4242";

    #[test]
    fn memory_store_round_trip_and_delete() {
        let store = MemoryStore::new();
        let name = ItemName::session("corp");
        assert!(store.get(&name).unwrap().is_none());
        assert!(!store.delete(&name).unwrap());

        store.set(&name, &Secret::new("one".into())).unwrap();
        assert_eq!(store.get(&name).unwrap().unwrap().expose(), "one");
        store.set(&name, &Secret::new("two".into())).unwrap();
        assert_eq!(store.get(&name).unwrap().unwrap().expose(), "two");
        assert_eq!(store.names(), vec![name.clone()]);

        assert!(store.delete(&name).unwrap());
        assert!(store.get(&name).unwrap().is_none());
        assert!(store.names().is_empty());
    }

    #[test]
    fn memory_store_keeps_items_apart() {
        let store = MemoryStore::new();
        let a = ItemName::role("corp", "111122223333", "Dev");
        let b = ItemName::role("corp", "111122223333", "Admin");
        store.set(&a, &Secret::new("a".into())).unwrap();
        store.set(&b, &Secret::new("b".into())).unwrap();
        assert_eq!(store.get(&a).unwrap().unwrap().expose(), "a");
        assert_eq!(store.get(&b).unwrap().unwrap().expose(), "b");
    }

    #[test]
    fn memory_store_is_usable_through_a_trait_object_and_an_arc() {
        let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
        let name = ItemName::session("s");
        store.set(&name, &Secret::new("x".into())).unwrap();
        let shared = Arc::clone(&store);
        let seen = std::thread::spawn(move || shared.get(&ItemName::session("s")).unwrap())
            .join()
            .unwrap();
        assert_eq!(seen.unwrap().expose(), "x");
    }

    #[test]
    fn store_debug_output_shows_no_secret() {
        let store = MemoryStore::new();
        store
            .set(&ItemName::session("corp"), &Secret::new(SENTINEL.into()))
            .unwrap();
        let shown = format!("{store:?} {:?}", KeyringStore::new());
        assert!(!shown.contains(SENTINEL), "{shown}");
        assert!(shown.contains("v1/session/corp"), "{shown}");
    }

    #[test]
    fn keyring_store_construction_touches_nothing() {
        // No bus is contacted until the first operation: building one with
        // no session bus at all must succeed instantly.
        let start = std::time::Instant::now();
        let store = KeyringStore::with_timeout(Duration::from_secs(1));
        assert!(start.elapsed() < Duration::from_millis(50));
        assert!(store.backend.lock().unwrap().is_none());
    }

    #[test]
    fn locked_and_unavailable_errors_say_what_to_do() {
        let locked = classify(
            Op::Get,
            &ItemName::session("corp"),
            keyring_core::Error::NoStorageAccess("SS Error: prompt dismissed".into()),
        );
        let text = locked.to_string();
        assert!(matches!(locked, StoreError::Locked { .. }));
        assert!(text.contains("locked"), "{text}");
        let hint = locked.hint().unwrap_or_default();
        assert!(hint.contains("unlock your keyring"), "{hint}");
        assert!(text.contains("prompt dismissed"), "{text}");

        let other = classify(
            Op::Set,
            &ItemName::session("corp"),
            keyring_core::Error::PlatformFailure("zbus error: boom".into()),
        );
        let text = other.to_string();
        assert!(text.contains("writing 'v1/session/corp'"), "{text}");
        assert!(text.contains("boom"), "{text}");
    }

    /// What the child half of the bus tests checks, by name.
    const CHILD_ENV: &str = "KEYLESS_TEST_KEYRING_CHILD";

    /// The child half of the bus tests below: runs with a test-chosen
    /// `DBUS_SESSION_BUS_ADDRESS` (the environment cannot be changed inside
    /// the multi-threaded test process). Does nothing when run directly.
    #[test]
    #[ignore = "helper process for other tests"]
    fn child_checks_keyring_error() {
        let Ok(expect) = std::env::var(CHILD_ENV) else {
            return;
        };
        let store = KeyringStore::with_timeout(Duration::from_millis(500));
        let name = ItemName::session("corp");
        let check = store.check_available().unwrap_err();
        assert_eq!(
            std::mem::discriminant(&check),
            std::mem::discriminant(&store.get(&name).unwrap_err())
        );
        let err = store.get(&name).unwrap_err();
        let text = err.to_string();
        match expect.as_str() {
            "unavailable" => {
                assert!(matches!(err, StoreError::Unavailable { .. }), "{text}");
                let hint = err.hint().unwrap_or_default();
                assert!(hint.contains("install and unlock gnome-keyring"), "{hint}");
                assert!(hint.contains("dbus-user-session"), "{hint}");
                // Writes fail the same way: no plaintext fallback.
                let err = store.set(&name, &Secret::new(SENTINEL.into())).unwrap_err();
                assert!(matches!(err, StoreError::Unavailable { .. }), "{err}");
                assert!(!err.to_string().contains(SENTINEL));
            }
            "timeout" => {
                assert!(matches!(err, StoreError::Timeout { .. }), "{text}");
                assert!(text.contains("did not answer within"), "{text}");
                assert!(text.contains("v1/session/corp"), "{text}");
            }
            other => panic!("unknown child check {other}"),
        }
    }

    #[cfg(target_os = "linux")]
    fn run_child_check(check: &str, bus_address: &str) {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "store::keyring::tests::child_checks_keyring_error",
                "--ignored",
                "--test-threads=1",
                "--quiet",
            ])
            .env(CHILD_ENV, check)
            .env("DBUS_SESSION_BUS_ADDRESS", bus_address)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "child check '{check}' failed");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn no_session_bus_is_unavailable_with_what_to_install() {
        let tmp = tempfile::tempdir().unwrap();
        let address = format!("unix:path={}", tmp.path().join("no-bus").display());
        run_child_check("unavailable", &address);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_bus_that_never_answers_times_out() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("silent-bus");
        // Connections are queued by the kernel and never answered.
        let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let start = std::time::Instant::now();
        run_child_check("timeout", &format!("unix:path={}", path.display()));
        assert!(start.elapsed() < Duration::from_secs(20));
    }

    /// Against the real Secret Service on `DBUS_SESSION_BUS_ADDRESS` (a
    /// private gnome-keyring in the integration harness). Run with
    /// `cargo test --lib store::keyring -- --ignored`.
    #[test]
    #[ignore = "needs a Secret Service on the session bus"]
    fn keyring_store_round_trip_against_the_session_bus() {
        let store = KeyringStore::new();
        store.check_available().unwrap();
        let name = ItemName::session(&format!("unit-test-{}", std::process::id()));
        store.set(&name, &Secret::new(SENTINEL.into())).unwrap();
        assert_eq!(store.get(&name).unwrap().unwrap().expose(), SENTINEL);
        assert!(store.list().unwrap().contains(&name), "listed by its name");
        // A second store, a second connection, sees the same item.
        let other = KeyringStore::new();
        assert_eq!(other.get(&name).unwrap().unwrap().expose(), SENTINEL);
        store.set(&name, &Secret::new("replaced".into())).unwrap();
        assert_eq!(other.get(&name).unwrap().unwrap().expose(), "replaced");
        assert!(store.delete(&name).unwrap());
        assert!(other.get(&name).unwrap().is_none());
        assert!(!store.delete(&name).unwrap());
    }
}

#[cfg(test)]
mod session_bus_tests {
    //! Item-level checks against the real Secret Service on
    //! `DBUS_SESSION_BUS_ADDRESS`; run with `-- --ignored`.
    use super::*;
    use crate::store::{RoleCredsItem, load_role, save_role};

    #[test]
    #[ignore = "needs a Secret Service on the session bus"]
    fn items_survive_a_new_connection_and_corrupt_items_are_misses() {
        let session = format!("unit-items-{}", std::process::id());
        let item = RoleCredsItem {
            access_key_id: "ASIAY34FZKBOKMUTVV7A".into(),
            secret_access_key: Secret::new("k".repeat(40)),
            session_token: Secret::new("t".repeat(1100)),
            expiration: 1_900_000_000,
        };
        let writer = KeyringStore::new();
        save_role(&writer, &session, "111122223333", "Dev", &item).unwrap();
        let reader = KeyringStore::new();
        assert_eq!(
            load_role(&reader, &session, "111122223333", "Dev").unwrap(),
            Some(item.clone())
        );

        let name = ItemName::role(&session, "111122223333", "Dev");
        writer
            .set(&name, &Secret::new("{\"v\":1,\"ak\":".into()))
            .unwrap();
        assert_eq!(
            load_role(&reader, &session, "111122223333", "Dev").unwrap(),
            None
        );
        save_role(&writer, &session, "111122223333", "Dev", &item).unwrap();
        assert!(
            load_role(&reader, &session, "111122223333", "Dev")
                .unwrap()
                .is_some()
        );
        assert!(writer.delete(&name).unwrap());
    }
}
