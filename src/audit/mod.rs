//! `keyless audit`: long-lived access keys across accounts, measured.
//!
//! Pure: [`evaluate`] turns what was collected from each account (the
//! credential report, the access keys, the authorization details) into a
//! [`Snapshot`] of findings and metrics, with an injected `as_of` clock.
//! Collection over the AWS APIs is in [`collect`]; rendering in
//! [`render`]. The JSON contract is documented in docs/audit.md.

pub mod collect;
pub mod findings;
pub mod policy;
pub mod render;
pub mod report;

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

pub use findings::{Finding, Kind};
use policy::Authorization;
use report::ReportRow;

/// The version of the JSON snapshot.
pub const SCHEMA_VERSION: u32 = 1;
pub const DEFAULT_MAX_AGE_DAYS: i64 = 90;
pub const DEFAULT_MAX_UNUSED_DAYS: i64 = 90;
/// Keys younger than this are reported as `new-key`.
pub const NEW_KEY_DAYS: i64 = 30;
pub const DEFAULT_EXEMPT_PATH: &str = "/keyless-exempt/";

/// The thresholds and the clock of one audit.
#[derive(Debug, Clone)]
pub struct Options {
    pub as_of: OffsetDateTime,
    pub max_age_days: i64,
    pub max_unused_days: i64,
    pub new_key_days: i64,
    /// IAM paths (`/keyless-exempt/`); a user under one is an exception.
    pub exempt_paths: Vec<String>,
    /// The people still here; `None`: departed owners are not checked.
    pub people: Option<People>,
}

impl Options {
    pub fn new(as_of: OffsetDateTime) -> Options {
        Options {
            as_of,
            max_age_days: DEFAULT_MAX_AGE_DAYS,
            max_unused_days: DEFAULT_MAX_UNUSED_DAYS,
            new_key_days: NEW_KEY_DAYS,
            exempt_paths: vec![DEFAULT_EXEMPT_PATH.to_string()],
            people: None,
        }
    }

    fn exempt(&self, path: &str) -> bool {
        self.exempt_paths.iter().any(|p| {
            let p = normalize_path(p);
            path.starts_with(&p)
        })
    }
}

/// `keyless-exempt` → `/keyless-exempt/`.
pub fn normalize_path(path: &str) -> String {
    let trimmed = path.trim().trim_matches('/');
    if trimmed.is_empty() {
        "/".into()
    } else {
        format!("/{trimmed}/")
    }
}

/// The people still here: given by `--people FILE` (one user name or
/// e-mail address a line; `#` starts a comment), or the user names and
/// e-mail addresses of an identity store. A user matches an entry by name,
/// by the local part of an e-mail entry, or by being that e-mail
/// (case-insensitive).
#[derive(Debug, Clone, Default)]
pub struct People {
    names: HashSet<String>,
}

impl People {
    pub fn parse(text: &str) -> People {
        People::from_entries(
            text.lines()
                .map(|line| line.split('#').next().unwrap_or_default()),
        )
    }

    /// User names and e-mail addresses, as an identity store lists them.
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = &'a str>) -> People {
        let mut names = HashSet::new();
        for entry in entries {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let entry = entry.to_lowercase();
            if let Some((local, _)) = entry.split_once('@') {
                names.insert(local.to_string());
            }
            names.insert(entry);
        }
        People { names }
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn contains(&self, user: &str) -> bool {
        self.names.contains(&user.to_lowercase())
    }
}

/// An access key as `ListAccessKeys` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub user: String,
    pub key_id: String,
    pub active: bool,
    pub created: Option<OffsetDateTime>,
}

/// Everything collected from one account.
#[derive(Debug, Clone, Default)]
pub struct AccountData {
    pub report: Vec<ReportRow>,
    pub report_generated_at: Option<OffsetDateTime>,
    /// `None` in `--from-report` mode.
    pub keys: Option<Vec<AccessKey>>,
    /// `None` in `--from-report` mode.
    pub authorization: Option<Authorization>,
}

/// One account's outcome: audited, or the reason it could not be.
#[derive(Debug, Clone)]
pub struct AccountInput {
    pub account_id: String,
    pub result: Result<AccountData, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub account_id: String,
    pub status: Status,
    pub error: Option<String>,
    #[serde(with = "rfc3339::option")]
    pub report_generated_at: Option<OffsetDateTime>,
}

/// The integer metrics of the JSON contract.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metrics {
    pub active_keys: u64,
    pub keys_over_max_age: u64,
    pub unused_keys: u64,
    pub users_with_admin_keys: u64,
    pub failed_rotations: u64,
    pub root_keys: u64,
    pub new_keys: u64,
    pub departed_owner_keys: u64,
    pub exempt_keys: u64,
}

