//! `keyless export`: temporary credentials as shell variables. stdout
//! carries the data and nothing else.

use std::process::ExitCode;

use crate::cli::{ExportArgs, ExportFormat};
use crate::commands::Ctx;
use crate::commands::exec::resolve;
use crate::shell::export;

#[allow(clippy::disallowed_methods)] // the one stdout writer of this command
pub fn run(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let ctx = Ctx::load()?;
    let (plan, region) = resolve(&ctx, args.profile.as_deref())?;
    let profile = plan.profile.clone().unwrap_or_default();
    let creds = super::credential_process::obtain(&ctx, &plan, args.auto_login || plan.auto_login)?;
    let expiration = export::expiration(&creds);
    let vars = export::vars(&creds, &expiration, region.as_deref(), &profile);
    let format = match args.format {
        ExportFormat::Env => export::ExportFormat::Env,
        ExportFormat::Json => export::ExportFormat::Json,
        ExportFormat::Powershell => export::ExportFormat::Powershell,
        ExportFormat::Fish => export::ExportFormat::Fish,
    };
    export::write(format, &vars, &mut std::io::stdout().lock())?;
    Ok(ExitCode::SUCCESS)
}
