//! `keyless scan`: find long-lived AWS keys on a machine and explain each
//! one, without ever printing a secret.
//!
//! Sources: the shared credentials and config files (read as the AWS tools
//! read them), the environment, and any files or directories given, which
//! are searched as free-form text. Each source produces [`Finding`]s; a
//! [`Report`] collects them with what could not be scanned, and renders as
//! text, JSON or SARIF ([`report`]).
//!
//! What the scanner holds of a credential is its key ID (an identifier,
//! printed so the key can be found in IAM) and whether a secret or session
//! token was present. Secret values are never copied out of the bytes read;
//! a secret found without its key ID is kept only as a SHA-256 digest.
//!
//! Findings marked `keyless:allow` (or `gitleaks:allow`) in the file are
//! kept apart as suppressed ([`allow`]); findings already in an earlier
//! report can be left out with a [`baseline`]. Neither counts for the exit
//! code.

pub mod allow;
pub mod aws_files;
pub mod baseline;
pub mod environment;
pub mod freeform;
pub mod keyid;
pub mod report;
pub mod walk;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use environment::EnvCredentials;
pub use keyid::{Account, KeyPrefix};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// What was found. The kebab-case names are part of the JSON and SARIF
/// output (SARIF rule IDs) and stay stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// An `AKIA…` long-term access key of an IAM user or the root user.
    LongTermKey,
    /// An `ACCA…` context-specific (service-specific) credential.
    ServiceCredential,
    /// An `A3T…` key ID, an older format secret scanners still match.
    LegacyFormatKey,
    /// An `ASIA…` temporary key stored in a file: stale exported
    /// credentials.
    TemporaryKey,
    /// An `ASIA…` temporary key without its session token: broken.
    TemporaryKeyWithoutToken,
    /// An `ABIA…` STS service bearer token ID.
    StsBearerToken,
    /// An `APKA…` CloudFront key pair ID of the root user.
    CloudfrontKeyPair,
    /// Static credentials in an AWS file whose key ID has no known prefix.
    UnrecognisedStaticKey,
    /// A static-key profile in the credentials file with the name of a
    /// profile that uses `credential_process` or SSO in the config file.
    ShadowedProfile,
    /// An assume-role profile whose `source_profile` chain starts from a
    /// static key.
    StaticSourceProfile,
    /// A credentials file (or a config file holding keys) that group or
    /// others can read or write.
    FilePermissions,
    /// A secret access key set by name with no key ID nearby.
    SecretAccessKey,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::LongTermKey,
        Kind::ServiceCredential,
        Kind::LegacyFormatKey,
        Kind::TemporaryKey,
        Kind::TemporaryKeyWithoutToken,
        Kind::StsBearerToken,
        Kind::CloudfrontKeyPair,
        Kind::UnrecognisedStaticKey,
        Kind::ShadowedProfile,
        Kind::StaticSourceProfile,
        Kind::FilePermissions,
        Kind::SecretAccessKey,
    ];

    /// The stable identifier (JSON `kind`, SARIF `ruleId`).
    pub fn id(self) -> &'static str {
        match self {
            Kind::LongTermKey => "long-term-key",
            Kind::ServiceCredential => "service-credential",
            Kind::LegacyFormatKey => "legacy-format-key",
            Kind::TemporaryKey => "temporary-key",
            Kind::TemporaryKeyWithoutToken => "temporary-key-without-token",
            Kind::StsBearerToken => "sts-bearer-token",
            Kind::CloudfrontKeyPair => "cloudfront-key-pair",
            Kind::UnrecognisedStaticKey => "unrecognised-static-key",
            Kind::ShadowedProfile => "shadowed-profile",
            Kind::StaticSourceProfile => "static-source-profile",
            Kind::FilePermissions => "file-permissions",
            Kind::SecretAccessKey => "secret-access-key",
        }
    }

    /// A short human name (text output, SARIF rule name).
    pub fn title(self) -> &'static str {
        match self {
            Kind::LongTermKey => "long-term access key",
            Kind::ServiceCredential => "service-specific credential",
            Kind::LegacyFormatKey => "older-format access key",
            Kind::TemporaryKey => "stale temporary key",
            Kind::TemporaryKeyWithoutToken => "temporary key, no token",
            Kind::StsBearerToken => "STS bearer token",
            Kind::CloudfrontKeyPair => "CloudFront key pair",
            Kind::UnrecognisedStaticKey => "unrecognised static key",
            Kind::ShadowedProfile => "shadowed profile",
            Kind::StaticSourceProfile => "role on a static key",
            Kind::FilePermissions => "file permissions",
            Kind::SecretAccessKey => "secret access key",
        }
    }

    /// What the rule is about (SARIF `fullDescription`).
    pub fn description(self) -> &'static str {
        match self {
            Kind::LongTermKey => {
                "An AKIA access key belongs to an IAM user or the root user and stays valid \
                 until someone deletes it. Leaked, it gives an attacker lasting access."
            }
            Kind::ServiceCredential => {
                "An ACCA credential is a long-lived service-specific credential (for example \
                 CodeCommit or Keyspaces)."
            }
            Kind::LegacyFormatKey => {
                "A key ID in an older format (A3T…) that secret scanners still match; it may \
                 be a long-lived key."
            }
            Kind::TemporaryKey => {
                "An ASIA key is temporary; stored in a file it is a stale export that still \
                 works until it expires."
            }
            Kind::TemporaryKeyWithoutToken => {
                "An ASIA key works only with its session token; without one no AWS tool can \
                 use it, and the profile is broken."
            }
            Kind::StsBearerToken => "An ABIA ID names an AWS STS service bearer token.",
            Kind::CloudfrontKeyPair => {
                "An APKA ID names a CloudFront key pair created by the root user; the private \
                 key is a long-lived secret kept elsewhere."
            }
            Kind::UnrecognisedStaticKey => {
                "Static credentials whose key ID has no AWS prefix: a placeholder or a local \
                 emulator's key, or a value in the wrong field."
            }
            Kind::ShadowedProfile => {
                "A profile in the credentials file with static keys has the same name as a \
                 profile using credential_process or SSO in the config file; AWS tools that \
                 prefer static keys use it and silently bypass the short-lived credentials."
            }
            Kind::StaticSourceProfile => {
                "An assume-role profile whose source_profile chain starts from a static key: \
                 the role session is only as safe as that long-lived key."
            }
            Kind::FilePermissions => {
                "A file holding AWS credentials can be read or written by other users."
            }
            Kind::SecretAccessKey => {
                "A secret access key (aws_secret_access_key, AWS_SECRET_ACCESS_KEY, \
                 SecretAccessKey) with no access key ID nearby. The key ID is not secret and \
                 easy to find: the secret alone is the leaked credential. It is never shown."
            }
        }
    }

    /// The severity this kind has unless a finding says otherwise.
    pub fn default_severity(self) -> Severity {
        match self {
            Kind::LongTermKey | Kind::ServiceCredential | Kind::ShadowedProfile => Severity::High,
            Kind::LegacyFormatKey
            | Kind::StaticSourceProfile
            | Kind::FilePermissions
            | Kind::SecretAccessKey => Severity::Medium,
            Kind::TemporaryKey
            | Kind::TemporaryKeyWithoutToken
            | Kind::StsBearerToken
            | Kind::CloudfrontKeyPair
            | Kind::UnrecognisedStaticKey => Severity::Low,
        }
    }

    /// The kind of a key found with this prefix. `has_token` matters only for
    /// temporary keys.
    pub fn of_key(prefix: KeyPrefix, has_token: bool) -> Kind {
        match prefix {
            KeyPrefix::LongTerm => Kind::LongTermKey,
            KeyPrefix::ServiceCredential => Kind::ServiceCredential,
            KeyPrefix::Legacy => Kind::LegacyFormatKey,
            KeyPrefix::Temporary if has_token => Kind::TemporaryKey,
            KeyPrefix::Temporary => Kind::TemporaryKeyWithoutToken,
            KeyPrefix::BearerToken => Kind::StsBearerToken,
            KeyPrefix::KeyPair => Kind::CloudfrontKeyPair,
        }
    }
}