impl Metrics {
    /// Each metric with its field name and a label for people.
    pub fn rows(&self) -> [(&'static str, &'static str, u64); 9] {
        [
            ("active_keys", "active access keys", self.active_keys),
            (
                "keys_over_max_age",
                "access keys older than the age limit",
                self.keys_over_max_age,
            ),
            ("unused_keys", "unused access keys", self.unused_keys),
            (
                "users_with_admin_keys",
                "users with admin access keys",
                self.users_with_admin_keys,
            ),
            (
                "failed_rotations",
                "failed rotations",
                self.failed_rotations,
            ),
            ("root_keys", "root access keys", self.root_keys),
            ("new_keys", "keys created recently", self.new_keys),
            (
                "departed_owner_keys",
                "orphaned access keys (departed owners)",
                self.departed_owner_keys,
            ),
            ("exempt_keys", "exempt keys", self.exempt_keys),
        ]
    }

    fn count(&mut self, kind: Kind) {
        let field = match kind {
            Kind::KeyOverMaxAge => &mut self.keys_over_max_age,
            Kind::KeyUnused => &mut self.unused_keys,
            Kind::AdminUserKey => &mut self.users_with_admin_keys,
            Kind::FailedRotation => &mut self.failed_rotations,
            Kind::RootKey => &mut self.root_keys,
            Kind::NewKey => &mut self.new_keys,
            Kind::DepartedOwner => &mut self.departed_owner_keys,
            Kind::Exempt => &mut self.exempt_keys,
        };
        *field += 1;
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    pub max_age_days: i64,
    pub max_unused_days: i64,
    pub new_key_days: i64,
    pub exempt_paths: Vec<String>,
}

/// A finding kind that could not be evaluated, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotEvaluated {
    pub kind: Kind,
    pub reason: String,
}

/// The audit's result: what `--format json` prints (docs/audit.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub schema_version: u32,
    #[serde(with = "rfc3339")]
    pub generated_at: OffsetDateTime,
    #[serde(with = "rfc3339")]
    pub as_of: OffsetDateTime,
    pub thresholds: Thresholds,
    pub accounts: Vec<AccountSummary>,
    pub metrics: Metrics,
    #[serde(default)]
    pub not_evaluated: Vec<NotEvaluated>,
    pub findings: Vec<Finding>,
}

impl Snapshot {
    pub fn failing_findings(&self) -> usize {
        self.findings.iter().filter(|f| f.kind.info().fails).count()
    }

    pub fn errors(&self) -> usize {
        self.accounts
            .iter()
            .filter(|a| a.status == Status::Error)
            .count()
    }
}

/// A key seen by the checks: from `ListAccessKeys` when available, with
/// its last use from the credential report.
#[derive(Debug, Clone)]
struct KeyView {
    slot: Option<u8>,
    key_id: Option<String>,
    created: Option<OffsetDateTime>,
    last_used: Option<OffsetDateTime>,
}

/// Evaluates every account. `generated_at` is the real time of the run.
pub fn evaluate(
    inputs: &[AccountInput],
    options: &Options,
    generated_at: OffsetDateTime,
) -> Snapshot {
    let mut accounts = Vec::new();
    let mut findings = Vec::new();
    let mut metrics = Metrics::default();
    let mut offline = false;
    for input in inputs {
        match &input.result {
            Ok(data) => {
                offline |= data.authorization.is_none();
                accounts.push(AccountSummary {
                    account_id: input.account_id.clone(),
                    status: Status::Ok,
                    error: None,
                    report_generated_at: data.report_generated_at,
                });
                let (active, account_findings) = audit_account(&input.account_id, data, options);
                metrics.active_keys += active;
                findings.extend(account_findings);
            }
            Err(message) => accounts.push(AccountSummary {
                account_id: input.account_id.clone(),
                status: Status::Error,
                error: Some(message.clone()),
                report_generated_at: None,
            }),
        }
    }
    findings.sort_by(|a, b| {
        (&a.account_id, b.severity, a.kind, &a.user, a.key_slot).cmp(&(
            &b.account_id,
            a.severity,
            b.kind,
            &b.user,
            b.key_slot,
        ))
    });
    for f in &findings {
        metrics.count(f.kind);
    }
    let mut not_evaluated = Vec::new();
    if offline {
        for kind in Kind::ALL.into_iter().filter(|k| k.info().needs_api) {
            not_evaluated.push(NotEvaluated {
                kind,
                reason: format!(
                    "{}: needs GetAccountAuthorizationDetails, and the credential report does not say who is an administrator",
                    kind.info().title
                ),
            });
        }
    }
    if options.people.is_none() {
        not_evaluated.push(NotEvaluated {
            kind: Kind::DepartedOwner,
            reason: "needs --people FILE or --identity-store-id ID".into(),
        });
    }
    Snapshot {
        schema_version: SCHEMA_VERSION,
        generated_at,
        as_of: options.as_of,
        thresholds: Thresholds {
            max_age_days: options.max_age_days,
            max_unused_days: options.max_unused_days,
            new_key_days: options.new_key_days,
            exempt_paths: options
                .exempt_paths
                .iter()
                .map(|p| normalize_path(p))
                .collect(),
        },
        accounts,
        metrics,
        not_evaluated,
        findings,
    }
}

