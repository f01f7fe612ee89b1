//! `keyless scan`, run as a user runs it: the real binary, a temporary
//! HOME, the AWS file variables pointing into it, and none of the real
//! AWS_* variables.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::harness::{Run, World};

const AKIA: &str = "AKIARZPUZDIKGB2VALC4"; // account 123456789012
const ASIA: &str = "ASIAY34FZKBOKMUTVV7A"; // account 609629065308
const SECRET: &str = "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";

/// A scan on the shared harness's bare world: a temporary HOME, the AWS
/// file variables pointing into it, none of the real AWS_* variables, and
/// a time limit on every run.
struct Sandbox {
    world: World,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            world: World::bare(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.world.home.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.path(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).expect("mkdir");
        }
        fs::write(&path, text).expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        path
    }

    /// `keyless` in the sandbox, run from its HOME; colour is left to
    /// each test.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.world.command(args);
        cmd.env_remove("NO_COLOR")
            .current_dir(self.world.home.path());
        cmd
    }

    fn scan(&self, args: &[&str]) -> Output {
        let mut all = vec!["scan"];
        all.extend_from_slice(args);
        finish(self.command(&all))
    }
}

/// Runs a prepared command to the end, bounded in time.
fn finish(mut cmd: Command) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run keyless");
    Run::wait(child, &["scan"], Duration::from_secs(120)).output
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("utf-8 stderr")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON document")
}

#[test]
fn clean_machine_exits_0() {
    let sandbox = Sandbox::new();
    sandbox.write(
        ".aws/config",
        "[profile dev]\ncredential_process = keyless credential-process --profile dev\n",
    );
    let out = sandbox.scan(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("No AWS keys found"),
        "{}",
        stdout(&out)
    );
    assert!(
        !stdout(&out).contains('\x1b'),
        "no colour when stdout is a pipe"
    );
    assert_eq!(stderr(&out), "");
}

#[test]
fn long_lived_key_exits_1_with_json_report() {
    let sandbox = Sandbox::new();
    sandbox.write(
        ".aws/credentials",
        &format!("[default]\naws_access_key_id = {AKIA}\naws_secret_access_key = {SECRET}\n"),
    );
    sandbox.write(
        ".aws/config",
        "[profile default]\ncredential_process = keyless credential-process --profile default\n",
    );
    let out = sandbox.scan(&["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json(&out);
    let kinds: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, vec!["long-term-key", "shadowed-profile"]);
    let key = &v["findings"][0];
    assert_eq!(
        key["file"],
        sandbox.path(".aws/credentials").display().to_string()
    );
    assert_eq!(key["line"], 2);
    assert_eq!(key["profile"], "default");
    assert_eq!(key["key_id"], AKIA);
    assert_eq!(key["account"], "123456789012");
    assert_eq!(key["severity"], "high");
    assert_eq!(v["summary"]["long_lived_keys"], 1);
    assert_eq!(v["summary"]["exit_code"], 1);
    assert!(!stdout(&out).contains("SENTINEL"));
}

#[test]
fn paths_are_walked_and_unreadable_ones_named_on_stderr() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "proj/.env",
        &format!(
            "AWS_ACCESS_KEY_ID={ASIA}\nAWS_SESSION_TOKEN={}\n",
            "IQoJb3JpZ2luX2Vj".repeat(10)
        ),
    );
    sandbox.write("proj/src/app.py", "print('hello')\n");
    let out = sandbox.scan(&["proj", "does-not-exist", "--format", "json"]);
    // A temporary key only, but one path could not be scanned: 2.
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("does-not-exist"), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["findings"][0]["kind"], "temporary-key");
    assert_eq!(v["findings"][0]["file"], "proj/.env");
    assert_eq!(v["findings"][0]["account"], "609629065308");
    assert_eq!(v["summary"]["errors"], 1);
}

