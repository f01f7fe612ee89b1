//! IAM policy documents as typed values, and the checks every generated
//! policy passes before anyone sees it.
//!
//! Serialisation is stable: fields in the order AWS's own examples use,
//! condition operators and keys sorted (`BTreeMap`), a single value written
//! as a string rather than a one-element list (fewer characters count
//! against an SCP's size limit).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde::ser::Serializer;

use super::arn;

/// The only policy-language version AWS accepts in SCPs and RCPs.
pub const POLICY_VERSION: &str = "2012-10-17";

/// The documented values of `aws:PrincipalType`. An IAM user is `User`
/// (CloudTrail says `IAMUser`, the policy language does not).
pub const PRINCIPAL_TYPES: [&str; 5] = [
    "Account",
    "User",
    "FederatedUser",
    "AssumedRole",
    "Anonymous",
];

/// Service prefixes whose resources resource control policies cover.
pub const RCP_SERVICES: [&str; 5] = ["s3", "sts", "kms", "sqs", "secretsmanager"];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    #[serde(rename = "Version")]
    pub version: String,
    #[serde(rename = "Statement")]
    pub statement: Vec<Statement>,
}

impl Policy {
    pub fn new(statement: Vec<Statement>) -> Policy {
        Policy {
            version: POLICY_VERSION.to_string(),
            statement,
        }
    }

    /// The document as AWS receives it: no white space outside strings.
    pub fn minified(&self) -> String {
        serde_json::to_string(self).expect("a policy always serialises")
    }
}

/// Guardrails only ever deny; an SCP's or RCP's `Allow` is AWS's own
/// full-access policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    Deny,
}

/// Only `"*"`: an RCP statement applies to every principal and narrows with
/// conditions (an SCP has no Principal at all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Any,
}

impl Serialize for Principal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Principal::Any => serializer.serialize_str("*"),
        }
    }
}

/// One value (written as a string) or several (a list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Values {
    One(String),
    Many(Vec<String>),
}

impl Values {
    pub fn new<I, S>(values: I) -> Values
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut values: Vec<String> = values.into_iter().map(Into::into).collect();
        if values.len() == 1 {
            Values::One(values.remove(0))
        } else {
            Values::Many(values)
        }
    }

    pub fn one(value: impl Into<String>) -> Values {
        Values::One(value.into())
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let slice: &[String] = match self {
            Values::One(v) => std::slice::from_ref(v),
            Values::Many(v) => v,
        };
        slice.iter().map(String::as_str)
    }
}

/// Operator → condition key → values, both levels sorted.
pub type Condition = BTreeMap<String, BTreeMap<String, Values>>;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    #[serde(rename = "Sid")]
    pub sid: String,
    #[serde(rename = "Effect")]
    pub effect: Effect,
    #[serde(rename = "Principal", skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    #[serde(rename = "Action", skip_serializing_if = "Option::is_none")]
    pub action: Option<Values>,
    #[serde(rename = "NotAction", skip_serializing_if = "Option::is_none")]
    pub not_action: Option<Values>,
    #[serde(rename = "Resource")]
    pub resource: Values,
    #[serde(rename = "Condition", skip_serializing_if = "BTreeMap::is_empty")]
    pub condition: Condition,
}

impl Statement {
    /// A `Deny` of `actions` on every resource, with no condition yet.
    pub fn deny<I, S>(sid: &str, actions: I) -> Statement
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Statement {
            sid: sid.to_string(),
            effect: Effect::Deny,
            principal: None,
            action: Some(Values::new(actions)),
            not_action: None,
            resource: Values::one("*"),
            condition: Condition::new(),
        }
    }

    pub fn principal(mut self, principal: Principal) -> Statement {
        self.principal = Some(principal);
        self
    }

    /// Adds `operator: {key: values}`; an empty list adds nothing.
    pub fn when<I, S>(mut self, operator: &str, key: &str, values: I) -> Statement
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let values: Vec<String> = values.into_iter().map(Into::into).collect();
        if !values.is_empty() {
            self.condition
                .entry(operator.to_string())
                .or_default()
                .insert(key.to_string(), Values::new(values));
        }
        self
    }

    fn actions(&self) -> impl Iterator<Item = &str> {
        self.action
            .iter()
            .chain(self.not_action.iter())
            .flat_map(Values::iter)
    }
}

