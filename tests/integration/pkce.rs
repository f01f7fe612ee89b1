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

/// A "browser" that only notes the sign-in URL, as a person who walks away.
const NOTE_URL: &str = r#"import os, sys
open(sys.argv[0] + ".tmp", "w").write(sys.argv[1])
os.rename(sys.argv[0] + ".tmp", sys.argv[0] + ".url")
"#;

#[test]
fn ctrl_c_while_waiting_for_the_browser_cleans_up() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let mut w = world!();
    let script = browser(&mut w, "note.py", NOTE_URL);
    let noted = PathBuf::from(format!("{}.url", script.display()));
    let child = w
        .command(&["login", "--sso-session", "corp", "--pkce"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !noted.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the browser was never opened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = std::fs::read_to_string(&noted).unwrap();
    let port: u16 = url
        .split("127.0.0.1%3A")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no loopback port in {url}"));
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        "listener not up"
    );
    // The URL is noted just before keyless starts waiting (and handling
    // Ctrl-C); give it a moment to get there.
    std::thread::sleep(Duration::from_millis(300));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let run = crate::harness::Run::wait(child, &["login", "--pkce"], Duration::from_secs(20));
    run.failure(1);
    assert!(
        run.stderr().contains("cancelled (Ctrl-C)"),
        "{}",
        run.stderr()
    );
    // The listener is gone, and no lock is left behind: a login works.
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "listener left open"
    );
    let run = w.run(&["login", "--sso-session", "corp", "--no-browser"]);
    run.success();
}
