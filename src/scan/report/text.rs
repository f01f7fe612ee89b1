//! The text report: a table of findings, each followed by what it means and
//! the fix, then a summary line and the next step.

use std::io::{self, Write};
use std::path::PathBuf;

use super::display_path;
use crate::scan::{Finding, Origin, Report, Severity};

/// How to render.
#[derive(Debug, Clone, Default)]
pub struct TextStyle {
    /// ANSI colours (only when stdout is a terminal and `NO_COLOR` is unset).
    pub color: bool,
    /// Shown as `~`.
    pub home: Option<PathBuf>,
}

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";

fn severity_color(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "\x1b[1;31m",
        Severity::Medium => "\x1b[33m",
        Severity::Low => "\x1b[36m",
    }
}

struct Row {
    severity: Severity,
    kind: &'static str,
    key: String,
    account: String,
    place: String,
}

fn row(f: &Finding, style: &TextStyle) -> Row {
    let place = match (&f.file, f.origin) {
        (_, Origin::Environment) => "environment".to_string(),
        (Some(file), _) => {
            let mut s = display_path(file, style.home.as_deref());
            if let Some(line) = f.line {
                s.push_str(&format!(":{line}"));
            }
            s
        }
        (None, _) => String::new(),
    };
    let place = match &f.profile {
        Some(p) => format!("{place} [{p}]"),
        None => place,
    };
    Row {
        severity: f.severity,
        kind: f.kind.title(),
        key: f.key_id.clone().unwrap_or_else(|| "-".to_string()),
        account: f
            .account
            .as_ref()
            .map_or_else(|| "-".to_string(), ToString::to_string),
        place,
    }
}

