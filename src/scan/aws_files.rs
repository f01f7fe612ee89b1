//! The shared credentials and config files, read the way the AWS tools read
//! them (with [`crate::config`]'s parser and merge), so that each key is
//! tied to the profile that uses it and the interactions between profiles
//! can be judged:
//!
//! - every `aws_access_key_id` in either file, in any section, used or not
//!   (an overridden or ignored key is still a credential on disk);
//! - a static key in the credentials file under the name of a profile that
//!   uses `credential_process` or SSO in the config file (shadowing);
//! - `source_profile` chains whose root is a static key;
//! - files readable or writable by group or others;
//! - key IDs elsewhere in the files (comments, malformed lines) by the
//!   free-form scanner, so a commented-out key is not missed.
//!
//! Which duplicate wins follows the AWS SDKs (the Rust SDK's `env_config`,
//! the reference of [`crate::config`]): sections of the same name are
//! merged, a later value replaces an earlier one, and a key in the
//! credentials file replaces the same key of the same profile in the config
//! file. The AWS CLI instead refuses a file with a duplicate section or key;
//! findings say so.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::config::{AwsFiles, Document, FileKind, SectionName};

use super::{
    Finding, KeyPrefix, Kind, Origin, Problem, Report, allow, freeform, key_finding, key_sentence,
    keyid, walk,
};

const ACCESS_KEY_ID: &str = "aws_access_key_id";
const SECRET_ACCESS_KEY: &str = "aws_secret_access_key";
const SESSION_TOKENS: [&str; 2] = ["aws_session_token", "aws_security_token"];
/// Profile keys that make the AWS SDKs take the SSO path.
const SSO_KEYS: [&str; 5] = [
    "sso_session",
    "sso_account_id",
    "sso_role_name",
    "sso_start_url",
    "sso_region",
];
/// AWS files larger than this are not AWS files anyone wrote by hand.
const MAX_AWS_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// One of the two files as read from disk.
#[derive(Debug, Clone)]
pub struct FileInput {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

fn origin(kind: FileKind) -> Origin {
    match kind {
        FileKind::Credentials => Origin::CredentialsFile,
        FileKind::Config => Origin::ConfigFile,
    }
}

pub(crate) fn file_label(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Credentials => "the credentials file",
        FileKind::Config => "the config file",
    }
}

/// How a section is named in messages, and whether the AWS tools use it as
/// a profile.
fn section_label(kind: FileKind, name: &SectionName) -> (String, Option<String>) {
    match name {
        SectionName::Profile(n) => {
            let header = match kind {
                FileKind::Config if n != "default" => format!("[profile {n}]"),
                _ => format!("[{n}]"),
            };
            (header, Some(n.clone()))
        }
        SectionName::SsoSession(n) => (format!("[sso-session {n}]"), None),
        SectionName::Services(n) => (format!("[services {n}]"), None),
        SectionName::Ignored { raw } if raw.is_empty() => {
            ("the lines before the first section".to_string(), None)
        }
        SectionName::Ignored { raw } => (format!("[{raw}]"), None),
    }
}

/// The properties of all sections of one name in one file, merged as the
/// SDKs merge them (last value wins), remembering every definition of the
/// access key ID.
#[derive(Debug, Default)]
struct Group {
    header: String,
    profile: Option<String>,
    sections: usize,
    /// `(line, value)` of every `aws_access_key_id`, in file order.
    key_ids: Vec<(usize, String)>,
    has_secret: bool,
    /// The line of every `aws_secret_access_key` (values are not kept).
    secret_lines: Vec<usize>,
    has_token: bool,
    /// The last line of every key (values are not kept).
    settings: BTreeMap<String, usize>,
}

impl Group {
    fn has_static_key(&self) -> bool {
        self.key_ids.last().is_some_and(|(_, v)| !v.is_empty())
    }

    fn uses_sso(&self) -> Option<(&str, usize)> {
        SSO_KEYS
            .iter()
            .find_map(|k| self.settings.get(*k).map(|line| (*k, *line)))
    }
}

fn groups(kind: FileKind, document: &Document) -> Vec<Group> {
    let mut order: Vec<SectionName> = Vec::new();
    let mut map: BTreeMap<usize, Group> = BTreeMap::new();
    for section in &document.sections {
        let index = match order.iter().position(|n| *n == section.name) {
            Some(i) => i,
            None => {
                order.push(section.name.clone());
                order.len() - 1
            }
        };
        let group = map.entry(index).or_insert_with(|| {
            let (header, profile) = section_label(kind, &section.name);
            Group {
                header,
                profile,
                ..Group::default()
            }
        });
        group.sections += 1;
        for p in &section.properties {
            let value = p.value.trim();
            match p.key.as_str() {
                ACCESS_KEY_ID => group.key_ids.push((p.line, value.to_string())),
                SECRET_ACCESS_KEY => {
                    group.has_secret = !value.is_empty();
                    group.secret_lines.push(p.line);
                }
                k if SESSION_TOKENS.contains(&k) => group.has_token = !value.is_empty(),
                _ => {}
            }
            group.settings.insert(p.key.clone(), p.line);
        }
    }
    map.into_values().collect()
}

