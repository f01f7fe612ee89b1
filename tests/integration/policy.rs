//! `keyless policy`, run as a platform team runs it: the real binary writes
//! every policy and template variant to a directory, and real tools check
//! them (tests/policy_check.py): parliament lints every policy, cfn-lint
//! every CloudFormation template, and a moto server routes CloudTrail-shaped
//! events through the generated EventBridge patterns.

use std::path::Path;
use std::process::{Command, Output};

const KEYLESS: &str = env!("CARGO_BIN_EXE_keyless");
const CENTRAL_BUS: &str = "arn:aws:events:us-east-1:999988887777:event-bus/keyless-alerts";
const SSO_ADMIN: &str =
    "arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_IdentityAdmin_*";

fn keyless(args: &[&str]) -> Output {
    Command::new(KEYLESS)
        .args(args)
        .env_remove("KEYLESS_LOG")
        .output()
        .expect("run keyless")
}

#[track_caller]
fn stdout_of(args: &[&str]) -> String {
    let out = keyless(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "keyless {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Every variant, named so the checker knows what each file is.
fn variants() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("scp-default.json", vec!["policy", "scp"]),
        ("scp-usage.json", vec!["policy", "scp", "--only", "usage"]),
        (
            "scp-issuance-allowed.json",
            vec![
                "policy",
                "scp",
                "--only",
                "issuance,root",
                "--allow-role",
                SSO_ADMIN,
                "arn:aws:iam::*:role/BreakGlass",
            ],
        ),
        (
            "scp-exempt-path.json",
            vec!["policy", "scp", "--exempt-path", "/legacy/holdouts/"],
        ),
        ("scp-root.json", vec!["policy", "scp", "--only", "root"]),
        ("rcp-default.json", vec!["policy", "rcp"]),
        ("pattern-both.json", vec!["policy", "alert"]),
        (
            "pattern-keyless-credential-issuance.json",
            vec!["policy", "alert", "--rule", "issuance"],
        ),
        (
            "pattern-keyless-guardrail-denied.json",
            vec!["policy", "alert", "--rule", "denied"],
        ),
        (
            "alerts.cfn.json",
            vec!["policy", "alert", "--format", "cloudformation"],
        ),
        (
            "alerts-denied-only.cfn.json",
            vec![
                "policy",
                "alert",
                "--format",
                "cloudformation",
                "--rule",
                "denied",
                "--sns-topic-name",
                "keyless_denied",
            ],
        ),
        (
            "alerts-org.cfn.json",
            vec![
                "policy",
                "alert",
                "--format",
                "cloudformation",
                "--central-bus",
                CENTRAL_BUS,
            ],
        ),
        (
            "alerts.tf.json",
            vec!["policy", "alert", "--format", "terraform"],
        ),
        (
            "alerts-org.tf.json",
            vec![
                "policy",
                "alert",
                "--format",
                "terraform",
                "--central-bus",
                CENTRAL_BUS,
            ],
        ),
    ]
}

/// parliament, cfn-lint and moto on everything the binary generates. Fails
/// (never skips) when the Python packages are missing: tests/run installs them.
#[test]
fn generated_guardrails_pass_parliament_cfn_lint_and_route_on_moto() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, args) in variants() {
        std::fs::write(dir.path().join(name), stdout_of(&args)).expect("write output");
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/policy_check.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(dir.path())
        .output()
        .expect("python3 is needed for the policy checks");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}{stderr}");
    assert_ne!(
        out.status.code(),
        Some(3),
        "Python packages are missing for the policy checks; tests/run installs them: {stderr}"
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "tests/policy_check.py failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(", 0 failed"), "{stdout}");
}

#[test]
fn stdout_is_the_document_and_explanations_go_to_stderr() {
    let out = keyless(&["policy", "scp", "--explain"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let policy: serde_json::Value =
        serde_json::from_str(&stdout).expect("stdout is one JSON document");
    let sids: Vec<&str> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap())
        .collect();
    assert_eq!(
        sids,
        [
            "DenyLongTermKeyUse",
            "DenyCredentialIssuance",
            "DenyRootAccessKeyCreation"
        ]
    );
    for sid in &sids {
        assert!(stderr.contains(&format!("{sid}: ")), "{stderr}");
    }
    assert!(!stdout.contains("UserAgent"));
}

#[test]
fn an_scp_too_large_is_refused_with_the_overshoot_and_the_fixes() {
    let roles: Vec<String> = (0..70)
        .map(|i| format!("arn:aws:iam::*:role/platform/infrastructure-as-code/deployer-{i:03}"))
        .collect();
    let mut args = vec!["policy", "scp", "--allow-role"];
    args.extend(roles.iter().map(String::as_str));
    let out = keyless(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "nothing is printed when the check fails"
    );
    assert!(
        stderr.starts_with("keyless: policy scp: the SCP is "),
        "{stderr}"
    );
    assert!(stderr.contains("over the limit of 5120"), "{stderr}");
    for fix in ["fewer or wider --allow-role", "--only", "--max-size 10240"] {
        assert!(stderr.contains(fix), "{stderr}");
    }
    // With the larger limit the same roles fit.
    args.splice(2..2, ["--max-size", "10240"]);
    let out = keyless(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bad_option_values_exit_2_with_the_fix() {
    for (args, expected) in [
        (
            &[
                "policy",
                "scp",
                "--allow-role",
                "arn:aws:iam::*:role/AWSReservedSSO_Admin_*",
            ][..],
            "\nhint: write arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_Admin_*",
        ),
        (&["policy", "scp", "--only", "everything"][..], "usage"),
        (
            &["policy", "alert", "--central-bus", "keyless-alerts"][..],
            "\nhint: write arn:aws:events:REGION:ACCOUNT:event-bus/NAME",
        ),
        (
            &[
                "policy",
                "alert",
                "--central-bus",
                CENTRAL_BUS,
                "--sns-topic-name",
                "t",
            ][..],
            "cannot be used with",
        ),
    ] {
        let out = keyless(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty());
    }
}

/// Every `keyless policy …` command in docs/rollout.md (code blocks, with
/// their continuation lines, and inline code) runs as shown.
#[test]
fn the_rollout_guide_commands_run() {
    let guide =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rollout.md"))
            .expect("docs/rollout.md");
    // Join continuation lines, then take each `keyless policy` up to the end
    // of its line or inline-code span.
    let joined = guide.replace("\\\n", " ");
    let mut commands = Vec::new();
    for line in joined.lines() {
        let mut rest = line;
        while let Some(at) = rest.find("keyless policy ") {
            let tail = &rest[at + "keyless ".len()..];
            let end = tail.find('`').unwrap_or(tail.len());
            commands.push(tail[..end].to_string());
            rest = &tail[end..];
        }
    }
    let mut ran = 0;
    for command in commands {
        // Redirections go, and the one placeholder for role patterns.
        let command = command
            .split(" > ")
            .next()
            .unwrap()
            .replace(" --allow-role '…'", "");
        if command.contains('[') || command.contains('|') {
            continue; // a synopsis, not a command
        }
        let args: Vec<String> = command
            .split_whitespace()
            .map(|w| w.trim_matches('\'').to_string())
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        stdout_of(&args);
        ran += 1;
    }
    assert!(ran >= 9, "only {ran} commands found in docs/rollout.md");
}
