//! Where keyless keeps things: secrets in the OS keyring, non-secret
//! metadata in a state file, and cross-process locks beside it.
//!
//! - [`keyring`]: the [`SecretStore`] trait, the OS keyring behind it
//!   (`KeyringStore`) and a throwaway in-process store ([`MemoryStore`]).
//! - `keyutils` (Linux): the kernel keyring as a store, for hosts without
//!   a Secret Service, and as the hot cache of role credentials.
//! - [`choice`]: which store is used ([`Stores`], [`ChosenStore`]).
//! - [`items`]: the typed keyring items (sso-session token, client
//!   registration, role credentials) as compact, versioned JSON.
//! - [`state`]: `state.json`, read by `status` and `prompt`; never a secret.
//! - [`lock`]: one OS file lock per sso-session and per role-credential set,
//!   so concurrent invocations do the network work once.
//!
//! There is no plaintext fallback: if the keyring is unavailable or locked,
//! every operation fails with a [`StoreError`] that says what to do.
//!
//! The lifecycle that uses all of this (cache, locks, re-read after the
//! lock, state updates) is in [`crate::auth`].

pub mod choice;
pub mod items;
pub mod keyring;
#[cfg(target_os = "linux")]
pub mod keyutils;
pub mod lock;
pub mod state;

pub use choice::{ChosenStore, NAMESPACE_ENV, STORE_ENV, StoreKind, Stores};
pub use items::{
    Registration, RoleCredsItem, TokenItem, delete_registration, delete_session_items,
    load_registration, load_role, load_token, save_registration, save_role, save_token,
    sessions_in,
};
pub use keyring::{KeyringStore, MemoryStore, SecretStore};
pub use lock::{LockError, LockGuard, Locks};
#[cfg(test)]
pub use state::{RoleState, SessionState};
pub use state::{State, StateError, StateFile};

use std::fmt;

/// The name of one keyring item: the Secret Service `username` attribute
/// (macOS account, Windows target user) under the service [`SERVICE`].
///
/// Names start with a layout version (`v1/`) so a later layout can live
/// beside this one and migrate. Each component is escaped (`%` → `%25`,
/// `/` → `%2F`) so two different (session, account, role) triples can never
/// produce the same name. Names are not secret: they carry only the
/// sso-session name, account ID and role name, so listing items needs no
/// decryption.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemName(String);

impl ItemName {
    /// `v1/session/<sso-session>`: the access token and refresh token.
    pub fn session(session: &str) -> Self {
        ItemName(format!("v1/session/{}", escape(session)))
    }

    /// `v1/registration/<sso-session>`: the OIDC client registration.
    pub fn registration(session: &str) -> Self {
        ItemName(format!("v1/registration/{}", escape(session)))
    }

    /// `v1/role/<sso-session>/<account-id>/<role-name>`: role credentials.
    pub fn role(session: &str, account_id: &str, role_name: &str) -> Self {
        ItemName(format!(
            "v1/role/{}/{}/{}",
            escape(session),
            escape(account_id),
            escape(role_name)
        ))
    }

    /// Whether this names role credentials (`v1/role/...`).
    pub fn is_role(&self) -> bool {
        self.0.starts_with("v1/role/")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A name of this layout (`v1/session|registration|role/...`) read
    /// back, or `None` for anything else.
    pub fn parse(text: String) -> Option<ItemName> {
        let name = ItemName(text);
        name.session_name().map(|_| name)
    }

    /// The sso-session this item belongs to.
    pub fn session_name(&self) -> Option<String> {
        let mut parts = self.0.split('/');
        let (Some("v1"), Some(kind), Some(session)) = (parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let rest = parts.count();
        let shaped = match kind {
            "session" | "registration" => rest == 0,
            "role" => rest == 2,
            _ => false,
        };
        shaped.then(|| unescape(session))
    }
}

impl fmt::Display for ItemName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn unescape(component: &str) -> String {
    component.replace("%2F", "/").replace("%25", "%")
}

fn escape(component: &str) -> String {
    let mut out = String::with_capacity(component.len());
    for c in component.chars() {
        match c {
            '%' => out.push_str("%25"),
            '/' => out.push_str("%2F"),
            c => out.push(c),
        }
    }
    out
}

/// A keyring operation that could not be done. Messages never contain a
/// secret: only item names (session, account, role) and platform errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No keyring to talk to (no Secret Service on the bus, no D-Bus).
    #[error("{} ({detail})", .trouble.what)]
    Unavailable { trouble: Trouble, detail: String },

    /// The keyring is there but locked, or the unlock prompt was dismissed.
    #[error("{} ({detail})", .trouble.what)]
    Locked { trouble: Trouble, detail: String },

    /// The keyring did not answer in time.
    #[error(
        "the OS keyring did not answer within {}s while {op} '{name}'",
        .waited.as_secs()
    )]
    Timeout {
        op: &'static str,
        name: String,
        waited: std::time::Duration,
        fix: &'static str,
    },

    /// The kernel keyring quota is used up, even after removing the role
    /// credentials that expire soonest.
    #[error(
        "the kernel keyring quota is used up while writing '{name}', even after keyless \
         removed its soonest-expiring role credentials and tried again"
    )]
    Quota { name: String, sysctl: &'static str },

    /// Neither the Secret Service nor the kernel keyring can be used.
    #[error(
        "no secret store can be used: the Secret Service is not available ({secret_service}), \
         and the kernel keyring is not usable ({keyutils})"
    )]
    NoStore {
        secret_service: String,
        keyutils: String,
        fix: &'static str,
    },

    /// Any other failure reported by the keyring.
    #[error("the OS keyring failed while {op} '{name}': {detail}")]
    Platform {
        op: &'static str,
        name: String,
        detail: String,
    },
}

