//! The AWS `config` and `credentials` files: where they are, what they say
//! once merged the way the AWS SDK for Rust merges them, and (in
//! [`resolve`]) what a profile asks keyless to do.
//!
//! Parse → plan: [`AwsFiles::load`] is the only I/O; everything after it is
//! pure and table-tested.
//!
//! Merging follows `aws-runtime`'s `env_config`: the config file is read
//! first, then the credentials file; sections of the same kind and name are
//! merged key by key, a later value replacing an earlier one, so a key in
//! the credentials file overrides the same key in the config file. (botocore
//! differs: it refuses a file with a duplicate section or key, a later
//! `[default]`/`[profile default]` replaces the earlier one, and it reads
//! only static keys from the credentials file.) Keys that are not valid
//! identifiers are dropped, as the SDK drops them.

pub mod ini;
pub mod resolve;
#[cfg(test)]
mod sdk_conformance;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};

pub use ini::{Document, FileKind, Issue, Property, SectionName};

/// The process environment, injected so tests never see the real one.
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
    home: Option<PathBuf>,
}

impl Env {
    /// The real environment. The home directory is `$HOME` when set (as
    /// the SDKs do), else the platform's.
    pub fn from_process() -> Self {
        let vars: BTreeMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let home = non_empty(vars.get("HOME").map(String::as_str))
            .map(PathBuf::from)
            .or_else(dirs::home_dir);
        Env { vars, home }
    }

    /// An environment of exactly these variables; the home directory is
    /// `HOME`, else `USERPROFILE`, else unknown.
    #[cfg(test)]
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        let vars: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let home = non_empty(vars.get("HOME").map(String::as_str))
            .or_else(|| non_empty(vars.get("USERPROFILE").map(String::as_str)))
            .map(PathBuf::from);
        Env { vars, home }
    }

    /// A variable's value, as set (possibly empty).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str)
    }

    pub fn home(&self) -> Option<&Path> {
        self.home.as_deref()
    }

    /// `AWS_CONFIG_FILE` or `AWS_SHARED_CREDENTIALS_FILE` (an empty value
    /// counts as unset), else `~/.aws/config` or `~/.aws/credentials`; a
    /// leading `~` component is the home directory, as in the SDKs.
    pub fn path(&self, kind: FileKind) -> PathBuf {
        let (var, default) = match kind {
            FileKind::Config => ("AWS_CONFIG_FILE", "~/.aws/config"),
            FileKind::Credentials => ("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
        };
        let path = non_empty(self.get(var)).unwrap_or(default);
        expand_home(Path::new(path), self.home())
    }

    /// `path` with the home directory shown as `~`.
    pub fn display_path(&self, path: &Path) -> String {
        display_path(path, self.home())
    }
}

/// Names only: values may be secrets (`AWS_SECRET_ACCESS_KEY`).
impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("home", &self.home)
            .finish()
    }
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

/// Replace a leading `~` component (`~`, `~/x`, not `~user/x`) with `home`;
/// without a home directory the path is left as it is.
fn expand_home(path: &Path, home: Option<&Path>) -> PathBuf {
    let mut components = path.components();
    match (components.next(), home) {
        (Some(Component::Normal(first)), Some(home)) if first == "~" => {
            let mut expanded = home.to_path_buf();
            expanded.extend(components);
            expanded
        }
        _ => path.to_path_buf(),
    }
}

fn display_path(path: &Path, home: Option<&Path>) -> String {
    match home.and_then(|home| path.strip_prefix(home).ok()) {
        Some(rest) if !rest.as_os_str().is_empty() => {
            Path::new("~").join(rest).display().to_string()
        }
        _ => path.display().to_string(),
    }
}

/// One of the two files, as read.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsFile {
    pub kind: FileKind,
    pub path: PathBuf,
    /// The path for messages, the home directory shown as `~`.
    pub display: String,
    /// False when the file does not exist (it then reads as empty).
    pub exists: bool,
    pub document: Document,
}

impl AwsFile {
    fn new(kind: FileKind, path: PathBuf, display: String, bytes: Option<&[u8]>) -> Self {
        AwsFile {
            kind,
            path,
            display,
            exists: bytes.is_some(),
            document: bytes.map(|b| ini::parse(b, kind)).unwrap_or_default(),
        }
    }
}

/// One merged value and where it came from. `Debug` redacts secrets.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub file: FileKind,
    pub property: Property,
}

