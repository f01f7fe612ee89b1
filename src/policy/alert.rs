//! EventBridge rules that alert on new long-lived credentials and on
//! calls the guardrails refused, as bare patterns, a CloudFormation
//! template or Terraform JSON.
//!
//! Two facts shape them. IAM delivers its CloudTrail events in
//! `us-east-1` only, so the issuance rule must live there. And a pattern
//! that excludes something with `anything-but` on a field that may be
//! absent silently drops every event without the field (keys created by
//! IAM users have no `sessionIssuer`): these patterns only select, and
//! the consumer classifies. `exists: false` on `errorCode` is the one
//! absence test, and it is what keeps failed calls out.

use serde_json::{Value, json};

use super::document::PolicyError;
use super::{Generated, arn};
use crate::hint::Problem;

pub const ISSUANCE_RULE: &str = "keyless-credential-issuance";
pub const DENIED_RULE: &str = "keyless-guardrail-denied";
pub const DEFAULT_TOPIC_NAME: &str = "keyless-key-alerts";
/// Where IAM's CloudTrail events arrive.
pub const IAM_EVENTS_REGION: &str = "us-east-1";

/// Successful calls that create a long-lived credential (UpdateAccessKey
/// to `Active` is matched separately).
pub const ISSUANCE_EVENTS: [&str; 4] = [
    "CreateAccessKey",
    "CreateLoginProfile",
    "CreateServiceSpecificCredential",
    "CreateUser",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    Issuance,
    Denied,
}

impl Rule {
    pub const ALL: [Rule; 2] = [Rule::Issuance, Rule::Denied];

    pub fn name(self) -> &'static str {
        match self {
            Rule::Issuance => ISSUANCE_RULE,
            Rule::Denied => DENIED_RULE,
        }
    }

    fn logical_id(self) -> &'static str {
        match self {
            Rule::Issuance => "CredentialIssuanceRule",
            Rule::Denied => "GuardrailDeniedRule",
        }
    }

    fn tf_name(self) -> &'static str {
        match self {
            Rule::Issuance => "keyless_credential_issuance",
            Rule::Denied => "keyless_guardrail_denied",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Rule::Issuance => {
                "keyless: a long-lived IAM credential was created or an access key re-activated"
            }
            Rule::Denied => "keyless: a call was refused by a service or resource control policy",
        }
    }

    pub fn pattern(self) -> Value {
        match self {
            Rule::Issuance => issuance_pattern(),
            Rule::Denied => denied_pattern(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pattern,
    CloudFormation,
    Terraform,
}

#[derive(Debug, Clone)]
pub struct AlertOptions {
    pub format: Format,
    /// Forward to this event bus (organisation variant) instead of SNS.
    pub central_bus: Option<String>,
    pub sns_topic_name: String,
    /// Empty: both rules.
    pub rules: Vec<Rule>,
}

impl Default for AlertOptions {
    fn default() -> Self {
        AlertOptions {
            format: Format::Pattern,
            central_bus: None,
            sns_topic_name: DEFAULT_TOPIC_NAME.to_string(),
            rules: Vec::new(),
        }
    }
}

/// New users, keys, console passwords and service-specific credentials,
/// and keys set back to Active; successful calls only.
pub fn issuance_pattern() -> Value {
    json!({
        "source": ["aws.iam"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": ["iam.amazonaws.com"],
            "errorCode": [{"exists": false}],
            "$or": [
                {"eventName": ISSUANCE_EVENTS},
                {"eventName": ["UpdateAccessKey"], "requestParameters": {"status": ["Active"]}}
            ]
        }
    })
}

/// Any service's call refused by an SCP or an RCP: the gate for each
/// rollout phase. The error code is `AccessDenied` or
/// `AccessDeniedException` depending on the service.
pub fn denied_pattern() -> Value {
    json!({
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "errorCode": [{"prefix": "AccessDenied"}],
            "errorMessage": [
                {"wildcard": "*service control policy*"},
                {"wildcard": "*resource control policy*"}
            ]
        }
    })
}

/// `arn:aws:events:REGION:ACCOUNT:event-bus/NAME`, concrete (no wildcards).
pub fn check_central_bus(text: &str) -> Result<(), Problem> {
    let fix = "write arn:aws:events:REGION:ACCOUNT:event-bus/NAME, the ARN of the central \
               account's event bus";
    if text.contains('*') || text.contains('?') {
        return Err(Problem::new("a target cannot be a pattern", fix));
    }
    arn::check_pattern(text).map_err(|why| Problem::new(why, fix))?;
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let name = parts[5].strip_prefix("event-bus/").unwrap_or_default();
    let name_ok = !name.is_empty()
        && name.len() <= 256
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c));
    if parts[1] != "aws"
        || parts[2] != "events"
        || parts[3].is_empty()
        || parts[4].len() != 12
        || !name_ok
    {
        return Err(Problem::new("it is not an event bus ARN", fix));
    }
    Ok(())
}

