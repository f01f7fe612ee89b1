//! A local IAM Identity Center: SSO OIDC and the SSO portal API on
//! 127.0.0.1, for `keyless dev-server`, `keyless demo` and the tests.
//!
//! It speaks the wire protocol of IDENTITY-CENTER.md §0–§2 closely enough
//! that the AWS SDKs cannot tell the difference: the same paths and query
//! names (`max_result`, `next_token`, `account_id`, `role_name`), the
//! `x-amz-sso_bearer_token` header, epoch seconds in registrations,
//! epoch-ms role expirations, relative `expiresIn`, errors named in
//! `x-amzn-ErrorType`, and a last page without `nextToken`. What it issues
//! looks real (`aoa…`/`aor…` tokens, `ASIA…` key IDs encoding the account)
//! and works nowhere else.
//!
//! # Operations
//!
//! | Path | Operation |
//! |---|---|
//! | `POST /client/register` | RegisterClient |
//! | `POST /device_authorization` | StartDeviceAuthorization |
//! | `POST /token` | CreateToken (device-code, refresh-token and authorization-code grants) |
//! | `GET /federation/credentials` | GetRoleCredentials |
//! | `GET /assignment/accounts` | ListAccounts |
//! | `GET /assignment/roles` | ListAccountRoles |
//! | `POST /logout` | Logout (ends the session: its access and refresh tokens) |
//! | `GET /device?user_code=ABCD-EFGH` | the `verificationUri` page: approves the code (`&action=deny` denies it) |
//! | `GET /authorize?response_type=code&client_id=…&redirect_uri=…&state=…&code_challenge_method=S256&code_challenge=…` | the PKCE browser endpoint (IDENTITY-CENTER.md §7): 302 to `redirect_uri?code=…&state=…`, or `?error=access_denied…` when denying; in manual mode a page with Allow/Deny links first |
//!
//! Authorization codes live as long as device codes, are single-use, and
//! are redeemed only with the same `redirectUri` and a `codeVerifier` whose
//! S256 hash is the challenge. A loopback redirect URI registered without a
//! port matches any port (RFC 8252). An unregistered redirect URI gets an
//! error page, never a redirect.
//!
//! Unknown or wrong-client device codes and bad, rotated or logged-out
//! refresh tokens give InvalidGrantException; a wrong client secret or an
//! expired registration InvalidClientException (401); an unknown, expired or
//! logged-out bearer token UnauthorizedException (401); GetRoleCredentials
//! for a role not assigned ForbiddenException (403, "No access"); and
//! ListAccountRoles for an unknown account ResourceNotFoundException (404).
//! Malformed input is InvalidRequestException (400), never a crash.
//!
//! # Control endpoints
//!
//! Under `/_keyless/`, a prefix no AWS path uses. All bodies are JSON; an
//! invalid one gets 400 `{"message": "…"}`.
//!
//! * `GET /_keyless/stats` → counts per operation and live objects:
//!   ```json
//!   {"operations": {"CreateToken": {"calls": 4, "ok": 1,
//!                     "errors": {"AuthorizationPendingException": 3}}, …},
//!    "registrations": 1, "deviceAuthorizations": 1, "accessTokens": 1,
//!    "refreshTokens": 1, "pendingFaults": 0}
//!   ```
//!   Every operation is listed, with zeros when it was never called.
//! * `POST /_keyless/reset` → forgets registrations, codes, tokens, faults,
//!   statistics and the clock offset, and restores the configuration the
//!   emulator started with. Answers `{}`.
//! * `POST /_keyless/faults` with one fault or an array of faults; `GET`
//!   lists the pending ones, `DELETE` clears them. A fault:
//!   ```json
//!   {"operation": "CreateToken", "kind": "error", "error": "InvalidGrantException",
//!    "grantType": "refresh_token", "count": 1}
//!   ```
//!   `operation` is an operation name from the table above (absent: every
//!   operation). `kind` is `internal` (500 InternalServerException),
//!   `throttle` (429 TooManyRequestsException), `unauthorized` (401:
//!   UnauthorizedException on the portal, InvalidClientException on OIDC),
//!   `latency` (wait `latencyMs`, then answer normally) or `error` (the
//!   exception named in `error`, with its modeled status). `count`
//!   (default 1) is how many matching calls it affects; `grantType` limits it
//!   to CreateToken calls with that grant; `every` (N) makes it hit only
//!   every Nth matching call (`"every": 10` with a large `count`: 10% of
//!   the calls). A latency fault and an error
//!   fault can both apply to one call.
//! * `GET /_keyless/config` → the configuration ([`EmulatorConfig`] in
//!   camelCase, with `accountCount` instead of the accounts). `POST` a
//!   [`ConfigPatch`] to change fields at runtime, e.g.
//!   `{"approval": {"mode": "auto", "afterPolls": 2}}`, `{"approval":
//!   {"mode": "deny"}}`, `{"approval": {"mode": "manual"}}`,
//!   `{"pollScript": ["pending", "slowDown", "pending", "success"]}`,
//!   `{"accessTokenTtlSecs": 5}`, `{"pollIntervalSecs": null}` (omit
//!   `interval`), `{"enforcePollInterval": true}` (SlowDownException for
//!   polls sooner than the interval, which grows 5 s with each), `{"refreshRotation": "rotate" | "omit" | "same"}`,
//!   `{"refreshTokens": "always" | "whenScoped" | "never"}`,
//!   `{"accessKeyPrefix": "AKIA"}`, `{"omitSessionToken": true}`,
//!   `{"accounts": [{"accountId": "…", "accountName": "…", "emailAddress":
//!   "…", "roles": ["…"]}]}`. Answers with the new configuration.
//!   A poll script applies to device authorizations started after it is set.
//! * `POST /_keyless/clock` `{"advanceSecs": 3600}` → moves the emulated
//!   clock, so tokens, codes and registrations expire without waiting;
//!   answers `{"nowMs": …}`.
//! * `POST /_keyless/approve` / `POST /_keyless/deny` `{"userCode":
//!   "ABCD-EFGH"}` → decides a pending device authorization as the device
//!   page would; 404 if none is pending with that code.
//!
//! In-process users get the same controls as methods on
//! [`RunningEmulator`]: [`start`] on a tokio runtime, [`start_in_background`]
//! without one, [`run_until_ctrl_c`] for the command line.

