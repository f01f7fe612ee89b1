//! Which store keeps the secrets, and the kernel keyring as the hot cache
//! of role credentials.
//!
//! - `KEYLESS_STORE=secret-service|keyutils` (or `keyless_store` in the
//!   sso-session section; the variable wins) picks the store.
//! - Otherwise the Secret Service when one answers on the session bus, else
//!   the kernel keyring (Linux). macOS and Windows use their native store.
//! - Never a plain file: with neither store, every operation fails with an
//!   error that names both ways forward.
//!
//! With the Secret Service as the store, role credentials are also written
//! to the user kernel keyring with the same kernel timeout, and a read of
//! role credentials tries the kernel keyring first: a cache hit is two
//! system calls, and no D-Bus connection is made at all. A missing,
//! corrupt or foreign kernel copy is a miss that falls back to the Secret
//! Service, whose copy is then put back in the kernel keyring.

use std::sync::OnceLock;

use super::items::{self, RoleCredsItem};
use super::keyring::{KeyringStore, SecretStore};
use super::{ItemName, StoreError};
use crate::secret::Secret;

/// The environment variable that picks the store.
pub const STORE_ENV: &str = "KEYLESS_STORE";

/// The environment variable that gives the kernel keyring items a
/// namespace of their own (descriptions `keyless:NAME:<item>`), so that
/// several sets of items of one user stay apart; the tests use one each.
pub const NAMESPACE_ENV: &str = "KEYLESS_KEYRING_NAMESPACE";

/// A store that can be asked for by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    SecretService,
    Keyutils,
}

impl StoreKind {
    /// `secret-service` or `keyutils`.
    pub fn parse(text: &str) -> Option<StoreKind> {
        match text.trim().to_ascii_lowercase().as_str() {
            "secret-service" => Some(StoreKind::SecretService),
            "keyutils" => Some(StoreKind::Keyutils),
            _ => None,
        }
    }
}

/// The kernel keyring asked for where there is none.
pub const KEYUTILS_ONLY_ON_LINUX: super::Trouble = super::Trouble {
    what: "the kernel keyring (keyutils) exists only on Linux",
    fix: "unset KEYLESS_STORE or keyless_store",
};

/// The next step when neither store can be used.
const NEITHER: &str = "either install and start a Secret Service (Debian: gnome-keyring and \
    dbus-user-session; then unlock it), or allow the keyctl and add_key system calls so the \
    kernel keyring can be used (a container's seccomp profile often blocks them); \
    KEYLESS_STORE=secret-service|keyutils picks one";

/// A store that can say whether it answers at all.
pub trait Backend: SecretStore {
    /// One cheap lookup; `Err` when the store cannot be used.
    fn check_available(&self) -> Result<(), StoreError>;
    /// Where a token is kept and how long it lasts there, when that is
    /// worth saying after a login.
    fn token_note(&self) -> Option<&'static str> {
        None
    }
}

impl Backend for KeyringStore {
    fn check_available(&self) -> Result<(), StoreError> {
        KeyringStore::check_available(self)
    }
}

#[cfg(target_os = "linux")]
impl Backend for super::keyutils::KeyutilsStore {
    fn check_available(&self) -> Result<(), StoreError> {
        super::keyutils::KeyutilsStore::check_available(self)
    }
    fn token_note(&self) -> Option<&'static str> {
        Some(self.token_lifetime())
    }
}

/// The OS keyring and, on Linux, the kernel keyring; which one is the
/// store is decided once per process, on first need.
pub struct Stores {
    secret_service: Box<dyn Backend>,
    kernel: Option<Box<dyn Backend>>,
    /// From `KEYLESS_STORE`.
    forced: Option<StoreKind>,
    detected: OnceLock<Result<StoreKind, (String, String)>>,
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores")
            .field("forced", &self.forced)
            .finish_non_exhaustive()
    }
}

impl Stores {
    /// `forced` is the value of `KEYLESS_STORE`; `namespace` that of
    /// `KEYLESS_KEYRING_NAMESPACE`.
    pub fn new(forced: Option<StoreKind>, namespace: Option<&str>) -> Stores {
        #[cfg(target_os = "linux")]
        let kernel: Option<Box<dyn Backend>> =
            Some(Box::new(super::keyutils::KeyutilsStore::new(namespace)));
        #[cfg(not(target_os = "linux"))]
        let kernel: Option<Box<dyn Backend>> = {
            let _ = namespace;
            None
        };
        Stores::with_backends(Box::new(KeyringStore::new()), kernel, forced)
    }

    pub fn with_backends(
        secret_service: Box<dyn Backend>,
        kernel: Option<Box<dyn Backend>>,
        forced: Option<StoreKind>,
    ) -> Stores {
        Stores {
            secret_service,
            kernel,
            forced,
            detected: OnceLock::new(),
        }
    }

