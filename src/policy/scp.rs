//! The service control policy: long-term-key use, credential issuance and
//! root access keys, each a statement of its own so the rollout can attach
//! them one at a time (`--only`).
//!
//! No statement looks at `aws:UserAgent`: the caller sets that header. A
//! request signed with a long-term access key is recognised by what AWS
//! itself records: `aws:PrincipalType` is `User` and `aws:TokenIssueTime`
//! is absent (every session, an IAM user's console session included,
//! carries it).

use super::Generated;
use super::arn;
use super::document::{self, Kind, Policy, PolicyError, Statement};

/// The safe SCP size limit in characters (some organisations have 10,240).
pub const SCP_SIZE_LIMIT: usize = 5120;
/// The largest SCP any organisation can have.
pub const SCP_SIZE_LIMIT_MAX: usize = 10240;
/// Users under this path keep working with keys (holdouts, parked).
pub const DEFAULT_EXEMPT_PATH: &str = "/keyless-exempt/";

pub const SID_USAGE: &str = "DenyLongTermKeyUse";
pub const SID_ISSUANCE: &str = "DenyCredentialIssuance";
pub const SID_ROOT: &str = "DenyRootAccessKeyCreation";

/// What issuing a long-lived credential (or escaping the exempt path) takes.
pub const ISSUANCE_ACTIONS: [&str; 8] = [
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:CreateServiceSpecificCredential",
    "iam:CreateUser",
    "iam:UpdateAccessKey",
    "iam:UpdateUser",
    "iam:UploadSSHPublicKey",
    "iam:UploadSigningCertificate",
];

/// One statement of the SCP, in the order they are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    Usage,
    Issuance,
    Root,
}

impl Part {
    pub const ALL: [Part; 3] = [Part::Usage, Part::Issuance, Part::Root];
}

#[derive(Debug, Clone)]
pub struct ScpOptions {
    pub exempt_path: String,
    pub allow_roles: Vec<String>,
    /// Empty: every part.
    pub only: Vec<Part>,
    pub max_size: usize,
}

impl Default for ScpOptions {
    fn default() -> Self {
        ScpOptions {
            exempt_path: DEFAULT_EXEMPT_PATH.to_string(),
            allow_roles: Vec::new(),
            only: Vec::new(),
            max_size: SCP_SIZE_LIMIT,
        }
    }
}

/// `arn:aws:iam::*:user/PATH*`: every user under the exempt path.
pub fn exempt_users_pattern(exempt_path: &str) -> String {
    format!("arn:aws:iam::*:user{exempt_path}*")
}