impl Setting {
    pub fn value(&self) -> &str {
        &self.property.value
    }

    pub fn line(&self) -> usize {
        self.property.line
    }
}

/// A profile, sso-session or services section after merging.
#[derive(Clone, Default, PartialEq)]
pub struct MergedSection {
    pub name: String,
    /// By lower-case key; the last definition wins.
    pub settings: BTreeMap<String, Setting>,
    /// Every header that contributed, in reading order: `(file, line)`.
    pub headers: Vec<(FileKind, usize)>,
}

/// Settings are shown through [`Property`]'s redacting `Debug`, not by
/// their map keys (a malformed key may hold part of a value).
impl fmt::Debug for MergedSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MergedSection")
            .field("name", &self.name)
            .field("settings", &self.settings.values().collect::<Vec<_>>())
            .field("headers", &self.headers)
            .finish()
    }
}

impl MergedSection {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.settings.get(key).map(Setting::value)
    }

    pub fn setting(&self, key: &str) -> Option<&Setting> {
        self.settings.get(key)
    }
}

/// Both files, parsed and merged.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsFiles {
    config: AwsFile,
    credentials: AwsFile,
    profiles: BTreeMap<String, MergedSection>,
    sso_sessions: BTreeMap<String, MergedSection>,
    services: BTreeMap<String, MergedSection>,
}

/// The AWS files are a few kilobytes; anything near this is not one.
pub const MAX_FILE_SIZE: u64 = 16 << 20;

impl AwsFiles {
    /// Read both files. A missing file reads as empty; one that exists but
    /// cannot be read is an error naming it. Parse problems are not errors
    /// here: see [`AwsFiles::check`] and [`AwsFiles::issues`].
    pub fn load(env: &Env) -> Result<Self, ConfigError> {
        let read = |kind| -> Result<AwsFile, ConfigError> {
            let path = env.path(kind);
            let display = env.display_path(&path);
            match crate::files::read_regular(&path, MAX_FILE_SIZE) {
                Ok(bytes) => Ok(AwsFile::new(kind, path, display, bytes.as_deref())),
                Err(error) => Err(ConfigError::Read {
                    path: display,
                    error,
                }),
            }
        };
        Ok(Self::new(
            read(FileKind::Config)?,
            read(FileKind::Credentials)?,
        ))
    }

    /// Both files from text, at their default paths (for tests).
    #[cfg(test)]
    pub fn from_texts(config: &str, credentials: &str) -> Self {
        Self::from_bytes(config.as_bytes(), credentials.as_bytes())
    }

    pub fn from_bytes(config: &[u8], credentials: &[u8]) -> Self {
        let file = |kind, path: &str, bytes| {
            AwsFile::new(kind, PathBuf::from(path), path.to_owned(), Some(bytes))
        };
        Self::new(
            file(FileKind::Config, "~/.aws/config", config),
            file(FileKind::Credentials, "~/.aws/credentials", credentials),
        )
    }

    fn new(config: AwsFile, credentials: AwsFile) -> Self {
        let mut files = AwsFiles {
            config,
            credentials,
            profiles: BTreeMap::new(),
            sso_sessions: BTreeMap::new(),
            services: BTreeMap::new(),
        };
        for file in [&files.config, &files.credentials] {
            for section in &file.document.sections {
                let (map, name) = match &section.name {
                    SectionName::Profile(name) => (&mut files.profiles, name),
                    SectionName::SsoSession(name) => (&mut files.sso_sessions, name),
                    SectionName::Services(name) => (&mut files.services, name),
                    SectionName::Ignored { .. } => continue,
                };
                let merged = map.entry(name.clone()).or_insert_with(|| MergedSection {
                    name: name.clone(),
                    ..MergedSection::default()
                });
                merged.headers.push((file.kind, section.line));
                for property in &section.properties {
                    if ini::is_valid_identifier(&property.key) {
                        merged.settings.insert(
                            property.key.clone(),
                            Setting {
                                file: file.kind,
                                property: property.clone(),
                            },
                        );
                    }
                }
            }
        }
        files
    }

    pub fn file(&self, kind: FileKind) -> &AwsFile {
        match kind {
            FileKind::Config => &self.config,
            FileKind::Credentials => &self.credentials,
        }
    }

    pub fn config(&self) -> &AwsFile {
        &self.config
    }

    pub fn credentials(&self) -> &AwsFile {
        &self.credentials
    }