/// Where a finding comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// The shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`).
    CredentialsFile,
    /// The config file (`AWS_CONFIG_FILE`).
    ConfigFile,
    /// The process environment.
    Environment,
    /// A file given on the command line or found under a directory given.
    File,
}

/// One thing worth fixing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub origin: Origin,
    /// `None` for the environment.
    pub file: Option<PathBuf>,
    /// 1-based.
    pub line: Option<usize>,
    /// 1-based, in Unicode code points.
    pub column: Option<usize>,
    pub profile: Option<String>,
    /// Only ever an identifier that has the shape of a key ID.
    pub key_id: Option<String>,
    pub kind: Kind,
    pub severity: Severity,
    /// Decoded offline from the key ID, when there is one.
    pub account: Option<Account>,
    /// The key is long-lived (decides the exit code).
    pub long_lived: bool,
    pub message: String,
    pub fix: String,
    /// SHA-256 (hex) of a secret found without its key ID: identifies the
    /// finding across runs. Never printed; only [`Finding::fingerprint`]
    /// is derived from it.
    pub secret_digest: Option<String>,
}

/// Prefix of every fingerprint: a new scheme gets a new version.
const FINGERPRINT_VERSION: &str = "keyless-finding-v1";

impl Finding {
    /// A stable identity of the finding across runs: SHA-256 (first 16
    /// bytes, hex) over the kind, the file, and the key ID, or the digest
    /// of the secret when there is no key ID, or else the profile. The line
    /// is not part of it, so the fingerprint survives lines moving; the
    /// secret itself never enters it except through its own digest.
    pub fn fingerprint(&self) -> String {
        let file = self
            .file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let identity = match (&self.key_id, &self.secret_digest, &self.profile) {
            (Some(key), _, _) => format!("key:{key}"),
            (None, Some(digest), _) => format!("secret-sha256:{digest}"),
            (None, None, Some(profile)) => format!("profile:{profile}"),
            (None, None, None) => String::new(),
        };
        let mut hash = Sha256::new();
        for part in [FINGERPRINT_VERSION, self.kind.id(), &file, &identity] {
            hash.update(part.as_bytes());
            hash.update([0u8]);
        }
        data_encoding::HEXLOWER.encode(&hash.finalize()[..16])
    }

