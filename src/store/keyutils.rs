//! The Linux kernel key-retention service (keyutils) as a [`SecretStore`]:
//! the store on hosts without a Secret Service (SSH hosts, WSL, containers,
//! CI runners), and the hot cache of role credentials on those with one.
//!
//! Keys live in kernel memory, per user, and are never written to disk.
//! A read is two system calls (`KEYCTL_SEARCH`, `KEYCTL_READ`), with no
//! daemon and no D-Bus.
//!
//! # Where the items go
//!
//! - **Role credentials**: the user keyring (`@u`), with a kernel timeout
//!   at their expiration. The kernel refuses an expired key, so a stale
//!   item cannot be served even if keyless had a bug.
//! - **Token and client registration**: the user's persistent keyring
//!   (`KEYCTL_GET_PERSISTENT`), which survives logout and new SSH sessions
//!   (but not a reboot, nor `persistent_keyring_expiry`, three days by
//!   default, without any use). Where the kernel has no persistent
//!   keyrings, the user keyring, which lasts while the user has processes.
//!
//! Every key is of type `user`, described `keyless:<item name>` (for
//! example `keyless:v1/role/corp/111122223333/Developer`), with permissions
//! for its possessor and its user only, nothing for group or other
//! (`3f3f0000`). So, with the `keyctl` tool:
//!
//! ```text
//! keyctl show @u
//! keyctl search @u user keyless:v1/role/corp/111122223333/Developer
//! ```
//!
//! `KEYLESS_KEYRING_NAMESPACE=NAME` makes the descriptions
//! `keyless:NAME:<item name>`: a separate set of items for the same user.
//! The integration tests use one per test, since the user keyring is shared
//! by every process of a user.
//!
//! # Quota
//!
//! The kernel limits each non-root user to `maxbytes` bytes (20,000 by
//! default) and `maxkeys` keys (200) in `/proc/sys/kernel/keys/`. Items are
//! compact JSON (a role item is about 1.2 KB). When a write is refused with
//! `EDQUOT`, the role items that expire soonest are removed and the write
//! is tried once more; if that fails too, the error names the sysctl.

use std::sync::OnceLock;
use std::time::Duration;

use linux_keyutils::{
    Key, KeyError, KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, KeySerialId, Permission,
};
use serde::Deserialize;
use zeroize::Zeroize;

use super::keyring::SecretStore;
use super::{ItemName, StoreError};
use crate::secret::Secret;

/// The description prefix of every keyless key.
const PREFIX: &str = "keyless:";

/// The sysctl named when the quota is still exceeded after eviction.
pub const MAXBYTES_SYSCTL: &str = "/proc/sys/kernel/keys/maxbytes";

/// How long to let the kernel release the quota of evicted keys (their
/// last reference is dropped after an RCU grace period) before the retry.
const QUOTA_SETTLE: Duration = Duration::from_millis(50);

/// The largest item read back; items are under 2.5 KB.
const READ_BUFFER: usize = 8192;

/// The most links read from one keyring when listing.
const MAX_LINKS: usize = 4096;

/// Which keyring an item lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ring {
    /// The user keyring: role credentials.
    User,
    /// The persistent keyring (or the user keyring where there is none):
    /// tokens and client registrations.
    Persistent,
}

/// A key's serial number.
pub type KeyId = i32;

/// The kernel calls the store makes: the real kernel in production, a
/// scripted one in the tests (for `EDQUOT`, which root never sees).
pub trait Kernel: Send + Sync {
    /// The `user` key with this description in `ring`, if any.
    fn search(&self, ring: Ring, description: &str) -> Result<Option<KeyId>, KeyError>;
    /// The key's payload.
    fn read(&self, key: KeyId) -> Result<Vec<u8>, KeyError>;
    /// Creates or replaces the key, with possessor and user permissions
    /// only and, when given, a timeout in seconds.
    fn add(
        &self,
        ring: Ring,
        description: &str,
        payload: &[u8],
        timeout: Option<u64>,
    ) -> Result<(), KeyError>;
    /// Removes the key from `ring`.
    fn unlink(&self, ring: Ring, key: KeyId) -> Result<(), KeyError>;
    /// The keys directly in `ring`, with their descriptions.
    fn list(&self, ring: Ring) -> Result<Vec<(KeyId, String)>, KeyError>;
    /// Whether [`Ring::Persistent`] is a real persistent keyring (else it
    /// is the user keyring).
    fn has_persistent(&self) -> bool;
}

