//! Keyring items written by one keyless process and read by another,
//! through a real Secret Service.

use crate::world;

#[test]
fn items_written_by_one_process_are_read_by_another() {
    let w = world!();
    w.login();
    // the token item was written by the login process
    let items = w.keyring().items();
    assert!(
        items
            .iter()
            .any(|i| i.get("username").is_some_and(|u| u == "v1/session/corp")),
        "no session item in {items:?}"
    );
    let first = w.run(&["credential-process", "--profile", "dev"]);
    first.success();
    let a = first.process_json();
    assert_eq!(w.emulator().count("GetRoleCredentials"), 1);

    let second = w.run(&["credential-process", "--profile", "dev"]);
    second.success();
    assert_eq!(
        second.process_json(),
        a,
        "the second process reads what the first stored"
    );
    assert_eq!(
        w.emulator().count("GetRoleCredentials"),
        1,
        "a cache hit makes no network call"
    );
    assert_eq!(
        w.emulator().count("CreateToken"),
        1,
        "only the login's CreateToken"
    );
}

#[test]
fn a_corrupt_item_is_a_cache_miss() {
    let w = world!();
    w.login();
    w.run(&["credential-process", "--profile", "dev"]).success();
    let items = w.keyring().items();
    let role = items
        .iter()
        .find(|i| i.get("username").is_some_and(|u| u.starts_with("v1/role/")))
        .unwrap_or_else(|| panic!("no role item in {items:?}"));
    let attributes: Vec<(&str, &str)> =
        role.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    w.keyring()
        .store("corrupt", &attributes, "{this is not json");
    assert_eq!(
        w.keyring().lookup(&attributes).as_deref(),
        Some("{this is not json")
    );
    // And the kernel keyring's copy gone, so the Secret Service is read.
    for key in w.kernel_keys() {
        crate::harness::keyctl(&["invalidate", &format!("0x{}", key.id)]);
    }

    let run = w.run(&["credential-process", "--profile", "dev"]);
    run.success();
    run.process_json();
    assert_eq!(
        w.emulator().count("GetRoleCredentials"),
        2,
        "the corrupt item was refetched"
    );
    let repaired = w.keyring().lookup(&attributes).unwrap();
    assert!(
        repaired.starts_with('{') && repaired.contains("\"v\":1"),
        "item overwritten: {}",
        repaired.len()
    );
}

#[test]
fn no_secret_service_is_a_clear_error_when_it_is_asked_for() {
    let mut w = crate::harness::World::bare();
    w.write_config(&crate::harness::standard_config());
    w.extra_env
        .push(("AWS_ENDPOINT_URL_SSO".into(), "http://127.0.0.1:9".into()));
    // Without one, the kernel keyring is the store: nothing is signed in.
    let run = w.run(&["credential-process", "--profile", "dev"]);
    run.failure(1);
    assert!(
        run.stderr().contains("keyless login --sso-session corp"),
        "{}",
        run.stderr()
    );
    w.extra_env
        .push(("KEYLESS_STORE".into(), "secret-service".into()));
    let run = w.run(&["credential-process", "--profile", "dev"]);
    run.failure(1);
    assert!(run.stdout().is_empty(), "{}", run.stdout());
    let err = run.stderr();
    assert!(
        err.contains("Secret Service") && err.contains("gnome-keyring"),
        "{err}"
    );
}

#[test]
fn a_restarted_keyring_daemon_keeps_the_login() {
    let mut w = world!();
    w.login();
    w.keyring.as_mut().unwrap().kill_daemon();
    let run = w.run(&["credential-process", "--profile", "dev"]);
    run.success();
    run.process_json();
    assert_eq!(
        w.emulator().count("CreateToken"),
        1,
        "no new login was needed"
    );
}
