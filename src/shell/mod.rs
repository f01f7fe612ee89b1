//! Everyday use in the shell: the prompt segment, `status`, the
//! environment for `exec`/`export`, the shell integration scripts
//! (compiled in from `shell/`), completions and the man page.

pub mod export;
pub mod prompt;
pub mod quote;
pub mod status;

use std::io::{self, Write};
use std::path::Path;

/// A shell keyless integrates with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

impl Shell {
    /// The full integration script, as in `shell/`.
    pub fn script(self) -> &'static str {
        match self {
            Shell::Bash => include_str!("../../shell/keyless.bash"),
            Shell::Zsh => include_str!("../../shell/keyless.zsh"),
            Shell::Fish => include_str!("../../shell/keyless.fish"),
            Shell::Powershell => include_str!("../../shell/keyless.ps1"),
        }
    }

    fn quote(self, value: &str) -> String {
        match self {
            Shell::Bash | Shell::Zsh => quote::posix(value),
            Shell::Fish => quote::fish(value),
            Shell::Powershell => quote::powershell(value),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
            Shell::Powershell => "powershell",
        }
    }
}

/// The one line `shell-init` prints: it evaluates the full script through
/// this binary's absolute path, so the rc file never goes stale.
pub fn init_stub(shell: Shell, exe: &Path) -> String {
    let exe = shell.quote(&exe.display().to_string());
    let name = shell.name();
    match shell {
        Shell::Bash | Shell::Zsh => format!("eval \"$({exe} shell-init {name} --full)\"\n"),
        Shell::Fish => format!("{exe} shell-init {name} --full | source\n"),
        Shell::Powershell => {
            format!("Invoke-Expression (& {exe} shell-init {name} --full | Out-String)\n")
        }
    }
}

/// The full script, with the binary's absolute path set first (the script
/// falls back to `keyless` on PATH when sourced directly).
pub fn full_script(shell: Shell, exe: &Path) -> String {
    let exe = shell.quote(&exe.display().to_string());
    let first = match shell {
        Shell::Bash | Shell::Zsh => format!("__keyless_bin={exe}\n"),
        Shell::Fish => format!("set -g __keyless_bin {exe}\n"),
        Shell::Powershell => format!("$global:__keyless_bin = {exe}\n"),
    };
    first + shell.script()
}

/// Completions for `shell`, generated from the command definition.
pub fn completions(
    mut command: clap::Command,
    shell: clap_complete::Shell,
    out: &mut dyn Write,
) -> io::Result<()> {
    let name = command.get_name().to_owned();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut command, name, &mut buf);
    out.write_all(&buf)?;
    out.flush()
}

/// The man page (roff) of `command`, or of one of its subcommands.
pub fn man_page(command: clap::Command, out: &mut dyn Write) -> io::Result<()> {
    clap_mangen::Man::new(command).render(out)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stub_runs_the_absolute_path() {
        let exe = Path::new("/opt/key less/bin/keyless");
        assert_eq!(
            init_stub(Shell::Bash, exe),
            "eval \"$('/opt/key less/bin/keyless' shell-init bash --full)\"\n"
        );
        assert_eq!(
            init_stub(Shell::Fish, exe),
            "'/opt/key less/bin/keyless' shell-init fish --full | source\n"
        );
        assert!(init_stub(Shell::Powershell, exe).starts_with("Invoke-Expression (& '/opt/"));
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::Powershell] {
            let full = full_script(shell, exe);
            assert!(
                full.lines()
                    .next()
                    .unwrap()
                    .contains("'/opt/key less/bin/keyless'")
            );
            assert!(full.contains("keyless"));
        }
    }
}
