//! `keyless shell-init SHELL`: the one line for the rc file, or (with
//! `--full`) the script it loads.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use crate::hint::HintExt;

use crate::cli::{InitShell, ShellInitArgs};
use crate::shell::{self, Shell};

#[allow(clippy::disallowed_methods)] // the one stdout writer of this command
pub fn run(args: &ShellInitArgs) -> anyhow::Result<ExitCode> {
    let shell = match args.shell {
        InitShell::Bash => Shell::Bash,
        InitShell::Zsh => Shell::Zsh,
        InitShell::Fish => Shell::Fish,
        InitShell::Powershell => Shell::Powershell,
    };
    let exe = crate::front::this_keyless()
        .context("cannot find the path of this keyless binary")
        .hint("run it by its full path")?;
    let text = if args.full {
        shell::full_script(shell, &exe)
    } else {
        shell::init_stub(shell, &exe)
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
