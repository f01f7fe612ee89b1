//! Commands that need neither a keyring nor a server, and the usage
//! contract.

use crate::harness::World;

#[test]
fn demo_runs_without_keyring_or_network() {
    let w = World::bare();
    let run = w.run(&["demo"]);
    run.success();
    let out = run.stdout();
    for expected in [
        "Sign in",
        "Discover accounts",
        "\"AccessKeyId\": \"ASIA",
        "cache hit",
        "calls: 1 before, 1 after",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert!(
        !out.contains("KEYLESSDEV"),
        "the demo shows no secret:\n{out}"
    );
    // nothing written to HOME: the demo's store lives in memory only
    let files: Vec<_> = w.files().into_iter().map(|(p, _)| p).collect();
    assert!(files.is_empty(), "{files:?}");
}

#[test]
fn usage_errors_exit_2() {
    let w = World::bare();
    w.run(&["no-such-command"]).failure(2);
    w.run(&["credential-process", "--account-id", "111122223333"])
        .failure(2);
    w.run(&["logout", "--all", "--sso-session", "x"]).failure(2);
}

#[test]
fn unknown_profile_names_the_known_ones() {
    let w = World::bare();
    w.write_config(&crate::harness::standard_config());
    let run = w.run(&["credential-process", "--profile", "nope"]);
    run.failure(1);
    assert!(run.stdout().is_empty());
    let err = run.stderr();
    assert!(err.contains("'nope'") && err.contains("dev"), "{err}");
}

#[test]
fn malformed_config_is_a_clear_error() {
    let w = World::bare();
    w.write_config("[profile dev\nkeyless_sso_session = corp\n");
    let run = w.run(&["credential-process", "--profile", "dev"]);
    run.failure(1);
    assert!(run.stdout().is_empty());
    assert!(
        run.stderr().contains("config") && run.stderr().contains("line 1"),
        "{}",
        run.stderr()
    );
}

#[test]
fn the_harness_reads_outputs_larger_than_a_pipe() {
    let w = World::bare();
    let args = [
        "-c",
        "head -c 300000 /dev/zero; head -c 200000 /dev/zero >&2",
    ];
    let child = w
        .command_for("sh", &args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let run = crate::harness::Run::wait(child, &args, std::time::Duration::from_secs(20));
    assert_eq!(run.output.stdout.len(), 300_000);
    assert_eq!(run.output.stderr.len(), 200_000);
}
