//! Well-formedness of the ARN patterns that go into policy conditions and
//! templates. A malformed pattern in an `ArnNotLike` does not fail: it
//! silently matches nothing, so every pattern is checked before printing.

use crate::hint::Problem;

/// The partitions keyless generates for.
pub const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];

/// Where Identity Center puts the roles of permission sets.
pub const SSO_ROLE_PATH: &str = "/aws-reserved/sso.amazonaws.com/";

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, where each part may use
/// the `*` and `?` wildcards of `ArnLike`. Returns why not.
pub fn check_pattern(text: &str) -> Result<(), String> {
    if let Some(c) = text
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "\"'\\".contains(*c) || !c.is_ascii())
    {
        return Err(format!("it contains {c:?}"));
    }
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let [scheme, partition, service, region, account, resource] = parts[..] else {
        return Err("an ARN has six parts: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE".into());
    };
    if scheme != "arn" {
        return Err("it must start with arn:".into());
    }
    if partition != "*" && !PARTITIONS.contains(&partition) {
        return Err(format!(
            "the partition {partition:?} is not one of {}",
            PARTITIONS.join(", ")
        ));
    }
    let word = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-*?".contains(c))
    };
    if service.is_empty() || !word(service) {
        return Err(format!("the service {service:?} is not a service prefix"));
    }
    if !word(region) {
        return Err(format!("the region {region:?} is not a region"));
    }
    let account_ok = account.is_empty()
        || account == "*"
        || (account.len() == 12
            && account
                .chars()
                .all(|c| c.is_ascii_digit() || c == '?' || c == '*'));
    if !account_ok {
        return Err(format!(
            "the account {account:?} is neither 12 digits nor *"
        ));
    }
    if resource.is_empty() {
        return Err("the resource part is empty".into());
    }
    Ok(())
}

/// Checks an `--allow-role` pattern: an IAM role ARN as `aws:PrincipalArn`
/// carries it (the role, not the session). Returns the fix when not.
pub fn check_role_pattern(text: &str) -> Result<(), Problem> {
    if text.starts_with("arn:") && text.contains(":sts::") && text.contains(":assumed-role/") {
        return Err(Problem::new(
            "it is a role session (sts … assumed-role), and aws:PrincipalArn carries the role \
             itself",
            "write arn:aws:iam::ACCOUNT:role/NAME",
        ));
    }
    check_pattern(text)?;
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let (service, region, resource) = (parts[2], parts[3], parts[5]);
    if service != "iam" || !region.is_empty() {
        return Err(
            "a role ARN is arn:aws:iam::ACCOUNT:role/PATH/NAME (service iam, no region)".into(),
        );
    }
    let Some(path_and_name) = resource.strip_prefix("role/") else {
        return Err(
            format!("the resource {resource:?} is not role/…; only roles can be allowed").into(),
        );
    };
    if path_and_name.is_empty() {
        return Err("the role name is missing after role/".into());
    }
    if let Some(c) = path_and_name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "+=,.@_-/*?".contains(*c)))
    {
        return Err(format!("{c:?} cannot appear in a role path or name").into());
    }
    if path_and_name.starts_with("AWSReservedSSO_") {
        return Err(Problem::new(
            format!(
                "Identity Center roles live under the path {SSO_ROLE_PATH}, so this never matches"
            ),
            format!(
                "write arn:{}:iam::{}:role/aws-reserved/sso.amazonaws.com/*{path_and_name}",
                parts[1], parts[4]
            ),
        ));
    }
    Ok(())
}

/// True when only Identity Center can make a role that matches: member
/// accounts cannot create roles under its reserved path.
pub fn is_identity_center_role(pattern: &str) -> bool {
    let reserved = SSO_ROLE_PATH.trim_start_matches('/');
    pattern
        .splitn(6, ':')
        .nth(5)
        .and_then(|r| r.strip_prefix("role/"))
        .is_some_and(|rest| rest.starts_with(reserved) && rest.len() > reserved.len())
}

/// Checks an IAM path for `--exempt-path`: `/`-delimited, no wildcards,
/// and not `/` itself (which would exempt every user).
pub fn check_user_path(path: &str) -> Result<(), Problem> {
    if !path.starts_with('/') || !path.ends_with('/') {
        return Err(Problem::new(
            format!("{path:?} is not an IAM path: a path starts and ends with /"),
            "write one such as /keyless-exempt/",
        ));
    }
    if path == "/" {
        return Err(Problem::new(
            "/ is every user's path, so it would exempt everyone",
            "use e.g. /keyless-exempt/",
        ));
    }
    if path.len() > 512 {
        return Err("an IAM path is at most 512 characters".into());
    }
    if let Some(c) = path
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "+=,.@_-/".contains(*c)))
    {
        return Err(format!("{c:?} cannot appear in an IAM path").into());
    }
    if path.contains("//") {
        return Err(format!("{path:?} has an empty path segment").into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        for ok in [
            "arn:aws:iam::*:root",
            "arn:aws:iam::*:user/keyless-exempt/*",
            "arn:aws:iam::123456789012:role/BreakGlass",
            "arn:aws-us-gov:iam::*:role/x",
            "arn:aws:events:us-east-1:123456789012:event-bus/central",
        ] {
            assert_eq!(check_pattern(ok), Ok(()), "{ok}");
        }
        for bad in [
            "role/BreakGlass",
            "arn:aws:iam::*",
            "arn:aws:iam::1234:role/x",
            "arn:aws:iam::*:",
            "arn:amazon:iam::*:role/x",
            "arn:aws:IAM::*:role/x",
            "arn:aws:iam::*:role/a b",
            "arn:aws:iam::*:role/\"x",
            "ARN:aws:iam::*:role/x",
        ] {
            assert!(check_pattern(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn role_patterns_name_the_fix() {
        assert_eq!(
            check_role_pattern(
                "arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_IdentityAdmin_*"
            ),
            Ok(())
        );
        let err = check_role_pattern("arn:aws:iam::*:role/AWSReservedSSO_Admin_*").unwrap_err();
        assert!(err.what.contains("never matches"), "{err:?}");
        assert!(
            err.hint.as_deref().unwrap_or_default().contains(
                "arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_Admin_*"
            ),
            "{err:?}"
        );
        let err =
            check_role_pattern("arn:aws:sts::123456789012:assumed-role/Admin/alice").unwrap_err();
        assert!(err.what.contains("role itself"), "{err:?}");
        assert_eq!(
            err.hint.as_deref(),
            Some("write arn:aws:iam::ACCOUNT:role/NAME")
        );
        assert!(check_role_pattern("arn:aws:iam::*:user/alice").is_err());
        assert!(check_role_pattern("arn:aws:s3:::bucket").is_err());
        assert!(check_role_pattern("arn:aws:iam::*:role/").is_err());
        assert!(check_role_pattern("arn:aws:iam::*:role/a#b").is_err());
    }

    #[test]
    fn identity_center_roles() {
        assert!(is_identity_center_role(
            "arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_X_*"
        ));
        assert!(!is_identity_center_role("arn:aws:iam::*:role/BreakGlass"));
        assert!(!is_identity_center_role(
            "arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/"
        ));
    }

    #[test]
    fn user_paths() {
        assert_eq!(check_user_path("/keyless-exempt/"), Ok(()));
        assert_eq!(check_user_path("/a/b/"), Ok(()));
        for bad in [
            "/",
            "keyless-exempt/",
            "/keyless-exempt",
            "/a*/",
            "/a//b/",
            "/a b/",
        ] {
            assert!(check_user_path(bad).is_err(), "{bad}");
        }
    }
}
