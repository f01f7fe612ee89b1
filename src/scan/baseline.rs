//! Baselines: the findings of an earlier scan, so that a CI job fails on
//! new keys without fixing every old one first.
//!
//! A baseline is a `keyless scan --format json` report (what
//! `--write-baseline` writes is exactly that). Findings are matched by their
//! `fingerprint` ([`Finding::fingerprint`]): the kind, the file, and the key
//! ID or a digest of the secret. Not the line, so moving lines around does
//! not make an old finding new; never the secret itself.

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::Report;
use super::report::json;

/// A baseline larger than this is not a scan report.
const MAX_BASELINE_SIZE: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read the baseline {}: {reason}", path.display())]
    Read { path: PathBuf, reason: String },
    #[error("the baseline {} is not a keyless scan JSON report: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("cannot write the baseline {}: {reason}", path.display())]
    Write { path: PathBuf, reason: String },
}

impl BaselineError {
    /// The next step, for the `hint:` line.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            BaselineError::Read { path, .. } => format!(
                "create it with `keyless scan --write-baseline {}` (a `keyless scan --format \
                 json` report works too)",
                path.display()
            ),
            BaselineError::Corrupt { path, .. } => format!(
                "write a new one with `keyless scan --write-baseline {}`",
                path.display()
            ),
            BaselineError::Write { .. } => "check that its directory exists and is writable".into(),
        })
    }
}

/// The fingerprints of an earlier report's findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    fingerprints: HashSet<String>,
}

impl Baseline {
    /// Reads a baseline file (a regular file; FIFOs and devices are refused
    /// rather than read forever).
    pub fn read(path: &Path) -> Result<Baseline, BaselineError> {
        let read_err = |reason: String| BaselineError::Read {
            path: path.to_path_buf(),
            reason,
        };
        let meta = std::fs::metadata(path).map_err(|e| read_err(super::walk::io_message(&e)))?;
        if !meta.is_file() {
            return Err(read_err("not a regular file".to_string()));
        }
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_BASELINE_SIZE + 1).read_to_end(&mut bytes))
            .map_err(|e| read_err(super::walk::io_message(&e)))?;
        if bytes.len() as u64 > MAX_BASELINE_SIZE {
            return Err(read_err(format!(
                "larger than {} MiB",
                MAX_BASELINE_SIZE / (1024 * 1024)
            )));
        }
        Baseline::parse(&bytes).map_err(|reason| BaselineError::Corrupt {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// Parses a JSON report. The error says what is wrong with it.
    pub fn parse(bytes: &[u8]) -> Result<Baseline, String> {
        let doc: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| format!("not JSON ({e})"))?;
        match doc
            .get("schema_version")
            .and_then(serde_json::Value::as_u64)
        {
            Some(v) if v == u64::from(json::SCHEMA_VERSION) => {}
            Some(v) => {
                return Err(format!(
                    "schema_version {v}, expected {}",
                    json::SCHEMA_VERSION
                ));
            }
            None => return Err("no schema_version".to_string()),
        }
        let findings = doc
            .get("findings")
            .and_then(serde_json::Value::as_array)
            .ok_or("no findings list")?;
        let mut fingerprints = HashSet::new();
        for (i, f) in findings.iter().enumerate() {
            let print = f
                .get("fingerprint")
                .and_then(serde_json::Value::as_str)
                .filter(|p| !p.is_empty())
                .ok_or_else(|| format!("finding {} has no fingerprint", i + 1))?;
            fingerprints.insert(print.to_string());
        }
        Ok(Baseline { fingerprints })
    }

    /// Removes from `report` the findings the baseline has, and counts them
    /// in [`Report::baselined`].
    pub fn apply(&self, report: &mut Report) {
        let before = report.findings.len();
        report
            .findings
            .retain(|f| !self.fingerprints.contains(&f.fingerprint()));
        report.baselined += before - report.findings.len();
    }
}

