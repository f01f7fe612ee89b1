//! `keyless prompt`: one short segment for a shell prompt (`dev 42m`).
//!
//! Starship's rules: read the environment first, read each file at most
//! once, never touch the keyring or the network, and stay hidden on any
//! failure. Everything here is pure: the command reads the environment and
//! (only when needed) the state and config files, and passes them in.
//!
//! Where the segment comes from, in order:
//! 1. credentials in the environment from `keyless exec` / `keyless export`
//!    (`AWS_CREDENTIAL_EXPIRATION` set): their expiry, no file read;
//! 2. the profile (`--profile`, else `AWS_PROFILE`): the role recorded for
//!    that profile in the state file, or, if the state file does not name
//!    the profile, the role the config file gives it, looked up in the state.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::ini::{self, FileKind, SectionName};
use crate::credentials::{REUSE_MARGIN_SECS, human_remaining};
use crate::store::State;

/// The segment's default template.
pub const DEFAULT_FORMAT: &str = "{profile} {remaining}";
/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 5] = ["profile", "remaining", "account", "role", "session"];
/// Below this much life left the segment is shown as expiring (yellow):
/// where `credential-process` would fetch new credentials.
pub const EXPIRING_SECS: i64 = REUSE_MARGIN_SECS;

/// Set by `exec` (and printed by `export`): the profile whose credentials
/// are in the environment.
pub const PROFILE_ENV: &str = "KEYLESS_PROFILE";
pub const EXPIRATION_ENV: &str = "AWS_CREDENTIAL_EXPIRATION";

/// The environment variables the prompt looks at, and nothing else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PromptEnv {
    pub aws_profile: Option<String>,
    pub keyless_profile: Option<String>,
    pub credential_expiration: Option<String>,
}

impl PromptEnv {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty = |k: &str| get(k).filter(|v| !v.is_empty());
        PromptEnv {
            aws_profile: non_empty("AWS_PROFILE"),
            keyless_profile: non_empty(PROFILE_ENV),
            credential_expiration: non_empty(EXPIRATION_ENV),
        }
    }
}

/// What the segment will be about, decided from the environment alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Credentials in the environment, expiring at this epoch second.
    Environment { profile: String, expires_at: i64 },
    /// A profile to look up in the state (and maybe config) file.
    Profile(String),
}

/// `None`: nothing to show (no profile; an unreadable expiry). A
/// `--profile` other than the one whose credentials are in the
/// environment is looked up in the files.
pub fn source(profile_flag: Option<&str>, env: &PromptEnv) -> Option<Source> {
    let profile_flag = profile_flag.filter(|p| !p.is_empty());
    if let Some(text) = &env.credential_expiration {
        let env_profile = env
            .keyless_profile
            .clone()
            .or_else(|| env.aws_profile.clone())
            .unwrap_or_else(|| "aws".to_owned());
        if profile_flag.is_none_or(|p| p == env_profile) {
            let expires_at = OffsetDateTime::parse(text.trim(), &Rfc3339)
                .ok()?
                .unix_timestamp();
            return Some(Source::Environment {
                profile: env_profile,
                expires_at,
            });
        }
    }
    profile_flag
        .map(str::to_owned)
        .or_else(|| env.aws_profile.clone())
        .map(Source::Profile)
}

/// What a segment shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub profile: String,
    pub expires_at: i64,
    pub session: Option<String>,
    pub account_id: Option<String>,
    pub role_name: Option<String>,
}

impl Segment {
    pub fn from_env(profile: String, expires_at: i64) -> Self {
        Segment {
            profile,
            expires_at,
            session: None,
            account_id: None,
            role_name: None,
        }
    }
}

/// The state file's bytes as a state; `None` when corrupt.
pub fn parse_state(bytes: &[u8]) -> Option<State> {
    serde_json::from_slice(bytes).ok()
}

/// The role the state file records for `profile` (the latest-expiring one
/// if several name it).
pub fn from_state(state: &State, profile: &str) -> Option<Segment> {
    state
        .roles
        .iter()
        .filter(|r| r.profiles.iter().any(|p| p == profile))
        .filter_map(|r| Some((r, r.expiration?)))
        .max_by_key(|(_, exp)| *exp)
        .map(|(r, expires_at)| Segment {
            profile: profile.to_owned(),
            expires_at,
            session: Some(r.session.clone()),
            account_id: Some(r.account_id.clone()),
            role_name: Some(r.role_name.clone()),
        })
}

