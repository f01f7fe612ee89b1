//! `keyless logout`.

use crate::world;

#[test]
fn logout_removes_every_item_of_the_session() {
    let w = world!();
    let mut config = crate::harness::standard_config();
    config.push_str(
        "\n[profile ro]\ncredential_process = keyless credential-process --profile ro\n\
         keyless_sso_session = corp\nkeyless_account_id = 444455556666\nkeyless_role_name = ReadOnly\n",
    );
    w.write_config(&config);
    w.login();
    w.run(&["credential-process", "--profile", "dev"]).success();
    w.run(&["credential-process", "--profile", "ro"]).success();
    let before = w.keyring().items();
    assert_eq!(
        before.len(),
        4,
        "session, registration and two roles: {before:?}"
    );

    let run = w.run(&["logout", "--sso-session", "corp"]);
    run.success();
    assert_eq!(w.emulator().count("Logout"), 1);
    let left = w.keyring().items();
    assert!(left.is_empty(), "left behind: {left:?}");

    let after = w.run(&["credential-process", "--profile", "dev"]);
    after.failure(1);
    assert!(after.stdout().is_empty());
    assert!(
        after.stderr().contains("keyless login --sso-session corp"),
        "{}",
        after.stderr()
    );
}

#[test]
fn portal_failure_is_reported_but_not_fatal() {
    let w = world!();
    w.login();
    w.emulator().control(
        "/_keyless/faults",
        serde_json::json!({"operation": "Logout", "kind": "internal", "count": 10}),
    );
    let run = w.run(&["logout", "--all"]);
    run.success();
    assert!(run.stderr().contains("warning"), "{}", run.stderr());
    assert!(w.keyring().items().iter().all(|i| {
        i.get("username")
            .is_none_or(|u| !u.starts_with("v1/session/"))
    }));
}

#[test]
fn logout_all_without_a_state_file_removes_everything() {
    let w = world!();
    let mut config = crate::harness::standard_config();
    config.push_str(
        "\n[profile ro]\ncredential_process = keyless credential-process --profile ro\n\
         keyless_sso_session = corp\nkeyless_account_id = 444455556666\nkeyless_role_name = ReadOnly\n",
    );
    w.write_config(&config);
    w.login();
    w.run(&["credential-process", "--profile", "dev"]).success();
    w.run(&["credential-process", "--profile", "ro"]).success();
    assert_eq!(w.keyring().items().len(), 4);
    let state = w.state_dir().join("state.json");
    std::fs::remove_file(&state).expect("the state file was written");

    let run = w.run(&["logout", "--all"]);
    run.success();

    assert!(
        run.stderr().contains("signed out of sso-session 'corp'"),
        "{}",
        run.stderr()
    );
    assert_eq!(
        w.emulator().count("Logout"),
        1,
        "the portal session is ended too"
    );
    let left = w.keyring().items();
    assert!(left.is_empty(), "left behind: {left:?}");
}
