//! The environment that `exec` gives its child and `export` prints: the
//! role credentials, their expiry, the region, and the profile's name for
//! the prompt. `AWS_PROFILE` is removed so SDKs do not resolve the profile
//! again (and run `credential_process` for every call).

use std::io::{self, Write};

use crate::credentials::{Credentials, rfc3339};

use super::prompt::{EXPIRATION_ENV, PROFILE_ENV};
use super::quote;

/// Set by `exec` in its child; `exec` refuses to run when it is present.
pub const EXEC_MARKER_ENV: &str = "KEYLESS_EXEC";

/// Removed from the child's environment (and unset by `export`).
pub const REMOVED: [&str; 2] = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"];

/// How `export` writes the variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// POSIX shells (sh, bash, zsh): `export NAME='value'`.
    Env,
    /// One JSON object of the variables set.
    Json,
    /// PowerShell: `$Env:NAME = 'value'`.
    Powershell,
    /// fish: `set -gx NAME 'value'`.
    Fish,
}

/// The variables to set, in a stable order. Secrets are borrowed, never
/// copied.
pub fn vars<'a>(
    creds: &'a Credentials,
    expiration: &'a str,
    region: Option<&'a str>,
    profile: &'a str,
) -> Vec<(&'static str, &'a str)> {
    let mut vars = vec![
        ("AWS_ACCESS_KEY_ID", creds.access_key_id.as_str()),
        (
            "AWS_SECRET_ACCESS_KEY",
            creds.secret_access_key.expose().as_str(),
        ),
        ("AWS_SESSION_TOKEN", creds.session_token.expose().as_str()),
        (EXPIRATION_ENV, expiration),
    ];
    if let Some(region) = region.filter(|r| !r.is_empty()) {
        vars.push(("AWS_REGION", region));
        vars.push(("AWS_DEFAULT_REGION", region));
    }
    vars.push((PROFILE_ENV, profile));
    vars
}

/// `AWS_CREDENTIAL_EXPIRATION`'s value.
pub fn expiration(creds: &Credentials) -> String {
    rfc3339(creds.expiration)
}

/// The one writer of `export`'s stdout.
pub fn write(format: ExportFormat, vars: &[(&str, &str)], out: &mut dyn Write) -> io::Result<()> {
    match format {
        ExportFormat::Env => {
            writeln!(out, "unset {}", REMOVED.join(" "))?;
            for (k, v) in vars {
                writeln!(out, "export {k}={}", quote::posix(v))?;
            }
        }
        ExportFormat::Fish => {
            // `set -e` of an unset variable fails, and fish's `set` keeps
            // the last status: `or true` so that sourcing this succeeds.
            writeln!(out, "set -e {}; or true", REMOVED.join(" "))?;
            for (k, v) in vars {
                writeln!(out, "set -gx {k} {}", quote::fish(v))?;
            }
        }
        ExportFormat::Powershell => {
            for k in REMOVED {
                writeln!(out, "Remove-Item -ErrorAction SilentlyContinue Env:{k}")?;
            }
            for (k, v) in vars {
                writeln!(out, "$Env:{k} = {}", quote::powershell(v))?;
            }
        }
        ExportFormat::Json => {
            let map: serde_json::Map<String, serde_json::Value> = vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
                .collect();
            serde_json::to_writer_pretty(&mut *out, &map)?;
            writeln!(out)?;
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn creds() -> Credentials {
        Credentials {
            access_key_id: "ASIAY34FZKBOKMUTVV7A".into(),
            secret_access_key: Secret::new("se'cr\"et$x`y\\z".into()),
            session_token: Secret::new("tok/+=".into()),
            expiration: 1_800_000_000,
            account_id: None,
        }
    }

    fn text(format: ExportFormat, region: Option<&str>) -> String {
        let c = creds();
        let exp = expiration(&c);
        let v = vars(&c, &exp, region, "dev");
        let mut out = Vec::new();
        write(format, &v, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn each_format_quotes_for_its_shell() {
        let env = text(ExportFormat::Env, Some("eu-west-1"));
        assert!(
            env.starts_with("unset AWS_PROFILE AWS_DEFAULT_PROFILE\n"),
            "{env}"
        );
        assert!(
            env.contains(r#"export AWS_SECRET_ACCESS_KEY='se'\''cr"et$x`y\z'"#),
            "{env}"
        );
        assert!(env.contains("export AWS_CREDENTIAL_EXPIRATION='2027-01-15T08:00:00Z'"));
        assert!(env.contains("export AWS_DEFAULT_REGION='eu-west-1'"));
        let fish = text(ExportFormat::Fish, None);
        assert!(
            fish.contains(r#"set -gx AWS_SECRET_ACCESS_KEY 'se\'cr"et$x`y\\z'"#),
            "{fish}"
        );
        assert!(!fish.contains("AWS_REGION"));
        let ps = text(ExportFormat::Powershell, None);
        assert!(
            ps.contains(r#"$Env:AWS_SECRET_ACCESS_KEY = 'se''cr"et$x`y\z'"#),
            "{ps}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&text(ExportFormat::Json, None)).unwrap();
        assert_eq!(json["AWS_SECRET_ACCESS_KEY"], "se'cr\"et$x`y\\z");
        assert_eq!(json["KEYLESS_PROFILE"], "dev");
    }
}
