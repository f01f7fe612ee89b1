//! `keyless completions SHELL` and `keyless man [COMMAND]`: generated from
//! the command definition, never committed as text.

use std::process::ExitCode;

use clap::CommandFactory;

use crate::UsageError;
use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::shell;

#[allow(clippy::disallowed_methods)] // the one stdout writer of this command
pub fn run(args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    shell::completions(Cli::command(), args.shell, &mut std::io::stdout().lock())?;
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::disallowed_methods)] // the one stdout writer of this command
pub fn man(args: &ManArgs) -> anyhow::Result<ExitCode> {
    let mut command = Cli::command();
    command.build();
    let page = match &args.command {
        None => command,
        Some(name) => {
            let names: Vec<String> = command
                .get_subcommands()
                .filter(|c| !c.is_hide_set())
                .map(|c| c.get_name().to_owned())
                .collect();
            let sub = command.find_subcommand(name).cloned().ok_or_else(|| {
                crate::hint::hinted(
                    UsageError(format!("no command '{name}'")),
                    format!("man pages exist for: {}", names.join(", ")),
                )
            })?;
            sub.display_name(format!("keyless-{name}"))
        }
    };
    shell::man_page(page, &mut std::io::stdout().lock())?;
    Ok(ExitCode::SUCCESS)
}
