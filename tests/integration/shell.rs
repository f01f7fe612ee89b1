//! `status`, `prompt`, the shell integration scripts (syntax, and rendered
//! in real interactive shells under a pseudo-terminal), completions and
//! the man page. None of these needs a keyring or a server.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::harness::{KEYLESS, World, standard_config};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn state_path(w: &World) -> std::path::PathBuf {
    w.home.path().join(".local/state/keyless/state.json")
}

/// A state file as the lifecycle writes it: `corp` signed in, `dev`'s role
/// with `dev_left` seconds left, and a role without a profile.
fn write_state(w: &World, dev_left: i64) {
    let now = now();
    let state = serde_json::json!({
        "version": 1,
        "sessions": {"corp": {
            "start_url": crate::harness::START_URL, "region": "us-east-1",
            "token_expires_at": now + 8 * 3600, "last_login": now - 60, "refreshable": true
        }},
        "roles": [
            {"session": "corp", "account_id": "111122223333", "role_name": "Developer",
             "profiles": ["dev"], "expiration": now + dev_left},
            {"session": "corp", "account_id": "444455556666", "role_name": "ReadOnly",
             "expiration": now - 10}
        ]
    });
    let path = state_path(w);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_vec_pretty(&state).unwrap()).unwrap();
}

fn prompt(w: &World, profile_env: Option<&str>, args: &[&str]) -> (String, String, i32) {
    let mut cmd = w.command(&[&["prompt"], args].concat());
    if let Some(p) = profile_env {
        cmd.env("AWS_PROFILE", p);
    }
    let out = cmd.output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn prompt_shows_fresh_nearly_expired_and_expired_roles() {
    let w = World::bare();
    w.write_config(&standard_config());
    for (left, want) in [
        (42 * 60 + 30, "dev 42m"),
        (9 * 60 + 30, "dev 9m"),
        (3 * 3600 + 5 * 60 + 30, "dev 3h05m"),
        (-30, "dev expired"),
    ] {
        write_state(&w, left);
        let (out, err, code) = prompt(&w, Some("dev"), &[]);
        assert_eq!((out.as_str(), err.as_str(), code), (want, "", 0));
    }
    write_state(&w, 9 * 60 - 30);
    let (out, _, _) = prompt(&w, Some("dev"), &["--color", "--shell", "bash"]);
    assert_eq!(out, "\u{1}\x1b[33m\u{2}dev 8m\u{1}\x1b[0m\u{2}");
    let (out, _, _) = prompt(
        &w,
        None,
        &["--profile", "dev", "--format", "{account}/{role}"],
    );
    assert_eq!(out, "111122223333/Developer");
}

#[test]
fn prompt_maps_a_profile_through_the_config_when_the_state_does_not_name_it() {
    let w = World::bare();
    w.write_config(&format!(
        "{}\n[profile ro]\nkeyless_sso_session = corp\nkeyless_account_id = 444455556666\nkeyless_role_name = ReadOnly\n",
        standard_config()
    ));
    write_state(&w, 3600);
    assert_eq!(prompt(&w, Some("ro"), &[]).0, "ro expired");
}

#[test]
fn prompt_is_silent_on_any_failure() {
    let w = World::bare();
    w.write_config(&standard_config());
    // No state file.
    assert_eq!(
        prompt(&w, Some("dev"), &[]),
        (String::new(), String::new(), 0)
    );
    // Corrupt state files.
    for garbage in ["", "{", "not json", "{\"roles\": 5}", "\u{0}\u{1}"] {
        std::fs::create_dir_all(state_path(&w).parent().unwrap()).unwrap();
        std::fs::write(state_path(&w), garbage).unwrap();
        assert_eq!(
            prompt(&w, Some("dev"), &[]),
            (String::new(), String::new(), 0),
            "{garbage:?}"
        );
    }
    write_state(&w, 3600);
    // Unknown profile, no profile, a corrupt config.
    assert_eq!(prompt(&w, Some("nope"), &[]).0, "");
    assert_eq!(prompt(&w, None, &[]).0, "");
    w.write_config("[profile dev\n\u{ff}");
    assert_eq!(
        prompt(&w, Some("ro"), &[]),
        (String::new(), String::new(), 0)
    );
    // A state directory that cannot be read.
    let mut cmd = w.command(&["prompt"]);
    cmd.env("AWS_PROFILE", "dev")
        .env("KEYLESS_STATE_DIR", "/nonexistent/keyless");
    let out = cmd.output().unwrap();
    assert!(out.stdout.is_empty() && out.stderr.is_empty() && out.status.success());
}

#[test]
fn prompt_uses_the_expiry_of_credentials_in_the_environment() {
    let w = World::bare();
    let expires = time_rfc3339(now() + 20 * 60 + 30);
    let mut cmd = w.command(&["prompt"]);
    cmd.env("AWS_CREDENTIAL_EXPIRATION", &expires)
        .env("KEYLESS_PROFILE", "dev")
        .env("KEYLESS_STATE_DIR", "/nonexistent/keyless");
    let out = cmd.output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "dev 20m");
}

