//! The token and credential lifecycle (DESIGN.md §5): device login, token
//! refresh, and role credentials, with the keyring as cache and OS file
//! locks so that concurrent invocations do the network work once.
//!
//! Every function re-reads the cache after taking its lock: another
//! process may have done the work while this one waited.

use std::time::{Duration, Instant};

use crate::config::resolve::{RolePlan, SsoSession};
use crate::credentials::{self, Credentials, Refusal};
use crate::identity_center::device::{self, Clock, DeviceFlowError, Poller};
use crate::identity_center::oidc::{DeviceAuthorization, TokenGrant};
use crate::identity_center::{ApiError, ApiErrorKind, Clients};
use crate::secret::Secret;
use crate::store::{
    self, LockError, Locks, Registration, RoleCredsItem, SecretStore, State, StateError, StateFile,
    StoreError, TokenItem,
};

/// Refresh the access token when less than this remains.
pub const TOKEN_REFRESH_WINDOW_SECS: i64 = 5 * 60;
/// Register a new client when the cached registration has less than this.
pub const REGISTRATION_REUSE_MARGIN_SECS: i64 = 15 * 60;
/// How long to wait for another process fetching the same role.
pub const ROLE_LOCK_WAIT: Duration = Duration::from_secs(60);
/// How long to wait for another process refreshing or logging in to the
/// same sso-session (a login may take as long as the user needs).
pub const SESSION_LOCK_WAIT: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("not signed in to sso-session '{session}' (or the session expired). Run: {command}")]
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
pub struct Auth<'a> {
    pub store: &'a dyn SecretStore,
    pub clients: &'a Clients,
    pub state: Option<&'a StateFile>,
    pub locks: Option<&'a Locks>,
    /// The command that signs in again, named in `LoginRequired`.
    pub login_command: String,
}