    /// Order in reports: most severe first, then by place.
    fn sort_key(&self) -> impl Ord + '_ {
        (
            std::cmp::Reverse(self.severity),
            self.origin,
            self.file.as_deref(),
            self.line,
            self.column,
            self.kind,
            self.key_id.as_deref(),
        )
    }
}

/// Something that could not be scanned (exit code 2), or a note about
/// something deliberately skipped or partly understood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The path concerned, or a name such as `environment`.
    pub path: String,
    pub message: String,
}

/// Counters for the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub binary_skipped: u64,
    pub large_skipped: u64,
    pub elapsed: Duration,
    pub scanned_environment: bool,
}

/// Everything one scan found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// Findings marked `keyless:allow`/`gitleaks:allow` in the file: not
    /// reported as findings, no effect on the exit code, counted.
    pub suppressed: Vec<Finding>,
    /// Findings left out because the baseline has them.
    pub baselined: usize,
    /// Could not be scanned: exit code 2 unless a long-lived key was found.
    pub errors: Vec<Problem>,
    /// Skipped on purpose, or scanned with a caveat.
    pub notes: Vec<Problem>,
    pub stats: Stats,
}

/// Exit code: no long-lived key found.
pub const EXIT_CLEAN: u8 = 0;
/// Exit code: at least one long-lived key found (takes precedence: the
/// answer is certain even if something else could not be scanned).
pub const EXIT_LONG_LIVED_KEY: u8 = 1;
/// Exit code: no long-lived key found, but something could not be scanned.
pub const EXIT_INCOMPLETE: u8 = 2;