/// The real kernel. The keyrings are looked up on first use.
#[derive(Default)]
pub struct LinuxKernel {
    user: OnceLock<Result<KeyRing, KeyError>>,
    persistent: OnceLock<Option<KeyRing>>,
}

impl LinuxKernel {
    fn user(&self) -> Result<KeyRing, KeyError> {
        *self
            .user
            .get_or_init(|| KeyRing::from_special_id(KeyRingIdentifier::User, true))
    }

    /// The persistent keyring, linked into the session keyring so that
    /// this process possesses it; `None` where the kernel has none.
    fn persistent(&self) -> Option<KeyRing> {
        *self.persistent.get_or_init(
            || match KeyRing::get_persistent(KeyRingIdentifier::Session) {
                Ok(ring) => Some(ring),
                Err(err) => {
                    tracing::debug!("no persistent keyring ({err:?}); using the user keyring");
                    None
                }
            },
        )
    }

    fn ring(&self, ring: Ring) -> Result<KeyRing, KeyError> {
        match ring {
            Ring::Persistent => match self.persistent() {
                Some(persistent) => Ok(persistent),
                None => self.user(),
            },
            Ring::User => self.user(),
        }
    }
}

fn key(id: KeyId) -> Key {
    Key::from_id(KeySerialId::new(id))
}

impl Kernel for LinuxKernel {
    fn search(&self, ring: Ring, description: &str) -> Result<Option<KeyId>, KeyError> {
        match self.ring(ring)?.search(description) {
            Ok(found) => Ok(Some(found.get_id().as_raw_id())),
            // Only an expired, revoked or unsearchable (foreign) key
            // matches: none of ours.
            Err(
                KeyError::KeyDoesNotExist
                | KeyError::KeyExpired
                | KeyError::KeyRevoked
                | KeyError::AccessDenied,
            ) => Ok(None),
            Err(err) => Err(err),
        }
    }

    fn read(&self, id: KeyId) -> Result<Vec<u8>, KeyError> {
        let mut buf = vec![0u8; READ_BUFFER];
        let len = key(id).read(&mut buf)?;
        if len > buf.len() {
            buf.zeroize();
            return Err(KeyError::WriteError);
        }
        buf[len..].fill(0);
        buf.truncate(len);
        Ok(buf)
    }

    fn add(
        &self,
        ring: Ring,
        description: &str,
        payload: &[u8],
        timeout: Option<u64>,
    ) -> Result<(), KeyError> {
        let target = self.ring(ring)?;
        // The key is made in the process keyring, which this process always
        // possesses, so that its permissions and timeout can be set (the
        // user keyring is not possessed in every session), and only then
        // linked where it belongs, replacing any key of that description.
        let staging = KeyRing::from_special_id(KeyRingIdentifier::Process, true)?;
        let added = staging.add_key(description, payload)?;
        let perms = KeyPermissionsBuilder::builder()
            .posessor(Permission::ALL)
            .user(Permission::ALL)
            .build();
        let finish = added
            .set_perms(perms)
            .and_then(|()| match timeout {
                Some(secs) => added.set_timeout(usize::try_from(secs).unwrap_or(usize::MAX)),
                None => Ok(()),
            })
            .and_then(|()| target.link_key(added));
        let _ = staging.unlink_key(added);
        if let Err(err) = finish {
            // Never leave a key with other permissions or without its
            // expiry behind.
            let _ = added.invalidate();
            return Err(err);
        }
        Ok(())
    }

    fn unlink(&self, ring: Ring, id: KeyId) -> Result<(), KeyError> {
        let ring = self.ring(ring)?;
        let key = key(id);
        match ring.unlink_key(key) {
            Ok(()) => {}
            Err(KeyError::KeyDoesNotExist | KeyError::MissingFileOrDirectory) => {}
            Err(err) => return Err(err),
        }
        // Also from any other keyring that links it (a copy left behind).
        let _ = key.invalidate();
        Ok(())
    }

    fn list(&self, ring: Ring) -> Result<Vec<(KeyId, String)>, KeyError> {
        let links = self.ring(ring)?.get_links(MAX_LINKS)?;
        let mut out = Vec::new();
        for node in links.iter() {
            if let Some(k) = node.as_key()
                && let Ok(meta) = k.metadata()
            {
                out.push((k.get_id().as_raw_id(), meta.get_description().to_string()));
            }
        }
        Ok(out)
    }

    fn has_persistent(&self) -> bool {
        self.persistent().is_some()
    }
}

