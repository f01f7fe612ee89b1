//! `keyless exec`: run a command with temporary credentials in its
//! environment, pass signals on, and exit as it did.

use std::process::{Child, Command, ExitCode, ExitStatus};

use anyhow::Context;

use crate::hint::HintExt;

use crate::cli::ExecArgs;
use crate::commands::Ctx;
use crate::config::resolve::{Request, RolePlan};
use crate::shell::export::{self, EXEC_MARKER_ENV, REMOVED};

/// The shell convention for "command not found" and "cannot execute".
const EXIT_NOT_FOUND: u8 = 127;
const EXIT_CANNOT_EXECUTE: u8 = 126;

pub fn run(args: &ExecArgs) -> anyhow::Result<ExitCode> {
    if let Some(outer) = std::env::var_os(EXEC_MARKER_ENV) {
        return Err(crate::hint::hinted(
            anyhow::anyhow!(
                "already inside `keyless exec` for profile '{}': an exec inside another would \
                 mix two sets of credentials",
                outer.to_string_lossy()
            ),
            "leave the outer one first (e.g. type `exit`), then run the command again",
        ));
    }
    let ctx = Ctx::load()?;
    let (plan, region) = resolve(&ctx, args.profile.as_deref())?;
    let profile = plan.profile.clone().unwrap_or_default();
    let (program, rest) = match args.command.split_first() {
        Some((program, rest)) => (program.clone(), rest.to_vec()),
        None => (
            std::env::var("SHELL")
                .ok()
                .filter(|s| !s.is_empty())
                .context("no command given and SHELL is not set")
                .hint("give one, e.g. `keyless exec -- aws sts get-caller-identity`")?,
            Vec::new(),
        ),
    };
    let creds = super::credential_process::obtain(&ctx, &plan, args.auto_login || plan.auto_login)?;
    let expiration = export::expiration(&creds);
    let mut command = Command::new(&program);
    command.args(&rest);
    for name in REMOVED {
        command.env_remove(name);
    }
    for (name, value) in export::vars(&creds, &expiration, region.as_deref(), &profile) {
        command.env(name, value);
    }
    command.env(EXEC_MARKER_ENV, &profile);
    let status = match spawn_and_wait(command) {
        Ok(status) => status,
        Err(e) => {
            let code = match e.kind() {
                std::io::ErrorKind::NotFound => EXIT_NOT_FOUND,
                std::io::ErrorKind::PermissionDenied => EXIT_CANNOT_EXECUTE,
                _ => 1,
            };
            let err = crate::hint::hinted(
                anyhow::anyhow!("cannot run '{program}': {e}"),
                "check the command name and your PATH",
            );
            super::warn(format_args!("{}", crate::error_report(&err)));
            return Ok(ExitCode::from(code));
        }
    };
    Ok(ExitCode::from(exit_code(status)))
}

/// The plan for a profile (default: AWS_PROFILE, else `default`) and the
/// profile's region, if it has one.
pub(crate) fn resolve(
    ctx: &Ctx,
    profile: Option<&str>,
) -> anyhow::Result<(RolePlan, Option<String>)> {
    let name = profile
        .map(str::to_owned)
        .unwrap_or_else(|| ctx.default_profile());
    let plan = ctx.resolve_role(&Request::Profile(name.clone()))?;
    let region = ctx
        .files
        .profile(&name)
        .and_then(|p| p.get("region"))
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    Ok((plan, region))
}

/// The child's exit code; 128+N when signal N ended it.
fn exit_code(status: ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return (code & 0xff) as u8;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return (128 + signal).clamp(0, 255) as u8;
        }
    }
    1
}

/// SIGINT, SIGTERM and SIGHUP sent to keyless go to the child; keyless
/// itself waits for the child to end. The handlers are installed before
/// the child starts, so no signal is lost in between (and the child starts
/// with the default dispositions, as exec resets handlers).
#[cfg(unix)]
fn spawn_and_wait(mut command: Command) -> std::io::Result<ExitStatus> {
    use rustix::process::{Pid, Signal, kill_process};
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;

    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    let handle = signals.handle();
    let mut child: Child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            handle.close();
            return Err(e);
        }
    };
    let pid = Pid::from_child(&child);
    let forwarder = std::thread::spawn(move || {
        for raw in signals.forever() {
            let signal = match raw {
                SIGINT => Signal::INT,
                SIGTERM => Signal::TERM,
                SIGHUP => Signal::HUP,
                _ => continue,
            };
            let _ = kill_process(pid, signal);
        }
    });
    let status = child.wait();
    handle.close();
    let _ = forwarder.join();
    status
}

#[cfg(not(unix))]
fn spawn_and_wait(mut command: Command) -> std::io::Result<ExitStatus> {
    // Ctrl+C reaches every process of the console; keyless waits.
    command.spawn()?.wait()
}