/// SNS topic names: 1 to 256 letters, digits, hyphens and underscores.
pub fn check_topic_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || name.len() > 256
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "{name:?} is not an SNS topic name (1 to 256 letters, digits, - and _)"
        ));
    }
    Ok(())
}

pub fn generate(options: &AlertOptions) -> Result<Generated, PolicyError> {
    check_topic_name(&options.sns_topic_name)
        .map_err(|why| PolicyError::BadOption(Problem::from(why).prefixed("--sns-topic-name: ")))?;
    if let Some(bus) = &options.central_bus {
        check_central_bus(bus).map_err(|why| {
            PolicyError::BadOption(why.prefixed(format!("--central-bus {bus}: ")))
        })?;
    }
    let mut rules = if options.rules.is_empty() {
        Rule::ALL.to_vec()
    } else {
        options.rules.clone()
    };
    rules.sort();
    rules.dedup();

    let value = match options.format {
        Format::Pattern => match rules[..] {
            [one] => one.pattern(),
            _ => Value::Object(
                rules
                    .iter()
                    .map(|r| (r.name().to_string(), r.pattern()))
                    .collect(),
            ),
        },
        Format::CloudFormation => cloudformation(&rules, options),
        Format::Terraform => terraform(&rules, options),
    };
    let text = match options.format {
        Format::Pattern => value.to_string(),
        _ => serde_json::to_string_pretty(&value).expect("a template always serialises"),
    };

    let mut explanations = Vec::new();
    for rule in &rules {
        let text = match rule {
            Rule::Issuance => format!(
                "Matches successful {} calls and UpdateAccessKey to Active (failed calls, which \
                 carry an errorCode, and deactivations do not match). IAM delivers these events in \
                 {IAM_EVENTS_REGION} only: the rule must live there. It selects and never \
                 excludes: classify break-glass or IaC callers in the consumer, because an \
                 anything-but on a field such as userIdentity.sessionContext.sessionIssuer.arn \
                 would drop every event from an IAM user, which has no such field.",
                ISSUANCE_EVENTS.join(", ")
            ),
            Rule::Denied => {
                "Matches calls of any service refused with AccessDenied… whose message \
                 names a service or resource control policy: watch it after each rollout phase. \
                 Calls are recorded in the region they were made in; deploy it in each region in \
                 use (IAM's own denials arrive in us-east-1)."
                    .to_string()
            }
        };
        explanations.push((rule.name().to_string(), text));
    }
    let mut notes = Vec::new();
    if options.central_bus.is_some() && options.format != Format::Pattern {
        notes.push(
            "the central bus must allow events:PutEvents from the organisation \
             (a bus policy with the aws:PrincipalOrgID condition); see docs/rollout.md"
                .to_string(),
        );
    }
    Ok(Generated {
        text,
        explanations,
        notes,
    })
}

