//! One module per command: orchestration only.

pub mod scan;

use std::process::ExitCode;

use crate::cli::Command;

pub fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Scan(args) => scan::main(&args),
    }
}
