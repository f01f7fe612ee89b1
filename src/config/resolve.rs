//! Profile resolution: from the merged files to a plan. Pure: no I/O.
//!
//! A profile is read, in this order, as:
//! 1. **refused** if it has `credential_process` and any `sso_*` key the
//!    SDKs look at (`sso_session`, `sso_start_url`, `sso_region`,
//!    `sso_account_id`, `sso_role_name`): the AWS SDK for Rust then always
//!    takes its SSO path and botocore does whenever account or role is set,
//!    so `credential_process` never runs (IDENTITY-CENTER.md §4.2). This is
//!    an error, not a warning: such a profile works by accident in one tool
//!    and silently fails in another, and the fix is one edit;
//! 2. a **keyless profile** when it has any of `keyless_sso_session`,
//!    `keyless_account_id`, `keyless_role_name`;
//! 3. an **AWS-CLI SSO profile** when it has any of the five `sso_*` keys:
//!    `sso_session` naming an `[sso-session]` (then `sso_start_url` and
//!    `sso_region` must not be in the profile: the Rust SDK refuses that,
//!    botocore accepts equal values), or the legacy inline form with
//!    `sso_start_url` and `sso_region`; `sso_account_id` and
//!    `sso_role_name` both or neither;
//! 4. **static keys** when it has `aws_access_key_id` (in either file):
//!    refused with [`ConfigError::StaticKeys`];
//! 5. anything else is not something keyless can use.
//!
//! `keyless_auto_login = true|false` is read for every shape.

use super::{AwsFile, AwsFiles, ConfigError, Env, MergedSection, SectionName, Setting};

/// The default `sso_registration_scopes`, as in the AWS CLI.
pub const DEFAULT_SCOPE: &str = "sso:account:access";

const SSO_KEYS: [&str; 5] = [
    "sso_session",
    "sso_start_url",
    "sso_region",
    "sso_account_id",
    "sso_role_name",
];
const KEYLESS_KEYS: [&str; 3] = [
    "keyless_sso_session",
    "keyless_account_id",
    "keyless_role_name",
];

/// What the user asked for: a profile, or `--sso-session S --account-id A
/// --role-name R`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Profile(String),
    Explicit {
        sso_session: String,
        account_id: String,
        role_name: String,
    },
}

/// Where to log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSession {
    /// The sso-session name; for the legacy inline form, the start URL.
    pub name: String,
    pub start_url: String,
    pub region: String,
    /// `sso_registration_scopes`, comma-separated, default
    /// [`DEFAULT_SCOPE`]. Empty for the legacy form, which registers
    /// without scopes as the AWS CLI does (its tokens cannot be refreshed).
    pub scopes: Vec<String>,
    pub legacy: bool,
}

/// Which role credentials to get, and from which session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolePlan {
    /// The profile that asked, if any.
    pub profile: Option<String>,
    pub session: SsoSession,
    pub account_id: String,
    pub role_name: String,
    /// `keyless_auto_login = true` on the profile.
    pub auto_login: bool,
}

/// `AWS_PROFILE` when set and not empty, else `default`.
pub fn default_profile_name(env: &Env) -> String {
    env.get("AWS_PROFILE")
        .filter(|p| !p.is_empty())
        .unwrap_or("default")
        .to_owned()
}

/// The plan for `credential-process`, `exec` and `export`.
pub fn resolve_role(files: &AwsFiles, req: &Request) -> Result<RolePlan, ConfigError> {
    files.check()?;
    match req {
        Request::Explicit {
            sso_session,
            account_id,
            role_name,
        } => {
            let session = sso_session_section(files, sso_session, None)?;
            let bad = |message: String| ConfigError::Invalid {
                profile: None,
                message,
            };
            if !is_account_id(account_id) {
                return Err(bad(
                    "invalid --account-id: an AWS account ID is exactly 12 digits".into(),
                ));
            }
            if !is_role_name(role_name) {
                return Err(bad(format!(
                    "invalid --role-name: a role name is 1 to 64 letters, digits and \
                     +=,.@_- characters; use the role name the AWS access portal shows"
                )));
            }
            Ok(RolePlan {
                profile: None,
                session,
                account_id: account_id.clone(),
                role_name: role_name.clone(),
                auto_login: false,
            })
        }
        Request::Profile(name) => {
            let profile = find_profile(files, name)?;
            let sso = profile_sso(files, profile)?;
            let (account, role) = match (sso.account, sso.role) {
                (Some(account), Some(role)) => (account, role),
                (account, role) => {
                    return Err(sso.invalid(
                        files,
                        profile,
                        missing_role_message(&sso, account, role),
                    ));
                }
            };
            if !is_account_id(account.value()) {
                return Err(sso.invalid_value(
                    files,
                    profile,
                    account,
                    "is not a 12-digit AWS account ID",
                ));
            }
            if !is_role_name(role.value()) {
                return Err(sso.invalid_value(files, profile, role, ROLE_NAME_RULE));
            }
            Ok(RolePlan {
                profile: Some(profile.name.clone()),
                session: sso.session,
                account_id: account.value().to_owned(),
                role_name: role.value().to_owned(),
                auto_login: auto_login(files, profile)?,
            })
        }
    }
}