impl Report {
    /// Distinct long-lived keys found (a key reported in two places counts
    /// once; one whose ID is not shown counts per finding).
    pub fn long_lived_keys(&self) -> usize {
        let mut ids: Vec<&str> = Vec::new();
        let mut unnamed = 0;
        for f in self.findings.iter().filter(|f| f.long_lived) {
            match f.key_id.as_deref() {
                Some(id) if !ids.contains(&id) => ids.push(id),
                Some(_) => {}
                None => unnamed += 1,
            }
        }
        ids.len() + unnamed
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    pub fn exit_code(&self) -> u8 {
        if self.long_lived_keys() > 0 {
            EXIT_LONG_LIVED_KEY
        } else if !self.errors.is_empty() {
            EXIT_INCOMPLETE
        } else {
            EXIT_CLEAN
        }
    }

    /// Sorts and removes exact duplicates (the same key reported twice at
    /// the same place).
    pub fn finish(&mut self) {
        self.findings
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self.findings.dedup();
        self.suppressed
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self.suppressed.dedup();
        self.errors.sort_by(|a, b| a.path.cmp(&b.path));
        self.notes.sort_by(|a, b| a.path.cmp(&b.path));
    }
}

/// What to scan. Paths are resolved by the caller (the command reads the
/// environment); the scan itself reads only files and these values.
#[derive(Debug, Clone)]
pub struct Options {
    /// The shared credentials file, if it is to be scanned.
    pub credentials_file: Option<PathBuf>,
    /// The config file, if it is to be scanned.
    pub config_file: Option<PathBuf>,
    /// Credentials in the environment (`None`: do not scan it).
    pub environment: Option<EnvCredentials>,
    /// Files and directories to search as free-form text.
    pub paths: Vec<PathBuf>,
    /// Files not to search even when under `paths` (the baseline files,
    /// which name key IDs).
    pub skip: Vec<PathBuf>,
    pub walk: walk::WalkOptions,
}

/// Runs every source and returns the sorted report.
pub fn scan(options: &Options) -> Report {
    let started = Instant::now();
    let mut report = Report::default();
    if let Some(env) = &options.environment {
        report.findings.extend(environment::findings(env));
        report.stats.scanned_environment = true;
    }
    let aws_files = aws_files::scan(
        options.credentials_file.as_deref(),
        options.config_file.as_deref(),
        &mut report,
    );
    if !options.paths.is_empty() {
        let mut skip = aws_files;
        skip.extend(options.skip.iter().cloned());
        walk::walk(&options.paths, &options.walk, &skip, &mut report);
    }
    report.stats.elapsed = started.elapsed();
    report.finish();
    report
}

/// A finding for a key ID found somewhere, with the wording shared by every
/// source. `place` describes where, for the message ("in the environment",
/// "in this file").
pub(crate) fn key_finding(
    origin: Origin,
    key_id: &str,
    prefix: KeyPrefix,
    has_token: bool,
) -> Finding {
    let kind = Kind::of_key(prefix, has_token);
    // The account encoding is established for access keys (AKIA, ASIA) and
    // applied by trufflehog to ABIA and ACCA; not for the other prefixes.
    let account = match prefix {
        KeyPrefix::KeyPair | KeyPrefix::Legacy => Account::Unknown,
        _ => keyid::decode_account(key_id),
    };
    Finding {
        origin,
        file: None,
        line: None,
        column: None,
        profile: None,
        key_id: Some(key_id.to_string()),
        kind,
        severity: kind.default_severity(),
        long_lived: prefix.is_long_lived(),
        message: String::new(),
        fix: String::new(),
        account: Some(account),
        secret_digest: None,
    }
}

/// "account 123456789012", "account not encoded (legacy key ID)".
pub(crate) fn account_phrase(account: &Account) -> String {
    match account {
        Account::Decoded(id) => format!("account {id}"),
        Account::NotEncoded => "account not encoded: legacy key ID".to_string(),
        Account::Unknown => "account unknown".to_string(),
    }
}

/// The first sentence of a key finding's message: what the key is.
pub(crate) fn key_sentence(kind: Kind, account: &Account) -> String {
    let what = match kind {
        Kind::LongTermKey => "long-term access key of an IAM user or the root user",
        Kind::ServiceCredential => "long-lived service-specific credential",
        Kind::LegacyFormatKey => "access key ID in an older format, possibly long-lived",
        Kind::TemporaryKey => "temporary access key, a stale export",
        Kind::TemporaryKeyWithoutToken => {
            "temporary access key without its session token, so no AWS tool can use it"
        }
        Kind::StsBearerToken => "STS service bearer token ID",
        Kind::CloudfrontKeyPair => "CloudFront key pair ID of the root user",
        Kind::UnrecognisedStaticKey => "static key ID with no AWS prefix",
        Kind::SecretAccessKey => "secret access key, value not shown",
        Kind::ShadowedProfile | Kind::StaticSourceProfile | Kind::FilePermissions => "key",
    };
    format!("{what} ({})", account_phrase(account))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(kind: Kind, long_lived: bool) -> Finding {
        Finding {
            origin: Origin::File,
            file: Some(PathBuf::from("f")),
            line: Some(1),
            column: None,
            profile: None,
            key_id: None,
            kind,
            severity: kind.default_severity(),
            account: None,
            long_lived,
            message: String::new(),
            fix: String::new(),
            secret_digest: None,
        }
    }

    #[test]
    fn exit_codes() {
        let mut report = Report::default();
        assert_eq!(report.exit_code(), EXIT_CLEAN);
        report.findings.push(finding(Kind::TemporaryKey, false));
        assert_eq!(report.exit_code(), EXIT_CLEAN);
        report.errors.push(Problem {
            path: "x".into(),
            message: "m".into(),
        });
        assert_eq!(report.exit_code(), EXIT_INCOMPLETE);
        report.findings.push(finding(Kind::LongTermKey, true));
        assert_eq!(report.exit_code(), EXIT_LONG_LIVED_KEY);
    }

    #[test]
    fn kind_ids_are_unique_and_match_serde() {
        let mut seen = std::collections::HashSet::new();
        for kind in Kind::ALL {
            assert!(seen.insert(kind.id()));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::String(kind.id().to_string())
            );
        }
    }