/// The kernel keyring as a store of keyless items.
pub struct KeyutilsStore {
    kernel: Box<dyn Kernel>,
    prefix: String,
    clock: fn() -> i64,
    settle: Duration,
}

impl std::fmt::Debug for KeyutilsStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyutilsStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
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

/// What to do when the kernel keyring cannot be used at all.
pub const UNAVAILABLE: super::Trouble = super::Trouble {
    what: "the kernel keyring (keyutils) cannot be used",
    fix: "allow the keyctl and add_key system calls (a container's seccomp profile often blocks \
          them)",
};

impl KeyutilsStore {
    /// The real kernel, with the namespace of `namespace` (the value of
    /// [`NAMESPACE_ENV`](super::choice::NAMESPACE_ENV), if set).
    pub fn new(namespace: Option<&str>) -> Self {
        Self::with_kernel(Box::new(LinuxKernel::default()), namespace)
    }

    pub fn with_kernel(kernel: Box<dyn Kernel>, namespace: Option<&str>) -> Self {
        let prefix = match namespace.filter(|n| !n.is_empty()) {
            Some(ns) => format!("{PREFIX}{ns}:"),
            None => PREFIX.to_string(),
        };
        KeyutilsStore {
            kernel,
            prefix,
            clock: crate::credentials::now,
            settle: QUOTA_SETTLE,
        }
    }

    /// Whether the kernel keyring answers: one lookup of an item that
    /// never exists.
    pub fn check_available(&self) -> Result<(), StoreError> {
        let probe = ItemName("v1/probe".to_string());
        self.kernel
            .search(Ring::User, &self.description(&probe))
            .map(|_| ())
            .map_err(|err| self.error(Op::Get, &probe, err))
    }

    /// Where tokens are kept, and how long they last there, for the line
    /// `keyless login` ends with.
    pub fn token_lifetime(&self) -> &'static str {
        if self.kernel.has_persistent() {
            "The token is in your persistent kernel keyring: it survives logout and new SSH \
             sessions, but not a reboot (or three days unused)"
        } else {
            "The token is in your user kernel keyring (this kernel has no persistent \
             keyrings): it lasts while you have processes on this host, and not past a reboot"
        }
    }

    fn description(&self, name: &ItemName) -> String {
        format!("{}{}", self.prefix, name.as_str())
    }

    fn ring(name: &ItemName) -> Ring {
        if name.is_role() {
            Ring::User
        } else {
            Ring::Persistent
        }
    }

    fn error(&self, op: Op, name: &ItemName, err: KeyError) -> StoreError {
        match err {
            KeyError::QuotaExceeded => StoreError::Quota {
                name: name.to_string(),
                sysctl: MAXBYTES_SYSCTL,
            },
            KeyError::OperationNotSupported | KeyError::Unknown(libc::ENOSYS) => {
                StoreError::Unavailable {
                    trouble: UNAVAILABLE,
                    detail: format!("{err:?}"),
                }
            }
            KeyError::PermissionDenied if op == Op::Get => StoreError::Unavailable {
                trouble: UNAVAILABLE,
                detail: format!("{err:?}"),
            },
            other => StoreError::Platform {
                op: op.doing(),
                name: name.to_string(),
                detail: format!("kernel keyring: {other:?}"),
            },
        }
    }

    /// Writes `value`; with `expires_at`, the kernel removes it then. An
    /// item already expired is not written (any old copy is removed).
    fn write(
        &self,
        name: &ItemName,
        value: &Secret<String>,
        expires_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let ring = Self::ring(name);
        let description = self.description(name);
        let timeout = match expires_at {
            Some(at) => {
                let left = at - (self.clock)();
                if left <= 0 {
                    self.delete(name)?;
                    return Ok(());
                }
                Some(left.unsigned_abs())
            }
            None => None,
        };
        let payload = value.expose().as_bytes();
        let add = || self.kernel.add(ring, &description, payload, timeout);
        match add() {
            Ok(()) => Ok(()),
            Err(KeyError::QuotaExceeded) => {
                let need = description.len() + 1 + payload.len();
                let evicted = self.evict(name, need);
                tracing::info!(item = %name, evicted, "kernel keyring quota exceeded; removed the soonest-expiring role credentials, retrying once");
                if evicted > 0 {
                    std::thread::sleep(self.settle);
                }
                add().map_err(|err| self.error(Op::Set, name, err))
            }
            Err(KeyError::AccessDenied | KeyError::PermissionDenied | KeyError::KeyRevoked) => {
                // A key of that description that is not ours to update
                // (another layout, changed permissions): replace it.
                tracing::debug!(item = %name, "replacing a kernel key that could not be updated");
                if let Ok(Some(old)) = self.kernel.search(ring, &description) {
                    let _ = self.kernel.unlink(ring, old);
                }
                add().map_err(|err| self.error(Op::Set, name, err))
            }
            Err(err) => Err(self.error(Op::Set, name, err)),
        }
    }

    /// Removes role items (not `keep`), soonest expiring first, until about
    /// `need` bytes are freed. Returns how many were removed.
    fn evict(&self, keep: &ItemName, need: usize) -> usize {
        #[derive(Deserialize)]
        struct Expiry {
            exp: i64,
        }
        let Ok(keys) = self.kernel.list(Ring::User) else {
            return 0;
        };
        let mut candidates: Vec<(i64, KeyId, usize)> = keys
            .into_iter()
            .filter_map(|(id, description)| {
                let name = ItemName::parse(description.strip_prefix(&self.prefix)?.to_string())?;
                if !name.is_role() || &name == keep {
                    return None;
                }
                let (exp, len) = match self.kernel.read(id) {
                    Ok(mut bytes) => {
                        let exp = serde_json::from_slice::<Expiry>(&bytes)
                            .map(|e| e.exp)
                            .unwrap_or(i64::MIN);
                        let len = bytes.len();
                        bytes.zeroize();
                        (exp, len)
                    }
                    Err(_) => (i64::MIN, 0),
                };
                Some((exp, id, description.len() + 1 + len))
            })
            .collect();
        candidates.sort();
        let mut freed = 0;
        let mut evicted = 0;
        for (_, id, size) in candidates {
            if freed >= need && evicted > 0 {
                break;
            }
            if self.kernel.unlink(Ring::User, id).is_ok() {
                freed += size;
                evicted += 1;
            }
        }
        evicted
    }
}

