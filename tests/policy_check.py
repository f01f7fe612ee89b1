#!/usr/bin/env python3
"""Checks what `keyless policy` generated, with real tools.

Usage: policy_check.py DIR

DIR holds the outputs of `keyless policy`:
  scp*.json, rcp*.json   policies: linted with parliament (no finding allowed)
  *.cfn.json             CloudFormation templates: cfn-lint, and parliament on
                         every policy document inside them
  *.tf.json              Terraform JSON: every reference resolves, parliament on
                         every aws_iam_policy_document
  pattern*.json          EventBridge patterns: routed on a moto server started
                         here on a random port (PutRule, an SQS target,
                         PutEvents with CloudTrail-shaped events); the patterns
                         inside the templates must be the same ones

Exit 0: all checks passed; 1: a check failed; 3: a Python package is missing
(tests/run installs them).
"""

import json
import logging
import os
import re
import subprocess
import sys
import uuid

PACKAGES = {"parliament": "parliament", "boto3": "boto3", "moto": "moto[server]", "cfnlint": "cfn-lint"}

missing = []
for module, package in PACKAGES.items():
    try:
        __import__(module)
    except ImportError:
        missing.append(package)
try:
    import flask  # noqa: F401  (moto's server needs it)
except ImportError:
    if "moto[server]" not in missing:
        missing.append("moto[server]")
if missing:
    print(
        "policy_check: missing Python packages: %s. tests/run installs them; by hand: "
        "python3 -m pip install %s" % (", ".join(missing), " ".join("'%s'" % p for p in missing)),
        file=sys.stderr,
    )
    sys.exit(3)

import boto3  # noqa: E402
import parliament  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

FAILURES = []
PASSED = []
ACCOUNT = "111122223333"
SCP_LIMIT = 5120


def check(condition, what):
    (PASSED if condition else FAILURES).append(what)
    if condition:
        print("ok: " + what)
    else:
        print("FAIL: " + what, file=sys.stderr)


# parliament reads every document as an identity policy, which must name a
# Resource. A role's trust policy never does (IAM refuses one that does), so
# for trust policies, and for them only, that one finding is expected.
TRUST_POLICY_FINDING = "MALFORMED: Statement contains neither Resource nor NotResource"


def lint(policy, where, trust=False):
    """parliament's findings on one policy document, community auditors included."""
    result = parliament.analyze_policy_string(json.dumps(policy), include_community_auditors=True)
    findings = ["%s: %s" % (f.issue, f.detail) for f in result.findings]
    if trust:
        check(findings.count(TRUST_POLICY_FINDING) == len(policy["Statement"]), "%s: parliament reads it as a trust policy" % where)
        findings = [f for f in findings if f != TRUST_POLICY_FINDING]
    check(not findings, "parliament finds nothing in %s %s" % (where, findings if findings else ""))


def sample_arn(name):
    return "arn:aws:iam::%s:role/sample-%s" % (ACCOUNT, re.sub(r"[^A-Za-z0-9]", "-", name))


def resolve_cfn(node):
    """Replaces CloudFormation intrinsics by sample values so the policy can be linted."""
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            ref = node["Ref"]
            if ref == "AWS::AccountId":
                return ACCOUNT
            if ref == "AlertTopic":
                return "arn:aws:sns:us-east-1:%s:keyless-key-alerts" % ACCOUNT
            return sample_arn(ref)
        if set(node) == {"Fn::GetAtt"}:
            name = node["Fn::GetAtt"][0]
            if name.endswith("Rule"):
                return "arn:aws:events:us-east-1:%s:rule/%s" % (ACCOUNT, name)
            return sample_arn(name)
        return {k: resolve_cfn(v) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve_cfn(v) for v in node]
    return node


def resolve_tf(text):
    if not isinstance(text, str):
        return text
    if text == "${data.aws_caller_identity.current.account_id}":
        return ACCOUNT
    if text.startswith("${aws_cloudwatch_event_rule."):
        return "arn:aws:events:us-east-1:%s:rule/%s" % (ACCOUNT, text.split(".")[1])
    if text.startswith("${aws_sns_topic."):
        return "arn:aws:sns:us-east-1:%s:keyless-key-alerts" % ACCOUNT
    return text.replace("$${", "${")