/// Which kind of organisation policy a document is checked as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Scp,
    Rcp,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Scp => "SCP",
            Kind::Rcp => "RCP",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error(
        "the {kind} is {size} characters, {over} over the limit of {limit}",
        over = size - limit
    )]
    TooLarge {
        kind: &'static str,
        size: usize,
        limit: usize,
        advice: String,
    },
    #[error("statement {sid}: an SCP cannot have a Principal element; AWS refuses it")]
    PrincipalInScp { sid: String },
    #[error(
        "statement {sid}: an RCP statement must have \"Principal\": \"*\" and narrow it with conditions"
    )]
    RcpPrincipal { sid: String },
    #[error("statement {sid}: an RCP names its actions with Action (it has no NotAction)")]
    RcpShape { sid: String },
    #[error(
        "statement {sid}: {action} is not an action of a service RCPs cover ({})",
        RCP_SERVICES.join(", ")
    )]
    RcpService { sid: String, action: String },
    #[error("the Sid {sid:?} is used by more than one statement; each Sid must be unique")]
    DuplicateSid { sid: String },
    #[error("the Sid {sid:?} must be non-empty letters and digits only")]
    BadSid { sid: String },
    #[error("statement {sid}: needs exactly one of Action and NotAction")]
    ActionShape { sid: String },
    #[error("statement {sid}: {key} {value:?} is not a well-formed ARN pattern: {reason}")]
    BadArn {
        sid: String,
        key: String,
        value: String,
        reason: String,
    },
    #[error(
        "statement {sid}: aws:PrincipalType {value:?} is not one of {}{hint}",
        PRINCIPAL_TYPES.join(", ")
    )]
    BadPrincipalType {
        sid: String,
        value: String,
        hint: &'static str,
    },
    #[error(
        "statement {sid}: aws:UserAgent is set by the caller and can be anything; \
         a guardrail must not depend on it"
    )]
    UserAgent { sid: String },
    #[error("{0}")]
    BadOption(crate::hint::Problem),
}

impl PolicyError {
    /// The next step, for the `hint:` line.
    pub fn hint(&self) -> Option<String> {
        match self {
            PolicyError::TooLarge { advice, .. } => Some(advice.clone()),
            PolicyError::BadOption(problem) => problem.hint.clone(),
            _ => None,
        }
    }

    /// True when the fix is a different command line (exit 2), false when
    /// the generated document itself is wrong (a bug, exit 1).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            PolicyError::TooLarge { .. } | PolicyError::BadOption(_)
        )
    }
}

/// Checks `policy` as a `kind` no larger than `max_size` characters and
/// returns its minified text: what is printed is exactly what was checked.
/// `advice` says what to do when it is too large.
pub fn validate(
    policy: &Policy,
    kind: Kind,
    max_size: usize,
    advice: &str,
) -> Result<String, PolicyError> {
    let mut sids = BTreeSet::new();
    for statement in &policy.statement {
        let sid = &statement.sid;
        if sid.is_empty() || !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(PolicyError::BadSid { sid: sid.clone() });
        }
        if !sids.insert(sid.as_str()) {
            return Err(PolicyError::DuplicateSid { sid: sid.clone() });
        }
        if statement.action.is_some() == statement.not_action.is_some() {
            return Err(PolicyError::ActionShape { sid: sid.clone() });
        }
        match kind {
            Kind::Scp => {
                if statement.principal.is_some() {
                    return Err(PolicyError::PrincipalInScp { sid: sid.clone() });
                }
            }
            Kind::Rcp => {
                if statement.principal != Some(Principal::Any) {
                    return Err(PolicyError::RcpPrincipal { sid: sid.clone() });
                }
                if statement.not_action.is_some() {
                    return Err(PolicyError::RcpShape { sid: sid.clone() });
                }
                for action in statement.actions() {
                    let service = action.split(':').next().unwrap_or_default();
                    if !RCP_SERVICES.contains(&service.to_ascii_lowercase().as_str()) {
                        return Err(PolicyError::RcpService {
                            sid: sid.clone(),
                            action: action.to_string(),
                        });
                    }
                }
            }
        }
        check_conditions(statement)?;
    }
    let text = policy.minified();
    let size = text.chars().count();
    if size > max_size {
        return Err(PolicyError::TooLarge {
            kind: kind.name(),
            size,
            limit: max_size,
            advice: advice.to_string(),
        });
    }
    Ok(text)
}

