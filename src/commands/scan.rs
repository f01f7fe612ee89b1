//! `keyless scan`: find long-lived AWS keys and explain each one.
//!
//! Orchestration only: resolve the AWS file paths and the environment's
//! credentials from the injected [`Env`], run [`crate::scan::scan`], render
//! the report on stdout, name what could not be scanned on stderr, and turn
//! the result into the exit code (0 no long-lived key, 1 a long-lived key
//! found, 2 something could not be scanned). With `--write-baseline` the
//! full report is also written to a file; with `--baseline` the findings of
//! an earlier report are left out before rendering and before the exit
//! code is decided.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::UsageError;
use crate::cli::{ColorChoice, Format, ScanArgs};
use crate::config::{Env, FileKind};
use crate::scan::baseline::{self, Baseline};
use crate::scan::report::{json, sarif, text};
use crate::scan::walk::WalkOptions;
use crate::scan::{self, EnvCredentials, Options, Problem};

/// Entry point from the CLI: the real environment, stdout and stderr.
#[allow(clippy::disallowed_methods)] // the scan report's one stdout writer
pub fn main(args: &ScanArgs) -> anyhow::Result<ExitCode> {
    let env = Env::from_process();
    // The one deliberate stdout writer of `scan`: the report.
    let stdout = std::io::stdout();
    let is_terminal = stdout.is_terminal();
    let mut out = stdout.lock();
    let mut err = std::io::stderr().lock();
    run(args, &env, &mut out, &mut err, is_terminal)
}

