//! No secret in any file keyless writes or on stderr, even with -vv. The
//! emulator embeds a marker in every secret it issues.

use crate::world;

const MARKER: &str = "KEYLESSDEV";

#[test]
fn no_secret_in_files_or_logs() {
    let w = world!();
    let mut stderr = String::new();
    for args in [
        &["-vv", "login", "--sso-session", "corp", "--no-browser"][..],
        &["-vv", "credential-process", "--profile", "dev"],
        &["-vv", "credential-process", "--profile", "dev"],
        &["-vv", "logout", "--sso-session", "corp"],
    ] {
        let run = w.run(args);
        run.success();
        stderr.push_str(&run.stderr());
    }
    // the most verbose setting, on the network paths too
    for args in [
        &["login", "--sso-session", "corp", "--no-browser"][..],
        &["credential-process", "--profile", "dev"],
    ] {
        let out = w
            .command(args)
            .env("KEYLESS_LOG", "trace")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stderr.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    assert!(
        stderr.contains("TRACE") || stderr.contains("DEBUG"),
        "logs something: {stderr}"
    );
    assert!(!stderr.contains(MARKER), "a secret on stderr:\n{stderr}");
    // Positive control: the marker does reach the one place secrets go, so
    // the absence above means something.
    w.login();
    let run = w.run(&["credential-process", "--profile", "dev"]);
    run.success();
    assert!(
        run.stdout().contains(MARKER),
        "the emulator's secrets carry the marker: {}",
        run.stdout().len()
    );
    let files = w.files();
    assert!(!files.is_empty());
    for (path, bytes) in files {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(MARKER), "a secret in {}", path.display());
    }
}

#[test]
fn state_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let w = world!();
    w.login();
    w.run(&["credential-process", "--profile", "dev"]).success();
    let state = w.home.path().join(".local/state/keyless/state.json");
    let mode = std::fs::metadata(&state)
        .expect("state file")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let dir = std::fs::metadata(state.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir, 0o700);
}