impl Auth<'_> {
    fn login_required(&self, session: &SsoSession) -> AuthError {
        AuthError::LoginRequired {
            session: session.name.clone(),
            command: self.login_command.clone(),
        }
    }

    fn lock_session(&self, session: &SsoSession) -> Result<Option<store::LockGuard>, AuthError> {
        match self.locks {
            Some(locks) => Ok(Some(locks.session(&session.name, SESSION_LOCK_WAIT)?)),
            None => Ok(None),
        }
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
        let _guard = self.lock_session(session)?;
        if only_if_needed
            && let Some(token) = store::load_token(self.store, &session.name)?
            && token.expires_at - credentials::now() > TOKEN_REFRESH_WINDOW_SECS
        {
            tracing::info!(session = %session.name, "signed in by another process meanwhile");
            return Ok(token);
        }
        let mut registration = self.registration(session, false).await?;
        let device = match self
            .clients
            .start_device_authorization(&registration, &session.start_url)
            .await
        {
            Err(e) if e.is(&ApiErrorKind::InvalidClient) => {
                registration = self.registration(session, true).await?;
                self.clients
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
            self.clients
                .create_token_with_device_code(registration, &device)
        })
        .await;
        clock.ui.finished(grant.is_ok());
        let grant = grant?;
        let token = token_item(grant, None);
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
    ) -> Result<Registration, AuthError> {
        if !fresh
            && let Some(reg) = store::load_registration(self.store, &session.name)?
            && reg.expires_at - credentials::now() > REGISTRATION_REUSE_MARGIN_SECS
            && reg.scopes == session.scopes
        {
            return Ok(reg);
        }
        let name = format!("keyless-{}", client_name_suffix(&session.name));
        let reg = self.clients.register_client(&name, &session.scopes).await?;
        store::save_registration(self.store, &session.name, &reg)?;
        Ok(reg)
    }

    /// A usable access token for `session`: the cached one, refreshed when
    /// under five minutes remain, or when `rejected` (the token the portal
    /// just refused with a 401) is still the cached one.
    pub async fn access_token(
        &self,
        session: &SsoSession,
        rejected: Option<&Secret<String>>,
    ) -> Result<Secret<String>, AuthError> {
        let now = credentials::now();
        let cached = store::load_token(self.store, &session.name)?
            .ok_or_else(|| self.login_required(session))?;
        let was_rejected = rejected.is_some_and(|r| r == &cached.access_token);
        let fresh = cached.expires_at - now > TOKEN_REFRESH_WINDOW_SECS;
        tracing::debug!(session = %session.name, fresh, was_rejected, remaining = cached.expires_at - now, "token check");
        if fresh && !was_rejected {
            return Ok(cached.access_token);
        }

        let _guard = self.lock_session(session)?;
        let token = store::load_token(self.store, &session.name)?
            .ok_or_else(|| self.login_required(session))?;
        let now = credentials::now();
        let was_rejected = rejected.is_some_and(|r| r == &token.access_token);
        let fresh = token.expires_at - now > TOKEN_REFRESH_WINDOW_SECS;
        let still_valid = token.expires_at > now && !was_rejected;
        if fresh && !was_rejected {
            tracing::debug!(session = %session.name, "token refreshed by another process");
            return Ok(token.access_token);
        }
        let registration =
            store::load_registration(self.store, &session.name)?.filter(|r| r.expires_at > now);
        let (Some(refresh_token), Some(registration)) = (token.refresh_token.clone(), registration)
        else {
            tracing::debug!(session = %session.name, "no refresh token or registration expired");
            return if still_valid {
                Ok(token.access_token)
            } else {
                Err(self.login_required(session))
            };
        };
        match self
            .clients
            .refresh_token(&registration, &refresh_token)
            .await
        {
            Ok(grant) => {
                let refreshed = token_item(grant, Some(refresh_token));
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
            Err(e) if still_valid => {
                tracing::warn!(session = %session.name, "token refresh failed, using the current token: {e}");
                Ok(token.access_token)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Role credentials from the cache, or fetched, validated and cached.
    pub async fn role_credentials(&self, plan: &RolePlan) -> Result<Credentials, AuthError> {
        let session = &plan.session;
        let _guard = match self.locks {
            Some(locks) => Some(locks.role(
                &session.name,
                &plan.account_id,
                &plan.role_name,
                ROLE_LOCK_WAIT,
            )?),
            None => None,
        };
        if let Some(cached) = cached_role(self.store, plan)? {
            tracing::debug!("role credentials cached by another process");
            return Ok(cached);
        }
        let token = self.access_token(session, None).await?;
        let creds = match self
            .clients
            .role_credentials(&token, &plan.account_id, &plan.role_name)
            .await
        {
            Err(e) if e.is(&ApiErrorKind::Unauthorized) => {
                tracing::info!("portal rejected the access token; refreshing once and retrying");
                let token = self.access_token(session, Some(&token)).await?;
                match self
                    .clients
                    .role_credentials(&token, &plan.account_id, &plan.role_name)
                    .await
                {
                    Err(e) if e.is(&ApiErrorKind::Unauthorized) => {
                        return Err(self.login_required(session));
                    }
                    other => other?,
                }
            }
            other => other?,
        };
        let now = credentials::now();
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
    /// the session's token and every role-credential item of it.
    pub async fn logout(&self, session_name: &str) -> Result<Option<ApiError>, AuthError> {
        let mut portal_error = None;
        if let Some(token) = store::load_token(self.store, session_name)?
            && let Err(e) = self.clients.logout(&token.access_token).await
        {
            portal_error = Some(e);
        }
        forget_session(self.store, self.state, session_name)?;
        Ok(portal_error)
    }

    fn record_session(&self, session: &SsoSession, token: &TokenItem, login: bool) {
        self.update_state(|state| {
            let entry = state.sessions.entry(session.name.clone()).or_default();
            entry.start_url = session.start_url.clone();
            entry.region = session.region.clone();
            entry.token_expires_at = Some(token.expires_at);
            entry.refreshable = Some(token.refresh_token.is_some());
            if login {
                entry.last_login = Some(credentials::now());
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

/// Deletes the token, the client registration and every role item of
/// `session` from the keyring, and the session from the state file.
pub fn forget_session(
    store: &dyn SecretStore,
    state: Option<&StateFile>,
    session: &str,
) -> Result<(), AuthError> {
    store::delete_token(store, session)?;
    store::delete_registration(store, session)?;
    if let Some(state) = state {
        let roles = state
            .update(|s| s.remove_session(session))
            .unwrap_or_else(|e| {
                tracing::warn!("could not update the state file: {e}");
                state
                    .load()
                    .map(|s| s.roles_of(session).cloned().collect())
                    .unwrap_or_default()
            });
        for role in roles {
            store::delete_role(store, session, &role.account_id, &role.role_name)?;
        }
    }
    Ok(())
}

/// The cached role credentials if they have at least 15 minutes left and
/// pass validation; a miss otherwise.
pub fn cached_role(
    store: &dyn SecretStore,
    plan: &RolePlan,
) -> Result<Option<Credentials>, StoreError> {
    let item = store::load_role(store, &plan.session.name, &plan.account_id, &plan.role_name)?;
    let now = credentials::now();
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

/// The token item for a grant; the old refresh token is kept when the
/// server does not rotate it.
fn token_item(grant: TokenGrant, previous_refresh: Option<Secret<String>>) -> TokenItem {
    TokenItem {
        access_token: grant.access_token,
        expires_at: credentials::now() + grant.expires_in,
        refresh_token: grant.refresh_token.or(previous_refresh),
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
