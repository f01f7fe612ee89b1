//! Onboarding: the sso-session section, the profiles keyless manages
//! (discovered accounts and roles, named by a template, marked with
//! `keyless_managed`), conversion of AWS-CLI SSO profiles, and retirement
//! of static keys with a backup that can be restored.
//!
//! Everything here plans edits on [`crate::ini_edit::Editor`]s; the
//! commands read the files, sign in, discover, and write.

pub mod backup;
pub mod discover;
pub mod retire;

use std::collections::{BTreeMap, BTreeSet};

use crate::commands::shell_word;
use crate::config::ini::SectionName;
use crate::hint::Problem;
use crate::ini_edit::{Editor, NewSection};

/// The key that marks a profile as written by keyless for an sso-session.
pub const MANAGED_KEY: &str = "keyless_managed";
/// In the sso-session: the template and default region onboarding used,
/// so `profiles sync` names and fills new profiles the same way.
pub const TEMPLATE_KEY: &str = "keyless_profile_template";
pub const REGION_KEY: &str = "keyless_default_region";
/// `keyless_login = pkce`: sign in with the browser.
pub const LOGIN_KEY: &str = "keyless_login";
pub const DEFAULT_TEMPLATE: &str = "{account_name}-{role_name}";
pub use crate::config::resolve::DEFAULT_SCOPE;

/// The keys an AWS-CLI SSO profile carries, removed on conversion (a
/// profile with `credential_process` must carry none of them).
const SSO_KEYS: [&str; 6] = [
    "sso_session",
    "sso_account_id",
    "sso_role_name",
    "sso_start_url",
    "sso_region",
    "sso_registration_scopes",
];

/// One account with the roles the signed-in user may assume in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub account_id: String,
    pub account_name: String,
    pub roles: Vec<String>,
}

/// A profile-name template: `{account_name}`, `{account_id}`,
/// `{role_name}` and `{sso_session}` between literal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Vec<Part>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    AccountName,
    AccountId,
    RoleName,
    SsoSession,
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, Problem> {
        let mut parts = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            match rest.find(['{', '}']) {
                Some(i) if rest.as_bytes()[i] == b'}' => {
                    return Err(format!("'}}' without '{{' in profile template '{text}'").into());
                }
                Some(i) => {
                    if i > 0 {
                        parts.push(Part::Text(rest[..i].to_string()));
                    }
                    let close = rest[i..]
                        .find('}')
                        .ok_or_else(|| format!("'{{' without '}}' in profile template '{text}'"))?;
                    let name = &rest[i + 1..i + close];
                    parts.push(match name {
                        "account_name" => Part::AccountName,
                        "account_id" => Part::AccountId,
                        "role_name" => Part::RoleName,
                        "sso_session" => Part::SsoSession,
                        other => {
                            return Err(Problem::new(
                                format!(
                                    "unknown placeholder {{{other}}} in profile template '{text}'"
                                ),
                                "use {account_name}, {account_id}, {role_name} and {sso_session}",
                            ));
                        }
                    });
                    rest = &rest[i + close + 1..];
                }
                None => {
                    parts.push(Part::Text(rest.to_string()));
                    rest = "";
                }
            }
        }
        if !parts.iter().any(|p| matches!(p, Part::RoleName)) {
            return Err(Problem::new(
                format!(
                    "profile template '{text}' has no {{role_name}}: two roles of one account \
                     would get the same name"
                ),
                format!("add {{role_name}}, e.g. {DEFAULT_TEMPLATE}"),
            ));
        }
        Ok(Template(parts))
    }

    /// The sanitised name for one account and role.
    pub fn render(&self, account: &Discovered, role: &str, session: &str) -> String {
        let mut raw = String::new();
        for part in &self.0 {
            raw.push_str(match part {
                Part::Text(text) => text,
                Part::AccountName => &account.account_name,
                Part::AccountId => &account.account_id,
                Part::RoleName => role,
                Part::SsoSession => session,
            });
        }
        let name = sanitise(&raw);
        if name.is_empty() {
            sanitise(&format!("{}-{role}", account.account_id))
        } else {
            name
        }
    }
}