mod authorize;
mod config;
mod error;
mod http;
mod issue;
mod oidc;
mod portal;
mod state;
mod sts;

#[cfg(test)]
mod tests;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[cfg(test)]
pub use config::{Account, ConfigPatch, PollAnswer};
pub use config::{
    Approval, DEFAULT_ACCESS_TOKEN_TTL_SECS, DEFAULT_DEVICE_CODE_TTL_SECS,
    DEFAULT_POLL_INTERVAL_SECS, DEFAULT_REGISTRATION_TTL_SECS, DEFAULT_ROLE_CREDENTIAL_TTL_SECS,
    DEFAULT_SECRET_MARKER, EmulatorConfig, RefreshRotation, RefreshTokens, generate_accounts,
};
#[cfg(test)]
pub use error::ErrorKind;
#[cfg(test)]
pub use state::Fault;
pub use state::{Operation, Stats};

/// How long `shutdown` waits for open connections before cutting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A control request the emulator refused.
#[cfg(test)]
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("invalid fault: {0}")]
    InvalidFault(String),
    #[error("invalid emulator configuration: {0}")]
    InvalidConfig(String),
    #[error("no pending device authorization has user code '{0}'; start the login again")]
    UnknownUserCode(String),
}

/// A running emulator. Dropping it stops the server too; `shutdown` also
/// waits for it to finish.
pub struct RunningEmulator {
    addr: SocketAddr,
    shared: Arc<http::Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

/// Starts the emulator on 127.0.0.1:`port` (0 picks a free port) on the
/// current tokio runtime.
pub async fn start(config: EmulatorConfig, port: u16) -> io::Result<RunningEmulator> {
    config
        .validate()
        .map_err(|message| io::Error::new(io::ErrorKind::InvalidInput, message))?;
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(http::Shared::new(config, format!("http://{addr}")));
    let router = http::router(shared.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Ok(RunningEmulator {
        addr,
        shared,
        stop: Some(stop),
        task: Some(task),
    })
}

/// Runs the emulator on its own runtime until Ctrl-C. `on_ready` is called
/// once it listens (to print where).
pub fn run_until_ctrl_c(
    config: EmulatorConfig,
    port: u16,
    on_ready: impl FnOnce(&RunningEmulator) -> io::Result<()>,
) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let emulator = start(config, port).await?;
        on_ready(&emulator)?;
        tokio::signal::ctrl_c().await?;
        emulator.shutdown().await
    })
}