#[cfg(test)]
impl Baseline {
    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }
}

/// Writes `report` as a baseline: the JSON report, 0600, replacing `path`
/// atomically (a temporary file in the same directory, then a rename).
pub fn write(path: &Path, report: &Report) -> Result<(), BaselineError> {
    let write_err = |e: io::Error| BaselineError::Write {
        path: path.to_path_buf(),
        reason: super::walk::io_message(&e),
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(write_err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(write_err)?;
    }
    json::write(report, &mut tmp).map_err(write_err)?;
    tmp.flush().map_err(write_err)?;
    tmp.as_file().sync_all().map_err(write_err)?;
    tmp.persist(path).map_err(|e| write_err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::report::fixtures;

    #[test]
    fn a_json_report_is_a_baseline() {
        let report = fixtures::every_kind();
        let mut out = Vec::new();
        json::write(&report, &mut out).unwrap();
        let baseline = Baseline::parse(&out).unwrap();
        assert_eq!(baseline.len(), report.findings.len());
        let mut again = fixtures::every_kind();
        baseline.apply(&mut again);
        assert!(again.findings.is_empty());
        assert_eq!(again.baselined, report.findings.len());
        assert_eq!(again.exit_code(), crate::scan::EXIT_INCOMPLETE);
    }

    #[test]
    fn matching_ignores_lines_and_keeps_new_findings() {
        let report = fixtures::every_kind();
        let mut out = Vec::new();
        json::write(&report, &mut out).unwrap();
        let baseline = Baseline::parse(&out).unwrap();
        let mut next = fixtures::every_kind();
        for f in &mut next.findings {
            f.line = f.line.map(|l| l + 10);
            f.column = None;
        }
        let mut new = next.findings[0].clone();
        new.key_id = Some("AKIA2E3RX7TBDLQ6WMPZ".to_string());
        next.findings.push(new.clone());
        let mut moved = next.findings[0].clone();
        moved.file = Some(PathBuf::from("elsewhere"));
        next.findings.push(moved);
        baseline.apply(&mut next);
        assert_eq!(next.findings.len(), 2);
        assert_eq!(next.findings[0], new);
        assert_eq!(next.baselined, report.findings.len());
    }

    #[test]
    fn corrupt_baselines_say_what_is_wrong() {
        for (text, want) in [
            ("", "not JSON"),
            ("{", "not JSON"),
            ("[]", "no schema_version"),
            (
                r#"{"schema_version": 2, "findings": []}"#,
                "schema_version 2",
            ),
            (r#"{"schema_version": 1}"#, "no findings list"),
            (
                r#"{"schema_version": 1, "findings": [{"kind": "long-term-key"}]}"#,
                "finding 1 has no fingerprint",
            ),
        ] {
            let err = Baseline::parse(text.as_bytes()).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
        assert!(
            Baseline::parse(br#"{"schema_version": 1, "findings": []}"#)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn read_errors_name_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.json");
        let err = Baseline::read(&missing).unwrap_err();
        assert!(err.to_string().contains("no such file"), "{err}");
        assert!(
            err.hint()
                .unwrap()
                .contains("keyless scan --write-baseline"),
            "{err}"
        );
        let err = Baseline::read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "not json").unwrap();
        let err = Baseline::read(&bad).unwrap_err();
        assert!(matches!(err, BaselineError::Corrupt { .. }));
        assert!(err.hint().unwrap().contains("--write-baseline"));
    }

    #[test]
    fn write_is_private_atomic_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baseline.json");
        std::fs::write(&path, "old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let report = fixtures::every_kind();
        write(&path, &report).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(Baseline::read(&path).unwrap().len(), report.findings.len());
        // No temporary file left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("baseline.json")]);
        let err = write(&dir.path().join("no/such/dir.json"), &report).unwrap_err();
        assert!(
            err.to_string().contains("cannot write the baseline"),
            "{err}"
        );
    }
}
