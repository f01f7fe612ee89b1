//! One module per command: orchestration only.

pub mod dev_server;

use std::process::ExitCode;

use crate::cli::Command;

pub fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::DevServer(args) => dev_server::run(args, &mut std::io::stderr()),
    }
}