/// The (sso-session, account, role) a profile names in the config file:
/// keyless's own keys, else the AWS CLI's SSO keys (the legacy inline form
/// is keyed by its start URL, as keyless records it).
pub fn role_in_config(config: &[u8], profile: &str) -> Option<(String, String, String)> {
    let document = ini::parse(config, FileKind::Config);
    let mut found: [Option<String>; 6] = Default::default();
    const KEYS: [&str; 6] = [
        "keyless_sso_session",
        "keyless_account_id",
        "keyless_role_name",
        "sso_session",
        "sso_account_id",
        "sso_role_name",
    ];
    let mut start_url = None;
    for section in &document.sections {
        if section.name != SectionName::Profile(profile.to_owned()) {
            continue;
        }
        for p in &section.properties {
            if let Some(i) = KEYS.iter().position(|k| *k == p.key) {
                found[i] = Some(p.value.trim().to_owned());
            }
            if p.key == "sso_start_url" {
                start_url = Some(p.value.trim().to_owned());
            }
        }
    }
    let [ks, ka, kr, ss, sa, sr] = found;
    match (ks, ka, kr) {
        (Some(s), Some(a), Some(r)) => Some((s, a, r)),
        _ => Some((ss.or(start_url)?, sa?, sr?)),
    }
}

/// The role the config file gives `profile`, as recorded in the state.
pub fn from_config(state: &State, config: &[u8], profile: &str) -> Option<Segment> {
    let (session, account, role) = role_in_config(config, profile)?;
    let entry = state.role(&session, &account, &role)?;
    Some(Segment {
        profile: profile.to_owned(),
        expires_at: entry.expiration?,
        session: Some(session),
        account_id: Some(account),
        role_name: Some(role),
    })
}

/// How the segment is escaped and coloured for the shell that shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
    pub shell: PromptShell,
}

/// Which prompt language the segment is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptShell {
    /// Raw text (fish, PowerShell, starship: ANSI colour is understood as is).
    Plain,
    /// bash: colour codes between `\001` and `\002` so readline does not
    /// count them in the prompt's width.
    Bash,
    /// zsh with `prompt_subst`: colour between `%{` and `%}`, `%` doubled.
    Zsh,
}

/// Checks a template: `Err` names the first unknown placeholder.
pub fn check_format(template: &str) -> Result<(), String> {
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            return Err(format!(
                "'{{' without '}}' in the prompt format '{template}'"
            ));
        };
        let name = &after[..end];
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "unknown placeholder '{{{name}}}' in the prompt format; use {}",
                PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
            ));
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

