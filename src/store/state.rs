//! The state file: `$XDG_STATE_HOME/keyless/state.json` (via
//! `dirs::state_dir()`, else `dirs::data_local_dir()`; `KEYLESS_STATE_DIR`
//! overrides the directory).
//!
//! Non-secret metadata only: what `keyless status` and `keyless prompt`
//! show without touching the keyring or the network. None of the types
//! here can hold a [`Secret`](crate::secret::Secret), and a test pins the
//! set of keys the file may contain.
//!
//! The file is 0600 in a 0700 directory, replaced atomically (a temp file
//! in the same directory, then a rename), and updated read-modify-write
//! under a lock. A missing file is an empty state; a corrupt one is too,
//! with a warning, and is rewritten by the next update.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{self, Write};
#[cfg(test)]
use std::path::Path;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::lock::{LockError, Locks, STATE_LOCK_TIMEOUT};
use crate::files::{self, Access};

/// Environment variable naming the state directory (tests, unusual setups).
pub const STATE_DIR_ENV: &str = "KEYLESS_STATE_DIR";
pub const STATE_FILE_NAME: &str = "state.json";
/// A state file larger than this is not keyless's: it is replaced.
const MAX_STATE_SIZE: u64 = 16 << 20;
const STATE_VERSION: u32 = 1;

/// Everything in the state file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    #[serde(default = "current_version")]
    pub version: u32,
    /// By sso-session name.
    #[serde(default)]
    pub sessions: BTreeMap<String, SessionState>,
    /// Sorted by (session, account, role); one entry per role-credential set.
    #[serde(default)]
    pub roles: Vec<RoleState>,
}

fn current_version() -> u32 {
    STATE_VERSION
}

impl Default for State {
    fn default() -> Self {
        State {
            version: STATE_VERSION,
            sessions: BTreeMap::new(),
            roles: Vec::new(),
        }
    }
}

/// What is known about an sso-session, without its token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionState {
    #[serde(default)]
    pub start_url: String,
    #[serde(default)]
    pub region: String,
    /// When the access token expires, epoch seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_expires_at: Option<i64>,
    /// When the last interactive login finished, epoch seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login: Option<i64>,
    /// Whether the last token came with a refresh token (absent in files
    /// written before this was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refreshable: Option<bool>,
}

/// What is known about one role-credential set, without the credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleState {
    pub session: String,
    pub account_id: String,
    pub role_name: String,
    /// The AWS profiles that use this role.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    /// When the cached credentials expire, epoch seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<i64>,
}

impl State {
    pub fn role(&self, session: &str, account_id: &str, role_name: &str) -> Option<&RoleState> {
        self.roles
            .binary_search_by(|r| r.key().cmp(&(session, account_id, role_name)))
            .ok()
            .map(|i| &self.roles[i])
    }

    /// The role entry, created (and kept in order) if absent.
    pub fn role_mut(&mut self, session: &str, account_id: &str, role_name: &str) -> &mut RoleState {
        self.normalize();
        let index = match self
            .roles
            .binary_search_by(|r| r.key().cmp(&(session, account_id, role_name)))
        {
            Ok(i) => i,
            Err(i) => {
                self.roles.insert(
                    i,
                    RoleState {
                        session: session.to_string(),
                        account_id: account_id.to_string(),
                        role_name: role_name.to_string(),
                        ..RoleState::default()
                    },
                );
                i
            }
        };
        &mut self.roles[index]
    }

    /// Forgets an sso-session and its roles; returns the roles removed so
    /// the caller can delete their keyring items.
    pub fn remove_session(&mut self, session: &str) -> Vec<RoleState> {
        self.sessions.remove(session);
        let (removed, kept) = std::mem::take(&mut self.roles)
            .into_iter()
            .partition(|r| r.session == session);
        self.roles = kept;
        removed
    }

