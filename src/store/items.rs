//! The typed keyring items.
//!
//! Each item is one compact JSON object with a version field `v` and short
//! field names, so that every item stays under [`ITEM_BUDGET`] bytes
//! (Windows Credential Manager refuses blobs over 2560 bytes):
//!
//! | item name | contents | typical size |
//! |---|---|---|
//! | `v1/session/<s>` | [`TokenItem`]: access token, expiry, refresh token | ~0.6 KB |
//! | `v1/registration/<s>` | [`Registration`]: OIDC client id and secret | ~1.5 KB |
//! | `v1/role/<s>/<account>/<role>` | [`RoleCredsItem`]: role credentials | ~1.2 KB |
//!
//! The client registration has its own item: its client secret alone is a
//! signed blob of well over a kilobyte, so sharing an item with the tokens
//! would break the budget. It also has a different lifetime (90 days,
//! kept across logins and logouts).
//!
//! Reading is forgiving: an item that does not parse, or has another
//! version, reads as a miss (`Ok(None)`), is logged at debug level without
//! its content, and is overwritten by the next save.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::keyring::SecretStore;
use super::{ItemName, StoreError};
use crate::secret::{Secret, serialize_exposed, serialize_exposed_option};

/// The layout version written into every item as `v`.
pub const ITEM_VERSION: u32 = 1;

/// The size every item is designed to stay under, in bytes of JSON.
pub const ITEM_BUDGET: usize = 2048;

/// An sso-session's OIDC token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenItem {
    #[serde(rename = "at", serialize_with = "serialize_exposed")]
    pub access_token: Secret<String>,
    /// Epoch seconds.
    #[serde(rename = "exp")]
    pub expires_at: i64,
    #[serde(
        rename = "rt",
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_exposed_option"
    )]
    pub refresh_token: Option<Secret<String>>,
}

/// An OIDC client registration (RegisterClient), reused until it expires.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    #[serde(rename = "id")]
    pub client_id: String,
    #[serde(rename = "sec", serialize_with = "serialize_exposed")]
    pub client_secret: Secret<String>,
    /// Epoch seconds.
    #[serde(rename = "exp")]
    pub expires_at: i64,
    #[serde(rename = "sc", default)]
    pub scopes: Vec<String>,
    /// Registered for the authorization-code grant (PKCE login).
    #[serde(rename = "ac", default, skip_serializing_if = "std::ops::Not::not")]
    pub code_grant: bool,
}

/// Temporary role credentials (GetRoleCredentials).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleCredsItem {
    #[serde(rename = "ak")]
    pub access_key_id: String,
    #[serde(rename = "sk", serialize_with = "serialize_exposed")]
    pub secret_access_key: Secret<String>,
    #[serde(rename = "st", serialize_with = "serialize_exposed")]
    pub session_token: Secret<String>,
    /// Epoch seconds.
    #[serde(rename = "exp")]
    pub expiration: i64,
}

#[derive(Serialize)]
struct Versioned<'a, T> {
    v: u32,
    #[serde(flatten)]
    item: &'a T,
}

#[derive(Deserialize)]
struct VersionProbe {
    v: u32,
}

/// The JSON of an item, as a secret (it contains one).
pub fn encode<T: Serialize>(item: &T) -> Secret<String> {
    // One allocation large enough for any item, so no reallocation leaves
    // a stray copy of a secret behind in freed memory.
    let mut buf = Vec::with_capacity(4096);
    let versioned = Versioned {
        v: ITEM_VERSION,
        item,
    };
    // Writing plain strings and integers into a Vec cannot fail.
    if serde_json::to_writer(&mut buf, &versioned).is_err() {
        buf.clear();
    }
    // serde_json writes UTF-8 only.
    Secret::new(String::from_utf8(buf).unwrap_or_default())
}

/// The item in `json`, or `None` (logged, without content) if it is not a
/// current-version item of this type.
pub fn decode<T: DeserializeOwned>(name: &ItemName, json: &Secret<String>) -> Option<T> {
    match serde_json::from_str::<VersionProbe>(json.expose()) {
        Ok(VersionProbe { v }) if v == ITEM_VERSION => {}
        Ok(VersionProbe { v }) => {
            tracing::debug!(item = %name, version = v, "keyring item has another layout version; treating it as a cache miss");
            return None;
        }
        Err(err) => {
            log_unparsable(name, &err);
            return None;
        }
    }
    match serde_json::from_str::<T>(json.expose()) {
        Ok(item) => Some(item),
        Err(err) => {
            log_unparsable(name, &err);
            None
        }
    }
}

