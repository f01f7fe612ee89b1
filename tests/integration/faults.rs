//! Faults found by running the binary against bad files, bad answers and
//! bad neighbours: each reproduced here, with what keyless must do.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{KEYLESS, Run, World};
use crate::world;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn a_full_stdout_is_an_error_not_a_silent_success() {
    let w = world!();
    w.login();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let args = ["credential-process", "--profile", "dev"];
    let child = w
        .command(&args)
        .stdout(full)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let run = Run::wait(child, &args, Duration::from_secs(60));
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("could not write the credentials to stdout"),
        "{}",
        run.stderr()
    );
}

#[test]
fn demo_into_a_closed_pipe_exits_0_quietly() {
    let w = World::bare();
    let script = "\"$0\" demo | head -3 >/dev/null; exit ${PIPESTATUS[0]}";
    let child = w
        .command_for("bash", &["-c", script, KEYLESS])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let run = Run::wait(child, &["demo | head -3"], Duration::from_secs(60));
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert_eq!(run.stderr(), "", "nothing on stderr");
}

#[test]
fn help_and_version_exit_0_and_unknown_flags_exit_2() {
    let w = World::bare();
    w.run(&["credential-process", "--bogus"]).failure(2);
    let help = w.run(&["--help"]);
    help.success();
    assert!(help.stdout().contains("credential-process"));
    let version = w.run(&["--version"]);
    version.success();
    assert!(version.stdout().starts_with("keyless "));
}

#[test]
fn a_fifo_as_the_config_fails_fast() {
    let w = World::bare();
    let fifo = w.home.path().join("config.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let mut w = w;
    w.extra_env
        .push(("AWS_CONFIG_FILE".into(), fifo.display().to_string()));
    let started = Instant::now();
    let run = w.run(&["credential-process", "--profile", "dev"]);
    run.failure(1);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        run.stderr().contains("not a regular file"),
        "{}",
        run.stderr()
    );
}

#[test]
fn a_non_utf8_state_file_is_replaced_once() {
    let w = world!();
    w.login();
    let state = w.state_dir().join("state.json");
    std::fs::write(&state, b"\xff\xfe{not json\x80").unwrap();

    let first = w.run(&["credential-process", "--profile", "dev"]);
    first.success();
    assert!(
        first.stderr().contains("state file") && first.stderr().contains("replaced"),
        "{}",
        first.stderr()
    );
    let repaired: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state).unwrap()).expect("valid JSON again");
    assert!(repaired.is_object());

    let second = w.run(&["logout", "--sso-session", "corp"]);
    second.success();
    assert!(
        !second.stderr().contains("state file"),
        "said once: {}",
        second.stderr()
    );
}

#[test]
fn a_shared_state_directory_keeps_its_mode() {
    let mut w = world!();
    w.login();
    let shared = w.home.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let link = w.home.path().join("link");
    std::os::unix::fs::symlink(&shared, &link).unwrap();

    for dir in [&shared, &link] {
        w.extra_env = vec![("KEYLESS_STATE_DIR".into(), dir.display().to_string())];
        let run = w.run(&["credential-process", "--profile", "dev"]);
        run.failure(1);
        assert!(run.stdout().is_empty());
        assert!(
            run.stderr().contains("KEYLESS_STATE_DIR"),
            "{}",
            run.stderr()
        );
        assert_eq!(mode(&shared), 0o1777, "the shared directory was changed");
    }
}

#[test]
fn a_symlinked_lock_file_is_never_followed() {
    let w = world!();
    w.login();
    w.run(&["credential-process", "--profile", "dev"]).success();
    let precious = w.home.path().join("precious");
    std::fs::write(&precious, "do not touch\n").unwrap();
    let locks = w.state_dir().join("locks");
    let mut replaced = 0;
    for entry in std::fs::read_dir(&locks).unwrap().flatten() {
        if entry.file_name().to_string_lossy().starts_with("role-") {
            std::fs::remove_file(entry.path()).unwrap();
            std::os::unix::fs::symlink(&precious, entry.path()).unwrap();
            replaced += 1;
        }
    }
    assert_eq!(replaced, 1, "one role lock in {}", locks.display());
    // A miss, so the role lock is taken again.
    let cleared = w
        .command_for(
            "secret-tool",
            &[
                "clear",
                "service",
                "keyless",
                "username",
                "v1/role/corp/111122223333/Developer",
            ],
        )
        .status()
        .unwrap();
    assert!(cleared.success());
    for key in w.kernel_keys() {
        crate::harness::keyctl(&["invalidate", &format!("0x{}", key.id)]);
    }

    let run = w.run(&["credential-process", "--profile", "dev"]);
    run.failure(1);
    assert!(run.stderr().contains("symbolic link"), "{}", run.stderr());
    assert_eq!(
        std::fs::read_to_string(&precious).unwrap(),
        "do not touch\n"
    );
}

/// An HTTP server that answers every request with `response`.
fn answering(response: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(50) {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(response.as_bytes());
        }
    });
    url
}

#[test]
fn an_html_answer_names_the_proxy_settings() {
    let page = "<html><body>Sign in to Wi-Fi</body></html>";
    let html = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{page}",
        page.len()
    );
    let redirect = "HTTP/1.1 302 Found\r\nLocation: http://portal.example/\r\n\
                    Content-Length: 0\r\nConnection: close\r\n\r\n"
        .to_string();
    for (response, status) in [(html, "HTTP 200 (text/html)"), (redirect, "HTTP 302")] {
        let mut w = world!();
        w.login();
        w.extra_env = vec![("AWS_ENDPOINT_URL_SSO".into(), answering(response))];
        let run = w.run(&["credential-process", "--profile", "dev"]);
        run.failure(1);
        assert!(run.stdout().is_empty());
        let err = run.stderr();
        assert!(err.contains(status), "{err}");
        assert!(
            err.contains("HTTPS_PROXY") && err.contains("AWS_ENDPOINT_URL_SSO"),
            "{err}"
        );
    }
}
