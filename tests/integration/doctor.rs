//! `keyless doctor`: all well against a real keyring and the emulator;
//! each broken thing is reported with its fix and exit 1.

use crate::harness::{World, standard_config};
use crate::world;

fn report(w: &World) -> (serde_json::Value, i32) {
    let run = w.run(&["doctor", "--format", "json"]);
    let value = serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("{e}: {} {}", run.stdout(), run.stderr()));
    (value, run.code())
}

fn outcomes<'a>(v: &'a serde_json::Value, check: &str) -> Vec<&'a str> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == check)
        .map(|c| c["outcome"].as_str().unwrap())
        .collect()
}

#[test]
fn all_well_then_each_problem_with_its_fix() {
    let w = world!();
    let (v, code) = report(&w);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["ok"], true);
    for check in [
        "store",
        "config",
        "profile",
        "shadowing",
        "clock",
        "path",
        "companion",
    ] {
        assert_eq!(outcomes(&v, check), ["ok"], "{check}: {v:#}");
    }
    let text = w.run(&["doctor"]).success().stdout();
    assert!(text.contains("All checks passed."), "{text}");

    // A static key under the profile's name, an sso_* key beside
    // credential_process, a keyless that is not there, and one without
    // keyless-full beside it.
    let lonely = w.home.path().join("lonely");
    std::fs::create_dir(&lonely).unwrap();
    let lonely = lonely.join("keyless");
    if std::fs::hard_link(crate::harness::KEYLESS, &lonely).is_err() {
        std::fs::copy(crate::harness::KEYLESS, &lonely).unwrap();
    }
    w.write_credentials(
        "[dev]\naws_access_key_id = AKIAY34FZKBOKMUTVV7A\naws_secret_access_key = x\n",
    );
    w.write_config(&format!(
        "{}\n[profile mixed]\ncredential_process = /nonexistent/keyless credential-process --profile mixed\n\
         sso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Developer\n\
         [profile lonely]\ncredential_process = {} credential-process --profile lonely\n\
         keyless_sso_session = corp\nkeyless_account_id = 111122223333\nkeyless_role_name = Developer\n",
        standard_config(),
        lonely.display()
    ));
    let (v, code) = report(&w);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["ok"], false);
    assert!(outcomes(&v, "shadowing").contains(&"fail"), "{v:#}");
    assert!(outcomes(&v, "profile").contains(&"fail"), "{v:#}");
    assert!(outcomes(&v, "path").contains(&"fail"), "{v:#}");
    let mut companion = outcomes(&v, "companion");
    companion.sort_unstable();
    assert_eq!(companion, ["fail", "ok"], "{v:#}");
    for c in v["checks"].as_array().unwrap() {
        if c["outcome"] == "fail" {
            assert!(c["fix"].as_str().is_some_and(|f| !f.is_empty()), "{c}");
        }
    }
    let text = w.run(&["doctor"]).failure(1).stdout();
    assert!(text.contains("fix: "), "{text}");
}

#[test]
fn an_unreachable_keyring_and_an_offline_clock() {
    let w = World::bare();
    w.write_config(&standard_config());
    // No Secret Service here: the kernel keyring is the store, and
    // doctor names it.
    let plain = w.run(&["doctor", "--offline", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&plain.stdout()).unwrap();
    assert_eq!(outcomes(&v, "store"), ["ok"], "{v:#}");
    assert!(
        v["checks"][0]["summary"]
            .as_str()
            .unwrap()
            .contains("kernel keyring (keyutils)"),
        "{v:#}"
    );
    // Asked for the Secret Service, which is not there: its fix.
    let mut cmd = w.command(&["doctor", "--format", "json"]);
    cmd.env("AWS_ENDPOINT_URL_SSO_OIDC", "http://127.0.0.1:9")
        .env("KEYLESS_STORE", "secret-service");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcomes(&v, "store"), ["fail"], "{v:#}");
    assert_eq!(outcomes(&v, "clock"), ["skip"], "{v:#}");
    let store = &v["checks"][0];
    assert!(
        store["fix"].as_str().unwrap().contains("gnome-keyring"),
        "{store}"
    );
    let offline = w.run(&["doctor", "--offline", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&offline.stdout()).unwrap();
    assert_eq!(outcomes(&v, "clock"), ["skip"]);
}
