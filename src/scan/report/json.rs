//! `keyless scan --format json`: one JSON document on stdout.
//!
//! The schema is stable: fields are only ever added, never renamed or
//! removed, and `schema_version` changes if that promise is ever broken.
//!
//! ```text
//! {
//!   "schema_version": 1,
//!   "findings": [
//!     {
//!       "file": "/home/me/.aws/credentials",   // null for the environment
//!       "line": 2,                             // 1-based, or null
//!       "column": null,                        // 1-based code points, or null
//!       "profile": "default",                  // or null
//!       "key_id": "AKIARZPUZDIKGB2VALC4",      // never the secret; or null
//!       "kind": "long-term-key",               // see below
//!       "severity": "high",                    // "high" | "medium" | "low"
//!       "account": "123456789012",             // decoded offline, or null
//!       "account_status": "decoded",           // "decoded" | "not-encoded" | "unknown" | null
//!       "long_lived": true,                    // decides exit code 1
//!       "source": "credentials-file",          // "credentials-file" | "config-file" | "environment" | "file"
//!       "message": "…",
//!       "fix": "…",
//!       "fingerprint": "3f0c…"                 // 32 hex digits, stable across runs
//!     }
//!   ],
//!   "suppressed": [ … ],                         // findings marked keyless:allow, same fields
//!   "errors": [ { "path": "…", "message": "…" } ],   // not scanned: exit 2
//!   "notes":  [ { "path": "…", "message": "…" } ],   // skipped on purpose, caveats
//!   "summary": {
//!     "findings": 3, "high": 1, "medium": 1, "low": 1,
//!     "long_lived_keys": 1,
//!     "suppressed": 0,                         // marked keyless:allow or gitleaks:allow
//!     "baselined": 0,                          // left out: in the --baseline report
//!     "files_scanned": 10, "bytes_scanned": 12345,
//!     "binary_skipped": 0, "large_skipped": 0,
//!     "environment_scanned": true,
//!     "errors": 0,
//!     "exit_code": 1
//!   }
//! }
//! ```
//!
//! `kind` is one of `long-term-key`, `service-credential`,
//! `legacy-format-key`, `temporary-key`, `temporary-key-without-token`,
//! `sts-bearer-token`, `cloudfront-key-pair`, `unrecognised-static-key`,
//! `shadowed-profile`, `static-source-profile`, `file-permissions`,
//! `secret-access-key` (a secret with no key ID nearby: `key_id` is null and
//! the secret is never included; the fingerprint holds a digest of it).
//!
//! A report is also a baseline (`--baseline FILE`): only the `fingerprint`
//! of each finding is read.

use std::io::{self, Write};

use serde::Serialize;

use super::path_string;
use crate::scan::keyid::Account;
use crate::scan::{Finding, Kind, Origin, Problem, Report, Severity};

/// The current schema version.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    findings: Vec<JsonFinding<'a>>,
    suppressed: Vec<JsonFinding<'a>>,
    errors: &'a [Problem],
    notes: &'a [Problem],
    summary: Summary,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    file: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    profile: Option<&'a str>,
    key_id: Option<&'a str>,
    kind: Kind,
    severity: Severity,
    account: Option<&'a str>,
    account_status: Option<&'static str>,
    long_lived: bool,
    source: Origin,
    message: &'a str,
    fix: &'a str,
    fingerprint: String,
}

#[derive(Serialize)]
struct Summary {
    findings: usize,
    high: usize,
    medium: usize,
    low: usize,
    long_lived_keys: usize,
    suppressed: usize,
    baselined: usize,
    files_scanned: u64,
    bytes_scanned: u64,
    binary_skipped: u64,
    large_skipped: u64,
    environment_scanned: bool,
    errors: usize,
    exit_code: u8,
}

