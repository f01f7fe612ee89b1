//! The three renderings of a [`Snapshot`]: text for people (the metrics
//! table, then findings grouped by account), JSON (the contract in
//! docs/audit.md) and CSV (one finding a row, for spreadsheets); and the
//! comparison with a baseline snapshot.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use super::{Metrics, NotEvaluated, SCHEMA_VERSION, Snapshot, Status, day};

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("the baseline is not a keyless audit JSON snapshot: {0}")]
    Parse(String),
    #[error("the baseline has schema_version {0}, and this keyless reads {SCHEMA_VERSION}")]
    Version(u64),
}

impl BaselineError {
    /// The next step, for the `hint:` line.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            BaselineError::Parse(_) => {
                "pass a file that `keyless audit --format json` wrote".into()
            }
            BaselineError::Version(_) => {
                "run the audit again with --format json to make a new baseline".into()
            }
        })
    }
}

/// What a baseline contributes: its time and its metrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    #[serde(with = "super::rfc3339")]
    pub generated_at: time::OffsetDateTime,
    pub metrics: Metrics,
}

impl Baseline {
    /// Reads a snapshot written by `--format json`, keeping only what a
    /// comparison needs (later fields are ignored).
    pub fn parse(text: &str) -> Result<Baseline, BaselineError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| BaselineError::Parse(e.to_string()))?;
        let version = value
            .get("schema_version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| BaselineError::Parse("no schema_version".into()))?;
        if version != u64::from(SCHEMA_VERSION) {
            return Err(BaselineError::Version(version));
        }
        serde_json::from_value(value).map_err(|e| BaselineError::Parse(e.to_string()))
    }
}

/// One metric before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delta {
    pub metric: &'static str,
    pub before: u64,
    pub after: u64,
    pub delta: i64,
}

pub fn deltas(before: &Metrics, after: &Metrics) -> Vec<Delta> {
    before
        .rows()
        .into_iter()
        .zip(after.rows())
        .map(|((metric, _, b), (_, _, a))| Delta {
            metric,
            before: b,
            after: a,
            delta: a as i64 - b as i64,
        })
        .collect()
}

/// `7 (78%)` for the metrics that are a share of the active keys.
fn value(metric: &str, n: u64, active: u64) -> String {
    let share = matches!(
        metric,
        "keys_over_max_age" | "unused_keys" | "new_keys" | "departed_owner_keys" | "exempt_keys"
    );
    if share && active > 0 {
        format!("{n} ({}%)", (n * 100 + active / 2) / active)
    } else {
        n.to_string()
    }
}

