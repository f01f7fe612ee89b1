//! `keyless login --pkce`: the authorization-code login with a scripted
//! browser (`BROWSER`) against the emulator's `/authorize`.

use std::path::PathBuf;

use serde_json::json;

use crate::harness::World;
use crate::world;

/// A "browser" that follows the sign-in URL and its redirect back to the
/// loopback listener.
const FOLLOW: &str = r#"import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=20).read()
"#;

/// A "browser" that brings the code back with another state.
const WRONG_STATE: &str = r#"import sys, urllib.request, urllib.error
class Stop(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
try:
    urllib.request.build_opener(Stop).open(sys.argv[1], timeout=20)
    sys.exit("no redirect")
except urllib.error.HTTPError as e:
    location = e.headers["Location"]
try:
    urllib.request.urlopen(location.replace("state=", "state=forged"), timeout=20).read()
except urllib.error.HTTPError:
    pass
"#;

fn browser(w: &mut World, name: &str, script: &str) -> PathBuf {
    let path = w.home.path().join(name);
    std::fs::write(&path, script).unwrap();
    w.extra_env
        .push(("BROWSER".into(), format!("python3 {}", path.display())));
    path
}

#[test]
fn a_browser_completes_the_code_login() {
    let mut w = world!();
    browser(&mut w, "follow.py", FOLLOW);
    let run = w.run(&["login", "--sso-session", "corp", "--pkce"]);
    run.success();
    assert!(
        run.stderr().contains("signed in to sso-session 'corp'"),
        "{}",
        run.stderr()
    );
    assert_eq!(w.emulator().count("StartDeviceAuthorization"), 0);
    assert_eq!(w.emulator().count("CreateToken"), 1);
    let creds = w.run(&["credential-process", "--profile", "dev"]);
    creds.success();
    creds.process_json();
}

#[test]
fn keyless_login_pkce_in_the_session_asks_for_the_browser() {
    let mut w = world!();
    browser(&mut w, "follow.py", FOLLOW);
    let config = crate::harness::standard_config().replace(
        "sso_region = us-east-1\n",
        "sso_region = us-east-1\nkeyless_login = pkce\n",
    );
    w.write_config(&config);
    w.run(&["login", "--sso-session", "corp"]).success();
    assert_eq!(w.emulator().count("StartDeviceAuthorization"), 0);
    assert_eq!(w.emulator().count("CreateToken"), 1);
}

#[test]
fn a_wrong_state_is_refused() {
    let mut w = world!();
    browser(&mut w, "forge.py", WRONG_STATE);
    let run = w.run(&["login", "--sso-session", "corp", "--pkce"]);
    run.failure(1);
    assert!(run.stderr().contains("state"), "{}", run.stderr());
    assert_eq!(
        w.emulator().count("CreateToken"),
        0,
        "no code was exchanged"
    );
    w.run(&["credential-process", "--profile", "dev"])
        .failure(1);
}

#[test]
fn a_denial_in_the_browser_is_a_clear_error() {
    let mut w = world!();
    w.emulator()
        .control("/_keyless/config", json!({"approval": {"mode": "deny"}}));
    browser(&mut w, "follow.py", FOLLOW);
    let run = w.run(&["login", "--sso-session", "corp", "--pkce"]);
    run.failure(1);
    let err = run.stderr();
    assert!(
        err.contains("denied") && err.contains("access_denied"),
        "{err}"
    );
    assert!(err.contains("keyless login"), "{err}");
    assert_eq!(w.emulator().count("CreateToken"), 0);
}

#[test]
fn without_a_display_the_device_code_is_used() {
    let w = world!();
    let run = w.run(&["login", "--sso-session", "corp", "--pkce"]);
    run.success();
    assert!(
        run.stderr().contains("device code instead"),
        "{}",
        run.stderr()
    );
    assert_eq!(w.emulator().count("StartDeviceAuthorization"), 1);
}