/// Letters, digits, `_`, `.` and `-`; any run of other characters becomes
/// one `-`, and `-` is trimmed from both ends.
pub fn sanitise(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// The section header for profile `name` in the config file.
pub fn profile_header(name: &str) -> String {
    if name == "default" {
        "default".to_string()
    } else {
        format!("profile {name}")
    }
}

/// The keys keyless writes into a managed profile, in order.
pub fn managed_keys(
    name: &str,
    session: &str,
    account_id: &str,
    role: &str,
) -> Vec<(String, String)> {
    vec![
        (
            "credential_process".into(),
            format!("keyless credential-process --profile {}", shell_word(name)),
        ),
        ("keyless_sso_session".into(), session.into()),
        ("keyless_account_id".into(), account_id.into()),
        ("keyless_role_name".into(), role.into()),
        (MANAGED_KEY.into(), session.into()),
    ]
}

/// What happened to the sso-session section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionChange {
    Written,
    Reused,
    Updated,
}

/// Writes `[sso-session NAME]` or reuses it when it already points at
/// `start_url` in `region` (one made by `aws configure sso` is reused as
/// it is). Template and region are recorded when given. An sso-session of
/// that name for another start URL is an error.
pub fn ensure_sso_session(
    config: &mut Editor,
    name: &str,
    start_url: &str,
    region: &str,
    template: Option<&str>,
    default_region: Option<&str>,
    pkce: bool,
) -> Result<SessionChange, Problem> {
    let extra: Vec<(&str, &str)> = [
        (TEMPLATE_KEY, template),
        (REGION_KEY, default_region),
        (LOGIN_KEY, pkce.then_some("pkce")),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    match config.sso_session_sections(name).last().copied() {
        Some(index) => {
            let section = &config.sections()[index];
            let url = section.get("sso_start_url").unwrap_or_default();
            if !same_start_url(url, start_url) {
                return Err(Problem::new(
                    format!(
                        "[sso-session {name}] in the config file points at {url}, not {start_url}"
                    ),
                    "choose another name with --sso-session NAME, or remove that section",
                ));
            }
            let their_region = section.get("sso_region").unwrap_or_default();
            if their_region != region {
                return Err(Problem::new(
                    format!(
                        "[sso-session {name}] in the config file uses sso_region {their_region}, \
                         not {region}"
                    ),
                    format!(
                        "give --sso-region {their_region}, or choose another name with \
                         --sso-session NAME"
                    ),
                ));
            }
            let before = config.edit_count();
            for (key, value) in extra {
                config.set(index, key, value);
            }
            Ok(if config.edit_count() != before {
                SessionChange::Updated
            } else {
                SessionChange::Reused
            })
        }
        None => {
            let mut props = vec![
                ("sso_start_url".to_string(), start_url.to_string()),
                ("sso_region".to_string(), region.to_string()),
                (
                    "sso_registration_scopes".to_string(),
                    DEFAULT_SCOPE.to_string(),
                ),
            ];
            props.extend(
                extra
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string())),
            );
            config.append(NewSection {
                header: format!("sso-session {name}"),
                props,
            });
            Ok(SessionChange::Written)
        }
    }
}

/// Start URLs compare without a trailing `/` or `#/`.
pub fn same_start_url(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.trim()
            .trim_end_matches('/')
            .trim_end_matches('#')
            .trim_end_matches('/')
            .to_string()
    };
    norm(a) == norm(b)
}

/// The name of an existing sso-session for `start_url`, if any.
pub fn session_for_url(config: &Editor, start_url: &str) -> Option<String> {
    config.sections().iter().find_map(|s| match &s.name {
        SectionName::SsoSession(name)
            if same_start_url(s.get("sso_start_url").unwrap_or_default(), start_url) =>
        {
            Some(name.clone())
        }
        _ => None,
    })
}