/// serde_json's messages can quote the offending value, which may be a
/// secret: log only where and what kind of error it was.
fn log_unparsable(name: &ItemName, err: &serde_json::Error) {
    tracing::debug!(
        item = %name,
        kind = ?err.classify(),
        line = err.line(),
        column = err.column(),
        "keyring item is not valid; treating it as a cache miss"
    );
}

fn load<T: DeserializeOwned>(
    store: &dyn SecretStore,
    name: &ItemName,
) -> Result<Option<T>, StoreError> {
    Ok(store.get(name)?.and_then(|json| decode(name, &json)))
}

fn save<T: Serialize>(
    store: &dyn SecretStore,
    name: &ItemName,
    item: &T,
) -> Result<(), StoreError> {
    save_until(store, name, item, None)
}

/// Saves `item`; with `expires_at`, a store that can drops it then.
fn save_until<T: Serialize>(
    store: &dyn SecretStore,
    name: &ItemName,
    item: &T,
    expires_at: Option<i64>,
) -> Result<(), StoreError> {
    let json = encode(item);
    let size = json.expose().len();
    if size > ITEM_BUDGET {
        tracing::warn!(item = %name, size, budget = ITEM_BUDGET, "keyring item is larger than planned; Windows Credential Manager refuses items over 2560 bytes");
    }
    match expires_at {
        Some(at) => store.set_expiring(name, &json, at),
        None => store.set(name, &json),
    }
}

/// The sso-session's token, or `None` if absent or unreadable.
pub fn load_token(store: &dyn SecretStore, session: &str) -> Result<Option<TokenItem>, StoreError> {
    load(store, &ItemName::session(session))
}

pub fn save_token(
    store: &dyn SecretStore,
    session: &str,
    item: &TokenItem,
) -> Result<(), StoreError> {
    save(store, &ItemName::session(session), item)
}

/// The sso-session's client registration, or `None` if absent or unreadable.
pub fn load_registration(
    store: &dyn SecretStore,
    session: &str,
) -> Result<Option<Registration>, StoreError> {
    load(store, &ItemName::registration(session))
}

pub fn save_registration(
    store: &dyn SecretStore,
    session: &str,
    item: &Registration,
) -> Result<(), StoreError> {
    save(store, &ItemName::registration(session), item)
}

pub fn delete_registration(store: &dyn SecretStore, session: &str) -> Result<bool, StoreError> {
    store.delete(&ItemName::registration(session))
}

/// The role credentials, or `None` if absent or unreadable.
pub fn load_role(
    store: &dyn SecretStore,
    session: &str,
    account_id: &str,
    role_name: &str,
) -> Result<Option<RoleCredsItem>, StoreError> {
    load(store, &ItemName::role(session, account_id, role_name))
}

pub fn save_role(
    store: &dyn SecretStore,
    session: &str,
    account_id: &str,
    role_name: &str,
    item: &RoleCredsItem,
) -> Result<(), StoreError> {
    let name = ItemName::role(session, account_id, role_name);
    save_until(store, &name, item, Some(item.expiration))
}

/// Deletes every item of `session` found in the store: its token, its
/// client registration and all its role credentials. Returns how many.
pub fn delete_session_items(store: &dyn SecretStore, session: &str) -> Result<usize, StoreError> {
    let mut deleted = 0;
    for name in store.list()? {
        if name.session_name().as_deref() == Some(session) && store.delete(&name)? {
            deleted += 1;
        }
    }
    Ok(deleted)
}