fn cloudformation(rules: &[Rule], options: &AlertOptions) -> Value {
    let mut resources = serde_json::Map::new();
    let mut outputs = serde_json::Map::new();
    let mut template = serde_json::Map::new();
    template.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
    let central = options.central_bus.as_deref();
    template.insert(
        "Description".into(),
        json!(match central {
            None =>
                "keyless alert rules: new long-lived IAM credentials and calls refused by \
                     the guardrails, published to an SNS topic.",
            Some(_) =>
                "keyless alert rules for a member account: new long-lived IAM credentials \
                        and calls refused by the guardrails, forwarded to the organisation's \
                        central event bus. Deploy as a service-managed StackSet.",
        }),
    );
    if rules.contains(&Rule::Issuance) {
        template.insert(
            "Rules".into(),
            json!({
                "IamEventsRegion": {
                    "Assertions": [{
                        "Assert": {"Fn::Equals": [{"Ref": "AWS::Region"}, IAM_EVENTS_REGION]},
                        "AssertDescription": "IAM delivers its CloudTrail events in us-east-1 only: deploy this stack in us-east-1"
                    }]
                }
            }),
        );
    }
    let target = match central {
        None => json!({"Arn": {"Ref": "AlertTopic"}, "Id": "alert-topic"}),
        Some(bus) => json!({
            "Arn": bus,
            "Id": "central-bus",
            "RoleArn": {"Fn::GetAtt": ["ForwardRole", "Arn"]}
        }),
    };
    for rule in rules {
        resources.insert(
            rule.logical_id().into(),
            json!({
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "Name": rule.name(),
                    "Description": rule.description(),
                    "State": "ENABLED",
                    "EventPattern": rule.pattern(),
                    "Targets": [target.clone()]
                }
            }),
        );
        outputs.insert(
            format!("{}Arn", rule.logical_id()),
            json!({"Value": {"Fn::GetAtt": [rule.logical_id(), "Arn"]}}),
        );
    }
    match central {
        None => {
            template.insert(
                "Parameters".into(),
                json!({
                    "AlertEmail": {
                        "Type": "String",
                        "Default": "",
                        "Description": "An address to subscribe to the alert topic (empty: none)"
                    }
                }),
            );
            template.insert(
                "Conditions".into(),
                json!({"HasAlertEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlertEmail"}, ""]}]}}),
            );
            resources.insert(
                "AlertTopic".into(),
                json!({"Type": "AWS::SNS::Topic", "Properties": {"TopicName": options.sns_topic_name}}),
            );
            let sources: Vec<Value> = rules
                .iter()
                .map(|r| json!({"Fn::GetAtt": [r.logical_id(), "Arn"]}))
                .collect();
            resources.insert(
                "AlertTopicPolicy".into(),
                json!({
                    "Type": "AWS::SNS::TopicPolicy",
                    "Properties": {
                        "Topics": [{"Ref": "AlertTopic"}],
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [{
                                "Sid": "AllowKeylessRules",
                                "Effect": "Allow",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Action": "sns:Publish",
                                "Resource": {"Ref": "AlertTopic"},
                                "Condition": {"ArnEquals": {"aws:SourceArn": sources}}
                            }]
                        }
                    }
                }),
            );
            resources.insert(
                "AlertEmailSubscription".into(),
                json!({
                    "Type": "AWS::SNS::Subscription",
                    "Condition": "HasAlertEmail",
                    "Properties": {
                        "TopicArn": {"Ref": "AlertTopic"},
                        "Protocol": "email",
                        "Endpoint": {"Ref": "AlertEmail"}
                    }
                }),
            );
            outputs.insert(
                "AlertTopicArn".into(),
                json!({"Value": {"Ref": "AlertTopic"}}),
            );
        }
        Some(bus) => {
            resources.insert(
                "ForwardRole".into(),
                json!({
                    "Type": "AWS::IAM::Role",
                    "Properties": {
                        "Description": "Lets the keyless alert rules put events on the central bus",
                        "AssumeRolePolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [{
                                "Sid": "EventBridgeRules",
                                "Effect": "Allow",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                                "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
                            }]
                        },
                        "Policies": [{
                            "PolicyName": "keyless-forward-to-central-bus",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [{
                                    "Sid": "PutOnCentralBus",
                                    "Effect": "Allow",
                                    "Action": "events:PutEvents",
                                    "Resource": bus
                                }]
                            }
                        }]
                    }
                }),
            );
        }
    }
    template.insert("Resources".into(), Value::Object(resources));
    template.insert("Outputs".into(), Value::Object(outputs));
    Value::Object(template)
}

/// A literal string in Terraform JSON: `${` and `%{` start templates.
pub fn tf_literal(text: &str) -> String {
    text.replace("${", "$${").replace("%{", "%%{")
}