/// Analyses both files. `None` for a file that does not exist.
pub fn analyse(
    credentials: Option<&FileInput>,
    config: Option<&FileInput>,
) -> (Vec<Finding>, Vec<Problem>) {
    let empty: &[u8] = b"";
    let files = AwsFiles::from_bytes(
        config.map_or(empty, |f| &f.bytes),
        credentials.map_or(empty, |f| &f.bytes),
    );
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    let inputs = [
        (FileKind::Credentials, credentials),
        (FileKind::Config, config),
    ];
    let mut creds_groups: Vec<Group> = Vec::new();
    let mut config_groups: Vec<Group> = Vec::new();
    for (kind, input) in inputs {
        let Some(input) = input else { continue };
        let document = &files.file(kind).document;
        for issue in &document.issues {
            notes.push(Problem {
                path: format!("{}:{}", input.path.display(), issue.line),
                message: issue.message.clone(),
            });
        }
        match kind {
            FileKind::Credentials => creds_groups = groups(kind, document),
            FileKind::Config => config_groups = groups(kind, document),
        }
    }
    let creds_profile = |name: &str| {
        creds_groups
            .iter()
            .find(|g| g.profile.as_deref() == Some(name))
    };

    for (kind, input) in inputs {
        let Some(input) = input else { continue };
        let gs = match kind {
            FileKind::Credentials => &creds_groups,
            FileKind::Config => &config_groups,
        };
        let mut structured_lines = BTreeSet::new();
        for group in gs {
            let overridden_by_credentials = kind == FileKind::Config
                && group
                    .profile
                    .as_deref()
                    .and_then(creds_profile)
                    .is_some_and(Group::has_static_key);
            for (i, (line, value)) in group.key_ids.iter().enumerate() {
                structured_lines.insert(*line);
                let last = i + 1 == group.key_ids.len();
                let used = group.profile.is_some() && last && !overridden_by_credentials;
                let later = (!last).then(|| group.key_ids.last().map_or(0, |(l, _)| *l));
                let context = KeyContext {
                    kind,
                    path: &input.path,
                    group,
                    used,
                    later_line: later,
                    overridden_by_credentials,
                };
                if let Some(f) = key_in_file(value, *line, &context) {
                    findings.push(f);
                }
            }
        }
        // Anything else that looks like a key: comments, malformed lines.
        let hits = freeform::scan_all(&input.bytes);
        for hit in hits.secrets {
            let owner = gs.iter().find(|g| g.secret_lines.contains(&hit.line));
            let f = match owner {
                Some(group) => {
                    // A setting the SDKs read: the profile decides whether
                    // its key ID is there, wherever it is written.
                    let other = match kind {
                        FileKind::Credentials => &config_groups,
                        FileKind::Config => &creds_groups,
                    };
                    let has_key_id = group.has_static_key()
                        || group.profile.as_deref().is_some_and(|name| {
                            other
                                .iter()
                                .any(|g| g.profile.as_deref() == Some(name) && g.has_static_key())
                        });
                    if has_key_id {
                        continue;
                    }
                    lone_secret_in_section(kind, &input.path, group, &hit)
                }
                None if hit.key_id_nearby => continue,
                None => {
                    let line = hit.line;
                    let mut f = walk::secret_finding(&input.path, &hit);
                    f.origin = origin(kind);
                    f.profile = section_at(&files, kind, line);
                    f.message = format!(
                        "{}, on a line the AWS tools do not read (a comment or a malformed line)",
                        f.message
                    );
                    f
                }
            };
            findings.push(f);
        }
        for hit in hits.keys {
            if structured_lines.contains(&hit.line) {
                continue;
            }
            let line = hit.line;
            let mut f = walk::hit_finding(&input.path, hit);
            f.origin = origin(kind);
            f.profile = section_at(&files, kind, line);
            f.message = format!(
                "{}, on a line the AWS tools do not read (a comment or a malformed line)",
                f.message
            );
            findings.push(f);
        }
    }

    // A static key in the credentials file under the name of a profile that
    // the config file sets up for credential_process or SSO.
    if let Some(creds) = credentials {
        for group in creds_groups.iter().filter(|g| g.has_static_key()) {
            let Some(name) = group.profile.as_deref() else {
                continue;
            };
            let Some(config_group) = config_groups
                .iter()
                .find(|g| g.profile.as_deref() == Some(name))
            else {
                continue;
            };
            if let Some(f) = shadowing(&creds.path, group, config_group, config) {
                findings.push(f);
            }
        }
    }

    findings.extend(source_profile_chains(&files, credentials, config));
    (findings, notes)
}

/// The profile (or section header) a line belongs to.
fn section_at(files: &AwsFiles, kind: FileKind, line: usize) -> Option<String> {
    files
        .file(kind)
        .document
        .sections
        .iter()
        .rfind(|s| s.line <= line && s.line > 0)
        .map(|s| {
            let (header, profile) = section_label(kind, &s.name);
            profile.unwrap_or(header)
        })
}

/// A secret access key set in a section whose profile has no access key
/// ID in either file.
fn lone_secret_in_section(
    kind: FileKind,
    path: &Path,
    group: &Group,
    hit: &freeform::SecretHit,
) -> Finding {
    let mut f = walk::secret_finding(path, hit);
    f.origin = origin(kind);
    f.column = None;
    f.profile = group.profile.clone().or_else(|| Some(group.header.clone()));
    f.long_lived = !group.has_token;
    let whose = if group.has_token {
        "with a session token, so probably of temporary credentials"
    } else {
        "with no session token, so the secret of a long-term access key"
    };
    f.message = format!(
        "secret access key (value not shown) in {} {} with no aws_access_key_id for the \
         profile, {whose}",
        file_label(kind),
        group.header
    );
    f.fix = format!(
        "delete the aws_secret_access_key line from {} in {}; find its access key in IAM (look \
         at the users' access keys and when each was last used), deactivate and delete it",
        group.header,
        path.display()
    );
    f
}

struct KeyContext<'a> {
    kind: FileKind,
    path: &'a Path,
    group: &'a Group,
    /// The SDKs use this value for a profile.
    used: bool,
    /// A later definition in the same file replaces this one.
    later_line: Option<usize>,
    /// The credentials file defines a key for the same profile.
    overridden_by_credentials: bool,
}

