//! The resource control policy: defence in depth where SCPs cannot reach.
//!
//! RCPs do not cover IAM, so they cannot stop key issuance. They do apply
//! to the resources of S3, STS, KMS and Secrets Manager in every member
//! account whoever the caller is: an IAM user of another account, or of
//! the management account (which SCPs never restrict), signing with a
//! long-term key is refused there too.

use super::document::{self, Kind, Policy, PolicyError, Principal, Statement};
use super::scp::{SCP_SIZE_LIMIT, SCP_SIZE_LIMIT_MAX, exempt_users_pattern};
use super::{Generated, arn};

pub const SID_RCP: &str = "DenyLongTermKeyAccess";

/// The services whose resources refuse long-term keys.
pub const RCP_ACTIONS: [&str; 4] = ["kms:*", "s3:*", "secretsmanager:*", "sts:*"];

#[derive(Debug, Clone)]
pub struct RcpOptions {
    pub exempt_path: String,
    pub max_size: usize,
}

impl Default for RcpOptions {
    fn default() -> Self {
        RcpOptions {
            exempt_path: super::scp::DEFAULT_EXEMPT_PATH.to_string(),
            max_size: SCP_SIZE_LIMIT,
        }
    }
}

pub fn generate(options: &RcpOptions) -> Result<Generated, PolicyError> {
    if options.max_size == 0 || options.max_size > SCP_SIZE_LIMIT_MAX {
        return Err(PolicyError::BadOption(format!(
            "--max-size {} is outside 1..={SCP_SIZE_LIMIT_MAX}; the RCP limit is {SCP_SIZE_LIMIT}",
            options.max_size
        )
        .into()));
    }
    arn::check_user_path(&options.exempt_path)
        .map_err(|why| PolicyError::BadOption(why.prefixed("--exempt-path: ")))?;
    let exempt = exempt_users_pattern(&options.exempt_path);
    let policy = Policy::new(vec![
        Statement::deny(SID_RCP, RCP_ACTIONS)
            .principal(Principal::Any)
            .when("StringEquals", "aws:PrincipalType", ["User"])
            .when("Null", "aws:TokenIssueTime", ["true"])
            .when("ArnNotLike", "aws:PrincipalArn", [exempt.as_str()]),
    ]);
    let text = document::validate(
        &policy,
        Kind::Rcp,
        options.max_size,
        "the RCP has one statement; shorten --exempt-path",
    )?;
    Ok(Generated {
        text,
        explanations: vec![(
            SID_RCP.to_string(),
            format!(
                "Refuses access to S3 buckets and objects, STS role assumption, KMS keys and \
                 Secrets Manager secrets in the accounts it is attached to, when the request is \
                 signed with an IAM user's long-term access key (aws:PrincipalType User, no \
                 aws:TokenIssueTime), from any account: the management account's users and other \
                 organisations' users included. Users under {} ({exempt}) are exempt. Check first \
                 that no partner or vendor reaches these resources with an IAM user's key \
                 (keyless audit, CloudTrail): they are refused too.",
                options.exempt_path
            ),
        )],
        notes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rcp_snapshot() {
        let out = generate(&RcpOptions::default()).unwrap();
        assert_eq!(
            out.text,
            concat!(
                r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyLongTermKeyAccess","Effect":"Deny","#,
                r#""Principal":"*","Action":["kms:*","s3:*","secretsmanager:*","sts:*"],"Resource":"*","#,
                r#""Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/keyless-exempt/*"},"#,
                r#""Null":{"aws:TokenIssueTime":"true"},"StringEquals":{"aws:PrincipalType":"User"}}}]}"#
            )
        );
    }

    #[test]
    fn bad_exempt_path_is_a_usage_error() {
        let err = generate(&RcpOptions {
            exempt_path: "no-slashes".into(),
            ..RcpOptions::default()
        })
        .unwrap_err();
        assert!(err.is_usage());
        assert!(err.to_string().starts_with("--exempt-path: "), "{err}");
    }
}
