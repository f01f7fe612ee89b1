//! Command-line types only: parsing, no behaviour.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "keyless",
    version,
    about = "Short-lived AWS credentials from IAM Identity Center, kept in the OS keyring",
    long_about = "keyless replaces long-lived AWS access keys with short-lived role credentials \
                  from IAM Identity Center. Credentials and tokens live only in the OS keyring."
)]
pub struct Cli {
    /// More detail on stderr (-v, -vv). Also KEYLESS_LOG=debug. Never shows a secret.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in to an sso-session with the device-authorization flow.
    Login(LoginArgs),
    /// Print temporary role credentials for the AWS `credential_process` setting.
    CredentialProcess(CredentialProcessArgs),
    /// Sign out: end the portal session and delete its token and credentials.
    Logout(LogoutArgs),
    /// See the whole flow on this machine, with no AWS account: a local emulator, a real login, real credentials.
    Demo,
    /// Run a local IAM Identity Center emulator (OIDC + portal) on 127.0.0.1.
    DevServer(crate::commands::dev_server::DevServerArgs),
    /// Find long-lived AWS access keys in the AWS files, the environment and the paths given.
    Scan(crate::commands::scan::ScanArgs),
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The sso-session to sign in to (an [sso-session NAME] section).
    #[arg(long, conflicts_with = "profile")]
    pub sso_session: Option<String>,
    /// Sign in to the sso-session this profile uses (default: AWS_PROFILE, else "default").
    #[arg(long)]
    pub profile: Option<String>,
    /// Do not open a browser; print the URL and code only.
    #[arg(long)]
    pub no_browser: bool,
}

#[derive(Debug, Args)]
pub struct CredentialProcessArgs {
    /// The profile to get credentials for (default: AWS_PROFILE, else "default").
    #[arg(long, conflicts_with_all = ["sso_session", "account_id", "role_name"])]
    pub profile: Option<String>,
    /// With --account-id and --role-name: the sso-session to use, without a profile.
    #[arg(long, requires_all = ["account_id", "role_name"])]
    pub sso_session: Option<String>,
    /// The AWS account ID (12 digits).
    #[arg(long, requires_all = ["sso_session", "role_name"])]
    pub account_id: Option<String>,
    /// The permission set (role) name.
    #[arg(long, requires_all = ["sso_session", "account_id"])]
    pub role_name: Option<String>,
    /// Sign in through the browser when needed, instead of failing.
    #[arg(long)]
    pub auto_login: bool,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The sso-session to sign out of.
    #[arg(long, conflicts_with_all = ["profile", "all"])]
    pub sso_session: Option<String>,
    /// Sign out of the sso-session this profile uses.
    #[arg(long, conflicts_with = "all")]
    pub profile: Option<String>,
    /// Sign out of every sso-session keyless knows.
    #[arg(long)]
    pub all: bool,
}
