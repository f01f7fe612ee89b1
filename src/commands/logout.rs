//! `keyless logout`: end the portal session and forget its secrets.
//!
//! The sessions and their items are found in the keyring itself (item
//! names carry the sso-session), so a lost state file leaves nothing
//! behind; the state file only adds what the keyring cannot say (the
//! region of a session no longer in the config).

use std::collections::BTreeSet;
use std::process::ExitCode;

use crate::auth;
use crate::cli::LogoutArgs;
use crate::commands::Ctx;
use crate::config::resolve::{self, SsoSession};
use crate::store;

pub fn run(args: LogoutArgs) -> anyhow::Result<ExitCode> {
    let ctx = Ctx::load()?;
    let (state, _) = ctx.state_and_locks()?;
    let known = state.load()?;
    let names: Vec<String> = if args.all {
        let mut names: BTreeSet<String> = store::sessions_in(&ctx.stores.any_session())?
            .into_iter()
            .collect();
        names.extend(known.sessions.keys().cloned());
        names.into_iter().collect()
    } else {
        vec![
            ctx.session_for(args.sso_session.as_deref(), args.profile.as_deref())?
                .name,
        ]
    };
    if names.is_empty() {
        super::say(format_args!(
            "keyless: no sso-session is signed in; nothing to do."
        ));
        return Ok(ExitCode::SUCCESS);
    }
    for name in names {
        // The config's sso-session, else what the state file recorded.
        let session = resolve::resolve_session(&ctx.files, &name)
            .ok()
            .or_else(|| {
                let recorded = known.sessions.get(&name)?;
                (!recorded.region.is_empty()).then(|| SsoSession {
                    name: name.clone(),
                    start_url: recorded.start_url.clone(),
                    region: recorded.region.clone(),
                    scopes: Vec::new(),
                    legacy: false,
                    store: None,
                    pkce: false,
                })
            });
        match session {
            Some(session) => {
                let portal_error =
                    ctx.with_auth(&session, None, async |auth| auth.logout(&name).await)??;
                if let Some(e) = portal_error {
                    super::warn(format_args!(
                        "keyless: warning: the portal logout for sso-session '{name}' failed \
                         ({e}); the local token and credentials were deleted anyway"
                    ));
                }
            }
            None => {
                auth::forget_session(&ctx.stores.any_session(), Some(&state), &name)?;
                super::warn(format_args!(
                    "keyless: warning: the region of sso-session '{name}' is not known (it is \
                     neither in the config nor in the state file), so its portal session could \
                     not be ended; it ends when its token expires. The local token and \
                     credentials were deleted."
                ));
            }
        }
        super::say(format_args!("keyless: signed out of sso-session '{name}'."));
    }
    Ok(ExitCode::SUCCESS)
}