#[test]
fn a_bad_prompt_format_is_a_usage_error() {
    let w = World::bare();
    let (_, err, code) = prompt(&w, Some("dev"), &["--format", "{nope}"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("{nope}") && err.contains("{remaining}"),
        "{err}"
    );
}

pub fn time_rfc3339(epoch: i64) -> String {
    let out = Command::new("date")
        .args(["-u", "-d", &format!("@{epoch}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn status_json_matches_its_documented_schema() {
    let w = World::bare();
    write_state(&w, 42 * 60);
    let run = w.run(&["status", "--format", "json"]);
    run.success();
    let value: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/status.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{value:#}");
    assert_eq!(value["schema_version"], 1);
    assert_eq!(value["sessions"][0]["name"], "corp");
    assert_eq!(value["sessions"][0]["signed_in"], true);
    assert_eq!(value["sessions"][0]["refresh_possible"], true);
    assert_eq!(value["roles"][0]["profiles"][0], "dev");
    assert_eq!(value["roles"][0]["state"], "valid");
    assert_eq!(value["roles"][1]["state"], "expired");
    // The schema is strict enough to fail: a wrong value is caught.
    let mut broken = value.clone();
    broken["roles"][0]["state"] = "fine".into();
    assert!(!validator.is_valid(&broken));

    // An empty state is valid too, and the text form says what to do.
    let empty = World::bare();
    let run = empty.run(&["status", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert!(validator.is_valid(&value), "{value}");
    assert!(
        empty
            .run(&["status"])
            .success()
            .stdout()
            .contains("keyless login")
    );

    let text = w.run(&["status"]).success().stdout();
    assert!(text.contains("dev  111122223333/Developer  42m"), "{text}");
}

// ---- shell scripts ----------------------------------------------------

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// The shells are installed by tests/run; a missing one fails the test,
/// unless KEYLESS_SKIP_SHELL_TESTS=1 says to skip it (loudly).
fn require(program: &str) -> bool {
    if have(program) {
        return true;
    }
    if std::env::var("KEYLESS_SKIP_SHELL_TESTS").as_deref() == Ok("1") {
        eprintln!("\n!!! SKIPPED: {program} is not installed; this test did NOT run\n");
        return false;
    }
    panic!("{program} not found: install it (tests/run does: apt-get install bash zsh fish)");
}

fn shell_init(w: &World, shell: &str, full: bool) -> String {
    let mut args = vec!["shell-init", shell];
    if full {
        args.push("--full");
    }
    w.run(&args).success().stdout()
}

#[test]
fn scripts_pass_their_shells_syntax_checks() {
    let w = World::bare();
    let dir = tempfile::tempdir().unwrap();
    for (shell, check) in [
        ("bash", vec!["bash", "-n"]),
        ("zsh", vec!["zsh", "-n"]),
        ("fish", vec!["fish", "--no-execute"]),
    ] {
        if !require(check[0]) {
            continue;
        }
        for full in [false, true] {
            let file = dir.path().join(format!("init-{shell}-{full}"));
            let text = shell_init(&w, shell, full);
            assert!(
                text.contains(KEYLESS),
                "{shell}: the binary's absolute path: {text}"
            );
            if !full {
                assert_eq!(text.lines().count(), 1, "{text}");
            }
            std::fs::write(&file, text).unwrap();
            let out = Command::new(check[0])
                .args(&check[1..])
                .arg(&file)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{shell} rejects its script: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // The committed file itself, too.
        let ext = if shell == "bash" { "bash" } else { shell };
        let file = format!("{}/shell/keyless.{ext}", env!("CARGO_MANIFEST_DIR"));
        let out = Command::new(check[0])
            .args(&check[1..])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // PowerShell cannot be installed from Debian's archive: its script is
    // checked here only for what it must contain.
    let ps = shell_init(&w, "powershell", true);
    for needle in [
        "function global:prompt",
        "keyless-use",
        "Register-ArgumentCompleter",
        "completions powershell",
    ] {
        assert!(ps.contains(needle), "{needle}");
    }
}

/// Runs `argv` under a pseudo-terminal (util-linux `script`), types
/// `input` line by line, and returns everything the terminal showed.
fn interactive(w: &World, argv: &str, input: &[&str], extra_env: &[(&str, &str)]) -> String {
    let mut cmd = w.command_for("script", &["-qfec", argv, "/dev/null"]);
    cmd.env("TERM", "xterm-256color")
        .env("AWS_PROFILE", "dev")
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("script (util-linux) runs");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    for line in input {
        std::thread::sleep(Duration::from_millis(700));
        let _ = stdin.write_all(line.as_bytes());
        let _ = stdin.write_all(b"\n");
        let _ = stdin.flush();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(stdin);
    let _ = child.wait();
    String::from_utf8_lossy(&reader.join().unwrap()).to_string()
}

fn interactive_world() -> World {
    let w = World::bare();
    w.write_config(&format!(
        "{}\n[profile prod]\nkeyless_sso_session = corp\nkeyless_account_id = 444455556666\nkeyless_role_name = ReadOnly\n",
        standard_config()
    ));
    write_state(&w, 42 * 60 + 30);
    w
}

#[test]
fn bash_shows_the_segment_in_its_prompt() {
    if !require("bash") {
        return;
    }
    let w = interactive_world();
    let rc = w.home.path().join("bashrc");
    std::fs::write(
        &rc,
        format!("PS1='MARK> '\n{}", shell_init(&w, "bash", false)),
    )
    .unwrap();
    let out = interactive(
        &w,
        &format!("bash --noprofile --rcfile {} -i", rc.display()),
        &["keyless-use prod", "echo profile=$AWS_PROFILE", "exit"],
        &[],
    );
    assert!(out.contains("\x1b[32mdev 42m\x1b[0m MARK> "), "{out:?}");
    assert!(out.contains("prod expired"), "after keyless-use: {out:?}");
    assert!(out.contains("profile=prod"), "{out:?}");
    assert!(!out.contains("command not found"), "{out:?}");
}

#[test]
fn zsh_shows_the_segment_in_its_prompt() {
    if !require("zsh") {
        return;
    }
    let w = interactive_world();
    let zdotdir = w.home.path().join("zdotdir");
    std::fs::create_dir_all(&zdotdir).unwrap();
    std::fs::write(
        zdotdir.join(".zshrc"),
        format!(
            "autoload -Uz compinit && compinit -u\nPROMPT='MARK%% '\n{}",
            shell_init(&w, "zsh", false)
        ),
    )
    .unwrap();
    let zd = zdotdir.display().to_string();
    let out = interactive(
        &w,
        "zsh -i",
        &["keyless-use prod", "echo profile=$AWS_PROFILE", "exit"],
        &[("ZDOTDIR", &zd)],
    );
    assert!(out.contains("\x1b[32mdev 42m\x1b[0m MARK% "), "{out:?}");
    assert!(out.contains("prod expired"), "after keyless-use: {out:?}");
    assert!(out.contains("profile=prod"), "{out:?}");
    assert!(!out.contains("command not found"), "{out:?}");
}

#[test]
fn fish_shows_the_segment_in_its_prompt() {
    if !require("fish") {
        return;
    }
    let w = interactive_world();
    let init = w.home.path().join("init.fish");
    std::fs::write(
        &init,
        format!(
            "function fish_prompt; echo -n 'MARK> '; end\n{}",
            shell_init(&w, "fish", false)
        ),
    )
    .unwrap();
    let out = interactive(
        &w,
        &format!("fish --no-config -i -C 'source {}'", init.display()),
        &["keyless-use prod", "echo profile=$AWS_PROFILE", "exit"],
        &[],
    );
    assert!(out.contains("\x1b[32mdev 42m\x1b[0m MARK> "), "{out:?}");
    assert!(out.contains("prod expired"), "after keyless-use: {out:?}");
    assert!(out.contains("profile=prod"), "{out:?}");
}

#[test]
fn completions_load_in_their_shells() {
    let w = World::bare();
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let text = w.run(&["completions", shell]).success().stdout();
        assert!(text.contains("credential-process"), "{shell}");
        std::fs::write(dir.path().join(shell), text).unwrap();
    }
    let file = |s: &str| dir.path().join(s).display().to_string();
    let checks: [(&str, String); 3] = [
        (
            "bash",
            format!("source '{}' && complete -p keyless", file("bash")),
        ),
        (
            "zsh",
            format!(
                "autoload -Uz compinit && compinit -u -d '{}/zcompdump' && source '{}' && \
                 [[ $_comps[keyless] == _keyless ]]",
                dir.path().display(),
                file("zsh")
            ),
        ),
        (
            "fish",
            format!(
                "source '{}'; and complete -c keyless | grep -q shell-init",
                file("fish")
            ),
        ),
    ];
    for (shell, script) in checks {
        if !require(shell) {
            continue;
        }
        let out = w
            .command_for(shell, &["-c", &script])
            .env("HOME", w.home.path())
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{shell}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn man_renders() {
    let w = World::bare();
    let page = w.run(&["man"]).success().stdout();
    assert!(page.starts_with(".ie") || page.contains(".TH"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keyless.1");
    std::fs::write(&file, &page).unwrap();
    if !require("man") {
        return;
    }
    let out = Command::new("man")
        .args(["-l", "-P", "cat"])
        .arg(&file)
        .env("MANWIDTH", "100")
        .env("LANG", "C.UTF-8")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("credential-process") && text.contains("shell-init"),
        "{text}"
    );

    let exec = w.run(&["man", "exec"]).success().stdout();
    std::fs::write(&file, &exec).unwrap();
    let out = Command::new("man")
        .args(["-l", "-P", "cat"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("keyless-exec"));
    w.run(&["man", "nope"]).failure(2);
}