/// The findings of one account and its number of active user keys.
fn audit_account(account_id: &str, data: &AccountData, options: &Options) -> (u64, Vec<Finding>) {
    let mut out = Vec::new();
    let mut active_keys = 0;
    let rows: BTreeMap<&str, &ReportRow> =
        data.report.iter().map(|r| (r.user.as_str(), r)).collect();

    for row in data.report.iter().filter(|r| r.is_root()) {
        for key in row.keys.iter().filter(|k| k.active) {
            out.push(Finding {
                kind: Kind::RootKey,
                severity: Kind::RootKey.info().severity,
                controls: controls(Kind::RootKey),
                account_id: account_id.to_string(),
                user: row.user.clone(),
                key_id: None,
                key_slot: Some(key.slot),
                message: format!(
                    "the root user has an active access key (slot {}{})",
                    key.slot,
                    key.last_used
                        .map(|t| format!(", last used {}", day(t)))
                        .unwrap_or_default()
                ),
                fix: findings::fix(Kind::RootKey, &row.user, None),
            });
        }
    }

    // The users: from the authorization details when there are any (they
    // are current; the report may be up to four hours old), else the report.
    let users: Vec<(String, String)> = match &data.authorization {
        Some(auth) => auth
            .users
            .iter()
            .map(|u| (u.name.clone(), u.path.clone()))
            .collect(),
        None => data
            .report
            .iter()
            .filter(|r| !r.is_root())
            .map(|r| (r.user.clone(), r.path()))
            .collect(),
    };

    for (user, path) in users {
        let row = rows.get(user.as_str()).copied();
        let keys = keys_of(&user, row, data.keys.as_deref());
        active_keys += keys.len() as u64;
        if keys.is_empty() {
            continue;
        }
        let finding = |kind: Kind, key: Option<&KeyView>, message: String| Finding {
            kind,
            severity: kind.info().severity,
            controls: controls(kind),
            account_id: account_id.to_string(),
            user: user.clone(),
            key_id: key.and_then(|k| k.key_id.clone()),
            key_slot: key.and_then(|k| k.slot),
            message,
            fix: findings::fix(kind, &user, key.and_then(|k| k.key_id.as_deref())),
        };
        if options.exempt(&path) {
            for key in &keys {
                out.push(finding(
                    Kind::Exempt,
                    Some(key),
                    format!(
                        "{} of {user} is under the exempt path {path}",
                        key_name(key)
                    ),
                ));
            }
            continue;
        }
        for key in &keys {
            let age = key.created.map(|c| days(options.as_of - c));
            if let Some(age) = age
                && age > options.max_age_days
            {
                out.push(finding(
                    Kind::KeyOverMaxAge,
                    Some(key),
                    format!(
                        "{} of {user} is {age} days old (limit {})",
                        key_name(key),
                        options.max_age_days
                    ),
                ));
            }
            match (key.last_used, age) {
                (Some(used), _) if days(options.as_of - used) > options.max_unused_days => out
                    .push(finding(
                        Kind::KeyUnused,
                        Some(key),
                        format!(
                            "{} of {user} was last used {} days ago, on {}",
                            key_name(key),
                            days(options.as_of - used),
                            day(used)
                        ),
                    )),
                (None, Some(age)) if age > options.max_unused_days => out.push(finding(
                    Kind::KeyUnused,
                    Some(key),
                    format!(
                        "{} of {user} was never used and is {age} days old",
                        key_name(key)
                    ),
                )),
                _ => {}
            }
            if let Some(age) = age
                && (0..=options.new_key_days).contains(&age)
                && key.created.is_some_and(|c| c <= options.as_of)
            {
                out.push(finding(
                    Kind::NewKey,
                    Some(key),
                    format!(
                        "{} of {user} was created {age} days ago, on {}",
                        key_name(key),
                        key.created.map(day).unwrap_or_default()
                    ),
                ));
            }
            if let Some(people) = &options.people
                && !people.contains(&user)
            {
                out.push(finding(
                    Kind::DepartedOwner,
                    Some(key),
                    format!(
                        "{} belongs to {user}, who is not among the people",
                        key_name(key)
                    ),
                ));
            }
        }
        if let Some(auth) = &data.authorization
            && let Some(detail) = auth.users.iter().find(|u| u.name == user)
            && let Some(grant) = auth.admin_grant(detail)
        {
            out.push(finding(
                Kind::AdminUserKey,
                None,
                format!(
                    "{user} has {} active access key(s) and administrator rights: {grant}",
                    keys.len()
                ),
            ));
        }
        if keys.len() >= 2 {
            let mut sorted: Vec<&KeyView> = keys.iter().collect();
            sorted.sort_by_key(|k| k.created);
            let (older, newer) = (sorted[0], sorted[sorted.len() - 1]);
            let old_age = older.created.map(|c| days(options.as_of - c));
            let over_age = old_age.is_some_and(|a| a > options.max_age_days);
            let used_after = match (older.last_used, newer.created) {
                (Some(used), Some(created)) => used > created,
                _ => false,
            };
            if over_age || used_after {
                let why = if used_after {
                    "was still used after the newer one was created".to_string()
                } else {
                    format!(
                        "is {} days old (limit {})",
                        old_age.unwrap_or_default(),
                        options.max_age_days
                    )
                };
                out.push(finding(
                    Kind::FailedRotation,
                    Some(older),
                    format!(
                        "{user} has two active keys and the older one, {}, {why}",
                        key_name(older)
                    ),
                ));
            }
        }
    }
    (active_keys, out)
}