impl SecretStore for KeyutilsStore {
    fn get(&self, name: &ItemName) -> Result<Option<Secret<String>>, StoreError> {
        let ring = Self::ring(name);
        let found = self
            .kernel
            .search(ring, &self.description(name))
            .map_err(|err| self.error(Op::Get, name, err))?;
        let Some(id) = found else {
            return Ok(None);
        };
        match self.kernel.read(id) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => Ok(Some(Secret::new(text))),
                Err(err) => {
                    err.into_bytes().zeroize();
                    tracing::debug!(item = %name, "kernel key is not UTF-8; treating it as absent");
                    Ok(None)
                }
            },
            // Expired, revoked or removed between the search and the read,
            // or a foreign key we may not read: a miss.
            Err(err) => {
                tracing::debug!(item = %name, "kernel key could not be read ({err:?}); treating it as absent");
                Ok(None)
            }
        }
    }

    fn set(&self, name: &ItemName, value: &Secret<String>) -> Result<(), StoreError> {
        self.write(name, value, None)
    }

    fn set_expiring(
        &self,
        name: &ItemName,
        value: &Secret<String>,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.write(name, value, Some(expires_at))
    }

    fn delete(&self, name: &ItemName) -> Result<bool, StoreError> {
        let description = self.description(name);
        let mut deleted = false;
        let rings: &[Ring] = if self.kernel.has_persistent() {
            &[Ring::User, Ring::Persistent]
        } else {
            &[Ring::User]
        };
        for &ring in rings {
            let found = self
                .kernel
                .search(ring, &description)
                .map_err(|err| self.error(Op::Delete, name, err))?;
            if let Some(id) = found {
                self.kernel
                    .unlink(ring, id)
                    .map_err(|err| self.error(Op::Delete, name, err))?;
                deleted = true;
            }
        }
        Ok(deleted)
    }

    fn list(&self) -> Result<Vec<ItemName>, StoreError> {
        let what = ItemName(format!("{}*", self.prefix));
        let rings: &[Ring] = if self.kernel.has_persistent() {
            &[Ring::User, Ring::Persistent]
        } else {
            &[Ring::User]
        };
        let mut names = Vec::new();
        for &ring in rings {
            let keys = self
                .kernel
                .list(ring)
                .map_err(|err| self.error(Op::List, &what, err))?;
            names.extend(keys.into_iter().filter_map(|(_, description)| {
                ItemName::parse(description.strip_prefix(&self.prefix)?.to_string())
            }));
        }
        names.sort();
        names.dedup();
        Ok(names)
    }
}

#[cfg(test)]
mod tests;
