//! `keyless dev-server`: the local Identity Center emulator, until Ctrl-C.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use crate::hint::HintExt;

use crate::cli::{DevServerArgs, Rotation};
use crate::emulator::{self, Approval, EmulatorConfig, RefreshRotation, RefreshTokens};

impl DevServerArgs {
    pub fn to_config(&self) -> EmulatorConfig {
        let defaults = EmulatorConfig::default();
        let roles: Vec<&str> = self.roles.iter().map(String::as_str).collect();
        let accounts = match (self.accounts, roles.is_empty()) {
            (None, true) => defaults.accounts.clone(),
            (count, true) => emulator::generate_accounts(
                count.unwrap_or(3),
                &["AdministratorAccess", "Developer", "ReadOnly"],
            ),
            (count, false) => emulator::generate_accounts(count.unwrap_or(3), &roles),
        };
        let approval = if self.deny {
            Approval::Deny
        } else if self.manual {
            Approval::Manual
        } else {
            Approval::Auto {
                after_polls: self.approve_after,
            }
        };
        EmulatorConfig {
            accounts,
            approval,
            access_token_ttl_secs: self.token_ttl,
            refresh_tokens: if self.no_refresh_token {
                RefreshTokens::Never
            } else {
                RefreshTokens::WhenScoped
            },
            refresh_rotation: match self.refresh_rotation {
                Rotation::Rotate => RefreshRotation::Rotate,
                Rotation::Omit => RefreshRotation::Omit,
                Rotation::Same => RefreshRotation::Same,
            },
            role_credential_ttl_secs: self.credential_ttl,
            registration_ttl_secs: self.registration_ttl,
            device_code_ttl_secs: self.device_code_ttl,
            poll_interval_secs: (!self.no_interval).then_some(self.interval),
            enforce_poll_interval: self.enforce_interval,
            access_key_prefix: self.access_key_prefix.clone(),
            omit_session_token: self.omit_session_token,
            secret_marker: self.marker.clone(),
            sts_endpoint: self.sts_endpoint.clone(),
            ..defaults
        }
    }
}

pub fn run(args: DevServerArgs, err: &mut impl Write) -> anyhow::Result<ExitCode> {
    let config = args.to_config();
    config
        .validate()
        .map_err(|message| anyhow::anyhow!("dev-server: {message}"))?;
    let summary = approval_summary(&config);
    let accounts = config.accounts.len();
    let sts = config.sts_endpoint.clone();
    emulator::run_until_ctrl_c(config, args.port, |running| {
        write_banner(err, &running.url(), accounts, &summary)?;
        if let Some(url) = &sts {
            writeln!(
                err,
                "Role credentials are minted by STS AssumeRole at {url} (arn:aws:iam::ACCOUNT:role/ROLE)."
            )?;
        }
        Ok(())
    })
    .with_context(|| format!("dev-server on 127.0.0.1:{} failed", args.port))
    .hint("pick another port with --port N, or any free one with --port 0")?;
    writeln!(err, "dev-server stopped")?;
    Ok(ExitCode::SUCCESS)
}

fn approval_summary(config: &EmulatorConfig) -> String {
    match config.approval {
        Approval::Auto { after_polls: 0 } => "approved on the first poll".into(),
        Approval::Auto { after_polls } => format!("approved on poll {}", after_polls + 1),
        Approval::Manual => "approved only on the device page".into(),
        Approval::Deny => "always denied".into(),
    }
}

/// The first line is machine-readable: `listening on http://127.0.0.1:PORT`.
pub fn write_banner(
    out: &mut impl Write,
    url: &str,
    accounts: usize,
    approval: &str,
) -> std::io::Result<()> {
    writeln!(out, "listening on {url}")?;
    writeln!(
        out,
        "\nkeyless dev-server: a local IAM Identity Center emulator.\n\
         The tokens and credentials it issues work nowhere but here: no AWS service accepts them.\n\
         \n\
         Point keyless (and the AWS SDKs and CLI) at it:\n\
         \x20 export AWS_ENDPOINT_URL_SSO={url}\n\
         \x20 export AWS_ENDPOINT_URL_SSO_OIDC={url}\n\
         \n\
         Example ~/.aws/config:\n\
         \x20 [sso-session dev]\n\
         \x20 sso_start_url = https://d-1234567890.awsapps.com/start\n\
         \x20 sso_region = us-east-1\n\
         \x20 sso_registration_scopes = sso:account:access\n\
         \n\
         Then: keyless login --sso-session dev\n\
         \n\
         {accounts} account(s); device codes are {approval}, or approve one at {url}/device\n\
         Statistics: {url}/_keyless/stats\n\
         Press Ctrl-C to stop."
    )?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: DevServerArgs,
    }

    fn parse(argv: &[&str]) -> DevServerArgs {
        let mut full = vec!["dev-server"];
        full.extend_from_slice(argv);
        Wrapper::try_parse_from(full).unwrap().args
    }

    #[test]
    fn defaults_match_the_emulator_defaults() {
        let config = parse(&[]).to_config();
        let defaults = EmulatorConfig::default();
        assert_eq!(config, defaults);
    }

    #[test]
    fn flags_reach_the_config() {
        let config = parse(&[
            "--port",
            "0",
            "--accounts",
            "250",
            "--roles",
            "Admin,ReadOnly",
            "--token-ttl",
            "60",
            "--credential-ttl",
            "900",
            "--no-interval",
            "--enforce-interval",
            "--refresh-rotation",
            "omit",
            "--access-key-prefix",
            "AKIA",
            "--manual",
        ])
        .to_config();
        assert_eq!(config.accounts.len(), 250);
        assert_eq!(config.accounts[7].roles, ["Admin", "ReadOnly"]);
        assert_eq!(config.access_token_ttl_secs, 60);
        assert_eq!(config.role_credential_ttl_secs, 900);
        assert_eq!(config.poll_interval_secs, None);
        assert!(config.enforce_poll_interval);
        assert_eq!(config.refresh_rotation, RefreshRotation::Omit);
        assert_eq!(config.access_key_prefix, "AKIA");
        assert_eq!(config.approval, Approval::Manual);
        assert_eq!(parse(&["--deny"]).to_config().approval, Approval::Deny);
        assert_eq!(
            parse(&["--approve-after", "0"]).to_config().approval,
            Approval::Auto { after_polls: 0 }
        );
    }

    #[test]
    fn deny_and_approve_after_conflict() {
        let argv = ["dev-server", "--deny", "--approve-after", "3"];
        assert!(Wrapper::try_parse_from(argv).is_err());
    }

    #[test]
    fn banner_starts_with_the_address_and_names_the_variables() {
        let mut out = Vec::new();
        write_banner(&mut out, "http://127.0.0.1:4321", 3, "approved on poll 2").unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text.lines().next(),
            Some("listening on http://127.0.0.1:4321")
        );
        assert!(text.contains("export AWS_ENDPOINT_URL_SSO=http://127.0.0.1:4321\n"));
        assert!(text.contains("export AWS_ENDPOINT_URL_SSO_OIDC=http://127.0.0.1:4321\n"));
        assert!(text.contains("work nowhere but here"));
        assert!(text.contains("[sso-session dev]"));
    }
}
