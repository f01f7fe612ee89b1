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

use crate::store::StoreKind;

use super::{AwsFile, AwsFiles, ConfigError, Env, FileKind, MergedSection, SectionName, Setting};

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
    /// `keyless_store = secret-service|keyutils` in the section.
    pub store: Option<StoreKind>,
    /// `keyless_login = pkce` in the section: sign in with the browser
    /// (authorization code) rather than the device code.
    pub pkce: bool,
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
            let bad = |message: &str, hint: &str| ConfigError::Invalid {
                profile: None,
                message: message.into(),
                hint: Some(hint.into()),
            };
            if !is_account_id(account_id) {
                return Err(bad(
                    "invalid --account-id: an AWS account ID is exactly 12 digits",
                    "pass the 12-digit ID the AWS access portal shows",
                ));
            }
            if !is_role_name(role_name) {
                return Err(bad(
                    "invalid --role-name: a role name is 1 to 64 letters, digits and \
                     +=,.@_- characters",
                    "use the role name the AWS access portal shows",
                ));
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
    fn invalid(
        &self,
        files: &AwsFiles,
        profile: &MergedSection,
        (what, step): (String, String),
    ) -> ConfigError {
        ConfigError::Invalid {
            profile: Some(profile.name.clone()),
            message: format!(
                "profile '{}' ({}) {what}",
                profile.name,
                header(files, profile)
            ),
            hint: Some(format!("{step}, {}", self.fix())),
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
                "{} in profile '{}' ({}) {rule}",
                setting.property.key,
                profile.name,
                files.location(setting.file, setting.line()),
            ),
            hint: Some(format!("fix the value, {}", self.fix())),
        }
    }

    fn fix(&self) -> &'static str {
        if self.prefix == "keyless_" {
            "or fix the profile by hand (see `keyless credential-process --help`)"
        } else {
            "or pass --sso-session, --account-id and --role-name instead"
        }
    }
}