/// Every sso-session that has an item in the store.
pub fn sessions_in(store: &dyn SecretStore) -> Result<Vec<String>, StoreError> {
    let mut sessions: Vec<String> = store
        .list()?
        .iter()
        .filter_map(ItemName::session_name)
        .collect();
    sessions.sort();
    sessions.dedup();
    Ok(sessions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    const SENTINEL: &str = "SENTINEL-item-secret-8c1f";

    /// A base64-ish filler of exactly `len` characters that starts with the
    /// sentinel, so size tests and redaction tests use the same values.
    fn filler(prefix: &str, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = format!("{SENTINEL}{prefix}");
        let mut i = 7usize;
        while out.len() < len {
            i = (i * 31 + 17) % ALPHABET.len();
            out.push(ALPHABET[i] as char);
        }
        out.truncate(len);
        out
    }

    // Realistic sizes, rounded up: Identity Center access and refresh
    // tokens are ~230 characters today (`aoa…:MGYCMQ…`); client secrets are
    // signed blobs of ~1.1-1.4 KB; STS session tokens are ~0.8-1.1 KB.
    fn token() -> TokenItem {
        TokenItem {
            access_token: Secret::new(filler("at", 512)),
            expires_at: 1_767_225_600,
            refresh_token: Some(Secret::new(filler("rt", 512))),
        }
    }

    fn registration() -> Registration {
        Registration {
            client_id: "LkndlEtWf81u16m15VfmMnVzLWVhc3QtMQ".into(),
            client_secret: Secret::new(filler("cs", 1600)),
            expires_at: 1_774_663_218,
            scopes: vec!["sso:account:access".into()],
            code_grant: false,
        }
    }

    fn role() -> RoleCredsItem {
        RoleCredsItem {
            access_key_id: "ASIAY34FZKBOKMUTVV7A".into(),
            secret_access_key: Secret::new(filler("sk", 40)),
            session_token: Secret::new(filler("st", 1200)),
            expiration: 1_767_229_200,
        }
    }

    #[test]
    fn items_round_trip_through_a_store() {
        let store = MemoryStore::new();
        save_token(&store, "corp", &token()).unwrap();
        save_registration(&store, "corp", &registration()).unwrap();
        save_role(&store, "corp", "111122223333", "Developer", &role()).unwrap();

        assert_eq!(load_token(&store, "corp").unwrap(), Some(token()));
        assert_eq!(
            load_registration(&store, "corp").unwrap(),
            Some(registration())
        );
        assert_eq!(
            load_role(&store, "corp", "111122223333", "Developer").unwrap(),
            Some(role())
        );
        // Other keys are other items.
        assert_eq!(load_token(&store, "other").unwrap(), None);
        assert_eq!(
            load_role(&store, "corp", "111122223333", "Admin").unwrap(),
            None
        );

        save_token(&store, "other", &token()).unwrap();
        assert_eq!(sessions_in(&store).unwrap(), ["corp", "other"]);
        assert!(delete_registration(&store, "corp").unwrap());
        assert_eq!(delete_session_items(&store, "corp").unwrap(), 2);
        assert_eq!(delete_session_items(&store, "corp").unwrap(), 0);
        assert_eq!(store.names(), [ItemName::session("other")]);
    }

    #[test]
    fn a_token_without_refresh_token_round_trips() {
        let store = MemoryStore::new();
        let item = TokenItem {
            refresh_token: None,
            ..token()
        };
        save_token(&store, "corp", &item).unwrap();
        let json = store.get(&ItemName::session("corp")).unwrap().unwrap();
        assert!(!json.expose().contains("\"rt\""));
        assert_eq!(load_token(&store, "corp").unwrap(), Some(item));
    }

    #[test]
    fn wire_format_is_compact_and_versioned() {
        let item = RoleCredsItem {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: Secret::new("sk".into()),
            session_token: Secret::new("st".into()),
            expiration: 42,
        };
        assert_eq!(
            encode(&item).expose(),
            r#"{"v":1,"ak":"ASIAEXAMPLE","sk":"sk","st":"st","exp":42}"#
        );
        let token = TokenItem {
            access_token: Secret::new("a".into()),
            expires_at: 7,
            refresh_token: Some(Secret::new("r".into())),
        };
        assert_eq!(
            encode(&token).expose(),
            r#"{"v":1,"at":"a","exp":7,"rt":"r"}"#
        );
        let reg = Registration {
            client_id: "c".into(),
            client_secret: Secret::new("s".into()),
            expires_at: 9,
            scopes: vec!["sso:account:access".into()],
            code_grant: false,
        };
        assert_eq!(
            encode(&reg).expose(),
            r#"{"v":1,"id":"c","sec":"s","exp":9,"sc":["sso:account:access"]}"#
        );
    }

    #[test]
    fn every_item_stays_under_the_budget_at_realistic_sizes() {
        let sizes = [
            ("token", encode(&token()).expose().len()),
            ("registration", encode(&registration()).expose().len()),
            ("role", encode(&role()).expose().len()),
        ];
        for (what, size) in sizes {
            assert!(size < ITEM_BUDGET, "{what} item is {size} bytes");
        }
        // And the role item, the one read on every cache hit, is well under.
        assert!(sizes[2].1 < 1400, "{sizes:?}");
    }

    #[test]
    fn corrupt_items_read_as_a_miss() {
        let store = MemoryStore::new();
        let name = ItemName::role("corp", "1", "R");
        let cases = [
            "",
            "not json",
            "{",
            "[]",
            "null",
            r#"{"v":1}"#,
            r#"{"v":"1","ak":"A","sk":"s","st":"t","exp":1}"#,
            r#"{"ak":"A","sk":"s","st":"t","exp":1}"#,
            r#"{"v":1,"ak":"A","sk":"s","st":"t","exp":"soon"}"#,
            r#"{"v":1,"ak":"A","sk":123,"st":"t","exp":1}"#,
        ];
        for case in cases {
            store.set(&name, &Secret::new(case.into())).unwrap();
            assert_eq!(load_role(&store, "corp", "1", "R").unwrap(), None, "{case}");
        }
        // The same item, well formed, is a hit: the misses above were real.
        store
            .set(
                &name,
                &Secret::new(r#"{"v":1,"ak":"A","sk":"s","st":"t","exp":1}"#.into()),
            )
            .unwrap();
        assert!(load_role(&store, "corp", "1", "R").unwrap().is_some());
    }

    #[test]
    fn another_version_reads_as_a_miss_and_is_overwritten() {
        let store = MemoryStore::new();
        let name = ItemName::session("corp");
        let mut json = encode(&token()).expose().clone();
        json = json.replacen("\"v\":1", "\"v\":2", 1);
        store.set(&name, &Secret::new(json)).unwrap();
        assert_eq!(load_token(&store, "corp").unwrap(), None);
        save_token(&store, "corp", &token()).unwrap();
        assert_eq!(load_token(&store, "corp").unwrap(), Some(token()));
    }

    #[test]
    fn an_item_of_another_type_is_a_miss() {
        let store = MemoryStore::new();
        store
            .set(&ItemName::session("corp"), &encode(&role()))
            .unwrap();
        assert_eq!(load_token(&store, "corp").unwrap(), None);
    }

    #[test]
    fn debug_output_never_shows_a_secret() {
        let shown = format!(
            "{:?} {:#?} {:?} {:?}",
            token(),
            token(),
            registration(),
            role()
        );
        assert!(!shown.contains(SENTINEL), "{shown}");
        assert!(shown.contains("ASIAY34FZKBOKMUTVV7A"));
        assert!(shown.contains("LkndlEtWf81u16m15VfmMnVzLWVhc3QtMQ"));
        // While the encoded form does carry them (that is what is stored).
        assert!(encode(&role()).expose().contains(SENTINEL));
    }

    #[test]
    fn decode_failures_do_not_leak_the_value_into_errors() {
        // A secret where a number is expected: serde_json's own message
        // would quote it. decode() must only return None.
        let name = ItemName::session("corp");
        let json = Secret::new(format!(r#"{{"v":1,"at":"a","exp":"{SENTINEL}"}}"#));
        let err = serde_json::from_str::<TokenItem>(json.expose()).unwrap_err();
        assert!(
            err.to_string().contains(SENTINEL),
            "premise: serde quotes values"
        );
        let logs = capture_debug_logs(|| assert_eq!(decode::<TokenItem>(&name, &json), None));
        assert!(logs.contains("not valid"), "{logs}");
        assert!(logs.contains("v1/session/corp"), "{logs}");
        assert!(!logs.contains(SENTINEL), "{logs}");
    }

    #[test]
    fn another_version_is_logged_without_content() {
        let name = ItemName::role("corp", "1", "R");
        let json = Secret::new(format!(r#"{{"v":9,"sk":"{SENTINEL}"}}"#));
        let logs = capture_debug_logs(|| assert_eq!(decode::<RoleCredsItem>(&name, &json), None));
        assert!(logs.contains("another layout version"), "{logs}");
        assert!(!logs.contains(SENTINEL), "{logs}");
    }

    /// Everything logged (any level) while `f` runs on this thread.
    fn capture_debug_logs(f: impl FnOnce()) -> String {
        use std::sync::{Arc, Mutex};

        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(data);
                Ok(data.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }

        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        let bytes = buf.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }
}