fn terraform(rules: &[Rule], options: &AlertOptions) -> Value {
    let mut doc = serde_json::Map::new();
    doc.insert(
        "terraform".into(),
        json!({"required_providers": {"aws": {"source": "hashicorp/aws", "version": ">= 5.0"}}}),
    );
    // The issuance rule must be in us-east-1 whatever the default region is.
    let provider = rules.contains(&Rule::Issuance).then_some("aws.us_east_1");
    if provider.is_some() {
        doc.insert(
            "provider".into(),
            json!({"aws": [{"alias": "us_east_1", "region": IAM_EVENTS_REGION}]}),
        );
    }
    let with_provider = |mut block: Value| {
        if let (Some(p), Some(map)) = (provider, block.as_object_mut()) {
            map.insert("provider".into(), json!(p));
        }
        block
    };
    let mut resources = serde_json::Map::new();
    let mut data = serde_json::Map::new();
    let mut outputs = serde_json::Map::new();
    let mut rule_blocks = serde_json::Map::new();
    let mut target_blocks = serde_json::Map::new();
    let central = options.central_bus.as_deref();
    for rule in rules {
        let name = rule.tf_name();
        rule_blocks.insert(
            name.into(),
            with_provider(json!({
                "name": rule.name(),
                "description": rule.description(),
                "event_pattern": tf_literal(&rule.pattern().to_string())
            })),
        );
        let target = match central {
            None => json!({
                "rule": format!("${{aws_cloudwatch_event_rule.{name}.name}}"),
                "target_id": "alert-topic",
                "arn": "${aws_sns_topic.keyless_alerts.arn}"
            }),
            Some(bus) => json!({
                "rule": format!("${{aws_cloudwatch_event_rule.{name}.name}}"),
                "target_id": "central-bus",
                "arn": tf_literal(bus),
                "role_arn": "${aws_iam_role.keyless_forward.arn}"
            }),
        };
        target_blocks.insert(name.into(), with_provider(target));
        outputs.insert(
            format!("{name}_rule_arn"),
            json!({"value": format!("${{aws_cloudwatch_event_rule.{name}.arn}}")}),
        );
    }
    resources.insert(
        "aws_cloudwatch_event_rule".into(),
        Value::Object(rule_blocks),
    );
    resources.insert(
        "aws_cloudwatch_event_target".into(),
        Value::Object(target_blocks),
    );
    let mut documents = serde_json::Map::new();
    match central {
        None => {
            doc.insert(
                "variable".into(),
                json!({"alert_email": {
                    "type": "string",
                    "default": "",
                    "description": "An address to subscribe to the alert topic (empty: none)"
                }}),
            );
            resources.insert(
                "aws_sns_topic".into(),
                json!({"keyless_alerts": with_provider(json!({"name": tf_literal(&options.sns_topic_name)}))}),
            );
            let sources: Vec<String> = rules
                .iter()
                .map(|r| format!("${{aws_cloudwatch_event_rule.{}.arn}}", r.tf_name()))
                .collect();
            documents.insert(
                "keyless_alerts_topic".into(),
                with_provider(json!({"statement": [{
                    "sid": "AllowKeylessRules",
                    "effect": "Allow",
                    "actions": ["sns:Publish"],
                    "principals": [{"type": "Service", "identifiers": ["events.amazonaws.com"]}],
                    "resources": ["${aws_sns_topic.keyless_alerts.arn}"],
                    "condition": [{"test": "ArnEquals", "variable": "aws:SourceArn", "values": sources}]
                }]})),
            );
            resources.insert(
                "aws_sns_topic_policy".into(),
                json!({"keyless_alerts": with_provider(json!({
                    "arn": "${aws_sns_topic.keyless_alerts.arn}",
                    "policy": "${data.aws_iam_policy_document.keyless_alerts_topic.json}"
                }))}),
            );
            resources.insert(
                "aws_sns_topic_subscription".into(),
                json!({"keyless_alerts_email": with_provider(json!({
                    "count": "${var.alert_email == \"\" ? 0 : 1}",
                    "topic_arn": "${aws_sns_topic.keyless_alerts.arn}",
                    "protocol": "email",
                    "endpoint": "${var.alert_email}"
                }))}),
            );
            outputs.insert(
                "alert_topic_arn".into(),
                json!({"value": "${aws_sns_topic.keyless_alerts.arn}"}),
            );
        }
        Some(bus) => {
            data.insert(
                "aws_caller_identity".into(),
                json!({"current": with_provider(json!({}))}),
            );
            documents.insert(
                "keyless_forward_trust".into(),
                with_provider(json!({"statement": [{
                    "sid": "EventBridgeRules",
                    "effect": "Allow",
                    "actions": ["sts:AssumeRole"],
                    "principals": [{"type": "Service", "identifiers": ["events.amazonaws.com"]}],
                    "condition": [{
                        "test": "StringEquals",
                        "variable": "aws:SourceAccount",
                        "values": ["${data.aws_caller_identity.current.account_id}"]
                    }]
                }]})),
            );
            documents.insert(
                "keyless_forward".into(),
                with_provider(json!({"statement": [{
                    "sid": "PutOnCentralBus",
                    "effect": "Allow",
                    "actions": ["events:PutEvents"],
                    "resources": [tf_literal(bus)]
                }]})),
            );
            resources.insert(
                "aws_iam_role".into(),
                json!({"keyless_forward": with_provider(json!({
                    "name_prefix": "keyless-forward-",
                    "description": "Lets the keyless alert rules put events on the central bus",
                    "assume_role_policy": "${data.aws_iam_policy_document.keyless_forward_trust.json}"
                }))}),
            );
            resources.insert(
                "aws_iam_role_policy".into(),
                json!({"keyless_forward": with_provider(json!({
                    "name": "keyless-forward-to-central-bus",
                    "role": "${aws_iam_role.keyless_forward.id}",
                    "policy": "${data.aws_iam_policy_document.keyless_forward.json}"
                }))}),
            );
        }
    }
    data.insert("aws_iam_policy_document".into(), Value::Object(documents));
    doc.insert("data".into(), Value::Object(data));
    doc.insert("resource".into(), Value::Object(resources));
    doc.insert("output".into(), Value::Object(outputs));
    Value::Object(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUS: &str = "arn:aws:events:us-east-1:111122223333:event-bus/keyless-alerts";

    fn generate_ok(options: &AlertOptions) -> Generated {
        generate(options).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn pattern_snapshots() {
        assert_eq!(
            issuance_pattern().to_string(),
            concat!(
                r#"{"detail":{"$or":[{"eventName":["CreateAccessKey","CreateLoginProfile","#,
                r#""CreateServiceSpecificCredential","CreateUser"]},{"eventName":["UpdateAccessKey"],"#,
                r#""requestParameters":{"status":["Active"]}}],"errorCode":[{"exists":false}],"#,
                r#""eventSource":["iam.amazonaws.com"]},"detail-type":["AWS API Call via CloudTrail"],"#,
                r#""source":["aws.iam"]}"#
            )
        );
        assert_eq!(
            denied_pattern().to_string(),
            concat!(
                r#"{"detail":{"errorCode":[{"prefix":"AccessDenied"}],"errorMessage":["#,
                r#"{"wildcard":"*service control policy*"},{"wildcard":"*resource control policy*"}]},"#,
                r#""detail-type":["AWS API Call via CloudTrail"]}"#
            )
        );
        let both: Value =
            serde_json::from_str(&generate_ok(&AlertOptions::default()).text).unwrap();
        assert_eq!(both[ISSUANCE_RULE], issuance_pattern());
        assert_eq!(both[DENIED_RULE], denied_pattern());
        let one = generate_ok(&AlertOptions {
            rules: vec![Rule::Issuance],
            ..AlertOptions::default()
        });
        assert_eq!(one.text, issuance_pattern().to_string());
    }

    #[test]
    fn no_anything_but_anywhere() {
        for format in [Format::Pattern, Format::CloudFormation, Format::Terraform] {
            for central_bus in [None, Some(BUS.to_string())] {
                let out = generate_ok(&AlertOptions {
                    format,
                    central_bus,
                    ..AlertOptions::default()
                });
                assert!(!out.text.contains("anything-but"), "{}", out.text);
                assert!(!out.text.contains("UserAgent"), "{}", out.text);
            }
        }
    }

    #[test]
    fn cloudformation_single_account() {
        let out = generate_ok(&AlertOptions {
            format: Format::CloudFormation,
            sns_topic_name: "sec-alerts".into(),
            ..AlertOptions::default()
        });
        let t: Value = serde_json::from_str(&out.text).unwrap();
        let r = &t["Resources"];
        assert_eq!(r["AlertTopic"]["Properties"]["TopicName"], "sec-alerts");
        assert_eq!(
            r["CredentialIssuanceRule"]["Properties"]["EventPattern"],
            issuance_pattern()
        );
        assert_eq!(
            r["GuardrailDeniedRule"]["Properties"]["EventPattern"],
            denied_pattern()
        );
        assert_eq!(
            r["CredentialIssuanceRule"]["Properties"]["Targets"][0]["Arn"],
            json!({"Ref": "AlertTopic"})
        );
        let statement = &r["AlertTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"][0];
        assert_eq!(
            statement["Condition"]["ArnEquals"]["aws:SourceArn"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            t["Rules"]["IamEventsRegion"]["Assertions"][0]["Assert"]["Fn::Equals"][1],
            "us-east-1"
        );
        assert!(r.get("ForwardRole").is_none());
        // The denied rule alone may be deployed in any region.
        let denied = generate_ok(&AlertOptions {
            format: Format::CloudFormation,
            rules: vec![Rule::Denied],
            ..AlertOptions::default()
        });
        let t: Value = serde_json::from_str(&denied.text).unwrap();
        assert!(t.get("Rules").is_none());
        assert!(t["Resources"].get("CredentialIssuanceRule").is_none());
    }

    #[test]
    fn cloudformation_organisation() {
        let out = generate_ok(&AlertOptions {
            format: Format::CloudFormation,
            central_bus: Some(BUS.into()),
            ..AlertOptions::default()
        });
        let t: Value = serde_json::from_str(&out.text).unwrap();
        let r = &t["Resources"];
        assert!(r.get("AlertTopic").is_none());
        let target = &r["CredentialIssuanceRule"]["Properties"]["Targets"][0];
        assert_eq!(target["Arn"], BUS);
        assert_eq!(
            target["RoleArn"],
            json!({"Fn::GetAtt": ["ForwardRole", "Arn"]})
        );
        assert_eq!(
            r["ForwardRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]["Resource"],
            BUS
        );
        assert_eq!(out.notes.len(), 1);
    }

    #[test]
    fn terraform_variants() {
        let out = generate_ok(&AlertOptions {
            format: Format::Terraform,
            ..AlertOptions::default()
        });
        let t: Value = serde_json::from_str(&out.text).unwrap();
        let rule = &t["resource"]["aws_cloudwatch_event_rule"]["keyless_credential_issuance"];
        assert_eq!(rule["provider"], "aws.us_east_1");
        let pattern: Value = serde_json::from_str(rule["event_pattern"].as_str().unwrap()).unwrap();
        assert_eq!(pattern, issuance_pattern());
        assert_eq!(t["provider"]["aws"][0]["region"], "us-east-1");
        let org = generate_ok(&AlertOptions {
            format: Format::Terraform,
            central_bus: Some(BUS.into()),
            ..AlertOptions::default()
        });
        let t: Value = serde_json::from_str(&org.text).unwrap();
        let target = &t["resource"]["aws_cloudwatch_event_target"]["keyless_guardrail_denied"];
        assert_eq!(target["arn"], BUS);
        assert_eq!(target["role_arn"], "${aws_iam_role.keyless_forward.arn}");
        assert!(t["resource"].get("aws_sns_topic").is_none());
    }

    #[test]
    fn terraform_literals_are_escaped() {
        assert_eq!(tf_literal("a${b}%{c}"), "a$${b}%%{c}");
        assert_eq!(tf_literal("$or"), "$or");
    }

    #[test]
    fn bad_option_values() {
        for bus in [
            "arn:aws:events:us-east-1:111122223333:rule/x",
            "arn:aws:events:us-east-1:*:event-bus/x",
            "arn:aws:sns:us-east-1:111122223333:event-bus/x",
            "arn:aws:events::111122223333:event-bus/x",
            "event-bus/x",
        ] {
            let err = generate(&AlertOptions {
                central_bus: Some(bus.into()),
                ..AlertOptions::default()
            })
            .unwrap_err();
            assert!(err.is_usage(), "{bus}");
            assert!(err.to_string().starts_with("--central-bus "), "{err}");
            assert!(
                err.hint()
                    .unwrap_or_default()
                    .contains("arn:aws:events:REGION:ACCOUNT:event-bus/NAME"),
                "{err}"
            );
        }
        let err = generate(&AlertOptions {
            sns_topic_name: "a topic".into(),
            ..AlertOptions::default()
        })
        .unwrap_err();
        assert!(err.is_usage());
        assert!(err.to_string().starts_with("--sns-topic-name: "), "{err}");
    }
}
