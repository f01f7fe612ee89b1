//! `keyless login`: sign-in for an sso-session, by device authorization
//! (the default) or in the browser with PKCE (`--pkce`, or
//! `keyless_login = pkce` in the sso-session).

use std::process::ExitCode;

use anyhow::Context;

use crate::auth::{Auth, AuthError, IdentityCenter};
use crate::cli::LoginArgs;
use crate::commands::Ctx;
use crate::config::resolve::SsoSession;
use crate::credentials::{human_remaining, now};
use crate::identity_center::oidc::oidc_base_url;
use crate::identity_center::pkce::Loopback;
use crate::store::TokenItem;
use crate::terminal::{self, TerminalUi};

/// How to sign in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Device,
    /// The authorization-code grant, with the browser.
    Browser,
}

/// The browser when asked for (`--pkce` or `keyless_login = pkce`) and
/// one can be opened; else the device code, said so when the browser was
/// asked for.
pub fn method(session: &SsoSession, asked: bool, no_browser: bool) -> Method {
    if !(asked || session.pkce) {
        return Method::Device;
    }
    if no_browser || !terminal::has_display() {
        super::say(format_args!(
            "keyless: no browser can be opened here (no display, an SSH session, or \
             --no-browser), so keyless signs in with a device code instead."
        ));
        return Method::Device;
    }
    Method::Browser
}

/// Signs in to `session` by `method`.
pub async fn sign_in<I: IdentityCenter>(
    ctx: &Ctx,
    auth: &Auth<'_, I>,
    session: &SsoSession,
    method: Method,
    ui: &mut TerminalUi,
    only_if_needed: bool,
) -> Result<TokenItem, AuthError> {
    match method {
        Method::Device => auth.login(session, ui, only_if_needed).await,
        Method::Browser => {
            let loopback = Loopback::bind().await?;
            let base = oidc_base_url(
                |name| ctx.env.get(name).map(str::to_string),
                &session.region,
            );
            auth.login_with_code(session, ui.browser_login(loopback), &base, only_if_needed)
                .await
        }
    }
}

pub fn run(args: LoginArgs) -> anyhow::Result<ExitCode> {
    let ctx = Ctx::load()?;
    let session = ctx.session_for(args.sso_session.as_deref(), args.profile.as_deref())?;
    let mut ui = TerminalUi::stderr(!args.no_browser);
    let how = method(&session, args.pkce, args.no_browser);
    let token = ctx
        .with_auth(&session, args.profile.as_deref(), async |auth| {
            sign_in(&ctx, auth, &session, how, &mut ui, false).await
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