/// An emulator on its own runtime and threads, for callers without a tokio
/// runtime (synchronous tests, a harness running the `keyless` binary).
/// It dereferences to [`RunningEmulator`] for the controls, and stops when
/// dropped.
#[cfg(test)]
pub struct BackgroundEmulator {
    emulator: Option<RunningEmulator>,
    runtime: Option<tokio::runtime::Runtime>,
}

/// Starts the emulator on a runtime of its own; see [`BackgroundEmulator`].
#[cfg(test)]
pub fn start_in_background(config: EmulatorConfig, port: u16) -> io::Result<BackgroundEmulator> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("keyless-emulator")
        .enable_all()
        .build()?;
    let emulator = runtime.block_on(start(config, port))?;
    Ok(BackgroundEmulator {
        emulator: Some(emulator),
        runtime: Some(runtime),
    })
}

#[cfg(test)]
impl std::ops::Deref for BackgroundEmulator {
    type Target = RunningEmulator;

    fn deref(&self) -> &RunningEmulator {
        // Both fields are `Some` until `drop`.
        self.emulator
            .as_ref()
            .unwrap_or_else(|| unreachable!("taken only in drop"))
    }
}

#[cfg(test)]
impl Drop for BackgroundEmulator {
    fn drop(&mut self) {
        let (Some(emulator), Some(runtime)) = (self.emulator.take(), self.runtime.take()) else {
            return;
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            // Blocking inside another runtime is not allowed: stop without waiting.
            drop(emulator);
            runtime.shutdown_background();
        } else {
            let _ = runtime.block_on(emulator.shutdown());
            runtime.shutdown_timeout(SHUTDOWN_GRACE);
        }
    }
}

impl RunningEmulator {
    /// `http://127.0.0.1:PORT`, the value for `AWS_ENDPOINT_URL_SSO` and
    /// `AWS_ENDPOINT_URL_SSO_OIDC`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets open requests finish (up to a few seconds) and
    /// waits for the server to end.
    pub async fn shutdown(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let Some(task) = self.task.take() else {
            return Ok(());
        };
        let abort = task.abort_handle();
        match tokio::time::timeout(SHUTDOWN_GRACE, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join_error)) => Err(io::Error::other(join_error)),
            Err(_elapsed) => {
                abort.abort();
                Ok(())
            }
        }
    }

    pub fn stats(&self) -> Stats {
        self.shared.lock().stats()
    }
}

/// In-process controls, as the `/_keyless/...` endpoints offer them over
/// HTTP.
#[cfg(test)]
impl RunningEmulator {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn update_config(&self, patch: ConfigPatch) -> Result<(), ControlError> {
        let mut inner = self.shared.lock();
        let mut config = inner.config.clone();
        config.apply(patch).map_err(ControlError::InvalidConfig)?;
        inner.set_config(config);
        Ok(())
    }

    pub fn inject(&self, fault: Fault) -> Result<(), ControlError> {
        self.shared
            .lock()
            .add_fault(fault)
            .map_err(ControlError::InvalidFault)
    }

    /// Moves the emulated clock forward (or back, with a negative value).
    pub fn advance_clock(&self, secs: i64) {
        self.shared.lock().advance_clock(secs);
    }

    /// Approves a pending device authorization, as the device page does.
    pub fn approve(&self, user_code: &str) -> Result<(), ControlError> {
        self.decide(user_code, true)
    }

    fn decide(&self, user_code: &str, approve: bool) -> Result<(), ControlError> {
        if self.shared.lock().decide_user_code(user_code, approve) {
            Ok(())
        } else {
            Err(ControlError::UnknownUserCode(user_code.to_string()))
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
