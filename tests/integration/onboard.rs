//! `keyless onboard`, `profiles sync` and `retire` against the emulator
//! (Identity Center) and a local moto server (IAM, STS) holding real
//! access keys.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Moto, Run, START_URL, World};

/// An IAM user with an access key, made in moto.
struct Key {
    user: String,
    id: String,
    secret: String,
}

/// Runs Python (boto3) against moto's IAM; returns its stdout.
fn moto_py(moto: &Moto, code: &str) -> String {
    let mut cmd = Command::new("python3");
    cmd.args(["-c", code])
        .env("MOTO_URL", &moto.url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1");
    crate::harness::run_python(cmd, "python")
}

const IAM: &str = "import boto3, json, os, sys\n\
    iam = boto3.client('iam', endpoint_url=os.environ['MOTO_URL'])\n";

fn make_key(moto: &Moto, user: &str) -> Key {
    let out = moto_py(
        moto,
        &format!(
            "{IAM}iam.create_user(UserName='{user}')\n\
             k = iam.create_access_key(UserName='{user}')['AccessKey']\n\
             print(json.dumps([k['AccessKeyId'], k['SecretAccessKey']]))\n"
        ),
    );
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    Key {
        user: user.to_string(),
        id: v[0].as_str().unwrap().to_string(),
        secret: v[1].as_str().unwrap().to_string(),
    }
}

fn key_status(moto: &Moto, key: &Key) -> String {
    moto_py(
        moto,
        &format!(
            "{IAM}for k in iam.list_access_keys(UserName='{}')['AccessKeyMetadata']:\n    \
             print(k['AccessKeyId'], k['Status'])\n",
            key.user
        ),
    )
    .lines()
    .find_map(|l| l.strip_prefix(&format!("{} ", key.id)).map(str::to_string))
    .expect("the key is listed")
}

/// The account `keyless scan` decodes from each key ID in `creds`.
fn decoded_accounts(w: &World) -> Vec<(String, String)> {
    let run = w.run(&["scan", "--format", "json"]);
    let report: Value = serde_json::from_str(&run.stdout()).expect("scan JSON");
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| {
            Some((
                f["key_id"].as_str()?.to_string(),
                f["account"].as_str()?.to_string(),
            ))
        })
        .collect()
}

fn account(id: &str, name: &str) -> Value {
    json!({"accountId": id, "accountName": name, "emailAddress": format!("{name}@example.com"),
           "roles": ["Developer", "ReadOnly"]})
}

