//! `keyless login` against the emulator: approval, slow_down, denial,
//! expiry.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::world;

#[test]
fn immediate_approval() {
    let w = world!();
    let run = w.run(&["login", "--sso-session", "corp", "--no-browser"]);
    run.success();
    let err = run.stderr();
    assert!(err.contains("signed in to sso-session 'corp'"), "{err}");
    // approved at the immediate first poll: no prompt was needed
    assert_eq!(w.emulator().count("CreateToken"), 1);
    assert_eq!(w.emulator().count("RegisterClient"), 1);
}

#[test]
fn prompt_shows_url_and_code_and_no_browser_without_display() {
    let w = world!();
    w.emulator().control(
        "/_keyless/config",
        json!({"approval": {"mode": "auto", "afterPolls": 1}}),
    );
    let run = w.run(&["login", "--profile", "dev"]);
    run.success();
    let err = run.stderr();
    assert!(err.contains("No display found"), "{err}");
    assert!(err.contains("/device?user_code="), "{err}");
    let code_line = err.lines().find(|l| {
        let t = l.trim();
        t.len() == 9 && t.as_bytes()[4] == b'-'
    });
    assert!(
        code_line.is_some(),
        "user code shown on its own line: {err}"
    );
}

#[test]
fn registration_is_reused_by_the_next_login() {
    let w = world!();
    w.login();
    w.login();
    assert_eq!(w.emulator().count("RegisterClient"), 1);
    assert_eq!(w.emulator().count("StartDeviceAuthorization"), 2);
}

#[test]
fn slow_down_adds_five_seconds_between_polls() {
    let w = world!();
    w.emulator().control(
        "/_keyless/config",
        json!({"pollIntervalSecs": 1, "pollScript": ["pending", "slowDown", "pending", "success"]}),
    );
    let started = Instant::now();
    w.run(&["login", "--sso-session", "corp", "--no-browser"])
        .success();
    let took = started.elapsed();
    assert_eq!(w.emulator().count("CreateToken"), 4);
    // gaps: 1 s, then 6 s and 6 s after slow_down
    assert!(took >= Duration::from_secs(13), "took {took:?}");
    assert!(took < Duration::from_secs(25), "took {took:?}");
}

#[test]
fn denial_is_a_clear_error() {
    let w = world!();
    w.emulator()
        .control("/_keyless/config", json!({"approval": {"mode": "deny"}}));
    let run = w.run(&["login", "--sso-session", "corp", "--no-browser"]);
    run.failure(1);
    assert!(run.stderr().contains("denied"), "{}", run.stderr());
    assert!(w.keyring().items().iter().all(|i| {
        i.get("username")
            .is_none_or(|u| !u.starts_with("v1/session/"))
    }));
}

#[test]
fn device_code_expiry_ends_the_login_in_time() {
    let w = world!();
    w.emulator().control(
        "/_keyless/config",
        json!({"approval": {"mode": "manual"}, "deviceCodeTtlSecs": 3, "pollIntervalSecs": 1}),
    );
    let started = Instant::now();
    let run = w.run(&["login", "--sso-session", "corp", "--no-browser"]);
    run.failure(1);
    assert!(run.stderr().contains("expired"), "{}", run.stderr());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn unknown_session_names_the_known_ones() {
    let w = world!();
    let run = w.run(&["login", "--sso-session", "nope", "--no-browser"]);
    run.failure(1);
    assert!(run.stderr().contains("corp"), "{}", run.stderr());
    assert_eq!(w.emulator().count("RegisterClient"), 0);
}