def tf_policy_document(block):
    """An aws_iam_policy_document data block as the IAM JSON Terraform renders."""
    statements = []
    for s in block["statement"]:
        out = {"Sid": s["sid"], "Effect": s["effect"], "Action": s["actions"]}
        if "principals" in s:
            out["Principal"] = {p["type"]: p["identifiers"] for p in s["principals"]}
        if "resources" in s:
            out["Resource"] = [resolve_tf(r) for r in s["resources"]]
        for c in s.get("condition", []):
            out.setdefault("Condition", {}).setdefault(c["test"], {})[c["variable"]] = [
                resolve_tf(v) for v in c["values"]
            ]
        statements.append(out)
    return {"Version": "2012-10-17", "Statement": statements}


def check_policies(directory, names):
    for name in names:
        text = open(os.path.join(directory, name)).read().rstrip("\n")
        policy = json.loads(text)
        check(json.dumps(policy, separators=(",", ":")) == text, "%s is minified" % name)
        check(len(text) <= SCP_LIMIT, "%s is %d characters, within %d" % (name, len(text), SCP_LIMIT))
        check("UserAgent" not in text, "%s does not use aws:UserAgent" % name)
        statements = policy["Statement"]
        if name.startswith("scp"):
            check(all("Principal" not in s and "NotPrincipal" not in s for s in statements), "%s has no Principal" % name)
        else:
            check(all(s.get("Principal") == "*" for s in statements), "%s has Principal * everywhere" % name)
        lint(policy, name)


def check_cloudformation(directory, names):
    paths = [os.path.join(directory, n) for n in names]
    # cfn-lint's own entry point, run by this interpreter (no PATH lookup).
    runner = "import sys; from cfnlint.runner import main; sys.argv[0] = 'cfn-lint'; sys.exit(main())"
    run = subprocess.run([sys.executable, "-c", runner, "--", *paths], capture_output=True, text=True)
    check(run.returncode == 0, "cfn-lint passes on %s%s" % (", ".join(names), "" if run.returncode == 0 else ":\n" + run.stdout + run.stderr))
    # And cfn-lint does refuse a broken template (self-test).
    broken = os.path.join(directory, "..", "keyless-broken-template.json")
    template = json.load(open(paths[0]))
    template["Resources"]["Broken"] = {"Type": "AWS::Events::Rulez", "Properties": {}}
    json.dump(template, open(broken, "w"))
    run = subprocess.run([sys.executable, "-c", runner, "--", broken], capture_output=True, text=True)
    os.unlink(broken)
    check(run.returncode != 0, "cfn-lint refuses a template with an unknown resource type (self-test)")
    patterns = []
    for name, path in zip(names, paths):
        template = json.load(open(path))
        for logical_id, resource in template["Resources"].items():
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::SNS::TopicPolicy":
                lint(resolve_cfn(props["PolicyDocument"]), "%s %s" % (name, logical_id))
            if resource["Type"] == "AWS::IAM::Role":
                lint(resolve_cfn(props["AssumeRolePolicyDocument"]), "%s %s trust policy" % (name, logical_id), trust=True)
                for p in props.get("Policies", []):
                    lint(resolve_cfn(p["PolicyDocument"]), "%s %s %s" % (name, logical_id, p["PolicyName"]))
            if resource["Type"] == "AWS::Events::Rule":
                patterns.append((props["Name"], props["EventPattern"], "%s %s" % (name, logical_id)))
    return patterns


TF_REFERENCE = re.compile(r"(?<!\$)\$\{([^}]*)\}")


