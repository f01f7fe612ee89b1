//! The token and credential lifecycle (DESIGN.md §5): device login, token
//! refresh, and role credentials, with the keyring as cache and OS file
//! locks so that concurrent invocations do the network work once.
//!
//! The lifecycle runs over two seams: [`IdentityCenter`] (the SSO OIDC and
//! portal calls; [`Clients`] in production, a scripted fake in the tests)
//! and the [`SecretStore`]; time comes from an injected [`WallClock`].
//!
//! Every function re-reads the cache after taking its lock: another
//! process may have done the work while this one waited. A token that is
//! still valid is never held back by a lock: when another process is
//! refreshing (or signing in), the current token is used as it is.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::config::resolve::{RolePlan, SsoSession};
use crate::credentials::{self, Credentials, Refusal};
use crate::identity_center::device::{self, Clock, DeviceFlowError, Poller};
use crate::identity_center::oidc::{ClientRegistration, DeviceAuthorization, TokenGrant};
use crate::identity_center::pkce::{self, PkceError};
use crate::identity_center::{ApiError, ApiErrorKind, Clients};
use crate::secret::Secret;
use crate::store::{
    self, LockError, LockGuard, Locks, Registration, RoleCredsItem, SecretStore, State, StateError,
    StateFile, StoreError, TokenItem,
};

/// Refresh the access token when less than this remains.
pub const TOKEN_REFRESH_WINDOW_SECS: i64 = 5 * 60;
/// Register a new client when the cached registration has less than this.
pub const REGISTRATION_REUSE_MARGIN_SECS: i64 = 15 * 60;
/// How long to wait for another process fetching the same role: one
/// GetRoleCredentials call with its retries, and a token refresh.
pub const ROLE_LOCK_WAIT: Duration = Duration::from_secs(25);
/// How long to wait for another process refreshing the token, when the
/// current one can no longer be used.
pub const REFRESH_LOCK_WAIT: Duration = Duration::from_secs(25);
/// How long a login waits for another process signing in to the same
/// sso-session (a login may take as long as the user needs).
pub const LOGIN_LOCK_WAIT: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("not signed in to sso-session '{session}' (or the session expired)")]
    LoginRequired { session: String, command: String },
    #[error(transparent)]
    Device(#[from] DeviceFlowError),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Pkce(#[from] PkceError),
}

impl AuthError {
    /// The next step, for the `hint:` line.
    pub fn hint(&self) -> Option<String> {
        match self {
            AuthError::LoginRequired { command, .. } => Some(format!("run `{command}`")),
            AuthError::Device(e) => e.hint(),
            AuthError::Api(e) => e.hint(),
            AuthError::Store(e) => e.hint(),
            AuthError::Lock(e) => e.hint(),
            AuthError::Refused(e) => e.hint(),
            AuthError::State(e) => e.hint(),
            AuthError::Pkce(e) => e.hint(),
        }
    }
}

/// IAM Identity Center as the lifecycle uses it.
pub trait IdentityCenter {
    fn register_client(
        &self,
        client_name: &str,
        scopes: &[String],
    ) -> impl Future<Output = Result<ClientRegistration, ApiError>>;
    fn start_device_authorization(
        &self,
        registration: &ClientRegistration,
        start_url: &str,
    ) -> impl Future<Output = Result<DeviceAuthorization, ApiError>>;
    fn create_token_with_device_code(
        &self,
        registration: &ClientRegistration,
        device: &DeviceAuthorization,
    ) -> impl Future<Output = Result<TokenGrant, ApiError>>;
    fn refresh_token(
        &self,
        registration: &ClientRegistration,
        refresh_token: &Secret<String>,
    ) -> impl Future<Output = Result<TokenGrant, ApiError>>;
    fn role_credentials(
        &self,
        access_token: &Secret<String>,
        account_id: &str,
        role_name: &str,
    ) -> impl Future<Output = Result<Credentials, ApiError>>;
    fn logout(&self, access_token: &Secret<String>) -> impl Future<Output = Result<(), ApiError>>;
    /// RegisterClient for the authorization-code grant.
    fn register_client_for_code(
        &self,
        client_name: &str,
        scopes: &[String],
        issuer_url: &str,
    ) -> impl Future<Output = Result<ClientRegistration, ApiError>>;
    /// CreateToken with an authorization code and its verifier.
    fn create_token_with_code(
        &self,
        registration: &ClientRegistration,
        code: &Secret<String>,
        verifier: &Secret<String>,
        redirect_uri: &str,
    ) -> impl Future<Output = Result<TokenGrant, ApiError>>;
}