/// What is missing, and the step that adds it.
fn missing_role_message(
    sso: &ProfileSso,
    account: Option<&Setting>,
    role: Option<&Setting>,
) -> (String, String) {
    let p = sso.prefix;
    match (account, role) {
        (Some(_), None) => (
            format!("has {p}account_id but no {p}role_name"),
            format!("add {p}role_name"),
        ),
        (None, Some(_)) => (
            format!("has {p}role_name but no {p}account_id"),
            format!("add {p}account_id"),
        ),
        _ => (
            format!(
                "has no {p}account_id or {p}role_name, so it names a login session but no role"
            ),
            "add both".into(),
        ),
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
    if let Some(process) = profile.setting("credential_process")
        && !sso_keys.is_empty()
    {
        return Err(ConfigError::SsoKeysWithCredentialProcess {
            profile: profile.name.clone(),
            path: files.file(process.file).display.clone(),
            line: process.line(),
            keys: sso_keys,
        });
    }
    let invalid = |message: String, hint: &str| ConfigError::Invalid {
        profile: Some(profile.name.clone()),
        message,
        hint: Some(hint.into()),
    };
    let here = || header(files, profile);

    if KEYLESS_KEYS
        .iter()
        .any(|k| profile.settings.contains_key(*k))
    {
        let Some(session) = profile.setting("keyless_sso_session") else {
            return Err(invalid(
                format!(
                    "profile '{}' ({}) has keyless settings but no keyless_sso_session",
                    profile.name,
                    here()
                ),
                "add `keyless_sso_session = NAME` naming an [sso-session NAME] section (see \
                 `keyless credential-process --help`)",
            ));
        };
        return Ok(ProfileSso {
            session: sso_session_section(files, session.value(), Some((profile, session)))?,
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
                    return Err(invalid(
                        format!(
                            "profile '{}' ({}) has both sso_session and {inline}, which the \
                             AWS SDK for Rust refuses",
                            profile.name,
                            here(),
                        ),
                        &format!("keep {inline} only in [sso-session {}]", session.value()),
                    ));
                }
                sso_session_section(files, session.value(), Some((profile, session)))?
            }
            None => legacy_session(profile).map_err(|missing| {
                invalid(
                    format!(
                        "profile '{}' ({}) has SSO settings but no sso_session and no {missing}",
                        profile.name,
                        here()
                    ),
                    "add `sso_session = NAME` naming an [sso-session NAME] section (or both \
                     sso_start_url and sso_region)",
                )
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
    Err(invalid(
        format!(
            "profile '{}' ({}) has no keyless or IAM Identity Center settings",
            profile.name,
            here()
        ),
        "give it `credential_process = keyless credential-process --profile NAME` with \
         keyless_sso_session, keyless_account_id and keyless_role_name (see the README), or \
         run `keyless onboard`",
    ))
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
        store: None,
        pkce: false,
    })
}

/// The `[sso-session NAME]` section, named by a profile's setting or
/// by the command line.
fn sso_session_section(
    files: &AwsFiles,
    name: &str,
    named_by: Option<(&MergedSection, &Setting)>,
) -> Result<SsoSession, ConfigError> {
    let profile = named_by.map(|(profile, _)| profile.name.clone());
    let Some(section) = files.sso_session(name) else {
        return Err(ConfigError::UnknownSsoSession {
            session: name.to_owned(),
            path: files.config().display.clone(),
            known: files.sso_sessions().map(|s| s.name.clone()).collect(),
            profile,
            at: named_by.map(|(_, setting)| files.location(setting.file, setting.line())),
        });
    };
    let here = header(files, section);
    let used_by = profile
        .as_deref()
        .map(|p| format!(", used by profile '{p}',"))
        .unwrap_or_default();
    let invalid = |what: String| ConfigError::Invalid {
        profile: profile.clone(),
        message: format!("sso-session '{name}' ({here}){used_by} {what}"),
        hint: Some(
            "fix the section: it needs sso_start_url and sso_region (the region of IAM Identity \
             Center)"
                .into(),
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
    let store = match section.get("keyless_store") {
        None => None,
        Some(value) => Some(StoreKind::parse(value).ok_or_else(|| {
            invalid(format!(
                "has keyless_store = {value}, which is neither secret-service nor keyutils"
            ))
        })?),
    };
    let pkce = match section.get("keyless_login").map(str::trim) {
        None | Some("device") => false,
        Some("pkce") => true,
        Some(value) => {
            return Err(invalid(format!(
                "has keyless_login = {value}, which is neither pkce nor device"
            )));
        }
    };
    Ok(SsoSession {
        name: name.to_owned(),
        start_url: start_url.to_owned(),
        region: region.to_owned(),
        scopes,
        legacy: false,
        store,
        pkce,
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
    if let Some(line) = ignored(credentials, &prefixed) {
        return Some(format!(
            "{} line {line} has [{prefixed}], which the AWS CLI and SDKs ignore in the \
             credentials file: write [{name}]",
            credentials.display
        ));
    }
    // A header that names the profile but is ignored for what else it has
    // in it (a NUL byte, a space or a character the SDKs refuse).
    [config, credentials].into_iter().find_map(|file| {
        file.document.sections.iter().find_map(|s| match &s.name {
            SectionName::Ignored { raw } if !name.is_empty() && raw.contains(name) => {
                Some(format!(
                    "{} line {} has the section header [{}], which the AWS CLI and SDKs ignore \
                 because of the characters in it: write [{}]",
                    file.display,
                    s.line,
                    raw.escape_debug(),
                    match file.kind {
                        FileKind::Config if name != "default" => prefixed.clone(),
                        _ => name.to_string(),
                    }
                ))
            }
            _ => None,
        })
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
            hint: Some("set one of those, or remove the line".into()),
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

#[cfg(test)]
mod tests {
    use super::*;

    const SENTINEL: &str = "SENTINELwJalrXUtnFEMIK7MDENGbPxRfiCY";

    const CONFIG: &str = "\
[sso-session corp]
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access, codewhisperer:completions ,

[sso-session bare]
sso_start_url = https://bare.awsapps.com/start
sso_region = eu-west-1

[profile dev]
credential_process = keyless credential-process --profile dev
keyless_sso_session = corp
keyless_account_id = 111122223333
keyless_role_name = Developer
keyless_auto_login = true
region = eu-west-1

[profile cli]
sso_session = bare
sso_account_id = 444455556666
sso_role_name = ReadOnly

[profile legacy]
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = us-east-1
sso_account_id = 123456789012
sso_role_name = Admin
";

    fn session(name: &str) -> SsoSession {
        let files = AwsFiles::from_texts(CONFIG, "");
        resolve_session(&files, name).expect("fixture session")
    }

    fn plan(profile: &str, session: SsoSession, account: &str, role: &str, auto: bool) -> RolePlan {
        RolePlan {
            profile: Some(profile.into()),
            session,
            account_id: account.into(),
            role_name: role.into(),
            auto_login: auto,
        }
    }

    fn role(config: &str, credentials: &str, profile: &str) -> Result<RolePlan, ConfigError> {
        let files = AwsFiles::from_texts(config, credentials);
        resolve_role(&files, &Request::Profile(profile.into()))
    }

    #[test]
    fn sessions_are_read_with_scopes() {
        assert_eq!(
            session("corp"),
            SsoSession {
                name: "corp".into(),
                start_url: "https://d-1234567890.awsapps.com/start".into(),
                region: "us-east-1".into(),
                scopes: vec![
                    "sso:account:access".into(),
                    "codewhisperer:completions".into()
                ],
                legacy: false,
                store: None,
                pkce: false,
            }
        );
        assert_eq!(session("bare").scopes, vec![DEFAULT_SCOPE.to_string()]);
    }

    #[test]
    fn every_profile_shape_resolves() {
        let legacy = SsoSession {
            name: "https://d-1234567890.awsapps.com/start".into(),
            start_url: "https://d-1234567890.awsapps.com/start".into(),
            region: "us-east-1".into(),
            scopes: vec![],
            legacy: true,
            store: None,
            pkce: false,
        };
        let rows = [
            (
                "dev",
                plan("dev", session("corp"), "111122223333", "Developer", true),
            ),
            (
                "cli",
                plan("cli", session("bare"), "444455556666", "ReadOnly", false),
            ),
            (
                "legacy",
                plan("legacy", legacy, "123456789012", "Admin", false),
            ),
        ];
        for (profile, expected) in rows {
            assert_eq!(role(CONFIG, "", profile).expect(profile), expected);
        }
        let files = AwsFiles::from_texts(CONFIG, "");
        let explicit = Request::Explicit {
            sso_session: "corp".into(),
            account_id: "999988887777".into(),
            role_name: "Ops".into(),
        };
        let got = resolve_role(&files, &explicit).expect("explicit");
        assert_eq!(got.profile, None);
        assert_eq!(got.session, session("corp"));
        assert_eq!(
            (got.account_id.as_str(), got.role_name.as_str()),
            ("999988887777", "Ops")
        );
        assert!(!got.auto_login);
    }

    /// Variations on the files that must still resolve, with what changes.
    #[test]
    fn sdk_merging_rules_apply() {
        let keyless = "[sso-session corp]\nsso_start_url = https://x.awsapps.com/start\n\
                       sso_region = us-east-1\n";
        let rows: [(&str, &str, &str, &str, &str); 9] = [
            // duplicate sections merge, duplicate keys: the later wins
            (
                "[profile p]\nkeyless_sso_session = corp\nkeyless_role_name = A\n\
                 [profile p]\nkeyless_account_id = 111122223333\nkeyless_role_name = B\n",
                "",
                "p",
                "111122223333",
                "B",
            ),
            // the credentials file overrides the config file, key by key
            (
                "[profile p]\nkeyless_sso_session = corp\nkeyless_account_id = 111122223333\n\
                 keyless_role_name = A\n",
                "[p]\nkeyless_role_name = B\n",
                "p",
                "111122223333",
                "B",
            ),
            // upper-case and spaced keys, CRLF, comments
            (
                "[profile p]\r\n  \r\nKEYLESS_SSO_SESSION=corp ; c\r\n# x\r\n\
                 Keyless_Account_Id   =   111122223333\r\nkeyless_role_name = A+B  ;c\r\n",
                "",
                "p",
                "111122223333",
                "A+B",
            ),
            // [profile default] wins over [default], whichever comes first
            (
                "[profile default]\nkeyless_sso_session = corp\nkeyless_account_id = 111122223333\n\
                 keyless_role_name = A\n[default]\nkeyless_role_name = B\n",
                "",
                "default",
                "111122223333",
                "A",
            ),
            (
                "[default]\nkeyless_role_name = B\nregion = x\n[profile default]\n\
                 keyless_sso_session = corp\nkeyless_account_id = 111122223333\n\
                 keyless_role_name = A\n",
                "",
                "default",
                "111122223333",
                "A",
            ),
            // [default] alone is the default profile
            (
                "[default]\nkeyless_sso_session = corp\nkeyless_account_id = 111122223333\n\
                 keyless_role_name = A\n",
                "",
                "default",
                "111122223333",
                "A",
            ),
            // static keys of the same name in the credentials file do not hide
            // a keyless profile (the Rust SDK runs credential_process first)
            (
                "[profile p]\ncredential_process = keyless credential-process --profile p\n\
                 keyless_sso_session = corp\nkeyless_account_id = 111122223333\n\
                 keyless_role_name = A\n",
                "[p]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
                "p",
                "111122223333",
                "A",
            ),
            // a [profile p] in the credentials file is ignored, not merged
            (
                "[profile p]\nkeyless_sso_session = corp\nkeyless_account_id = 111122223333\n\
                 keyless_role_name = A\n",
                "[profile p]\nkeyless_role_name = B\n",
                "p",
                "111122223333",
                "A",
            ),
            // a key the SDKs ignore is ignored
            (
                "[profile p]\nkeyless_sso_session = corp\nkeyless_account_id = 111122223333\n\
                 keyless_role_name = A\nkeyless role name = B\n",
                "",
                "p",
                "111122223333",
                "A",
            ),
        ];
        for (config, credentials, profile, account, role_name) in rows {
            let config = format!("{keyless}{config}");
            let got =
                role(&config, credentials, profile).unwrap_or_else(|e| panic!("{config:?}: {e}"));
            assert_eq!(
                (got.account_id.as_str(), got.role_name.as_str()),
                (account, role_name),
                "{config:?} / {credentials:?}"
            );
        }
    }

    /// Each row: config, credentials, profile, fragments the message must hold.
    #[test]
    fn errors_name_file_line_profile_and_fix() {
        let corp = "[sso-session corp]\nsso_start_url = https://x.awsapps.com/start\n\
                    sso_region = us-east-1\n";
        let k = "keyless_sso_session = corp\nkeyless_account_id = 111122223333\n";
        let rows: Vec<(String, &str, &str, Vec<&str>)> = vec![
            (
                format!("{corp}[profile a]\n{k}keyless_role_name = R\n[profile b]\n{k}"),
                "[c]\nregion = x\n",
                "x",
                vec![
                    "unknown profile 'x' in ~/.aws/config and ~/.aws/credentials",
                    "known profiles: a, b, c",
                ],
            ),
            (
                "[x]\nregion = y\n".into(),
                "",
                "x",
                vec![
                    "no profiles are defined",
                    "~/.aws/config line 1 has [x]",
                    "write [profile x]",
                ],
            ),
            (
                String::new(),
                "[profile x]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
                "x",
                vec![
                    "unknown profile 'x'",
                    "~/.aws/credentials line 1 has [profile x]",
                    "write [x]",
                ],
            ),
            (
                "[profile s]\nregion = x\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n".into(),
                "",
                "s",
                vec![
                    "profile 's' uses a long-lived access key (~/.aws/config line 3)",
                    "never expire",
                    "`keyless retire --profile s`",
                    "deactivate it in IAM",
                ],
            ),
            (
                format!(
                    "{corp}[profile p]\ncredential_process = keyless credential-process\n{k}\
                         keyless_role_name = R\nsso_session = corp\nsso_account_id = 1\n"
                ),
                "",
                "p",
                vec![
                    "profile 'p' (~/.aws/config line 5) has credential_process and also \
                     sso_session, sso_account_id",
                    "never run credential_process",
                    "remove the sso_* keys",
                ],
            ),
            (
                "[profile p]\ncredential_process = x\nsso_start_url = https://x\n".into(),
                "",
                "p",
                vec!["has credential_process and also sso_start_url"],
            ),
            (
                format!(
                    "{corp}[profile p]\nkeyless_sso_session = corp\nkeyless_account_id = 111122223333\n"
                ),
                "",
                "p",
                vec![
                    "profile 'p' (~/.aws/config line 4) has keyless_account_id but no \
                     keyless_role_name: add keyless_role_name",
                ],
            ),
            (
                format!("{corp}[profile p]\nkeyless_account_id = 1\nkeyless_role_name = R\n"),
                "",
                "p",
                vec![
                    "profile 'p' (~/.aws/config line 4) has keyless settings but no keyless_sso_session",
                ],
            ),
            (
                format!(
                    "{corp}[profile p]\nkeyless_sso_session = corp\nkeyless_account_id = 1111\n\
                         keyless_role_name = R\n"
                ),
                "",
                "p",
                vec![
                    "keyless_account_id in profile 'p' (~/.aws/config line 6) is not a 12-digit",
                    "or fix the profile by hand",
                ],
            ),
            (
                format!("{corp}[profile p]\n{k}keyless_role_name = Bad Role\n"),
                "",
                "p",
                vec!["keyless_role_name in profile 'p' (~/.aws/config line 7) is not a role name"],
            ),
            (
                format!("{corp}[profile p]\n{k}keyless_role_name = R\nkeyless_auto_login = yes\n"),
                "",
                "p",
                vec![
                    "keyless_auto_login in profile 'p' (~/.aws/config line 8) must be true or false",
                ],
            ),
            (
                format!("{corp}[profile p]\nkeyless_sso_session = nope\nkeyless_account_id = 1\n"),
                "",
                "p",
                vec![
                    "unknown sso-session 'nope' in ~/.aws/config (named by profile 'p' at \
                     ~/.aws/config line 5); known sso-sessions: corp",
                    "add a [sso-session nope] section",
                ],
            ),
            (
                format!(
                    "{corp}[profile p]\nsso_session = corp\nsso_start_url = https://x\n\
                         sso_account_id = 111122223333\nsso_role_name = R\n"
                ),
                "",
                "p",
                vec![
                    "profile 'p' (~/.aws/config line 4) has both sso_session and sso_start_url",
                    "[sso-session corp]",
                ],
            ),
            (
                format!("{corp}[profile p]\nsso_session = corp\nsso_account_id = 111122223333\n"),
                "",
                "p",
                vec!["has sso_account_id but no sso_role_name", "--account-id"],
            ),
            (
                format!("{corp}[profile p]\nsso_session = corp\n"),
                "",
                "p",
                vec![
                    "has no sso_account_id or sso_role_name, so it names a login session but no role",
                ],
            ),
            (
                "[profile p]\nsso_start_url = https://x\nsso_account_id = 111122223333\n".into(),
                "",
                "p",
                vec![
                    "profile 'p' (~/.aws/config line 1) has SSO settings but no sso_session and no sso_region",
                ],
            ),
            (
                "[profile p]\nregion = eu-west-1\n".into(),
                "[p]\noutput = json\n",
                "p",
                vec![
                    "profile 'p' (~/.aws/config line 1) has no keyless or IAM Identity Center settings",
                    "credential_process = keyless credential-process --profile NAME",
                ],
            ),
            (
                format!(
                    "[sso-session corp]\nsso_region = us-east-1\n[profile p]\n{k}keyless_role_name = R\n"
                ),
                "",
                "p",
                vec![
                    "sso-session 'corp' (~/.aws/config line 1), used by profile 'p', has no \
                     sso_start_url",
                    "it needs sso_start_url and sso_region",
                ],
            ),
            (
                format!(
                    "[sso-session corp]\nsso_start_url = https://x\nsso_region = US East\n\
                         [profile p]\n{k}keyless_role_name = R\n"
                ),
                "",
                "p",
                vec![
                    "sso-session 'corp' (~/.aws/config line 1), used by profile 'p', has an sso_region",
                ],
            ),
            (
                format!(
                    "[sso-session corp]\nsso_start_url = d-123.awsapps.com\nsso_region = us-east-1\n\
                         [profile p]\n{k}keyless_role_name = R\n"
                ),
                "",
                "p",
                vec!["has an sso_start_url that is not an https:// URL"],
            ),
            // a fatal problem anywhere in either file stops resolution
            (
                format!("{corp}[profile p\n{k}keyless_role_name = R\n"),
                "",
                "p",
                vec!["~/.aws/config line 4: this section header has no closing ']'"],
            ),
            (
                format!("{corp}[profile p]\n{k}keyless_role_name = R\n"),
                "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n[default]\n",
                "p",
                vec!["~/.aws/credentials line 1: a property before any section header"],
            ),
        ];
        for (config, credentials, profile, fragments) in rows {
            let err = role(&config, credentials, profile).expect_err(&config);
            let message = crate::hint::inline(&err, err.hint());
            for fragment in fragments {
                assert!(
                    message.contains(fragment),
                    "{message:?}\n  lacks {fragment:?}"
                );
            }
        }
    }

    #[test]
    fn static_keys_are_typed() {
        for (config, credentials, path, line) in [
            (
                "",
                "[old]\nregion = x\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
                "~/.aws/credentials",
                3,
            ),
            (
                "[profile old]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
                "",
                "~/.aws/config",
                2,
            ),
            // the credentials file's key wins over the config file's
            (
                "[profile old]\naws_access_key_id = A\n",
                "[old]\naws_access_key_id = B\n",
                "~/.aws/credentials",
                2,
            ),
        ] {
            let err = role(config, credentials, "old").expect_err("static");
            assert!(err.is_static_keys());
            assert_eq!(err.profile(), Some("old"));
            match err {
                ConfigError::StaticKeys {
                    profile,
                    path: p,
                    line: l,
                } => {
                    assert_eq!((profile.as_str(), p.as_str(), l), ("old", path, line));
                }
                other => panic!("{other:?}"),
            }
            let files = AwsFiles::from_texts(config, credentials);
            assert!(session_for_profile(&files, "old").is_err_and(|e| e.is_static_keys()));
        }
    }

    #[test]
    fn malformed_bytes_stop_resolution_with_their_line() {
        let good = CONFIG.to_string();
        for (config, credentials, expected) in [
            (
                [b"\xEF\xBB\xBF".as_slice(), good.as_bytes()].concat(),
                Vec::new(),
                "~/.aws/config line 1: the file starts with a UTF-8 byte-order mark",
            ),
            (
                good.as_bytes().to_vec(),
                b"[x]\nregion = caf\xE9\n".to_vec(),
                "~/.aws/credentials line 2: this line is not valid UTF-8",
            ),
            (
                [good.as_bytes(), b"[services s]\nsso =\n  no pair here\n"].concat(),
                Vec::new(),
                "~/.aws/config line 30: expected 'key = value' in this sub-property line",
            ),
        ] {
            let files = AwsFiles::from_bytes(&config, &credentials);
            let err = resolve_role(&files, &Request::Profile("dev".into())).expect_err(expected);
            assert!(err.to_string().starts_with(expected), "{err}");
            assert!(matches!(err, ConfigError::Parse { .. }));
            assert!(resolve_session(&files, "corp").is_err());
        }
    }

    #[test]
    fn login_needs_only_the_session() {
        let config = format!(
            "{CONFIG}[profile token-only]\nsso_session = corp\n\
             [profile half]\nkeyless_sso_session = bare\nkeyless_account_id = 111122223333\n"
        );
        let files = AwsFiles::from_texts(&config, "");
        let cases = [
            ("dev", "corp"),
            ("cli", "bare"),
            ("legacy", "https://d-1234567890.awsapps.com/start"),
            ("token-only", "corp"),
            ("half", "bare"),
        ];
        for (profile, expected) in cases {
            let got = session_for_profile(&files, profile).expect(profile);
            assert_eq!(got.name, expected);
        }
        assert!(resolve_role(&files, &Request::Profile("token-only".into())).is_err());
        assert!(resolve_role(&files, &Request::Profile("half".into())).is_err());
        assert!(matches!(
            session_for_profile(&files, "nope"),
            Err(ConfigError::UnknownProfile { .. })
        ));
        let err = resolve_session(&files, "nope").expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "unknown sso-session 'nope' in ~/.aws/config; known sso-sessions: bare, corp"
        );
        assert_eq!(
            err.hint().as_deref(),
            Some("add a [sso-session nope] section with sso_start_url and sso_region")
        );
    }

    #[test]
    fn explicit_requests_are_validated() {
        let files = AwsFiles::from_texts(CONFIG, "");
        let request = |session: &str, account: &str, role: &str| Request::Explicit {
            sso_session: session.into(),
            account_id: account.into(),
            role_name: role.into(),
        };
        for (req, fragment) in [
            (request("corp", "11112222333", "R"), "invalid --account-id"),
            (request("corp", "11112222333a", "R"), "invalid --account-id"),
            (request("corp", "111122223333", ""), "invalid --role-name"),
            (
                request("corp", "111122223333", "a/b"),
                "invalid --role-name",
            ),
            (
                request("nope", "111122223333", "R"),
                "unknown sso-session 'nope'",
            ),
        ] {
            let err = resolve_role(&files, &req).expect_err(fragment);
            assert!(err.to_string().contains(fragment), "{err}");
        }
    }

    #[test]
    fn default_profile_comes_from_aws_profile() {
        assert_eq!(default_profile_name(&Env::from_pairs(&[])), "default");
        assert_eq!(
            default_profile_name(&Env::from_pairs(&[("AWS_PROFILE", "")])),
            "default"
        );
        assert_eq!(
            default_profile_name(&Env::from_pairs(&[("AWS_PROFILE", "dev")])),
            "dev"
        );
    }

    #[test]
    fn no_secret_in_errors_or_debug() {
        let creds = format!(
            "[old]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {SENTINEL}\n\
             aws_session_token = {SENTINEL}\n[dev]\naws_secret_access_key = {SENTINEL}\n\
             [broken]\nkeyless_sso_session = corp\naws_secret_access_key = {SENTINEL}\n"
        );
        let mut config = CONFIG.to_string();
        config.push_str(&format!(
            "[profile sneaky]\naws_session_token = {SENTINEL}\nsso_session = corp\n"
        ));
        let files = AwsFiles::from_texts(&config, &creds);
        let debug = format!("{files:?}");
        assert!(!debug.contains(SENTINEL));
        for profile in ["old", "dev", "broken", "sneaky", "nope"] {
            let outcome = resolve_role(&files, &Request::Profile(profile.into()));
            let shown = match &outcome {
                Ok(plan) => format!("{plan:?}"),
                Err(e) => format!("{e} {e:?}"),
            };
            assert!(!shown.contains(SENTINEL), "{shown}");
        }
        // and a fatal line holding a secret is reported without it
        let files = AwsFiles::from_texts("", &format!("aws_secret_access_key = {SENTINEL}\n"));
        let err = resolve_role(&files, &Request::Profile("x".into())).expect_err("fatal");
        assert!(!format!("{err} {err:?}").contains(SENTINEL));
    }
}
