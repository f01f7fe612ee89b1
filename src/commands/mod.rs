//! One module per command: orchestration only.

pub mod audit;
pub mod credential_process;
pub mod demo;
pub mod dev_server;
pub mod login;
pub mod logout;
pub mod scan;

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::Command;
use crate::config::resolve::{self, Request, RolePlan, SsoSession};
use crate::config::{AwsFiles, Env};
use crate::store::{KeyringStore, Locks, StateFile};

pub fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Login(args) => login::run(args),
        Command::CredentialProcess(args) => credential_process::run(args),
        Command::Logout(args) => logout::run(args),
        Command::Demo => demo::run(),
        Command::DevServer(args) => dev_server::run(args, &mut std::io::stderr()),
        Command::Scan(args) => scan::main(&args),
        Command::Audit(args) => audit::main(&args),
    }
}

/// The environment and the AWS files, loaded once per command.
pub struct Ctx {
    pub env: Env,
    pub files: AwsFiles,
}

impl Ctx {
    pub fn load() -> anyhow::Result<Ctx> {
        let env = Env::from_process();
        let files = AwsFiles::load(&env)?;
        Ok(Ctx { env, files })
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

    pub fn store(&self) -> KeyringStore {
        KeyringStore::new()
    }

    pub fn state_and_locks(&self) -> anyhow::Result<(StateFile, Locks)> {
        let state = StateFile::from_env()?;
        let locks = state.locks();
        Ok((state, locks))
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

/// A line for the person at the terminal, on stderr.
#[allow(clippy::print_stderr)] // the deliberate writer of human messages
pub fn say(message: std::fmt::Arguments<'_>) {
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
