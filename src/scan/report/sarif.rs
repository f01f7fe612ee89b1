//! `keyless scan --format sarif`: SARIF 2.1.0, for GitHub code scanning and
//! other tools that ingest static-analysis results.
//!
//! One run; one rule per finding kind (rule IDs are the JSON `kind` names);
//! one result per finding. Relative paths are relative to `%SRCROOT%` (the
//! directory the scan ran in); absolute paths are `file://` URIs. Findings
//! from the environment have a logical location only (scan with `--no-env`
//! for code scanning). Paths that could not be scanned become tool
//! execution notifications, and `executionSuccessful` is false.
//!
//! Findings suppressed by a `keyless:allow`/`gitleaks:allow` marker are
//! results with an `inSource` suppression (code scanning shows them as
//! dismissed); findings left out by a baseline are not results, and the
//! run's properties count both.

use std::io::{self, Write};
use std::path::{Component, Path};

use serde_json::{Value, json};

use crate::scan::keyid::Account;
use crate::scan::{Finding, Kind, Origin, Report, Severity};

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Where relative paths are relative to.
#[derive(Debug, Clone, Default)]
pub struct SarifOptions {
    /// The directory the scan ran in, for `originalUriBaseIds`.
    pub srcroot: Option<std::path::PathBuf>,
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub's `security-severity` scale (critical ≥ 9, high ≥ 7, medium ≥ 4).
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "8.0",
        Severity::Medium => "5.0",
        Severity::Low => "2.0",
    }
}

fn help(kind: Kind) -> &'static str {
    match kind {
        Kind::LongTermKey | Kind::ServiceCredential | Kind::LegacyFormatKey => {
            "Remove the key from the file and deactivate and delete it in IAM. Use short-lived \
             credentials from IAM Identity Center instead: a keyless profile \
             (`credential_process = keyless credential-process --profile NAME`, signed in with \
             `keyless login`)."
        }
        Kind::TemporaryKey | Kind::TemporaryKeyWithoutToken | Kind::StsBearerToken => {
            "Delete the stale temporary credentials; keyless fetches temporary credentials \
             when a tool needs them."
        }
        Kind::CloudfrontKeyPair => {
            "Replace root-user CloudFront key pairs with trusted key groups and delete the key pair."
        }
        Kind::UnrecognisedStaticKey => {
            "Check what the value is; if it is a real credential, remove it."
        }
        Kind::ShadowedProfile => {
            "Move the static key out of the credentials file (into a private backup) so the \
             profile in the config file is used."
        }
        Kind::StaticSourceProfile => {
            "Base the role on a keyless profile instead of a static key, then retire the key."
        }
        Kind::FilePermissions => "Make the file private: chmod 600 FILE.",
        Kind::SecretAccessKey => {
            "Remove the secret from the file. Find its access key in IAM (the secret alone does \
             not name it: look at the users' access keys and when each was last used), then \
             deactivate and delete it, and use short-lived credentials from IAM Identity Center \
             instead (`keyless login`)."
        }
    }
}

fn rules() -> Vec<Value> {
    Kind::ALL
        .iter()
        .map(|&kind| {
            json!({
                "id": kind.id(),
                "name": kind.id(),
                "shortDescription": { "text": kind.title() },
                "fullDescription": { "text": kind.description() },
                "help": { "text": help(kind) },
                "defaultConfiguration": { "level": level(kind.default_severity()) },
                "properties": {
                    "tags": ["security", "secrets", "aws"],
                    "security-severity": security_severity(kind.default_severity()),
                    "precision": "high",
                },
            })
        })
        .collect()
}

