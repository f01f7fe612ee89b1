//! The kernel keyring (keyutils): the store on a host without D-Bus, the
//! hot cache in front of the Secret Service, and the kernel timeout.
//!
//! Each world has its own `KEYLESS_KEYRING_NAMESPACE`, so parallel tests
//! (all of the same user) never see each other's kernel keys.

use std::time::Duration;

use crate::harness::{World, keyctl};
use crate::world;

const MARKER: &str = "KEYLESSDEV";
const ROLE: &str = "v1/role/corp/111122223333/Developer";

/// Possessor and user: everything; group and other: nothing.
const PERM: &str = "3f3f0000";

#[test]
fn without_dbus_login_credentials_hits_and_logout_work() {
    let w = World::headless(&[]);
    let login = w.run(&["login", "--sso-session", "corp", "--no-browser"]);
    login.success();
    assert!(
        login.stderr().contains("kernel keyring"),
        "login names where the token is: {}",
        login.stderr()
    );

    let first = w.run(&["credential-process", "--profile", "dev"]);
    first.success();
    assert!(first.stdout().contains(MARKER), "issued by the emulator");
    assert_eq!(w.emulator().count("GetRoleCredentials"), 1);
    let second = w.run(&["credential-process", "--profile", "dev"]);
    second.success();
    assert_eq!(second.stdout(), first.stdout());
    assert_eq!(
        w.emulator().count("GetRoleCredentials"),
        1,
        "the second call is a cache hit"
    );

    let keys = w.kernel_keys();
    let mut names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        ["v1/registration/corp", ROLE, "v1/session/corp"],
        "{keys:?}"
    );
    for key in &keys {
        assert_eq!(key.perm, PERM, "{key:?}");
        let raw = keyctl(&["rdescribe", &format!("0x{}", key.id)]);
        let raw = String::from_utf8_lossy(&raw.stdout);
        assert_eq!(raw.split(';').nth(3), Some(PERM), "keyctl rdescribe: {raw}");
        let shown = keyctl(&["describe", &format!("0x{}", key.id)]);
        let shown = String::from_utf8_lossy(&shown.stdout);
        assert!(
            shown.contains("alswrvalswrv------------"),
            "keyctl describe: {shown}"
        );
    }
    // The role credentials expire with a kernel timeout; the token does not.
    let role = keys.iter().find(|k| k.name == ROLE).unwrap();
    assert_ne!(role.timeout, "perm", "{role:?}");
    let session = keys.iter().find(|k| k.name == "v1/session/corp").unwrap();
    assert_eq!(session.timeout, "perm", "{session:?}");
    // The role item is in the user keyring itself.
    let shown = keyctl(&["show", "@u"]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.contains(&w.kernel_description(ROLE)),
        "keyctl show @u:\n{shown}"
    );

    for (path, bytes) in w.files() {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(MARKER), "a secret in {}", path.display());
    }

    w.run(&["logout", "--sso-session", "corp"]).success();
    assert!(w.kernel_keys().is_empty(), "{:?}", w.kernel_keys());
    let after = w.run(&["credential-process", "--profile", "dev"]);
    after.failure(1);
    assert!(
        after.stderr().contains("keyless login"),
        "{}",
        after.stderr()
    );
}

#[test]
fn a_hit_needs_no_secret_service_while_a_miss_does() {
    let mut w = world!();
    w.login();
    w.run(&["credential-process", "--profile", "dev"]).success();
    assert_eq!(w.emulator().count("GetRoleCredentials"), 1);
    // The token stays in the Secret Service; only the role credentials
    // are copied to the kernel keyring.
    let names: Vec<String> = w.kernel_keys().into_iter().map(|k| k.name).collect();
    assert_eq!(names, [ROLE]);
    assert!(
        w.keyring()
            .lookup(&[("service", "keyless"), ("username", ROLE)])
            .is_some(),
        "role credentials are in the Secret Service too"
    );

    w.keyring.as_ref().unwrap().disable_activation();
    w.keyring.as_mut().unwrap().kill_daemon();

    let hit = w.run(&["credential-process", "--profile", "dev"]);
    hit.success();
    assert!(hit.stdout().contains("AccessKeyId"));
    assert_eq!(w.emulator().count("GetRoleCredentials"), 1);

    // A cold miss (the kernel copy gone) needs the token, which only the
    // Secret Service has.
    let role = w
        .kernel_keys()
        .into_iter()
        .find(|k| k.name == ROLE)
        .unwrap();
    keyctl(&["invalidate", &format!("0x{}", role.id)]);
    let miss = w
        .command(&["credential-process", "--profile", "dev"])
        .env("KEYLESS_STORE", "secret-service")
        .output()
        .unwrap();
    assert_eq!(miss.status.code(), Some(1));
    let err = String::from_utf8_lossy(&miss.stderr);
    assert!(err.contains("Secret Service"), "{err}");
}

#[test]
fn the_kernel_drops_role_credentials_at_their_expiry() {
    let w = World::headless(&["--credential-ttl", "5"]);
    w.login();
    w.run(&["credential-process", "--profile", "dev"]).success();
    assert_eq!(w.emulator().count("GetRoleCredentials"), 1);
    let description = w.kernel_description(ROLE);
    let found = keyctl(&["search", "@u", "user", &description]);
    assert!(found.status.success(), "{found:?}");

    std::thread::sleep(Duration::from_secs(6));
    let gone = keyctl(&["search", "@u", "user", &description]);
    assert!(
        !gone.status.success(),
        "the key outlived its timeout: {gone:?}"
    );

    w.run(&["credential-process", "--profile", "dev"]).success();
    assert_eq!(w.emulator().count("GetRoleCredentials"), 2);
    let back = keyctl(&["search", "@u", "user", &description]);
    assert!(back.status.success(), "{back:?}");
}

#[test]
fn a_corrupt_kernel_copy_is_a_miss_and_is_overwritten() {
    let w = World::headless(&[]);
    w.login();
    w.run(&["credential-process", "--profile", "dev"]).success();
    let description = w.kernel_description(ROLE);
    let added = std::process::Command::new("sh")
        .args([
            "-c",
            &format!("printf 'not json' | keyctl padd user '{description}' @u"),
        ])
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    let run = w.run(&["credential-process", "--profile", "dev"]);
    run.success();
    assert!(run.stdout().contains("AccessKeyId"));
    assert_eq!(w.emulator().count("GetRoleCredentials"), 2, "a miss");
    // The key linked in the user keyring now (the replaced one lingers in
    // /proc/keys until the garbage collector runs).
    let found = keyctl(&["search", "@u", "user", &description]);
    assert!(found.status.success(), "{found:?}");
    let id = String::from_utf8_lossy(&found.stdout).trim().to_string();
    let read = keyctl(&["pipe", &id]);
    assert!(
        String::from_utf8_lossy(&read.stdout).contains("\"ak\""),
        "overwritten with a real item"
    );
    let raw = keyctl(&["rdescribe", &id]);
    let raw = String::from_utf8_lossy(&raw.stdout);
    assert_eq!(raw.split(';').nth(3), Some(PERM), "{raw}");
}
