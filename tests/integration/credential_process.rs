//! `keyless credential-process`: output contract, caching, concurrency,
//! faults and the refusal of anything that is not temporary.

use std::time::Duration;

use serde_json::json;

use crate::harness::{KEYLESS, Run};
use crate::world;

#[test]
fn output_is_one_json_object_with_temporary_credentials() {
    let w = world!();
    w.login();
    let run = w.run(&["credential-process", "--profile", "dev"]);
    run.success();
    let v = run.process_json();
    assert_eq!(v["Version"], json!(1));
    let id = v["AccessKeyId"].as_str().unwrap();
    assert!(id.starts_with("ASIA") && id.len() == 20, "{id}");
    assert_eq!(v["SecretAccessKey"].as_str().unwrap().len(), 40);
    assert!(v["SessionToken"].as_str().unwrap().len() > 100);
    let exp = v["Expiration"].as_str().unwrap();
    assert!(exp.ends_with('Z') && exp.len() == 20, "{exp}");
    assert!(
        run.stderr().is_empty(),
        "nothing on stderr without -v: {}",
        run.stderr()
    );
}

#[test]
fn explicit_form_needs_no_profile() {
    let w = world!();
    w.login();
    let run = w.run(&[
        "credential-process",
        "--sso-session",
        "corp",
        "--account-id",
        "444455556666",
        "--role-name",
        "ReadOnly",
    ]);
    run.success();
    assert_eq!(run.process_json()["AccountId"], "444455556666");
}

#[test]
fn accepted_by_the_rust_sdk_credential_process_provider() {
    use aws_credential_types::provider::ProvideCredentials;
    let w = world!();
    w.login();
    let mut command = String::new();
    for (k, v) in [
        ("HOME", w.home.path().display().to_string()),
        ("AWS_CONFIG_FILE", w.config_path().display().to_string()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            w.credentials_path().display().to_string(),
        ),
        (
            "XDG_STATE_HOME",
            w.home.path().join(".local/state").display().to_string(),
        ),
        ("DBUS_SESSION_BUS_ADDRESS", w.keyring().bus_address.clone()),
        ("KEYLESS_KEYRING_NAMESPACE", w.namespace.clone()),
        ("AWS_ENDPOINT_URL_SSO", w.emulator().url.clone()),
        ("AWS_ENDPOINT_URL_SSO_OIDC", w.emulator().url.clone()),
    ] {
        command.push_str(&format!("{k}='{v}' "));
    }
    command.push_str(&format!("'{KEYLESS}' credential-process --profile dev"));
    let provider = aws_config::credential_process::CredentialProcessProvider::new(command);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let creds = rt
        .block_on(provider.provide_credentials())
        .expect("the SDK accepts the output");
    assert!(creds.access_key_id().starts_with("ASIA"));
    assert!(creds.session_token().is_some_and(|t| t.len() > 100));
    let expiry = creds.expiry().expect("an expiry");
    let left = expiry.duration_since(std::time::SystemTime::now()).unwrap();
    assert!(left > Duration::from_secs(50 * 60), "{left:?}");
}