/// The session for `login --sso-session S`.
pub fn resolve_session(files: &AwsFiles, name: &str) -> Result<SsoSession, ConfigError> {
    files.check()?;
    sso_session_section(files, name, None)
}

/// The session for `login --profile P`: only the session part of the
/// profile must be complete.
pub fn session_for_profile(files: &AwsFiles, profile: &str) -> Result<SsoSession, ConfigError> {
    files.check()?;
    let profile = find_profile(files, profile)?;
    Ok(profile_sso(files, profile)?.session)
}

/// A profile's SSO settings, before the role part is checked.
struct ProfileSso<'a> {
    session: SsoSession,
    account: Option<&'a Setting>,
    role: Option<&'a Setting>,
    /// `keyless_` or `sso_`: the key prefix this profile uses.
    prefix: &'static str,
}

impl ProfileSso<'_> {
    fn invalid(&self, files: &AwsFiles, profile: &MergedSection, what: String) -> ConfigError {
        ConfigError::Invalid {
            profile: Some(profile.name.clone()),
            message: format!(
                "profile '{}' ({}) {what}; {}",
                profile.name,
                header(files, profile),
                self.fix()
            ),
        }
    }

    fn invalid_value(
        &self,
        files: &AwsFiles,
        profile: &MergedSection,
        setting: &Setting,
        rule: &str,
    ) -> ConfigError {
        ConfigError::Invalid {
            profile: Some(profile.name.clone()),
            message: format!(
                "{} in profile '{}' ({}) {rule}; fix the value, {}",
                setting.property.key,
                profile.name,
                files.location(setting.file, setting.line()),
                self.fix()
            ),
        }
    }

    fn fix(&self) -> &'static str {
        if self.prefix == "keyless_" {
            "or run `keyless profiles sync` to rewrite keyless profiles"
        } else {
            "or pass --sso-session, --account-id and --role-name"
        }
    }
}

fn missing_role_message(
    sso: &ProfileSso,
    account: Option<&Setting>,
    role: Option<&Setting>,
) -> String {
    let p = sso.prefix;
    match (account, role) {
        (Some(_), None) => format!("has {p}account_id but no {p}role_name"),
        (None, Some(_)) => format!("has {p}role_name but no {p}account_id"),
        _ => {
            format!("has no {p}account_id or {p}role_name, so it names a login session but no role")
        }
    }
}

fn profile_sso<'a>(
    files: &AwsFiles,
    profile: &'a MergedSection,
) -> Result<ProfileSso<'a>, ConfigError> {
    let sso_keys: Vec<String> = SSO_KEYS
        .iter()
        .filter(|k| profile.settings.contains_key(**k))
        .map(|k| k.to_string())
        .collect();
    if let Some(process) = profile.setting("credential_process") {
        if !sso_keys.is_empty() {
            return Err(ConfigError::SsoKeysWithCredentialProcess {
                profile: profile.name.clone(),
                path: files.file(process.file).display.clone(),
                line: process.line(),
                keys: sso_keys,
            });
        }
    }
    let invalid = |message: String| ConfigError::Invalid {
        profile: Some(profile.name.clone()),
        message,
    };
    let here = || header(files, profile);
    let referenced_by = |setting: &Setting| {
        format!(
            "profile '{}' at {}",
            profile.name,
            files.location(setting.file, setting.line())
        )
    };

    if KEYLESS_KEYS
        .iter()
        .any(|k| profile.settings.contains_key(*k))
    {
        let Some(session) = profile.setting("keyless_sso_session") else {
            return Err(invalid(format!(
                "profile '{}' ({}) has keyless settings but no keyless_sso_session; add \
                 `keyless_sso_session = NAME` naming an [sso-session NAME] section, or run \
                 `keyless profiles sync`",
                profile.name,
                here()
            )));
        };
        return Ok(ProfileSso {
            session: sso_session_section(files, session.value(), Some(referenced_by(session)))?,
            account: profile.setting("keyless_account_id"),
            role: profile.setting("keyless_role_name"),
            prefix: "keyless_",
        });
    }

    if !sso_keys.is_empty() {
        let session = match profile.setting("sso_session") {
            Some(session) => {
                if let Some(inline) = ["sso_start_url", "sso_region"]
                    .into_iter()
                    .find(|k| profile.settings.contains_key(*k))
                {
                    return Err(invalid(format!(
                        "profile '{}' ({}) has both sso_session and {inline}; the AWS SDK \
                         for Rust refuses that: keep {inline} only in [sso-session {}]",
                        profile.name,
                        here(),
                        session.value()
                    )));
                }
                sso_session_section(files, session.value(), Some(referenced_by(session)))?
            }
            None => legacy_session(profile).map_err(|missing| {
                invalid(format!(
                    "profile '{}' ({}) has SSO settings but no sso_session and no {missing}; \
                     add `sso_session = NAME` naming an [sso-session NAME] section (or both \
                     sso_start_url and sso_region)",
                    profile.name,
                    here()
                ))
            })?,
        };
        return Ok(ProfileSso {
            session,
            account: profile.setting("sso_account_id"),
            role: profile.setting("sso_role_name"),
            prefix: "sso_",
        });
    }

    if let Some(key) = profile.setting("aws_access_key_id") {
        return Err(ConfigError::StaticKeys {
            profile: profile.name.clone(),
            path: files.file(key.file).display.clone(),
            line: key.line(),
        });
    }
    Err(invalid(format!(
        "profile '{}' ({}) has no keyless or IAM Identity Center settings; create keyless \
         profiles with `keyless onboard` or `keyless profiles sync`",
        profile.name,
        here()
    )))
}

