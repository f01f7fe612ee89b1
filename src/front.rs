//! The `keyless` binary: the two commands that run thousands of times a
//! day, answered by a small program, and everything else handed to the
//! full one.
//!
//! Every AWS SDK call runs `keyless credential-process`, and every shell
//! prompt may run `keyless prompt`. Most of a start-up of the full binary
//! (21 MB, with the AWS SDK) is the dynamic loader relocating it. This
//! binary links only what a credential-process cache hit in the kernel
//! keyring and the prompt segment use: the AWS files, the state file and
//! the kernel keyring. Anything else (a miss, an error, any other command,
//! `KEYLESS_LOG` set) replaces this process with `keyless-full`, installed
//! beside it, with the same arguments, so that the full binary's answer and
//! exit status are the only ones (`exec`: same process, same pid, signals
//! and standard streams as they were).
//!
//! Off Linux there is no kernel keyring to answer from, and this binary
//! runs the full program in process.

use std::process::ExitCode;

/// The name of the full binary, installed beside this one.
pub const FULL_BINARY: &str = "keyless-full";

#[cfg(target_os = "linux")]
pub fn main() -> ExitCode {
    use std::ffi::OsString;

    let mut argv = std::env::args_os();
    let arg0 = argv.next().unwrap_or_else(|| OsString::from("keyless"));
    let args: Vec<OsString> = argv.collect();
    if let Some(code) = answer(&args) {
        return code;
    }
    hand_over(arg0, &args)
}

#[cfg(not(target_os = "linux"))]
pub fn main() -> ExitCode {
    crate::run()
}

/// The exit status when this binary can answer by itself, `None` when the
/// full binary must.
#[cfg(target_os = "linux")]
fn answer(args: &[std::ffi::OsString]) -> Option<ExitCode> {
    let (first, rest) = args.split_first()?;
    if first == "prompt" {
        let args = crate::cli::PromptArgs::from_plain_argv(rest.iter().cloned())?;
        return Some(crate::finish(crate::commands::prompt::run(&args)));
    }
    if first == "credential-process" && std::env::var_os(crate::LOG_ENV).is_none() {
        let args = crate::cli::CredentialProcessArgs::from_plain_argv(rest.iter().cloned())?;
        let creds = kernel_hit(args)?;
        return Some(crate::finish(
            crate::commands::credential_process::emit(&creds).map(|()| ExitCode::SUCCESS),
        ));
    }
    None
}

/// Reusable role credentials for `args` in the kernel keyring, read as the
/// full binary reads them first (in every store mode, the kernel keyring
/// holds role credentials: as the store, or as the hot cache in front of
/// the Secret Service). Anything else is `None`, and the full binary
/// answers: it reads the same item again, then goes on as usual.
#[cfg(target_os = "linux")]
fn kernel_hit(args: crate::cli::CredentialProcessArgs) -> Option<crate::credentials::Credentials> {
    use crate::config::{AwsFiles, Env, resolve};
    use crate::store::{NAMESPACE_ENV, STORE_ENV, StoreKind};

    let env = Env::from_process();
    if let Some(value) = env.get(STORE_ENV).filter(|v| !v.is_empty()) {
        // A bad value is the full binary's usage error.
        StoreKind::parse(value)?;
    }
    let files = AwsFiles::load(&env).ok()?;
    let request =
        crate::commands::credential_process::request(args, || resolve::default_profile_name(&env))
            .ok()?;
    let plan = resolve::resolve_role(&files, &request).ok()?;
    let kernel = crate::store::keyutils::KeyutilsStore::new(env.get(NAMESPACE_ENV));
    crate::auth::cached_role(&kernel, &plan, crate::credentials::now())
        .ok()
        .flatten()
}

/// Replaces this process with the full binary, with the same `argv[0]`
/// (for clap's messages and `ps`) and arguments. Returns only when that
/// binary cannot be started.
#[cfg(target_os = "linux")]
fn hand_over(arg0: std::ffi::OsString, args: &[std::ffi::OsString]) -> ExitCode {
    use std::os::unix::process::CommandExt;

    let full = match std::env::current_exe() {
        Ok(exe) => exe.with_file_name(FULL_BINARY),
        Err(e) => return cannot_start(&format!("the path of this binary is unknown: {e}")),
    };
    let err = std::process::Command::new(&full)
        .arg0(arg0)
        .args(args)
        .exec();
    cannot_start(&format!("{}: {err}", full.display()))
}

#[cfg(target_os = "linux")]
fn cannot_start(why: &str) -> ExitCode {
    let err = crate::hint::hinted(
        anyhow::anyhow!("cannot start the full keyless binary ({why})"),
        format!(
            "reinstall keyless: the package puts {FULL_BINARY} beside keyless, in the same \
             directory"
        ),
    );
    crate::report(&err)
}

/// The `keyless` that a shell or an AWS profile should run: this binary,
/// or, when this is the full one, the `keyless` beside it.
pub fn this_keyless() -> std::io::Result<std::path::PathBuf> {
    let exe = std::env::current_exe()?;
    let is_full = exe
        .file_stem()
        .is_some_and(|stem| stem == std::ffi::OsStr::new(FULL_BINARY));
    if is_full {
        let front = exe.with_file_name(format!("keyless{}", std::env::consts::EXE_SUFFIX));
        if front.is_file() {
            return Ok(front);
        }
    }
    Ok(exe)
}