    pub fn profile(&self, name: &str) -> Option<&MergedSection> {
        self.profiles.get(name)
    }

    /// All profiles, by name.
    pub fn profiles(&self) -> impl Iterator<Item = &MergedSection> {
        self.profiles.values()
    }

    pub fn sso_session(&self, name: &str) -> Option<&MergedSection> {
        self.sso_sessions.get(name)
    }

    pub fn sso_sessions(&self) -> impl Iterator<Item = &MergedSection> {
        self.sso_sessions.values()
    }

    /// A `[services NAME]` section: each property's `sub_properties` hold
    /// e.g. `endpoint_url`.
    #[cfg(test)]
    pub fn services(&self, name: &str) -> Option<&MergedSection> {
        self.services.get(name)
    }

    /// Every issue in both files, config first.
    pub fn issues(&self) -> impl Iterator<Item = (&AwsFile, &Issue)> {
        [&self.config, &self.credentials]
            .into_iter()
            .flat_map(|file| file.document.issues.iter().map(move |issue| (file, issue)))
    }

    /// Fails on the first problem that makes the AWS SDKs refuse a file.
    pub fn check(&self) -> Result<(), ConfigError> {
        match self.issues().find(|(_, issue)| issue.fatal) {
            Some((file, issue)) => Err(ConfigError::Parse {
                path: file.display.clone(),
                line: issue.line,
                message: issue.message.clone(),
            }),
            None => Ok(()),
        }
    }

    /// `"~/.aws/config line 7"`.
    pub fn location(&self, kind: FileKind, line: usize) -> String {
        format!("{} line {line}", self.file(kind).display)
    }
}

/// What went wrong reading or resolving the AWS files. Every message names
/// the file (and line where there is one), the profile or sso-session, and
/// what to do next. No message contains a secret.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {error}")]
    Read { path: String, error: std::io::Error },

    #[error("{path} line {line}: {message}")]
    Parse {
        path: String,
        line: usize,
        message: String,
    },

    #[error(
        "unknown profile '{profile}' in {paths}; {}",
        known_list("profiles", known)
    )]
    UnknownProfile {
        profile: String,
        paths: String,
        known: Vec<String>,
        hint: Option<String>,
    },

    #[error(
        "unknown sso-session '{session}' in {path}{}; {}",
        named_by(profile, at),
        known_list("sso-sessions", known)
    )]
    UnknownSsoSession {
        session: String,
        path: String,
        known: Vec<String>,
        /// The profile that names it, if any.
        profile: Option<String>,
        /// Where that profile names it: `"~/.aws/config line 4"`.
        at: Option<String>,
    },

    #[error(
        "profile '{profile}' uses a long-lived access key ({path} line {line}), and keyless \
         refuses long-lived keys: they never expire and are the credentials most often leaked"
    )]
    StaticKeys {
        profile: String,
        path: String,
        line: usize,
    },

    #[error(
        "profile '{profile}' ({path} line {line}) has credential_process and also {}, so the \
         AWS CLI and SDKs take their own SSO path and never run credential_process",
        keys.join(", ")
    )]
    SsoKeysWithCredentialProcess {
        profile: String,
        path: String,
        line: usize,
        keys: Vec<String>,
    },

    /// A profile or sso-session that is incomplete or has a bad value; the
    /// message says which and what to do.
    #[error("{message}")]
    Invalid {
        profile: Option<String>,
        message: String,
        hint: Option<String>,
    },
}

impl ConfigError {
    /// The next step, for the `hint:` line.
    pub fn hint(&self) -> Option<String> {
        match self {
            ConfigError::Read { error, .. } => {
                crate::files::hint(error, crate::files::Access::Read).map(String::from)
            }
            ConfigError::Parse { .. } => {
                Some("fix that line: the AWS CLI and SDKs cannot read the file as it is".into())
            }
            ConfigError::UnknownProfile { profile, hint, .. } => {
                Some(hint.clone().unwrap_or_else(|| {
                    format!(
                        "check the name, or add a [profile {profile}] section (`keyless \
                         onboard` writes one for each of your roles)"
                    )
                }))
            }
            ConfigError::UnknownSsoSession { session, .. } => Some(format!(
                "add a [sso-session {session}] section with sso_start_url and sso_region"
            )),
            ConfigError::StaticKeys { profile, .. } => Some(format!(
                "switch to IAM Identity Center: `keyless onboard` writes keyless profiles, then \
                 `keyless retire --profile {profile}` moves the key into a backup and can \
                 deactivate it in IAM"
            )),
            ConfigError::SsoKeysWithCredentialProcess { .. } => Some(
                "remove the sso_* keys from the profile (keyless reads keyless_sso_session, \
                 keyless_account_id and keyless_role_name)"
                    .into(),
            ),
            ConfigError::Invalid { hint, .. } => hint.clone(),
        }
    }
}