/// Checks the options, builds the SCP, validates it and returns its text.
pub fn generate(options: &ScpOptions) -> Result<Generated, PolicyError> {
    if options.max_size == 0 || options.max_size > SCP_SIZE_LIMIT_MAX {
        return Err(PolicyError::BadOption(format!(
            "--max-size {} is outside 1..={SCP_SIZE_LIMIT_MAX}: {SCP_SIZE_LIMIT} is the SCP limit, \
             {SCP_SIZE_LIMIT_MAX} where the organisation has the larger one",
            options.max_size
        )
        .into()));
    }
    arn::check_user_path(&options.exempt_path)
        .map_err(|why| PolicyError::BadOption(why.prefixed("--exempt-path: ")))?;
    let mut allow_roles: Vec<String> = Vec::new();
    for pattern in &options.allow_roles {
        arn::check_role_pattern(pattern).map_err(|why| {
            PolicyError::BadOption(why.prefixed(format!("--allow-role {pattern}: ")))
        })?;
        if !allow_roles.contains(pattern) {
            allow_roles.push(pattern.clone());
        }
    }
    let mut parts = if options.only.is_empty() {
        Part::ALL.to_vec()
    } else {
        options.only.clone()
    };
    parts.sort();
    parts.dedup();

    let exempt = exempt_users_pattern(&options.exempt_path);
    let mut statements = Vec::new();
    let mut explanations = Vec::new();
    let mut notes = Vec::new();
    for part in &parts {
        match part {
            Part::Usage => {
                statements.push(
                    Statement::deny(SID_USAGE, ["*"])
                        .when("StringEquals", "aws:PrincipalType", ["User"])
                        .when("Null", "aws:TokenIssueTime", ["true"])
                        .when("ArnNotLike", "aws:PrincipalArn", [exempt.as_str()]),
                );
                explanations.push((
                    SID_USAGE,
                    format!(
                        "(usage) Denies every action to a request signed with an IAM user's long-term \
                         access key. aws:PrincipalType is User only for IAM users (every role session, \
                         Identity Center's AWSReservedSSO_* roles and service roles included, is \
                         AssumedRole), and aws:TokenIssueTime is absent only when the request is signed \
                         with a long-term key: an IAM user's console session carries it and keeps \
                         working. No user agent is involved. sts:GetSessionToken signed with the key \
                         is denied too, so the key cannot be traded for a session. Users under the path \
                         {path} ({exempt}) are exempt: park holdouts there until they move.",
                        path = options.exempt_path
                    ),
                ));
            }
            Part::Issuance => {
                let mut statement = Statement::deny(SID_ISSUANCE, ISSUANCE_ACTIONS);
                statement = statement.when("ArnNotLike", "aws:PrincipalArn", allow_roles.clone());
                statements.push(statement);
                let who = if allow_roles.is_empty() {
                    "everyone in the member accounts: no --allow-role was given".to_string()
                } else {
                    format!(
                        "every principal except the roles matching {} (aws:PrincipalArn is the \
                         role's ARN for any of its sessions)",
                        allow_roles.join(", ")
                    )
                };
                explanations.push((
                    SID_ISSUANCE,
                    format!(
                        "(issuance) Denies creating IAM users, access keys, console passwords, \
                         service-specific credentials, SSH keys and signing certificates, and \
                         re-activating access keys (UpdateAccessKey: IAM has no condition key for \
                         the new status, so deactivation is denied too; the alert rule catches \
                         re-activation wherever this statement is not attached), to {who}. \
                         CreateUser and UpdateUser are included because a user's path decides its \
                         exemption from the usage statement."
                    ),
                ));
                if allow_roles.is_empty() {
                    notes.push(
                        "no --allow-role: no principal in the member accounts can issue \
                         credentials (the management account is never subject to SCPs); add \
                         --allow-role for break-glass, the IaC deployer or an identity-admin \
                         permission set"
                            .to_string(),
                    );
                }
                for pattern in allow_roles
                    .iter()
                    .filter(|p| !arn::is_identity_center_role(p))
                {
                    notes.push(format!(
                        "{pattern} is not an Identity Center role: anyone who can create or \
                         assume a role of that name in a member account can issue credentials; \
                         protect it (e.g. deny iam:CreateRole and iam:UpdateAssumeRolePolicy on it)"
                    ));
                }
            }
            Part::Root => {
                statements.push(Statement::deny(SID_ROOT, ["iam:CreateAccessKey"]).when(
                    "ArnLike",
                    "aws:PrincipalArn",
                    ["arn:aws:iam::*:root"],
                ));
                explanations.push((
                    SID_ROOT,
                    "(root) Denies the root user of each member account creating an access key \
                     for itself. The management account's root is not subject to SCPs: give it no \
                     access key and check with keyless audit."
                        .to_string(),
                ));
            }
        }
    }
    let policy = Policy::new(statements);
    let advice = format!(
        "use fewer or wider --allow-role patterns (one pattern with * can cover several roles), \
         split the policy into two SCPs with --only (e.g. --only usage,root and --only issuance), \
         or pass --max-size {SCP_SIZE_LIMIT_MAX} if your organisation has the larger SCP limit"
    );
    let text = document::validate(&policy, Kind::Scp, options.max_size, &advice)?;
    Ok(Generated {
        text,
        explanations: explanations
            .into_iter()
            .map(|(sid, text)| (sid.to_string(), text))
            .collect(),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default SCP, character for character.
    const DEFAULT_SCP: &str = concat!(
        r#"{"Version":"2012-10-17","Statement":["#,
        r#"{"Sid":"DenyLongTermKeyUse","Effect":"Deny","Action":"*","Resource":"*","Condition":{"#,
        r#""ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/keyless-exempt/*"},"#,
        r#""Null":{"aws:TokenIssueTime":"true"},"StringEquals":{"aws:PrincipalType":"User"}}},"#,
        r#"{"Sid":"DenyCredentialIssuance","Effect":"Deny","Action":["iam:CreateAccessKey","#,
        r#""iam:CreateLoginProfile","iam:CreateServiceSpecificCredential","iam:CreateUser","#,
        r#""iam:UpdateAccessKey","iam:UpdateUser","iam:UploadSSHPublicKey","#,
        r#""iam:UploadSigningCertificate"],"Resource":"*"},"#,
        r#"{"Sid":"DenyRootAccessKeyCreation","Effect":"Deny","Action":"iam:CreateAccessKey","#,
        r#""Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}"#
    );

    fn generate_ok(options: &ScpOptions) -> Generated {
        generate(options).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn default_scp_snapshot() {
        let out = generate_ok(&ScpOptions::default());
        assert_eq!(out.text, DEFAULT_SCP);
        assert_eq!(
            out.explanations
                .iter()
                .map(|(s, _)| s.as_str())
                .collect::<Vec<_>>(),
            [SID_USAGE, SID_ISSUANCE, SID_ROOT]
        );
        assert_eq!(out.notes.len(), 1, "{:?}", out.notes);
        assert!(!out.text.contains("UserAgent"));
    }

    #[test]
    fn only_parts_snapshots() {
        let only = |parts: &[Part]| {
            generate_ok(&ScpOptions {
                only: parts.to_vec(),
                ..ScpOptions::default()
            })
            .text
        };
        assert_eq!(
            only(&[Part::Usage]),
            concat!(
                r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyLongTermKeyUse","Effect":"Deny","#,
                r#""Action":"*","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"#,
                r#""arn:aws:iam::*:user/keyless-exempt/*"},"Null":{"aws:TokenIssueTime":"true"},"#,
                r#""StringEquals":{"aws:PrincipalType":"User"}}}]}"#
            )
        );
        assert_eq!(
            only(&[Part::Root]),
            concat!(
                r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyRootAccessKeyCreation","#,
                r#""Effect":"Deny","Action":"iam:CreateAccessKey","Resource":"*","Condition":{"#,
                r#""ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}"#
            )
        );
        // Order and duplicates on the command line do not matter.
        assert_eq!(
            only(&[Part::Root, Part::Usage, Part::Root]),
            only(&[Part::Usage, Part::Root])
        );
    }

    #[test]
    fn allowed_roles_and_exempt_path() {
        let sso =
            "arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_IdentityAdmin_*";
        let out = generate_ok(&ScpOptions {
            exempt_path: "/legacy/keys/".into(),
            allow_roles: vec![
                sso.into(),
                "arn:aws:iam::123456789012:role/BreakGlass".into(),
                sso.into(),
            ],
            only: vec![Part::Usage, Part::Issuance],
            ..ScpOptions::default()
        });
        assert!(
            out.text.contains(&format!(
                r#""Resource":"*","Condition":{{"ArnNotLike":{{"aws:PrincipalArn":["{sso}","arn:aws:iam::123456789012:role/BreakGlass"]}}}}}}"#
            )),
            "{}",
            out.text
        );
        assert!(out.text.contains(r#""arn:aws:iam::*:user/legacy/keys/*""#));
        // A note for the role member accounts could create themselves, none for the SSO one.
        assert_eq!(out.notes.len(), 1, "{:?}", out.notes);
        assert!(out.notes[0].starts_with("arn:aws:iam::123456789012:role/BreakGlass is not"));
    }

    #[test]
    fn too_many_roles_is_refused_with_the_overshoot_and_the_fixes() {
        let roles: Vec<String> = (0..80)
            .map(|i| {
                format!(
                    "arn:aws:iam::{:012}:role/platform/deployers/TerraformDeployer{i}",
                    100_000_000_000u64 + i
                )
            })
            .collect();
        let options = ScpOptions {
            allow_roles: roles,
            ..ScpOptions::default()
        };
        let err = generate(&options).unwrap_err();
        let PolicyError::TooLarge { size, limit, .. } = &err else {
            panic!("{err}");
        };
        assert_eq!(*limit, SCP_SIZE_LIMIT);
        let message = err.to_string();
        assert!(
            message.contains(&format!("{} over the limit of 5120", size - 5120)),
            "{message}"
        );
        let hint = err.hint().unwrap_or_default();
        for fix in ["fewer or wider --allow-role", "--only", "--max-size 10240"] {
            assert!(hint.contains(fix), "{hint}");
        }
        assert!(err.is_usage());
        // The larger limit, where the organisation has it, takes them.
        let bigger = ScpOptions {
            max_size: SCP_SIZE_LIMIT_MAX,
            ..options.clone()
        };
        assert!(generate(&bigger).unwrap().text.chars().count() > SCP_SIZE_LIMIT);
        // So does splitting: the issuance statement alone still does not fit,
        // the rest does.
        let rest = ScpOptions {
            only: vec![Part::Usage, Part::Root],
            ..options
        };
        assert!(generate(&rest).is_ok());
    }

    #[test]
    fn bad_options_are_usage_errors() {
        for options in [
            ScpOptions {
                exempt_path: "/".into(),
                ..ScpOptions::default()
            },
            ScpOptions {
                allow_roles: vec!["arn:aws:iam::*:role/AWSReservedSSO_Admin_*".into()],
                ..ScpOptions::default()
            },
            ScpOptions {
                max_size: 20000,
                ..ScpOptions::default()
            },
        ] {
            let err = generate(&options).unwrap_err();
            assert!(err.is_usage(), "{err}");
        }
    }
}