/// A name for a new sso-session: the start URL's first host label
/// (`d-1234567890`, `mycompany`) when it is a usable name, else `sso`.
pub fn session_name_from_url(start_url: &str) -> String {
    let host = start_url
        .split("://")
        .nth(1)
        .unwrap_or(start_url)
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    let label = sanitise(host.split('.').next().unwrap_or_default());
    if label.starts_with(|c: char| c.is_ascii_alphabetic()) {
        label
    } else {
        "sso".to_string()
    }
}

/// What a sync did, profile by profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// New profiles, by name.
    pub added: Vec<String>,
    /// Managed profiles whose keys changed.
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
    /// AWS-CLI SSO profiles turned into keyless profiles (same name).
    pub converted: Vec<String>,
    /// AWS-CLI SSO profiles that `--convert` would turn into keyless ones.
    pub convertible: Vec<String>,
    /// Managed profiles whose account or role is no longer assigned.
    pub gone: Vec<String>,
    /// ... and were removed (`--prune`).
    pub pruned: Vec<String>,
    /// `(wanted, given)`: names that were taken, and the name used.
    pub renamed: Vec<(String, String)>,
    /// Every managed profile after the sync: name → (account, role).
    pub profiles: BTreeMap<String, (String, String)>,
}

/// How to sync.
#[derive(Debug, Clone)]
pub struct SyncOptions<'a> {
    pub session: &'a str,
    /// The sso-session's start URL (for converting legacy inline profiles).
    pub start_url: &'a str,
    pub template: &'a Template,
    pub default_region: Option<&'a str>,
    pub prune: bool,
    pub convert: bool,
}