/// A world with moto for IAM and STS, no sso-session yet, and `keys`
/// in a CRLF credentials file with comments. The emulator serves three
/// accounts with two roles each: the keys' accounts, and others.
fn home(moto: &Moto, keys: &[&Key]) -> (World, String) {
    let mut w = World::new(&[]);
    for var in ["AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS"] {
        w.extra_env.push((var.into(), moto.url.clone()));
    }
    w.write_config(
        "# team settings, by hand\n[profile mine]\nregion = us-east-1 # keep\noutput = json\n",
    );
    let mut creds = String::from("# my old keys\r\n");
    for (i, key) in keys.iter().enumerate() {
        let name = if i == 0 {
            "default".to_string()
        } else {
            format!("old{i}")
        };
        creds.push_str(&format!(
            "[{name}]\r\naws_access_key_id = {}\r\naws_secret_access_key = {}\r\nregion = eu-west-1\r\n\r\n",
            key.id, key.secret
        ));
    }
    w.write_credentials(&creds);
    set_mode(&w.credentials_path(), 0o600);
    let mut ids: Vec<String> = decoded_accounts(&w).into_iter().map(|(_, a)| a).collect();
    ids.extend(["444455556666".to_string(), "777788889999".to_string()]);
    ids.dedup();
    let list: Vec<Value> = ids
        .iter()
        .take(3)
        .enumerate()
        .map(|(i, a)| account(a, &format!("team{i}")))
        .collect();
    w.emulator()
        .control("/_keyless/config", json!({"accounts": list}));
    (w, creds)
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn onboard(w: &World, extra: &[&str]) -> Run {
    let mut args = vec![
        "onboard",
        "--start-url",
        START_URL,
        "--sso-region",
        "us-east-1",
        "--sso-session",
        "corp",
        "--default-region",
        "eu-west-1",
        "--no-browser",
    ];
    args.extend_from_slice(extra);
    w.run(&args)
}

fn managed_profiles(w: &World) -> Vec<String> {
    std::fs::read_to_string(w.config_path())
        .unwrap()
        .lines()
        .filter_map(|l| {
            l.strip_prefix("[profile ")?
                .strip_suffix(']')
                .map(str::to_string)
        })
        .filter(|n| n != "mine")
        .collect()
}

/// The backup directories keyless made, oldest first.
fn backups(w: &World) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(w.state_dir().join("backups"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs
}

fn assert_no_secret(run: &Run, keys: &[&Key]) {
    for key in keys {
        assert!(!run.stdout().contains(&key.secret), "secret on stdout");
        assert!(!run.stderr().contains(&key.secret), "secret on stderr");
    }
    assert!(!run.stdout().contains("KEYLESSDEV") && !run.stderr().contains("KEYLESSDEV"));
}

#[test]
fn one_developers_home_from_static_keys_to_keyless_and_back() {
    let moto = Moto::start_with(&[]);
    let (alice, bob) = (make_key(&moto, "alice"), make_key(&moto, "bob"));
    let (w, original_creds) = home(&moto, &[&alice, &bob]);
    let original_config = std::fs::read(w.config_path()).unwrap();

    let run = onboard(&w, &["--yes"]);
    run.success();
    assert_no_secret(&run, &[&alice, &bob]);
    let profiles = managed_profiles(&w);
    assert_eq!(profiles.len(), 6, "{profiles:?}\n{}", run.stderr());
    let config = std::fs::read(w.config_path()).unwrap();
    // Everything that was there stays, byte for byte, in front.
    assert!(config.starts_with(&original_config));
    let text = String::from_utf8(config.clone()).unwrap();
    assert!(text.contains("[sso-session corp]\nsso_start_url = "));
    assert!(text.contains("keyless_managed = corp"));
    assert!(!text.contains("sso_account_id"));
    for profile in &profiles {
        let creds = w.run(&["credential-process", "--profile", profile]);
        let json = creds.success().process_json();
        assert!(
            json["AccessKeyId"].as_str().unwrap().starts_with("ASIA"),
            "{profile}"
        );
    }

    // Both static keys were retired; what else the sections held stays.
    let creds_after = std::fs::read_to_string(w.credentials_path()).unwrap();
    assert_eq!(
        creds_after,
        "# my old keys\r\n[default]\r\nregion = eu-west-1\r\n\r\n[old1]\r\nregion = eu-west-1\r\n\r\n",
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr().contains("retired 2 key(s)"),
        "{}",
        run.stderr()
    );
    w.run(&["scan"]).success();

    // The backup holds the original bytes, privately.
    let dirs = backups(&w);
    let retire_backup = dirs
        .iter()
        .find(|d| d.to_string_lossy().ends_with("-retire"))
        .unwrap();
    let saved = retire_backup.join("credentials");
    assert_eq!(std::fs::read_to_string(&saved).unwrap(), original_creds);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(retire_backup)
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );

    // A second onboard and a sync change no byte.
    let before = (std::fs::read(w.config_path()).unwrap(), creds_after.clone());
    onboard(&w, &["--yes"]).success();
    w.run(&["profiles", "sync"]).success();
    let after = (
        std::fs::read(w.config_path()).unwrap(),
        std::fs::read_to_string(w.credentials_path()).unwrap(),
    );
    assert!(before == after, "a second run changed the files");

    // Restore puts the original credentials back exactly.
    let dir = retire_backup.to_str().unwrap();
    w.run(&["retire", "--restore", dir]).success();
    assert_eq!(
        std::fs::read_to_string(w.credentials_path()).unwrap(),
        original_creds
    );
    let again = w.run(&["retire", "--restore", dir]);
    again.failure(1);
    assert!(
        again.stderr().contains("already restored"),
        "{}",
        again.stderr()
    );
}

#[test]
fn deactivation_dry_run_and_restore_in_iam() {
    let moto = Moto::start_with(&[]);
    // Bob's key is of another account (moto encodes its account in the
    // key IDs it issues).
    let elsewhere = Moto::start_with(&[("MOTO_ACCOUNT_ID", "210987654321")]);
    let (alice, bob) = (make_key(&moto, "alice"), make_key(&elsewhere, "bob"));
    let (w, _) = home(&moto, &[&alice, &bob]);
    // Only alice's account is in Identity Center: bob's key has no
    // replacement.
    let accounts = decoded_accounts(&w);
    let alice_account = &accounts.iter().find(|(k, _)| k == &alice.id).unwrap().1;
    w.emulator().control(
        "/_keyless/config",
        json!({"accounts": [account(alice_account, "team")]}),
    );
    // No terminal and no --yes: onboarding offers, and keeps the keys.
    let run = onboard(&w, &[]);
    run.success();
    let creds = std::fs::read(w.credentials_path()).unwrap();
    assert!(String::from_utf8_lossy(&creds).contains(&alice.id));

    // Dry run: the diff, masked; no file, no IAM call.
    let config = std::fs::read(w.config_path()).unwrap();
    let dry = w.run(&["retire", "--deactivate", "--dry-run"]);
    assert_no_secret(&dry, &[&alice, &bob]);
    let diff = dry.stdout();
    assert!(
        diff.contains(&format!("-aws_access_key_id = {}", alice.id)),
        "{diff}"
    );
    assert!(diff.contains("-aws_secret_access_key = ****"), "{diff}");
    assert!(!diff.contains(&bob.id), "{diff}");
    assert_eq!(std::fs::read(w.credentials_path()).unwrap(), creds);
    assert_eq!(std::fs::read(w.config_path()).unwrap(), config);
    assert_eq!(key_status(&moto, &alice), "Active");
    // Bob's key is kept, and the message says how to map it.
    assert!(
        dry.stderr().contains("--map old1=ACCOUNT/ROLE"),
        "{}",
        dry.stderr()
    );
    dry.failure(1);

    let run = w.run(&["retire", "--deactivate", "--yes"]);
    assert_no_secret(&run, &[&alice, &bob]);
    run.failure(1); // bob's key is kept
    assert!(
        run.stderr().contains("last used") || run.stderr().contains("no recorded use"),
        "{}",
        run.stderr()
    );
    assert_eq!(key_status(&moto, &alice), "Inactive");
    assert_eq!(key_status(&elsewhere, &bob), "Active");
    let after = std::fs::read_to_string(w.credentials_path()).unwrap();
    assert!(!after.contains(&alice.id) && after.contains(&bob.id));

    let dir = backups(&w)
        .into_iter()
        .find(|d| d.to_string_lossy().ends_with("-retire"))
        .unwrap();
    w.run(&["retire", "--restore", dir.to_str().unwrap()])
        .success();
    assert_eq!(key_status(&moto, &alice), "Active");
    assert_eq!(std::fs::read(w.credentials_path()).unwrap(), creds);

    // --map keeps the name and points it at Identity Center.
    let run = w.run(&[
        "retire",
        "--profile",
        "old1",
        "--map",
        &format!("old1={alice_account}/Developer"),
        "--yes",
    ]);
    run.failure(1); // the decoded account of bob's key is not that one
    assert!(
        run.stderr().contains("--map names account"),
        "{}",
        run.stderr()
    );
    let map = w.run(&[
        "retire",
        "--profile",
        "default",
        "--map",
        &format!("default={alice_account}/ReadOnly"),
        "--yes",
    ]);
    map.success();
    let config = std::fs::read_to_string(w.config_path()).unwrap();
    assert!(
        config.contains(
            "\n[default]\ncredential_process = keyless credential-process --profile default\n"
        ),
        "{config}"
    );
    w.run(&["credential-process", "--profile", "default"])
        .success();
}

#[test]
fn bom_and_crlf_files_keep_every_byte_outside_the_managed_profiles() {
    let w = World::new(&[]);
    let config = "\u{feff}# mine\r\n[profile mine]\r\nregion = us-east-1\r\n";
    w.write_config(config);
    let run = onboard(&w, &[]);
    run.success();
    assert!(run.stderr().contains("byte-order mark"), "{}", run.stderr());
    let after = std::fs::read_to_string(w.config_path()).unwrap();
    assert!(after.starts_with(config), "{after:?}");
    assert!(after.contains("\r\n[sso-session corp]\r\n"), "{after:?}");
    assert!(
        !after[config.len()..].replace("\r\n", "").contains('\n'),
        "LF line in a CRLF file"
    );
    let run = w.run(&["profiles", "sync", "--dry-run"]);
    run.success();
    assert_eq!(run.stdout(), "", "a sync of unchanged roles has no diff");
}

#[test]
fn a_file_changed_during_onboarding_is_not_overwritten() {
    let w = World::new(&[]);
    w.write_config("[profile mine]\nregion = us-east-1\n");
    // Approval after three polls, one a second: time to edit the file.
    w.emulator().control(
        "/_keyless/config",
        json!({"approval": {"mode": "auto", "afterPolls": 3}}),
    );
    let child = w
        .command(&[
            "onboard",
            "--start-url",
            START_URL,
            "--sso-region",
            "us-east-1",
            "--no-browser",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while w.emulator().count("StartDeviceAuthorization") == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no device authorization"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let edited = "[profile mine]\nregion = us-east-1\n# edited meanwhile\n";
    w.write_config(edited);
    let run = Run::wait(child, &["onboard"], Duration::from_secs(120));
    run.failure(1);
    assert!(run.stderr().contains("changed on disk"), "{}", run.stderr());
    assert_eq!(std::fs::read_to_string(w.config_path()).unwrap(), edited);
    // Run again: it reads the new contents.
    onboard(&w, &[]).success();
    assert!(
        std::fs::read_to_string(w.config_path())
            .unwrap()
            .starts_with(edited)
    );
}

#[test]
fn aws_cli_sso_profiles_are_converted_and_bad_input_is_refused() {
    let w = World::new(&[]);
    let config = format!(
        "[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n\n\
         [profile legacy]\nsso_session = corp\nsso_account_id = 444455556666\nsso_role_name = Developer\noutput = json\n"
    );
    w.write_config(&config);
    let run = onboard(&w, &[]);
    run.success();
    assert!(run.stderr().contains("--convert"), "{}", run.stderr());
    let run = w.run(&["profiles", "sync", "--convert"]);
    run.success();
    let after = std::fs::read_to_string(w.config_path()).unwrap();
    assert!(after.starts_with(&format!(
        "[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n"
    )));
    assert!(!after.contains("sso_account_id"), "{after}");
    w.run(&["credential-process", "--profile", "legacy"])
        .success();

    for (args, needle) in [
        (
            vec![
                "onboard",
                "--start-url",
                "nope",
                "--sso-region",
                "us-east-1",
            ],
            "--start-url",
        ),
        (
            vec![
                "onboard",
                "--start-url",
                START_URL,
                "--sso-region",
                "us-east-1",
                "--profile-template",
                "{account}",
            ],
            "{account_name}",
        ),
        (vec!["retire", "--map", "x=1/y"], "--map"),
        (vec!["retire", "--profile", "nosuch"], "keyless scan"),
    ] {
        let run = w.run(&args);
        run.failure(2);
        assert!(run.stderr().contains(needle), "{args:?}: {}", run.stderr());
    }
    let run = w.run(&["retire", "--restore", w.home.path().to_str().unwrap()]);
    run.failure(1);
    assert!(
        run.stderr().contains("not a keyless backup"),
        "{}",
        run.stderr()
    );
}

/// `packaging/onboard/onboard.sh` under dash (`sh`) and bash, against the
/// emulator, with the environment overriding its settings.
#[test]
fn the_rollout_script_onboards_under_sh_and_bash() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/onboard/onboard.sh");
    let script = script.to_str().unwrap();
    for shell in ["sh", "bash"] {
        let w = World::new(&[]);
        w.write_config("# mine\n[profile mine]\nregion = us-east-1\n");
        let run = |args: &[&str], env: &[(&str, &str)]| {
            let mut cmd = w.command_for(shell, &[&[script][..], args].concat());
            cmd.env("KEYLESS_START_URL", START_URL)
                .env("KEYLESS_SSO_REGION", "us-east-1")
                .env("KEYLESS_DEFAULT_REGION", "eu-west-1")
                .env("KEYLESS_PROFILE_TEMPLATE", "{account_name}.{role_name}");
            for (k, v) in env {
                cmd.env(k, v);
            }
            let child = cmd
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            Run::wait(child, args, Duration::from_secs(120))
        };
        let before = std::fs::read(w.config_path()).unwrap();
        let dry = run(&["--dry-run"], &[]);
        dry.success();
        assert!(
            dry.stdout().contains("+[profile sandbox.Developer]"),
            "{shell}: {}",
            dry.stdout()
        );
        assert_eq!(
            std::fs::read(w.config_path()).unwrap(),
            before,
            "{shell}: dry run wrote"
        );

        let done = run(&["--yes"], &[]);
        done.success();
        let config = std::fs::read_to_string(w.config_path()).unwrap();
        assert!(
            config.contains("[profile production.ReadOnly]"),
            "{shell}: {config}"
        );
        assert!(config.contains("region = eu-west-1"), "{shell}");
        w.run(&["credential-process", "--profile", "staging.Developer"])
            .success();

        run(&[], &[("KEYLESS_START_URL", "not-a-url")]).failure(2);
        run(&["--bogus"], &[]).failure(2);
        // A template keyless refuses is a configuration error: 2.
        run(&[], &[("KEYLESS_PROFILE_TEMPLATE", "{nope}")]).failure(2);
        // keyless failing is 1: a sign-in that is denied.
        w.emulator()
            .control("/_keyless/config", json!({"approval": {"mode": "deny"}}));
        let denied = run(
            &[],
            &[("KEYLESS_START_URL", "https://other.awsapps.com/start")],
        );
        denied.failure(1);
        // No keyless anywhere: 3.
        let missing = run(&[], &[("PATH", "/usr/bin:/bin")]);
        missing.failure(3);
        assert!(
            missing.stderr().contains("not installed"),
            "{}",
            missing.stderr()
        );
    }
}