/// The segment, rendered. Names from the files are shown without control
/// characters, so a hostile config cannot write escape sequences.
pub fn render(template: &str, segment: &Segment, now: i64, style: Style) -> String {
    let remaining = segment.expires_at - now;
    let mut text = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        text.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            rest = &rest[start..];
            break;
        };
        let value = match &after[..end] {
            "profile" => segment.profile.clone(),
            "remaining" => human_remaining(remaining),
            "account" => segment.account_id.clone().unwrap_or_default(),
            "role" => segment.role_name.clone().unwrap_or_default(),
            "session" => segment.session.clone().unwrap_or_default(),
            other => format!("{{{other}}}"),
        };
        text.push_str(&value);
        rest = &after[end + 1..];
    }
    text.push_str(rest);
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    let text = match style.shell {
        PromptShell::Zsh => text.replace('%', "%%"),
        _ => text,
    };
    if !style.color {
        return text;
    }
    let color = if remaining <= 0 {
        "31" // red
    } else if remaining < EXPIRING_SECS {
        "33" // yellow
    } else {
        "32" // green
    };
    let (open, close) = match style.shell {
        PromptShell::Plain => ("", ""),
        PromptShell::Bash => ("\u{1}", "\u{2}"),
        PromptShell::Zsh => ("%{", "%}"),
    };
    format!("{open}\x1b[{color}m{close}{text}{open}\x1b[0m{close}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RoleState;

    const NOW: i64 = 1_800_000_000;

    fn env(pairs: &[(&str, &str)]) -> PromptEnv {
        PromptEnv::from_lookup(|k| {
            pairs
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        })
    }

    fn state() -> State {
        let mut state = State::default();
        let role = state.role_mut("corp", "111122223333", "Developer");
        role.profiles = vec!["dev".into()];
        role.expiration = Some(NOW + 42 * 60 + 10);
        let other = state.role_mut("corp", "444455556666", "ReadOnly");
        other.expiration = Some(NOW - 5);
        state
    }

    const PLAIN: Style = Style {
        color: false,
        shell: PromptShell::Plain,
    };

    #[test]
    fn the_environment_comes_first() {
        assert_eq!(source(None, &env(&[])), None);
        assert_eq!(
            source(None, &env(&[("AWS_PROFILE", "dev")])),
            Some(Source::Profile("dev".into()))
        );
        assert_eq!(
            source(Some("prod"), &env(&[("AWS_PROFILE", "dev")])),
            Some(Source::Profile("prod".into()))
        );
        assert_eq!(source(None, &env(&[("AWS_PROFILE", "")])), None);
        let exported = env(&[
            (EXPIRATION_ENV, "2027-01-15T08:00:00Z"),
            (PROFILE_ENV, "dev"),
        ]);
        assert_eq!(
            source(None, &exported),
            Some(Source::Environment {
                profile: "dev".into(),
                expires_at: NOW,
            })
        );
        assert_eq!(
            source(Some("prod"), &exported),
            Some(Source::Profile("prod".into())),
            "another profile than the exported one is looked up"
        );
        assert_eq!(
            source(None, &env(&[(EXPIRATION_ENV, "not a time")])),
            None,
            "an unreadable expiry hides the segment"
        );
    }

    #[test]
    fn a_profile_is_found_in_the_state_then_through_the_config() {
        let state = state();
        let seg = from_state(&state, "dev").unwrap();
        assert_eq!(render(DEFAULT_FORMAT, &seg, NOW, PLAIN), "dev 42m");
        assert_eq!(from_state(&state, "ro"), None);

        let config = b"[profile ro]\nkeyless_sso_session = corp\nkeyless_account_id = 444455556666\nkeyless_role_name = ReadOnly\n\
                       [profile cli]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Developer\n";
        let seg = from_config(&state, config, "ro").unwrap();
        assert_eq!(render(DEFAULT_FORMAT, &seg, NOW, PLAIN), "ro expired");
        let seg = from_config(&state, config, "cli").unwrap();
        assert_eq!(
            render(
                "{profile}:{account}/{role}@{session} {remaining}",
                &seg,
                NOW,
                PLAIN
            ),
            "cli:111122223333/Developer@corp 42m"
        );
        assert_eq!(from_config(&state, config, "missing"), None);
        assert_eq!(from_config(&state, b"\xff\xfe garbage [", "ro"), None);
    }

    #[test]
    fn a_corrupt_state_is_nothing() {
        assert!(parse_state(b"{").is_none());
        assert!(parse_state(b"").is_none());
        assert!(parse_state(br#"{"roles": 3}"#).is_none());
        assert!(parse_state(b"{}").is_some());
    }

    #[test]
    fn the_latest_role_wins_when_several_name_the_profile() {
        let mut state = state();
        let r = state.role_mut("corp", "999999999999", "Old");
        r.profiles = vec!["dev".into()];
        r.expiration = Some(NOW - 100);
        assert_eq!(
            from_state(&state, "dev").unwrap().role_name.as_deref(),
            Some("Developer")
        );
        // A role without a known expiry shows nothing.
        let mut state = State::default();
        state.role_mut("corp", "1", "R").profiles = vec!["x".into()];
        assert_eq!(from_state(&state, "x"), None);
        let _ = RoleState::default();
    }

    #[test]
    fn colours_and_escapes_per_shell() {
        let seg = |left: i64| Segment::from_env("dev".into(), NOW + left);
        let style = |shell| Style { color: true, shell };
        assert_eq!(
            render(DEFAULT_FORMAT, &seg(3600), NOW, style(PromptShell::Plain)),
            "\x1b[32mdev 1h00m\x1b[0m"
        );
        assert_eq!(
            render(DEFAULT_FORMAT, &seg(300), NOW, style(PromptShell::Bash)),
            "\u{1}\x1b[33m\u{2}dev 5m\u{1}\x1b[0m\u{2}"
        );
        assert_eq!(
            render(DEFAULT_FORMAT, &seg(0), NOW, style(PromptShell::Zsh)),
            "%{\x1b[31m%}dev expired%{\x1b[0m%}"
        );
        let pct = Segment::from_env("100%\x1b[2J".into(), NOW + 60);
        assert_eq!(
            render(
                "{profile}",
                &pct,
                NOW,
                Style {
                    color: false,
                    shell: PromptShell::Zsh
                }
            ),
            "100%%?[2J"
        );
    }

    #[test]
    fn templates_are_checked() {
        assert!(check_format(DEFAULT_FORMAT).is_ok());
        assert!(check_format("[{profile}|{account}|{role}|{session}]").is_ok());
        assert!(check_format("plain").is_ok());
        let err = check_format("{profil}").unwrap_err();
        assert!(
            err.contains("{profil}") && err.contains("{remaining}"),
            "{err}"
        );
        assert!(check_format("{profile").is_err());
    }
}