fn finding(f: &Finding) -> JsonFinding<'_> {
    JsonFinding {
        file: path_string(&f.file),
        line: f.line,
        column: f.column,
        profile: f.profile.as_deref(),
        key_id: f.key_id.as_deref(),
        kind: f.kind,
        severity: f.severity,
        account: f.account.as_ref().and_then(Account::id),
        account_status: f.account.as_ref().map(|a| match a {
            Account::Decoded(_) => "decoded",
            Account::NotEncoded => "not-encoded",
            Account::Unknown => "unknown",
        }),
        long_lived: f.long_lived,
        source: f.origin,
        message: &f.message,
        fix: &f.fix,
        fingerprint: f.fingerprint(),
    }
}

/// The JSON document as a value (for tests and embedding).
pub fn to_value(report: &Report) -> serde_json::Value {
    let stats = &report.stats;
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        findings: report.findings.iter().map(finding).collect(),
        suppressed: report.suppressed.iter().map(finding).collect(),
        errors: &report.errors,
        notes: &report.notes,
        summary: Summary {
            findings: report.findings.len(),
            high: report.count(Severity::High),
            medium: report.count(Severity::Medium),
            low: report.count(Severity::Low),
            long_lived_keys: report.long_lived_keys(),
            suppressed: report.suppressed.len(),
            baselined: report.baselined,
            files_scanned: stats.files_scanned,
            bytes_scanned: stats.bytes_scanned,
            binary_skipped: stats.binary_skipped,
            large_skipped: stats.large_skipped,
            environment_scanned: stats.scanned_environment,
            errors: report.errors.len(),
            exit_code: report.exit_code(),
        },
    };
    serde_json::to_value(doc).unwrap_or(serde_json::Value::Null)
}

/// Writes the document, pretty-printed, with a final newline.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &to_value(report))?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::report::fixtures;

    #[test]
    fn schema_fields() {
        let report = fixtures::every_kind();
        let mut out = Vec::new();
        write(&report, &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["schema_version"], 1);
        let findings = v["findings"].as_array().unwrap();
        assert_eq!(findings.len(), Kind::ALL.len());
        let keys = [
            "file",
            "line",
            "column",
            "profile",
            "key_id",
            "kind",
            "severity",
            "account",
            "account_status",
            "long_lived",
            "source",
            "message",
            "fix",
            "fingerprint",
        ];
        for f in findings {
            let obj = f.as_object().unwrap();
            let mut got: Vec<&str> = obj.keys().map(String::as_str).collect();
            got.sort_unstable();
            let mut want = keys.to_vec();
            want.sort_unstable();
            assert_eq!(got, want);
        }
        let first = &findings[0];
        assert_eq!(first["kind"], "long-term-key");
        assert_eq!(first["severity"], "high");
        assert_eq!(first["key_id"], "AKIARZPUZDIKGB2VALC4");
        assert_eq!(first["account"], "123456789012");
        assert_eq!(first["account_status"], "decoded");
        assert_eq!(first["source"], "credentials-file");
        assert!(
            findings
                .iter()
                .any(|f| f["account_status"] == "not-encoded" && f["account"].is_null())
        );
        assert!(
            findings
                .iter()
                .any(|f| f["source"] == "environment" && f["file"].is_null())
        );
        let s = &v["summary"];
        assert_eq!(s["findings"], 12);
        assert_eq!(s["suppressed"], 1);
        assert_eq!(v["suppressed"].as_array().unwrap().len(), 1);
        assert_eq!(s["baselined"], 0);
        let lone = findings
            .iter()
            .find(|f| f["kind"] == "secret-access-key")
            .unwrap();
        assert!(lone["key_id"].is_null());
        assert_eq!(lone["severity"], "medium");
        for f in findings {
            let print = f["fingerprint"].as_str().unwrap();
            assert_eq!(print.len(), 32);
            assert!(print.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        assert_eq!(s["long_lived_keys"], 2);
        assert_eq!(s["exit_code"], 1);
        assert_eq!(s["errors"], 1);
        assert_eq!(v["errors"][0]["path"], "/root/secret-dir");
        assert_eq!(v["notes"][0]["message"], "skipped: too large");
    }
}