#[test]
fn environment_is_scanned_unless_no_env() {
    let sandbox = Sandbox::new();
    let mut cmd = sandbox.command(&["scan", "--format", "json"]);
    cmd.env("AWS_ACCESS_KEY_ID", AKIA)
        .env("AWS_SECRET_ACCESS_KEY", SECRET);
    let out = finish(cmd);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["findings"][0]["source"], "environment");
    assert!(!stdout(&out).contains("SENTINEL") && !stderr(&out).contains("SENTINEL"));

    let mut cmd = sandbox.command(&["scan", "--no-env"]);
    cmd.env("AWS_ACCESS_KEY_ID", AKIA);
    assert_eq!(finish(cmd).status.code(), Some(0));
}

#[test]
fn sarif_output_validates_against_the_schema() {
    let sandbox = Sandbox::new();
    sandbox.write(
        ".aws/credentials",
        &format!(
            "[default]\naws_access_key_id = {AKIA}\naws_secret_access_key = {SECRET}\n\
             [temp]\naws_access_key_id = {ASIA}\n"
        ),
    );
    sandbox.write(
        ".aws/config",
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = default\n",
    );
    sandbox.write("a dir/notes.md", &format!("old key: {AKIA}\n"));
    let out = sandbox.scan(&["--format", "sarif", "a dir", "missing"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let log = json(&out);
    let errors = sarif_schema_errors(&log);
    assert!(errors.is_empty(), "{errors:#?}");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 4);
    assert!(results.iter().any(|r| {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "a%20dir/notes.md"
    }));
    assert_eq!(
        log["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
}

fn sarif_schema_errors(log: &serde_json::Value) -> Vec<String> {
    // The published schema's `language` patterns have a stray `]`; see the
    // unit test in src/scan/report/sarif.rs.
    const BAD: &str = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    const FIXED: &str = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-2.1.0-rtm.5.json");
    let text = fs::read_to_string(path).expect("vendored SARIF schema");
    let schema: serde_json::Value =
        serde_json::from_str(&text.replace(BAD, FIXED)).expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    validator
        .iter_errors(log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

#[test]
fn usage_errors_exit_2() {
    let sandbox = Sandbox::new();
    let out = sandbox.scan(&["--format", "yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("yaml"));
}

#[test]
fn broken_files_do_not_stop_the_scan() {
    let sandbox = Sandbox::new();
    // A credentials "file" that is a directory, a config file with a BOM
    // and a non-UTF-8 line.
    fs::create_dir_all(sandbox.path("creds-dir")).expect("mkdir");
    let mut config = b"\xEF\xBB\xBF[profile p]\n# caf\xE9\n".to_vec();
    config.extend_from_slice(format!("aws_access_key_id = {AKIA}\n").as_bytes());
    fs::write(sandbox.path(".aws/config"), config).expect("write");
    let mut cmd = sandbox.command(&["scan", "--format", "json"]);
    cmd.env("AWS_SHARED_CREDENTIALS_FILE", sandbox.path("creds-dir"));
    let out = finish(cmd);
    // The key is found (1) and the directory is named on stderr.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("creds-dir: is a directory"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("byte-order mark"), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["findings"][0]["profile"], "p");
    assert_eq!(v["findings"][0]["line"], 3);
}

/// Every case in tests/data/scan: the findings as `kind line profile key_id`.
#[test]
fn fixture_cases() {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scan");
    let mut ran = 0;
    let mut dirs: Vec<PathBuf> = fs::read_dir(&cases)
        .expect("fixture directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for case in dirs {
        let name = case
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let sandbox = Sandbox::new();
        for file in ["credentials", "config"] {
            if let Ok(bytes) = fs::read(case.join(file)) {
                let path = sandbox.write(&format!(".aws/{file}"), "");
                fs::write(path, bytes).expect("copy fixture");
            }
        }
        let out = sandbox.scan(&["--format", "json", "--no-env"]);
        let v = json(&out);
        let field = |f: &serde_json::Value, k: &str| match &f[k] {
            serde_json::Value::Null => "-".to_string(),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut got: Vec<String> = v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                format!(
                    "{} {} {} {}",
                    field(f, "kind"),
                    field(f, "line"),
                    field(f, "profile"),
                    field(f, "key_id")
                )
            })
            .collect();
        got.sort();
        let expected_text = fs::read_to_string(case.join("expected")).expect("expected");
        let mut expected: Vec<String> = expected_text.lines().map(str::to_string).collect();
        expected.sort();
        assert_eq!(got, expected, "case {name}");
        let long_lived = v["summary"]["long_lived_keys"].as_u64().expect("count") > 0;
        assert_eq!(
            out.status.code(),
            Some(i32::from(long_lived)),
            "case {name}"
        );
        assert!(!stdout(&out).contains("wJalrXUtnFEMI"), "case {name}");
        ran += 1;
    }
    assert!(ran >= 5, "only {ran} fixture cases found");
}

/// A second secret with the marker, as a lone secret would appear.
const LONE_SECRET: &str = "SENTINEL+Xp4Ld9Qw2Zr7Tb5Nc1Vm8Hj3Kf6Gs0A";
/// A genuine key ID of account 000000000001 (IDENTITY-CENTER.md §5.3): a
/// long run of one letter after the prefix, then the random part.
const SMALL_ACCOUNT_KEY: &str = "AKIAQAAAAAAASLNVZ4VM";
const NEW_KEY: &str = "AKIA2E3RX7TBDLQ6WMPZ";

fn private_mode(path: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).expect("stat").permissions().mode() & 0o777
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        0o600
    }
}

#[test]
fn small_account_key_is_reported_and_placeholders_are_not() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "proj/settings.py",
        &format!(
            "REAL = '{SMALL_ACCOUNT_KEY}'\n\
             PLACEHOLDER = 'AKIAXXXXXXXXXXXXXXXX'\n\
             ZEROS = 'AKIA0000000000000000'\n\
             DOC = 'AKIAIOSFODNN7EXAMPLE'\n\
             RUN = 'AKIAQAAAAAAAAAAAAAAA'\n"
        ),
    );
    let out = sandbox.scan(&["--no-env", "--format", "json", "proj"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json(&out);
    let keys: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["key_id"].as_str())
        .collect();
    assert_eq!(keys, vec![SMALL_ACCOUNT_KEY]);
    assert_eq!(v["findings"][0]["account"], "000000000001");
    assert_eq!(v["findings"][0]["line"], 1);
}

#[test]
fn lone_secret_is_reported_and_never_printed() {
    assert_eq!(LONE_SECRET.len(), 40);
    let sandbox = Sandbox::new();
    sandbox.write(
        "proj/.env",
        &format!("# deploy settings\nAWS_SECRET_ACCESS_KEY={LONE_SECRET}\n"),
    );
    sandbox.write(
        "proj/ci.yml",
        &format!("env:\n  aws_secret_access_key: \"{LONE_SECRET}\"\n"),
    );
    sandbox.write(
        ".aws/credentials",
        &format!("[orphan]\naws_secret_access_key = {LONE_SECRET}\n"),
    );
    let baseline = sandbox.path("base.json");
    for format in ["text", "json", "sarif"] {
        let out = sandbox.scan(&[
            "--no-env",
            "--format",
            format,
            "--write-baseline",
            baseline.to_str().expect("utf-8 path"),
            "proj",
        ]);
        // No session token nearby: the secret of a long-term key.
        assert_eq!(out.status.code(), Some(1), "{format}: {}", stderr(&out));
        let written = fs::read_to_string(&baseline).expect("baseline written");
        for (name, text) in [
            ("stdout", stdout(&out)),
            ("stderr", stderr(&out)),
            ("baseline", written),
        ] {
            assert!(!text.contains("SENTINEL"), "{format} {name} leaks:\n{text}");
            assert!(!text.contains("Xp4Ld9Qw2Zr7"), "{format} {name} leaks");
        }
        // Positive control: the findings are there, at the right places.
        let text = stdout(&out);
        match format {
            "text" => {
                assert!(text.contains("secret access key"), "{text}");
                assert!(text.contains("proj/.env:2"), "{text}");
                assert!(text.contains("proj/ci.yml:2"), "{text}");
                assert!(text.contains("~/.aws/credentials:2 [orphan]"), "{text}");
            }
            "json" => {
                let v = json(&out);
                let lone: Vec<&serde_json::Value> = v["findings"]
                    .as_array()
                    .expect("findings")
                    .iter()
                    .filter(|f| f["kind"] == "secret-access-key")
                    .collect();
                assert_eq!(lone.len(), 3, "{text}");
                for f in &lone {
                    assert!(f["key_id"].is_null());
                    assert_eq!(f["severity"], "medium");
                    assert_eq!(f["long_lived"], true);
                    assert_eq!(f["fingerprint"].as_str().map(str::len), Some(32));
                }
                // The same secret in two files: two findings, two fingerprints.
                assert_ne!(lone[0]["fingerprint"], lone[1]["fingerprint"]);
            }
            _ => {
                let log = json(&out);
                assert!(sarif_schema_errors(&log).is_empty());
                let results = log["runs"][0]["results"].as_array().expect("results");
                assert_eq!(
                    results
                        .iter()
                        .filter(|r| r["ruleId"] == "secret-access-key")
                        .count(),
                    3
                );
            }
        }
    }
    assert_eq!(private_mode(&baseline), 0o600);
}

#[test]
fn allow_markers_suppress_and_are_counted() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "proj/fixtures.py",
        &format!(
            "SECRET = dict(aws_secret_access_key='{LONE_SECRET}')  # gitleaks:allow\n\
             \n\n\n\n\n\n\
             # keyless:allow\n\
             KEY = '{AKIA}'\n\
             \n\n\n\n\n\n\
             OTHER = '{NEW_KEY}'  # keyless:allow\n"
        ),
    );
    let out = sandbox.scan(&["--no-env", "--format", "json", "proj"]);
    // Every finding is suppressed: clean.
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let v = json(&out);
    assert_eq!(v["findings"].as_array().map(Vec::len), Some(0));
    assert_eq!(v["summary"]["suppressed"], 3);
    let suppressed: Vec<&str> = v["suppressed"]
        .as_array()
        .expect("suppressed list")
        .iter()
        .map(|f| f["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(suppressed.len(), 3, "{suppressed:?}");
    assert!(suppressed.contains(&"secret-access-key"));

    let out = sandbox.scan(&["--no-env", "proj"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).starts_with("No AWS keys reported (3 suppressed by allow markers)"),
        "{}",
        stdout(&out)
    );

    let out = sandbox.scan(&["--no-env", "--format", "sarif", "proj"]);
    assert_eq!(out.status.code(), Some(0));
    let log = json(&out);
    assert!(sarif_schema_errors(&log).is_empty());
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 3);
    assert!(
        results
            .iter()
            .all(|r| r["suppressions"][0]["kind"] == "inSource")
    );
    assert_eq!(log["runs"][0]["properties"]["suppressedFindings"], 3);
    for text in [stdout(&out), stderr(&out)] {
        assert!(!text.contains("SENTINEL"));
    }

    // Without the markers the same file fails the scan.
    let unmarked = fs::read_to_string(sandbox.path("proj/fixtures.py"))
        .expect("read")
        .replace("keyless:allow", "")
        .replace("gitleaks:allow", "");
    sandbox.write("proj/fixtures.py", &unmarked);
    let out = sandbox.scan(&["--no-env", "--format", "json", "proj"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["summary"]["suppressed"], 0);
}

#[test]
fn baseline_run_reports_only_the_new_key() {
    let sandbox = Sandbox::new();
    let old = format!(
        "line one\n\
         aws_access_key_id = {AKIA}\n\
         aws_secret_access_key = {SECRET}\n\
         \n\n\n\n\n\n\n\
         AWS_SECRET_ACCESS_KEY={LONE_SECRET}\n"
    );
    sandbox.write("proj/app.env", &old);
    // The baseline lives in the scanned tree: it names key IDs, and must
    // not become a finding itself.
    let out = sandbox.scan(&[
        "--no-env",
        "--no-aws-files",
        "--write-baseline",
        "proj/.keyless-baseline.json",
        "--format",
        "json",
        "proj",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(json(&out)["findings"].as_array().map(Vec::len), Some(2));
    let baseline = sandbox.path("proj/.keyless-baseline.json");
    assert_eq!(private_mode(&baseline), 0o600);

    // Known findings only, lines moved around: clean.
    let moved = format!(
        "AWS_SECRET_ACCESS_KEY={LONE_SECRET}\n\
         \n\n\n\n\n\n\n\
         new first line\n\
         aws_secret_access_key = {SECRET}\n\
         aws_access_key_id = {AKIA}\n"
    );
    sandbox.write("proj/app.env", &moved);
    let args = [
        "--no-env",
        "--no-aws-files",
        "--baseline",
        "proj/.keyless-baseline.json",
        "--format",
        "json",
        "proj",
    ];
    let out = sandbox.scan(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let v = json(&out);
    assert_eq!(v["findings"].as_array().map(Vec::len), Some(0), "{v:#}");
    assert_eq!(v["summary"]["baselined"], 2);

    // A new key among the old ones: only it is reported, and it fails.
    sandbox.write(
        "proj/app.env",
        &format!("{moved}\n\n\n\n\n\n\nexport AWS_ACCESS_KEY_ID={NEW_KEY}\n"),
    );
    let out = sandbox.scan(&args);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let v = json(&out);
    let keys: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["key_id"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(keys, vec![NEW_KEY]);
    assert_eq!(v["summary"]["baselined"], 2);

    // The text report says how many were left out.
    let out = sandbox.scan(
        &args[..4]
            .iter()
            .chain(["proj"].iter())
            .copied()
            .collect::<Vec<_>>(),
    );
    assert!(
        stdout(&out).contains("2 findings already in the baseline"),
        "{}",
        stdout(&out)
    );

    // A plain `--format json` report works as a baseline too.
    let report = sandbox.scan(&["--no-env", "--no-aws-files", "--format", "json", "proj"]);
    fs::write(sandbox.path("report.json"), &report.stdout).expect("write report");
    let out = sandbox.scan(&[
        "--no-env",
        "--no-aws-files",
        "--baseline",
        "report.json",
        "proj",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn missing_or_corrupt_baseline_is_a_usage_error() {
    let sandbox = Sandbox::new();
    sandbox.write("proj/a.txt", &format!("{AKIA}\n"));
    let out = sandbox.scan(&["--no-env", "--baseline", "nope.json", "proj"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("nope.json"), "{err}");
    assert!(err.contains("no such file"), "{err}");
    assert!(
        err.contains("keyless scan --write-baseline nope.json"),
        "{err}"
    );
    assert_eq!(stdout(&out), "");

    sandbox.write("bad.json", "{\"findings\": 3");
    let out = sandbox.scan(&["--no-env", "--baseline", "bad.json", "proj"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a keyless scan JSON report"),
        "{}",
        stderr(&out)
    );

    // A baseline that cannot be written is named, and the scan still runs.
    let out = sandbox.scan(&["--no-env", "--write-baseline", "no/such/dir/b.json", "proj"]);
    assert_eq!(out.status.code(), Some(1), "the key still decides");
    assert!(
        stderr(&out).contains("cannot write the baseline"),
        "{}",
        stderr(&out)
    );
}
