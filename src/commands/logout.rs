//! `keyless logout`: end the portal session and forget its secrets.

use std::process::ExitCode;

use crate::auth::Auth;
use crate::cli::LogoutArgs;
use crate::commands::Ctx;
use crate::identity_center::Clients;

pub fn run(args: LogoutArgs) -> anyhow::Result<ExitCode> {
    let ctx = Ctx::load()?;
    let (state, locks) = ctx.state_and_locks()?;
    let sessions = if args.all {
        state
            .load()?
            .sessions
            .into_iter()
            .map(|(name, s)| (name, s.region))
            .collect()
    } else {
        let session = ctx.session_for(args.sso_session.as_deref(), args.profile.as_deref())?;
        vec![(session.name, session.region)]
    };
    if sessions.is_empty() {
        super::say(format_args!(
            "keyless: no sso-session is signed in; nothing to do."
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let store = ctx.store();
    for (name, region) in sessions {
        let portal_error = super::block_on(async {
            let clients = Clients::new(&region, None).await;
            let auth = Auth {
                store: &store,
                clients: &clients,
                state: Some(&state),
                locks: Some(&locks),
                login_command: String::new(),
            };
            auth.logout(&name).await
        })??;
        if let Some(e) = portal_error {
            super::say(format_args!(
                "keyless: warning: the portal logout for sso-session '{name}' failed ({e}); the local token and credentials were deleted anyway"
            ));
        }
        super::say(format_args!("keyless: signed out of sso-session '{name}'."));
    }
    Ok(ExitCode::SUCCESS)
}