fn check_conditions(statement: &Statement) -> Result<(), PolicyError> {
    let sid = &statement.sid;
    for (operator, keys) in &statement.condition {
        let is_arn_operator = operator.starts_with("Arn");
        for (key, values) in keys {
            let lower = key.to_ascii_lowercase();
            if lower == "aws:useragent" {
                return Err(PolicyError::UserAgent { sid: sid.clone() });
            }
            for value in values.iter() {
                if lower == "aws:principaltype" && !PRINCIPAL_TYPES.contains(&value) {
                    let hint = if value == "IAMUser" {
                        " (IAMUser is CloudTrail's name; the condition value is User)"
                    } else {
                        ""
                    };
                    return Err(PolicyError::BadPrincipalType {
                        sid: sid.clone(),
                        value: value.to_string(),
                        hint,
                    });
                }
                if is_arn_operator {
                    arn::check_pattern(value).map_err(|reason| PolicyError::BadArn {
                        sid: sid.clone(),
                        key: key.clone(),
                        value: value.to_string(),
                        reason,
                    })?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Policy {
        Policy::new(vec![Statement::deny("A", ["iam:CreateAccessKey"]).when(
            "StringEquals",
            "aws:PrincipalType",
            ["User"],
        )])
    }

    #[test]
    fn single_values_are_strings_and_conditions_sorted() {
        let policy = Policy::new(vec![
            Statement::deny("A", ["s3:*", "kms:*"])
                .when("StringEquals", "aws:PrincipalType", ["User"])
                .when("Null", "aws:TokenIssueTime", ["true"])
                .when("ArnNotLike", "aws:PrincipalArn", Vec::<String>::new()),
        ]);
        assert_eq!(
            policy.minified(),
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Deny","Action":["s3:*","kms:*"],"Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"true"},"StringEquals":{"aws:PrincipalType":"User"}}}]}"#
        );
    }

    #[test]
    fn a_principal_is_refused_in_an_scp() {
        let mut policy = sample();
        policy.statement[0].principal = Some(Principal::Any);
        let err = validate(&policy, Kind::Scp, 5120, "").unwrap_err();
        assert_eq!(err, PolicyError::PrincipalInScp { sid: "A".into() });
        assert!(err.to_string().contains("cannot have a Principal"), "{err}");
        assert!(!err.is_usage());
        // The same statement is what an RCP requires.
        policy.statement[0].action = Some(Values::one("s3:*"));
        assert!(validate(&policy, Kind::Rcp, 5120, "").is_ok());
    }

    #[test]
    fn duplicate_and_malformed_sids_are_refused() {
        let mut policy = sample();
        policy.statement.push(policy.statement[0].clone());
        assert_eq!(
            validate(&policy, Kind::Scp, 5120, ""),
            Err(PolicyError::DuplicateSid { sid: "A".into() })
        );
        let mut policy = sample();
        policy.statement[0].sid = "Deny-Keys".into();
        assert!(matches!(
            validate(&policy, Kind::Scp, 5120, ""),
            Err(PolicyError::BadSid { .. })
        ));
    }

    #[test]
    fn principal_type_values_come_from_the_documented_set() {
        let policy = Policy::new(vec![Statement::deny("A", ["*"]).when(
            "StringEquals",
            "aws:PrincipalType",
            ["IAMUser"],
        )]);
        let err = validate(&policy, Kind::Scp, 5120, "").unwrap_err();
        assert!(
            err.to_string().contains("the condition value is User"),
            "{err}"
        );
        for value in PRINCIPAL_TYPES {
            let policy = Policy::new(vec![Statement::deny("A", ["*"]).when(
                "StringEquals",
                "aws:PrincipalType",
                [value],
            )]);
            assert!(validate(&policy, Kind::Scp, 5120, "").is_ok(), "{value}");
        }
    }

    #[test]
    fn user_agent_is_never_a_condition() {
        let policy = Policy::new(vec![Statement::deny("A", ["*"]).when(
            "StringLike",
            "aws:UserAgent",
            ["aws-cli/*"],
        )]);
        assert_eq!(
            validate(&policy, Kind::Scp, 5120, ""),
            Err(PolicyError::UserAgent { sid: "A".into() })
        );
    }

    #[test]
    fn arn_condition_values_must_be_arns() {
        let policy = Policy::new(vec![Statement::deny("A", ["*"]).when(
            "ArnNotLike",
            "aws:PrincipalArn",
            ["role/Admin"],
        )]);
        let err = validate(&policy, Kind::Scp, 5120, "").unwrap_err();
        assert!(matches!(err, PolicyError::BadArn { .. }), "{err}");
    }

    #[test]
    fn rcp_rules() {
        let rcp =
            |statement: Statement| validate(&Policy::new(vec![statement]), Kind::Rcp, 5120, "");
        assert!(matches!(
            rcp(Statement::deny("A", ["s3:*"])),
            Err(PolicyError::RcpPrincipal { .. })
        ));
        assert!(matches!(
            rcp(Statement::deny("A", ["iam:*"]).principal(Principal::Any)),
            Err(PolicyError::RcpService { .. })
        ));
        assert!(rcp(Statement::deny("A", ["secretsmanager:*"]).principal(Principal::Any)).is_ok());
    }

    #[test]
    fn size_limit_counts_characters_and_says_by_how_much() {
        let policy = sample();
        let size = policy.minified().chars().count();
        assert!(validate(&policy, Kind::Scp, size, "").is_ok());
        let err = validate(&policy, Kind::Scp, size - 3, "do less").unwrap_err();
        assert!(err.is_usage());
        assert_eq!(err.hint().as_deref(), Some("do less"));
        assert_eq!(
            err.to_string(),
            format!(
                "the SCP is {size} characters, 3 over the limit of {}",
                size - 3
            )
        );
    }
}
