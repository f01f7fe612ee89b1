//! One module per command: orchestration only.

pub mod audit;
pub mod completions;
pub mod credential_process;
pub mod demo;
pub mod dev_server;
pub mod doctor;
pub mod exec;
pub mod export;
pub mod login;
pub mod logout;
pub mod onboard;
pub mod policy;
pub mod profiles;
pub mod prompt;
pub mod retire;
pub mod scan;
pub mod shell_init;
pub mod status;

use std::process::ExitCode;

use anyhow::Context;

use crate::auth::{Auth, SystemClock};
use crate::cli::Command;
use crate::config::resolve::{self, Request, RolePlan, SsoSession};
use crate::config::{AwsFiles, Env};
use crate::identity_center::Clients;
use crate::store::{ChosenStore, Locks, NAMESPACE_ENV, STORE_ENV, StateFile, StoreKind, Stores};

pub fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Login(args) => login::run(args),
        Command::CredentialProcess(args) => credential_process::run(args),
        Command::Logout(args) => logout::run(args),
        Command::Demo => demo::run(),
        Command::DevServer(args) => dev_server::run(args, &mut std::io::stderr()),
        Command::Scan(args) => scan::main(&args),
        Command::Policy(args) => policy::main(&args),
        Command::Status(args) => status::run(&args),
        Command::Prompt(args) => prompt::run(&args),
        Command::Exec(args) => exec::run(&args),
        Command::Export(args) => export::run(&args),
        Command::ShellInit(args) => shell_init::run(&args),
        Command::Completions(args) => completions::run(&args),
        Command::Man(args) => completions::man(&args),
        Command::Doctor(args) => doctor::run(&args),
        Command::Audit(args) => audit::main(&args),
        Command::Onboard(args) => onboard::run(&args),
        Command::Profiles(args) => profiles::run(&args),
        Command::Retire(args) => retire::run(&args),
    }
}

/// The environment, the AWS files and the secret stores, loaded once per
/// command (nothing is connected until first use).
pub struct Ctx {
    pub env: Env,
    pub files: AwsFiles,
    pub stores: Stores,
}

impl Ctx {
    pub fn load() -> anyhow::Result<Ctx> {
        let env = Env::from_process();
        let files = AwsFiles::load(&env)?;
        let forced = match env.get(STORE_ENV).filter(|v| !v.is_empty()) {
            None => None,
            Some(value) => Some(StoreKind::parse(value).ok_or_else(|| {
                crate::hint::hinted(
                    crate::UsageError(format!("{STORE_ENV}={value} is not a store")),
                    "set it to secret-service or keyutils, or unset it",
                )
            })?),
        };
        let stores = Stores::new(forced, env.get(NAMESPACE_ENV));
        Ok(Ctx { env, files, stores })
    }

    /// The store of `session`: `KEYLESS_STORE`, else its `keyless_store`,
    /// else the Secret Service when one answers, else the kernel keyring.
    pub fn store(&self, session: &SsoSession) -> ChosenStore<'_> {
        self.stores.for_session(session.store)
    }

    pub fn default_profile(&self) -> String {
        resolve::default_profile_name(&self.env)
    }

    pub fn resolve_role(&self, request: &Request) -> anyhow::Result<RolePlan> {
        Ok(resolve::resolve_role(&self.files, request)?)
    }

    /// The sso-session named, or the one of the profile named, or the one
    /// of the default profile.
    pub fn session_for(
        &self,
        session: Option<&str>,
        profile: Option<&str>,
    ) -> anyhow::Result<SsoSession> {
        Ok(match (session, profile) {
            (Some(name), _) => resolve::resolve_session(&self.files, name)?,
            (None, Some(profile)) => resolve::session_for_profile(&self.files, profile)?,
            (None, None) => resolve::session_for_profile(&self.files, &self.default_profile())?,
        })
    }

    /// The exact command that signs in to `session` again.
    pub fn login_command(&self, session: &SsoSession, profile: Option<&str>) -> String {
        match (session.legacy, profile) {
            (true, Some(profile)) => format!("keyless login --profile {}", shell_word(profile)),
            _ => format!("keyless login --sso-session {}", shell_word(&session.name)),
        }
    }

    /// The state file and the locks beside it; waits for a lock longer
    /// than a moment are announced on stderr.
    pub fn state_and_locks(&self) -> anyhow::Result<(StateFile, Locks)> {
        let state = StateFile::from_env()?;
        let locks = state.locks().with_notice(say);
        Ok((state, locks))
    }

    /// Runs `work` with the lifecycle for `session`: the OS keyring, the
    /// state file, the locks and Identity Center clients for the session's
    /// region. The one place where these are put together.
    pub fn with_auth<R>(
        &self,
        session: &SsoSession,
        profile: Option<&str>,
        work: impl AsyncFnOnce(&Auth<'_, Clients>) -> R,
    ) -> anyhow::Result<R> {
        let (state, locks) = self.state_and_locks()?;
        let login_command = self.login_command(session, profile);
        let store = self.store(session);
        block_on(async {
            let clients = Clients::new(&session.region, None).await;
            let auth = Auth {
                store: &store,
                identity_center: &clients,
                clock: &SystemClock,
                state: Some(&state),
                locks: Some(&locks),
                login_command,
            };
            work(&auth).await
        })
    }
}

/// Runs async work on a single-threaded runtime, built only when needed.
pub fn block_on<F: std::future::Future>(future: F) -> anyhow::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    Ok(runtime.block_on(future))
}

static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `--quiet`: [`say`] says nothing; [`warn`] still does.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
}

/// `--quiet` was given.
pub fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// A line for the person at the terminal, on stderr (not with `--quiet`).
pub fn say(message: std::fmt::Arguments<'_>) {
    if !QUIET.load(std::sync::atomic::Ordering::Relaxed) {
        warn(message);
    }
}

/// A line that is shown even with `--quiet`: a warning, on stderr.
#[allow(clippy::print_stderr)] // the deliberate writer of human messages
pub fn warn(message: std::fmt::Arguments<'_>) {
    eprintln!("{message}");
}

/// A progress update for the person at the terminal, on stderr, with no
/// line break (it is redrawn with `\r`).
#[allow(clippy::print_stderr)] // the deliberate writer of human messages
pub fn progress(message: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(message);
    let _ = err.flush();
}

/// Quotes a word for a POSIX shell if it needs it.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn shell_words() {
        assert_eq!(shell_word("corp"), "corp");
        assert_eq!(shell_word("my session"), "'my session'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
