//! `AWS_ENDPOINT_URL_SSO` and `AWS_ENDPOINT_URL_SSO_OIDC` route clients
//! built by `aws_config::defaults` to the emulator. The environment of this
//! process cannot be changed safely, so the test runs this test binary again
//! as a child with the variables set, and the child runs the ignored test
//! below.

use std::process::Command;

use super::super::{EmulatorConfig, Operation};
use super::*;

const CHILD_TEST: &str = "emulator::tests::env_routing::child_clients_from_environment";
const MARKER_VAR: &str = "KEYLESS_TEST_EMULATOR_MARKER";
const MARKER: &str = "SENTINELenv7";

#[tokio::test]
async fn endpoint_variables_route_default_clients_to_the_emulator() {
    let emu = emulator(EmulatorConfig {
        secret_marker: MARKER.into(),
        ..approve_at_once()
    })
    .await;
    let home = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut child = child_command(&exe, &emu.url(), home.path());
    // The emulator runs on this thread's runtime: wait for the child elsewhere.
    let output = tokio::task::spawn_blocking(move || child.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "child failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("1 passed"),
        "the child test did not run\n{stdout}"
    );
    let stats = emu.stats();
    assert_eq!(stats.calls(Operation::RegisterClient), 1);
    assert_eq!(stats.calls(Operation::CreateToken), 1);
    assert_eq!(stats.calls(Operation::ListAccounts), 1);
    assert_eq!(stats.calls(Operation::GetRoleCredentials), 1);
}

fn child_command(exe: &std::path::Path, url: &str, home: &std::path::Path) -> Command {
    let mut command = Command::new(exe);
    command
        .args([CHILD_TEST, "--exact", "--ignored", "--test-threads=1"])
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .env("AWS_ENDPOINT_URL_SSO", url)
        .env("AWS_ENDPOINT_URL_SSO_OIDC", url)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env(MARKER_VAR, MARKER);
    command
}

/// Runs as the child of the test above; without its variables it does
/// nothing (the parent checks the emulator saw the calls).
#[tokio::test]
#[ignore = "run by endpoint_variables_route_default_clients_to_the_emulator"]
async fn child_clients_from_environment() {
    let Ok(marker) = std::env::var(MARKER_VAR) else {
        return;
    };
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .no_credentials()
        .load()
        .await;
    let oidc = aws_sdk_ssooidc::Client::new(&shared);
    let sso = aws_sdk_sso::Client::new(&shared);
    let session = login(&oidc).await;
    assert!(session.reg.client_secret.contains(&marker));
    let accounts = sso
        .list_accounts()
        .access_token(&session.access_token)
        .send()
        .await
        .expect("ListAccounts reaches the emulator");
    assert_eq!(accounts.account_list().len(), 3);
    let creds = sso
        .get_role_credentials()
        .access_token(&session.access_token)
        .account_id("111122223333")
        .role_name("ReadOnly")
        .send()
        .await
        .expect("GetRoleCredentials reaches the emulator");
    let secret = creds
        .role_credentials()
        .and_then(|c| c.secret_access_key())
        .unwrap_or_default();
    assert!(secret.contains(&marker));
}
