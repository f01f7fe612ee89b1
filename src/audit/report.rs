//! The IAM credential report (`GetCredentialReport`), parsed by header
//! name, never by position: AWS has added columns before and may again.
//!
//! Values are taken as AWS writes them: booleans `TRUE`/`true`/`FALSE`/
//! `false`; times in ISO 8601 (`2026-12-01T21:02:06+00:00`); and `N/A`,
//! `no_information` and `not_supported` for "no value".

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The user name AWS gives the root user's row.
pub const ROOT_USER: &str = "<root_account>";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReportError {
    #[error("the credential report is empty")]
    Empty,
    #[error("the credential report has no '{0}' column")]
    MissingColumn(&'static str),
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
}

impl ReportError {
    /// The next step, for the `hint:` line.
    pub fn hint(&self) -> Option<String> {
        match self {
            ReportError::Empty | ReportError::MissingColumn(_) => Some(
                "check that the file is an IAM credential report (CSV, as the IAM console or \
                 GetCredentialReport gives it)"
                    .into(),
            ),
            ReportError::Line { .. } => None,
        }
    }
}

/// One access-key slot (`access_key_1_…` or `access_key_2_…`) of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportKey {
    /// 1 or 2, as in the column names.
    pub slot: u8,
    pub active: bool,
    /// `access_key_N_last_rotated`: when the key was created.
    pub last_rotated: Option<OffsetDateTime>,
    /// `access_key_N_last_used_date`; `None` when never used (`N/A`).
    pub last_used: Option<OffsetDateTime>,
}

/// One user (or the root user) of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub user: String,
    pub arn: String,
    /// The 12-digit account, from the ARN.
    pub account_id: String,
    /// Only slots whose key exists (`access_key_N_last_rotated` has a value
    /// or the key is active).
    pub keys: Vec<ReportKey>,
}

impl ReportRow {
    pub fn is_root(&self) -> bool {
        self.user == ROOT_USER || self.arn.ends_with(":root")
    }

    /// The IAM path of the user, from its ARN (`/` when there is none).
    pub fn path(&self) -> String {
        path_from_arn(&self.arn)
    }
}

/// `arn:aws:iam::111122223333:user/division/team/alice` → `/division/team/`.
pub fn path_from_arn(arn: &str) -> String {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
    let rest = resource.strip_prefix("user").unwrap_or(resource);
    match rest.rfind('/') {
        Some(end) if rest.starts_with('/') => rest[..=end].to_string(),
        _ => "/".to_string(),
    }
}

/// The account of an IAM ARN, if it names one.
pub fn account_from_arn(arn: &str) -> Option<String> {
    let account = arn.split(':').nth(4)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        .then(|| account.to_string())
}

/// Parses a whole report.
pub fn parse(text: &str) -> Result<Vec<ReportRow>, ReportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = parse_csv(text)?.into_iter();
    let (_, header) = records.next().ok_or(ReportError::Empty)?;
    let column = |name: &'static str| {
        header
            .iter()
            .position(|h| h.trim() == name)
            .ok_or(ReportError::MissingColumn(name))
    };
    let optional = |name: &str| header.iter().position(|h| h.trim() == name);
    let user = column("user")?;
    let arn = column("arn")?;
    let slots = [1u8, 2].map(|n| {
        (
            n,
            optional(&format!("access_key_{n}_active")),
            optional(&format!("access_key_{n}_last_rotated")),
            optional(&format!("access_key_{n}_last_used_date")),
        )
    });
    if slots.iter().all(|s| s.1.is_none()) {
        return Err(ReportError::MissingColumn("access_key_1_active"));
    }

    let mut rows = Vec::new();
    for (line, record) in records {
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let field = |i: usize| record.get(i).map(|f| f.trim()).unwrap_or_default();
        let bad = |message: String| ReportError::Line { line, message };
        let arn_value = field(arn).to_string();
        let user_value = field(user).to_string();
        let account_id = account_from_arn(&arn_value)
            .ok_or_else(|| bad(format!("'{arn_value}' is not an IAM ARN with an account")))?;
        let mut keys = Vec::new();
        for (slot, active, rotated, used) in slots {
            let Some(active) = active else { continue };
            let active = parse_bool(field(active))
                .ok_or_else(|| bad(format!("access_key_{slot}_active: not TRUE or FALSE")))?;
            let last_rotated = match rotated {
                Some(i) => parse_time(field(i))
                    .map_err(|v| bad(format!("access_key_{slot}_last_rotated: '{v}'")))?,
                None => None,
            };
            let last_used = match used {
                Some(i) => parse_time(field(i))
                    .map_err(|v| bad(format!("access_key_{slot}_last_used_date: '{v}'")))?,
                None => None,
            };
            if active || last_rotated.is_some() {
                keys.push(ReportKey {
                    slot,
                    active,
                    last_rotated,
                    last_used,
                });
            }
        }
        rows.push(ReportRow {
            user: user_value,
            arn: arn_value,
            account_id,
            keys,
        });
    }
    Ok(rows)
}