/// Plans the managed profiles of `options.session` in `config` for the
/// discovered accounts and roles. Profiles keyless did not write are never
/// touched, except AWS-CLI SSO profiles with `convert`. `credentials` is
/// read to keep new names clear of its profiles.
pub fn sync_profiles(
    config: &mut Editor,
    credentials: Option<&Editor>,
    discovered: &[Discovered],
    options: &SyncOptions<'_>,
) -> SyncReport {
    let mut report = SyncReport::default();
    let session = options.session;
    let wanted: BTreeMap<(String, String), &Discovered> = discovered
        .iter()
        .flat_map(|a| {
            a.roles
                .iter()
                .map(move |r| ((a.account_id.clone(), r.clone()), a))
        })
        .collect();

    // Names in use anywhere, and the managed profiles by account and role.
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for editor in std::iter::once(&*config).chain(credentials) {
        taken.extend(
            editor
                .sections()
                .iter()
                .filter_map(|s| s.profile().map(str::to_string)),
        );
    }
    let mut existing: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    let mut convertible: Vec<(usize, (String, String))> = Vec::new();
    for (index, section) in config.sections().iter().enumerate() {
        let Some(name) = section.profile() else {
            continue;
        };
        let identity = |account: &str, role: &str| {
            section
                .get(account)
                .zip(section.get(role))
                .map(|(a, r)| (a.to_string(), r.to_string()))
        };
        if section.get(MANAGED_KEY) == Some(session) {
            if let Some(id) = identity("keyless_account_id", "keyless_role_name") {
                existing.entry(id).or_default().push(index);
            }
        } else if section.get(MANAGED_KEY).is_none() {
            let ours = section.get("sso_session") == Some(session)
                || section
                    .get("sso_start_url")
                    .is_some_and(|u| same_start_url(u, options.start_url));
            if let Some(id) = identity("sso_account_id", "sso_role_name")
                && ours
            {
                convertible.push((index, id));
                report.convertible.push(name.to_string());
            }
        }
    }

    if options.convert {
        for (index, id) in std::mem::take(&mut convertible) {
            let name = config.sections()[index]
                .profile()
                .unwrap_or_default()
                .to_string();
            for key in SSO_KEYS {
                config.remove_key(index, key);
            }
            for (key, value) in managed_keys(&name, session, &id.0, &id.1) {
                config.set(index, &key, &value);
            }
            report.converted.push(name.clone());
            report.profiles.insert(name, id.clone());
            existing.remove(&id);
            // A converted profile now stands for its account and role.
            existing.insert(id, Vec::new());
        }
        report.convertible.clear();
    }

    // Managed profiles: kept up to date, or reported gone.
    for (id, indexes) in &existing {
        for &index in indexes {
            let name = config.sections()[index]
                .profile()
                .unwrap_or_default()
                .to_string();
            if !wanted.contains_key(id) {
                report.gone.push(name.clone());
                if options.prune {
                    config.remove_section(index);
                    report.pruned.push(name);
                } else {
                    report.profiles.insert(name, id.clone());
                }
                continue;
            }
            let before = config.edit_count();
            for key in SSO_KEYS {
                config.remove_key(index, key);
            }
            for (key, value) in managed_keys(&name, session, &id.0, &id.1) {
                config.set(index, &key, &value);
            }
            if let Some(region) = options.default_region
                && config.sections()[index].get("region").is_none()
            {
                config.set(index, "region", region);
            }
            if config.edit_count() == before {
                report.unchanged.push(name.clone());
            } else {
                report.updated.push(name.clone());
            }
            report.profiles.insert(name, id.clone());
        }
    }

    // New ones, in a fixed order so names and collisions are the same on
    // every run.
    let mut new: Vec<(&Discovered, &String)> = discovered
        .iter()
        .flat_map(|a| a.roles.iter().map(move |r| (a, r)))
        .filter(|(a, r)| !existing.contains_key(&(a.account_id.clone(), (*r).clone())))
        .collect();
    new.sort_by(|x, y| {
        (&x.0.account_name, &x.0.account_id, x.1).cmp(&(&y.0.account_name, &y.0.account_id, y.1))
    });
    new.dedup_by(|x, y| x.0.account_id == y.0.account_id && x.1 == y.1);
    for (account, role) in new {
        let wanted_name = options.template.render(account, role, session);
        let mut name = wanted_name.clone();
        if taken.contains(&name) {
            name = format!("{wanted_name}-{}", account.account_id);
            let mut n = 2;
            while taken.contains(&name) {
                name = format!("{wanted_name}-{}-{n}", account.account_id);
                n += 1;
            }
            report.renamed.push((wanted_name, name.clone()));
        }
        taken.insert(name.clone());
        let mut props = managed_keys(&name, session, &account.account_id, role);
        if let Some(region) = options.default_region {
            props.insert(4, ("region".into(), region.into()));
        }
        config.append(NewSection {
            header: profile_header(&name),
            props,
        });
        report
            .profiles
            .insert(name.clone(), (account.account_id.clone(), role.clone()));
        report.added.push(name);
    }
    report
}

/// A unified diff of `old` → `new` for `path`, with the values of secret
/// keys (`aws_secret_access_key`, `aws_session_token`, …) masked. Empty
/// when nothing changes.
pub fn diff(old: &[u8], new: &[u8], path: &str) -> String {
    if old == new {
        return String::new();
    }
    let old = redact(&String::from_utf8_lossy(old));
    let new = redact(&String::from_utf8_lossy(new));
    similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

/// Masks the value of every secret property line.
pub fn redact(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            let Some(eq) = line.find('=') else {
                return line.to_string();
            };
            let key = line[..eq].trim().to_ascii_lowercase();
            if crate::config::ini::is_secret_key(&key) {
                let ending = if line.ends_with("\r\n") {
                    "\r\n"
                } else if line.ends_with('\n') {
                    "\n"
                } else {
                    ""
                };
                format!("{} = ****{ending}", line[..eq].trim_end())
            } else {
                line.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