/// Runs a scan with an injected environment and writers. `out_is_terminal`
/// decides colour with `--color auto`.
pub fn run(
    args: &ScanArgs,
    env: &Env,
    out: &mut dyn Write,
    err: &mut dyn Write,
    out_is_terminal: bool,
) -> anyhow::Result<ExitCode> {
    // Read first: a missing or corrupt baseline is a usage error (exit 2),
    // found before any work is done.
    let known = match &args.baseline {
        Some(path) => Some(Baseline::read(path).map_err(|e| {
            let usage = UsageError(e.to_string());
            match e.hint() {
                Some(hint) => crate::hint::hinted(usage, hint),
                None => usage.into(),
            }
        })?),
        None => None,
    };
    let (credentials_file, config_file) = if args.no_aws_files {
        (None, None)
    } else {
        (
            Some(env.path(FileKind::Credentials)),
            Some(env.path(FileKind::Config)),
        )
    };
    let options = Options {
        credentials_file,
        config_file,
        environment: (!args.no_env)
            .then(|| EnvCredentials::from_lookup(|name| env.get(name).map(str::to_string))),
        paths: args.paths.clone(),
        // Baselines name key IDs: not findings of their own.
        skip: args
            .baseline
            .iter()
            .chain(args.write_baseline.iter())
            .cloned()
            .collect(),
        walk: WalkOptions {
            no_ignore: args.no_ignore,
            follow_links: args.follow,
            max_file_size: args.max_file_size,
            threads: args.threads.unwrap_or(0),
        },
    };
    let mut report = scan::scan(&options);

    if let Some(path) = &args.write_baseline {
        // Every finding of this scan, the known ones included, so that a
        // baseline can be refreshed in the same run that uses it.
        if let Err(e) = baseline::write(path, &report) {
            let reason = match e {
                baseline::BaselineError::Write { reason, .. } => reason,
                other => other.to_string(),
            };
            report.errors.push(Problem {
                path: path.display().to_string(),
                message: format!(
                    "cannot write the baseline: {reason} (check that the directory exists and \
                     is writable)"
                ),
            });
        }
    }
    if let Some(known) = &known {
        known.apply(&mut report);
    }

    for problem in &report.errors {
        writeln!(err, "keyless: scan: {}: {}", problem.path, problem.message)?;
    }
    for note in &report.notes {
        writeln!(err, "keyless: scan: note: {}: {}", note.path, note.message)?;
    }

    match args.format {
        Format::Text => {
            let no_color = env.get("NO_COLOR").is_some_and(|v| !v.is_empty());
            let color = match args.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => out_is_terminal && !no_color,
            };
            let style = text::TextStyle {
                color,
                home: env.home().map(PathBuf::from),
            };
            text::write(&report, &style, out)
        }
        Format::Json => json::write(&report, out),
        Format::Sarif => sarif::write(
            &report,
            &sarif::SarifOptions {
                srcroot: std::env::current_dir().ok(),
            },
            out,
        ),
    }
    .context("cannot write the scan report")?;
    out.flush().context("cannot write the scan report")?;
    Ok(ExitCode::from(report.exit_code()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::Path;

    const AKIA: &str = "AKIARZPUZDIKGB2VALC4";

    /// Looks like a secret access key (40 base64 characters, high entropy)
    /// and carries a marker that must never reach any output.
    const SENTINEL_SECRET: &str = "SENTINEL/q7Rz+Kq2Wm9Xv4Lb/Tn8Yc3Hs6Jd1Fg";
    const SENTINEL_TOKEN: &str = "SENTINELtokenIQoJb3JpZ2luX2VjEHcaCXVzLWVhc3QtMSJHMEUCIQDq7Rz+Kq2Wm9Xv4Lb/Tn8Yc3Hs6Jd1Fg5Ae0Ui7OkAiB7bX9yQ2Wm9Xv4LbTn8Yc3Hs6Jd1Fg5Ae0Ui7Okp7Rz==";

    struct Home {
        dir: tempfile::TempDir,
    }

    impl Home {
        fn new() -> Home {
            let dir = tempfile::tempdir().unwrap();
            fs::create_dir(dir.path().join(".aws")).unwrap();
            Home { dir }
        }

        fn path(&self) -> &Path {
            self.dir.path()
        }

        fn env(&self, extra: &[(&str, &str)]) -> Env {
            let home = self.path().to_str().unwrap().to_string();
            let mut pairs = vec![("HOME", home.as_str())];
            pairs.extend_from_slice(extra);
            Env::from_pairs(&pairs)
        }
    }

    /// Writes a file readable by its owner only, as credentials files should be.
    fn write_private(path: &Path, text: &str) {
        fs::write(path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
        }
    }

    fn run_capture(args: &ScanArgs, env: &Env, tty: bool) -> (u8, String, String) {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let code = run(args, env, &mut out, &mut err, tty).unwrap();
        let code = if code == ExitCode::SUCCESS {
            0
        } else if code == ExitCode::from(1) {
            1
        } else if code == ExitCode::from(2) {
            2
        } else {
            255
        };
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn no_secret_value_in_any_output() {
        assert_eq!(SENTINEL_SECRET.len(), 40);
        let home = Home::new();
        let aws = home.path().join(".aws");
        fs::write(
            aws.join("credentials"),
            format!(
                "[default]\naws_access_key_id = {AKIA}\naws_secret_access_key = {SENTINEL_SECRET}\n\
                 [temp]\naws_access_key_id = ASIAY34FZKBOKMUTVV7A\n\
                 aws_secret_access_key = {SENTINEL_SECRET}\naws_session_token = {SENTINEL_TOKEN}\n\
                 [swapped]\naws_access_key_id = {SENTINEL_SECRET}\n\
                 aws_secret_access_key = {AKIA}\n\
                 [{SENTINEL_SECRET}\n"
            ),
        )
        .unwrap();
        fs::write(
            aws.join("config"),
            format!(
                "[profile default]\ncredential_process = keyless credential-process --profile default\n\
                 [profile role]\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = default\n\
                 [profile cfg]\naws_access_key_id = AKIA2E3RX7TBDLQ6WMPZ\n\
                 aws_secret_access_key = {SENTINEL_SECRET}\n\
                 {SENTINEL_SECRET} without an equals sign\n"
            ),
        )
        .unwrap();
        let project = home.path().join("project");
        fs::create_dir(&project).unwrap();
        fs::write(
            project.join(".env"),
            format!(
                "AWS_ACCESS_KEY_ID={AKIA}\nAWS_SECRET_ACCESS_KEY={SENTINEL_SECRET}\n\
                 AWS_SESSION_TOKEN={SENTINEL_TOKEN}\n"
            ),
        )
        .unwrap();
        let env = home.env(&[
            ("AWS_ACCESS_KEY_ID", SENTINEL_SECRET),
            ("AWS_SECRET_ACCESS_KEY", SENTINEL_SECRET),
            ("AWS_SESSION_TOKEN", SENTINEL_TOKEN),
        ]);
        for format in [Format::Text, Format::Json, Format::Sarif] {
            for color in [ColorChoice::Never, ColorChoice::Always] {
                let args = ScanArgs {
                    paths: vec![project.clone()],
                    format,
                    color,
                    ..ScanArgs::default()
                };
                let (code, out, err) = run_capture(&args, &env, false);
                assert_eq!(code, 1, "{format:?}");
                for (name, text) in [("stdout", &out), ("stderr", &err)] {
                    assert!(
                        !text.contains("SENTINEL"),
                        "{format:?} {name} leaks:\n{text}"
                    );
                    assert!(
                        !text.contains("q7Rz+Kq2Wm9Xv4Lb"),
                        "{format:?} {name} leaks"
                    );
                }
                // The scan did see all of it.
                assert!(out.contains(AKIA), "{format:?}");
                assert!(out.contains("AKIA2E3RX7TBDLQ6WMPZ"), "{format:?}");
                assert!(out.contains("ASIAY34FZKBOKMUTVV7A"), "{format:?}");
            }
        }
        // The free-form finding recognised the sentinel as the secret.
        let args = ScanArgs {
            paths: vec![project.clone()],
            format: Format::Json,
            ..ScanArgs::default()
        };
        let (_, out, _) = run_capture(&args, &env, false);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let env_finding = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["source"] == "file")
            .unwrap()
            .clone();
        assert_eq!(env_finding["severity"], "high");
        assert!(
            v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["source"] == "environment" && f["key_id"].is_null())
        );
    }

    #[test]
    fn exit_codes_and_sources() {
        let home = Home::new();
        let env = home.env(&[]);
        // Nothing at all: clean.
        let (code, out, err) = run_capture(&ScanArgs::default(), &env, false);
        assert_eq!((code, err.as_str()), (0, ""));
        assert!(out.starts_with("No AWS keys found"), "{out}");

        // A temporary key only: findings, but exit 0.
        write_private(
            &home.path().join(".aws/credentials"),
            "[t]\naws_access_key_id = ASIAY34FZKBOKMUTVV7A\naws_session_token = x\n",
        );
        let (code, out, _) = run_capture(&ScanArgs::default(), &env, false);
        assert_eq!(code, 0, "{out}");
        assert!(
            out.contains("No long-lived keys (1 finding: 1 low)"),
            "{out}"
        );

        // Something could not be scanned: 2, named on stderr.
        let args = ScanArgs {
            paths: vec![home.path().join("missing")],
            ..ScanArgs::default()
        };
        let (code, _, err) = run_capture(&args, &env, false);
        assert_eq!(code, 2);
        assert!(
            err.contains("missing: cannot scan: no such file or directory"),
            "{err}"
        );

        // A long-lived key wins over the error: 1.
        write_private(
            &home.path().join(".aws/credentials"),
            &format!("[default]\naws_access_key_id = {AKIA}\n"),
        );
        let (code, out, err) = run_capture(&args, &env, false);
        assert_eq!(code, 1);
        assert!(err.contains("missing"));
        assert!(out.contains("keyless retire --profile default"), "{out}");

        // --no-aws-files: the file is not read.
        let args = ScanArgs {
            no_aws_files: true,
            ..ScanArgs::default()
        };
        assert_eq!(run_capture(&args, &env, false).0, 0);
    }

    #[test]
    fn honours_aws_file_variables_and_no_env() {
        let home = Home::new();
        let elsewhere = home.path().join("elsewhere-creds");
        fs::write(&elsewhere, format!("[x]\naws_access_key_id = {AKIA}\n")).unwrap();
        let env = home.env(&[
            ("AWS_SHARED_CREDENTIALS_FILE", elsewhere.to_str().unwrap()),
            ("AWS_ACCESS_KEY_ID", "AKIA2E3RX7TBDLQ6WMPZ"),
        ]);
        let args = ScanArgs {
            format: Format::Json,
            ..ScanArgs::default()
        };
        let (code, out, _) = run_capture(&args, &env, false);
        assert_eq!(code, 1);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let sources: Vec<&str> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "long-term-key")
            .map(|f| f["source"].as_str().unwrap())
            .collect();
        assert_eq!(sources, vec!["credentials-file", "environment"]);
        let args = ScanArgs {
            format: Format::Json,
            no_env: true,
            ..ScanArgs::default()
        };
        let (_, out, _) = run_capture(&args, &env, false);
        assert!(!out.contains("\"environment\""), "{out}");
    }

    #[test]
    fn colour_follows_terminal_and_no_color() {
        let home = Home::new();
        write_private(
            &home.path().join(".aws/credentials"),
            &format!("[default]\naws_access_key_id = {AKIA}\n"),
        );
        let plain = home.env(&[]);
        let no_color = home.env(&[("NO_COLOR", "1")]);
        let empty_no_color = home.env(&[("NO_COLOR", "")]);
        let args = ScanArgs::default();
        let has_escape =
            |env: &Env, tty: bool, args: &ScanArgs| run_capture(args, env, tty).1.contains('\x1b');
        assert!(has_escape(&plain, true, &args));
        assert!(!has_escape(&plain, false, &args));
        assert!(!has_escape(&no_color, true, &args));
        assert!(has_escape(&empty_no_color, true, &args));
        let always = ScanArgs {
            color: ColorChoice::Always,
            ..ScanArgs::default()
        };
        assert!(has_escape(&no_color, false, &always));
        let never = ScanArgs {
            color: ColorChoice::Never,
            ..ScanArgs::default()
        };
        assert!(!has_escape(&plain, true, &never));
        // Home is shown as ~.
        assert!(
            run_capture(&args, &plain, false)
                .1
                .contains("~/.aws/credentials:2 [default]")
        );
    }
}