    /// Sorted and without duplicate roles (a hand-edited file may have them).
    fn normalize(&mut self) {
        self.roles.sort_by(|a, b| a.key().cmp(&b.key()));
        self.roles.dedup_by(|a, b| a.key() == b.key());
    }
}

impl RoleState {
    fn key(&self) -> (&str, &str, &str) {
        (&self.session, &self.account_id, &self.role_name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("could not find a directory for keyless's state: there is no home directory")]
    NoStateDir,

    #[error("could not read the state file {}: {error}", .path.display())]
    Read { path: PathBuf, error: io::Error },

    #[error("could not write the state file {}: {error}", .path.display())]
    Write { path: PathBuf, error: io::Error },

    #[error("cannot keep keyless's state in {}: {error}", .path.display())]
    Shared { path: PathBuf, error: io::Error },

    #[error(transparent)]
    Lock(#[from] LockError),
}

impl StateError {
    /// The next step, for the `hint:` line.
    pub fn hint(&self) -> Option<String> {
        match self {
            StateError::NoStateDir => Some(format!("set {STATE_DIR_ENV} to a private directory")),
            StateError::Read { error, .. } => files::hint(error, Access::Read).map(String::from),
            StateError::Write { error, .. } => files::hint(error, Access::Write).map(String::from),
            StateError::Shared { .. } => Some(format!(
                "set {STATE_DIR_ENV} to a new directory (it is created 0700), e.g. \
                 ~/.local/state/keyless"
            )),
            StateError::Lock(e) => e.hint(),
        }
    }
}

/// The state file and the lock directory beside it.
#[derive(Clone, Debug)]
pub struct StateFile {
    dir: PathBuf,
}

impl StateFile {
    /// The state kept in `dir` (created 0700 on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        StateFile { dir: dir.into() }
    }

    /// The platform location, or `KEYLESS_STATE_DIR` when set.
    /// A directory that exists but is shared with others is refused here,
    /// before anything is read from or written to it.
    pub fn from_env() -> Result<Self, StateError> {
        let dir = resolve_dir(std::env::var_os(STATE_DIR_ENV))?;
        files::check_existing_private(&dir).map_err(|error| StateError::Shared {
            path: dir.clone(),
            error,
        })?;
        Ok(Self::new(dir))
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(STATE_FILE_NAME)
    }

    /// The cross-process locks, in `<dir>/locks`.
    pub fn locks(&self) -> Locks {
        Locks::new(self.dir.join("locks"))
    }

    /// The current state. Missing file: empty. Corrupt file (not JSON,
    /// not UTF-8): empty, with a warning. Takes no lock: writers replace
    /// the file atomically, so a reader sees the old or the new file,
    /// never half of one.
    pub fn load(&self) -> Result<State, StateError> {
        self.read().map(|(state, _)| state)
    }

    /// The state, and whether the file was corrupt (so it is replaced).
    fn read(&self) -> Result<(State, bool), StateError> {
        let path = self.path();
        let bytes = match files::read_regular(&path, MAX_STATE_SIZE) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Ok((State::default(), false)),
            Err(error) if error.kind() == io::ErrorKind::FileTooLarge => Vec::new(),
            Err(error) => return Err(StateError::Read { path, error }),
        };
        match serde_json::from_slice::<State>(&bytes) {
            Ok(mut state) => {
                state.normalize();
                Ok((state, false))
            }
            Err(err) => {
                tracing::warn!(
                    "the state file {} was not valid ({err}); it holds no secret, only \
                     expiries and names, and is being replaced",
                    path.display()
                );
                Ok((State::default(), true))
            }
        }
    }

    /// Read, change with `f`, write back atomically, all under the state
    /// lock so concurrent updates are not lost. Writes nothing if `f`
    /// changed nothing and the file was sound.
    pub fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> Result<R, StateError> {
        let _guard = self.locks().state(STATE_LOCK_TIMEOUT)?;
        let (before, corrupt) = self.read()?;
        let mut state = before.clone();
        let result = f(&mut state);
        state.normalize();
        if corrupt || state != before {
            self.write(&state)?;
        }
        Ok(result)
    }