/// The legacy inline form; `Err` names the first missing key.
fn legacy_session(profile: &MergedSection) -> Result<SsoSession, &'static str> {
    let start_url = profile.get("sso_start_url").ok_or("sso_start_url")?;
    let region = profile.get("sso_region").ok_or("sso_region")?;
    Ok(SsoSession {
        name: start_url.to_owned(),
        start_url: start_url.to_owned(),
        region: region.to_owned(),
        scopes: Vec::new(),
        legacy: true,
    })
}

fn sso_session_section(
    files: &AwsFiles,
    name: &str,
    referenced_by: Option<String>,
) -> Result<SsoSession, ConfigError> {
    let config = &files.config().display;
    let Some(section) = files.sso_session(name) else {
        return Err(ConfigError::UnknownSsoSession {
            session: name.to_owned(),
            path: config.clone(),
            known: files.sso_sessions().map(|s| s.name.clone()).collect(),
            referenced_by,
        });
    };
    let here = header(files, section);
    let invalid = |what: String| ConfigError::Invalid {
        profile: None,
        message: format!(
            "sso-session '{name}' ({here}) {what}; fix the section, or run `keyless onboard \
             --sso-session {name}` to rewrite it"
        ),
    };
    let required = |key: &str| match section.get(key) {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(invalid(format!("has no {key}"))),
    };
    let start_url = required("sso_start_url")?;
    let region = required("sso_region")?;
    if !(start_url.starts_with("https://") || start_url.starts_with("http://")) {
        return Err(invalid(
            "has an sso_start_url that is not an https:// URL".into(),
        ));
    }
    if !is_region(region) {
        return Err(invalid(
            "has an sso_region that is not an AWS region name such as us-east-1".into(),
        ));
    }
    let mut scopes: Vec<String> = section
        .get("sso_registration_scopes")
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if scopes.is_empty() {
        scopes.push(DEFAULT_SCOPE.to_owned());
    }
    Ok(SsoSession {
        name: name.to_owned(),
        start_url: start_url.to_owned(),
        region: region.to_owned(),
        scopes,
        legacy: false,
    })
}

fn find_profile<'a>(files: &'a AwsFiles, name: &str) -> Result<&'a MergedSection, ConfigError> {
    files
        .profile(name)
        .ok_or_else(|| ConfigError::UnknownProfile {
            profile: name.to_owned(),
            paths: format!(
                "{} and {}",
                files.config().display,
                files.credentials().display
            ),
            known: files.profiles().map(|p| p.name.clone()).collect(),
            hint: misplaced_header(files, name),
        })
}

/// A header the SDKs ignore that was probably meant to define `name`.
fn misplaced_header(files: &AwsFiles, name: &str) -> Option<String> {
    let config = files.config();
    let credentials = files.credentials();
    let ignored = |file: &AwsFile, raw_name: &str| {
        file.document.sections.iter().find_map(|s| match &s.name {
            SectionName::Ignored { raw } if raw == raw_name => Some(s.line),
            _ => None,
        })
    };
    if let Some(line) = ignored(config, name) {
        return Some(format!(
            "{} line {line} has [{name}], which the AWS CLI and SDKs ignore in the config \
             file: write [profile {name}]",
            config.display
        ));
    }
    let prefixed = format!("profile {name}");
    ignored(credentials, &prefixed).map(|line| {
        format!(
            "{} line {line} has [{prefixed}], which the AWS CLI and SDKs ignore in the \
             credentials file: write [{name}]",
            credentials.display
        )
    })
}

/// `"~/.aws/config line 4"`: where the section is first defined.
fn header(files: &AwsFiles, section: &MergedSection) -> String {
    match section.headers.first() {
        Some(&(kind, line)) => files.location(kind, line),
        None => files.config().display.clone(),
    }
}

fn auto_login(files: &AwsFiles, profile: &MergedSection) -> Result<bool, ConfigError> {
    let Some(setting) = profile.setting("keyless_auto_login") else {
        return Ok(false);
    };
    match setting.value().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ConfigError::Invalid {
            profile: Some(profile.name.clone()),
            message: format!(
                "keyless_auto_login in profile '{}' ({}) must be true or false",
                profile.name,
                files.location(setting.file, setting.line())
            ),
        }),
    }
}

const ROLE_NAME_RULE: &str = "is not a role name (1 to 64 letters, digits and +=,.@_- characters)";

fn is_account_id(value: &str) -> bool {
    value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit())
}

fn is_role_name(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

fn is_region(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}