/// RFC 3986 percent-encoding of a path for a URI: unreserved characters and
/// `/` stay, everything else (space, `%`, `#`, non-ASCII bytes) is encoded.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The artifact location of a path: `{"uri": "file:///…"}` for absolute
/// paths, `{"uri": "dir/file", "uriBaseId": "%SRCROOT%"}` for relative ones.
fn artifact_location(path: &Path) -> Value {
    let mut parts: Vec<String> = Vec::new();
    let mut absolute = false;
    for component in path.components() {
        match component {
            Component::Prefix(p) => {
                // Windows drive: file:///C:/…
                parts.push(p.as_os_str().to_string_lossy().replace('\\', "/"));
                absolute = true;
            }
            Component::RootDir => absolute = true,
            Component::CurDir => {}
            Component::ParentDir => parts.push("..".to_string()),
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
        }
    }
    let joined = encode_path(&parts.join("/")).replace("%3A", ":");
    if absolute {
        json!({ "uri": format!("file:///{joined}") })
    } else {
        json!({ "uri": joined, "uriBaseId": "%SRCROOT%" })
    }
}

fn directory_uri(dir: &Path) -> Option<String> {
    let v = artifact_location(dir);
    let uri = v["uri"].as_str()?;
    if !uri.starts_with("file:///") {
        return None;
    }
    Some(if uri.ends_with('/') {
        uri.to_string()
    } else {
        format!("{uri}/")
    })
}

fn result(f: &Finding, suppressed: bool) -> Value {
    let rule_index = Kind::ALL.iter().position(|k| *k == f.kind).unwrap_or(0);
    let mut text = String::new();
    if let Some(profile) = &f.profile {
        text.push_str(&format!("Profile '{profile}': "));
    }
    text.push_str(&f.message);
    text.push_str(". Fix: ");
    text.push_str(&f.fix);
    let location = match (&f.file, f.origin) {
        (Some(file), _) => {
            let mut physical = json!({ "artifactLocation": artifact_location(file) });
            if let Some(line) = f.line.filter(|&l| l > 0) {
                let mut region = json!({ "startLine": line });
                if let Some(col) = f.column.filter(|&c| c > 0) {
                    region["startColumn"] = json!(col);
                }
                physical["region"] = region;
            }
            json!({ "physicalLocation": physical })
        }
        (None, Origin::Environment) => json!({
            "logicalLocations": [{ "name": "AWS_ACCESS_KEY_ID", "kind": "variable" }]
        }),
        (None, _) => json!({
            "logicalLocations": [{ "name": f.profile.as_deref().unwrap_or("unknown") }]
        }),
    };
    let mut properties = json!({
        "severity": f.severity.as_str(),
        "longLived": f.long_lived,
        "source": f.origin,
    });
    if let Some(key) = &f.key_id {
        properties["keyId"] = json!(key);
    }
    if let Some(Account::Decoded(id)) = &f.account {
        properties["account"] = json!(id);
    }
    if let Some(profile) = &f.profile {
        properties["profile"] = json!(profile);
    }
    let mut result = json!({
        "ruleId": f.kind.id(),
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": { "text": text },
        "locations": [location],
        "partialFingerprints": { "keylessFinding/v1": f.fingerprint() },
        "properties": properties,
    });
    if suppressed {
        result["suppressions"] = json!([{
            "kind": "inSource",
            "justification": "a keyless:allow or gitleaks:allow marker on the line or the line before",
        }]);
    }
    result
}

/// The SARIF log as a value.
pub fn to_value(report: &Report, options: &SarifOptions) -> Value {
    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|p| {
            json!({
                "level": "error",
                "message": { "text": format!("{}: {}", p.path, p.message) },
            })
        })
        .chain(report.notes.iter().map(|p| {
            json!({
                "level": "note",
                "message": { "text": format!("{}: {}", p.path, p.message) },
            })
        }))
        .collect();
    let mut run = json!({
        "tool": {
            "driver": {
                "name": "keyless",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules(),
            }
        },
        "invocations": [{
            "executionSuccessful": report.errors.is_empty(),
            "toolExecutionNotifications": notifications,
        }],
        "columnKind": "unicodeCodePoints",
        "results": report
            .findings
            .iter()
            .map(|f| result(f, false))
            .chain(report.suppressed.iter().map(|f| result(f, true)))
            .collect::<Vec<_>>(),
        "properties": {
            "suppressedFindings": report.suppressed.len(),
            "baselinedFindings": report.baselined,
        },
    });
    if let Some(uri) = options.srcroot.as_deref().and_then(directory_uri) {
        run["originalUriBaseIds"] = json!({ "%SRCROOT%": { "uri": uri } });
    }
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [run],
    })
}

