//! `keyless credential-process`: the AWS `credential_process` entry point.
//!
//! A cache hit is one keyring read and one write to stdout: no async
//! runtime, no HTTP client, no SDK configuration. stdout carries exactly one
//! JSON object on success and nothing else, ever; every message goes to
//! stderr (or, for `--auto-login`, to the controlling terminal).

use std::process::ExitCode;

use anyhow::Context;

use crate::UsageError;
use crate::auth::{self, AuthError};
use crate::cli::CredentialProcessArgs;
use crate::commands::Ctx;
use crate::config::resolve::{Request, RolePlan};
use crate::credentials::{Credentials, now};
use crate::terminal::TerminalUi;

pub fn run(args: CredentialProcessArgs) -> anyhow::Result<ExitCode> {
    run_logging_late(args, || {})
}

/// As [`run`], calling `start_logging` only when the cache misses, before
/// the work that may log: a hit sets nothing up that it does not use.
pub fn run_logging_late(
    args: CredentialProcessArgs,
    start_logging: impl FnOnce(),
) -> anyhow::Result<ExitCode> {
    let ctx = Ctx::load()?;
    let auto_login = args.auto_login;
    let request = request(args, || ctx.default_profile())?;
    let plan = ctx.resolve_role(&request)?;
    let creds = obtain_logging_late(&ctx, &plan, auto_login || plan.auto_login, start_logging)?;
    emit(&creds)?;
    Ok(ExitCode::SUCCESS)
}

/// The role the arguments ask for: a profile (by default `default_profile`)
/// or the explicit three options.
pub fn request(
    args: CredentialProcessArgs,
    default_profile: impl FnOnce() -> String,
) -> anyhow::Result<Request> {
    Ok(match (args.sso_session, args.account_id, args.role_name) {
        (Some(sso_session), Some(account_id), Some(role_name)) => Request::Explicit {
            sso_session,
            account_id,
            role_name,
        },
        (None, None, None) => Request::Profile(args.profile.unwrap_or_else(default_profile)),
        _ => {
            return Err(crate::hint::hinted(
                UsageError("--sso-session, --account-id and --role-name go together".into()),
                "give all three, or --profile P",
            ));
        }
    })
}

/// The role credentials of `plan`: from the keyring when cached (no
/// runtime, no HTTP client), else fetched through the lifecycle, with a
/// device login first when `auto_login` and one is needed.
pub fn obtain(ctx: &Ctx, plan: &RolePlan, auto_login: bool) -> anyhow::Result<Credentials> {
    obtain_logging_late(ctx, plan, auto_login, || {})
}

/// As [`obtain`], calling `start_logging` only on a cache miss.
fn obtain_logging_late(
    ctx: &Ctx,
    plan: &RolePlan,
    auto_login: bool,
    start_logging: impl FnOnce(),
) -> anyhow::Result<Credentials> {
    match cached(ctx, plan)? {
        Some(creds) => Ok(creds),
        None => {
            start_logging();
            fetch(ctx, plan, auto_login)
        }
    }
}

/// The role credentials of `plan` when the keyring holds reusable ones.
fn cached(ctx: &Ctx, plan: &RolePlan) -> anyhow::Result<Option<Credentials>> {
    let creds = auth::cached_role(&ctx.store(&plan.session), plan, now())?;
    if creds.is_some() {
        tracing::debug!("role credentials from the keyring");
    }
    Ok(creds)
}

/// The role credentials of `plan` through the lifecycle (the cache is read
/// again under the lock), with a device login first when `auto_login` and
/// one is needed.
fn fetch(ctx: &Ctx, plan: &RolePlan, auto_login: bool) -> anyhow::Result<Credentials> {
    let creds = ctx.with_auth(
        &plan.session,
        plan.profile.as_deref(),
        async |auth| match auth.role_credentials(plan).await {
            Err(AuthError::LoginRequired { .. }) if auto_login => {
                let mut ui = TerminalUi::controlling_terminal();
                let how = super::login::method(&plan.session, false, false);
                super::login::sign_in(ctx, auth, &plan.session, how, &mut ui, true).await?;
                auth.role_credentials(plan).await
            }
            other => other,
        },
    )??;
    Ok(creds)
}

/// The one writer of stdout in this command.
#[allow(clippy::disallowed_methods)] // the credential_process protocol writer
pub fn emit(creds: &Credentials) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    creds
        .write_process_json(&mut out)
        .context("could not write the credentials to stdout")
}