impl IdentityCenter for Clients {
    async fn register_client(
        &self,
        client_name: &str,
        scopes: &[String],
    ) -> Result<ClientRegistration, ApiError> {
        Clients::register_client(self, client_name, scopes).await
    }
    async fn start_device_authorization(
        &self,
        registration: &ClientRegistration,
        start_url: &str,
    ) -> Result<DeviceAuthorization, ApiError> {
        Clients::start_device_authorization(self, registration, start_url).await
    }
    async fn create_token_with_device_code(
        &self,
        registration: &ClientRegistration,
        device: &DeviceAuthorization,
    ) -> Result<TokenGrant, ApiError> {
        Clients::create_token_with_device_code(self, registration, device).await
    }
    async fn refresh_token(
        &self,
        registration: &ClientRegistration,
        refresh_token: &Secret<String>,
    ) -> Result<TokenGrant, ApiError> {
        Clients::refresh_token(self, registration, refresh_token).await
    }
    async fn role_credentials(
        &self,
        access_token: &Secret<String>,
        account_id: &str,
        role_name: &str,
    ) -> Result<Credentials, ApiError> {
        Clients::role_credentials(self, access_token, account_id, role_name).await
    }
    async fn logout(&self, access_token: &Secret<String>) -> Result<(), ApiError> {
        Clients::logout(self, access_token).await
    }
    async fn register_client_for_code(
        &self,
        client_name: &str,
        scopes: &[String],
        issuer_url: &str,
    ) -> Result<ClientRegistration, ApiError> {
        Clients::register_client_for_code(self, client_name, scopes, issuer_url).await
    }
    async fn create_token_with_code(
        &self,
        registration: &ClientRegistration,
        code: &Secret<String>,
        verifier: &Secret<String>,
        redirect_uri: &str,
    ) -> Result<TokenGrant, ApiError> {
        Clients::create_token_with_code(self, registration, code, verifier, redirect_uri).await
    }
}

/// The browser side of an authorization-code login: where the browser is
/// sent back to, and the wait for it.
pub trait CodeReceiver {
    /// The redirect URI, with the listener's port.
    fn redirect_uri(&self) -> String;
    /// Opens (or shows) `url` and waits for the code of the callback that
    /// carries `state`.
    fn receive(
        self,
        url: &str,
        state: &str,
    ) -> impl Future<Output = Result<Secret<String>, PkceError>>;
}

/// The current time, in epoch seconds.
pub trait WallClock {
    fn now(&self) -> i64;
}

/// The system clock.
pub struct SystemClock;

impl WallClock for SystemClock {
    fn now(&self) -> i64 {
        credentials::now()
    }
}

/// What the user sees during a device login.
pub trait LoginUi {
    /// Shows the verification URL and user code (and opens a browser).
    fn prompt(&mut self, session: &SsoSession, device: &DeviceAuthorization);
    /// Called often while waiting for approval.
    fn waiting(&mut self, _elapsed: Duration) {}
    /// The flow ended (approved or not).
    fn finished(&mut self, _approved: bool) {}
}

/// Everything the lifecycle needs, injected. `state` and `locks` are
/// absent only in `keyless demo`, which must not touch the user's files.
pub struct Auth<'a, I> {
    pub store: &'a dyn SecretStore,
    pub identity_center: &'a I,
    pub clock: &'a dyn WallClock,
    pub state: Option<&'a StateFile>,
    pub locks: Option<&'a Locks>,
    /// The command that signs in again, named in `LoginRequired`.
    pub login_command: String,
}

