//! `keyless credential-process`: the AWS `credential_process` entry point.
//!
//! A cache hit is one keyring read and one write to stdout: no async
//! runtime, no HTTP client, no SDK configuration. stdout carries exactly one
//! JSON object on success and nothing else, ever; every message goes to
//! stderr (or, for `--auto-login`, to the controlling terminal).

use std::io::Write;
use std::process::ExitCode;

use crate::auth::{self, Auth, AuthError};
use crate::cli::CredentialProcessArgs;
use crate::commands::Ctx;
use crate::config::resolve::{Request, RolePlan};
use crate::credentials::Credentials;
use crate::identity_center::Clients;
use crate::store::SecretStore;
use crate::terminal::TerminalUi;

pub fn run(args: CredentialProcessArgs) -> anyhow::Result<ExitCode> {
    let ctx = Ctx::load()?;
    let request = match (args.sso_session, args.account_id, args.role_name) {
        (Some(sso_session), Some(account_id), Some(role_name)) => Request::Explicit {
            sso_session,
            account_id,
            role_name,
        },
        (None, None, None) => {
            Request::Profile(args.profile.unwrap_or_else(|| ctx.default_profile()))
        }
        _ => anyhow::bail!(
            "--sso-session, --account-id and --role-name go together: give all three, or --profile"
        ),
    };
    let plan = ctx.resolve_role(&request)?;
    let auto_login = args.auto_login || plan.auto_login;
    let creds = obtain(&ctx, &plan, auto_login)?;
    emit(&creds)?;
    Ok(ExitCode::SUCCESS)
}

/// Role credentials for `plan`: from the keyring when at least 15 minutes
/// remain (no async runtime, no HTTP client), else fetched (signing in
/// first when `auto_login`). Shared with `exec` and `export`.
pub(crate) fn obtain(ctx: &Ctx, plan: &RolePlan, auto_login: bool) -> anyhow::Result<Credentials> {
    let store = ctx.store();
    if let Some(creds) = auth::cached_role(&store, plan)? {
        tracing::debug!("role credentials from the keyring");
        return Ok(creds);
    }
    fetch(ctx, &store, plan, auto_login)
}

fn fetch(
    ctx: &Ctx,
    store: &dyn SecretStore,
    plan: &RolePlan,
    auto_login: bool,
) -> anyhow::Result<Credentials> {
    let (state, locks) = ctx.state_and_locks()?;
    let login_command = ctx.login_command(&plan.session, plan.profile.as_deref());
    super::block_on(async {
        let clients = Clients::new(&plan.session.region, None).await;
        let auth = Auth {
            store,
            clients: &clients,
            state: Some(&state),
            locks: Some(&locks),
            login_command,
        };
        match auth.role_credentials(plan).await {
            Err(AuthError::LoginRequired { .. }) if auto_login => {
                let mut ui = TerminalUi::controlling_terminal();
                auth.login(&plan.session, &mut ui, true).await?;
                auth.role_credentials(plan).await
            }
            other => other,
        }
    })?
    .map_err(Into::into)
}

/// The one writer of stdout in this command.
fn emit(creds: &Credentials) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(creds.to_process_json().as_bytes())?;
    out.flush()
}
