//! `keyless login`: device-authorization sign-in for an sso-session.

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::LoginArgs;
use crate::commands::Ctx;
use crate::credentials::{human_remaining, now};
use crate::terminal::TerminalUi;

pub fn run(args: LoginArgs) -> anyhow::Result<ExitCode> {
    let ctx = Ctx::load()?;
    let session = ctx.session_for(args.sso_session.as_deref(), args.profile.as_deref())?;
    let mut ui = TerminalUi::stderr(!args.no_browser);
    let token = ctx
        .with_auth(&session, args.profile.as_deref(), async |auth| {
            auth.login(&session, &mut ui, false).await
        })?
        .with_context(|| format!("login to sso-session '{}' failed", session.name))?;
    let note = ctx
        .store(&session)
        .token_note()
        .map(|note| format!(" {note}."))
        .unwrap_or_default();
    super::say(format_args!(
        "keyless: signed in to sso-session '{}'; the token is valid for {}.{note}",
        session.name,
        human_remaining(token.expires_at - now())
    ));
    Ok(ExitCode::SUCCESS)
}
