//! Rendering a [`Report`](super::Report): a text table for people, JSON for
//! scripts, SARIF 2.1.0 for code-scanning tools.
//!
//! Every renderer works only from the report's fields: key IDs, places and
//! messages. No renderer has access to a secret value.

pub mod json;
pub mod sarif;
pub mod text;

use std::path::{Path, PathBuf};

/// A path for display: `~/…` under the home directory (text only).
pub(crate) fn display_path(path: &Path, home: Option<&Path>) -> String {
    if let Some(home) = home.filter(|h| !h.as_os_str().is_empty())
        && let Ok(rest) = path.strip_prefix(home)
    {
        if rest.as_os_str().is_empty() {
            return "~".to_string();
        }
        return format!("~{}{}", std::path::MAIN_SEPARATOR, rest.display());
    }
    path.display().to_string()
}

/// A path as a plain string for machine output (lossy for non-UTF-8 names).
pub(crate) fn path_string(path: &Option<PathBuf>) -> Option<String> {
    path.as_ref().map(|p| p.display().to_string())
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! A report with one finding of every kind, for renderer tests.

    use std::path::PathBuf;

    use crate::scan::keyid::{self, Account};
    use crate::scan::{Finding, Kind, Origin, Problem, Report, Stats};

    pub fn every_kind() -> Report {
        let keys = [
            "AKIARZPUZDIKGB2VALC4",
            "AKIAIOSFODNN7ABCDEFG",
            "ASIAY34FZKBOKMUTVV7A",
        ];
        let mut findings = Vec::new();
        for (i, kind) in Kind::ALL.into_iter().enumerate() {
            let key = keys[i % keys.len()];
            let (origin, file) = match i % 4 {
                0 => (
                    Origin::CredentialsFile,
                    Some(PathBuf::from("/home/u/.aws/credentials")),
                ),
                1 => (
                    Origin::ConfigFile,
                    Some(PathBuf::from("/home/u/.aws/config")),
                ),
                2 => (Origin::Environment, None),
                _ => (Origin::File, Some(PathBuf::from("proj dir/.env"))),
            };
            let with_key = !matches!(kind, Kind::FilePermissions | Kind::SecretAccessKey);
            findings.push(Finding {
                origin,
                line: file.as_ref().map(|_| i + 1),
                column: (origin == Origin::File).then_some(3),
                file,
                profile: (origin != Origin::File).then(|| format!("p{i}")),
                key_id: with_key.then(|| key.to_string()),
                kind,
                severity: kind.default_severity(),
                account: with_key.then(|| keyid::decode_account(key)),
                long_lived: matches!(kind, Kind::LongTermKey | Kind::ServiceCredential),
                message: format!("message for {}", kind.id()),
                fix: format!("fix for {}", kind.id()),
                secret_digest: (kind == Kind::SecretAccessKey).then(|| "ab".repeat(32)),
            });
        }
        let mut suppressed = findings[0].clone();
        suppressed.line = Some(99);
        suppressed.key_id = Some("AKIA2E3RX7TBDLQ6WMPZ".to_string());
        assert!(
            findings
                .iter()
                .any(|f| f.account == Some(Account::NotEncoded))
        );
        let mut report = Report {
            findings,
            suppressed: vec![suppressed],
            baselined: 0,
            errors: vec![Problem {
                path: "/root/secret-dir".to_string(),
                message: "cannot read: permission denied".to_string(),
            }],
            notes: vec![Problem {
                path: "big.log".to_string(),
                message: "skipped: too large".to_string(),
            }],
            stats: Stats {
                files_scanned: 12,
                bytes_scanned: 3_500_000,
                binary_skipped: 1,
                large_skipped: 1,
                elapsed: std::time::Duration::from_millis(42),
                scanned_environment: true,
            },
        };
        report.finish();
        report
    }
}