def check_terraform(directory, names):
    patterns = []
    for name in names:
        doc = json.load(open(os.path.join(directory, name)))
        defined = set()
        for kind, blocks in doc.get("resource", {}).items():
            defined.update("%s.%s" % (kind, b) for b in blocks)
        for kind, blocks in doc.get("data", {}).items():
            defined.update("data.%s.%s" % (kind, b) for b in blocks)
        defined.update("var.%s" % v for v in doc.get("variable", {}))
        unresolved = []

        def walk(node):
            if isinstance(node, dict):
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
            elif isinstance(node, str):
                for expr in TF_REFERENCE.findall(node):
                    for ref in re.findall(r"\b((?:data\.)?[a-z_]+\.[a-z_0-9]+)(?:\.|\b)", expr):
                        if ref.split(".")[0] in ("aws", "var", "data") or ref.startswith("aws_"):
                            if ref not in defined and not ref.startswith("aws."):
                                unresolved.append(ref)

        walk(doc)
        check(not unresolved, "every reference in %s resolves %s" % (name, unresolved or ""))
        providers = {p.get("alias") for p in doc.get("provider", {}).get("aws", [])}
        for kind, blocks in list(doc.get("resource", {}).items()) + list(doc.get("data", {}).items()):
            for block_name, block in blocks.items():
                provider = block.get("provider")
                check(provider is None or provider.split(".")[1] in providers, "%s %s.%s names a configured provider" % (name, kind, block_name))
        for block_name, block in doc.get("data", {}).get("aws_iam_policy_document", {}).items():
            trust = any("sts:AssumeRole" in s["actions"] for s in block["statement"])
            lint(tf_policy_document(block), "%s %s" % (name, block_name), trust=trust)
        for block_name, block in doc["resource"].get("aws_cloudwatch_event_rule", {}).items():
            patterns.append((block["name"], json.loads(block["event_pattern"].replace("$${", "${")), "%s %s" % (name, block_name)))
    return patterns


# CloudTrail records as EventBridge delivers them ("AWS API Call via CloudTrail").
IAM_USER = {
    "type": "IAMUser",
    "principalId": "AIDAYZTESTEXAMPLEUSER",
    "arn": "arn:aws:iam::%s:user/alice" % ACCOUNT,
    "accountId": ACCOUNT,
    "accessKeyId": "AKIAYZTESTEXAMPLEKEY",
    "userName": "alice",
}
SSO_ROLE = "AWSReservedSSO_PlatformAdmin_0123456789abcdef"
SSO_SESSION = {
    "type": "AssumedRole",
    "principalId": "AROAYZTESTEXAMPLEROLE:bob@example.com",
    "arn": "arn:aws:sts::%s:assumed-role/%s/bob@example.com" % (ACCOUNT, SSO_ROLE),
    "accountId": ACCOUNT,
    "accessKeyId": "ASIAYZTESTEXAMPLESESS",
    "sessionContext": {
        "sessionIssuer": {
            "type": "Role",
            "principalId": "AROAYZTESTEXAMPLEROLE",
            "arn": "arn:aws:iam::%s:role/aws-reserved/sso.amazonaws.com/eu-west-1/%s" % (ACCOUNT, SSO_ROLE),
            "accountId": ACCOUNT,
            "userName": SSO_ROLE,
        },
        "attributes": {"creationDate": "2026-11-30T09:58:01Z", "mfaAuthenticated": "false"},
    },
}
SCP_DENIED = (
    "User: arn:aws:iam::%s:user/alice is not authorized to perform: iam:CreateAccessKey on resource: "
    "user alice with an explicit deny in a service control policy" % ACCOUNT
)
RCP_DENIED = (
    "User: arn:aws:iam::444455556666:user/etl is not authorized to perform: kms:Decrypt on resource: "
    "arn:aws:kms:eu-west-1:%s:key/1234abcd-12ab-34cd-56ef-1234567890ab with an explicit deny in a "
    "resource control policy" % ACCOUNT
)
IDENTITY_DENIED = (
    "User: arn:aws:iam::%s:user/alice is not authorized to perform: iam:CreateAccessKey on resource: "
    "user alice because no identity-based policy allows the iam:CreateAccessKey action" % ACCOUNT
)