/// The text report.
pub fn text(out: &mut dyn Write, snap: &Snapshot, baseline: Option<&Baseline>) -> io::Result<()> {
    let ok = snap.accounts.len() - snap.errors();
    writeln!(
        out,
        "keyless audit: {} account(s) ({ok} audited, {} could not be), as of {}",
        snap.accounts.len(),
        snap.errors(),
        day(snap.as_of)
    )?;
    writeln!(
        out,
        "limits: key age {} days, unused {} days, new {} days; exempt paths {}",
        snap.thresholds.max_age_days,
        snap.thresholds.max_unused_days,
        snap.thresholds.new_key_days,
        snap.thresholds.exempt_paths.join(" ")
    )?;
    writeln!(out)?;
    let labels = snap.metrics.rows();
    match baseline {
        None => {
            writeln!(out, "{:<42} {:>12}", "metric", "value")?;
            for (metric, label, n) in labels {
                writeln!(
                    out,
                    "{label:<42} {:>12}",
                    value(metric, n, snap.metrics.active_keys)
                )?;
            }
        }
        Some(base) => {
            writeln!(
                out,
                "{:<42} {:>12} {:>12} {:>7}",
                "metric",
                format!("before {}", day(base.generated_at)),
                "after",
                "delta"
            )?;
            for (d, (_, label, _)) in deltas(&base.metrics, &snap.metrics).iter().zip(labels) {
                writeln!(
                    out,
                    "{label:<42} {:>12} {:>12} {:>+7}",
                    value(d.metric, d.before, base.metrics.active_keys),
                    value(d.metric, d.after, snap.metrics.active_keys),
                    d.delta
                )?;
            }
        }
    }
    for NotEvaluated { kind, reason } in &snap.not_evaluated {
        writeln!(out, "not evaluated: {}: {reason}", kind.id())?;
    }

    for account in &snap.accounts {
        writeln!(out)?;
        match account.status {
            Status::Error => {
                writeln!(
                    out,
                    "account {}: could not be audited: {}",
                    account.account_id,
                    account.error.as_deref().unwrap_or("unknown error")
                )?;
                continue;
            }
            Status::Ok => {
                let report = account
                    .report_generated_at
                    .map(|t| format!(" (credential report of {t})", t = rfc3339(t)))
                    .unwrap_or_default();
                writeln!(out, "account {}{report}", account.account_id)?;
            }
        }
        let mine: Vec<_> = snap
            .findings
            .iter()
            .filter(|f| f.account_id == account.account_id)
            .collect();
        if mine.is_empty() {
            writeln!(out, "  no findings")?;
        }
        for f in mine {
            writeln!(
                out,
                "  {:<8} {:<16} {:<24} {}",
                f.severity.as_str().to_uppercase(),
                f.kind.id(),
                f.user,
                f.key_id.as_deref().unwrap_or("-")
            )?;
            writeln!(out, "           {}", f.message)?;
            writeln!(out, "           fix: {}", f.fix)?;
        }
    }
    Ok(())
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The JSON snapshot, with `baseline` (its time, metrics and deltas) added
/// when there is one.
pub fn json(out: &mut dyn Write, snap: &Snapshot, baseline: Option<&Baseline>) -> io::Result<()> {
    let mut value = serde_json::to_value(snap).map_err(io::Error::other)?;
    if let (Some(base), Some(object)) = (baseline, value.as_object_mut()) {
        let deltas: serde_json::Map<String, serde_json::Value> =
            deltas(&base.metrics, &snap.metrics)
                .into_iter()
                .map(|d| (d.metric.to_string(), serde_json::json!(d.delta)))
                .collect();
        object.insert(
            "baseline".into(),
            serde_json::json!({
                "generated_at": rfc3339(base.generated_at),
                "metrics": base.metrics,
                "delta": deltas,
            }),
        );
    }
    serde_json::to_writer_pretty(&mut *out, &value).map_err(io::Error::other)?;
    writeln!(out)
}

/// One row per finding; with a baseline, the metric deltas come first as
/// rows of kind `metric`.
pub fn csv(out: &mut dyn Write, snap: &Snapshot, baseline: Option<&Baseline>) -> io::Result<()> {
    writeln!(
        out,
        "account_id,kind,severity,user,key_id,key_slot,message,fix"
    )?;
    if let Some(base) = baseline {
        for d in deltas(&base.metrics, &snap.metrics) {
            let message = format!("before {} after {} delta {:+}", d.before, d.after, d.delta);
            writeln!(out, ",metric,,{},,,{},", d.metric, field(&message))?;
        }
    }
    for account in snap.accounts.iter().filter(|a| a.status == Status::Error) {
        writeln!(
            out,
            "{},error,,,,,{},",
            account.account_id,
            field(account.error.as_deref().unwrap_or_default())
        )?;
    }
    for f in &snap.findings {
        writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            field(&f.account_id),
            f.kind.id(),
            f.severity.as_str(),
            field(&f.user),
            field(f.key_id.as_deref().unwrap_or_default()),
            f.key_slot.map(|s| s.to_string()).unwrap_or_default(),
            field(&f.message),
            field(&f.fix)
        )?;
    }
    Ok(())
}

/// A CSV field, quoted when it needs to be; a leading `=`, `+`, `-` or `@`
/// is prefixed with `'` so a spreadsheet does not run it as a formula.
fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=1+1"), "'=1+1");
        assert_eq!(field(""), "");
    }

    #[test]
    fn shares_are_rounded_percentages() {
        assert_eq!(value("keys_over_max_age", 7, 9), "7 (78%)");
        assert_eq!(value("keys_over_max_age", 0, 0), "0");
        assert_eq!(value("root_keys", 2, 9), "2");
    }

    #[test]
    fn baselines_of_another_version_are_refused() {
        let err = Baseline::parse(r#"{"schema_version": 2}"#).unwrap_err();
        assert!(err.to_string().contains("schema_version 2"));
        assert!(Baseline::parse("nope").is_err());
        assert!(Baseline::parse(r#"{"schema_version": 1}"#).is_err());
    }
}