fn key_in_file(value: &str, line: usize, ctx: &KeyContext<'_>) -> Option<Finding> {
    if value.is_empty()
        || keyid::is_documented_example(value)
        || (KeyPrefix::of(value).is_some() && keyid::is_placeholder(value))
    {
        return None;
    }
    let group = ctx.group;
    let printable = keyid::looks_like_key_id(value);
    let prefix = KeyPrefix::of(value).filter(|_| printable);
    let mut f = match prefix {
        Some(prefix) => key_finding(origin(ctx.kind), value, prefix, group.has_token),
        None => Finding {
            origin: origin(ctx.kind),
            file: None,
            line: None,
            column: None,
            profile: None,
            key_id: printable.then(|| value.to_string()),
            kind: Kind::UnrecognisedStaticKey,
            severity: Kind::UnrecognisedStaticKey.default_severity(),
            account: None,
            long_lived: false,
            message: String::new(),
            fix: String::new(),
            secret_digest: None,
        },
    };
    f.file = Some(ctx.path.to_path_buf());
    f.line = Some(line);
    f.profile = group.profile.clone().or_else(|| Some(group.header.clone()));
    let mut message = match (&f.account, prefix) {
        (Some(account), Some(_)) => key_sentence(f.kind, account),
        _ if printable => key_sentence(Kind::UnrecognisedStaticKey, &keyid::Account::Unknown)
            .replace(
                " (account unknown)",
                " (a placeholder or a local emulator's key?)",
            ),
        _ => "the value of aws_access_key_id does not look like a key ID (not shown: it may \
              be a secret in the wrong field)"
            .to_string(),
    };
    message.push_str(&format!(" in {} {}", file_label(ctx.kind), group.header));
    if ctx.used {
        if let Some(p) = &group.profile {
            message.push_str(&format!("; AWS tools use it for profile '{p}'"));
        }
    } else if let Some(later) = ctx.later_line {
        message.push_str(&format!(
            "; replaced by the value on line {later}, so unused, but still a credential on disk"
        ));
    } else if ctx.overridden_by_credentials {
        message.push_str(
            "; the credentials file's key for this profile is used instead, but this one is \
             still a credential on disk",
        );
    } else {
        message.push_str("; AWS tools ignore this section, but it is still a credential on disk");
    }
    if !group.has_secret && f.kind != Kind::TemporaryKeyWithoutToken {
        message.push_str("; no aws_secret_access_key beside it");
    }
    if group.sections > 1 {
        message.push_str(&format!(
            " (the section appears {} times: the SDKs merge them and the last value wins; \
             the AWS CLI refuses the file)",
            group.sections
        ));
    }
    f.message = message;
    let retire = ctx.kind == FileKind::Credentials && ctx.used;
    f.fix = match (&group.profile, retire, f.long_lived) {
        (Some(p), true, true) => format!(
            "keyless retire --profile {} (after keyless onboard, or with --map {}=ACCOUNT/ROLE \
             to keep the name) moves the key out of the credentials file into a private backup \
             once a keyless profile for its account works; add --deactivate to set it Inactive \
             in IAM",
            p, p
        ),
        (Some(p), true, false) => format!(
            "delete the key lines of [{p}] from the credentials file; keyless fetches \
             temporary credentials when a tool needs them"
        ),
        (_, _, true) => format!(
            "delete the key lines from {} in {}, then deactivate and delete the key in IAM \
             (a keyless profile gives short-lived credentials instead: keyless onboard)",
            group.header,
            ctx.path.display()
        ),
        (_, _, false) => format!(
            "delete the key lines from {} in {}",
            group.header,
            ctx.path.display()
        ),
    };
    Some(f)
}

fn shadowing(
    creds_path: &Path,
    creds: &Group,
    config: &Group,
    config_input: Option<&FileInput>,
) -> Option<Finding> {
    let name = creds.profile.as_deref()?;
    let (line, value) = creds.key_ids.last()?;
    let config_path = config_input.map_or_else(String::new, |f| f.path.display().to_string());
    let (what, why) = if let Some(cp_line) = config.settings.get("credential_process") {
        (
            format!("runs credential_process ({config_path}:{cp_line})"),
            "the AWS CLI takes static keys from the credentials file before credential_process, \
             so it silently uses this key instead",
        )
    } else if let Some((key, sso_line)) = config.uses_sso() {
        (
            format!("uses SSO ({key}, {config_path}:{sso_line})"),
            "AWS tools that take static keys before SSO settings silently use this key instead",
        )
    } else {
        return None;
    };
    let printable = keyid::looks_like_key_id(value).then(|| value.clone());
    let account = printable.as_deref().map(keyid::decode_account);
    Some(Finding {
        origin: Origin::CredentialsFile,
        file: Some(creds_path.to_path_buf()),
        line: Some(*line),
        column: None,
        profile: Some(name.to_string()),
        key_id: printable,
        kind: Kind::ShadowedProfile,
        severity: Kind::ShadowedProfile.default_severity(),
        account,
        long_lived: false,
        message: format!(
            "profile '{name}' has a static key in the credentials file, and [profile {name}] in \
             the config file {what}: {why}"
        ),
        fix: format!(
            "move the static key lines of [{name}] out of the credentials file (into a private \
             backup) so the profile in the config file is used; then deactivate the key in IAM"
        ),
        secret_digest: None,
    })
}

/// Profiles whose `source_profile` chain ends at a static key.
fn source_profile_chains(
    files: &AwsFiles,
    credentials: Option<&FileInput>,
    config: Option<&FileInput>,
) -> Vec<Finding> {
    let path_of = |kind: FileKind| match kind {
        FileKind::Credentials => credentials.map(|f| f.path.clone()),
        FileKind::Config => config.map(|f| f.path.clone()),
    };
    let mut findings = Vec::new();
    for profile in files.profiles() {
        if profile.get("role_arn").is_none() {
            continue;
        }
        let Some(source) = profile.setting("source_profile") else {
            continue;
        };
        let mut visited = vec![profile.name.clone()];
        let mut current = source.value().trim().to_string();
        let root = loop {
            let Some(next) = files.profile(&current) else {
                break None;
            };
            if next
                .get(ACCESS_KEY_ID)
                .is_some_and(|v| !v.trim().is_empty())
            {
                break Some(next);
            }
            if visited.contains(&current) {
                break None; // a cycle, which the SDKs refuse
            }
            visited.push(current.clone());
            match (next.get("role_arn"), next.get("source_profile")) {
                (Some(_), Some(src)) => current = src.trim().to_string(),
                _ => break None,
            }
        };
        let Some(root) = root else { continue };
        let key = root.get(ACCESS_KEY_ID).unwrap_or("").trim();
        let printable = keyid::looks_like_key_id(key).then(|| key.to_string());
        let account = printable.as_deref().map(keyid::decode_account);
        let what = match (printable.as_deref().and_then(KeyPrefix::of), &account) {
            (Some(prefix), Some(account)) => key_sentence(Kind::of_key(prefix, true), account),
            _ => "static key".to_string(),
        };
        visited.push(root.name.clone());
        let route = visited.join(" → ");
        findings.push(Finding {
            origin: origin(source.file),
            file: path_of(source.file),
            line: Some(source.line()),
            column: None,
            profile: Some(profile.name.clone()),
            key_id: printable,
            kind: Kind::StaticSourceProfile,
            severity: Kind::StaticSourceProfile.default_severity(),
            account,
            long_lived: false,
            message: format!(
                "assume-role profile '{}' starts from the {what} of profile '{}' ({route})",
                profile.name, root.name
            ),
            fix: format!(
                "base '{}' on a keyless profile (`credential_process = keyless \
                 credential-process --profile NAME`), then move the static key of '{}' out of \
                 the credentials file and deactivate it in IAM",
                profile.name, root.name
            ),
            secret_digest: None,
        });
    }
    findings
}