def cloudtrail(label, event_name, identity, request, response=None, service="iam", region="us-east-1", error=None):
    detail = {
        "eventVersion": "1.10",
        "userIdentity": identity,
        "eventTime": "2026-11-30T10:00:00Z",
        "eventSource": "%s.amazonaws.com" % service,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.22.0 md/awscrt#0.23.4 ua/2.0 os/linux#6.8.0",
        "requestParameters": request,
        "responseElements": response,
        "requestID": str(uuid.uuid4()),
        "eventID": label,
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    if error:
        detail["errorCode"], detail["errorMessage"] = error
        detail["responseElements"] = None
    return {
        "Source": "aws.%s" % service,
        "DetailType": "AWS API Call via CloudTrail",
        "Detail": json.dumps(detail),
        "Resources": [],
    }


def events():
    key = {"userName": "alice", "accessKeyId": "AKIAYZTESTEXAMPLENEW", "status": "Active", "createDate": "Nov 30, 2026 10:00:00 AM"}
    return [
        ("CreateAccessKey", cloudtrail("create-access-key", "CreateAccessKey", IAM_USER, {"userName": "alice"}, {"accessKey": key})),
        ("UpdateAccessKey to Active", cloudtrail("reactivate-key", "UpdateAccessKey", SSO_SESSION, {"userName": "alice", "accessKeyId": "AKIAYZTESTEXAMPLEOLD", "status": "Active"})),
        ("CreateUser", cloudtrail("create-user", "CreateUser", SSO_SESSION, {"userName": "ci-bot", "path": "/"}, {"user": {"path": "/", "userName": "ci-bot", "userId": "AIDAYZTESTEXAMPLECIBOT", "arn": "arn:aws:iam::%s:user/ci-bot" % ACCOUNT, "createDate": "Nov 30, 2026 10:00:00 AM"}})),
        ("CreateLoginProfile", cloudtrail("create-login-profile", "CreateLoginProfile", SSO_SESSION, {"userName": "ci-bot", "passwordResetRequired": True}, {"loginProfile": {"userName": "ci-bot", "createDate": "Nov 30, 2026 10:00:00 AM", "passwordResetRequired": True}})),
        ("CreateServiceSpecificCredential", cloudtrail("create-service-credential", "CreateServiceSpecificCredential", IAM_USER, {"userName": "alice", "serviceName": "codecommit.amazonaws.com"})),
        ("UpdateAccessKey to Inactive", cloudtrail("deactivate-key", "UpdateAccessKey", SSO_SESSION, {"userName": "alice", "accessKeyId": "AKIAYZTESTEXAMPLEOLD", "status": "Inactive"})),
        ("DeleteAccessKey", cloudtrail("delete-access-key", "DeleteAccessKey", IAM_USER, {"userName": "alice", "accessKeyId": "AKIAYZTESTEXAMPLEOLD"})),
        ("CreateAccessKey denied by the SCP", cloudtrail("create-access-key-scp-denied", "CreateAccessKey", IAM_USER, {"userName": "alice"}, error=("AccessDenied", SCP_DENIED))),
        ("CreateAccessKey denied by an identity policy", cloudtrail("create-access-key-iam-denied", "CreateAccessKey", IAM_USER, {"userName": "alice"}, error=("AccessDenied", IDENTITY_DENIED))),
        ("kms:Decrypt denied by the RCP", cloudtrail("kms-rcp-denied", "Decrypt", IAM_USER, {"keyId": "1234abcd"}, service="kms", region="eu-west-1", error=("AccessDeniedException", RCP_DENIED))),
        ("an unrelated service (ec2 RunInstances)", cloudtrail("ec2-run-instances", "RunInstances", SSO_SESSION, {"instanceType": "t3.micro"}, service="ec2", region="eu-west-1")),
    ]


EXPECTED = {
    "keyless-credential-issuance": {"create-access-key", "reactivate-key", "create-user", "create-login-profile", "create-service-credential"},
    "keyless-guardrail-denied": {"create-access-key-scp-denied", "kms-rcp-denied"},
}
# What the pitfall pattern lets through: only the calls made by role sessions.
PITFALL_EXPECTED = {"reactivate-key", "create-user", "create-login-profile"}


def route(patterns):
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = "http://%s:%d" % (host, port)
        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
        eb = session.client("events", endpoint_url=endpoint)
        sqs = session.client("sqs", endpoint_url=endpoint)
        all_events = events()
        labels = {json.loads(e["Detail"])["eventID"]: what for what, e in all_events}
        for index, (rule_name, pattern, where) in enumerate(patterns):
            queue = sqs.create_queue(QueueName="keyless-check-%d" % index)["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            name = "%s-%d" % (rule_name, index)
            eb.put_rule(Name=name, EventPattern=json.dumps(pattern), State="ENABLED")
            eb.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": queue_arn}])
            for _, event in all_events:
                answer = eb.put_events(Entries=[event])
                check(answer["FailedEntryCount"] == 0, "PutEvents accepted the event")
            arrived = set()
            for _ in range(5):
                got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
                if not got:
                    break
                for m in got:
                    arrived.add(json.loads(m["Body"])["detail"]["eventID"])
                    sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
            expected = EXPECTED.get(rule_name, PITFALL_EXPECTED)
            for label, what in labels.items():
                should = label in expected
                check(
                    (label in arrived) == should,
                    "%s: %s %s" % (where, what, "arrives" if should else "does not arrive"),
                )
            eb.remove_targets(Rule=name, Ids=["queue"])
            eb.delete_rule(Name=name)
    finally:
        server.stop()


def self_test():
    """The linters would say so if something were wrong: fail if they cannot."""
    broken = {"Version": "2012-10-17", "Statement": [{"Sid": "X", "Effect": "Deny", "Action": "iam:CreateAccessKeys", "Resource": "*"}]}
    found = parliament.analyze_policy_string(json.dumps(broken)).findings
    check(any(f.issue == "UNKNOWN_ACTION" for f in found), "parliament flags an unknown action (self-test)")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    directory = sys.argv[1]
    names = sorted(os.listdir(directory))
    self_test()
    policies = [n for n in names if re.match(r"^(scp|rcp).*\.json$", n)]
    templates = [n for n in names if n.endswith(".cfn.json")]
    terraform = [n for n in names if n.endswith(".tf.json")]
    pattern_files = [n for n in names if n.startswith("pattern") and n.endswith(".json")]
    for kind, found in [("policies", policies), ("templates", templates), ("terraform", terraform), ("patterns", pattern_files)]:
        check(bool(found), "there are %s to check" % kind)
    check_policies(directory, policies)

    reference = {}
    for name in pattern_files:
        doc = json.load(open(os.path.join(directory, name)))
        entries = doc.items() if all(k.startswith("keyless-") for k in doc) else [(name[len("pattern-"):-len(".json")], doc)]
        for rule_name, pattern in entries:
            if rule_name in reference:
                check(reference[rule_name] == pattern, "%s: %s is the same pattern as before" % (name, rule_name))
            reference[rule_name] = pattern
    check(set(reference) == set(EXPECTED), "patterns for both rules: %s" % sorted(reference))
    if set(reference) != set(EXPECTED):
        print("policy_check: %d passed, %d failed" % (len(PASSED), len(FAILURES)))
        return 1
    embedded = check_cloudformation(directory, templates) + check_terraform(directory, terraform)
    for rule_name, pattern, where in embedded:
        check(reference.get(rule_name) == pattern, "%s carries the %s pattern" % (where, rule_name))

    # The pitfall the generated patterns avoid, shown on the same server: an
    # anything-but on sessionIssuer.arn (to leave out a break-glass role)
    # also drops every key an IAM user creates, since those events have no
    # such field. This also proves the router can refuse an event.
    pitfall = json.loads(json.dumps(reference.get("keyless-credential-issuance", {})))
    pitfall.setdefault("detail", {})["userIdentity"] = {
        "sessionContext": {"sessionIssuer": {"arn": [{"anything-but": ["arn:aws:iam::%s:role/BreakGlass" % ACCOUNT]}]}}
    }
    route(
        [(rule_name, pattern, name) for rule_name, pattern in sorted(reference.items())]
        + embedded
        + [("anything-but-pitfall", pitfall, "a pattern excluding BreakGlass with anything-but")]
    )

    print("policy_check: %d passed, %d failed" % (len(PASSED), len(FAILURES)))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
