//! The finding kinds. Each kind is described in one place ([`Kind::info`]):
//! its name in the JSON contract, severity, the controls it corresponds to,
//! whether it fails the audit, whether it needs API data, and the fix.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    RootKey,
    AdminUserKey,
    DepartedOwner,
    KeyOverMaxAge,
    KeyUnused,
    FailedRotation,
    NewKey,
    Exempt,
}

/// What one kind is, why it matters and how it is fixed.
#[derive(Debug, Clone, Copy)]
pub struct KindInfo {
    /// The name in the JSON contract (`key-over-max-age`, …).
    pub id: &'static str,
    pub severity: Severity,
    /// One line for the docs and the text report.
    pub title: &'static str,
    /// Security Hub controls, CIS AWS Foundations items and prowler checks
    /// this kind corresponds to.
    pub controls: &'static [&'static str],
    /// Whether a finding of this kind makes the audit fail (exit 1).
    pub fails: bool,
    /// Whether it needs API data beyond the credential report.
    pub needs_api: bool,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::RootKey,
        Kind::AdminUserKey,
        Kind::DepartedOwner,
        Kind::KeyOverMaxAge,
        Kind::KeyUnused,
        Kind::FailedRotation,
        Kind::NewKey,
        Kind::Exempt,
    ];

    pub fn info(self) -> KindInfo {
        match self {
            Kind::KeyOverMaxAge => KindInfo {
                id: "key-over-max-age",
                severity: Severity::Medium,
                title: "active access key older than --max-age (default 90 days)",
                controls: &[
                    "Security Hub IAM.3",
                    "CIS AWS 1.14",
                    "prowler iam_rotate_access_key_90_days",
                ],
                fails: true,
                needs_api: false,
            },
            Kind::KeyUnused => KindInfo {
                id: "key-unused",
                severity: Severity::Medium,
                title: "active access key unused for --max-unused (default 90 days), or never used and older than that",
                controls: &[
                    "Security Hub IAM.8",
                    "CIS AWS 1.12",
                    "prowler iam_user_accesskey_unused",
                ],
                fails: true,
                needs_api: false,
            },
            Kind::AdminUserKey => KindInfo {
                id: "admin-user-key",
                severity: Severity::High,
                title: "user with an active access key and administrator rights",
                controls: &[
                    "Security Hub IAM.1",
                    "prowler iam_user_administrator_access_policy",
                    "prowler iam_group_administrator_access_policy",
                    "prowler iam_inline_policy_no_administrative_privileges",
                    "prowler iam_customer_attached_policy_no_administrative_privileges",
                ],
                fails: true,
                needs_api: true,
            },
            Kind::FailedRotation => KindInfo {
                id: "failed-rotation",
                severity: Severity::Medium,
                title: "two active keys on one user, the older one over the age limit or used after the newer one was created",
                controls: &["CIS AWS 1.13", "prowler iam_user_two_active_access_key"],
                fails: true,
                needs_api: false,
            },
            Kind::RootKey => KindInfo {
                id: "root-key",
                severity: Severity::Critical,
                title: "access key of the root user",
                controls: &[
                    "Security Hub IAM.4",
                    "CIS AWS 1.4",
                    "prowler iam_no_root_access_key",
                ],
                fails: true,
                needs_api: false,
            },
            Kind::NewKey => KindInfo {
                id: "new-key",
                severity: Severity::Low,
                title: "access key created in the last 30 days (new keys while the rollout is under way)",
                controls: &[],
                fails: false,
                needs_api: false,
            },
            Kind::DepartedOwner => KindInfo {
                id: "departed-owner",
                severity: Severity::High,
                title: "active access key of a user who is not among the people (--people)",
                controls: &["Security Hub IAM.8 (credentials nobody uses any more)"],
                fails: true,
                needs_api: false,
            },
            Kind::Exempt => KindInfo {
                id: "exempt",
                severity: Severity::Info,
                title: "active access key of a user under an exempt path (--exempt-path): a documented exception",
                controls: &[],
                fails: false,
                needs_api: false,
            },
        }
    }

    pub fn id(self) -> &'static str {
        self.info().id
    }
}

/// One finding: a key (with `key_id` when the API gave it) or a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: Kind,
    pub severity: Severity,
    pub account_id: String,
    pub user: String,
    /// The access key ID (never a secret); `None` for a user-level finding,
    /// and in `--from-report` mode, where the report carries no key IDs.
    pub key_id: Option<String>,
    /// The report's slot (1 or 2) of the key, when the finding is about one.
    pub key_slot: Option<u8>,
    pub message: String,
    pub fix: String,
    /// The controls this kind corresponds to (Security Hub, CIS, prowler).
    #[serde(default)]
    pub controls: Vec<String>,
}

/// What the fix for a kind says, with the user and key filled in.
pub fn fix(kind: Kind, user: &str, key: Option<&str>) -> String {
    let key = key.unwrap_or("KEY_ID");
    let delete = format!("aws iam delete-access-key --user-name {user} --access-key-id {key}");
    match kind {
        Kind::KeyOverMaxAge => format!(
            "move {user} to IAM Identity Center role credentials (keyless) and delete the key: {delete}; if it must stay, rotate it and put the user under an exempt path"
        ),
        Kind::KeyUnused => format!(
            "nothing uses this key: deactivate it (aws iam update-access-key --user-name {user} --access-key-id {key} --status Inactive), then delete it: {delete}"
        ),
        Kind::AdminUserKey => format!(
            "give {user}'s person an Identity Center permission set instead and delete the user's access keys; an administrator must not have a long-lived key"
        ),
        Kind::FailedRotation => format!(
            "finish the rotation: move every use to the newer key, then delete the older one: {delete}"
        ),
        Kind::RootKey => "sign in as the root user and delete its access keys (Security credentials page); use IAM Identity Center roles for administration".to_string(),
        Kind::NewKey => format!(
            "a new long-lived key during the rollout: ask who created it for {user}, and offer Identity Center role credentials (keyless) instead"
        ),
        Kind::DepartedOwner => format!(
            "{user} is not among the people: deactivate the key now (aws iam update-access-key --user-name {user} --access-key-id {key} --status Inactive), find its users, then delete it"
        ),
        Kind::Exempt => format!(
            "a documented exception: review it, and keep {user} under the exempt path only while it is approved"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_the_json_names() {
        for kind in Kind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.id()));
            assert_eq!(kind.info().severity, kind.info().severity);
        }
        assert_eq!(Kind::ALL.len(), 8);
    }

    #[test]
    fn only_new_and_exempt_keys_pass() {
        let passing: Vec<_> = Kind::ALL.iter().filter(|k| !k.info().fails).collect();
        assert_eq!(passing, [&Kind::NewKey, &Kind::Exempt]);
        let api: Vec<_> = Kind::ALL.iter().filter(|k| k.info().needs_api).collect();
        assert_eq!(api, [&Kind::AdminUserKey]);
    }

    #[test]
    fn fixes_name_the_user_and_key() {
        let text = fix(Kind::KeyUnused, "alice", Some("AKIAEXAMPLE"));
        assert!(text.contains("--user-name alice --access-key-id AKIAEXAMPLE"));
        assert!(fix(Kind::FailedRotation, "bob", None).contains("KEY_ID"));
        assert!(!fix(Kind::RootKey, "x", None).contains("keyless "));
    }
}