/// Reads one AWS file. `Ok(None)`: it does not exist.
fn read(path: &Path) -> Result<Option<FileInput>, String> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read: {}", walk::io_message(&e))),
    };
    if meta.is_dir() {
        return Err(
            "is a directory, expected a file (check AWS_SHARED_CREDENTIALS_FILE and \
                    AWS_CONFIG_FILE)"
                .to_string(),
        );
    }
    if meta.len() > MAX_AWS_FILE_SIZE {
        return Err(format!(
            "skipped: {} MiB is too large for an AWS file",
            meta.len() / (1024 * 1024)
        ));
    }
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(FileInput {
            path: path.to_path_buf(),
            bytes,
        })),
        Err(e) => Err(format!("cannot read: {}", walk::io_message(&e))),
    }
}

/// Scans both files into `report`. Returns the ones that exist (so the
/// walker does not scan them again).
pub fn scan(
    credentials: Option<&Path>,
    config: Option<&Path>,
    report: &mut Report,
) -> Vec<PathBuf> {
    let mut load = |path: Option<&Path>| -> Option<FileInput> {
        let path = path?;
        match read(path) {
            Ok(input) => input,
            Err(message) => {
                report.errors.push(Problem {
                    path: path.display().to_string(),
                    message,
                });
                None
            }
        }
    };
    let creds = load(credentials);
    let conf = load(config);
    let (findings, notes) = analyse(creds.as_ref(), conf.as_ref());
    for f in findings {
        if is_allowed(&f, [&creds, &conf]) {
            report.suppressed.push(f);
        } else {
            report.findings.push(f);
        }
    }
    report.notes.extend(notes);
    for input in [&creds, &conf].into_iter().flatten() {
        report.stats.files_scanned += 1;
        report.stats.bytes_scanned += input.bytes.len() as u64;
    }
    #[cfg(unix)]
    {
        if let Some(input) = &creds {
            report
                .findings
                .extend(permissions(input, FileKind::Credentials));
        }
        if let Some(input) = &conf {
            report.findings.extend(permissions(input, FileKind::Config));
        }
    }
    [creds, conf]
        .into_iter()
        .flatten()
        .map(|f| f.path)
        .collect()
}

/// Whether a `keyless:allow` marker in its file covers the finding's line.
fn is_allowed(f: &Finding, inputs: [&Option<FileInput>; 2]) -> bool {
    let Some(line) = f.line else {
        return false;
    };
    inputs
        .into_iter()
        .flatten()
        .find(|input| f.file.as_deref() == Some(input.path.as_path()))
        .is_some_and(|input| allow::marked_line(&input.bytes, line))
}

