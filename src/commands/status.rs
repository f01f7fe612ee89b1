//! `keyless status`: sessions and cached roles from the state file only.

use std::process::ExitCode;

use crate::cli::{OutputFormat, StatusArgs};
use crate::credentials;
use crate::shell::status;
use crate::store::StateFile;

#[allow(clippy::disallowed_methods)] // the one stdout writer of this command
pub fn run(args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let state = StateFile::from_env()?.load()?;
    let report = status::status(&state, credentials::now());
    let mut out = std::io::stdout().lock();
    match args.format {
        OutputFormat::Text => status::write_text(&report, &mut out)?,
        OutputFormat::Json => status::write_json(&report, &mut out)?,
    }
    Ok(ExitCode::SUCCESS)
}