    fn write(&self, state: &State) -> Result<(), StateError> {
        let path = self.path();
        let write_err = |error| StateError::Write {
            path: path.clone(),
            error,
        };
        crate::files::create_private_dir(&self.dir).map_err(write_err)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".state.json.")
            .suffix(".tmp")
            .tempfile_in(&self.dir)
            .map_err(write_err)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(write_err)?;
        }
        serde_json::to_writer_pretty(&mut tmp, state)
            .map_err(io::Error::from)
            .map_err(write_err)?;
        tmp.write_all(b"\n").map_err(write_err)?;
        tmp.as_file().sync_all().map_err(write_err)?;
        tmp.persist(&path).map_err(|e| write_err(e.error))?;
        Ok(())
    }
}

fn resolve_dir(env_override: Option<OsString>) -> Result<PathBuf, StateError> {
    if let Some(dir) = env_override.filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .map(|base| base.join("keyless"))
        .ok_or(StateError::NoStateDir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use crate::store::{MemoryStore, RoleCredsItem, TokenItem, save_role, save_token};

    fn state_file() -> (tempfile::TempDir, StateFile) {
        let tmp = tempfile::tempdir().unwrap();
        let file = StateFile::new(tmp.path().join("state").join("keyless"));
        (tmp, file)
    }

    fn sample(state: &mut State) {
        state.sessions.insert(
            "corp".into(),
            SessionState {
                start_url: "https://d-1234567890.awsapps.com/start".into(),
                region: "us-east-1".into(),
                token_expires_at: Some(1_767_225_600),
                last_login: Some(1_767_196_800),
                refreshable: Some(true),
            },
        );
        let role = state.role_mut("corp", "111122223333", "Developer");
        role.profiles = vec!["dev".into()];
        role.expiration = Some(1_767_229_200);
    }

    #[test]
    fn missing_file_is_an_empty_state() {
        let (_tmp, file) = state_file();
        assert_eq!(file.load().unwrap(), State::default());
        assert!(!file.dir().exists(), "loading must not create anything");
    }

    #[test]
    fn update_then_load_round_trips() {
        let (_tmp, file) = state_file();
        file.update(sample).unwrap();
        let state = file.load().unwrap();
        assert_eq!(state.sessions["corp"].region, "us-east-1");
        let role = state.role("corp", "111122223333", "Developer").unwrap();
        assert_eq!(role.profiles, ["dev"]);
        assert_eq!(role.expiration, Some(1_767_229_200));
        assert!(state.role("corp", "111122223333", "Admin").is_none());
        let mut expected = State::default();
        sample(&mut expected);
        assert_eq!(state, expected);
    }

    #[cfg(unix)]
    #[test]
    fn file_is_0600_and_directory_0700() {
        use std::os::unix::fs::PermissionsExt;
        let (_tmp, file) = state_file();
        file.update(sample).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file.path()), 0o600);
        assert_eq!(mode(file.dir()), 0o700);
        assert_eq!(mode(file.locks().dir()), 0o700);
    }

    #[cfg(unix)]
    #[test]
    fn an_open_file_is_replaced_private_and_an_existing_directory_left_alone() {
        use std::os::unix::fs::PermissionsExt;
        let (_tmp, file) = state_file();
        std::fs::create_dir_all(file.dir()).unwrap();
        std::fs::set_permissions(file.dir(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(file.path(), "{}").unwrap();
        std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        file.update(sample).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file.path()), 0o600);
        assert_eq!(
            mode(file.dir()),
            0o755,
            "only directories keyless creates are narrowed"
        );
    }

    #[cfg(unix)]
    #[test]
    fn updates_replace_the_file_atomically() {
        use std::os::unix::fs::MetadataExt;
        let (_tmp, file) = state_file();
        file.update(sample).unwrap();
        let before = std::fs::metadata(file.path()).unwrap().ino();
        // A reader holding the old file keeps reading the old content.
        let old_content = std::fs::read_to_string(file.path()).unwrap();
        let mut old_handle = std::fs::File::open(file.path()).unwrap();
        file.update(|s| s.sessions.get_mut("corp").unwrap().region = "eu-west-1".into())
            .unwrap();
        let after = std::fs::metadata(file.path()).unwrap().ino();
        assert_ne!(before, after, "a new file is renamed over the old one");
        let mut seen = String::new();
        std::io::Read::read_to_string(&mut old_handle, &mut seen).unwrap();
        assert_eq!(seen, old_content);
        assert_eq!(file.load().unwrap().sessions["corp"].region, "eu-west-1");
        // No temp file left behind.
        let leftovers: Vec<_> = std::fs::read_dir(file.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n != STATE_FILE_NAME && n != "locks")
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn an_unchanged_state_is_not_rewritten() {
        let (_tmp, file) = state_file();
        file.update(sample).unwrap();
        let before = std::fs::metadata(file.path()).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let seen = file.update(|s| s.sessions.len()).unwrap();
        assert_eq!(seen, 1);
        let after = std::fs::metadata(file.path()).unwrap().modified().unwrap();
        assert_eq!(before, after);
    }

    #[test]
    fn a_corrupt_file_reads_as_empty_and_is_rewritten() {
        let (_tmp, file) = state_file();
        for garbage in ["", "{", "not json", "[1,2]", r#"{"sessions": 5}"#] {
            std::fs::create_dir_all(file.dir()).unwrap();
            std::fs::write(file.path(), garbage).unwrap();
            assert_eq!(file.load().unwrap(), State::default(), "{garbage}");
            file.update(sample).unwrap();
            let state = file.load().unwrap();
            assert!(state.role("corp", "111122223333", "Developer").is_some());
        }
    }

    #[test]
    fn unknown_fields_and_an_old_minimal_file_are_accepted() {
        let (_tmp, file) = state_file();
        std::fs::create_dir_all(file.dir()).unwrap();
        std::fs::write(
            file.path(),
            r#"{"sessions":{"corp":{"start_url":"u","region":"r","future":1}},"extra":true}"#,
        )
        .unwrap();
        let state = file.load().unwrap();
        assert_eq!(state.version, 1);
        assert_eq!(state.sessions["corp"].start_url, "u");
    }

    #[test]
    fn concurrent_updates_are_not_lost() {
        let (_tmp, file) = state_file();
        let threads: Vec<_> = (0..6)
            .map(|t| {
                let file = file.clone();
                std::thread::spawn(move || {
                    for i in 0..10 {
                        file.update(|s| {
                            s.role_mut("corp", "1", "R")
                                .profiles
                                .push(format!("p{t}-{i}"));
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let state = file.load().unwrap();
        assert_eq!(state.role("corp", "1", "R").unwrap().profiles.len(), 60);
    }

    #[test]
    fn roles_stay_sorted_and_remove_session_returns_its_roles() {
        let mut state = State::default();
        state.role_mut("b", "2", "Y");
        state.role_mut("a", "1", "X");
        state.role_mut("b", "1", "Z");
        state.role_mut("a", "1", "X").expiration = Some(5);
        state.sessions.insert("b".into(), SessionState::default());
        let keys: Vec<_> = state.roles.iter().map(|r| r.key()).collect();
        assert_eq!(keys, [("a", "1", "X"), ("b", "1", "Z"), ("b", "2", "Y")]);
        assert_eq!(state.role("a", "1", "X").unwrap().expiration, Some(5));
        assert_eq!(state.roles.iter().filter(|r| r.session == "b").count(), 2);

        let removed = state.remove_session("b");
        assert_eq!(removed.len(), 2);
        assert!(state.sessions.is_empty());
        assert_eq!(state.roles.len(), 1);
    }

    #[test]
    fn a_hand_edited_file_with_unsorted_duplicate_roles_is_normalized() {
        let (_tmp, file) = state_file();
        std::fs::create_dir_all(file.dir()).unwrap();
        std::fs::write(
            file.path(),
            r#"{"roles":[
                {"session":"z","account_id":"1","role_name":"R"},
                {"session":"a","account_id":"1","role_name":"R","expiration":3},
                {"session":"a","account_id":"1","role_name":"R"}]}"#,
        )
        .unwrap();
        let state = file.load().unwrap();
        assert_eq!(state.roles.len(), 2);
        assert!(state.role("a", "1", "R").is_some());
        assert!(state.role("z", "1", "R").is_some());
    }

    #[test]
    fn state_dir_resolution() {
        assert_eq!(
            resolve_dir(Some("/tmp/custom-keyless".into())).unwrap(),
            PathBuf::from("/tmp/custom-keyless")
        );
        // Empty means unset.
        if let Ok(dir) = resolve_dir(Some("".into())) {
            assert!(dir.ends_with("keyless"), "{}", dir.display());
        }
        if let Ok(dir) = resolve_dir(None) {
            assert!(dir.ends_with("keyless"), "{}", dir.display());
            assert!(dir.is_absolute());
        }
    }

    /// The state file may only ever contain these keys. A new field is a
    /// conscious decision: add it here only if it is not a secret.
    const ALLOWED_KEYS: &[&str] = &[
        "version",
        "sessions",
        "roles",
        "start_url",
        "region",
        "token_expires_at",
        "last_login",
        "refreshable",
        "session",
        "account_id",
        "role_name",
        "profiles",
        "expiration",
    ];

    fn keys_of(value: &serde_json::Value, out: &mut Vec<String>, under_sessions: bool) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    // The keys of `sessions` are session names, not fields.
                    if !under_sessions {
                        out.push(k.clone());
                    }
                    keys_of(v, out, !under_sessions && k == "sessions");
                }
            }
            serde_json::Value::Array(items) => {
                for v in items {
                    keys_of(v, out, false);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn no_secret_can_reach_the_state_file() {
        const SENTINEL: &str = "SENTINEL-state-secret-5d2e";
        let (_tmp, file) = state_file();
        // The secrets exist alongside, in a store, as they would at runtime.
        let store = MemoryStore::new();
        let token = TokenItem {
            access_token: Secret::new(SENTINEL.into()),
            expires_at: 1_767_225_600,
            refresh_token: Some(Secret::new(SENTINEL.into())),
        };
        let creds = RoleCredsItem {
            access_key_id: "ASIAY34FZKBOKMUTVV7A".into(),
            secret_access_key: Secret::new(SENTINEL.into()),
            session_token: Secret::new(SENTINEL.into()),
            expiration: 1_767_229_200,
        };
        save_token(&store, "corp", &token).unwrap();
        save_role(&store, "corp", "111122223333", "Developer", &creds).unwrap();
        file.update(|s| {
            sample(s);
            s.sessions.get_mut("corp").unwrap().token_expires_at = Some(token.expires_at);
            s.role_mut("corp", "111122223333", "Developer").expiration = Some(creds.expiration);
        })
        .unwrap();

        let text = std::fs::read_to_string(file.path()).unwrap();
        assert!(!text.contains(SENTINEL), "{text}");
        assert!(!text.contains("ASIA"), "not even the key id: {text}");

        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut keys = Vec::new();
        keys_of(&value, &mut keys, false);
        assert!(keys.len() >= 10, "{keys:?}");
        for key in keys {
            assert!(
                ALLOWED_KEYS.contains(&key.as_str()),
                "state file key '{key}' is not on the non-secret list"
            );
        }
    }
}