fn spawn_many(w: &crate::harness::World, n: usize) -> Vec<Run> {
    let children: Vec<_> = (0..n)
        .map(|_| {
            w.command(&["credential-process", "--profile", "dev"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            Run::wait(
                c,
                &["credential-process", "--profile", "dev"],
                Duration::from_secs(120),
            )
        })
        .collect()
}

#[test]
fn thirty_concurrent_calls_fetch_once() {
    let w = world!();
    w.login();
    let runs = spawn_many(&w, 30);
    let mut ids = std::collections::BTreeSet::new();
    for run in &runs {
        run.success();
        ids.insert(
            run.process_json()["AccessKeyId"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(ids.len(), 1, "all 30 print the same credentials");
    assert_eq!(w.emulator().count("GetRoleCredentials"), 1);
}

#[test]
fn thirty_concurrent_calls_refresh_the_token_once() {
    let w = world!();
    // a token that is already inside the five-minute refresh window
    w.emulator()
        .control("/_keyless/config", json!({"accessTokenTtlSecs": 200}));
    w.login();
    w.emulator()
        .control("/_keyless/config", json!({"accessTokenTtlSecs": 28800}));
    let before = w.emulator().count("CreateToken");
    let runs = spawn_many(&w, 30);
    for run in &runs {
        run.success();
        run.process_json();
    }
    assert_eq!(w.emulator().count("CreateToken") - before, 1, "one refresh");
    assert_eq!(w.emulator().count("GetRoleCredentials"), 1);
}

#[test]
fn portal_401_refreshes_once_and_retries_once() {
    let w = world!();
    w.login();
    w.emulator().control(
        "/_keyless/faults",
        json!({"operation": "GetRoleCredentials", "kind": "unauthorized", "count": 1}),
    );
    let run = w.run(&["credential-process", "--profile", "dev"]);
    run.success();
    run.process_json();
    assert_eq!(w.emulator().count("GetRoleCredentials"), 2);
    assert_eq!(w.emulator().count("CreateToken"), 2, "login + one refresh");
}

#[test]
fn invalid_grant_on_refresh_asks_for_login() {
    let w = world!();
    w.emulator()
        .control("/_keyless/config", json!({"accessTokenTtlSecs": 60}));
    w.login();
    w.emulator().control(
        "/_keyless/faults",
        json!({"operation": "CreateToken", "kind": "error", "error": "InvalidGrantException", "grantType": "refresh_token"}),
    );
    // the access token has a minute left but the portal refuses it
    w.emulator().control(
        "/_keyless/faults",
        json!({"operation": "GetRoleCredentials", "kind": "unauthorized", "count": 1}),
    );
    let run = w.run(&["credential-process", "--profile", "dev"]);
    run.failure(1);
    assert!(run.stdout().is_empty(), "{}", run.stdout());
    assert!(
        run.stderr()
            .contains("\nhint: run `keyless login --sso-session corp`"),
        "{}",
        run.stderr()
    );
}

#[test]
fn server_errors_and_throttling_are_retried() {
    let w = world!();
    w.login();
    w.emulator().control(
        "/_keyless/faults",
        json!([
            {"operation": "GetRoleCredentials", "kind": "internal", "count": 1},
            {"operation": "GetRoleCredentials", "kind": "throttle", "count": 1}
        ]),
    );
    let run = w.run(&["credential-process", "--profile", "dev"]);
    run.success();
    run.process_json();
    assert_eq!(w.emulator().count("GetRoleCredentials"), 3);
}

#[test]
fn not_signed_in_names_the_login_command() {
    let w = world!();
    let run = w.run(&["credential-process", "--profile", "dev"]);
    run.failure(1);
    assert!(run.stdout().is_empty());
    assert_eq!(
        run.stderr().trim(),
        "keyless: not signed in to sso-session 'corp' (or the session expired)\n\
         hint: run `keyless login --sso-session corp`"
    );
    assert_eq!(w.emulator().count("GetRoleCredentials"), 0);
}

#[test]
fn auto_login_signs_in_and_prints_credentials() {
    let w = world!();
    let run = w.run(&["credential-process", "--profile", "dev", "--auto-login"]);
    run.success();
    run.process_json();
    assert_eq!(w.emulator().count("StartDeviceAuthorization"), 1);
}

#[test]
fn static_key_profiles_are_refused() {
    let w = world!();
    w.write_credentials("[legacy]\naws_access_key_id = AKIAY34FZKBOKMUTVV7A\naws_secret_access_key = SENTINELsecretSENTINELsecretSENTINELsecre\n");
    let run = w.run(&["credential-process", "--profile", "legacy"]);
    run.failure(1);
    assert!(run.stdout().is_empty(), "{}", run.stdout());
    let err = run.stderr();
    assert!(
        err.starts_with("keyless: profile 'legacy' uses a long-lived access key")
            && err.contains("\nhint: switch to IAM Identity Center: `keyless onboard`")
            && err.contains("`keyless retire --profile legacy`"),
        "{err}"
    );
    assert!(!err.contains("SENTINEL"), "{err}");
}

#[test]
fn long_lived_or_tokenless_credentials_from_the_server_are_refused() {
    for patch in [
        json!({"accessKeyPrefix": "AKIA"}),
        json!({"omitSessionToken": true}),
    ] {
        let w = world!();
        w.login();
        w.emulator().control("/_keyless/config", patch.clone());
        let run = w.run(&["credential-process", "--profile", "dev"]);
        run.failure(1);
        assert!(run.stdout().is_empty(), "{patch}: {}", run.stdout());
        assert!(
            run.stderr().contains("refusing"),
            "{patch}: {}",
            run.stderr()
        );
        // nothing was cached: a later call asks again
        w.run(&["credential-process", "--profile", "dev"])
            .failure(1);
        assert_eq!(w.emulator().count("GetRoleCredentials"), 2, "{patch}");
    }
}

#[test]
fn unreachable_identity_center_is_a_clear_error() {
    let mut w = world!();
    w.login();
    w.extra_env
        .push(("AWS_ENDPOINT_URL_SSO".into(), "http://127.0.0.1:9".into()));
    let run = w.run(&["credential-process", "--profile", "dev"]);
    run.failure(1);
    assert!(run.stdout().is_empty());
    assert!(
        run.stderr().contains("could not reach IAM Identity Center"),
        "{}",
        run.stderr()
    );
}

/// botocore (the AWS CLI's and boto3's core) as a consumer: it runs
/// `credential_process` without a shell, needs `Version` 1, case-sensitive
/// keys and a timezone in `Expiration`.
#[test]
fn accepted_by_botocore() {
    let w = world!();
    let probe = std::process::Command::new("python3")
        .args(["-c", "import botocore"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        panic!(
            "botocore is not installed: tests/run installs it (python3 -m pip install botocore)"
        );
    }
    w.login();
    let script = r#"
import botocore.session, json
s = botocore.session.Session(profile="dev")
c = s.get_credentials()
f = c.get_frozen_credentials()
print(json.dumps({"method": c.method, "key": f.access_key, "token": len(f.token or ""),
                  "expiry": str(getattr(c, "_expiry_time", ""))}))
"#;
    let child = w
        .command_for("python3", &["-c", script])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let run = Run::wait(child, &["python3 (botocore)"], Duration::from_secs(60));
    run.success();
    let v: serde_json::Value =
        serde_json::from_str(run.stdout().trim()).unwrap_or_else(|_| panic!("{}", run.stdout()));
    assert_eq!(v["method"], "custom-process");
    assert!(v["key"].as_str().unwrap().starts_with("ASIA"), "{v}");
    assert!(v["token"].as_u64().unwrap() > 100, "{v}");
    assert!(v["expiry"].as_str().unwrap().contains("+00:00"), "{v}");
}

/// AWS-CLI-style SSO profiles, both the sso-session form and the legacy
/// inline form, when keyless is pointed at them.
#[test]
fn aws_cli_sso_profiles_resolve() {
    let w = world!();
    let mut config = crate::harness::standard_config();
    config.push_str(&format!(
        "\n[profile cli]\nsso_session = corp\nsso_account_id = 444455556666\nsso_role_name = ReadOnly\n\
         \n[profile legacy]\nsso_start_url = {}\nsso_region = us-east-1\n\
         sso_account_id = 777788889999\nsso_role_name = ReadOnly\n",
        crate::harness::START_URL
    ));
    w.write_config(&config);
    w.login();
    let run = w.run(&["credential-process", "--profile", "cli"]);
    run.success();
    assert_eq!(run.process_json()["AccountId"], "444455556666");

    // the legacy form is its own session, keyed by the start URL
    let run = w.run(&["credential-process", "--profile", "legacy"]);
    run.failure(1);
    assert!(
        run.stderr().contains("keyless login --profile legacy"),
        "{}",
        run.stderr()
    );
    w.run(&["login", "--profile", "legacy", "--no-browser"])
        .success();
    let run = w.run(&["credential-process", "--profile", "legacy"]);
    run.success();
    assert_eq!(run.process_json()["AccountId"], "777788889999");
}

#[test]
fn concurrent_auto_logins_start_one_device_flow() {
    let w = world!();
    w.emulator().control(
        "/_keyless/config",
        json!({"approval": {"mode": "auto", "afterPolls": 2}, "pollIntervalSecs": 1}),
    );
    let args = ["credential-process", "--profile", "dev", "--auto-login"];
    let children: Vec<_> = (0..6)
        .map(|_| {
            w.command(&args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let run = Run::wait(child, &args, Duration::from_secs(120));
        run.success();
        run.process_json();
    }
    assert_eq!(w.emulator().count("StartDeviceAuthorization"), 1);
    assert_eq!(w.emulator().count("GetRoleCredentials"), 1);
}

/// A plain command line on a cache hit takes a shorter path (no clap tree,
/// no logging set up): its output is byte for byte that of the full path,
/// and asking for logs (`-vv`, `KEYLESS_LOG`) still shows the hit's events.
#[test]
fn a_cache_hit_prints_and_logs_the_same_on_every_path() {
    let w = world!();
    w.login();
    w.run(&["credential-process", "--profile", "dev"]).success();
    let plain = w.run(&["credential-process", "--profile", "dev"]);
    plain.success();
    assert!(plain.stderr().is_empty(), "{}", plain.stderr());
    let inline = w.run(&["credential-process", "--profile=dev"]);
    let full = w.run(&["--quiet", "credential-process", "--profile", "dev"]);
    let verbose = w.run(&["-vv", "credential-process", "--profile", "dev"]);
    for run in [&inline, &full, &verbose] {
        run.success();
        assert_eq!(run.stdout(), plain.stdout());
    }
    assert_eq!(w.emulator().count("GetRoleCredentials"), 1, "all hits");
    assert!(
        verbose
            .stderr()
            .contains("role credentials from the kernel keyring"),
        "-vv shows the hit: {}",
        verbose.stderr()
    );
    let logged = w
        .command(&["credential-process", "--profile", "dev"])
        .env("KEYLESS_LOG", "debug")
        .output()
        .unwrap();
    assert!(logged.status.success());
    assert_eq!(String::from_utf8_lossy(&logged.stdout), plain.stdout());
    let logs = String::from_utf8_lossy(&logged.stderr);
    assert!(
        logs.contains("role credentials from the kernel keyring"),
        "KEYLESS_LOG=debug shows the hit: {logs}"
    );
    // A command line the short path leaves to clap is still clap's.
    let usage = w.run(&["credential-process", "--profile", "dev", "--profile", "ops"]);
    assert_eq!(usage.code(), 2, "{}", usage.stderr());
}
