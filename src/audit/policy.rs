//! Who holds administrator rights, from `GetAccountAuthorizationDetails`:
//! the AWS-managed `AdministratorAccess` policy attached to the user or to
//! one of its groups, or any statement (inline, or in an attached
//! customer-managed policy) that allows `*` on `*`.

use std::collections::HashMap;

use serde_json::Value;

/// An IAM user as `GetAccountAuthorizationDetails` describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserDetail {
    pub name: String,
    pub path: String,
    pub groups: Vec<String>,
    pub attached_policy_arns: Vec<String>,
    /// Inline policy documents, as sent (often URL-encoded JSON).
    pub inline_documents: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupDetail {
    pub attached_policy_arns: Vec<String>,
    pub inline_documents: Vec<String>,
}

/// Users, groups, and the default version of each customer-managed policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Authorization {
    pub users: Vec<UserDetail>,
    pub groups: HashMap<String, GroupDetail>,
    pub policies: HashMap<String, String>,
}

/// Why a user counts as an administrator, for the finding's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminGrant {
    /// `AdministratorAccess` attached to the user.
    Attached,
    /// `AdministratorAccess` attached to this group.
    Group(String),
    /// A statement allowing `*` on `*`, in the policy named.
    Wildcard(String),
}

impl std::fmt::Display for AdminGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdminGrant::Attached => f.write_str("AdministratorAccess is attached to the user"),
            AdminGrant::Group(g) => write!(f, "AdministratorAccess is attached to its group {g}"),
            AdminGrant::Wildcard(p) => write!(f, "{p} allows * on *"),
        }
    }
}

/// `arn:aws:iam::aws:policy/AdministratorAccess` in any partition.
pub fn is_administrator_access(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some("aws"), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    partition.starts_with("aws") && resource == "policy/AdministratorAccess"
}

impl Authorization {
    /// The first reason `user` is an administrator, if any.
    pub fn admin_grant(&self, user: &UserDetail) -> Option<AdminGrant> {
        if user
            .attached_policy_arns
            .iter()
            .any(|a| is_administrator_access(a))
        {
            return Some(AdminGrant::Attached);
        }
        for group in &user.groups {
            let Some(detail) = self.groups.get(group) else {
                continue;
            };
            if detail
                .attached_policy_arns
                .iter()
                .any(|a| is_administrator_access(a))
            {
                return Some(AdminGrant::Group(group.clone()));
            }
        }
        if user.inline_documents.iter().any(|d| allows_everything(d)) {
            return Some(AdminGrant::Wildcard(format!(
                "an inline policy of user {}",
                user.name
            )));
        }
        for group in &user.groups {
            let Some(detail) = self.groups.get(group) else {
                continue;
            };
            if detail.inline_documents.iter().any(|d| allows_everything(d)) {
                return Some(AdminGrant::Wildcard(format!(
                    "an inline policy of group {group}"
                )));
            }
        }
        let attached = user.attached_policy_arns.iter().chain(
            user.groups
                .iter()
                .filter_map(|g| self.groups.get(g))
                .flat_map(|g| g.attached_policy_arns.iter()),
        );
        for arn in attached {
            if let Some(doc) = self.policies.get(arn)
                && allows_everything(doc)
            {
                return Some(AdminGrant::Wildcard(format!("policy {arn}")));
            }
        }
        None
    }
}

/// Whether a policy document has an `Allow` statement with action `*` (or
/// `*:*`) and resource `*`. Accepts the URL-encoded form IAM returns.
pub fn allows_everything(document: &str) -> bool {
    let parsed: Option<Value> = serde_json::from_str(document).ok().or_else(|| {
        percent_decode(document).and_then(|decoded| serde_json::from_str(&decoded).ok())
    });
    let Some(doc) = parsed else {
        return false;
    };
    let statements = match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect::<Vec<_>>(),
        Some(item @ Value::Object(_)) => vec![item],
        _ => return false,
    };
    statements.into_iter().any(|s| {
        s.get("Effect").and_then(Value::as_str) == Some("Allow")
            && has_star(s.get("Action"), &["*", "*:*"])
            && has_star(s.get("Resource"), &["*"])
    })
}

fn has_star(value: Option<&Value>, stars: &[&str]) -> bool {
    match value {
        Some(Value::String(s)) => stars.contains(&s.as_str()),
        Some(Value::Array(items)) => items
            .iter()
            .any(|i| i.as_str().is_some_and(|s| stars.contains(&s))),
        _ => false,
    }
}

/// `%7B%22a%22…` → `{"a"…`; `+` is a space. `None` if malformed.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
    const STAR: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

    #[test]
    fn star_statements() {
        assert!(allows_everything(STAR));
        assert!(allows_everything(
            r#"{"Statement":{"Effect":"Allow","Action":["s3:*","*:*"],"Resource":["*"]}}"#
        ));
        assert!(allows_everything(
            "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D"
        ));
        assert!(!allows_everything(
            r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#
        ));
        assert!(!allows_everything(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#
        ));
        assert!(!allows_everything(
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b"}]}"#
        ));
        assert!(!allows_everything("not json %zz"));
        assert!(!allows_everything(""));
    }

    #[test]
    fn administrator_access_arns() {
        assert!(is_administrator_access(ADMIN));
        assert!(is_administrator_access(
            "arn:aws-us-gov:iam::aws:policy/AdministratorAccess"
        ));
        assert!(!is_administrator_access(
            "arn:aws:iam::123456789012:policy/AdministratorAccess"
        ));
        assert!(!is_administrator_access(
            "arn:aws:iam::aws:policy/job-function/AdministratorAccess-Amplify"
        ));
        assert!(!is_administrator_access(""));
    }

    #[test]
    fn grants_through_user_groups_and_policies() {
        let mut auth = Authorization::default();
        auth.groups.insert(
            "admins".into(),
            GroupDetail {
                attached_policy_arns: vec![ADMIN.into()],
                ..Default::default()
            },
        );
        auth.groups.insert(
            "wild".into(),
            GroupDetail {
                inline_documents: vec![STAR.into()],
                ..Default::default()
            },
        );
        auth.groups.insert("plain".into(), GroupDetail::default());
        let custom = "arn:aws:iam::111111111111:policy/everything";
        auth.policies.insert(custom.into(), STAR.into());
        let user = |groups: &[&str], attached: &[&str], inline: &[&str]| UserDetail {
            name: "u".into(),
            path: "/".into(),
            groups: groups.iter().map(|s| s.to_string()).collect(),
            attached_policy_arns: attached.iter().map(|s| s.to_string()).collect(),
            inline_documents: inline.iter().map(|s| s.to_string()).collect(),
        };
        assert_eq!(
            auth.admin_grant(&user(&[], &[ADMIN], &[])),
            Some(AdminGrant::Attached)
        );
        assert_eq!(
            auth.admin_grant(&user(&["plain", "admins"], &[], &[])),
            Some(AdminGrant::Group("admins".into()))
        );
        assert!(matches!(
            auth.admin_grant(&user(&[], &[], &[STAR])),
            Some(AdminGrant::Wildcard(_))
        ));
        assert!(matches!(
            auth.admin_grant(&user(&["wild"], &[], &[])),
            Some(AdminGrant::Wildcard(_))
        ));
        assert_eq!(
            auth.admin_grant(&user(&[], &[custom], &[])),
            Some(AdminGrant::Wildcard(format!("policy {custom}")))
        );
        assert_eq!(
            auth.admin_grant(&user(&["plain", "missing"], &[], &[])),
            None
        );
    }
}
