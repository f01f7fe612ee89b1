//! The two binaries: `keyless` answers a credential-process cache hit in
//! the kernel keyring and the prompt by itself, and hands everything else
//! to `keyless-full` beside it, with the same argv[0].

use std::path::{Path, PathBuf};

use crate::harness::{KEYLESS, World};
use crate::world;

/// `keyless` alone in a directory of its own: a hard link (the debug
/// binary is large), or a copy where links cannot be made. Not a symbolic
/// link: the binary finds `keyless-full` beside its resolved path.
fn front_alone(w: &World) -> PathBuf {
    let dir = w.home.path().join("alone");
    std::fs::create_dir(&dir).unwrap();
    let alone = dir.join("keyless");
    if std::fs::hard_link(KEYLESS, &alone).is_err() {
        std::fs::copy(KEYLESS, &alone).unwrap();
    }
    alone
}

fn full_binary() -> PathBuf {
    Path::new(KEYLESS).with_file_name("keyless-full")
}

#[test]
fn a_kernel_keyring_hit_and_the_prompt_need_no_full_binary() {
    let w = world!();
    w.login();
    let first = w.run(&["credential-process", "--profile", "dev"]);
    first.success();
    assert_eq!(w.emulator().count("GetRoleCredentials"), 1);

    let alone = front_alone(&w);
    let alone = alone.to_str().unwrap();
    let run = |args: &[&str]| {
        let output = w.command_for(alone, args).output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };

    let (code, stdout, stderr) = run(&["credential-process", "--profile", "dev"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        first.stdout(),
        "the same JSON object, from the cache"
    );
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(w.emulator().count("GetRoleCredentials"), 1);

    let (code, stdout, stderr) = run(&["prompt", "--profile", "dev"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("dev "), "{stdout:?}");

    // Anything else needs the full binary, and says so when it is missing.
    for args in [
        &["status"][..],
        // A miss: a role that is not cached.
        &[
            "credential-process",
            "--sso-session",
            "corp",
            "--account-id",
            "111122223333",
            "--role-name",
            "ReadOnly",
        ],
        &["--version"],
    ] {
        let (code, stdout, stderr) = run(args);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(
            stderr.starts_with("keyless: cannot start the full keyless binary (")
                && stderr.contains("keyless-full: No such file")
                && stderr.contains(
                    "\nhint: reinstall keyless: the package puts keyless-full beside keyless"
                ),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn the_full_binary_answers_as_keyless() {
    let w = world!();
    let front = w.run(&["--version"]);
    front.success();
    let full = w
        .command_for(full_binary().to_str().unwrap(), &["--version"])
        .output()
        .unwrap();
    assert_eq!(front.stdout(), String::from_utf8_lossy(&full.stdout));
    assert!(front.stdout().starts_with("keyless "), "{}", front.stdout());

    // clap names the program from argv[0], which the hand-over keeps.
    let usage = w.run(&["status", "--no-such-flag"]);
    usage.failure(2);
    assert!(
        usage.stderr().contains("Usage: keyless status"),
        "{}",
        usage.stderr()
    );
    assert!(
        !usage.stderr().contains("keyless-full"),
        "{}",
        usage.stderr()
    );

    // The shell hooks must run the small binary, from either of the two.
    let front_path = std::fs::canonicalize(KEYLESS).unwrap();
    for program in [PathBuf::from(KEYLESS), full_binary()] {
        let out = w
            .command_for(program.to_str().unwrap(), &["shell-init", "bash"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let stub = String::from_utf8_lossy(&out.stdout);
        assert!(
            stub.contains(front_path.to_str().unwrap()) && !stub.contains("keyless-full"),
            "{program:?}: {stub}"
        );
    }
}