    /// The store for an sso-session whose section says `keyless_store`
    /// (or not); `KEYLESS_STORE` wins over it.
    pub fn for_session(&self, preference: Option<StoreKind>) -> ChosenStore<'_> {
        ChosenStore {
            stores: self,
            preference: self.forced.or(preference),
        }
    }

    /// `KEYLESS_STORE`, when set.
    pub fn forced(&self) -> Option<StoreKind> {
        self.forced
    }

    /// Whether the kernel keyring can be used; `None` off Linux.
    pub fn kernel_check(&self) -> Option<Result<(), StoreError>> {
        self.kernel.as_ref().map(|k| k.check_available())
    }

    /// The store when no sso-session is known (`logout --all`).
    pub fn any_session(&self) -> ChosenStore<'_> {
        self.for_session(None)
    }

    /// The Secret Service when one answers, else the kernel keyring.
    fn detect(&self) -> Result<StoreKind, StoreError> {
        let detected = self.detected.get_or_init(|| {
            let service = match self.secret_service.check_available() {
                Ok(()) | Err(StoreError::Locked { .. }) => return Ok(StoreKind::SecretService),
                Err(err) => err.to_string(),
            };
            let Some(kernel) = &self.kernel else {
                // macOS and Windows: their own store, whose error says what to do.
                return Ok(StoreKind::SecretService);
            };
            match kernel.check_available() {
                Ok(()) => {
                    tracing::debug!("no Secret Service ({service}); using the kernel keyring");
                    Ok(StoreKind::Keyutils)
                }
                Err(err) => Err((service, err.to_string())),
            }
        });
        match detected {
            Ok(kind) => Ok(*kind),
            Err((service, kernel)) => Err(StoreError::NoStore {
                secret_service: service.clone(),
                keyutils: kernel.clone(),
                fix: NEITHER,
            }),
        }
    }
}

/// The store one command uses, as a [`SecretStore`].
pub struct ChosenStore<'a> {
    stores: &'a Stores,
    preference: Option<StoreKind>,
}

impl ChosenStore<'_> {
    fn kind(&self) -> Result<StoreKind, StoreError> {
        match self.preference {
            Some(StoreKind::Keyutils) if self.stores.kernel.is_none() => {
                Err(StoreError::Unavailable {
                    trouble: KEYUTILS_ONLY_ON_LINUX,
                    detail: "keyutils asked for".into(),
                })
            }
            Some(kind) => Ok(kind),
            None => self.stores.detect(),
        }
    }

    fn primary(&self) -> Result<&dyn SecretStore, StoreError> {
        match (self.kind()?, &self.stores.kernel) {
            (StoreKind::Keyutils, Some(kernel)) => Ok(kernel.as_ref()),
            _ => Ok(self.stores.secret_service.as_ref()),
        }
    }

    /// The kernel keyring, which holds role credentials in every mode (as
    /// the store, or as the hot cache in front of the Secret Service).
    fn cache(&self) -> Option<&dyn SecretStore> {
        self.stores.kernel.as_deref().map(|k| k as &dyn SecretStore)
    }

    /// Where the token is kept and how long it lasts there, when that is
    /// not the OS keyring (for `login`'s last line).
    pub fn token_note(&self) -> Option<&'static str> {
        match (self.kind().ok()?, &self.stores.kernel) {
            (StoreKind::Keyutils, Some(kernel)) => kernel.token_note(),
            _ => None,
        }
    }
}

fn is_role_item(name: &ItemName, value: &Secret<String>) -> Option<RoleCredsItem> {
    items::decode::<RoleCredsItem>(name, value)
}

impl SecretStore for ChosenStore<'_> {
    fn get(&self, name: &ItemName) -> Result<Option<Secret<String>>, StoreError> {
        if name.is_role()
            && let Some(cache) = self.cache()
        {
            match cache.get(name) {
                Ok(Some(value)) if is_role_item(name, &value).is_some() => {
                    tracing::debug!(item = %name, "role credentials from the kernel keyring");
                    return Ok(Some(value));
                }
                Ok(_) => {}
                Err(err) if self.preference == Some(StoreKind::Keyutils) => return Err(err),
                Err(err) => tracing::debug!(item = %name, "kernel keyring not readable: {err}"),
            }
            if self.kind()? == StoreKind::Keyutils {
                return Ok(None);
            }
            let found = self.primary()?.get(name)?;
            if let Some(value) = &found
                && let Some(item) = is_role_item(name, value)
                && let Err(err) = cache.set_expiring(name, value, item.expiration)
            {
                tracing::debug!(item = %name, "could not put role credentials back in the kernel keyring: {err}");
            }
            return Ok(found);
        }
        self.primary()?.get(name)
    }

    fn set(&self, name: &ItemName, value: &Secret<String>) -> Result<(), StoreError> {
        self.primary()?.set(name, value)
    }

    fn set_expiring(
        &self,
        name: &ItemName,
        value: &Secret<String>,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let kind = self.kind()?;
        self.primary()?.set_expiring(name, value, expires_at)?;
        if kind == StoreKind::SecretService
            && name.is_role()
            && let Some(cache) = self.cache()
            && let Err(err) = cache.set_expiring(name, value, expires_at)
        {
            tracing::info!(item = %name, "role credentials not cached in the kernel keyring: {err}");
        }
        Ok(())
    }

    fn delete(&self, name: &ItemName) -> Result<bool, StoreError> {
        let kind = self.kind()?;
        let mut deleted = self.primary()?.delete(name)?;
        if kind == StoreKind::SecretService
            && let Some(cache) = self.cache()
        {
            match cache.delete(name) {
                Ok(gone) => deleted |= gone,
                // Not usable here (the copy could not have been written).
                Err(err) => tracing::debug!(item = %name, "kernel keyring not usable: {err}"),
            }
        }
        Ok(deleted)
    }

    fn list(&self) -> Result<Vec<ItemName>, StoreError> {
        let kind = self.kind()?;
        let mut names = self.primary()?.list()?;
        if kind == StoreKind::SecretService
            && let Some(cache) = self.cache()
        {
            match cache.list() {
                Ok(more) => names.extend(more),
                Err(err) => tracing::debug!("kernel keyring not listable: {err}"),
            }
        }
        names.sort();
        names.dedup();
        Ok(names)
    }
}

#[cfg(test)]
mod tests;