fn parse_bool(value: &str) -> Option<bool> {
    if value.eq_ignore_ascii_case("true") {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// `None` for the words AWS writes instead of a time; the value back as
/// the error when it is neither.
fn parse_time(value: &str) -> Result<Option<OffsetDateTime>, String> {
    const NO_VALUE: [&str; 4] = ["N/A", "no_information", "not_supported", ""];
    if NO_VALUE.iter().any(|w| value.eq_ignore_ascii_case(w)) {
        return Ok(None);
    }
    OffsetDateTime::parse(value, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(&value.replace("+00:00", "Z"), &Rfc3339))
        .map(Some)
        .map_err(|_| value.chars().take(40).collect())
}

/// RFC 4180: quoted fields may hold commas, quotes (doubled) and line
/// breaks. Each record comes with its 1-based starting line.
fn parse_csv(text: &str) -> Result<Vec<(usize, Vec<String>)>, ReportError> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut line = 1;
    let mut start = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            '"' if quoted => quoted = false,
            '"' if field.is_empty() => quoted = true,
            ',' if !quoted => record.push(std::mem::take(&mut field)),
            '\r' if !quoted && chars.peek() == Some(&'\n') => {}
            '\n' if !quoted => {
                record.push(std::mem::take(&mut field));
                records.push((start, std::mem::take(&mut record)));
                line += 1;
                start = line;
            }
            '\n' => {
                line += 1;
                field.push(c);
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(ReportError::Line {
            line: start,
            message: "a quoted field is not closed".into(),
        });
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push((start, record));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const MOTO: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
alice,arn:aws:iam::111111111111:user/alice,2026-12-01T21:02:06+00:00,false,not_supported,2026-12-01T21:02:06+00:00,not_supported,false,true,2026-12-01T21:02:06+00:00,N/A,not_supported,not_supported,false,N/A,N/A,not_supported,not_supported,false,N/A,false,N/A
svc,arn:aws:iam::111111111111:user/keyless-exempt/svc,2026-12-01T21:02:06+00:00,false,not_supported,2026-12-01T21:02:06+00:00,not_supported,false,true,2026-12-01T21:02:06+00:00,N/A,not_supported,not_supported,false,N/A,N/A,not_supported,not_supported,false,N/A,false,N/A
";

    #[test]
    fn moto_report_parses() {
        let rows = parse(MOTO).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].user, "alice");
        assert_eq!(rows[0].account_id, "111111111111");
        assert_eq!(
            rows[0].keys,
            vec![ReportKey {
                slot: 1,
                active: true,
                last_rotated: Some(datetime!(2026-12-01 21:02:06 UTC)),
                last_used: None,
            }]
        );
        assert_eq!(rows[0].path(), "/");
        assert_eq!(rows[1].path(), "/keyless-exempt/");
    }

    #[test]
    fn aws_report_with_columns_reordered_and_root() {
        // Upper-case booleans, `no_information`, a root row, columns in
        // another order and one unknown column.
        let text = "arn,user,extra,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_1_last_used_date,access_key_1_active,access_key_1_last_rotated\r\n\
arn:aws:iam::222222222222:root,<root_account>,x,FALSE,N/A,N/A,2026-01-02T03:04:05+00:00,TRUE,2025-01-01T00:00:00+00:00\r\n\
\"arn:aws:iam::222222222222:user/a/b/bob\",bob,\"quoted, with comma\",TRUE,2026-06-01T00:00:00Z,no_information,N/A,false,2020-01-01T00:00:00+00:00\r\n";
        let rows = parse(text).unwrap();
        assert!(rows[0].is_root());
        assert_eq!(rows[0].keys.len(), 1);
        assert_eq!(
            rows[0].keys[0].last_used,
            Some(datetime!(2026-01-02 03:04:05 UTC))
        );
        assert_eq!(rows[1].path(), "/a/b/");
        assert_eq!(
            rows[1].keys.len(),
            2,
            "an inactive key with a date still exists"
        );
        assert!(!rows[1].keys[0].active);
        assert_eq!(rows[1].keys[1].slot, 2);
        assert!(rows[1].keys[1].active);
        assert_eq!(rows[1].keys[1].last_used, None);
    }

    #[test]
    fn bad_reports_are_named() {
        assert_eq!(parse(""), Err(ReportError::Empty));
        assert_eq!(parse("name,arn\n"), Err(ReportError::MissingColumn("user")));
        assert_eq!(
            parse("user,arn\nx,arn:aws:iam::111111111111:user/x\n"),
            Err(ReportError::MissingColumn("access_key_1_active"))
        );
        let err = parse("user,arn,access_key_1_active\nx,arn:aws:iam::111111111111:user/x,maybe\n")
            .unwrap_err();
        assert!(err.to_string().starts_with("line 2:"), "{err}");
        let err = parse("user,arn,access_key_1_active\nx,nope,true\n").unwrap_err();
        assert!(err.to_string().contains("not an IAM ARN"), "{err}");
        assert!(parse("user,arn,access_key_1_active\n\"x,y\n").is_err());
    }

    #[test]
    fn paths_and_accounts_from_arns() {
        assert_eq!(path_from_arn("arn:aws:iam::1:user/x"), "/");
        assert_eq!(path_from_arn("arn:aws:iam::1:user/p/q/x"), "/p/q/");
        assert_eq!(path_from_arn("garbage"), "/");
        assert_eq!(path_from_arn(""), "/");
        assert_eq!(
            account_from_arn("arn:aws-cn:iam::123456789012:root").as_deref(),
            Some("123456789012")
        );
        assert_eq!(account_from_arn("arn:aws:iam::12:root"), None);
    }
}