pub fn write(report: &Report, options: &SarifOptions, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &to_value(report, options))?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::report::fixtures;

    #[test]
    fn structure() {
        let report = fixtures::every_kind();
        let v = to_value(
            &report,
            &SarifOptions {
                srcroot: Some("/work/repo".into()),
            },
        );
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), Kind::ALL.len());
        let results = run["results"].as_array().unwrap();
        assert_eq!(
            results.len(),
            report.findings.len() + report.suppressed.len()
        );
        let suppressed: Vec<_> = results
            .iter()
            .filter(|r| r["suppressions"][0]["kind"] == "inSource")
            .collect();
        assert_eq!(suppressed.len(), 1);
        assert_eq!(run["properties"]["suppressedFindings"], 1);
        for r in results {
            let idx = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[idx]["id"], r["ruleId"]);
        }
        assert_eq!(results[0]["level"], "error");
        assert_eq!(
            results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "file:///home/u/.aws/credentials"
        );
        assert_eq!(
            run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
            "file:///work/repo/"
        );
        assert_eq!(run["invocations"][0]["executionSuccessful"], false);
        assert!(
            results
                .iter()
                .any(|r| r["locations"][0]["logicalLocations"][0]["name"] == "AWS_ACCESS_KEY_ID")
        );
    }

    /// The OASIS SARIF 2.1.0 schema (draft-04), vendored unchanged.
    pub(crate) fn schema_errors(log: &Value) -> Vec<String> {
        // The published schema's `language` patterns have a stray `]`, a
        // literal in legacy ECMAScript regexes but rejected by the
        // validator's meta-schema check. Escaping it keeps the meaning.
        const BAD: &str = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
        const FIXED: &str = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#;
        let text = include_str!("../../../tests/data/sarif-2.1.0-rtm.5.json");
        assert!(text.contains(BAD));
        let schema: Value = serde_json::from_str(&text.replace(BAD, FIXED)).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        validator
            .iter_errors(log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    #[test]
    fn validates_against_the_sarif_schema() {
        let report = fixtures::every_kind();
        let log = to_value(
            &report,
            &SarifOptions {
                srcroot: Some("/work/repo".into()),
            },
        );
        assert_eq!(schema_errors(&log), Vec::<String>::new());
        let clean = to_value(&Report::default(), &SarifOptions::default());
        assert_eq!(schema_errors(&clean), Vec::<String>::new());
        // The validator does reject a broken log.
        let mut broken = log.clone();
        broken["runs"][0]["results"][0]["level"] = json!("fatal");
        broken["version"] = json!("2.0.0");
        assert_eq!(
            schema_errors(&broken).len(),
            2,
            "{:?}",
            schema_errors(&broken)
        );
    }

    #[test]
    fn uris() {
        assert_eq!(
            artifact_location(Path::new("proj dir/.env")),
            json!({"uri": "proj%20dir/.env", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            artifact_location(Path::new("./a/#b%c")),
            json!({"uri": "a/%23b%25c", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            artifact_location(Path::new("/é")),
            json!({"uri": "file:///%C3%A9"})
        );
    }

    #[test]
    fn fingerprints_are_stable_and_distinct() {
        let report = fixtures::every_kind();
        let prints: Vec<String> = report.findings.iter().map(Finding::fingerprint).collect();
        let again: Vec<String> = report.findings.iter().map(Finding::fingerprint).collect();
        assert_eq!(prints, again);
        let mut unique = prints.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), prints.len());
    }
}