/// Writes the report. Problems (unscannable paths) are written by the
/// caller to stderr; the summary here counts them.
pub fn write(report: &Report, style: &TextStyle, out: &mut dyn Write) -> io::Result<()> {
    let paint = |code: &str, text: &str| {
        if style.color {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    };
    if !report.findings.is_empty() {
        let rows: Vec<Row> = report.findings.iter().map(|f| row(f, style)).collect();
        let w_sev = "SEVERITY".len();
        let w_kind = rows
            .iter()
            .map(|r| r.kind.chars().count())
            .max()
            .unwrap_or(0);
        let w_key = rows
            .iter()
            .map(|r| r.key.chars().count())
            .max()
            .unwrap_or(0);
        let w_acct = rows
            .iter()
            .map(|r| r.account.chars().count())
            .max()
            .unwrap_or(0);
        let header = format!(
            "{:<w_sev$}  {:<w_kind$}  {:<w_key$}  {:<w_acct$}  WHERE",
            "SEVERITY",
            "KIND",
            "KEY ID",
            "ACCOUNT",
            w_kind = w_kind.max(4),
            w_key = w_key.max(6),
            w_acct = w_acct.max(7),
        );
        writeln!(out, "{}", paint(BOLD, &header))?;
        let indent = " ".repeat(w_sev + 2);
        for (r, f) in rows.iter().zip(&report.findings) {
            let sev = format!("{:<w_sev$}", r.severity.as_str());
            writeln!(
                out,
                "{}  {:<w_kind$}  {:<w_key$}  {:<w_acct$}  {}",
                paint(severity_color(r.severity), &sev),
                r.kind,
                r.key,
                r.account,
                r.place,
                w_kind = w_kind.max(4),
                w_key = w_key.max(6),
                w_acct = w_acct.max(7),
            )?;
            writeln!(out, "{indent}{}", f.message)?;
            writeln!(out, "{indent}{}", paint(DIM, &format!("fix: {}", f.fix)))?;
        }
        writeln!(out)?;
    }
    writeln!(out, "{}", summary(report))?;
    if let Some(next) = next_step(report) {
        writeln!(out, "{next}")?;
    }
    Ok(())
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// One line: what was found and what was scanned.
pub fn summary(report: &Report) -> String {
    let stats = &report.stats;
    let mut scanned = vec![plural(
        usize::try_from(stats.files_scanned).unwrap_or(usize::MAX),
        "file",
        "files",
    )];
    scanned[0].push_str(&format!(" ({})", human_bytes(stats.bytes_scanned)));
    if stats.scanned_environment {
        scanned.push("the environment".to_string());
    }
    let scanned = format!(
        "scanned {} in {:.2} s",
        scanned.join(" and "),
        stats.elapsed.as_secs_f64()
    );
    let keys = report.long_lived_keys();
    let mut left_out = Vec::new();
    if !report.suppressed.is_empty() {
        left_out.push(format!(
            "{} by allow markers",
            plural(report.suppressed.len(), "suppressed", "suppressed")
        ));
    }
    if report.baselined > 0 {
        left_out.push(format!(
            "{} already in the baseline",
            plural(report.baselined, "finding", "findings")
        ));
    }
    let left_out = left_out.join(", ");
    let mut line = if report.findings.is_empty() && left_out.is_empty() {
        format!("No AWS keys found; {scanned}.")
    } else if report.findings.is_empty() {
        format!("No AWS keys reported ({left_out}); {scanned}.")
    } else {
        let by_severity = [Severity::High, Severity::Medium, Severity::Low]
            .into_iter()
            .filter_map(|s| {
                let n = report.count(s);
                (n > 0).then(|| format!("{n} {}", s.as_str()))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let head = if keys > 0 {
            format!(
                "Found {}",
                plural(keys, "long-lived key", "long-lived keys")
            )
        } else {
            "No long-lived keys".to_string()
        };
        let left_out = if left_out.is_empty() {
            left_out
        } else {
            format!("; {left_out}")
        };
        format!(
            "{head} ({}: {by_severity}{left_out}); {scanned}.",
            plural(report.findings.len(), "finding", "findings")
        )
    };
    if !report.errors.is_empty() {
        line.push_str(&format!(
            " {} could not be scanned (listed on stderr).",
            plural(report.errors.len(), "path", "paths")
        ));
    }
    line
}

/// The one thing to do next, if anything.
pub fn next_step(report: &Report) -> Option<String> {
    if report.findings.is_empty() {
        return None;
    }
    let profiles: Vec<&str> = {
        let mut v: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| f.long_lived && f.origin == Origin::CredentialsFile)
            .filter_map(|f| f.profile.as_deref())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    if report.long_lived_keys() == 0 {
        return Some(
            "Next: clean up the findings above when convenient; none is a long-lived key."
                .to_string(),
        );
    }
    let retire = if profiles.is_empty() {
        String::new()
    } else {
        let args: Vec<&str> = profiles.iter().map(|p| &**p).collect();
        format!(
            "; then keyless retire --profile {} moves their keys into a backup",
            args.join(" --profile ")
        )
    };
    Some(format!(
        "Next: keyless onboard --start-url URL --sso-region REGION writes profiles that use \
         short-lived credentials from IAM Identity Center and offers to retire the static keys \
         they replace{retire}; remove other keys by hand and deactivate them in IAM."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::report::fixtures;

    fn render(report: &Report, color: bool) -> String {
        let mut out = Vec::new();
        write(
            report,
            &TextStyle {
                color,
                home: Some(PathBuf::from("/home/u")),
            },
            &mut out,
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn table_has_every_finding_and_a_summary() {
        let report = fixtures::every_kind();
        let text = render(&report, false);
        assert!(!text.contains('\x1b'));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("SEVERITY  KIND"));
        for f in &report.findings {
            assert!(text.contains(&f.message), "{}", f.message);
            assert!(text.contains(&format!("fix: {}", f.fix)));
        }
        assert!(text.contains("~/.aws/credentials:1 [p0]"));
        assert!(text.contains("not encoded"));
        assert!(text.contains("123456789012"));
        assert!(text.contains("environment [p2]"));
        assert!(
            text.contains(
                "Found 2 long-lived keys (12 findings: 3 high, 4 medium, 5 low; \
                 1 suppressed by allow markers)"
            ),
            "{text}"
        );
        assert!(text.contains("1 path could not be scanned"));
        assert!(text.contains("scanned 12 files (3.5 MB) and the environment"));
        assert!(text.contains("keyless retire --profile p0"));
    }

    #[test]
    fn colour_only_when_asked() {
        let report = fixtures::every_kind();
        let text = render(&report, true);
        assert!(text.contains("\x1b[1;31mhigh"));
        // Columns stay aligned: colour codes wrap the padded cell.
        assert!(text.contains(&format!(
            "{}high    {RESET}",
            severity_color(Severity::High)
        )));
    }

    #[test]
    fn suppressed_and_baselined_are_counted() {
        let mut report = fixtures::every_kind();
        report.baselined = 2;
        let text = render(&report, false);
        assert!(
            text.contains("1 suppressed by allow markers, 2 findings already in the baseline"),
            "{text}"
        );
        report.findings.clear();
        let text = render(&report, false);
        assert!(
            text.starts_with(
                "No AWS keys reported (1 suppressed by allow markers, 2 findings already \
                 in the baseline); scanned"
            ),
            "{text}"
        );
    }

    #[test]
    fn clean_report() {
        let text = render(&Report::default(), false);
        assert_eq!(
            text,
            "No AWS keys found; scanned 0 files (0 B) in 0.00 s.\n"
        );
    }
}