/// How a cached token stands at one moment.
#[derive(Debug, Clone, Copy)]
struct TokenCheck {
    /// More than the refresh window left, and not the token just refused.
    fresh: bool,
    /// Not expired, and not the token just refused.
    usable: bool,
}

impl TokenCheck {
    fn of(token: &TokenItem, now: i64, rejected: Option<&Secret<String>>) -> TokenCheck {
        let was_rejected = rejected.is_some_and(|r| r == &token.access_token);
        let left = token.expires_at - now;
        TokenCheck {
            fresh: !was_rejected && left > TOKEN_REFRESH_WINDOW_SECS,
            usable: !was_rejected && left > 0,
        }
    }
}

impl<I: IdentityCenter> Auth<'_, I> {
    fn login_required(&self, session: &SsoSession) -> AuthError {
        AuthError::LoginRequired {
            session: session.name.clone(),
            command: self.login_command.clone(),
        }
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Takes a lock with `take` when there are locks (not in the demo).
    fn lock(
        &self,
        take: impl FnOnce(&Locks) -> Result<LockGuard, LockError>,
    ) -> Result<Option<LockGuard>, AuthError> {
        Ok(self.locks.map(take).transpose()?)
    }

    fn load_token(&self, session: &SsoSession) -> Result<TokenItem, AuthError> {
        store::load_token(self.store, &session.name)?.ok_or_else(|| self.login_required(session))
    }

    /// Device-authorization login. With `only_if_needed`, a valid token
    /// found after taking the lock (another process just signed in) is
    /// used instead of starting a second login.
    pub async fn login(
        &self,
        session: &SsoSession,
        ui: &mut dyn LoginUi,
        only_if_needed: bool,
    ) -> Result<TokenItem, AuthError> {
        let _guard = self.lock(|l| l.session(&session.name, LOGIN_LOCK_WAIT))?;
        if only_if_needed
            && let Some(token) = store::load_token(self.store, &session.name)?
            && TokenCheck::of(&token, self.now(), None).fresh
        {
            tracing::info!(session = %session.name, "signed in by another process meanwhile");
            return Ok(token);
        }
        let mut registration = self.registration(session, false).await?;
        let device = match self
            .identity_center
            .start_device_authorization(&registration, &session.start_url)
            .await
        {
            Err(e) if e.is(&ApiErrorKind::InvalidClient) => {
                tracing::info!(session = %session.name, "client registration rejected; registering again");
                registration = self.registration(session, true).await?;
                self.identity_center
                    .start_device_authorization(&registration, &session.start_url)
                    .await?
            }
            other => other?,
        };
        let poller = Poller::new(device.interval, device.expires_in);
        let mut clock = UiClock {
            started: Instant::now(),
            ui,
            prompt: Some((session, &device)),
        };
        let registration = &registration;
        let grant = device::poll(poller, &mut clock, || {
            self.identity_center
                .create_token_with_device_code(registration, &device)
        })
        .await;
        clock.ui.finished(grant.is_ok());
        let token = self.token_item(grant?, None);
        store::save_token(self.store, &session.name, &token)?;
        self.record_session(session, &token, true);
        Ok(token)
    }

    /// Authorization-code login with PKCE (IDENTITY-CENTER.md §7): a
    /// registration for the code grant, the browser sent to `/authorize`
    /// under `authorize_base`, the code exchanged with the exact redirect
    /// URI. With `only_if_needed`, as [`Auth::login`].
    pub async fn login_with_code(
        &self,
        session: &SsoSession,
        receiver: impl CodeReceiver,
        authorize_base: &str,
        only_if_needed: bool,
    ) -> Result<TokenItem, AuthError> {
        let _guard = self.lock(|l| l.session(&session.name, LOGIN_LOCK_WAIT))?;
        if only_if_needed
            && let Some(token) = store::load_token(self.store, &session.name)?
            && TokenCheck::of(&token, self.now(), None).fresh
        {
            tracing::info!(session = %session.name, "signed in by another process meanwhile");
            return Ok(token);
        }
        let registration = self.registration_for(session, false, true).await?;
        let verifier = pkce::verifier();
        let state = pkce::state();
        let redirect_uri = receiver.redirect_uri();
        let url = pkce::authorize_url(
            authorize_base,
            &registration.client_id,
            &redirect_uri,
            &state,
            &pkce::challenge(&verifier),
            &session.scopes,
        );
        let code = receiver.receive(&url, &state).await?;
        let grant = self
            .identity_center
            .create_token_with_code(&registration, &code, &verifier, &redirect_uri)
            .await?;
        let token = self.token_item(grant, None);
        store::save_token(self.store, &session.name, &token)?;
        self.record_session(session, &token, true);
        Ok(token)
    }

    /// The cached registration if it has more than 15 minutes left and the
    /// same scopes, else a new one (saved).
    async fn registration(
        &self,
        session: &SsoSession,
        fresh: bool,
    ) -> Result<ClientRegistration, AuthError> {
        self.registration_for(session, fresh, false).await
    }

    /// The cached registration when it suits (its life, its scopes, and
    /// the grant: a device login and a code login register differently).
    async fn registration_for(
        &self,
        session: &SsoSession,
        fresh: bool,
        code_grant: bool,
    ) -> Result<ClientRegistration, AuthError> {
        if !fresh
            && let Some(reg) = store::load_registration(self.store, &session.name)?
            && reg.expires_at - self.now() > REGISTRATION_REUSE_MARGIN_SECS
            && reg.scopes == session.scopes
            && reg.code_grant == code_grant
        {
            return Ok(reg.into());
        }
        let name = format!("keyless-{}", client_name_suffix(&session.name));
        let reg = if code_grant {
            self.identity_center
                .register_client_for_code(&name, &session.scopes, &session.start_url)
                .await?
        } else {
            self.identity_center
                .register_client(&name, &session.scopes)
                .await?
        };
        store::save_registration(self.store, &session.name, &Registration::from(&reg))?;
        Ok(reg)
    }

    /// A usable access token for `session`: the cached one, refreshed when
    /// under five minutes remain, or when `rejected` (the token the portal
    /// just refused with a 401) is still the cached one.
    ///
    /// A token that is still valid is used at once when another process
    /// holds the session lock (it is refreshing, or a login is waiting for
    /// the browser); the refresh is opportunistic.
    pub async fn access_token(
        &self,
        session: &SsoSession,
        rejected: Option<&Secret<String>>,
    ) -> Result<Secret<String>, AuthError> {
        let cached = self.load_token(session)?;
        let check = TokenCheck::of(&cached, self.now(), rejected);
        tracing::debug!(session = %session.name, fresh = check.fresh, usable = check.usable,
            rejected = rejected.is_some(), remaining = cached.expires_at - self.now(), "token check");
        if check.fresh {
            return Ok(cached.access_token);
        }
        let guard = match self.locks {
            Some(locks) if check.usable => match locks.try_session(&session.name)? {
                Some(guard) => Some(guard),
                None => {
                    tracing::info!(session = %session.name, "another process holds the session lock; using the current token");
                    return Ok(cached.access_token);
                }
            },
            _ => self.lock(|l| l.session(&session.name, REFRESH_LOCK_WAIT))?,
        };

        let token = self.load_token(session)?;
        let check = TokenCheck::of(&token, self.now(), rejected);
        if check.fresh {
            tracing::debug!(session = %session.name, "token refreshed by another process");
            return Ok(token.access_token);
        }
        let refreshed = self.refresh(session, &token, check).await;
        drop(guard);
        refreshed
    }

    /// Refreshes `token` (under the session lock). A failure while the
    /// current token is still usable falls back to it.
    async fn refresh(
        &self,
        session: &SsoSession,
        token: &TokenItem,
        check: TokenCheck,
    ) -> Result<Secret<String>, AuthError> {
        let now = self.now();
        let registration =
            store::load_registration(self.store, &session.name)?.filter(|r| r.expires_at > now);
        let (Some(refresh_token), Some(registration)) = (&token.refresh_token, registration) else {
            tracing::debug!(session = %session.name, "no refresh token, or the registration expired");
            return if check.usable {
                Ok(token.access_token.clone())
            } else {
                Err(self.login_required(session))
            };
        };
        let registration = ClientRegistration::from(registration);
        match self
            .identity_center
            .refresh_token(&registration, refresh_token)
            .await
        {
            Ok(grant) => {
                let refreshed = self.token_item(grant, Some(refresh_token.clone()));
                store::save_token(self.store, &session.name, &refreshed)?;
                self.record_session(session, &refreshed, false);
                tracing::info!(session = %session.name, "access token refreshed");
                Ok(refreshed.access_token)
            }
            Err(e)
                if matches!(
                    e.kind,
                    ApiErrorKind::InvalidGrant | ApiErrorKind::ExpiredToken
                ) =>
            {
                tracing::info!(session = %session.name, "refresh token rejected: {e}");
                Err(self.login_required(session))
            }
            Err(e) if e.is(&ApiErrorKind::InvalidClient) => {
                tracing::info!(session = %session.name, "client registration rejected: {e}");
                store::delete_registration(self.store, &session.name)?;
                Err(self.login_required(session))
            }
            Err(e) if check.usable => {
                tracing::warn!(session = %session.name, "token refresh failed, using the current token: {e}");
                Ok(token.access_token.clone())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Role credentials from the cache, or fetched, validated and cached.
    /// A 401 from the portal refreshes the token once and retries once.
    pub async fn role_credentials(&self, plan: &RolePlan) -> Result<Credentials, AuthError> {
        let session = &plan.session;
        let _guard = self.lock(|l| {
            l.role(
                &session.name,
                &plan.account_id,
                &plan.role_name,
                ROLE_LOCK_WAIT,
            )
        })?;
        if let Some(cached) = cached_role(self.store, plan, self.now())? {
            tracing::debug!("role credentials cached by another process");
            return Ok(cached);
        }
        let mut rejected = None;
        let creds = loop {
            let token = self.access_token(session, rejected.as_ref()).await?;
            match self
                .identity_center
                .role_credentials(&token, &plan.account_id, &plan.role_name)
                .await
            {
                Err(e) if e.is(&ApiErrorKind::Unauthorized) => {
                    if rejected.is_some() {
                        return Err(self.login_required(session));
                    }
                    tracing::info!(
                        "portal rejected the access token; refreshing once and retrying"
                    );
                    rejected = Some(token);
                }
                other => break other?,
            }
        };
        let now = self.now();
        creds.validate(now)?;
        if !creds.reusable(now) {
            tracing::warn!(
                "the new role credentials expire in {}: check the system clock, or the session \
                 duration of the permission set",
                credentials::human_remaining(creds.remaining(now))
            );
        }
        store::save_role(
            self.store,
            &session.name,
            &plan.account_id,
            &plan.role_name,
            &role_item(&creds),
        )?;
        self.update_state(|state| {
            let role = state.role_mut(&session.name, &plan.account_id, &plan.role_name);
            role.expiration = Some(creds.expiration);
            if let Some(profile) = &plan.profile
                && !role.profiles.contains(profile)
            {
                role.profiles.push(profile.clone());
            }
        });
        Ok(creds)
    }

    /// Ends the portal session (failure is reported, not fatal) and deletes
    /// every keyring item of the session.
    pub async fn logout(&self, session_name: &str) -> Result<Option<ApiError>, AuthError> {
        let mut portal_error = None;
        if let Some(token) = store::load_token(self.store, session_name)?
            && let Err(e) = self.identity_center.logout(&token.access_token).await
        {
            portal_error = Some(e);
        }
        forget_session(self.store, self.state, session_name)?;
        Ok(portal_error)
    }

    /// The token item for a grant; the old refresh token is kept when the
    /// server does not rotate it.
    fn token_item(&self, grant: TokenGrant, previous_refresh: Option<Secret<String>>) -> TokenItem {
        TokenItem {
            access_token: grant.access_token,
            expires_at: self.now() + grant.expires_in,
            refresh_token: grant.refresh_token.or(previous_refresh),
        }
    }

    fn record_session(&self, session: &SsoSession, token: &TokenItem, login: bool) {
        let now = self.now();
        self.update_state(|state| {
            let entry = state.sessions.entry(session.name.clone()).or_default();
            entry.start_url = session.start_url.clone();
            entry.region = session.region.clone();
            entry.token_expires_at = Some(token.expires_at);
            entry.refreshable = Some(token.refresh_token.is_some());
            if login {
                entry.last_login = Some(now);
            }
        });
    }

    /// Non-secret metadata for `status` and `prompt`; a failure to write it
    /// never fails the command.
    fn update_state(&self, f: impl FnOnce(&mut State)) {
        if let Some(state) = self.state
            && let Err(e) = state.update(f)
        {
            tracing::warn!("could not update the state file: {e}");
        }
    }
}

/// Deletes every keyring item of `session` (token, client registration,
/// role credentials), found by name in the keyring itself, so nothing is
/// left behind when the state file is lost; then the session's entry in
/// the state file.
pub fn forget_session(
    store: &dyn SecretStore,
    state: Option<&StateFile>,
    session: &str,
) -> Result<(), AuthError> {
    store::delete_session_items(store, session)?;
    if let Some(state) = state
        && let Err(e) = state.update(|s| s.remove_session(session))
    {
        tracing::warn!("could not update the state file: {e}");
    }
    Ok(())
}

/// The cached role credentials if they have at least 15 minutes left at
/// `now` and pass validation; a miss otherwise.
pub fn cached_role(
    store: &dyn SecretStore,
    plan: &RolePlan,
    now: i64,
) -> Result<Option<Credentials>, StoreError> {
    let item = store::load_role(store, &plan.session.name, &plan.account_id, &plan.role_name)?;
    Ok(item
        .map(|item| credentials_from(item, &plan.account_id))
        .filter(|c| c.reusable(now) && c.validate(now).is_ok()))
}

fn credentials_from(item: RoleCredsItem, account_id: &str) -> Credentials {
    Credentials {
        access_key_id: item.access_key_id,
        secret_access_key: item.secret_access_key,
        session_token: item.session_token,
        expiration: item.expiration,
        account_id: Some(account_id.to_string()),
    }
}

fn role_item(creds: &Credentials) -> RoleCredsItem {
    RoleCredsItem {
        access_key_id: creds.access_key_id.clone(),
        secret_access_key: creds.secret_access_key.clone(),
        session_token: creds.session_token.clone(),
        expiration: creds.expiration,
    }
}

impl From<Registration> for ClientRegistration {
    fn from(r: Registration) -> Self {
        ClientRegistration {
            client_id: r.client_id,
            client_secret: r.client_secret,
            expires_at: r.expires_at,
            scopes: r.scopes,
            code_grant: r.code_grant,
        }
    }
}

impl From<&ClientRegistration> for Registration {
    fn from(r: &ClientRegistration) -> Self {
        Registration {
            client_id: r.client_id.clone(),
            client_secret: r.client_secret.clone(),
            expires_at: r.expires_at,
            scopes: r.scopes.clone(),
            code_grant: r.code_grant,
        }
    }
}

/// Client names are informational; keep them short and printable.
fn client_name_suffix(session: &str) -> String {
    session
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(48)
        .collect()
}

/// Real time, with the UI told how long it has been waiting. The prompt
/// is shown at the first wait: after the immediate first attempt, and only
/// if that attempt did not already succeed.
struct UiClock<'u> {
    started: Instant,
    ui: &'u mut dyn LoginUi,
    prompt: Option<(&'u SsoSession, &'u DeviceAuthorization)>,
}

impl Clock for UiClock<'_> {
    fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    async fn sleep(&mut self, duration: Duration) {
        const TICK: Duration = Duration::from_millis(100);
        if let Some((session, device)) = self.prompt.take() {
            self.ui.prompt(session, device);
        }
        let until = Instant::now() + duration;
        loop {
            let now = Instant::now();
            if now >= until {
                break;
            }
            self.ui.waiting(self.started.elapsed());
            tokio::time::sleep(TICK.min(until - now)).await;
        }
    }
}

#[cfg(test)]
mod tests;