/// Group/other permission bits on a file that holds (or could be made to
/// run) credentials.
#[cfg(unix)]
fn permissions(input: &FileInput, kind: FileKind) -> Option<Finding> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&input.path).ok()?.permissions().mode() & 0o777;
    let readable = mode & 0o044 != 0;
    let writable = mode & 0o022 != 0;
    let holds_keys = {
        let doc = crate::config::ini::parse(&input.bytes, kind);
        doc.sections.iter().any(|s| {
            s.properties.iter().any(|p| {
                (p.key == ACCESS_KEY_ID
                    || p.key == SECRET_ACCESS_KEY
                    || SESSION_TOKENS.contains(&p.key.as_str()))
                    && !p.value.trim().is_empty()
            })
        })
    };
    let problem = match (readable && holds_keys, writable) {
        (true, true) => "readable and writable by other users",
        (true, false) => "readable by other users",
        (false, true) => {
            "writable by other users (who could add a profile that runs their command)"
        }
        (false, false) => return None,
    };
    Some(Finding {
        origin: origin(kind),
        file: Some(input.path.clone()),
        line: None,
        column: None,
        profile: None,
        key_id: None,
        kind: Kind::FilePermissions,
        severity: Kind::FilePermissions.default_severity(),
        account: None,
        long_lived: false,
        message: format!("{} is {problem} (mode {mode:04o})", file_label(kind)),
        fix: format!("chmod 600 {}", input.path.display()),
        secret_digest: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::Severity;

    const AKIA: &str = "AKIARZPUZDIKGB2VALC4"; // account 123456789012
    const AKIA2: &str = "AKIA2E3RX7TBDLQ6WMPZ";
    const LEGACY: &str = "AKIAJ2E3RX7TBDLQ6WMP";
    const ASIA: &str = "ASIAY34FZKBOKMUTVV7A"; // account 609629065308
    const SECRET: &str = "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";

    fn input(path: &str, text: &str) -> FileInput {
        FileInput {
            path: PathBuf::from(path),
            bytes: text.as_bytes().to_vec(),
        }
    }

    fn run(credentials: Option<&str>, config: Option<&str>) -> (Vec<Finding>, Vec<Problem>) {
        let creds = credentials.map(|t| input("/h/.aws/credentials", t));
        let conf = config.map(|t| input("/h/.aws/config", t));
        let mut report = Report::default();
        let (findings, notes) = analyse(creds.as_ref(), conf.as_ref());
        report.findings = findings;
        report.finish();
        (report.findings, notes)
    }

    type Row<'a> = (
        Kind,
        Origin,
        Option<usize>,
        Option<&'a str>,
        Option<&'a str>,
    );

    /// `(kind, origin, line, profile, key_id)` of each finding, sorted.
    fn summary(findings: &[Finding]) -> Vec<Row<'_>> {
        let mut v: Vec<_> = findings
            .iter()
            .map(|f| {
                (
                    f.kind,
                    f.origin,
                    f.line,
                    f.profile.as_deref(),
                    f.key_id.as_deref(),
                )
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn key_in_default_profile() {
        let (found, notes) = run(
            Some(&format!(
                "[default]\naws_access_key_id = {AKIA}\naws_secret_access_key = {SECRET}\n"
            )),
            None,
        );
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(
            summary(&found),
            vec![(
                Kind::LongTermKey,
                Origin::CredentialsFile,
                Some(2),
                Some("default"),
                Some(AKIA)
            )]
        );
        let f = &found[0];
        assert_eq!(f.severity, Severity::High);
        assert!(f.long_lived);
        assert_eq!(
            f.account.as_ref().and_then(|a| a.id()),
            Some("123456789012")
        );
        assert!(
            f.message.contains("AWS tools use it for profile 'default'"),
            "{}",
            f.message
        );
        assert!(
            f.fix.contains("keyless retire --profile default"),
            "{}",
            f.fix
        );
        assert!(!f.message.contains(SECRET) && !f.fix.contains(SECRET));
    }

    #[test]
    fn uppercase_and_spaced_keys() {
        let (found, _) = run(
            Some(&format!(
                "[ci]\r\nAWS_ACCESS_KEY_ID   =   {AKIA}  \r\nAws_Secret_Access_Key={SECRET}\r\n"
            )),
            None,
        );
        assert_eq!(
            summary(&found),
            vec![(
                Kind::LongTermKey,
                Origin::CredentialsFile,
                Some(2),
                Some("ci"),
                Some(AKIA)
            )]
        );
        assert!(!found[0].message.contains("no aws_secret_access_key"));
    }

    #[test]
    fn keys_under_a_profile_in_the_config_file() {
        let (found, _) = run(
            None,
            Some(&format!(
                "[profile legacy]\nregion = eu-west-1\naws_access_key_id = {LEGACY}\n\
                 aws_secret_access_key = {SECRET}\n"
            )),
        );
        assert_eq!(
            summary(&found),
            vec![(
                Kind::LongTermKey,
                Origin::ConfigFile,
                Some(3),
                Some("legacy"),
                Some(LEGACY)
            )]
        );
        let f = &found[0];
        assert_eq!(f.account, Some(keyid::Account::NotEncoded));
        assert!(f.message.contains("account not encoded"), "{}", f.message);
        assert!(f.message.contains("[profile legacy]"), "{}", f.message);
        assert!(
            f.fix.contains("delete the key lines from [profile legacy]"),
            "{}",
            f.fix
        );
    }

    #[test]
    fn profile_named_in_both_files_with_credential_process() {
        let (found, _) = run(
            Some(&format!(
                "[dev]\naws_access_key_id={AKIA}\naws_secret_access_key={SECRET}\n"
            )),
            Some("[profile dev]\ncredential_process = keyless credential-process --profile dev\n"),
        );
        assert_eq!(
            summary(&found),
            vec![
                (
                    Kind::LongTermKey,
                    Origin::CredentialsFile,
                    Some(2),
                    Some("dev"),
                    Some(AKIA)
                ),
                (
                    Kind::ShadowedProfile,
                    Origin::CredentialsFile,
                    Some(2),
                    Some("dev"),
                    Some(AKIA)
                ),
            ]
        );
        let shadow = found
            .iter()
            .find(|f| f.kind == Kind::ShadowedProfile)
            .unwrap();
        assert_eq!(shadow.severity, Severity::High);
        assert!(
            shadow
                .message
                .contains("credential_process (/h/.aws/config:2)"),
            "{}",
            shadow.message
        );
        assert!(shadow.fix.contains("static key lines of [dev]"));
    }

    #[test]
    fn profile_named_in_both_files_with_sso() {
        let (found, _) = run(
            Some(&format!(
                "[dev]\naws_access_key_id={ASIA}\naws_secret_access_key=x\naws_session_token=t\n"
            )),
            Some(
                "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = R\n",
            ),
        );
        assert_eq!(
            summary(&found),
            vec![
                (
                    Kind::TemporaryKey,
                    Origin::CredentialsFile,
                    Some(2),
                    Some("dev"),
                    Some(ASIA)
                ),
                (
                    Kind::ShadowedProfile,
                    Origin::CredentialsFile,
                    Some(2),
                    Some("dev"),
                    Some(ASIA)
                ),
            ]
        );
        let shadow = found
            .iter()
            .find(|f| f.kind == Kind::ShadowedProfile)
            .unwrap();
        assert!(
            shadow.message.contains("uses SSO (sso_session"),
            "{}",
            shadow.message
        );
        // Same name, but the config profile is neither SSO nor a process: no shadowing.
        let (found, _) = run(
            Some(&format!("[dev]\naws_access_key_id={AKIA}\n")),
            Some("[profile dev]\nregion = eu-west-1\n"),
        );
        assert!(found.iter().all(|f| f.kind != Kind::ShadowedProfile));
    }

    #[test]
    fn duplicate_sections_last_value_wins() {
        let (found, notes) = run(
            Some(&format!(
                "[a]\naws_access_key_id = {AKIA}\naws_secret_access_key = {SECRET}\n\
                 [b]\nregion = x\n\
                 [a]\naws_access_key_id = {AKIA2}\n"
            )),
            None,
        );
        assert_eq!(
            summary(&found),
            vec![
                (
                    Kind::LongTermKey,
                    Origin::CredentialsFile,
                    Some(2),
                    Some("a"),
                    Some(AKIA)
                ),
                (
                    Kind::LongTermKey,
                    Origin::CredentialsFile,
                    Some(7),
                    Some("a"),
                    Some(AKIA2)
                ),
            ]
        );
        let first = found.iter().find(|f| f.line == Some(2)).unwrap();
        let last = found.iter().find(|f| f.line == Some(7)).unwrap();
        assert!(
            first.message.contains("replaced by the value on line 7"),
            "{}",
            first.message
        );
        assert!(
            last.message.contains("AWS tools use it for profile 'a'"),
            "{}",
            last.message
        );
        // The secret from the first [a] is merged in, as the SDKs merge.
        assert!(
            !last.message.contains("no aws_secret_access_key"),
            "{}",
            last.message
        );
        assert!(last.message.contains("appears 2 times"), "{}", last.message);
        assert!(last.fix.contains("keyless retire --profile a"));
        assert!(!first.fix.contains("keyless retire"));
        assert!(
            notes.iter().any(|n| n.message.contains("repeats")),
            "{notes:?}"
        );
    }

    #[test]
    fn duplicate_keys_in_one_section() {
        let (found, _) = run(
            Some(&format!(
                "[a]\naws_access_key_id = {AKIA}\naws_access_key_id = {AKIA2}\n"
            )),
            None,
        );
        let used: Vec<_> = found
            .iter()
            .filter(|f| f.message.contains("use it for profile"))
            .map(|f| f.key_id.as_deref())
            .collect();
        assert_eq!(used, vec![Some(AKIA2)]);
        assert_eq!(found.len(), 2);
    }

    #[test]
    fn config_key_overridden_by_credentials_key() {
        let (found, _) = run(
            Some(&format!("[p]\naws_access_key_id = {AKIA}\n")),
            Some(&format!("[profile p]\naws_access_key_id = {AKIA2}\n")),
        );
        let in_config = found
            .iter()
            .find(|f| f.origin == Origin::ConfigFile)
            .unwrap();
        assert!(
            in_config
                .message
                .contains("credentials file's key for this profile is used")
        );
        let in_creds = found
            .iter()
            .find(|f| f.origin == Origin::CredentialsFile)
            .unwrap();
        assert!(in_creds.message.contains("use it for profile 'p'"));
    }

    #[test]
    fn temporary_keys_with_and_without_token() {
        let (found, _) = run(
            Some(&format!(
                "[with]\naws_access_key_id={ASIA}\naws_secret_access_key=s\naws_session_token=t\n\
                 [without]\naws_access_key_id={ASIA}\naws_secret_access_key=s\n\
                 [old]\naws_access_key_id={ASIA}\naws_secret_access_key=s\naws_security_token=t\n"
            )),
            None,
        );
        assert_eq!(
            summary(&found),
            vec![
                (
                    Kind::TemporaryKey,
                    Origin::CredentialsFile,
                    Some(2),
                    Some("with"),
                    Some(ASIA)
                ),
                (
                    Kind::TemporaryKey,
                    Origin::CredentialsFile,
                    Some(9),
                    Some("old"),
                    Some(ASIA)
                ),
                (
                    Kind::TemporaryKeyWithoutToken,
                    Origin::CredentialsFile,
                    Some(6),
                    Some("without"),
                    Some(ASIA)
                ),
            ]
        );
        assert!(
            found
                .iter()
                .all(|f| f.severity == Severity::Low && !f.long_lived)
        );
        assert!(
            found
                .iter()
                .all(|f| f.account.as_ref().and_then(|a| a.id()) == Some("609629065308"))
        );
    }

    #[test]
    fn source_profile_chains() {
        let creds =
            format!("[base]\naws_access_key_id = {AKIA}\naws_secret_access_key = {SECRET}\n");
        let config = "\
[profile admin]
role_arn = arn:aws:iam::123456789012:role/Admin
source_profile = base

[profile deep]
role_arn = arn:aws:iam::123456789012:role/Deep
source_profile = admin

[profile self]
role_arn = arn:aws:iam::123456789012:role/Self
source_profile = self
aws_access_key_id = AKIA2E3RX7TBDLQ6WMPZ

[profile loop1]
role_arn = arn:aws:iam::1:role/x
source_profile = loop2

[profile loop2]
role_arn = arn:aws:iam::1:role/x
source_profile = loop1

[profile fromsso]
role_arn = arn:aws:iam::1:role/x
source_profile = sso

[profile sso]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = R

[profile missing]
role_arn = arn:aws:iam::1:role/x
source_profile = nowhere
";
        let (found, _) = run(Some(&creds), Some(config));
        let chains: Vec<_> = found
            .iter()
            .filter(|f| f.kind == Kind::StaticSourceProfile)
            .map(|f| {
                (
                    f.profile.as_deref().unwrap(),
                    f.line.unwrap(),
                    f.key_id.as_deref().unwrap(),
                    f.origin,
                )
            })
            .collect();
        assert_eq!(
            chains,
            vec![
                ("admin", 3, AKIA, Origin::ConfigFile),
                ("deep", 7, AKIA, Origin::ConfigFile),
                ("self", 11, AKIA2, Origin::ConfigFile),
            ]
        );
        let deep = found
            .iter()
            .find(|f| f.profile.as_deref() == Some("deep") && f.kind == Kind::StaticSourceProfile)
            .unwrap();
        assert!(
            deep.message.contains("deep → admin → base"),
            "{}",
            deep.message
        );
        assert!(
            deep.message.contains("account 123456789012"),
            "{}",
            deep.message
        );
        assert!(deep.fix.contains("static key of 'base'"));
        assert_eq!(deep.severity, Severity::Medium);
    }

    #[test]
    fn ignored_sections_and_other_places_still_count() {
        let (found, _) = run(
            Some(&format!(
                "[profile x]\naws_access_key_id = {AKIA}\n\
                 [ok]\n# aws_access_key_id = {AKIA2}\n# aws_secret_access_key = {SECRET}\n"
            )),
            None,
        );
        assert_eq!(
            summary(&found),
            vec![
                (
                    Kind::LongTermKey,
                    Origin::CredentialsFile,
                    Some(2),
                    Some("[profile x]"),
                    Some(AKIA)
                ),
                (
                    Kind::LongTermKey,
                    Origin::CredentialsFile,
                    Some(4),
                    Some("ok"),
                    Some(AKIA2)
                ),
            ]
        );
        let ignored = found.iter().find(|f| f.line == Some(2)).unwrap();
        assert!(
            ignored.message.contains("ignore this section"),
            "{}",
            ignored.message
        );
        let comment = found.iter().find(|f| f.line == Some(4)).unwrap();
        assert!(
            comment.message.contains("do not read"),
            "{}",
            comment.message
        );
        assert_eq!(
            comment.severity,
            Severity::High,
            "the secret is on the next line"
        );
    }

    #[test]
    fn values_that_are_not_key_ids_are_not_printed() {
        let (found, _) = run(
            Some(&format!(
                "[swapped]\naws_access_key_id = {SECRET}\n\
                 [local]\naws_access_key_id = LOCALSTACKKEY000\naws_secret_access_key = test\n\
                 [tiny]\naws_access_key_id = test\n\
                 [example]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\
                 [empty]\naws_access_key_id =\n"
            )),
            None,
        );
        assert_eq!(
            summary(&found),
            vec![
                (
                    Kind::UnrecognisedStaticKey,
                    Origin::CredentialsFile,
                    Some(2),
                    Some("swapped"),
                    None
                ),
                (
                    Kind::UnrecognisedStaticKey,
                    Origin::CredentialsFile,
                    Some(4),
                    Some("local"),
                    Some("LOCALSTACKKEY000")
                ),
                (
                    Kind::UnrecognisedStaticKey,
                    Origin::CredentialsFile,
                    Some(7),
                    Some("tiny"),
                    None
                ),
            ]
        );
        let rendered = format!("{found:?}");
        assert!(!rendered.contains(SECRET));
        assert!(
            found
                .iter()
                .all(|f| !f.long_lived && f.severity == Severity::Low)
        );
    }

    /// SECRET rotated: the same randomness, a different value.
    fn other_secret(k: usize) -> String {
        format!("{}{}", &SECRET[k..], &SECRET[..k])
    }

    #[test]
    fn secrets_without_a_key_id_in_the_profile() {
        let creds = format!(
            "[a]\naws_access_key_id = {AKIA}\naws_secret_access_key = {SECRET}\n\
             [b]\naws_secret_access_key = {}\n\
             [c]\naws_secret_access_key = {}\naws_session_token = t\n\
             [d]\naws_access_key_id = {AKIA2}\n\
             \n\n\n\n\n\n# aws_secret_access_key = {}\n",
            other_secret(1),
            other_secret(2),
            other_secret(3),
        );
        // [profile d] takes its key ID from the credentials file.
        let config = format!("[profile d]\naws_secret_access_key = {}\n", other_secret(4));
        let (found, _) = run(Some(&creds), Some(&config));
        let lone: Vec<_> = found
            .iter()
            .filter(|f| f.kind == Kind::SecretAccessKey)
            .collect();
        let rows: Vec<_> = lone
            .iter()
            .map(|f| (f.line, f.profile.as_deref(), f.long_lived, f.severity))
            .collect();
        assert_eq!(
            rows,
            vec![
                (Some(5), Some("b"), true, Severity::Medium),
                (Some(7), Some("c"), false, Severity::Medium),
                (Some(17), Some("d"), true, Severity::Medium),
            ],
            "{lone:#?}"
        );
        assert!(
            lone[0].message.contains("no aws_access_key_id"),
            "{}",
            lone[0].message
        );
        assert!(
            lone[2].message.contains("do not read"),
            "{}",
            lone[2].message
        );
        for f in &found {
            let text = format!("{f:?}");
            for k in 0..5 {
                assert!(!text.contains(&other_secret(k)), "{text}");
            }
            assert!(f.key_id.is_some() || f.kind == Kind::SecretAccessKey);
        }
        // Different secrets, different fingerprints.
        assert_ne!(lone[0].fingerprint(), lone[1].fingerprint());
    }

    #[test]
    fn placeholders_in_the_aws_files_are_ignored() {
        let (found, _) = run(
            Some(
                "[a]\naws_access_key_id = AKIAXXXXXXXXXXXXXXXX\n\
                 [b]\naws_access_key_id = AKIA0000000000000000\n\
                 [c]\naws_access_key_id = AKIAQAAAAAAASLNVZ4VM\n",
            ),
            None,
        );
        assert_eq!(
            summary(&found),
            vec![(
                Kind::LongTermKey,
                Origin::CredentialsFile,
                Some(6),
                Some("c"),
                Some("AKIAQAAAAAAASLNVZ4VM")
            )]
        );
        assert_eq!(
            found[0].account.as_ref().and_then(|a| a.id()),
            Some("000000000001")
        );
    }

    #[test]
    fn allow_markers_suppress_findings_in_the_aws_files() {
        let dir = tempfile::tempdir().unwrap();
        let creds = dir.path().join("credentials");
        std::fs::write(
            &creds,
            format!(
                "[a]\n# keyless:allow\naws_access_key_id = {AKIA}\n\
                 [b]\naws_access_key_id = {AKIA2} # gitleaks:allow\n\
                 [c]\naws_access_key_id = {LEGACY}\n"
            ),
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let mut report = Report::default();
        scan(Some(&creds), None, &mut report);
        report.finish();
        let keys = |list: &[Finding]| -> Vec<String> {
            list.iter().filter_map(|f| f.key_id.clone()).collect()
        };
        assert_eq!(keys(&report.findings), vec![LEGACY.to_string()]);
        let mut suppressed = keys(&report.suppressed);
        suppressed.sort();
        assert_eq!(suppressed, vec![AKIA2.to_string(), AKIA.to_string()]);
        assert_eq!(report.exit_code(), crate::scan::EXIT_LONG_LIVED_KEY);
    }

    #[test]
    fn file_quirks_never_panic_and_keys_are_still_found() {
        let key_block = format!("aws_access_key_id = {AKIA}\naws_secret_access_key = {SECRET}\n");
        let cases: Vec<(&str, Vec<u8>, usize)> = vec![
            (
                "crlf",
                format!("[d]\r\n{}", key_block.replace('\n', "\r\n")).into_bytes(),
                2,
            ),
            (
                "bom",
                [
                    b"\xEF\xBB\xBF".as_slice(),
                    format!("[d]\n{key_block}").as_bytes(),
                ]
                .concat(),
                2,
            ),
            (
                "non-utf8",
                [b"[d]\n# caf\xE9\n".as_slice(), key_block.as_bytes()].concat(),
                3,
            ),
            (
                "no closing bracket",
                format!("[d\n{key_block}").into_bytes(),
                2,
            ),
            (
                "line without =",
                format!("[d]\nnonsense line\n{key_block}").into_bytes(),
                3,
            ),
            ("before any section", key_block.clone().into_bytes(), 1),
            (
                "1 MB line",
                format!("[d]\nlong = {}\n{key_block}", "x".repeat(1 << 20)).into_bytes(),
                3,
            ),
            ("bare cr", format!("[d]\r{key_block}").into_bytes(), 0),
        ];
        for (name, bytes, line) in cases {
            let creds = FileInput {
                path: PathBuf::from("/h/.aws/credentials"),
                bytes,
            };
            let (found, notes) = analyse(Some(&creds), None);
            let keys: Vec<_> = found
                .iter()
                .filter(|f| f.kind == Kind::LongTermKey)
                .map(|f| f.line.unwrap_or(0))
                .collect();
            assert!(!keys.is_empty(), "{name}: {found:?}");
            if line > 0 {
                assert!(keys.contains(&line), "{name}: {keys:?}");
            }
            if name != "crlf" && name != "1 MB line" {
                assert!(!notes.is_empty(), "{name}: expected a note");
            }
        }
        // Empty files.
        let empty = FileInput {
            path: PathBuf::from("/h/.aws/credentials"),
            bytes: Vec::new(),
        };
        let (found, notes) = analyse(Some(&empty), Some(&empty));
        assert!(found.is_empty() && notes.is_empty());
    }

    #[test]
    fn unreadable_and_directory_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("config");
        std::fs::write(&conf, format!("[profile p]\naws_access_key_id = {AKIA}\n")).unwrap();
        let mut report = Report::default();
        let scanned = scan(Some(dir.path()), Some(&conf), &mut report);
        assert_eq!(scanned, vec![conf.clone()]);
        assert_eq!(report.errors.len(), 1);
        assert!(report.errors[0].message.contains("is a directory"));
        let keys = report
            .findings
            .iter()
            .filter(|f| f.kind == Kind::LongTermKey)
            .count();
        assert_eq!(keys, 1, "the config file is still scanned");
        // A missing file is not an error.
        let mut report = Report::default();
        let scanned = scan(Some(&dir.path().join("nope")), None, &mut report);
        assert!(scanned.is_empty() && report.errors.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn permissions_of_the_credentials_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let creds = dir.path().join("credentials");
        let conf = dir.path().join("config");
        std::fs::write(&creds, format!("[a]\naws_access_key_id = {AKIA}\n")).unwrap();
        std::fs::write(&conf, "[profile a]\nregion = x\n").unwrap();
        let mode = |p: &Path, m: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
        };
        let perms = |report: &Report| -> Vec<(Origin, String)> {
            report
                .findings
                .iter()
                .filter(|f| f.kind == Kind::FilePermissions)
                .map(|f| (f.origin, f.message.clone()))
                .collect()
        };
        mode(&creds, 0o600);
        mode(&conf, 0o644);
        let mut report = Report::default();
        scan(Some(&creds), Some(&conf), &mut report);
        assert!(perms(&report).is_empty(), "{:?}", perms(&report));

        mode(&creds, 0o640);
        mode(&conf, 0o666);
        let mut report = Report::default();
        scan(Some(&creds), Some(&conf), &mut report);
        assert_eq!(
            perms(&report),
            vec![
                (Origin::CredentialsFile, "the credentials file is readable by other users (mode 0640)".to_string()),
                (
                    Origin::ConfigFile,
                    "the config file is writable by other users (who could add a profile that runs their command) (mode 0666)".to_string()
                ),
            ]
        );
        let f = report
            .findings
            .iter()
            .find(|f| f.kind == Kind::FilePermissions)
            .unwrap();
        assert_eq!(f.severity, Severity::Medium);
        assert!(f.fix.starts_with("chmod 600 "));
    }

    proptest::proptest! {
        /// Any bytes in either file: no panic, and every printed key ID has
        /// the shape of a key ID.
        #[test]
        fn any_bytes(creds in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
                     conf in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let c = FileInput { path: PathBuf::from("c"), bytes: creds };
            let g = FileInput { path: PathBuf::from("g"), bytes: conf };
            let (found, _) = analyse(Some(&c), Some(&g));
            for f in found {
                if let Some(k) = f.key_id {
                    proptest::prop_assert!(keyid::looks_like_key_id(&k));
                }
            }
        }

        /// INI-shaped text built from AWS-file fragments: no panic.
        #[test]
        fn ini_fragments(parts in proptest::collection::vec(proptest::sample::select(vec![
            "[default]", "[profile a]", "[a]", "[sso-session s]", "[", "]", "\n", "\r\n", " ", "\t",
            "aws_access_key_id", "AWS_ACCESS_KEY_ID", "=", "AKIARZPUZDIKGB2VALC4", "ASIAY34FZKBOKMUTVV7A",
            "aws_secret_access_key", "source_profile", "role_arn", "a", "credential_process", "sso_session",
            "#", ";", "\u{feff}", "\u{e9}",
        ]), 0..60)) {
            let text: String = parts.concat();
            let c = FileInput { path: PathBuf::from("c"), bytes: text.clone().into_bytes() };
            let g = FileInput { path: PathBuf::from("g"), bytes: text.into_bytes() };
            let _ = analyse(Some(&c), Some(&g));
        }
    }
}
