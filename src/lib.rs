//! keyless: short-lived AWS credentials from IAM Identity Center, cached in
//! the OS keyring, instead of long-lived access keys.

pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod aws;
pub(crate) mod cli;
pub(crate) mod commands;
pub(crate) mod config;
pub(crate) mod credentials;
pub(crate) mod doctor;
pub(crate) mod emulator;
pub(crate) mod files;
pub mod front;
pub(crate) mod hint;
pub(crate) mod identity_center;
pub(crate) mod ini_edit;
pub(crate) mod onboard;
pub(crate) mod policy;
pub(crate) mod scan;
pub(crate) mod secret;
pub(crate) mod shell;
pub(crate) mod store;
pub(crate) mod terminal;

/// The parsers that the fuzz targets drive; nothing else is public.
pub mod fuzzing {
    pub use crate::scan::aws_files::{FileInput, analyse};
    pub use crate::scan::freeform;
    pub use crate::scan::keyid::looks_like_key_id;
}

/// `keyless --version`: the package version and, when built from a git
/// checkout, the short commit (set by build.rs).
pub(crate) const VERSION: &str = env!("KEYLESS_VERSION");

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

/// A command line that parses but asks for something impossible (a bad
/// option value, a combination that makes no sense). Exits 2, like a clap
/// usage error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The one exit path: parse, dispatch, print the error chain once, map it
/// to an exit code (0 success, 1 failure, 2 usage).
pub fn run() -> ExitCode {
    let mut argv = std::env::args_os().skip(1);
    match argv.next() {
        // `keyless prompt` runs on every shell prompt: it parses only its
        // own flags, sets up no logging, and never fails loudly. (On Linux
        // the small `keyless` answers it first; this is macOS and Windows.)
        Some(first) if first == "prompt" => {
            let args = match cli::PromptArgs::from_plain_argv(argv) {
                Some(args) => args,
                None => match cli::PromptOnly::try_parse() {
                    Ok(only) => only.args,
                    Err(err) => return clap_exit(&err),
                },
            };
            return finish(commands::prompt::run(&args));
        }
        // `keyless credential-process` runs whenever an SDK wants
        // credentials, and is mostly a cache hit: its plain command lines
        // skip the clap command tree, and logging is set up only when the
        // cache misses (a hit logs nothing above debug). With KEYLESS_LOG
        // set, the usual path runs, so that every event is shown. On Linux
        // this is where the small `keyless` hands a miss over.
        Some(first) if first == "credential-process" && std::env::var_os(LOG_ENV).is_none() => {
            if let Some(args) = cli::CredentialProcessArgs::from_plain_argv(argv) {
                return finish(commands::credential_process::run_logging_late(args, || {
                    init_logging(0)
                }));
            }
        }
        _ => {}
    }
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return clap_exit(&err),
    };
    init_logging(cli.verbose);
    commands::set_quiet(cli.quiet);
    finish(commands::dispatch(cli.command))
}

/// The exit code of a command's result.
pub(crate) fn finish(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(err) => report(&err),
    }
}

/// Prints the error chain once, with its hint, and maps it to the exit code.
pub(crate) fn report(err: &anyhow::Error) -> ExitCode {
    if is_broken_pipe(err) {
        return ExitCode::SUCCESS;
    }
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{}", error_report(err));
    if hint::is::<UsageError>(err) {
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    }
}

/// Help and version go to stdout with exit 0; usage errors to stderr
/// with exit 2. A closed pipe is not an error.
fn clap_exit(err: &clap::Error) -> ExitCode {
    let _ = err.print();
    if err.use_stderr() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// What the user sees of an error: `keyless: <what failed>: <why>` and,
/// when there is a next step, `hint: <what to do>` on a line of its own.
pub(crate) fn error_report(err: &anyhow::Error) -> String {
    match hint::hint(err) {
        Some(hint) => format!("keyless: {}\nhint: {hint}", error_chain(err)),
        None => format!("keyless: {}", error_chain(err)),
    }
}

/// `outer: cause: root cause`, each cause once.
pub fn error_chain(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&cause.to_string());
    }
    out
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The environment variable that sets the log level.
pub(crate) const LOG_ENV: &str = "KEYLESS_LOG";

/// Logs go to stderr and only keyless's own events are shown: the HTTP
/// and SDK layers below could log request headers, which carry tokens.
/// `KEYLESS_LOG` takes a level (`error`, `warn`, `info`, `debug`, `trace`).
fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let from_env = std::env::var(LOG_ENV)
        .ok()
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| ["error", "warn", "info", "debug", "trace"].contains(&v.as_str()));
    let level = from_env.unwrap_or_else(|| {
        match verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
        .to_string()
    });
    let filter = EnvFilter::new(format!("keyless={level}"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