/// The active keys of `user`: from `ListAccessKeys` when given (matched to
/// report slots by creation time), else from the report.
fn keys_of(user: &str, row: Option<&ReportRow>, listed: Option<&[AccessKey]>) -> Vec<KeyView> {
    let report_keys = row.map(|r| r.keys.as_slice()).unwrap_or_default();
    match listed {
        Some(listed) => {
            let mut mine: Vec<&AccessKey> = listed
                .iter()
                .filter(|k| k.user == user && k.active)
                .collect();
            mine.sort_by_key(|k| k.created);
            // Each report slot goes to one key: the first unclaimed slot
            // created within a second of it (keys made in the same second
            // take the slots in order).
            let mut claimed = [false; 2];
            mine.into_iter()
                .map(|k| {
                    let slot = report_keys.iter().find(|r| {
                        let index = usize::from(r.slot.saturating_sub(1)).min(1);
                        let close = match (r.last_rotated, k.created) {
                            (Some(a), Some(b)) => (a - b).abs() <= Duration::seconds(1),
                            _ => false,
                        };
                        if close && !claimed[index] {
                            claimed[index] = true;
                            true
                        } else {
                            false
                        }
                    });
                    KeyView {
                        slot: slot.map(|s| s.slot),
                        key_id: Some(k.key_id.clone()),
                        created: k.created,
                        last_used: slot.and_then(|s| s.last_used),
                    }
                })
                .collect()
        }
        None => report_keys
            .iter()
            .filter(|k| k.active)
            .map(|k| KeyView {
                slot: Some(k.slot),
                key_id: None,
                created: k.last_rotated,
                last_used: k.last_used,
            })
            .collect(),
    }
}

fn controls(kind: Kind) -> Vec<String> {
    kind.info().controls.iter().map(|c| c.to_string()).collect()
}

fn key_name(key: &KeyView) -> String {
    match (&key.key_id, key.slot) {
        (Some(id), _) => format!("access key {id}"),
        (None, Some(slot)) => format!("access key {slot}"),
        (None, None) => "an access key".into(),
    }
}

/// Whole days, rounded down.
fn days(d: Duration) -> i64 {
    d.whole_days()
}

/// `2026-12-01`.
pub fn day(t: OffsetDateTime) -> String {
    let d = t.date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// RFC 3339 times in the JSON (`2026-12-01T21:30:00Z`).
pub(crate) mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    pub fn format(t: &OffsetDateTime) -> String {
        t.format(&Rfc3339).unwrap_or_default()
    }

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(d)?;
        OffsetDateTime::parse(&text, &Rfc3339).map_err(D::Error::custom)
    }

    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(
            t: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&format(t)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<OffsetDateTime>, D::Error> {
            match Option::<String>::deserialize(d)? {
                Some(text) => OffsetDateTime::parse(&text, &Rfc3339)
                    .map(Some)
                    .map_err(D::Error::custom),
                None => Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests;
