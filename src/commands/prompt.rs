//! `keyless prompt`: the segment for PS1. The environment first; then at
//! most one read of the state file and, only if the state does not name
//! the profile, one read of the config file. No keyring, no network, no
//! async runtime; nothing on stdout or stderr on any failure.

use std::io::Write;
use std::process::ExitCode;

use crate::UsageError;
use crate::cli::{PromptArgs, PromptShell};
use crate::config::{Env, FileKind};
use crate::credentials;
use crate::shell::prompt::{self, Segment, Source, Style};
use crate::store::StateFile;

#[allow(clippy::disallowed_methods)] // the one stdout writer of this command
pub fn run(args: &PromptArgs) -> anyhow::Result<ExitCode> {
    prompt::check_format(&args.format).map_err(UsageError)?;
    if let Some(segment) = segment(args.profile.as_deref()) {
        let style = Style {
            color: args.color,
            shell: match args.shell {
                PromptShell::Plain => prompt::PromptShell::Plain,
                PromptShell::Bash => prompt::PromptShell::Bash,
                PromptShell::Zsh => prompt::PromptShell::Zsh,
            },
        };
        let text = prompt::render(&args.format, &segment, credentials::now(), style);
        // The one writer of stdout; a closed pipe is not worth a word.
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    }
    Ok(ExitCode::SUCCESS)
}

fn segment(profile_flag: Option<&str>) -> Option<Segment> {
    let env = prompt::PromptEnv::from_lookup(|k| std::env::var(k).ok());
    match prompt::source(profile_flag, &env)? {
        Source::Environment {
            profile,
            expires_at,
        } => Some(Segment::from_env(profile, expires_at)),
        Source::Profile(profile) => {
            let state_path = StateFile::from_env().ok()?.path();
            let state = prompt::parse_state(&std::fs::read(state_path).ok()?)?;
            prompt::from_state(&state, &profile).or_else(|| {
                let config = std::fs::read(Env::from_process().path(FileKind::Config)).ok()?;
                prompt::from_config(&state, &config, &profile)
            })
        }
    }
}