#[cfg(test)]
impl ConfigError {
    /// The profile resolves to long-lived static keys.
    pub fn is_static_keys(&self) -> bool {
        matches!(self, ConfigError::StaticKeys { .. })
    }

    /// The profile this error is about, if any.
    pub fn profile(&self) -> Option<&str> {
        match self {
            ConfigError::UnknownProfile { profile, .. }
            | ConfigError::StaticKeys { profile, .. }
            | ConfigError::SsoKeysWithCredentialProcess { profile, .. } => Some(profile),
            ConfigError::Invalid { profile, .. }
            | ConfigError::UnknownSsoSession { profile, .. } => profile.as_deref(),
            _ => None,
        }
    }
}

fn named_by(profile: &Option<String>, at: &Option<String>) -> String {
    match (profile, at) {
        (Some(profile), Some(at)) => format!(" (named by profile '{profile}' at {at})"),
        (Some(profile), None) => format!(" (named by profile '{profile}')"),
        _ => String::new(),
    }
}

const KNOWN_LIMIT: usize = 20;

fn known_list(what: &str, known: &[String]) -> String {
    if known.is_empty() {
        return format!("no {what} are defined");
    }
    let mut list = known
        .iter()
        .take(KNOWN_LIMIT)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if known.len() > KNOWN_LIMIT {
        list.push_str(&format!(" and {} more", known.len() - KNOWN_LIMIT));
    }
    format!("known {what}: {list}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENTINEL: &str = "SENTINELwJalrXUtnFEMIK7MDENGbPxRfiCY";

    #[test]
    fn paths_follow_the_sdk_rules() {
        let home = |pairs: &[(&str, &str)]| Env::from_pairs(pairs);
        let rows: Vec<(Env, &str, &str)> = vec![
            (
                home(&[("HOME", "/h")]),
                "/h/.aws/config",
                "/h/.aws/credentials",
            ),
            (
                home(&[
                    ("HOME", "/h"),
                    ("AWS_CONFIG_FILE", "~/custom/cfg"),
                    ("AWS_SHARED_CREDENTIALS_FILE", "/abs/creds"),
                ]),
                "/h/custom/cfg",
                "/abs/creds",
            ),
            // empty counts as unset
            (
                home(&[("HOME", "/h"), ("AWS_CONFIG_FILE", "")]),
                "/h/.aws/config",
                "/h/.aws/credentials",
            ),
            // only a whole `~` component is the home directory
            (
                home(&[
                    ("HOME", "/h"),
                    ("AWS_CONFIG_FILE", "~other/cfg"),
                    ("AWS_SHARED_CREDENTIALS_FILE", "~"),
                ]),
                "~other/cfg",
                "/h",
            ),
            (home(&[]), "~/.aws/config", "~/.aws/credentials"),
            (
                home(&[("USERPROFILE", "/u")]),
                "/u/.aws/config",
                "/u/.aws/credentials",
            ),
            (
                home(&[("HOME", ""), ("USERPROFILE", "/u")]),
                "/u/.aws/config",
                "/u/.aws/credentials",
            ),
        ];
        for (env, config, credentials) in rows {
            assert_eq!(env.path(FileKind::Config), PathBuf::from(config), "{env:?}");
            assert_eq!(
                env.path(FileKind::Credentials),
                PathBuf::from(credentials),
                "{env:?}"
            );
        }
    }

    #[test]
    fn paths_are_shown_under_tilde() {
        let env = Env::from_pairs(&[("HOME", "/h")]);
        assert_eq!(
            env.display_path(Path::new("/h/.aws/config")),
            "~/.aws/config"
        );
        assert_eq!(env.display_path(Path::new("/hx/config")), "/hx/config");
        assert_eq!(env.display_path(Path::new("/h")), "/h");
        assert_eq!(Env::from_pairs(&[]).display_path(Path::new("/h/c")), "/h/c");
    }

    #[test]
    fn load_reads_missing_files_as_empty_and_names_unreadable_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().to_str().expect("utf-8 temp path");
        let env = Env::from_pairs(&[("HOME", home)]);
        let files = AwsFiles::load(&env).expect("missing files are empty");
        assert!(!files.config().exists && !files.credentials().exists);
        assert_eq!(files.profiles().count(), 0);
        assert_eq!(files.config().display, "~/.aws/config");
        files.check().expect("nothing to complain about");

        std::fs::create_dir_all(dir.path().join(".aws")).expect("mkdir");
        std::fs::write(dir.path().join(".aws/config"), "[profile a]\nregion = r\n").expect("write");
        let files = AwsFiles::load(&env).expect("load");
        assert!(files.config().exists);
        assert_eq!(files.config().path, dir.path().join(".aws/config"));
        assert_eq!(files.profile("a").and_then(|p| p.get("region")), Some("r"));

        // a directory where the file should be cannot be read
        std::fs::create_dir(dir.path().join(".aws/credentials")).expect("mkdir");
        let err = AwsFiles::load(&env).expect_err("unreadable");
        assert!(matches!(err, ConfigError::Read { .. }));
        assert!(
            err.to_string()
                .starts_with("cannot read ~/.aws/credentials: "),
            "{err}"
        );
        assert!(err.to_string().contains("directory"), "{err}");
        assert!(!err.to_string().contains("readable"), "{err}");
    }

    #[test]
    fn merged_view_follows_the_sdk() {
        let files = AwsFiles::from_texts(
            "[profile a]\nregion = r1\noutput = json\nbad key = x\n[a]\nignored = 1\n\
             [sso-session s]\nsso_region = r\n[services x]\nsso =\n  endpoint_url = http://h\n",
            "[a]\nregion = r2\n[profile b]\nregion = r3\n",
        );
        let a = files.profile("a").expect("a");
        assert_eq!(a.get("region"), Some("r2"));
        assert_eq!(
            a.setting("region").map(|s| (s.file, s.line())),
            Some((FileKind::Credentials, 2))
        );
        assert_eq!(a.get("output"), Some("json"));
        assert_eq!(
            a.setting("output").map(|s| (s.file, s.line())),
            Some((FileKind::Config, 3))
        );
        assert_eq!(a.get("bad key"), None);
        assert_eq!(a.get("ignored"), None);
        assert_eq!(
            a.headers,
            vec![(FileKind::Config, 1), (FileKind::Credentials, 1)]
        );
        assert!(files.profile("b").is_none());
        assert_eq!(
            files.sso_session("s").and_then(|s| s.get("sso_region")),
            Some("r")
        );
        let sso = files
            .services("x")
            .and_then(|s| s.setting("sso"))
            .expect("sso");
        assert_eq!(sso.property.sub_properties[0].key, "endpoint_url");
        assert_eq!(sso.property.sub_properties[0].value, "http://h");
        let warnings: Vec<_> = files
            .issues()
            .map(|(f, i)| (f.kind, i.line, i.fatal))
            .collect();
        assert_eq!(
            warnings,
            vec![
                (FileKind::Config, 4, false),
                (FileKind::Config, 5, false),
                (FileKind::Credentials, 3, false)
            ]
        );
        assert_eq!(
            files.location(FileKind::Credentials, 3),
            "~/.aws/credentials line 3"
        );
    }

    #[test]
    fn env_and_files_debug_hide_secrets() {
        let env = Env::from_pairs(&[("AWS_SECRET_ACCESS_KEY", SENTINEL), ("HOME", "/h")]);
        let shown = format!("{env:?}");
        assert!(shown.contains("AWS_SECRET_ACCESS_KEY") && !shown.contains(SENTINEL));
        let files = AwsFiles::from_texts(
            &format!("[profile a]\naws_secret_access_key = {SENTINEL}\n"),
            &format!(
                "[a]\naws_session_token = {SENTINEL}\nx_password = {SENTINEL}\n\
                 aws_secret_access_key:{SENTINEL}=x\n"
            ),
        );
        let shown = format!("{files:?}").to_lowercase();
        assert!(!shown.contains(&SENTINEL.to_lowercase()) && shown.contains("aws_session_token"));
        let a = files.profile("a").expect("a");
        assert_eq!(a.get("aws_session_token"), Some(SENTINEL));
        assert_eq!(
            a.setting("aws_session_token")
                .map(|s| s.property.display_value()),
            Some("REDACTED")
        );
    }
}
