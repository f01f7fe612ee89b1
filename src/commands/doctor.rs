//! `keyless doctor`: gathers what the checks need (the keyring's answer,
//! the AWS files, the server's clock, PATH) and prints the report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::cli::{DoctorArgs, OutputFormat};
use crate::commands::Ctx;
use crate::config::FileKind;
use crate::credentials;
use crate::doctor::{self, Report, clock};
use crate::scan::aws_files::{self, FileInput};
use crate::store::{KeyringStore, StoreError, StoreKind};

/// The keyring probe's deadline: long enough for an unlock prompt to show.
const STORE_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

#[allow(clippy::disallowed_methods)] // the one stdout writer of this command
pub fn run(args: &DoctorArgs) -> anyhow::Result<ExitCode> {
    let ctx = Ctx::load()?;
    let mut checks = vec![store_check(&ctx)];
    checks.extend(doctor::config_checks(&ctx.files));

    let read = |kind| {
        let path = ctx.env.path(kind);
        std::fs::read(&path)
            .ok()
            .map(|bytes| FileInput { path, bytes })
    };
    let (findings, _) = aws_files::analyse(
        read(FileKind::Credentials).as_ref(),
        read(FileKind::Config).as_ref(),
    );
    checks.extend(doctor::shadowing_checks(&findings));

    let endpoints = doctor::clock_endpoints(&ctx.files, |k| ctx.env.get(k).map(str::to_owned));
    if args.offline {
        checks.push(doctor::clock_skipped("--offline"));
    } else if endpoints.is_empty() {
        checks.push(doctor::clock_skipped("no sso-session in the config file"));
    } else {
        let answers = super::block_on(async {
            let mut answers = Vec::new();
            for url in endpoints.keys() {
                answers.push(clock::server_time(url, clock::CLOCK_CHECK_TIMEOUT).await);
            }
            answers
        })?;
        let now = credentials::now();
        for (url, answer) in endpoints.keys().zip(answers) {
            checks.push(doctor::clock_check(url, answer, now));
        }
    }

    let path_var = ctx.env.get("PATH").map(str::to_owned);
    let resolve = |program: &str| find_program(program, path_var.as_deref());
    checks.extend(doctor::path_checks(&ctx.files, &resolve));
    if cfg!(target_os = "linux") {
        checks.extend(doctor::companion_checks(&ctx.files, &resolve, &|p| {
            p.is_file()
        }));
    }

    let report = Report::new(checks);
    let mut out = std::io::stdout().lock();
    match args.format {
        OutputFormat::Text => doctor::write_text(&report, &mut out)?,
        OutputFormat::Json => doctor::write_json(&report, &mut out)?,
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Where a shell would find `program`: a path as given, or a bare name
/// searched on PATH; canonical, so two names of one file compare equal.
/// Which store keyless uses here, and whether it answers: `KEYLESS_STORE`
/// when set, else the Secret Service when it answers (asked with a
/// timeout), else the kernel keyring.
fn store_check(ctx: &Ctx) -> doctor::Check {
    let kernel_note = || {
        ctx.stores
            .for_session(Some(StoreKind::Keyutils))
            .token_note()
    };
    let secret_service = || KeyringStore::with_timeout(STORE_CHECK_TIMEOUT).check_available();
    let kernel = || {
        ctx.stores
            .kernel_check()
            .unwrap_or(Err(StoreError::Unavailable {
                trouble: crate::store::choice::KEYUTILS_ONLY_ON_LINUX,
                detail: "keyutils asked for".into(),
            }))
    };
    match ctx.stores.forced() {
        Some(StoreKind::Keyutils) => {
            doctor::store_check(StoreKind::Keyutils, kernel(), kernel_note())
        }
        Some(StoreKind::SecretService) => {
            doctor::store_check(StoreKind::SecretService, secret_service(), None)
        }
        None => match secret_service() {
            Ok(()) => doctor::store_check(StoreKind::SecretService, Ok(()), None),
            Err(e) => match ctx.stores.kernel_check() {
                Some(Ok(())) => doctor::store_check(StoreKind::Keyutils, Ok(()), kernel_note()),
                _ => doctor::store_check(StoreKind::SecretService, Err(e), None),
            },
        },
    }
}

fn find_program(program: &str, path_var: Option<&str>) -> Option<PathBuf> {
    let candidate = Path::new(program);
    if candidate.components().count() > 1 {
        if !is_executable(candidate) {
            return None;
        }
        return candidate.canonicalize().ok();
    }
    std::env::split_paths(path_var?)
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
        .and_then(|p| p.canonicalize().ok())
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}