/// What is wrong with a store, and what to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trouble {
    pub what: &'static str,
    pub fix: &'static str,
}

impl StoreError {
    /// The next step, for the `hint:` line.
    pub fn hint(&self) -> Option<String> {
        match self {
            StoreError::Unavailable { trouble, .. } | StoreError::Locked { trouble, .. } => {
                Some(trouble.fix.to_string())
            }
            StoreError::Timeout { fix, .. } | StoreError::NoStore { fix, .. } => {
                Some(fix.to_string())
            }
            StoreError::Quota { sysctl, .. } => Some(format!(
                "raise the limit in {sysctl} (and maxkeys beside it; root_maxbytes for root), \
                 e.g. `sysctl -w kernel.keys.maxbytes=200000`, or remove other keys of yours \
                 (`keyctl show @u`)"
            )),
            StoreError::Platform { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_names_carry_the_version_and_the_metadata() {
        assert_eq!(ItemName::session("corp").as_str(), "v1/session/corp");
        assert_eq!(
            ItemName::registration("corp").as_str(),
            "v1/registration/corp"
        );
        assert_eq!(
            ItemName::role("corp", "111122223333", "Developer").as_str(),
            "v1/role/corp/111122223333/Developer"
        );
    }

    #[test]
    fn item_names_read_back_to_their_session() {
        for session in ["corp", "a/b", "100%", "a%2Fb"] {
            for name in [
                ItemName::session(session),
                ItemName::registration(session),
                ItemName::role(session, "111122223333", "Dev/Ops"),
            ] {
                let parsed = ItemName::parse(name.as_str().to_string()).unwrap();
                assert_eq!(parsed, name);
                assert_eq!(parsed.session_name().as_deref(), Some(session), "{name}");
            }
        }
        for foreign in [
            "",
            "v1",
            "v1/session",
            "v2/session/x",
            "v1/role/x/y",
            "v1/probe",
            "other",
        ] {
            assert!(ItemName::parse(foreign.to_string()).is_none(), "{foreign}");
        }
    }

    #[test]
    fn item_names_are_injective_over_slashes_and_percents() {
        let a = ItemName::role("a/b", "c", "d");
        let b = ItemName::role("a", "b/c", "d");
        let c = ItemName::role("a%2Fb", "c", "d");
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(b, c);
        assert_eq!(a.as_str(), "v1/role/a%2Fb/c/d");
        assert_eq!(c.as_str(), "v1/role/a%252Fb/c/d");
        // Exactly four slashes whatever the input: the components stay apart.
        assert_eq!(a.as_str().matches('/').count(), 4);
    }

    #[test]
    fn error_messages_name_the_next_step() {
        let e = StoreError::Timeout {
            op: "reading",
            name: "v1/session/corp".into(),
            waited: std::time::Duration::from_secs(30),
            fix: "check that the keyring daemon is running",
        };
        let text = e.to_string();
        assert!(text.contains("30s"), "{text}");
        assert!(text.contains("v1/session/corp"), "{text}");
        assert!(!text.contains("check that"), "{text}");
        assert_eq!(
            e.hint().as_deref(),
            Some("check that the keyring daemon is running")
        );
    }
}