    #[test]
    fn fingerprints_survive_line_moves_and_tell_findings_apart() {
        let mut f = finding(Kind::LongTermKey, true);
        f.file = Some(PathBuf::from("/home/me/.aws/credentials"));
        f.key_id = Some("AKIARZPUZDIKGB2VALC4".to_string());
        // Pinned: the example in docs/scan.md, and baselines written today.
        assert_eq!(f.fingerprint(), "3092514c345071e8c0b5a6a862ced5f2");
        let mut moved = f.clone();
        moved.line = Some(40);
        moved.column = Some(7);
        moved.message = "other".to_string();
        moved.severity = Severity::Medium;
        assert_eq!(moved.fingerprint(), f.fingerprint());
        let mut other_kind = f.clone();
        other_kind.kind = Kind::ShadowedProfile;
        let mut other_file = f.clone();
        other_file.file = Some(PathBuf::from("/elsewhere"));
        let mut other_key = f.clone();
        other_key.key_id = Some("AKIA2E3RX7TBDLQ6WMPZ".to_string());
        for g in [&other_kind, &other_file, &other_key] {
            assert_ne!(g.fingerprint(), f.fingerprint());
        }
        // A lone secret: identified by its digest, which does not appear.
        let digest = "ab".repeat(32);
        let mut lone = finding(Kind::SecretAccessKey, true);
        lone.secret_digest = Some(digest.clone());
        let mut other = lone.clone();
        other.secret_digest = Some("cd".repeat(32));
        assert_ne!(lone.fingerprint(), other.fingerprint());
        assert!(!lone.fingerprint().contains(&digest[..8]));
    }

    #[test]
    fn finish_sorts_by_severity_and_dedups() {
        let mut report = Report::default();
        report.findings.push(finding(Kind::TemporaryKey, false));
        report.findings.push(finding(Kind::LongTermKey, true));
        report.findings.push(finding(Kind::LongTermKey, true));
        report.finish();
        let kinds: Vec<_> = report.findings.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, vec![Kind::LongTermKey, Kind::TemporaryKey]);
    }
}
